"""The type variables shared by restflow's views: the model and the serializers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model
from rest_framework.serializers import BaseSerializer
from typing_extensions import TypeVar

__all__ = ["SX", "M", "S", "SIn", "SOut", "Typed"]

if TYPE_CHECKING:
    from typing import Generic as Typed
else:

    class _NoBase:
        def __mro_entries__(self, bases: tuple[type, ...]) -> tuple[type, ...]:
            return ()

    class Typed:
        """``Generic`` for type checkers only: at runtime it leaves no base behind.

        restflow's views are generic for type checkers; at runtime, like DRF's
        ``GenericAPIView``, subscripting one returns the class itself, so a user's
        viewset's MRO stays DRF's shape (no ``typing.Generic``).
        """

        def __class_getitem__(cls, params: object) -> _NoBase:
            return _NoBase()


#: The view's model.
M = TypeVar("M", bound=Model, default=Any)
#: The view's serializer.
S = TypeVar("S", bound=BaseSerializer[Any], default=BaseSerializer[Any])
#: The serializer that validates request bodies (default: ``S``).
SIn = TypeVar("SIn", bound=BaseSerializer[Any], default=S)
#: The serializer that renders responses (default: ``S``).
SOut = TypeVar("SOut", bound=BaseSerializer[Any], default=S)
#: A serializer class passed explicitly to a helper.
SX = TypeVar("SX", bound=BaseSerializer[Any])
