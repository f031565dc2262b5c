"""Async test tools: DRF's ``APIClient`` conveniences on Django's ASGI test client.

``AsyncAPIClient`` drives views through Django's ASGI handler (so async views
run on the event loop exactly as under uvicorn) and adds what DRF's
``APIClient`` offers: ``force_authenticate``, ``credentials``, ``format=`` with
JSON (``TEST_REQUEST_DEFAULT_FORMAT``) by default, and ``logout``::

    client = AsyncAPIClient()
    client.force_authenticate(user=alice)
    response = await client.post("/products/", {"name": "Pen", "price": "1.50"})
    assert response.status_code == 201

``AsyncAPIRequestFactory`` builds ``ASGIRequest`` objects the same way, for
calling a view directly (``await view(request)``); ``force_authenticate(request,
user=...)`` marks such a request as DRF's does.

``AsyncAPITestCase`` is DRF's ``APITestCase`` whose ``self.async_client`` is an
``AsyncAPIClient``::

    class ProductTests(AsyncAPITestCase):
        async def test_create(self) -> None:
            self.async_client.force_authenticate(user=self.user)
            response = await self.async_client.post("/products/", {"name": "Pen"})

Request bodies are encoded by DRF's own code (``APIRequestFactory``'s
encoder and the ``TEST_REQUEST_RENDERER_CLASSES`` renderers), so a body looks
exactly as it does with DRF's test client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from django.http.cookie import SimpleCookie
from django.test.client import AsyncClient, AsyncClientHandler, AsyncRequestFactory
from rest_framework import test as drf_test
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from restflow._bridge import hop_count

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.http.response import HttpResponseBase
    from django.urls import ResolverMatch
    from django_stubs_ext import StrOrPromise
    from rest_framework.response import Response

    class AsyncAPIResponse(Response):
        """What the client hands back (typing only): the view's response, annotated."""

        client: AsyncAPIClient
        asgi_request: ASGIRequest
        request: dict[str, Any]
        resolver_match: ResolverMatch

        def json(self) -> Any: ...


__all__ = [
    "AsyncAPIClient",
    "AsyncAPIRequestFactory",
    "AsyncAPITestCase",
    "force_authenticate",
    "hop_count",
]

_OCTET_STREAM = "application/octet-stream"


class _BodyEncoder:
    """Encodes request bodies with DRF's ``APIRequestFactory`` code.

    The format settings are read when the client is created, so
    ``override_settings(REST_FRAMEWORK=...)`` around a test applies to the
    clients it creates.
    """

    def __init__(self, json_encoder: Any) -> None:
        self._drf = APIRequestFactory(json_encoder=json_encoder)
        self._drf.default_format = api_settings.TEST_REQUEST_DEFAULT_FORMAT
        self._drf.renderer_classes = {
            renderer.format: renderer for renderer in api_settings.TEST_REQUEST_RENDERER_CLASSES
        }

    def encode(
        self, data: object, format: str | None, content_type: str | None
    ) -> tuple[bytes, str]:
        """``(body, content type)``; DRF's rules: ``format`` renders, ``content_type`` is raw."""
        body, chosen = self._drf._encode_data(data, format, content_type)  # type: ignore[attr-defined]  # DRF's encoder; drf-stubs omit private methods
        return body, chosen or _OCTET_STREAM


def _header_name(name: str) -> str:
    # Accept DRF's WSGI spelling (``HTTP_AUTHORIZATION``) as well as ``Authorization``.
    if name.upper().startswith("HTTP_"):
        name = name[5:]
    return name.replace("_", "-").title()


