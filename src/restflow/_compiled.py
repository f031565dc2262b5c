"""Serializer output compiled once per serializer class (and field set).

DRF's ``Serializer.to_representation`` walks the fields of every row through
generic code: ``field.get_attribute`` (a loop over the source path with
``Mapping`` and callable checks), the ``PKOnlyObject`` test, then the field's
own ``to_representation`` (a ``DateTimeField`` looks up the time zone setting
and the active zone on every value). For a serializer built from DRF's standard
fields, :func:`serializer_data` generates one function per class and field set
that does the same per row with the choices made once: plain attribute reads
for model fields, the time zone read once per call, decimal quantizing with the
call's context. The output is DRF's, value for value (a differential test
renders random rows both ways).

What is not known here keeps DRF's code: a field of any other class (or a
subclass of a known one) is rendered by the bound field itself, a nested
serializer that overrides anything is rendered by DRF, a row that is not an
instance of the serializer's model goes through DRF's ``to_representation``, and
a serializer class that overrides ``to_representation``, ``data`` or
``_readable_fields`` is rendered by DRF entirely. A failing attribute read
(``None`` on the path, a missing attribute) is repeated by DRF's
``get_attribute`` for that field, so defaults, ``allow_null`` and ``SkipField``
behave as DRF's.

``RESTFLOW["COMPILED_SERIALIZERS"] = False`` turns the compiled path off.
"""

from __future__ import annotations

import datetime
import decimal
import weakref
from collections.abc import Callable, Hashable
from enum import Enum
from typing import Any, Final, cast

from django.conf import settings as django_settings
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import setting_changed
from django.db import models
from django.utils import timezone
from django.utils.duration import duration_iso_string, duration_string
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from restflow.conf import settings as restflow_settings

__all__ = ["FIELD_BUILDERS", "serializer_data"]

_ISO_8601: Final = "iso-8601"  # rest_framework.ISO_8601
_DJANGO_DURATION: Final = "django"  # rest_framework.fields.DJANGO_DURATION_FORMAT
_SKIP: Final = object()  # the field is left out of the row (DRF's SkipField)
_NO_TZ: Final = object()  # the field has no time zone of its own: the call's one

#: Field classes rendered here, by exact class: a subclass may change any method.
_KINDS: Final[dict[type[object], str]] = {
    drf_fields.CharField: "str",
    drf_fields.EmailField: "str",
    drf_fields.SlugField: "str",
    drf_fields.URLField: "str",
    drf_fields.RegexField: "str",
    drf_fields.IPAddressField: "str",
    drf_fields.IntegerField: "int",
    drf_fields.FloatField: "float",
    drf_fields.DecimalField: "decimal",
    drf_fields.BooleanField: "bool",
    drf_fields.DateTimeField: "datetime",
    drf_fields.DateField: "date",
    drf_fields.TimeField: "time",
    drf_fields.DurationField: "duration",
    drf_fields.ChoiceField: "choice",
    drf_fields.JSONField: "json",
    drf_fields.UUIDField: "uuid",
    drf_fields.ReadOnlyField: "raw",
    drf_fields.SerializerMethodField: "method",
    relations.PrimaryKeyRelatedField: "pk",
}
#: DRF 3.17 added ``BigIntegerField`` (and ``COERCE_BIGINT_TO_STRING``); 3.16 has neither.
_BIG_INTEGER: Final[type[object] | None] = getattr(drf_fields, "BigIntegerField", None)
if _BIG_INTEGER is not None:
    _KINDS[_BIG_INTEGER] = "bigint"


def _coerce_bigint() -> bool:
    return bool(getattr(api_settings, "COERCE_BIGINT_TO_STRING", False))


def _duration_format() -> object:
    # DRF 3.17 added DURATION_FORMAT; 3.16's DurationField always writes Django's format.
    return getattr(api_settings, "DURATION_FORMAT", _DJANGO_DURATION)


