"""The types shared by restflow's views: the model and serializer type variables, and
the view functions ``as_view()`` and ``@api_view`` make."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol

from django.db.models import Model
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.serializers import BaseSerializer
from typing_extensions import TypeVar

if TYPE_CHECKING:
    from restflow._apiview import APIView
    from restflow._asyncview import AsyncAPIView

__all__ = [
    "SX",
    "AsyncViewFunction",
    "M",
    "S",
    "SIn",
    "SOut",
    "SyncViewFunction",
    "Typed",
]

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


P = ParamSpec("P")
R_co = TypeVar("R_co", bound=HttpResponseBase, covariant=True)


class AsyncViewFunction(Protocol[P, R_co]):
    """An async Django view: what ``AsyncAPIView.as_view()`` and ``@api_view`` on an
    ``async def`` make. ``await view(request)`` is the response."""

    cls: type[AsyncAPIView]
    view_class: type[AsyncAPIView]
    view_initkwargs: Mapping[str, Any]
    csrf_exempt: bool

    def __call__(
        self, request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, R_co]: ...


class SyncViewFunction(Protocol[P, R_co]):
    """A sync Django view: what ``@api_view`` makes of a plain ``def``."""

    cls: type[APIView]
    view_class: type[APIView]
    view_initkwargs: Mapping[str, Any]
    csrf_exempt: bool

    def __call__(self, request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R_co: ...