class AsyncAPIRequestFactory(AsyncRequestFactory):
    """Django's ``AsyncRequestFactory`` with DRF's body encoding and CSRF switch.

    ``post``/``put``/``patch``/``delete``/``options`` take ``format=`` (a key of
    ``TEST_REQUEST_RENDERER_CLASSES``; default ``TEST_REQUEST_DEFAULT_FORMAT``) or
    an explicit ``content_type=`` for a raw body, as DRF's ``APIRequestFactory``.
    Requests skip CSRF checks unless ``enforce_csrf_checks=True``.
    """

    def __init__(self, enforce_csrf_checks: bool = False, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.enforce_csrf_checks = enforce_csrf_checks
        self._encoder = _BodyEncoder(self.json_encoder)

    def request(self, **request: object) -> ASGIRequest:
        """Build the ``ASGIRequest``, marked for DRF's CSRF check as configured."""
        built = super().request(**request)
        built._dont_enforce_csrf_checks = not self.enforce_csrf_checks  # type: ignore[attr-defined]  # Django's test-client flag, read by CsrfViewMiddleware
        return built

    def _with_body(
        self,
        method: str,
        path: StrOrPromise,
        data: object,
        format: str | None,
        content_type: str | None,
        extra: dict[str, Any],
    ) -> ASGIRequest:
        body, chosen = self._encoder.encode(data, format, content_type)
        return self.generic(method, path, body, chosen, **extra)

    def post(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> ASGIRequest:
        """A POST request whose body is ``data`` rendered as ``format``."""
        return self._with_body("POST", path, data, format, content_type, extra)

    def put(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> ASGIRequest:
        """A PUT request whose body is ``data`` rendered as ``format``."""
        return self._with_body("PUT", path, data, format, content_type, extra)

    def patch(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> ASGIRequest:
        """A PATCH request whose body is ``data`` rendered as ``format``."""
        return self._with_body("PATCH", path, data, format, content_type, extra)

    def delete(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> ASGIRequest:
        """A DELETE request, with ``data`` rendered as ``format`` when given."""
        return self._with_body("DELETE", path, data, format, content_type, extra)

    def options(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> ASGIRequest:
        """An OPTIONS request, with ``data`` rendered as ``format`` when given."""
        return self._with_body("OPTIONS", path, data, format, content_type, extra)


class _ForceAuthHandler(AsyncClientHandler):
    """Django's ASGI test handler that marks each request as DRF's ``force_authenticate`` does."""

    def __init__(self, enforce_csrf_checks: bool) -> None:
        super().__init__(enforce_csrf_checks)
        self.force_user: AbstractBaseUser | AnonymousUser | None = None
        self.force_token: object = None

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        force_authenticate(request, self.force_user, self.force_token)
        return await super().get_response_async(request)


class AsyncAPIClient(AsyncClient):
    """Django's ``AsyncClient`` with DRF's ``APIClient`` conveniences. Await every request.

    - ``force_authenticate(user=..., token=...)``: every request is authenticated
      as ``user`` (DRF's ``ForcedAuthentication``), whatever the view's
      authentication classes; ``force_authenticate()`` undoes it.
    - ``credentials(Authorization="Token ...")``: headers sent with every request
      (DRF's spelling ``HTTP_AUTHORIZATION=`` works too); ``credentials()`` clears them.
    - ``format=`` / JSON by default on ``post``, ``put``, ``patch``, ``delete``, ``options``.
    - ``logout()`` forgets credentials, forced authentication and cookies;
      ``await alogout()`` also ends the server-side session.

    Works from pytest-django async tests and from ``async def`` methods of
    ``django.test.TestCase`` (set ``async_client_class = AsyncAPIClient`` on the
    test case and use ``self.async_client``).
    """

    def __init__(
        self,
        enforce_csrf_checks: bool = False,
        raise_request_exception: bool = True,
        **defaults: Any,
    ) -> None:
        super().__init__(enforce_csrf_checks, raise_request_exception, **defaults)
        self._forcing = _ForceAuthHandler(enforce_csrf_checks)
        self.handler: AsyncClientHandler = self._forcing
        self._encoder = _BodyEncoder(self.json_encoder)
        self._credentials: dict[str, str] = {}

    # -- DRF's conveniences -----------------------------------------------------

    def credentials(self, **headers: str) -> None:
        """Send ``headers`` with every following request (replaces earlier credentials)."""
        self._credentials = {_header_name(name): value for name, value in headers.items()}

    def force_authenticate(
        self, user: AbstractBaseUser | AnonymousUser | None = None, token: object = None
    ) -> None:
        """Authenticate every following request as ``user`` (and ``token``).

        With neither, forced authentication ends and the client logs out (:meth:`logout`).
        """
        self._forcing.force_user = user
        self._forcing.force_token = token
        if user is None and token is None:
            self.logout()

    def logout(self) -> None:
        """Forget credentials, forced authentication and cookies (no database access).

        Safe to call from async code. To also delete the server-side session,
        ``await`` :meth:`alogout` instead.
        """
        self._credentials = {}
        self._forcing.force_user = None
        self._forcing.force_token = None
        self.cookies: SimpleCookie = SimpleCookie()

    async def alogout(self) -> None:
        """:meth:`logout`, and end the server-side session as Django's ``alogout`` does."""
        self._credentials = {}
        self._forcing.force_user = None
        self._forcing.force_token = None
        await super().alogout()

    # -- requests -----------------------------------------------------------------

    def generic(
        self,
        method: str,
        path: StrOrPromise,
        data: object = "",
        content_type: str | None = _OCTET_STREAM,
        secure: bool = False,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> Any:
        """Django's ``generic``, with the :meth:`credentials` headers added."""
        merged = {**self._credentials, **(headers or {})}
        return super().generic(
            method, path, data, content_type, secure, headers=merged or None, **extra
        )

    async def _with_body(
        self,
        method: str,
        path: StrOrPromise,
        data: object,
        format: str | None,
        content_type: str | None,
        extra: dict[str, Any],
    ) -> AsyncAPIResponse:
        body, chosen = self._encoder.encode(data, format, content_type)
        self.extra: dict[str, Any] | None = extra
        response: AsyncAPIResponse = await self.generic(method, path, body, chosen, **extra)
        return response

    async def get(  # type: ignore[override]  # typed response
        self, path: StrOrPromise, data: Any = None, **extra: Any
    ) -> AsyncAPIResponse:
        """GET ``path``; ``data`` becomes the query string."""
        return cast("AsyncAPIResponse", await super().get(path, data, **extra))

    async def post(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> AsyncAPIResponse:
        """POST ``data`` rendered as ``format`` (default ``TEST_REQUEST_DEFAULT_FORMAT``)."""
        return await self._with_body("POST", path, data, format, content_type, extra)

    async def put(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> AsyncAPIResponse:
        """PUT ``data`` rendered as ``format`` (default ``TEST_REQUEST_DEFAULT_FORMAT``)."""
        return await self._with_body("PUT", path, data, format, content_type, extra)

    async def patch(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> AsyncAPIResponse:
        """PATCH ``data`` rendered as ``format`` (default ``TEST_REQUEST_DEFAULT_FORMAT``)."""
        return await self._with_body("PATCH", path, data, format, content_type, extra)

    async def delete(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> AsyncAPIResponse:
        """DELETE ``path``, with ``data`` rendered as ``format`` when given."""
        return await self._with_body("DELETE", path, data, format, content_type, extra)

    async def options(  # type: ignore[override]  # DRF's signature: format= and content_type=
        self,
        path: StrOrPromise,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: object,
    ) -> AsyncAPIResponse:
        """OPTIONS ``path``, with ``data`` rendered as ``format`` when given."""
        return await self._with_body("OPTIONS", path, data, format, content_type, extra)


def force_authenticate(
    request: HttpRequest,
    user: AbstractBaseUser | AnonymousUser | None = None,
    token: Any = None,  # DRF's stubs say Token; any credential object works,
) -> None:
    """DRF's ``force_authenticate``: the view sees ``request`` as made by ``user`` (and ``token``).

    For requests built with :class:`AsyncAPIRequestFactory` (or DRF's factory) and
    passed to a view directly; the view's authentication classes are not consulted.
    ``token`` is whatever ``request.auth`` should be (a DRF ``Token``, a JWT, ...).
    """
    drf_test.force_authenticate(request, user, token)


class AsyncAPITestCase(drf_test.APITestCase):
    """DRF's ``APITestCase`` whose ``self.async_client`` is an :class:`AsyncAPIClient`.

    ``self.client`` stays DRF's ``APIClient``. Write ``async def test_...`` methods
    and ``await self.async_client.get(...)``; each test runs in a transaction
    rolled back at its end, as with Django's ``TestCase``.
    """

    async_client_class: type[AsyncClient] = AsyncAPIClient
    # Django's TestCase builds it from async_client_class before each test.
    async_client: AsyncAPIClient  # pyright: ignore[reportIncompatibleVariableOverride]  # narrower, set by Django