#: The methods DRF's serializers (and restflow's) define that decide a row's output.
_SERIALIZER_METHODS: Final = ("to_representation", "_readable_fields", "data", "get_attribute")
_KNOWN_MODULES: Final = frozenset({"rest_framework.serializers", "rest_framework.fields"})
#: DRF's field-building methods of ``ModelSerializer``.
FIELD_BUILDERS: Final = (
    "get_fields",
    "get_field_names",
    "get_default_field_names",
    "build_field",
    "build_standard_field",
    "build_relational_field",
    "build_nested_field",
    "build_property_field",
    "build_url_field",
    "build_unknown_field",
    "include_extra_kwargs",
    "get_extra_kwargs",
    "get_uniqueness_extra_kwargs",
    "get_unique_together_constraints",
)
#: Overriding any of these makes a class's fields depend on more than the class.
_FIELD_BUILDERS: Final = ("__init__", "__new__", "many_init", "fields", "bind", *FIELD_BUILDERS)

Spec = tuple[Hashable, ...]


def serializer_data(serializer: serializers.BaseSerializer[Any]) -> Any:
    """``serializer.data``, rendered by the compiled path where it is DRF's output.

    Falls back to ``serializer.data`` itself whenever DRF's ``data`` would not
    render ``serializer.instance`` with ``to_representation`` (validation pending
    or failed, no instance, already rendered) or the class is not compilable.
    """
    if (
        not restflow_settings.COMPILED_SERIALIZERS
        or "_data" in vars(serializer)
        or serializer.instance is None
        or getattr(serializer, "_errors", None)
        or (hasattr(serializer, "initial_data") and not hasattr(serializer, "_validated_data"))
    ):
        return serializer.data
    output = _render(serializer)
    if output is _SKIP:
        return serializer.data
    serializer._data = output  # type: ignore[attr-defined]  # DRF's cache of the output
    return serializer.data


def _call_timezone() -> Any:
    # DateTimeField.default_timezone(), read once per call instead of per value.
    return timezone.get_current_timezone() if django_settings.USE_TZ else None


def _settings_key() -> tuple[object, ...]:
    return (
        api_settings.DATETIME_FORMAT,
        api_settings.DATE_FORMAT,
        api_settings.TIME_FORMAT,
        _duration_format(),
        api_settings.COERCE_DECIMAL_TO_STRING,
        _coerce_bigint(),
        api_settings.URL_FIELD_NAME,
    )


# -- which classes are compiled --------------------------------------------------


def _defined_in_drf(cls: type[object], name: str) -> bool:
    for klass in cls.__mro__:
        if name in vars(klass):
            module = klass.__module__
            return module in _KNOWN_MODULES or module == "restflow.serializers"
    return True


_renders_as_drf: weakref.WeakKeyDictionary[type[object], bool] = weakref.WeakKeyDictionary()
_fields_from_class: weakref.WeakKeyDictionary[type[object], bool] = weakref.WeakKeyDictionary()


def _is_drf_serializer(cls: type[object]) -> bool:
    """The class renders a row with DRF's ``Serializer.to_representation``."""
    known = _renders_as_drf.get(cls)
    if known is None:
        known = issubclass(cls, serializers.Serializer) and all(
            _defined_in_drf(cls, name) for name in _SERIALIZER_METHODS
        )
        _renders_as_drf[cls] = known
    return known


def _class_fixes_fields(cls: type[object]) -> bool:
    """Every instance of the class gets the same fields (so no need to build them)."""
    known = _fields_from_class.get(cls)
    if known is None:
        known = _is_drf_serializer(cls) and all(
            _defined_in_drf(cls, name) for name in _FIELD_BUILDERS
        )
        _fields_from_class[cls] = known
    return known


def _is_drf_list(serializer: Any) -> bool:
    cls = type(serializer)
    return isinstance(serializer, serializers.ListSerializer) and all(
        _defined_in_drf(cls, name) for name in ("to_representation", "data", "get_attribute")
    )


