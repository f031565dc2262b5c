"""``manage.py restflow_types``: TypedDicts written from serializers' real fields."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import typing
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from restflow._typegen import render_module
from restflow.management.commands.restflow_types import Command

MODULE = "tests.typegen_serializers"


def _load(source: str, tmp_path: Path, name: str) -> ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


@pytest.fixture
def written(tmp_path: Path) -> ModuleType:
    return _load(render_module([MODULE]), tmp_path, "written_types")


def _keys(typed_dict: Any) -> tuple[list[str], set[str]]:
    """(keys in order, the optional ones)"""
    # Under ``from __future__ import annotations`` the runtime cannot tell NotRequired
    # keys apart: read it from the annotation.
    keys = list(typed_dict.__annotations__)
    return keys, {key for key in keys if _annotation(typed_dict, key).startswith("NotRequired[")}


def _annotation(typed_dict: Any, key: str) -> str:
    value = typed_dict.__annotations__[key]
    text = value.__forward_arg__ if isinstance(value, typing.ForwardRef) else str(value)
    return text.replace("'", '"')  # the runtime may show a Literal with single quotes


def test_read_only_fields_are_out_only_and_write_only_in_only(written: ModuleType) -> None:
    assert _keys(written.ProductIn) == (["name", "price", "is_top", "category"], {"is_top"})
    assert _keys(written.ProductOut)[0] == [
        "id",
        "name",
        "price",
        "as_float",
        "is_top",
        "category",
        "reviews",
        "review_ids",
        "created_at",
        "rating",
    ]
    assert "day" in _keys(written.SearchIn)[0]
    assert "day" not in _keys(written.SearchOut)[0]
    assert "echo" not in _keys(written.SearchIn)[0]


@pytest.mark.parametrize(
    ("typed_dict", "key", "annotation"),
    [
        # DecimalField: Decimal in, str out (COERCE_DECIMAL_TO_STRING) or a JSON number.
        ("ProductIn", "price", "Decimal"),
        ("ProductOut", "price", "str"),
        ("ProductOut", "as_float", "float"),
        # primary-key relations: the related object in, its pk out; allow_null: | None
        ("ProductIn", "category", "Category | None"),
        ("ReviewIn", "product", "Product"),
        ("ReviewOut", "product", "int"),
        ("ProductOut", "review_ids", "list[int]"),
        # nested serializers, many=True
        ("ProductOut", "category", "CategoryOut"),
        ("ProductOut", "reviews", "list[ReviewOut]"),
        # dates and times: str out, Python values in
        ("ProductOut", "created_at", "str"),
        ("SearchIn", "since", "datetime.datetime | None"),
        ("SearchOut", "since", "str | None"),
        ("SearchIn", "day", "datetime.date"),
        ("SearchIn", "token", "uuid.UUID"),
        ("SearchOut", "token", "str"),
        # required=False / default
        ("SearchIn", "page", "NotRequired[int]"),
        ("ReviewIn", "comment", "NotRequired[str]"),
        ("SearchIn", "order", 'Literal["name", "price"]'),
        ("SearchIn", "tags", "list[str]"),
        ("SearchIn", "meta", "dict[str, int]"),
        # a method field: its return annotation
        ("ProductOut", "rating", "Rating | None"),
    ],
)
def test_field_types(written: ModuleType, typed_dict: str, key: str, annotation: str) -> None:
    assert _annotation(getattr(written, typed_dict), key) == annotation


def test_coerce_decimal_to_string_false_writes_a_number() -> None:
    with override_settings(REST_FRAMEWORK={"COERCE_DECIMAL_TO_STRING": False}):
        source = render_module([MODULE])
    assert "    price: float\n" in source


def test_typing_tests_check_the_output_of_every_field_kind() -> None:
    # mypy and basedpyright check typing_tests/generated_types.py in CI: keep it current.
    committed = Path(__file__).resolve().parent.parent / "typing_tests" / "generated_types.py"
    assert committed.read_text() == render_module([MODULE]), (
        "regenerate typing_tests/generated_types.py with "
        "restflow._typegen.render_module(['tests.typegen_serializers'])"
    )


def test_output_is_deterministic_and_ruff_formatted(tmp_path: Path) -> None:
    source = render_module([MODULE])
    assert render_module([MODULE]) == source
    path = tmp_path / "written.py"
    path.write_text(source)
    ruff = Path(sys.executable).with_name("ruff")
    checked = subprocess.run(
        [str(ruff), "format", "--check", "--diff", str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# -- the command ------------------------------------------------------------------------------

SERIALIZERS = """
from rest_framework import serializers

from restflow.serializers import Serializer


class NoteSerializer(Serializer):
    title = serializers.CharField()
"""


@pytest.fixture
def notes(tmp_path: Path) -> Iterator[Path]:
    """A module of serializers on sys.path, as a user's app would have."""
    (tmp_path / "notes_app.py").write_text(textwrap.dedent(SERIALIZERS))
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("notes_app", None)


def _run(*args: str) -> str:
    out = StringIO()
    call_command(Command(), *args, stdout=out)
    return out.getvalue()


def test_the_command_writes_and_check_passes(notes: Path) -> None:
    out = notes / "note_types.py"
    assert "Wrote" in _run("notes_app", "--out", str(out))
    assert "class NoteIn(TypedDict):" in out.read_text()
    assert "up to date" in _run("notes_app", "--out", str(out), "--check")


def test_check_fails_with_a_diff_when_a_field_was_added(notes: Path) -> None:
    out = notes / "note_types.py"
    _run("notes_app", "--out", str(out))
    before = out.read_text()
    (notes / "notes_app.py").write_text(
        textwrap.dedent(SERIALIZERS) + "    body = serializers.CharField(required=False)\n"
    )
    sys.modules.pop("notes_app", None)
    diff = StringIO()
    with pytest.raises(
        CommandError, match=r"note_types\.py is stale: run manage\.py restflow_types"
    ):
        call_command(Command(), "notes_app", "--out", str(out), "--check", stdout=diff)
    assert "+    body: NotRequired[str]\n" in diff.getvalue()
    assert f"--- {out}\n" in diff.getvalue()
    assert out.read_text() == before  # --check writes nothing


def test_two_serializers_of_one_name_are_refused(notes: Path) -> None:
    (notes / "more_notes.py").write_text(textwrap.dedent(SERIALIZERS))
    try:
        with pytest.raises(CommandError, match="would both write NoteIn and NoteOut"):
            _run("notes_app", "more_notes", "--out", str(notes / "x.py"))
    finally:
        sys.modules.pop("more_notes", None)
