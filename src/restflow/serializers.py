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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic

from django.db.models import Model
from rest_framework import serializers
from typing_extensions import TypeVar

from restflow._bridge import run_sync

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
        def is_valid(self, *, raise_exception: bool = False) -> bool: ...
        def save(self, **kwargs: Any) -> I: ...

    async def ais_valid(self, *, raise_exception: bool = False) -> bool:
        """Validate in one worker-thread hop; see DRF's ``is_valid``."""
        return await run_sync(self.is_valid, raise_exception=raise_exception)

    async def asave(self, **kwargs: Any) -> I:
        """Save in one worker-thread hop; see DRF's ``save``."""
        return await run_sync(self.save, **kwargs)

    async def adata(self) -> TOut:
        """Render ``data`` in one worker-thread hop (relations may query)."""
        data: TOut = await run_sync(_read_data, self)
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
