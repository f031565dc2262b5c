"""DRF's permission classes, async-capable, and ``&``/``|``/``~`` that await async operands.

Each class subclasses the DRF class of the same name (so DRF-typed settings and
``permission_classes`` accept it) and :class:`~restflow.protocols.AsyncBasePermission`.
The request-only ones (``AllowAny``, ``IsAuthenticated``, ``IsAdminUser``,
``IsAuthenticatedOrReadOnly``) read ``request.user``/``request.method`` and stay
on the event loop. The ``DjangoModelPermissions`` family asks
``user.has_perms`` (a database query the first time) and may call a user's
``get_queryset``: that part runs in the request's one worker-thread hop, with
the same auth backends DRF consults.

Composing restflow classes with ``&``, ``|`` and ``~`` builds restflow's
:class:`AND`, :class:`OR` and :class:`NOT` (subclasses of DRF's). Their sync
``has_permission`` awaits async operands (adrf-style ``async def
has_permission`` included) instead of reading a coroutine as True, their
``ahas_permission`` works on the loop, and after a denial their ``message`` and
``code`` are the failing operand's. Compositions that start with a DRF
composition (``(drf_a & drf_b) | restflow_c``) stay DRF's; restflow's views walk
those too, so they are safe on views either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.models import AnonymousUser, PermissionsMixin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework import permissions as drf_permissions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from restflow import _hooks as hooks
from restflow._bridge import Flow, Step, drive_async, drive_sync, override_step
from restflow._checks import FlowPermission, verdict_flow
from restflow._introspect import per_class
from restflow.protocols import AsyncBasePermission

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = [
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
]

_Operand = Any  # a permission class or holder: DRF types these loosely


# -- composition ---------------------------------------------------------------


class _Operations(drf_permissions.OperationHolderMixin):
    """``&``, ``|``, ``~`` that build restflow's operators."""

    def __and__(self, other: _Operand) -> OperandHolder:
        return OperandHolder(AND, self, other)

    def __or__(self, other: _Operand) -> OperandHolder:
        return OperandHolder(OR, self, other)

    def __rand__(self, other: _Operand) -> OperandHolder:
        return OperandHolder(AND, other, self)

    def __ror__(self, other: _Operand) -> OperandHolder:
        return OperandHolder(OR, other, self)

    def __invert__(self) -> SingleOperandHolder:
        return SingleOperandHolder(NOT, self)


class OperandHolder(_Operations, drf_permissions.OperandHolder):
    """``A & B`` / ``A | B`` before instantiation; equal and hashed as DRF's."""

    def __init__(
        self, operator_class: type[AND | OR], op1_class: _Operand, op2_class: _Operand
    ) -> None:
        # drf-stubs type the operator as an instance; DRF stores and calls the class.
        super().__init__(cast(Any, operator_class), op1_class, op2_class)


class SingleOperandHolder(_Operations, drf_permissions.SingleOperandHolder):
    """``~A`` before instantiation."""

    def __init__(self, operator_class: type[NOT], op1_class: _Operand) -> None:
        super().__init__(cast(Any, operator_class), op1_class)


class _PermissionMeta(_Operations, drf_permissions.BasePermissionMetaclass):  # type: ignore[misc]  # `|` composes permissions here, not types (as DRF's metaclass)
    """Metaclass of restflow's permission classes: composition builds restflow operators.

    It derives from DRF's metaclass, so ``DrfPermission & RestflowPermission``
    reaches the reflected ``__rand__`` here first (Python's rule for a right
    operand of a subclass type) and is composed by restflow too.
    """


