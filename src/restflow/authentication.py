"""Authentication: DRF's session, basic and token schemes, usable on async views.

Each class subclasses DRF's class of the same name: the sync ``authenticate``
is DRF's own (used on sync views and inside worker-thread hops), and
``aauthenticate`` is its async face. Both parse the ``Authorization`` header
with DRF's code, raise DRF's exceptions with DRF's messages, and answer 401 with
DRF's ``WWW-Authenticate`` header (``Basic realm="api"``, ``Token``) or 403 for
session authentication, exactly as DRF.

On async views a request that does not use a class's scheme (no
``Authorization: Basic``/``Token`` header) is turned away on the event loop,
without a worker-thread hop. Checking credentials costs one hop: the token
lookup is a sync ORM query (Django's ``aget`` is the same query behind
``sync_to_async``), and a password check runs the password hasher, which is
CPU-heavy by design and must not run on the loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.contrib.auth import authenticate, get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication as drf_authentication
from rest_framework import exceptions
from rest_framework.request import Request
from typing_extensions import override

from restflow import _hooks as hooks
from restflow._bridge import Flow, Step, drive_async, drive_sync, override_step
from restflow._hooks import Hook
from restflow._introspect import user_sync_code
from restflow._request import parsing_step
from restflow.protocols import AsyncBaseAuthentication, UserAuthTuple

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

__all__ = [
    "BasicAuthentication",
    "SessionAuthentication",
    "TokenAuthentication",
]


class _CredentialsRecorder:
    """Stands in for an authenticator while DRF's ``authenticate`` parses the header.

    DRF's ``authenticate`` parses (and rejects malformed headers with DRF's
    messages), then hands the credentials to ``authenticate_credentials``; this
    stand-in records them instead of checking them, so the check can be awaited.
    Every other attribute (``keyword``, ``www_authenticate_realm``, ...) is the
    real authenticator's.
    """

    def __init__(self, authenticator: object) -> None:
        self._authenticator = authenticator
        self.credentials: tuple[Any, ...] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._authenticator, name)

    def authenticate_credentials(self, *credentials: object) -> tuple[None, None]:
        self.credentials = credentials
        return (None, None)


def _credentials(
    authenticator: object, parse: Callable[[Any, Request], object], request: Request
) -> tuple[Any, ...] | None:
    """The credentials DRF's ``parse`` finds in ``request``, or None if it has none."""
    recorder = _CredentialsRecorder(authenticator)
    parse(recorder, request)
    return recorder.credentials


class _HeaderCredentials(AsyncBaseAuthentication):
    """What Basic and Token authentication share: DRF parses, restflow checks.

    DRF's own ``authenticate`` (``_drf_authenticate``) parses the header, with
    DRF's messages for malformed ones; the credential check it finds is then a
    flow (``_credentials_flow``), or a user's override of
    ``authenticate_credentials`` / ``aauthenticate_credentials``.
    """

    #: The authentication as a flow, so it shares the request phase's worker-thread hop.
    flow_methods: ClassVar[Mapping[Hook, str]] = {hooks.AUTHENTICATE: "authenticate_flow"}
    _drf_authenticate: ClassVar[Callable[[Any, Request], object]]

    @override
    async def aauthenticate(self, request: Request) -> UserAuthTuple | None:
        """Async twin of DRF's ``authenticate``: None when the request has no such header."""
        return await drive_async(self.authenticate_flow(request))

    def authenticate_flow(self, request: Request) -> Flow[UserAuthTuple | None]:
        """The authentication as a flow: it shares the request phase's worker-thread hop."""
        credentials = _credentials(self, type(self)._drf_authenticate, request)
        if credentials is None:
            return None
        step = override_step(self, hooks.AUTHENTICATE_CREDENTIALS, *credentials)
        if step is None:
            return (yield from self._credentials_flow(*credentials))
        checked: UserAuthTuple = yield step
        return checked

    if TYPE_CHECKING:
        # Each subclass checks its own credentials (username and password, a key).
        _credentials_flow: Callable[..., Flow[UserAuthTuple]]