# -- the spec: everything the generated code depends on, hashable -----------------


def _level_model(owner: Any) -> type[models.Model] | None:
    if isinstance(owner, serializers.ModelSerializer):
        model = getattr(getattr(type(owner), "Meta", None), "model", None)
        if isinstance(model, type) and issubclass(model, models.Model):
            return model
    return None


def _direct_path(
    model: type[models.Model] | None, attrs: list[str], pk: bool
) -> tuple[str, ...] | None:
    """Plain attribute names that read ``attrs`` from a ``model`` row, or None."""
    if model is None or not attrs:
        return None
    path: list[str] = []
    current: Any = model
    for position, attr in enumerate(attrs):
        last = position == len(attrs) - 1
        try:
            field = current._meta.get_field(attr)
        except FieldDoesNotExist:
            return None
        if not getattr(field, "concrete", False) or field.many_to_many:
            return None
        if field.is_relation:
            if not (field.many_to_one or field.one_to_one) or field.name != attr:
                return None
            if last and pk:
                path.append(field.attname)  # serializable_value(): the key column
                return tuple(path)
            path.append(attr)
            current = field.related_model
            continue
        if last and not pk and field.attname == attr:
            path.append(attr)
            return tuple(path)
        return None
    return tuple(path) if not pk else None


def _frozen(value: object) -> Hashable | None:
    try:
        hash(value)
    except TypeError:
        return None
    return value  # hash() above proved it


def _field_spec(field: Any, model: type[models.Model] | None) -> Spec:
    """What the generated code does for one bound field (its name first)."""
    name = field.field_name
    attrs = list(field.source_attrs)
    kind = _KINDS.get(type(field))
    if isinstance(field, serializers.BaseSerializer):
        return _nested_spec(field, name, attrs, model)
    if kind is None:
        return (name, "field")
    if kind == "method":
        return (name, "method", field.method_name)
    if kind == "pk":
        path = _direct_path(model, attrs, pk=True)
        if field.pk_field is not None or path is None:
            return (name, "field")
        return (name, "pk", path)
    getter: Spec = ("star",) if not attrs else ("direct", _direct_path(model, attrs, pk=False))
    if getter[1:] == (None,):
        getter = ("generic", tuple(attrs))
    params: Spec
    if kind == "bigint":
        params = (getattr(field, "coerce_to_string", _coerce_bigint()),)
    elif kind == "decimal":
        coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        if field.localize:
            return (name, "field")
        params = (
            field.decimal_places,
            field.max_digits,
            field.rounding,
            field.normalize_output,
            bool(coerce),
        )
    elif kind in ("datetime", "date", "time", "duration"):
        default = {
            "datetime": api_settings.DATETIME_FORMAT,
            "date": api_settings.DATE_FORMAT,
            "time": api_settings.TIME_FORMAT,
            "duration": _duration_format(),
        }[kind]
        output_format = getattr(field, "format", default)
        if output_format is not None and not isinstance(output_format, str):
            return (name, "field")
        zone = getattr(field, "timezone", _NO_TZ) if kind == "datetime" else _NO_TZ
        if _frozen(zone) is None:
            return (name, "field")
        params = (output_format, zone)
    elif kind == "choice":
        choices = _frozen(tuple(field.choice_strings_to_values.items()))
        if choices is None:
            return (name, "field")
        params = (choices,)
    elif kind == "json":
        if field.binary:
            return (name, "field")
        params = ()
    elif kind == "uuid":
        params = (field.uuid_format,)
    else:
        params = ()
    return (name, kind, getter, *params)


def _nested_spec(field: Any, name: str, attrs: list[str], model: type[models.Model] | None) -> Spec:
    many = isinstance(field, serializers.ListSerializer)
    child = field.child if many else field
    if (many and not _is_drf_list(field)) or not _is_drf_serializer(type(child)):
        return (name, "field")
    if not _defined_in_drf(type(field), "get_attribute"):
        return (name, "field")
    getter: Spec = ("star",) if not attrs else ("direct", _direct_path(model, attrs, pk=False))
    if getter[1:] == (None,):
        getter = ("generic", tuple(attrs))
    return (name, "nested", getter, many, _level_spec(child))


