"""restflow's views: DRF's view stack, typed, with an async dispatch loop.

Everything a view module of a restflow project imports lives here: the base
views, the generic views, the model mixins, the viewsets and ``ActionConfig``.
"""

from restflow._apiview import APIView
from restflow._asyncview import AsyncAPIView
from restflow._postfetch import PostFetch
from restflow.generics import (
    AsyncCreateAPIView,
    AsyncDestroyAPIView,
    AsyncGenericAPIView,
    AsyncListAPIView,
    AsyncListCreateAPIView,
    AsyncRetrieveAPIView,
    AsyncRetrieveDestroyAPIView,
    AsyncRetrieveUpdateAPIView,
    AsyncRetrieveUpdateDestroyAPIView,
    AsyncUpdateAPIView,
    GenericAPIView,
)
from restflow.mixins import (
    AsyncCreateModelMixin,
    AsyncDestroyModelMixin,
    AsyncListModelMixin,
    AsyncRetrieveModelMixin,
    AsyncUpdateModelMixin,
    CreateModelMixin,
    DestroyModelMixin,
    ListModelMixin,
    RetrieveModelMixin,
    UpdateModelMixin,
)
from restflow.viewsets import (
    UNSET,
    ActionConfig,
    ActionConfigs,
    ActionName,
    AsyncGenericViewSet,
    AsyncModelViewSet,
    AsyncReadOnlyModelViewSet,
    AsyncViewSet,
    GenericViewSet,
    ModelViewSet,
    ReadOnlyModelViewSet,
    ViewSet,
)

__all__ = [
    "UNSET",
    "APIView",
    "ActionConfig",
    "ActionConfigs",
    "ActionName",
    "AsyncAPIView",
    "AsyncCreateAPIView",
    "AsyncCreateModelMixin",
    "AsyncDestroyAPIView",
    "AsyncDestroyModelMixin",
    "AsyncGenericAPIView",
    "AsyncGenericViewSet",
    "AsyncListAPIView",
    "AsyncListCreateAPIView",
    "AsyncListModelMixin",
    "AsyncModelViewSet",
    "AsyncReadOnlyModelViewSet",
    "AsyncRetrieveAPIView",
    "AsyncRetrieveDestroyAPIView",
    "AsyncRetrieveModelMixin",
    "AsyncRetrieveUpdateAPIView",
    "AsyncRetrieveUpdateDestroyAPIView",
    "AsyncUpdateAPIView",
    "AsyncUpdateModelMixin",
    "AsyncViewSet",
    "CreateModelMixin",
    "DestroyModelMixin",
    "GenericAPIView",
    "GenericViewSet",
    "ListModelMixin",
    "ModelViewSet",
    "PostFetch",
    "ReadOnlyModelViewSet",
    "RetrieveModelMixin",
    "UpdateModelMixin",
    "ViewSet",
]