class BasicAuthentication(drf_authentication.BasicAuthentication, _HeaderCredentials):
    """DRF's HTTP Basic authentication against Django's authentication backends.

    Failures are 401 with ``WWW-Authenticate: Basic realm="<www_authenticate_realm>"``.
    Override :meth:`authenticate_credentials` (sync; runs in a worker thread on
    async views) or :meth:`aauthenticate_credentials` to change how a username
    and password are checked.
    """

    _drf_authenticate = drf_authentication.BasicAuthentication.authenticate

    @override
    def authenticate_credentials(
        self, userid: str, password: str, request: Request | None = None
    ) -> tuple[Any, None]:
        """Return ``(user, None)`` for valid credentials of an active user.

        Raises ``AuthenticationFailed`` with DRF's messages otherwise.
        """
        return drive_sync(self._credentials_flow(userid, password, request))

    async def aauthenticate_credentials(
        self, userid: str, password: str, request: Request | None = None
    ) -> tuple[Any, None]:
        """Async twin of :meth:`authenticate_credentials` (the check takes one hop)."""
        return await drive_async(self._credentials_flow(userid, password, request))

    def _credentials_flow(
        self, userid: str, password: str, request: Request | None = None
    ) -> Flow[tuple[Any, None]]:
        # Every user model defines USERNAME_FIELD; the stubs declare it on AbstractUser only.
        user_model = cast("type[AbstractUser]", get_user_model())
        credentials = {user_model.USERNAME_FIELD: userid, "password": password}
        # Django's ``aauthenticate`` would run the password hasher on the loop.
        user = yield Step.blocking(authenticate, request=request, **credentials)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid username/password."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, None)


class TokenAuthentication(drf_authentication.TokenAuthentication, _HeaderCredentials):
    """DRF's token authentication (``Authorization: Token <key>``, DRF's ``authtoken``).

    Failures are 401 with ``WWW-Authenticate: <keyword>``. Set ``keyword`` or
    ``model`` as in DRF; override :meth:`authenticate_credentials` (sync; runs in
    a worker thread on async views) or :meth:`aauthenticate_credentials` to change
    how a key is checked.
    """

    _drf_authenticate = drf_authentication.TokenAuthentication.authenticate

    @override
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """Return ``(user, token)`` for an existing token of an active user.

        Raises ``AuthenticationFailed`` with DRF's messages otherwise.
        """
        return drive_sync(self._credentials_flow(key))

    async def aauthenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """Async twin of :meth:`authenticate_credentials` (the lookup takes one hop)."""
        return await drive_async(self._credentials_flow(key))

    def _credentials_flow(self, key: str) -> Flow[tuple[Any, Any]]:
        model: Any = self.get_model()  # DRF's Token, or any model with ``key`` and ``user``
        try:
            token = yield Step.blocking(model.objects.select_related("user").get, key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


def _session_user(request: HttpRequest) -> Any:
    # Evaluated here (in a worker thread): the middleware's user is lazy.
    user = getattr(request, "user", None)
    return user if user else None


class SessionAuthentication(drf_authentication.SessionAuthentication, AsyncBaseAuthentication):
    """DRF's session authentication, with DRF's CSRF check for authenticated users.

    An unauthenticated session is not an authentication failure (the class
    returns None). Failures are 403 (no ``WWW-Authenticate`` header), with
    "CSRF Failed: <reason>" for a failed CSRF check on an unsafe method.
    """

    #: The authentication as a flow, so it shares the request phase's worker-thread hop.
    flow_methods: ClassVar[Mapping[Hook, str]] = {hooks.AUTHENTICATE: "authenticate_flow"}

    @override
    async def aauthenticate(self, request: Request) -> UserAuthTuple | None:
        """Async twin of DRF's ``authenticate``, reading the user with ``auser()``.

        Django's ``AuthenticationMiddleware`` provides ``request.auser``; without
        it the sync ``request.user`` is read in a worker thread.
        """
        return await drive_async(self.authenticate_flow(request))

    def authenticate_flow(self, request: Request) -> Flow[UserAuthTuple | None]:
        """The authentication as a flow: ``auser()`` on the loop, ``request.user`` in a hop."""
        django_request = request._request
        read_user = functools.partial(_session_user, django_request)
        auser = getattr(django_request, "auser", None)
        user = yield Step.blocking(read_user) if auser is None else Step.either(read_user, auser)
        if not user or not user.is_active:
            return None
        if user_sync_code(type(self), hooks.ENFORCE_CSRF):
            # A user's override may do I/O: it runs in a worker thread.
            yield Step.blocking(self.enforce_csrf, request)
        elif request.method == "POST":
            # Django's CSRF check reads the form token from the parsed body (DRF
            # keeps that parse for request.data): off the loop when it may block.
            yield parsing_step(request, self.enforce_csrf, request)
        else:
            self.enforce_csrf(request)
        return (user, None)
