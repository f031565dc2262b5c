"""The ``TypedDict`` source of serializers' ``TIn`` and ``TOut`` (``manage.py restflow_types``).

For each serializer, ``<Name>In`` holds what ``validated_data`` holds (the writable
fields, keyed by ``source``, with their Python types) and ``<Name>Out`` what ``data``
holds once rendered to JSON (the readable fields). The types follow DRF's fields:
``DecimalField`` is a ``str`` out when ``COERCE_DECIMAL_TO_STRING``, dates and times are
``str`` out and ``datetime`` values in, a primary-key relation is the related pk out and
the related object in. Unknown fields are ``Any``.
"""

from __future__ import annotations

import importlib
import keyword
import re
import sys
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from rest_framework import fields as drf_fields
from rest_framework import relations
from rest_framework.serializers import BaseSerializer, ListSerializer
from rest_framework.settings import api_settings

from restflow.serializers import ModelSerializer, Serializer

__all__ = ["render_module", "serializers_of"]

#: DRF field class -> (type in ``validated_data``, type in rendered JSON)
_SIMPLE: tuple[tuple[type[drf_fields.Field[Any, Any, Any, Any]], str, str], ...] = (
    (drf_fields.BooleanField, "bool", "bool"),
    (drf_fields.UUIDField, "uuid.UUID", "str"),
    (drf_fields.CharField, "str", "str"),
    (drf_fields.IntegerField, "int", "int"),
    (drf_fields.FloatField, "float", "float"),
    (drf_fields.DateTimeField, "datetime.datetime", "str"),
    (drf_fields.DateField, "datetime.date", "str"),
    (drf_fields.TimeField, "datetime.time", "str"),
    (drf_fields.DurationField, "datetime.timedelta", "str"),
    (drf_fields.HStoreField, "dict[str, str | None]", "dict[str, str | None]"),
    (drf_fields.JSONField, "Any", "Any"),
    (relations.StringRelatedField, "str", "str"),
    (relations.HyperlinkedRelatedField, "", "str"),
)
_MAX_LITERAL = 60  # longer Literal unions are written as their base type


@dataclass
class _Imports:
    """The names a generated module imports, by module."""

    names: dict[str, set[str]] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)
    #: modules whose names are imported for the checkers only (they import this module)
    deferred: set[str] = field(default_factory=set)

    def name(self, module: str, name: str) -> str:
        self.names.setdefault(module, set()).add(name)
        return name

    def dotted(self, path: str) -> str:
        self.modules.add(path.rsplit(".", 1)[0])
        return path


def serializers_of(module_names: Iterable[str]) -> list[type[BaseSerializer[Any]]]:
    """restflow serializers defined in ``module_names``, in module and definition order."""
    found: list[type[BaseSerializer[Any]]] = []
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, (Serializer, ModelSerializer))
                and value not in (Serializer, ModelSerializer)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def _base_name(serializer: type[object]) -> str:
    name = serializer.__name__
    return name.removesuffix("Serializer") or name


