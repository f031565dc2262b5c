"""Each public module's ``__all__``, pinned: a name added or removed is a decision."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "restflow"

PUBLIC: dict[str, list[str]] = {
    "restflow.asgi": [
        "ASGIHandler",
        "ExecutorPool",
        "eager_uvloop",
        "get_asgi_application",
    ],
    "restflow.authentication": [
        "BasicAuthentication",
        "SessionAuthentication",
        "TokenAuthentication",
    ],
    "restflow.checks": [
        "check_async_views",
        "check_serializer_types",
        "serializer_type_messages",
        "sync_hook_messages",
    ],
    "restflow.conf": [
        "RestflowSettings",
        "check_settings",
        "settings",
    ],
    "restflow.contrib.spectacular": [
        "AutoSchema",
        "BasicAuthenticationScheme",
        "SessionAuthenticationScheme",
    ],
    "restflow.decorators": [
        "ActionMapping",
        "ActionMethod",
        "AsyncViewFunction",
        "BoundActionMethod",
        "HttpMethod",
        "SyncViewFunction",
        "action",
        "api_view",
        "authentication_classes",
        "parser_classes",
        "permission_classes",
        "renderer_classes",
        "schema",
        "throttle_classes",
    ],
    "restflow.filters": [
        "OrderingFilter",
        "SearchFilter",
    ],
    "restflow.generics": [
        "AsyncCreateAPIView",
        "AsyncDestroyAPIView",
        "AsyncGenericAPIView",
        "AsyncListAPIView",
        "AsyncListCreateAPIView",
        "AsyncRetrieveAPIView",
        "AsyncRetrieveDestroyAPIView",
        "AsyncRetrieveUpdateAPIView",
        "AsyncRetrieveUpdateDestroyAPIView",
        "AsyncUpdateAPIView",
        "GenericAPIView",
        "get_object_or_404",
    ],
    "restflow.mixins": [
        "AsyncCreateModelMixin",
        "AsyncDestroyModelMixin",
        "AsyncListModelMixin",
        "AsyncRetrieveModelMixin",
        "AsyncUpdateModelMixin",
        "CreateModelMixin",
        "DestroyModelMixin",
        "ListModelMixin",
        "RetrieveModelMixin",
        "UpdateModelMixin",
    ],
    "restflow.pagination": [
        "CursorPagination",
        "LimitOffsetPagination",
        "PageNumberPagination",
    ],
    "restflow.parsers": [
        "JSONParser",
        "PayloadTooLarge",
        "translate_body_error",
    ],
    "restflow.permissions": [
        "AND",
        "NOT",
        "OR",
        "SAFE_METHODS",
        "AllowAny",
        "DjangoModelPermissions",
        "DjangoModelPermissionsOrAnonReadOnly",
        "DjangoObjectPermissions",
        "IsAdminUser",
        "IsAuthenticated",
        "IsAuthenticatedOrReadOnly",
        "OperandHolder",
        "SingleOperandHolder",
    ],
    "restflow.protocols": [
        "AsyncAuthenticator",
        "AsyncBaseAuthentication",
        "AsyncBaseFilterBackend",
        "AsyncBasePagination",
        "AsyncBasePermission",
        "AsyncBaseThrottle",
        "AsyncFilterBackend",
        "AsyncPaginator",
        "AsyncPermission",
        "AsyncPostFetch",
        "AsyncThrottle",
        "UserAuthTuple",
    ],
    "restflow.serializers": [
        "ModelSerializer",
        "Serializer",
    ],
    "restflow.test": [
        "AsyncAPIClient",
        "AsyncAPIRequestFactory",
        "AsyncAPITestCase",
        "force_authenticate",
        "hop_count",
    ],
    "restflow.throttling": [
        "AnonRateThrottle",
        "ScopedRateThrottle",
        "SimpleRateThrottle",
        "UserRateThrottle",
    ],
    "restflow.views": [
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
    ],
    "restflow.viewsets": [
        "UNSET",
        "ActionConfig",
        "ActionConfigs",
        "ActionName",
        "AsyncGenericViewSet",
        "AsyncModelViewSet",
        "AsyncReadOnlyModelViewSet",
        "AsyncViewSet",
        "GenericViewSet",
        "ModelViewSet",
        "ReadOnlyModelViewSet",
        "ViewSet",
    ],
}


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_all_is_pinned_and_sorted(module: str) -> None:
    names = list(importlib.import_module(module).__all__)
    assert names == PUBLIC[module]
    assert names == sorted(names, key=_isort_key)


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_exported_name_exists(module: str) -> None:
    imported = importlib.import_module(module)
    for name in imported.__all__:
        assert hasattr(imported, name), name


def _private_imports() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "restflow"
            ):
                continue
            for alias in node.names:
                is_module = node.module == "restflow" or node.module == "restflow.contrib"
                if alias.name.startswith("_") and not is_module:
                    found.append(f"{path.relative_to(SRC)}: {node.module}.{alias.name}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    assert _private_imports() == []
