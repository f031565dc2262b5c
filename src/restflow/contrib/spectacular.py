"""OpenAPI 3 schemas of restflow views, with drf-spectacular.

Install the extra, add the app and make restflow's ``AutoSchema`` the schema class::

    pip install 'django-restflow[spectacular]'

    INSTALLED_APPS = [..., "drf_spectacular"]
    REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "restflow.contrib.spectacular.AutoSchema"}

then serve the schema with drf-spectacular's ``SpectacularAPIView`` or write it with
``manage.py spectacular --file schema.yaml``. DRF views are described exactly as
drf-spectacular's own ``AutoSchema`` describes them; for restflow's views (sync or async,
generic views and viewsets) it adds what drf-spectacular cannot see by itself:

- the request body is the view's request serializer (``get_request_serializer_class()``)
  and the response its response serializer (``get_response_serializer_class()``), built as
  a request builds them, so a ``request_serializer_class`` / ``response_serializer_class``
  split and per-action ``ActionConfig`` serializers are described as they are used;
- list endpoints are arrays, wrapped in the envelope of the paginator the view would use
  (its ``paginator``, so ``ActionConfig(pagination_class=...)`` counts, and ``None`` means
  a plain array); restflow's list mixins count as list views and its
  ``AsyncCreateAPIView`` / ``AsyncListCreateAPIView`` answer ``POST`` with 201, as DRF's
  ``ListModelMixin``, ``CreateAPIView`` and ``ListCreateAPIView`` do;
- restflow's ``SessionAuthentication`` / ``BasicAuthentication`` are DRF's security
  schemes (``cookieAuth`` / ``basicAuth``; its ``TokenAuthentication`` already matches), and
  its ``AllowAny`` / ``IsAuthenticatedOrReadOnly`` allow anonymous access as DRF's do;
- restflow's own docstrings never become descriptions (only yours do).

``@extend_schema`` and ``@extend_schema_view`` override all of it, as on DRF views.
A view that declares no serializer at all (an ``AsyncAPIView`` answering ad-hoc JSON) is
reported as drf-spectacular reports such DRF views: describe it with ``@extend_schema``.
One cost to know: ``@extend_schema_view`` on an action the class *inherits* (say ``list``
of ``AsyncModelViewSet``) makes drf-spectacular wrap it in a plain ``def`` that returns the
coroutine; it still works, but each call then takes a worker-thread hop. Override the action
in the class (``async def list``) and decorate it with ``@extend_schema`` to avoid that.

This module imports drf-spectacular; nothing else in restflow imports this module.
"""

from __future__ import annotations

import inspect
from typing import Any

from drf_spectacular.authentication import BasicScheme, SessionScheme
from drf_spectacular.drainage import error, has_override, set_override
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_serializer_context, get_doc, is_basic_type
from drf_spectacular.settings import spectacular_settings
from rest_framework import permissions as drf_permissions
from rest_framework.pagination import BasePagination
from rest_framework.serializers import BaseSerializer
from typing_extensions import override

from restflow import _hooks as hooks
from restflow import authentication, permissions
from restflow._apiview import RestflowView
from restflow._flows import build_serializer
from restflow._hooks import Hook
from restflow._introspect import is_restflow
from restflow.generics import AsyncCreateAPIView, AsyncListCreateAPIView
from restflow.mixins import AsyncListModelMixin, ListModelMixin

__all__ = ["AutoSchema", "BasicAuthenticationScheme", "SessionAuthenticationScheme"]

