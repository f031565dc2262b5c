"""The write policy of create, update and destroy: atomic, race-safe, cancellable.

Django refuses ``ATOMIC_REQUESTS`` on async views, so the default write path
(and a sync ``perform_*`` override) runs validation, the save and rendering in
one ``transaction.atomic`` block, in one worker-thread hop: a failure or a
cancelled request leaves nothing half-written. When a concurrent request
commits the same unique value after this one was validated, the save raises
``IntegrityError``; the request is then validated again (rolled back) so the
client gets DRF's 400. An async ``aperform_*`` override owns its transaction; a
unique race lost there is revalidated the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from django.db import DEFAULT_DB_ALIAS, IntegrityError, router, transaction
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from restflow import _hooks as hooks
from restflow._bridge import Flow, Step, drive_async, drive_sync, in_thread, override_step
from restflow._flows import serializer_hook_step
from restflow._hooks import Hook
from restflow._introspect import Override, override
from restflow.conf import settings as restflow_settings

if TYPE_CHECKING:
    from restflow._generic import GenericCore

__all__ = ["perform_flow", "write_async", "write_sync"]


class _Conflict(Exception):
    """An ``IntegrityError`` from saving ``serializer``: revalidated once rolled back."""

    def __init__(self, serializer: BaseSerializer[Any], error: IntegrityError) -> None:
        super().__init__(str(error))
        self.serializer = serializer
        self.error = error


def perform_flow(view: GenericCore[Any, Any, Any, Any], hook: Hook, target: object) -> Flow[None]:
    """Call ``perform_create``/``perform_update``/``perform_destroy`` on ``target``.

    The user's override when there is one; else DRF's default, which for a
    serializer is ``serializer.save()`` (its own ``asave`` twin, if its class
    defines one) and for an instance ``perform_destroy``.
    """
    step = override_step(view, hook, target)
    if step is None and isinstance(target, BaseSerializer):
        step = serializer_hook_step(target, hooks.SAVE)
    if step is None:
        step = Step.blocking(getattr(view, hook.name), target)
    try:
        yield step
    except IntegrityError as error:
        if isinstance(target, BaseSerializer):
            raise _Conflict(target, error) from error
        raise


def _alias(view: GenericCore[Any, Any, Any, Any]) -> str:
    model = getattr(view.queryset, "model", None)
    return router.db_for_write(model) if model is not None else DEFAULT_DB_ALIAS


def _raise_revalidated(conflict: _Conflict) -> NoReturn:
    """DRF's 400 for a lost unique race, or the ``IntegrityError`` if still valid."""
    if not restflow_settings.REVALIDATE_ON_INTEGRITY_ERROR:
        raise conflict.error
    writing = conflict.serializer
    fresh = type(writing)(
        instance=writing.instance,
        data=writing.initial_data,
        partial=writing.partial,
        context=writing.context,
    )
    try:
        fresh.is_valid(raise_exception=True)
    except ValidationError as invalid:
        raise invalid from conflict.error
    raise conflict.error  # still valid: a constraint that validation does not know about


def write_sync(view: GenericCore[Any, Any, Any, Any], flow: Flow[Response]) -> Response:
    """Drive a write ``flow`` in one transaction on the calling thread."""
    try:
        with transaction.atomic(using=_alias(view)):
            return drive_sync(flow)
    except _Conflict as conflict:
        _raise_revalidated(conflict)


async def write_async(
    view: GenericCore[Any, Any, Any, Any], flow: Flow[Response], hook: Hook
) -> Response:
    """Drive a write ``flow`` from the loop: atomically in one hop, unless ``hook``'s
    override is async (it owns its transaction)."""
    if override(type(view), hook)[0] is Override.ASYNC:
        try:
            return await drive_async(flow)
        except _Conflict as conflict:
            # Losing a unique race in the user's own save is still DRF's 400.
            await in_thread(_raise_revalidated, conflict)
    return await in_thread(write_sync, view, flow)
