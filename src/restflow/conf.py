"""restflow's settings: the ``RESTFLOW`` dict in Django settings, typed.

::

    # settings.py
    RESTFLOW = {"JSON_MAX_DEPTH": 64}

    # anywhere
    from restflow.conf import settings
    settings.JSON_MAX_DEPTH  # -> 64

Unknown keys and values of the wrong type are the system-check error
``restflow.E001`` at start-up (``manage.py check``, ``runserver``, ``migrate``,
when ``"restflow"`` is in ``INSTALLED_APPS``), and raise ``ImproperlyConfigured``
when the settings are first read. The object is rebuilt whenever Django's
``setting_changed`` signal reports a change to ``RESTFLOW`` (as
``override_settings`` does in tests).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

__all__ = ["RestflowSettings", "check_settings", "settings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RestflowSettings:
    """Every ``RESTFLOW`` key, with its default."""

    #: Deepest nesting of arrays/objects that ``restflow.parsers.JSONParser``
    #: accepts; deeper bodies get a 400 ``ParseError``. ``None`` turns the
    #: check off (a body deep enough to exhaust Python's recursion limit is
    #: still a 400, never a 500).
    JSON_MAX_DEPTH: int | None = 512

    #: When a write fails on a database constraint (two requests created the
    #: same unique value at once, both passing DRF's ``UniqueValidator``),
    #: validate the request again, so the loser gets DRF's 400 with the field
    #: error instead of an ``IntegrityError`` 500. ``False`` lets the error
    #: propagate.
    REVALIDATE_ON_INTEGRITY_ERROR: bool = True

    #: Render ``serializer.data`` on restflow's views through code generated once
    #: per serializer class and field set (DRF's output, value for value; fields
    #: and classes the compiler does not know keep DRF's code). ``False`` renders
    #: every response with DRF's ``to_representation``.
    COMPILED_SERIALIZERS: bool = True

    #: Report each sync hook configured on an async view (system check
    #: ``restflow.I001``, info). Off by default: a sync hook works (in a worker
    #: thread), and the patterns the docs recommend use some. Turn it on to
    #: audit where requests leave the event loop.
    REPORT_SYNC_HOOKS: bool = False

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> RestflowSettings:
        """Build settings from a ``RESTFLOW`` dict, checking its keys and value types."""
        if not isinstance(values, Mapping):
            raise ImproperlyConfigured(
                f"settings.RESTFLOW must be a dict, not {type(values).__name__}."
            )
        hints = typing.get_type_hints(cls)
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ImproperlyConfigured(
                f"settings.RESTFLOW has unknown keys {unknown}; restflow reads {sorted(known)}."
            )
        for name, value in values.items():
            if not _matches(value, hints[name]):
                raise ImproperlyConfigured(
                    f"settings.RESTFLOW[{name!r}] must be {_describe(hints[name])}, not {value!r}."
                )
        return cls(**values)


def _allowed_types(hint: Any) -> tuple[type, ...]:
    if isinstance(hint, types.UnionType):
        return tuple(type(None) if arg is None else arg for arg in typing.get_args(hint))
    return (hint,)


def _matches(value: object, hint: object) -> bool:
    allowed = _allowed_types(hint)
    if isinstance(value, bool) and bool not in allowed:
        return False  # True is an int to Python, not to a reader of settings
    return isinstance(value, allowed)


def _describe(hint: object) -> str:
    return " or ".join(
        "None" if kind is type(None) else kind.__name__ for kind in _allowed_types(hint)
    )


class _LazySettings:
    """Reads ``settings.RESTFLOW`` on first use; forgets it when Django says it changed."""

    def __init__(self) -> None:
        self._loaded: RestflowSettings | None = None

    def _load(self) -> RestflowSettings:
        if self._loaded is None:
            self._loaded = RestflowSettings.from_mapping(getattr(django_settings, "RESTFLOW", {}))
        return self._loaded

    def reload(self) -> None:
        """Forget the cached values; the next read sees the current Django settings."""
        self._loaded = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._load(), name)


_lazy = _LazySettings()


def check_settings(app_configs: object = None, **kwargs: object) -> list[CheckMessage]:
    """The system check ``restflow.E001``: ``settings.RESTFLOW`` has an unknown key or a
    value of the wrong type (registered by the ``restflow`` app)."""
    try:
        RestflowSettings.from_mapping(getattr(django_settings, "RESTFLOW", {}))
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error),
                hint="Fix the key or the value; the settings reference lists each key.",
                id="restflow.E001",
            )
        ]
    return []


if TYPE_CHECKING:
    #: The current restflow settings (typed as :class:`RestflowSettings`).
    settings: RestflowSettings
else:
    settings = _lazy


def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "RESTFLOW":
        _lazy.reload()


setting_changed.connect(_on_setting_changed, dispatch_uid="restflow.conf.reload")