def _level_spec(owner: Any) -> Spec:
    model = _level_model(owner)
    return (  # type: ignore[return-value]  # nested tuples of hashables are hashable
        type(owner),
        model,
        tuple(_field_spec(field, model) for field in owner._readable_fields),
    )


# -- generating the code -----------------------------------------------------------


class _Levels:
    """One call's serializers per level, found lazily (DRF's bound fields live there)."""

    __slots__ = ("_owners", "_parents")

    def __init__(self, root: Any, parents: tuple[tuple[int, str, bool], ...]) -> None:
        self._owners: dict[int, Any] = {0: root}
        self._parents = parents

    def owner(self, level: int) -> Any:
        try:
            return self._owners[level]
        except KeyError:
            parent, name, many = self._parents[level]
            found = self.owner(parent).fields[name]
            owner = found.child if many else found
            self._owners[level] = owner
            return owner

    def field(self, level: int, name: str) -> Any:
        return self.owner(level).fields[name]

    def slow(self, level: int, name: str, instance: Any) -> Any:
        """DRF's own steps for one field of one row (``_SKIP`` when it skips)."""
        field = self.field(level, name)
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return _SKIP
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)


def _datetime(value: Any, zone: Any, output_format: str, field: Callable[[], Any]) -> Any:
    if not value:
        return None
    if isinstance(value, str):
        return value
    if zone is not None:
        if value.utcoffset() is None:
            return field().to_representation(value)  # make_aware and its checks
        try:
            value = value.astimezone(zone)
        except OverflowError:
            return field().to_representation(value)
    elif value.utcoffset() is not None:
        value = timezone.make_naive(value, datetime.UTC)
    if output_format.lower() == _ISO_8601:
        text: str = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value.strftime(output_format)


def _date_or_time(value: Any, output_format: str, field: Callable[[], Any]) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime):
        return field().to_representation(value)  # DRF's assertion
    if output_format.lower() == _ISO_8601:
        return value.isoformat()
    return value.strftime(output_format)


def _duration(value: Any, output_format: str, field: Callable[[], Any]) -> Any:
    lowered = output_format.lower()
    if lowered == _ISO_8601:
        return duration_iso_string(value)
    if lowered == _DJANGO_DURATION:
        return duration_string(value)
    return field().to_representation(value)


def _choice(value: Any, choices: dict[str, Any]) -> Any:
    if value in ("", None):
        return value
    if isinstance(value, Enum) and str(value) != str(value.value):
        value = value.value
    return choices.get(str(value), value)


def _boolean(value: Any, field: Callable[[], Any]) -> Any:
    if value is True or value is False:
        return value
    return field().to_representation(value)


def _decimal_context(max_digits: int | None) -> decimal.Context:
    context = decimal.getcontext().copy()
    if max_digits is not None:
        context.prec = max_digits
    return context


