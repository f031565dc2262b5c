"""``ActionConfig``: per-action overrides of a viewset's attributes.

The view getters (``get_serializer_class``, ``get_permissions``, ``paginator``, ...)
read ``action_configs[self.action]`` through :func:`action_config`; a field left
unset falls through to the class attribute. Public from ``restflow.viewsets`` and
``restflow.views``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeAlias

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission, OperandHolder, SingleOperandHolder
from rest_framework.renderers import BaseRenderer
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import BaseThrottle
from typing_extensions import TypedDict, TypeVar

__all__ = [
    "UNSET",
    "ActionConfig",
    "ActionConfigs",
    "ActionName",
    "Unset",
    "action_config",
    "check_action_keys",
    "instances",
]

M = TypeVar("M", bound=Model, default=Any)
M_co = TypeVar("M_co", bound=Model, covariant=True, default=Any)
T = TypeVar("T")

#: The standard actions of a model viewset.
ActionName: TypeAlias = Literal["list", "create", "retrieve", "update", "partial_update", "destroy"]
_STANDARD_ACTIONS: frozenset[str] = frozenset(
    ("list", "create", "retrieve", "update", "partial_update", "destroy")
)

_PermissionClass: TypeAlias = type[BasePermission] | OperandHolder | SingleOperandHolder


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: Marks an ``ActionConfig`` field that falls through to the view's attribute.
UNSET = Unset.UNSET


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionConfig(Generic[M_co]):
    """Per-action overrides for a viewset. Unset fields fall through to the class.

    Generic over the model: its serializers and ``queryset`` must be of the
    viewset's model. ``pagination_class=None`` turns pagination off for that action.
    ``queryset`` is a queryset or a callable taking the view and returning one
    (it builds a lazy queryset: do no I/O in it).
    """

    serializer_class: type[BaseSerializer[M_co]] | Unset = UNSET
    request_serializer_class: type[BaseSerializer[M_co]] | Unset = UNSET
    response_serializer_class: type[BaseSerializer[M_co]] | Unset = UNSET
    permission_classes: Sequence[_PermissionClass] | Unset = UNSET
    throttle_classes: Sequence[type[BaseThrottle]] | Unset = UNSET
    parser_classes: Sequence[type[BaseParser]] | Unset = UNSET
    renderer_classes: Sequence[type[BaseRenderer]] | Unset = UNSET
    pagination_class: type[BasePagination] | Unset | None = UNSET
    queryset: QuerySet[M_co] | Callable[[Any], QuerySet[M_co]] | Unset = UNSET


_NO_CONFIG: ActionConfig[Any] = ActionConfig()


class ActionConfigs(TypedDict, Generic[M], total=False):
    """The type of ``action_configs``: the standard actions of a viewset of ``M``.

    Extend it with the names of a viewset's own ``@action`` methods (and of the
    methods their ``mapping`` routes to) to configure those too.
    """

    list: ActionConfig[M]
    create: ActionConfig[M]
    retrieve: ActionConfig[M]
    update: ActionConfig[M]
    partial_update: ActionConfig[M]
    destroy: ActionConfig[M]


def action_config(view: object) -> ActionConfig[Any]:
    """The ``ActionConfig`` of ``view``'s current action (all fields unset if none)."""
    action = getattr(view, "action", None)
    if not action:
        return _NO_CONFIG
    configs: Mapping[str, ActionConfig[Any]] = getattr(view, "action_configs", {})
    return configs.get(action, _NO_CONFIG)


def instances(
    configured: Sequence[Callable[[], T]] | Unset, default: Callable[[], Sequence[T]]
) -> list[T]:
    """An instance of each configured class, or ``default()`` when the field is unset."""
    if isinstance(configured, Unset):
        return list(default())
    return [klass() for klass in configured]


def check_action_keys(cls: type) -> None:
    """Refuse a misspelt ``action_configs`` key when the class is defined."""
    configs = cls.__dict__.get("action_configs")
    if not configs:
        return
    get_extra_actions: Callable[[], list[Any]] | None = getattr(cls, "get_extra_actions", None)
    extras: set[str] = set()
    for extra in get_extra_actions() if get_extra_actions else ():
        # An extra action's mapping routes more HTTP methods to other methods:
        # ``self.action`` is then the name of that method.
        extras.update((extra.__name__, *extra.mapping.values()))
    known = _STANDARD_ACTIONS | extras
    unknown = sorted(set(configs) - known)
    if unknown:
        raise ImproperlyConfigured(
            f"{cls.__name__}.action_configs has keys {unknown} that are not actions "
            f"of this viewset. Use one of {sorted(known)}."
        )
