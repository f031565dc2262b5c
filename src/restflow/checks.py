"""System checks of the optional ``restflow`` app (add ``"restflow"`` to ``INSTALLED_APPS``).

- ``restflow.I001`` (info, opt-in with ``RESTFLOW = {"REPORT_SYNC_HOOKS": True}``): an
  async view is configured with a sync hook (say DRF's ``SessionAuthentication`` or
  django-filter's ``DjangoFilterBackend``). It works, in a worker thread; the message
  names the hook, and the hint restflow's async counterpart where there is one.
- ``restflow.W001`` (warning): a serializer declared as ``ModelSerializer[M, TIn, TOut]``
  (or ``Serializer[TIn, TOut]``) whose ``TOut`` TypedDict keys differ from its readable
  fields, or whose ``TIn`` keys differ from its writable fields.

Silence either with Django's ``SILENCED_SYSTEM_CHECKS``.
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Info, Warning
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.serializers import BaseSerializer

from restflow import _hooks as hooks
from restflow._asyncview import AsyncAPIView
from restflow._hooks import Hook
from restflow._introspect import Mode, dispatch_blocks, hook_mode, user_sync_code
from restflow.conf import settings
from restflow.serializers import ModelSerializer, Serializer

__all__ = [
    "check_async_views",
    "check_serializer_types",
    "serializer_type_messages",
    "sync_hook_messages",
]

#: (view attribute, the hook its classes provide, what such a class is, restflow's module)
_CONFIGURED: tuple[tuple[str, Hook, str, str], ...] = (
    (
        "authentication_classes",
        hooks.AUTHENTICATE,
        "authentication class",
        "restflow.authentication",
    ),
    ("permission_classes", hooks.HAS_PERMISSION, "permission class", "restflow.permissions"),
    ("throttle_classes", hooks.ALLOW_REQUEST, "throttle class", "restflow.throttling"),
    ("filter_backends", hooks.BACKEND_FILTER_QUERYSET, "filter backend", "restflow.filters"),
    (
        "pagination_class",
        hooks.PAGINATOR_PAGINATE_QUERYSET,
        "pagination class",
        "restflow.pagination",
    ),
)


def _classes(value: object) -> list[type]:
    if isinstance(value, type):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [item for item in value if isinstance(item, type)]
    return []  # composed permissions (``A | B``) and dotted paths are not inspected


def _counterpart(hook: type, module: str, declared: Hook) -> str | None:
    """restflow's async class of the same name as ``hook``, if there is one."""
    counterpart = getattr(importlib.import_module(module), hook.__name__, None)
    if (
        not isinstance(counterpart, type)
        or counterpart is hook
        or hook_mode(counterpart, declared) is Mode.BLOCKING
    ):
        return None
    return f"{module}.{hook.__name__}"


def _hint(hook: type, kind: str, module: str, declared: Hook) -> str:
    counterpart = _counterpart(hook, module, declared)
    if counterpart is not None:
        return f"Use {counterpart}, its async counterpart, to keep it on the event loop."
    return (
        f"It works as it is. To keep it on the event loop, give the {kind} (or a subclass) "
        f"an `async def {declared.twin}` doing the same work."
    )


def sync_hook_messages(views: Iterable[type]) -> list[CheckMessage]:
    """``restflow.I001`` for every sync hook configured on an async view in ``views``."""
    messages: list[CheckMessage] = []
    for view in views:
        if not issubclass(view, AsyncAPIView):
            continue
        for attribute, declared, kind, module in _CONFIGURED:
            for hook in _classes(getattr(view, attribute, None)):
                if hook_mode(hook, declared) is not Mode.BLOCKING:
                    continue
                messages.append(
                    Info(
                        f"{view.__module__}.{view.__qualname__}.{attribute} includes "
                        f"{hook.__module__}.{hook.__qualname__}, a sync {kind}: on this "
                        "async view it runs in a worker thread.",
                        hint=_hint(hook, kind, module, declared),
                        obj=view,
                        id="restflow.I001",
                    )
                )
        messages.extend(_dispatch_messages(view))
    return messages