class _Writer:
    """Python source for one spec: ``_make(levels, zone)`` returns the row function."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.prelude: list[str] = []
        self.constants: dict[str, Any] = {}
        self.parents: list[tuple[int, str, bool]] = [(0, "", False)]

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def function(self, spec: Spec, level: int) -> None:
        """Write ``_row<level>(instance)`` and the functions of its nested levels."""
        _, model, field_specs = spec
        body: list[str] = [f"def _row{level}(instance):"]
        if model is not None:
            body.append(f"    if instance.__class__ is not {self.constant(model)}:")
            body.append(f"        return _lv.owner({level}).to_representation(instance)")
        body.append("    _r = {}")
        for field_spec in cast(tuple[Spec, ...], field_specs):
            body.extend(self._field(field_spec, level))
        body.append("    return _r")
        self.lines.extend(body)

    def _field(self, spec: Spec, level: int) -> list[str]:
        name, kind = spec[0], spec[1]
        key = repr(name)
        if kind == "field":
            return [
                f"    _x = _lv.slow({level}, {key}, instance)",
                f"    if _x is not _SKIP: _r[{key}] = _x",
            ]
        if kind == "method":
            method = f"_m{len(self.prelude)}"
            self.prelude.append(f"    {method} = getattr(_lv.owner({level}), {spec[2]!r})")
            return [f"    _r[{key}] = {method}(instance)"]
        if kind == "pk":
            return self._read(("direct", spec[2]), level, key, "_v")
        getter = cast(Spec, spec[2])
        if kind == "nested":
            many, child_spec = bool(spec[3]), cast(Spec, spec[4])
            child = len(self.parents)
            self.parents.append((level, str(name), many))
            self.function(child_spec, child)
            if many:
                value = (
                    f"[_row{child}(_i) for _i in (_v.all() if isinstance(_v, _manager) else _v)]"
                )
            else:
                value = f"_row{child}(_v)"
            return self._read(getter, level, key, value)
        field = f"(lambda: _lv.field({level}, {key}))"
        return self._read(getter, level, key, self._value(spec, field))

    def _read(self, getter: Spec, level: int, key: str, value: str) -> list[str]:
        store = (
            f"_r[{key}] = _v" if value == "_v" else f"_r[{key}] = None if _v is None else {value}"
        )
        if getter[0] == "star":
            return ["    _v = instance", f"    {store}"]
        if getter[0] == "direct":
            read = "instance." + ".".join(cast(tuple[str, ...], getter[1]))
        else:
            read = f"_get(instance, {getter[1]!r})"
        return [
            "    try:",
            f"        _v = {read}",
            "    except Exception:",
            f"        _x = _lv.slow({level}, {key}, instance)",
            f"        if _x is not _SKIP: _r[{key}] = _x",
            "    else:",
            f"        {store}",
        ]

    def _value(self, spec: Spec, field: str) -> str:
        kind, params = spec[1], spec[3:]
        if kind == "str":
            return "_str(_v)"
        if kind == "int":
            return "_int(_v)"
        if kind == "bigint":
            return "_str(_v)" if params[0] else "_int(_v)"
        if kind == "float":
            return "_float(_v)"
        if kind in ("raw", "json"):
            return "_v"
        if kind == "bool":
            return f"_boolean(_v, {field})"
        if kind == "uuid":
            return "_str(_v)" if params[0] == "hex_verbose" else f"_v.{params[0]}"
        if kind == "choice":
            return f"_choice(_v, {self.constant(dict(cast(Any, params[0])))})"
        if kind == "decimal":
            return self._decimal(params)
        output_format, zone = params
        if kind == "duration":
            return "_v" if output_format is None else f"_duration(_v, {output_format!r}, {field})"
        if kind == "datetime":
            if output_format is None:
                return "(_v or None)"
            tz = "_tz" if zone is _NO_TZ else self.constant(zone)
            return f"_datetime(_v, {tz}, {output_format!r}, {field})"
        # DRF: None for a falsy date, and for a time that is ''.
        empty = "(not _v)" if kind == "date" else "(_v == '')"
        if output_format is None:
            return f"(None if {empty} else _v)"
        return f"(None if {empty} else _date_or_time(_v, {output_format!r}, {field}))"

    def _decimal(self, params: Spec) -> str:
        places, digits, rounding, normalize, coerce = params
        text = "(_v if _v.__class__ is _Decimal else _Decimal(_str(_v).strip()))"
        if places is not None:
            number = len(self.prelude)
            # DRF quantizes with a copy of the thread's context: the same for a whole call.
            self.prelude.append(f"    _e{number} = _Decimal('.1') ** {places!r}")
            self.prelude.append(f"    _c{number} = _decimal_context({digits!r})")
            text = f"{text}.quantize(_e{number}, rounding={rounding!r}, context=_c{number})"
        if normalize:
            text = f"{text}.normalize()"
        return f"f'{{{text}:f}}'" if coerce else text


_NAMESPACE: Final[dict[str, Any]] = {
    "_SKIP": _SKIP,
    "_str": str,
    "_int": int,
    "_float": float,
    "_Decimal": decimal.Decimal,
    "_decimal_context": _decimal_context,
    "_get": drf_fields.get_attribute,
    "_datetime": _datetime,
    "_date_or_time": _date_or_time,
    "_duration": _duration,
    "_choice": _choice,
    "_boolean": _boolean,
    "_manager": models.manager.BaseManager,
}


def _generate(spec: Spec) -> tuple[Callable[[_Levels, Any], Callable[[Any], Any]], _Parents]:
    """The ``_make(levels, zone)`` function for ``spec`` and its levels' parents."""
    writer = _Writer()
    writer.function(spec, 0)
    source = "\n".join(
        [
            "def _make(_lv, _tz):",
            *writer.prelude,
            *("    " + line for line in writer.lines),
            "    return _row0",
        ]
    )
    namespace = {**_NAMESPACE, **writer.constants}
    # The source is ours: names, reprs of field names and of DRF format strings.
    exec(compile(source, "<restflow compiled serializer>", "exec"), namespace)
    return namespace["_make"], tuple(writer.parents)


