"""The hook declarations (``restflow._hooks``) and the classification read from them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from restflow import _hooks as hooks

ROOT = Path(__file__).resolve().parent.parent

_CLASSIFY = """
import json, sys
import django
django.setup()
import restflow.views  # the only restflow module a project's views need
from rest_framework import filters, pagination, permissions, request
from restflow import _hooks as hooks
from restflow._introspect import hook_mode
unexpected = sorted(
    name for name in ("restflow.filters", "restflow.pagination", "restflow.test")
    if name in sys.modules
)
cases = {
    "SearchFilter": (filters.SearchFilter, hooks.BACKEND_FILTER_QUERYSET),
    "OrderingFilter": (filters.OrderingFilter, hooks.BACKEND_FILTER_QUERYSET),
    "PageNumberPagination": (pagination.PageNumberPagination, hooks.PAGINATOR_PAGINATE_QUERYSET),
    "LimitOffsetPagination": (pagination.LimitOffsetPagination, hooks.PAGINATOR_PAGINATE_QUERYSET),
    "CursorPagination": (pagination.CursorPagination, hooks.PAGINATOR_PAGINATE_QUERYSET),
    "AllowAny": (permissions.AllowAny, hooks.HAS_PERMISSION),
    "IsAuthenticated": (permissions.IsAuthenticated, hooks.HAS_PERMISSION),
    "ForcedAuthentication": (request.ForcedAuthentication, hooks.AUTHENTICATE),
}
modes = {name: hook_mode(cls, hook).value for name, (cls, hook) in cases.items()}
print(json.dumps({"unexpected": unexpected, "modes": modes}))
"""


def test_classification_is_complete_after_importing_only_restflow_views() -> None:
    """In a fresh interpreter, whatever else is imported, DRF's classes classify the same."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", _CLASSIFY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["unexpected"] == []  # nothing registered by importing other modules
    assert found["modes"] == {
        "SearchFilter": "inline",
        "OrderingFilter": "blocking",  # may call the view's own get_serializer_class()
        "PageNumberPagination": "blocking",  # counts rows
        "LimitOffsetPagination": "blocking",
        "CursorPagination": "blocking",
        "AllowAny": "inline",
        "IsAuthenticated": "inline",
        "ForcedAuthentication": "inline",
    }


def test_every_hook_is_declared_once() -> None:
    keys = [(hook.family, hook.name) for hook in hooks.HOOKS]
    assert len(keys) == len(set(keys))
    twins = [hook.twin for hook in hooks.HOOKS if hook.twin is not None]
    assert len(twins) == len(set(twins)) + 2  # filter_queryset and paginate_queryset:
    # a view's and a backend's/paginator's hook share DRF's name and restflow's twin
    for hook in hooks.HOOKS:
        assert hook.twin is None or hook.twin == f"a{hook.name}"


def test_pure_classes_are_the_librarys_own() -> None:
    # A user's class is never listed: only code restflow knows does no I/O.
    for hook in hooks.HOOKS:
        for cls in hook.pure:
            assert cls.__module__.split(".")[0] in {"rest_framework", "restflow"}


def test_the_docs_table_is_the_declarations() -> None:
    """``docs/guide/sync-async.md`` lists every declared hook, as ``markdown_table()`` does."""
    page = (ROOT / "docs" / "guide" / "sync-async.md").read_text()
    start = page.index("<!-- hooks:start -->\n") + len("<!-- hooks:start -->\n")
    end = page.index("<!-- hooks:end -->")
    assert page[start:end] == hooks.markdown_table(), (
        "Regenerate the table with restflow._hooks.markdown_table()"
    )
    listed = {
        (line.split(" | ")[0].strip("| "), line.split(" | ")[1].strip("`"))
        for line in page[start:end].splitlines()[2:]
    }
    assert listed == {(hook.family.value, hook.name) for hook in hooks.HOOKS}