class _Composite:
    """What restflow's operators share: both faces run one verdict flow.

    ``message`` and ``code`` are the failing operand's after a denial, so DRF's
    own ``check_permissions`` (which reads them off the composed instance)
    reports the right reason too.
    """

    _culprit: Any = None

    def _decide(self, request: Request, view: APIView, obj: Any, *, on_object: bool) -> bool:
        allowed, self._culprit = drive_sync(
            verdict_flow(self, request, view, obj, on_object=on_object)
        )
        return allowed

    async def _adecide(self, request: Request, view: APIView, obj: Any, *, on_object: bool) -> bool:
        allowed, self._culprit = await drive_async(
            verdict_flow(self, request, view, obj, on_object=on_object)
        )
        return allowed

    def has_permission(self, request: Request, view: APIView) -> bool:
        """True if the composition grants the request; async operands are awaited."""
        return self._decide(request, view, None, on_object=False)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        """True if the composition grants ``obj`` (DRF's rules for ``|``)."""
        return self._decide(request, view, obj, on_object=True)

    async def ahas_permission(self, request: Request, view: APIView) -> bool:
        """Async twin of :meth:`has_permission`."""
        return await self._adecide(request, view, None, on_object=False)

    async def ahas_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        """Async twin of :meth:`has_object_permission`."""
        return await self._adecide(request, view, obj, on_object=True)

    def _culprit_attr(self, name: str) -> Any:
        culprit = self._culprit
        return None if culprit is None or culprit is self else getattr(culprit, name, None)

    @property
    def message(self) -> Any:
        """The failing operand's ``message`` after a denial (None: DRF's default text)."""
        return self._culprit_attr("message")

    @property
    def code(self) -> Any:
        """The failing operand's ``code`` after a denial."""
        return self._culprit_attr("code")


class AND(_Composite, drf_permissions.AND):
    """``A & B``: both must grant; ``B`` is not asked when ``A`` denies."""


class OR(_Composite, drf_permissions.OR):
    """``A | B``: either may grant; ``B`` is not asked when ``A`` grants."""


class NOT(_Composite, drf_permissions.NOT):
    """``~A``: grants when ``A`` denies (a denial carries DRF's default message)."""


# -- request-only permissions ------------------------------------------------


class _ReadsRequest(drf_permissions.BasePermission, metaclass=_PermissionMeta):
    """Permissions that only read ``request.user``/``request.method``: no I/O, no hop.

    The async faces call the sync ones (DRF's code), which never block.
    """

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        """Grant every object (DRF's default); override for object-level rules."""
        return True

    async def ahas_permission(self, request: Request, view: APIView) -> bool:
        """Async twin of ``has_permission``: the same check, on the loop."""
        return self.has_permission(request, view)

    async def ahas_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        """Async twin of ``has_object_permission``: the same check, on the loop."""
        return self.has_object_permission(request, view, obj)


class AllowAny(_ReadsRequest, drf_permissions.AllowAny, AsyncBasePermission):
    """Allow any access (as DRF's ``AllowAny``)."""


class IsAuthenticated(_ReadsRequest, drf_permissions.IsAuthenticated, AsyncBasePermission):
    """Allow authenticated users only (as DRF's ``IsAuthenticated``)."""


class IsAdminUser(_ReadsRequest, drf_permissions.IsAdminUser, AsyncBasePermission):
    """Allow staff users only (as DRF's ``IsAdminUser``)."""


class IsAuthenticatedOrReadOnly(
    _ReadsRequest, drf_permissions.IsAuthenticatedOrReadOnly, AsyncBasePermission
):
    """Allow authenticated users, and anyone for safe methods (as DRF's)."""


# -- model permissions ---------------------------------------------------------


@per_class
def _grants_empty_perm_list(user_cls: type) -> bool:
    # Django's own users answer ``has_perms([])`` with ``all([])``: True
    # without a query. A custom user model decides for itself (in the hop).
    return getattr(user_cls, "has_perms", None) in (
        PermissionsMixin.has_perms,
        AnonymousUser.has_perms,
    )


def _has_perms(user: Any, perms: list[str], *obj: Any) -> Flow[bool]:
    if not perms and _grants_empty_perm_list(type(user)):
        return True
    # The sync API on purpose: Django's async ``ahas_perms`` skips auth
    # backends without ``ahas_perm`` (django-guardian's, for one), which would
    # deny what DRF grants. One hop, shared with the phase, asks every backend.
    return bool((yield Step.blocking(user.has_perms, perms, *obj)))


