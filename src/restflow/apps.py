"""The optional ``restflow`` Django app: add ``"restflow"`` to ``INSTALLED_APPS``.

It only registers restflow's system checks (see :mod:`restflow.checks`, and
:func:`restflow.conf.check_settings`); restflow works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.core import checks

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

__all__ = ["RestflowConfig"]


class RestflowConfig(AppConfig):
    """Registers restflow's system checks (tag ``restflow``) when Django starts."""

    name = "restflow"
    label = "restflow"
    verbose_name: StrOrPromise = "restflow"

    def ready(self) -> None:
        from restflow import checks as restflow_checks
        from restflow.conf import check_settings

        checks.register(check_settings, "restflow")
        checks.register(restflow_checks.check_async_views, "restflow", checks.Tags.urls)
        checks.register(restflow_checks.check_serializer_types, "restflow")
