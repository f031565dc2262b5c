"""DRF's request checks, each written once as a flow.

Authentication, permissions (including DRF's ``&``/``|``/``~`` composition),
object permissions and throttles. The sync views drive these with
``drive_sync``; the async views with ``drive_async``, which keeps async hooks
on the loop and runs everything from the first sync hook on in a single
worker-thread hop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from rest_framework import exceptions
from rest_framework import permissions as drf_permissions
from rest_framework.request import Request, wrap_attributeerrors

from restflow import _hooks as hooks
from restflow._bridge import Flow, attribute_step, hook_flow, sync_code_step, view_step
from restflow._hooks import Hook

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = [
    "FlowPermission",
    "authentication_flow",
    "object_permissions_flow",
    "permissions_flow",
    "throttles_flow",
    "verdict_flow",
]


def authentication_flow(request: Request) -> Flow[None]:
    """Authenticate ``request`` as DRF's ``Request._authenticate`` does."""
    drf_request: Any = request  # DRF's private authentication state
    with wrap_attributeerrors():
        for authenticator in request.authenticators or ():
            try:
                user_auth = yield from hook_flow(authenticator, hooks.AUTHENTICATE, request)
            except exceptions.APIException:
                drf_request._not_authenticated()
                raise
            if user_auth is not None:
                drf_request._authenticator = authenticator
                request.user, request.auth = user_auth
                return
        drf_request._not_authenticated()


class FlowPermission:
    """A permission whose checks are flows: they join the phase's flow (and its hop).

    restflow's I/O-bound permissions derive from this so a permission check and
    the sync hooks around it share one worker-thread hop. A subclass that
    overrides ``has_permission``/``ahas_permission`` (or the object pair) is
    called through that override instead.
    """

    flow_methods: ClassVar[Mapping[Hook, str]] = {
        hooks.HAS_PERMISSION: "permission_flow",
        hooks.HAS_OBJECT_PERMISSION: "object_permission_flow",
    }

    def permission_flow(self, request: Request, view: APIView) -> Flow[bool]:
        """The ``has_permission`` check as a flow."""
        raise NotImplementedError

    def object_permission_flow(self, request: Request, view: APIView, obj: Any) -> Flow[bool]:
        """The ``has_object_permission`` check as a flow."""
        raise NotImplementedError


def verdict_flow(
    permission: Any, request: Request, view: APIView, obj: Any, *, on_object: bool
) -> Flow[tuple[bool, Any]]:
    """Evaluate one permission; return (allowed, the operand that decided a denial).

    DRF's composed permissions are walked here rather than called, so that an
    async operand is awaited instead of read as a (truthy) coroutine.
    """
    composite: Any = permission  # DRF's AND/OR/NOT hold untyped operands
    culprit: Any
    if isinstance(permission, drf_permissions.AND):
        allowed, culprit = yield from verdict_flow(
            composite.op1, request, view, obj, on_object=on_object
        )
        if not allowed:
            return False, culprit
        return (yield from verdict_flow(composite.op2, request, view, obj, on_object=on_object))
    if isinstance(permission, drf_permissions.OR):
        culprit = permission
        for operand in (composite.op1, composite.op2):
            allowed, culprit = yield from verdict_flow(operand, request, view, obj, on_object=False)
            if allowed and on_object:
                # DRF: an operand grants object access only if it grants both.
                allowed, culprit = yield from verdict_flow(
                    operand, request, view, obj, on_object=True
                )
            if allowed:
                return True, None
        return False, culprit
    if isinstance(permission, drf_permissions.NOT):
        allowed, _ = yield from verdict_flow(composite.op1, request, view, obj, on_object=on_object)
        return (not allowed), permission
    if on_object:
        allowed = yield from hook_flow(permission, hooks.HAS_OBJECT_PERMISSION, request, view, obj)
    else:
        allowed = yield from hook_flow(permission, hooks.HAS_PERMISSION, request, view)
    return bool(allowed), permission


def _deny_flow(view: APIView, request: Request, culprit: object) -> Flow[None]:
    # A permission's ``message`` may be a property that reads the database.
    message = yield attribute_step(culprit, hooks.PERMISSION_MESSAGE)
    code = getattr(culprit, "code", None)
    yield view_step(view, hooks.PERMISSION_DENIED, request, message=message, code=code)


def permissions_flow(view: APIView, request: Request) -> Flow[None]:
    """DRF's ``check_permissions``: the first denying permission raises."""
    permissions = yield view_step(view, hooks.GET_PERMISSIONS)
    for permission in permissions:
        allowed, culprit = yield from verdict_flow(permission, request, view, None, on_object=False)
        if not allowed:
            yield from _deny_flow(view, request, culprit)


def object_permissions_flow(view: APIView, request: Request, obj: object) -> Flow[None]:
    """DRF's ``check_object_permissions`` for ``obj``."""
    permissions = yield view_step(view, hooks.GET_PERMISSIONS)
    for permission in permissions:
        allowed, culprit = yield from verdict_flow(permission, request, view, obj, on_object=True)
        if not allowed:
            yield from _deny_flow(view, request, culprit)


def throttles_flow(view: APIView, request: Request) -> Flow[None]:
    """DRF's ``check_throttles``: every throttle is asked; the longest wait is reported."""
    durations: list[float | None] = []
    throttles = yield view_step(view, hooks.GET_THROTTLES)
    for throttle in throttles:
        allowed = yield from hook_flow(throttle, hooks.ALLOW_REQUEST, request, view)
        if not allowed:
            durations.append((yield sync_code_step(throttle, hooks.WAIT)))
    if durations:
        known = [duration for duration in durations if duration is not None]
        # DRF accepts None: "Request was throttled." without a wait.
        wait: Any = max(known, default=None)
        yield view_step(view, hooks.THROTTLED, request, wait)