_LIST_MIXINS = (ListModelMixin, AsyncListModelMixin)
_CREATE_VIEWS = (AsyncCreateAPIView, AsyncListCreateAPIView)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's ``AutoSchema``, aware of restflow's serializer split and paginators.

    Set it as ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` (or as a view's ``schema``).
    Subclass it as you would drf-spectacular's; ``@extend_schema`` still wins.
    """

    @override
    def get_request_serializer(self) -> Any:
        """The request body: the view's ``get_request_serializer_class()``, for restflow views.

        Override, or decorate the handler with ``@extend_schema(request=...)``, to
        describe a body the view validates by other means.
        """
        view = self.view
        if isinstance(view, RestflowView):
            return _build_serializer(view, hooks.GET_REQUEST_SERIALIZER_CLASS)
        return super().get_request_serializer()

    @override
    def get_response_serializers(self) -> Any:
        """The response: the view's ``get_response_serializer_class()``, for restflow views.

        Override, or use ``@extend_schema(responses=...)``, for other status codes or
        bodies the serializer does not render.
        """
        view = self.view
        if isinstance(view, RestflowView):
            return _build_serializer(view, hooks.GET_RESPONSE_SERIALIZER_CLASS)
        return super().get_response_serializers()

    @override
    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's signature, which narrows DRF's ViewInspector's
        """The handler's docstring, else the view class's; never one of restflow's own."""
        view = self.view
        if not isinstance(view, RestflowView):
            return super().get_description()
        name = getattr(view, "action", None) or self.method.lower()
        handler = getattr(view, name, None)
        return _handler_doc(handler) or _class_doc(type(view))

    @override
    def get_auth(self) -> list[dict[str, list[Any]]]:
        """drf-spectacular's security requirements, reading restflow's ``AllowAny`` and
        ``IsAuthenticatedOrReadOnly`` as it reads DRF's (anonymous access is an option)."""
        auths: list[dict[str, list[Any]]] = super().get_auth()
        if {} in auths:
            return auths
        perms = [type(permission) for permission in self.view.get_permissions()]
        if permissions.AllowAny in perms or (
            permissions.IsAuthenticatedOrReadOnly in perms
            and self.method in drf_permissions.SAFE_METHODS
        ):
            auths.append({})
        return auths

    @override
    def _is_list_view(self, serializer: Any = None) -> bool:
        if super()._is_list_view(serializer):
            return True
        view = self.view
        if self.method != "GET" or hasattr(view, "action") or not isinstance(view, _LIST_MIXINS):
            return False
        # drf-spectacular knows DRF's ListModelMixin, not restflow's: answer as it does for
        # DRF's (a GET on it lists, unless the declared response is a basic type).
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict) and serializer:
            by_code = {str(code): value for code, value in serializer.items()}
            serializer = by_code[min(by_code)]
        return not is_basic_type(serializer)

    @override
    def _is_create_operation(self) -> bool:
        if super()._is_create_operation():
            return True
        return self.method == "POST" and isinstance(self.view, _CREATE_VIEWS)

    def _get_paginator(self) -> BasePagination | None:
        # drf-spectacular instantiates ``view.pagination_class``; a restflow view's
        # ``paginator`` also applies the action's ``ActionConfig(pagination_class=...)``.
        view = self.view
        if isinstance(view, RestflowView):
            return view.paginator
        paginator: BasePagination | None = super()._get_paginator()  # type: ignore[no-untyped-call]  # drf-spectacular leaves it unannotated
        return paginator

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> Any:
        # drf-spectacular stops looking for a docstring at DRF's classes; stop at restflow's
        # too, or ``restflow.serializers.ModelSerializer``'s would describe every component.
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)  # type: ignore[no-untyped-call]  # drf-spectacular leaves it unannotated
        if has_override(serializer, "description"):
            return schema
        klass = serializer if isinstance(serializer, type) else type(serializer)
        description = _class_doc(klass)
        if description:
            schema["description"] = description
        else:
            schema.pop("description", None)
        return schema


# drf-spectacular registers an extension when it is subclassed (an unannotated hook).
class SessionAuthenticationScheme(SessionScheme):  # type: ignore[no-untyped-call]  # see above
    """restflow's ``SessionAuthentication``: DRF's cookie scheme (``cookieAuth``)."""

    target_class: str = "restflow.authentication.SessionAuthentication"


class BasicAuthenticationScheme(BasicScheme):  # type: ignore[no-untyped-call]  # see above
    """restflow's ``BasicAuthentication``: DRF's HTTP basic scheme (``basicAuth``)."""

    target_class: str = "restflow.authentication.BasicAuthentication"


# The schemes are DRF's own: a project using DRF's class and restflow's side by side gets
# one security scheme, without drf-spectacular's warning about two classes sharing a name.
for _authenticator in (authentication.SessionAuthentication, authentication.BasicAuthentication):
    set_override(_authenticator, "suppress_collision_warning", True)


def _build_serializer(view: RestflowView[Any, Any, Any], getter: Hook) -> Any:
    # Built as a request builds it (a DRF-style ``get_serializer`` override included),
    # with drf-spectacular's mock request in the context.
    context = build_serializer_context(view)
    try:
        serializer: BaseSerializer[Any] = build_serializer(view, getter, context=context)
    except Exception as exc:
        # drf-spectacular's own leniency: report, describe the operation without it.
        error(
            f"could not build the serializer of {type(view).__name__} with {getter.name}(): "
            f"{exc} Set `serializer_class` (or `request_serializer_class` / "
            "`response_serializer_class`), or describe the operation with @extend_schema."
        )
        return None
    return serializer


def _class_doc(klass: type) -> str:
    """drf-spectacular's ``get_doc`` for a class, with restflow's classes as a barrier too."""
    if spectacular_settings.DISABLE_DOCSTRING_DESCRIPTIONS:
        return ""
    barriers = spectacular_settings.GET_LIB_DOC_EXCLUDES()
    for cls in klass.__mro__:
        if cls in barriers or is_restflow(cls):
            return ""
        if cls.__doc__:
            return _cleanup(cls.__doc__)
    return ""


def _handler_doc(handler: object) -> str:
    """The handler's own docstring: restflow's handlers (and docstrings) are not the API's."""
    func = getattr(handler, "__func__", handler)
    if handler is None or is_restflow(func) or not getattr(func, "__doc__", None):
        return ""
    return get_doc(handler)


def _cleanup(doc: str) -> str:
    return "\n".join(line.rstrip() for line in inspect.cleandoc(doc).rstrip().split("\n"))
