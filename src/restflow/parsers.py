"""Request-body parsing that answers hostile bodies with a 4xx, never a 500.

DRF turns malformed JSON into a 400 ``ParseError``, but two kinds of hostile
body escape it:

- JSON nested a thousand-odd levels deep makes ``json`` raise ``RecursionError``,
  which DRF lets through as a 500;
- a body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` raises Django's
  ``RequestDataTooBig``, which Django answers with its HTML "Bad Request" page.

:class:`JSONParser` handles both (and limits nesting depth, see
``RESTFLOW["JSON_MAX_DEPTH"]``); use it on DRF views too. restflow's views
translate the same failures from any parser (DRF's own ``JSONParser`` and
``FormParser`` included) with :func:`translate_body_error`: a 413 with DRF's
error shape for an over-limit body, a 400 ``ParseError`` for a body nested too
deeply.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings as django_settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, status
from rest_framework import parsers as drf_parsers
from rest_framework.request import Request

from restflow.conf import settings

__all__ = ["JSONParser", "PayloadTooLarge", "translate_body_error"]

_TOO_DEEP = "JSON parse error - nested too deeply."
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class PayloadTooLarge(exceptions.APIException):
    """413: the request body exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    # DRF types it as any error detail; this one is a message.
    default_detail: str = (  # pyright: ignore[reportIncompatibleVariableOverride]
        "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
    )
    default_code = "payload_too_large"


def _nesting_exceeds(text: str, max_depth: int) -> bool:
    if text.count("[") + text.count("{") <= max_depth:
        return False  # cannot nest deeper than it has brackets (the usual case: no scan)
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


class JSONParser(drf_parsers.JSONParser):
    """DRF's ``JSONParser`` that answers hostile bodies with a 4xx.

    - more than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes: 413 (:class:`PayloadTooLarge`),
      whatever DRF version streams the body;
    - nested deeper than ``RESTFLOW["JSON_MAX_DEPTH"]``, or deep enough to exhaust
      the recursion limit: 400 ``ParseError``;
    - everything else exactly as DRF (same messages for malformed JSON and bad UTF-8).

    Override :meth:`parse` to parse differently; call ``super()`` to keep the guards.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body: bytes = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise PayloadTooLarge()
        max_depth = settings.JSON_MAX_DEPTH
        if max_depth is not None:
            encoding = (parser_context or {}).get("encoding", django_settings.DEFAULT_CHARSET)
            try:
                text = body.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                text = ""  # DRF's parse reports the bad encoding in its own words
            if _nesting_exceeds(text, max_depth):
                raise exceptions.ParseError(
                    f"JSON parse error - nested deeper than {max_depth} levels."
                )
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_TOO_DEEP) from None


def _raised_while_parsing(exc: BaseException) -> bool:
    traceback = exc.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_name == "parse" and isinstance(
            frame.f_locals.get("self"), drf_parsers.BaseParser
        ):
            return True
        traceback = traceback.tb_next
    return False


def _forget_body(request: Request | None) -> None:
    # As DRF does after a failed parse: later reads of request.data (the
    # browsable API, logging) see an empty body instead of failing again.
    if request is None:
        return
    drf_request: Any = request  # DRF's private parsed-body cache
    encoding = getattr(request._request, "_encoding", None)
    drf_request._data = QueryDict("", encoding=encoding)
    drf_request._files = MultiValueDict()
    drf_request._full_data = drf_request._data


def translate_body_error(exc: Exception, request: Request | None = None) -> Exception:
    """The DRF exception restflow's views answer for a request-body failure, or ``exc``.

    Django's ``RequestDataTooBig`` becomes :class:`PayloadTooLarge` (413);
    ``TooManyFieldsSent``/``TooManyFilesSent`` become a 400 ``ParseError``; a
    ``RecursionError`` raised inside a parser's ``parse`` becomes a 400
    ``ParseError``. Anything else is returned unchanged (a ``RecursionError``
    from the view's own code stays the server error it is).
    """
    translated: Exception | None = None
    if isinstance(exc, RequestDataTooBig):
        translated = PayloadTooLarge()
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        translated = exceptions.ParseError(str(exc))
    elif isinstance(exc, RecursionError) and _raised_while_parsing(exc):
        translated = exceptions.ParseError(_TOO_DEEP)
    if translated is None:
        return exc
    _forget_body(request)
    return translated