class _Writer:
    def __init__(self, source_modules: set[str]) -> None:
        self.imports = _Imports()
        self.source_modules = source_modules
        self.classes: dict[str, str] = {}  # TypedDict name -> source
        self.owners: dict[str, type[Any]] = {}

    # -- types ------------------------------------------------------------------------

    def import_class(self, cls: type[object]) -> str:
        if cls.__module__ == "builtins":
            return cls.__qualname__
        module = cls.__module__
        if module in self.source_modules:
            self.imports.deferred.add(module)
        top = cls.__qualname__.split(".")[0]
        self.imports.name(module, top)
        return cls.__qualname__

    def annotation(self, hint: object) -> str:
        """Source text of a resolved type hint."""
        if hint is None or hint is type(None):
            return "None"
        if hint is Any:
            return self.imports.name("typing", "Any")
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            return " | ".join(self.annotation(arg) for arg in args)
        if origin is typing.Literal:
            return self.imports.name("typing", "Literal") + f"[{', '.join(map(_literal, args))}]"
        if origin is not None and args:
            head = self.annotation(origin)
            return f"{head}[{', '.join(self.annotation(arg) for arg in args)}]"
        if isinstance(hint, type):
            return self.import_class(hint)
        return self.imports.name("typing", "Any")

    def simple(self, text: str) -> str:
        if text == "Any":
            return self.imports.name("typing", "Any")
        for module in ("datetime", "uuid"):
            if text.startswith(module + "."):
                return self.imports.dotted(text)
        return text

    def choices(self, choice_field: drf_fields.ChoiceField) -> str:
        keys = list(choice_field.choices)
        if keys and all(type(key) in (str, int) for key in keys):
            literal = f"Literal[{', '.join(_literal(key) for key in keys)}]"
            if len(literal) <= _MAX_LITERAL:
                self.imports.name("typing", "Literal")
                return literal
        kinds = sorted({type(key).__name__ for key in keys if type(key) in (str, int)})
        if kinds and len(kinds) == len({type(key) for key in keys}):
            return " | ".join(kinds)
        return self.imports.name("typing", "Any")

    def pk_type(self, model: type[models.Model] | None) -> str:
        pk = None if model is None else model._meta.pk
        if isinstance(pk, models.ForeignKey | models.OneToOneField):
            return self.pk_type(pk.related_model)
        if isinstance(pk, models.AutoField | models.BigAutoField | models.IntegerField):
            return "int"
        if isinstance(pk, models.CharField | models.UUIDField):
            return "str"
        return self.imports.name("typing", "Any")

    def related_model(
        self, relation: relations.RelatedField[Any, Any, Any], parent: type[object]
    ) -> type[models.Model] | None:
        # drf-stubs type ``queryset`` as a manager descriptor: read it as data.
        queryset: Any = vars(relation).get("queryset")
        if isinstance(queryset, models.QuerySet | models.Manager):
            related: Any = queryset.model
            return related if isinstance(related, type) else None
        model = getattr(getattr(parent, "Meta", None), "model", None)
        if model is None or relation.source in ("*", None):
            return None
        try:
            found = model._meta.get_field(relation.source.split(".")[0]).related_model
        except Exception:
            return None
        return found if isinstance(found, type) else None

    def field_types(self, drf_field: Any, parent: type[object]) -> tuple[str, str]:
        """``(type in validated_data, type in JSON)`` of one field."""
        if isinstance(drf_field, ListSerializer):
            inner_in, inner_out = self.field_types(drf_field.child, parent)
            return f"list[{inner_in}]", f"list[{inner_out}]"
        if isinstance(drf_field, BaseSerializer):
            name = self.serializer(type(drf_field))
            return f"{name}In", f"{name}Out"
        if isinstance(drf_field, relations.ManyRelatedField):
            inner_in, inner_out = self.field_types(drf_field.child_relation, parent)
            return f"list[{inner_in}]", f"list[{inner_out}]"
        if isinstance(drf_field, drf_fields.SerializerMethodField):
            return self.method_type(drf_field, parent)
        if isinstance(drf_field, drf_fields.DecimalField):
            # DRF reads it this way when rendering (the attribute is set only if passed).
            coerce = getattr(drf_field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
            return self.imports.name("decimal", "Decimal"), "str" if coerce else "float"
        big_integer = getattr(drf_fields, "BigIntegerField", None)  # DRF >= 3.17
        if big_integer is not None and isinstance(drf_field, big_integer):
            coerce = getattr(drf_field, "coerce_to_string", None)
            if coerce is None:
                coerce = getattr(api_settings, "COERCE_BIGINT_TO_STRING", False)
            return "int", "str" if coerce else "int"
        if isinstance(drf_field, drf_fields.MultipleChoiceField):
            choice = self.choices(drf_field)
            return f"set[{choice}]", f"list[{choice}]"
        if isinstance(drf_field, drf_fields.ChoiceField):
            choice = self.choices(drf_field)
            return choice, choice
        if isinstance(drf_field, drf_fields.FileField):
            uploaded = self.imports.name("django.core.files.uploadedfile", "UploadedFile")
            return uploaded, "str | None"
        if isinstance(drf_field, drf_fields.ListField | drf_fields.DictField) and not isinstance(
            drf_field, drf_fields.HStoreField
        ):
            inner_in, inner_out = self.field_types(drf_field.child, parent)
            if isinstance(drf_field, drf_fields.ListField):
                return f"list[{inner_in}]", f"list[{inner_out}]"
            return f"dict[str, {inner_in}]", f"dict[str, {inner_out}]"
        if isinstance(drf_field, relations.RelatedField) and not isinstance(
            drf_field, relations.StringRelatedField
        ):
            model = self.related_model(drf_field, parent)
            in_type = self.import_class(model) if model else self.imports.name("typing", "Any")
            if isinstance(drf_field, relations.PrimaryKeyRelatedField):
                pk_field = drf_field.pk_field
                out = self.field_types(pk_field, parent)[1] if pk_field else self.pk_type(model)
                return in_type, out
            if isinstance(drf_field, relations.SlugRelatedField):
                return in_type, "str"
            if isinstance(drf_field, relations.HyperlinkedRelatedField):
                return in_type, "str"
        for field_class, in_type, out_type in _SIMPLE:
            if isinstance(drf_field, field_class):
                return self.simple(in_type or "Any"), self.simple(out_type)
        anything = self.imports.name("typing", "Any")
        return anything, anything

    def method_type(
        self, method_field: drf_fields.SerializerMethodField, parent: type[object]
    ) -> tuple[str, str]:
        anything = self.imports.name("typing", "Any")
        name = method_field.method_name or f"get_{method_field.field_name}"
        method = getattr(parent, name, None)
        try:
            hint = typing.get_type_hints(method).get("return", Any) if method else Any
        except Exception:  # an annotation that does not resolve at runtime
            hint = Any
        return anything, self.annotation(hint)

    # -- serializers ------------------------------------------------------------------

    def serializer(self, serializer: type[Any]) -> str:
        name = _base_name(serializer)
        owner = self.owners.setdefault(name, serializer)
        if owner is not serializer:
            raise ImproperlyConfigured(
                f"restflow_types: {owner.__module__}.{owner.__qualname__} and "
                f"{serializer.__module__}.{serializer.__qualname__} would both write "
                f"{name}In and {name}Out; rename one of the serializers."
            )
        if f"{name}In" in self.classes:
            return name
        self.classes[f"{name}In"] = self.classes[f"{name}Out"] = ""  # mark before nesting
        try:
            built = serializer().fields
        except Exception as exc:
            raise ImproperlyConfigured(
                f"restflow_types: {serializer.__module__}.{serializer.__qualname__}() "
                f"cannot list its fields: {exc}"
            ) from exc
        inputs: list[tuple[str, str]] = []
        outputs: list[tuple[str, str]] = []
        for field_name, drf_field in built.items():
            in_type, out_type = self.field_types(drf_field, serializer)
            if getattr(drf_field, "allow_null", False):
                in_type, out_type = _nullable(in_type), _nullable(out_type)
            if not drf_field.read_only:
                source = drf_field.source or field_name
                if source == "*":
                    key = field_name
                elif "." in source:
                    key = source.split(".")[0]
                    in_type = "dict[str, " + self.imports.name("typing", "Any") + "]"
                else:
                    key = source
                if not drf_field.required:
                    in_type = f"{self.imports.name('typing', 'NotRequired')}[{in_type}]"
                inputs.append((key, in_type))
            if not drf_field.write_only:
                outputs.append((field_name, out_type))
        self.classes.pop(f"{name}In")
        self.classes.pop(f"{name}Out")
        origin = f"{serializer.__module__}.{serializer.__qualname__}"
        self.classes[f"{name}In"] = _typed_dict(f"{name}In", inputs, f"validated_data of {origin}")
        self.classes[f"{name}Out"] = _typed_dict(f"{name}Out", outputs, f"data of {origin}")
        return name


def _literal(value: object) -> str:
    """``repr`` with the double quotes ``ruff format`` writes."""
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        return '"' + text[1:-1].replace("\\'", "'") + '"'
    return text


def _nullable(text: str) -> str:
    return text if text.endswith("| None") or text == "Any" else f"{text} | None"


def _typed_dict(name: str, items: list[tuple[str, str]], doc: str) -> str:
    if all(key.isidentifier() and not keyword.iskeyword(key) for key, _ in items):
        body = "".join(f"    {key}: {annotation}\n" for key, annotation in items)
        return f'class {name}(TypedDict):\n    """The {doc}."""\n\n{body}'.rstrip("\n") + "\n"
    pairs = "".join(f"        {key!r}: {annotation},\n" for key, annotation in items)
    return f'{name} = TypedDict(\n    "{name}",\n    {{\n{pairs}    }},\n)\n'


def _is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def _is_third_party(module: str) -> bool:
    top = sys.modules.get(module.split(".")[0])
    location = getattr(top, "__file__", None) or ""
    return "site-packages" in location or "dist-packages" in location


def _isort_key(name: str) -> tuple[int, str]:
    # isort's (and ruff's) order within one import: constants, classes, the rest.
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def _prune(imports: _Imports, body: str) -> None:
    """Drop the imports the written classes do not use."""
    imports.modules = {module for module in imports.modules if f"{module}." in body}
    for module in list(imports.names):
        used = {name for name in imports.names[module] if re.search(rf"\b{name}\b", body)}
        if used:
            imports.names[module] = used
        else:
            del imports.names[module]
    imports.deferred &= set(imports.names)


def _import_lines(imports: _Imports) -> Iterator[str]:
    stdlib: list[str] = [f"import {module}" for module in sorted(imports.modules)]
    third: list[str] = []
    first: list[str] = []
    deferred: list[str] = []
    for module in sorted(imports.names):
        names = sorted(imports.names[module], key=_isort_key)
        line = f"from {module} import {', '.join(names)}"
        if module in imports.deferred:
            deferred.append("    " + line)
        elif _is_stdlib(module):
            stdlib.append(line)
        elif _is_third_party(module):
            third.append(line)
        else:
            first.append(line)
    stdlib.sort(key=lambda line: (line.startswith("from "), line.split()[1]))
    for block in (stdlib, third, first):
        if block:
            yield "\n".join(block) + "\n"
    if deferred:
        yield "if TYPE_CHECKING:\n" + "\n".join(deferred) + "\n"


def render_module(module_names: list[str]) -> str:
    """The source of the module of TypedDicts for the serializers in ``module_names``."""
    writer = _Writer(set(module_names))
    for serializer in serializers_of(module_names):
        writer.serializer(serializer)
    body = "\n\n".join(source for source in writer.classes.values())
    _prune(writer.imports, body)
    if "(TypedDict)" in body or "= TypedDict(" in body:
        writer.imports.name("typing", "TypedDict")
    if writer.imports.deferred:
        writer.imports.name("typing", "TYPE_CHECKING")
    header = (
        '"""TypedDicts of the serializers in '
        + ", ".join(module_names)
        + '.\n\nWritten by ``manage.py restflow_types``; do not edit: run it again instead.\n"""\n'
    )
    blocks = [header, "from __future__ import annotations\n", *_import_lines(writer.imports)]
    head = "\n".join(blocks)
    return head + ("\n\n" + body if body else "")