class _FlowChecks(FlowPermission, AsyncBasePermission, metaclass=_PermissionMeta):
    """Both faces of both checks drive the one flow per check."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        """Sync face: runs :meth:`permission_flow` on this thread."""
        return drive_sync(self.permission_flow(request, view))

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        """Sync face: runs :meth:`object_permission_flow` on this thread."""
        return drive_sync(self.object_permission_flow(request, view, obj))

    async def ahas_permission(self, request: Request, view: APIView) -> bool:
        """Async face: the flow on the loop, its blocking part in one worker thread."""
        return await drive_async(self.permission_flow(request, view))

    async def ahas_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        """Async face of the object check (one worker-thread hop at most)."""
        return await drive_async(self.object_permission_flow(request, view, obj))

    def object_permission_flow(self, request: Request, view: APIView, obj: Any) -> Flow[bool]:
        """Grant every object (DRF's default)."""
        return True
        yield  # a generator: the flow has no steps


class DjangoModelPermissions(_FlowChecks, drf_permissions.DjangoModelPermissions):
    """Django's model permissions (``add``/``change``/``delete``) per HTTP method, as DRF's.

    ``perms_map``, ``authenticated_users_only`` and ``get_required_permissions``
    are DRF's; override them as you would there. The view's queryset comes from
    ``get_queryset`` (a user override runs in the worker thread) or ``queryset``.
    """

    def _queryset(self, view: APIView) -> QuerySet[Model, object]:
        # DRF's lookup, with its assertions raised as ImproperlyConfigured.
        get_queryset = getattr(view, "get_queryset", None)
        queryset = getattr(view, "queryset", None)
        if get_queryset is None and queryset is None:
            raise ImproperlyConfigured(
                f"Cannot apply {type(self).__name__} on a view that does not set "
                "`.queryset` or have a `.get_queryset()` method."
            )
        if get_queryset is not None:
            return _checked_queryset(view, get_queryset())
        return cast("QuerySet[Model, object]", queryset)

    def _queryset_flow(self, view: APIView) -> Flow[QuerySet[Model, object]]:
        override = (
            override_step(view, hooks.GET_QUERYSET) if hasattr(view, "get_queryset") else None
        )
        if override is None:
            return self._queryset(view)
        return _checked_queryset(view, (yield override))

    def permission_flow(self, request: Request, view: APIView) -> Flow[bool]:
        """DRF's ``has_permission``: authenticated (unless anonymous reads are allowed), and
        ``user.has_perms`` of the permissions ``perms_map`` lists for the method."""
        user: Any = request.user
        if not user or (not user.is_authenticated and self.authenticated_users_only):
            return False
        # DRF: DefaultRouter's root view is exempt.
        if getattr(view, "_ignore_model_permissions", False):
            return True
        queryset = yield from self._queryset_flow(view)
        perms = self.get_required_permissions(request.method or "", queryset.model)
        return (yield from _has_perms(user, perms))


class DjangoModelPermissionsOrAnonReadOnly(
    DjangoModelPermissions, drf_permissions.DjangoModelPermissionsOrAnonReadOnly
):
    """``DjangoModelPermissions`` that lets anonymous users read (as DRF's)."""


class DjangoObjectPermissions(DjangoModelPermissions, drf_permissions.DjangoObjectPermissions):
    """Object-level permissions through ``user.has_perms(perms, obj)``, as DRF's.

    Needs an object-permission auth backend (django-guardian or your own). A
    user who may not even read the object gets a 404, not a 403.
    """

    def object_permission_flow(self, request: Request, view: APIView, obj: Any) -> Flow[bool]:
        """DRF's ``has_object_permission``, including its 404-versus-403 rule."""
        queryset = yield from self._queryset_flow(view)
        model_cls = queryset.model
        user: Any = request.user
        method = request.method or ""
        perms = self.get_required_object_permissions(method, model_cls)
        if (yield from _has_perms(user, perms, obj)):
            return True
        # No permission: a user who cannot read the object must not learn it exists.
        if method in SAFE_METHODS:
            raise Http404
        read_perms = self.get_required_object_permissions("GET", model_cls)
        if not (yield from _has_perms(user, read_perms, obj)):
            raise Http404
        return False


def _checked_queryset(view: APIView, queryset: object) -> QuerySet[Model, object]:
    if queryset is None:
        raise ImproperlyConfigured(f"{type(view).__name__}.get_queryset() returned None")
    return cast("QuerySet[Model, object]", queryset)  # a user's get_queryset, untyped here
