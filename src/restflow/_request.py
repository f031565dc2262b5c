"""The request class of restflow's views: DRF's, with Django's body-size limit on every DRF.

DRF 3.17 and later read ``request.body`` when the chosen parser is its JSON or
form parser, so Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` applies (and restflow
answers an over-limit body with a 413). DRF 3.16 streams the body past the
limit. This subclass makes the same choice on every supported DRF version;
multipart and other streaming parsers keep streaming, as in DRF.

It also decides where a body is parsed on async views (:func:`parsing_step`):
a small JSON or form body on the event loop, anything that may block (a body
over :data:`PARSE_ON_LOOP_MAX_BYTES`, multipart and file uploads, any other
parser) in a worker thread. DRF caches the parse on the request, so the CSRF
check and ``request.data`` share it: a body is parsed once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, TypeVar

from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Empty, Request

from restflow import _hooks as hooks
from restflow._bridge import Step
from restflow._introspect import Mode, hook_mode

__all__ = ["PARSE_ON_LOOP_MAX_BYTES", "BoundedRequest", "parsing_step", "read_data"]

T = TypeVar("T")

#: A body up to this many bytes, read by a parser known to be pure (DRF's JSON
#: and form parsers, restflow's JSON parser), is parsed on the event loop: that
#: costs less than a worker-thread hop. Larger bodies are parsed in a thread.
PARSE_ON_LOOP_MAX_BYTES = 16 * 1024


def _content_length(request: Request) -> int:
    meta = request.META
    try:
        return int(meta.get("CONTENT_LENGTH", meta.get("HTTP_CONTENT_LENGTH", 0)) or 0)
    except (ValueError, TypeError):
        return 0  # DRF reads no body then


def parse_may_block(request: Request) -> bool:
    """Whether reading ``request.data`` now may block the event loop.

    False when the body is parsed already, when there is none, or when it is
    small and its parser is a pure one (see :data:`PARSE_ON_LOOP_MAX_BYTES`).
    """
    state: Any = request  # DRF's private parse cache
    if state._data is not Empty:
        return False
    length = _content_length(request)
    if length == 0:
        return False
    if length > PARSE_ON_LOOP_MAX_BYTES:
        return True
    if request.negotiator is None or not request.parsers:
        return False
    parser = request.negotiator.select_parser(request, request.parsers)
    return parser is not None and hook_mode(type(parser), hooks.PARSE) is not Mode.INLINE


def parsing_step(request: Request, fn: Callable[..., T], /, *args: object) -> Step[T]:
    """The step that calls ``fn``, which may parse ``request``'s body.

    In a worker thread (sharing the phase's hop) when the parse may block, on
    the loop otherwise.
    """
    if parse_may_block(request):
        return Step.blocking(fn, *args)
    return Step.pure(fn, *args)


def read_data(request: Request) -> Any:
    """``request.data``: parses the body on first use (DRF caches it)."""
    return request.data


class BoundedRequest(Request):
    """DRF's ``Request``; JSON and form bodies are read through Django's size limit."""

    def _load_stream(self) -> None:
        state: Any = self  # DRF's private stream state, untyped in the stubs
        state_loader: Any = super()._load_stream  # type: ignore[misc]  # DRF's private loader
        state_loader()
        if state._stream is not self._request or self.negotiator is None or not self.parsers:
            return  # empty, or already read: nothing streams past the limit
        parser = self.negotiator.select_parser(self, self.parsers)
        if isinstance(parser, JSONParser | FormParser):
            # Django's ``body`` raises RequestDataTooBig over the limit.
            state._stream = io.BytesIO(self._request.body)
