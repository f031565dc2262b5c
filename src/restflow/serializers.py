"""Typed DRF serializers with an async API.

``Serializer[TIn, TOut]`` and ``ModelSerializer[M, TIn, TOut]`` are DRF's
serializers at runtime. Their type parameters say what ``validated_data``
(``TIn``) and ``data`` (``TOut``) hold; both default to ``dict[str, Any]`` so
unparametrised use reads as DRF does.

The async methods do their sync DRF work (validators and field lookups may hit
the database) in one worker-thread hop each::

    serializer = ProductSerializer(data=request.data)
    await serializer.ais_valid(raise_exception=True)
    product = await serializer.asave()      # -> Product
    body = await serializer.adata()         # -> ProductOut

``ModelSerializer`` builds its fields from the model once per class, not once per
instance: DRF's ``get_fields()`` inspects the model, resolves field names, extra
and uniqueness kwargs and picks each field's class and arguments every time a
serializer is created, though the answer only depends on the class. restflow
keeps the answer (each built field's class and arguments) and creates fresh
fields from it; declared fields are deep-copied per instance, as in DRF. A
class that overrides any of DRF's field-building methods, or whose built fields
nest serializers or fields, keeps DRF's way.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic

from django.db.models import Model, QuerySet
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import BindingDict
from typing_extensions import TypeVar

from restflow._bridge import in_thread
from restflow._compiled import FIELD_BUILDERS
from restflow._introspect import replaces

__all__ = ["ModelSerializer", "Serializer"]

TIn = TypeVar("TIn", default=dict[str, Any])
TOut = TypeVar("TOut", default=dict[str, Any])
M = TypeVar("M", bound=Model)
I = TypeVar("I", default=Any)  # noqa: E741 - the instance type, as in DRF's stubs


class _AsyncSerializerAPI(Generic[I, TIn, TOut]):
    """The async methods and typed properties shared by both serializers."""

    if TYPE_CHECKING:
        # The runtime attributes are DRF's; these only narrow their types.
        @property
        def validated_data(self) -> TIn: ...
        @property
        def data(self) -> TOut: ...
        @property
        def fields(self) -> BindingDict: ...
        def is_valid(self, *, raise_exception: bool = False) -> bool: ...
        def save(self, **kwargs: object) -> I: ...

    @property
    def _readable_fields(self) -> list[Field[Any, Any, Any, Any]]:
        """DRF's readable fields, read straight from the field dict.

        DRF walks its ``BindingDict`` through ``MutableMapping``'s generic views, a
        few Python calls per field and row; the same fields, in the same order,
        come straight from the dict it wraps.
        """
        fields = self.fields
        by_name = fields.fields if type(fields) is BindingDict else fields
        return [field for field in by_name.values() if not field.write_only]

    async def ais_valid(self, *, raise_exception: bool = False) -> bool:
        """Validate in one worker-thread hop; see DRF's ``is_valid``."""
        return await in_thread(self.is_valid, raise_exception=raise_exception)

    async def asave(self, **kwargs: object) -> I:
        """Save in one worker-thread hop; see DRF's ``save``."""
        return await in_thread(self.save, **kwargs)

    async def adata(self) -> TOut:
        """Render ``data`` in one worker-thread hop (relations may query)."""
        data: TOut = await in_thread(_read_data, self)
        return data


def _read_data(serializer: Any) -> Any:
    return serializer.data


class Serializer(  # type: ignore[misc]  # typed properties narrow DRF's Any/ReturnDict on purpose
    _AsyncSerializerAPI[Any, TIn, TOut], serializers.Serializer[Any], Generic[TIn, TOut]
):
    """DRF's ``Serializer``, typed by its input (``TIn``) and output (``TOut``)."""


class ModelSerializer(  # type: ignore[misc]  # typed properties narrow DRF's Any/ReturnDict on purpose
    _AsyncSerializerAPI[M, TIn, TOut], serializers.ModelSerializer[M], Generic[M, TIn, TOut]
):
    """DRF's ``ModelSerializer`` for model ``M``; ``save()`` returns an ``M``."""

    if TYPE_CHECKING:
        # drf-stubs declare ``Meta`` as a class of their own, so pyright reads every
        # serializer's ``class Meta`` as an incompatible override of it; any class is
        # a ``Meta`` here (DRF itself checks its attributes).
        Meta: ClassVar[type[Any]]  # pyright: ignore[reportIncompatibleVariableOverride]

    def get_fields(self) -> dict[str, Field[Any, Any, Any, Any]]:
        """DRF's ``get_fields()``, with the model-built part worked out once per class."""
        recipe = _recipes.get(type(self))
        if recipe is None:
            fields = super().get_fields()
            _recipes[type(self)] = _recipe(self, fields)
            return fields
        if not recipe:  # this class keeps DRF's way
            return super().get_fields()
        if self.url_field_name is None:  # DRF's get_fields() sets it on the instance
            vars(self)["url_field_name"] = api_settings.URL_FIELD_NAME
        declared = copy.deepcopy(self._declared_fields)
        return {
            name: declared[name] if built is None else _rebuild(*built) for name, built in recipe
        }


#: A built field: its class, positional and keyword arguments.
_Built = tuple[type[Field[Any, Any, Any, Any]], tuple[Any, ...], Mapping[str, Any]]
#: Per class: (name, built field or None for a declared one) in field order; () for
#: a class that keeps DRF's way.
#: Weak keys: classes made on the fly (serializer factories) are not kept alive.
_recipes: weakref.WeakKeyDictionary[type[Any], tuple[tuple[str, _Built | None], ...]] = (
    weakref.WeakKeyDictionary()
)

#: DRF's field-building methods: a class overriding any keeps DRF's ``get_fields()``.
_BUILDERS: Final = FIELD_BUILDERS


def _recipe(
    serializer: serializers.ModelSerializer[Any], fields: Mapping[str, Field[Any, Any, Any, Any]]
) -> tuple[tuple[str, _Built | None], ...]:
    """How to make ``fields`` again for another instance of the class (``()``: don't)."""
    cls = type(serializer)
    if any(replaces(cls, ModelSerializer, name) for name in _BUILDERS):
        return ()
    declared = serializer._declared_fields
    recipe: list[tuple[str, _Built | None]] = []
    for name, field in fields.items():
        if name in declared:
            if type(field) is not type(declared[name]):
                return ()
            recipe.append((name, None))
            continue
        # DRF's Field.__new__ keeps the arguments each field was made with.
        args, kwargs = vars(field)["_args"], vars(field)["_kwargs"]
        if isinstance(field, serializers.BaseSerializer) or any(
            isinstance(value, Field) for value in (*args, *kwargs.values())
        ):
            return ()  # nested serializers and fields are instances: not shareable
        recipe.append((name, (type(field), args, kwargs)))
    return tuple(recipe)


def _rebuild(
    field_class: type[Field[Any, Any, Any, Any]], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Field[Any, Any, Any, Any]:
    """A new field from a built one's arguments, none of its mutable ones shared."""
    return field_class(*args, **{key: _unshared(value) for key, value in kwargs.items()})


def _unshared(value: Any) -> Any:
    if isinstance(value, QuerySet):
        return value.all()  # a fresh, unevaluated copy, as DRF's deepcopy would give
    if isinstance(value, (dict, list, set)):
        return copy.copy(value)
    return value