def _dispatch_messages(view: type) -> list[CheckMessage]:
    """``restflow.I001`` for each dispatch call that reaches the user's sync code."""
    messages: list[CheckMessage] = []
    for call, reached in hooks.DISPATCH_CALLS.items():
        if not dispatch_blocks(view, call):
            continue
        own = [hook.name for hook in reached if user_sync_code(view, hook)]
        where = (
            f"overrides {', '.join(own)} with sync code"
            if own
            else f"builds {hooks.DISPATCH_CLASSES[call][0]} whose sync methods it reaches"
        )
        messages.append(
            Info(
                f"{view.__module__}.{view.__qualname__} {where}: on this async view "
                f"dispatch's {call.name} step runs in a worker thread (a hop where the "
                "request phase may have had none).",
                hint="Keep the override free of I/O and move the database work into an "
                "async hook (an `ahas_permission`, an `aallow_request`), or accept the hop.",
                obj=view,
                id="restflow.I001",
            )
        )
    return messages


def _declared_types(serializer: type) -> tuple[Any, Any] | None:
    for base in getattr(serializer, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        args = typing.get_args(base)
        if origin is ModelSerializer and len(args) == 3:
            return args[1], args[2]
        if origin is Serializer and len(args) == 2:
            return args[0], args[1]
    return None


def _keys(typed_dict: Any) -> set[str] | None:
    if not typing.is_typeddict(typed_dict):
        return None
    # The keys, without evaluating the annotations: a generated module may import the
    # names they use for the type checkers only.
    keys: frozenset[str] = typed_dict.__required_keys__ | typed_dict.__optional_keys__
    return set(keys)


def _mismatch(
    serializer: type, label: str, declared: Any, fields: set[str], which: str
) -> CheckMessage | None:
    keys = _keys(declared)
    if keys is None or keys == fields:
        return None
    missing, extra = sorted(fields - keys), sorted(keys - fields)
    details = []
    if missing:
        details.append(f"fields missing from {label}: {missing}")
    if extra:
        details.append(f"{label} keys that are not {which} fields: {extra}")
    return Warning(
        f"{serializer.__module__}.{serializer.__qualname__} declares {label} "
        f"{declared.__qualname__} that disagrees with its {which} fields: "
        + "; ".join(details)
        + ".",
        hint=f"Make {declared.__qualname__}'s keys the serializer's {which} fields.",
        obj=serializer,
        id="restflow.W001",
    )


def serializer_type_messages(serializers: Iterable[type]) -> list[CheckMessage]:
    """``restflow.W001`` for each declared ``TIn``/``TOut`` that disagrees with the fields.

    ``TOut`` is compared with the readable fields (not ``write_only``), ``TIn`` with the
    writable ones (not ``read_only``, by ``source``: the keys ``validated_data`` gets).
    """
    messages: list[CheckMessage] = []
    for serializer in serializers:
        declared = _declared_types(serializer)
        if declared is None:
            continue
        try:
            fields = serializer().fields
        except Exception:  # a misconfigured serializer fails loudly elsewhere
            continue
        readable = {name for name, field in fields.items() if not field.write_only}
        writable = {
            name if field.source == "*" else field.source.split(".")[0]
            for name, field in fields.items()
            if not field.read_only
        }
        for label, declared_type, names, which in (
            ("TIn", declared[0], writable, "writable"),
            ("TOut", declared[1], readable, "readable"),
        ):
            message = _mismatch(serializer, label, declared_type, names, which)
            if message is not None:
                messages.append(message)
    return messages


def _url_views(patterns: Iterable[URLPattern | URLResolver]) -> Iterator[type]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _url_views(pattern.url_patterns)
            continue
        callback: Any = pattern.callback
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if isinstance(view, type):
            yield view


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _serializer_classes(views: Iterable[type]) -> list[type]:
    found: dict[type, None] = {}
    for view in views:
        for attribute in (
            "serializer_class",
            "request_serializer_class",
            "response_serializer_class",
        ):
            value = getattr(view, attribute, None)
            if isinstance(value, type) and issubclass(value, BaseSerializer):
                found[value] = None
    for base in (ModelSerializer, Serializer):
        for sub in _subclasses(base):
            found[sub] = None
    return list(found)


def check_async_views(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """The registered check behind ``restflow.I001``: the views of the root URLconf.

    Quiet unless ``RESTFLOW["REPORT_SYNC_HOOKS"]`` is true (an invalid ``RESTFLOW`` is
    reported by ``restflow.E001`` instead).
    """
    try:
        if not settings.REPORT_SYNC_HOOKS:
            return []
    except ImproperlyConfigured:
        return []
    views = dict.fromkeys(_url_views(get_resolver().url_patterns))
    return sync_hook_messages(views)


def check_serializer_types(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """The registered check behind ``restflow.W001``: routed and imported serializers."""
    views = dict.fromkeys(_url_views(get_resolver().url_patterns))
    return serializer_type_messages(_serializer_classes(views))