_Parents = tuple[tuple[int, str, bool], ...]
_Compiled = tuple[Callable[[_Levels, Any], Callable[[Any], Any]], _Parents]

#: Per class whose instances all have the same fields: settings -> compiled code.
_by_class: weakref.WeakKeyDictionary[type[object], dict[tuple[object, ...], _Compiled]] = (
    weakref.WeakKeyDictionary()
)
#: Per spec (classes whose fields may differ per instance).
_by_spec: dict[Spec, _Compiled] = {}
_MAX_SPECS: Final = 512


def _fixed_everywhere(spec: Spec) -> bool:
    """Every level's class fixes its fields (so one instance's fields stand for all)."""
    cls, _, field_specs = spec
    if not _class_fixes_fields(cast(type[object], cls)):
        return False
    return all(
        _fixed_everywhere(cast(Spec, field_spec[4]))
        for field_spec in cast(tuple[Spec, ...], field_specs)
        if field_spec[1] == "nested"
    )


def _render(serializer: serializers.BaseSerializer[Any]) -> Any:
    """The compiled output for ``serializer.instance``, or ``_SKIP`` where DRF renders."""
    many = isinstance(serializer, serializers.ListSerializer)
    if many and not _is_drf_list(serializer):
        return _SKIP
    owner: Any = (
        serializer.child if isinstance(serializer, serializers.ListSerializer) else serializer
    )
    cls = type(owner)
    if not _is_drf_serializer(cls):
        return _SKIP
    compiled: _Compiled | None = None
    settings_key = _settings_key()
    per_class = _by_class.get(cls) if "fields" not in vars(owner) else None
    if per_class is not None:
        compiled = per_class.get(settings_key)
    if compiled is None:
        spec = _level_spec(owner)
        compiled = _by_spec.get(spec)
        if compiled is None:
            compiled = _generate(spec)
            if len(_by_spec) >= _MAX_SPECS:
                _by_spec.clear()
            _by_spec[spec] = compiled
        if _fixed_everywhere(spec):
            _by_class.setdefault(cls, {})[settings_key] = compiled
    make, parents = compiled
    row = make(_Levels(owner, parents), _call_timezone())
    data: Any = serializer.instance
    if not many:
        return row(data)
    iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
    return [row(item) for item in iterable]


def _forget(*, setting: str, **kwargs: object) -> None:
    # Formats and the like are baked into the code; Django's settings change in tests.
    _by_class.clear()
    _by_spec.clear()


setting_changed.connect(_forget, dispatch_uid="restflow._compiled.forget")
