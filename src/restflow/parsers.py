"""Request-body parsing that answers hostile bodies with a 4xx, never a 500.

DRF turns malformed JSON into a 400 ``ParseError``, but some hostile bodies
escape it:

- JSON nested a thousand-odd levels deep makes ``json`` raise ``RecursionError``,
  which DRF lets through as a 500;
- a body over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` raises Django's
  ``RequestDataTooBig``, which Django answers with its HTML "Bad Request" page;
- a number too large for a float (``1e400``) becomes ``inf``, which DRF's
  ``PrimaryKeyRelatedField`` passes to Django's ``int()``: a 500.

:class:`JSONParser` handles all three (and limits nesting depth, see
``RESTFLOW["JSON_MAX_DEPTH"]``) in time linear in the body size, whatever the
body; use it on DRF views too. restflow's views
translate the same failures from any parser (DRF's own ``JSONParser`` and
``FormParser`` included) with :func:`translate_body_error`: a 413 with DRF's
error shape for an over-limit body, a 400 ``ParseError`` for a body nested too
deeply.
"""

from __future__ import annotations

import codecs
import functools
import io
import marshal
import math
import operator
import re
from collections.abc import Iterable, Mapping
from itertools import chain, compress, repeat
from typing import IO, Any

from django.conf import settings as django_settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, status
from rest_framework import fields as drf_fields
from rest_framework import parsers as drf_parsers
from rest_framework.request import Request
from rest_framework.utils import json as drf_json

from restflow.conf import settings

__all__ = ["JSONParser", "PayloadTooLarge", "translate_body_error"]

_TOO_DEEP = "JSON parse error - nested too deeply."
# Linear scans only: no pattern with a nested quantifier ever runs over a body.
_TOKEN = re.compile(r'"[^"]*"|[\[\]{}]')
_SHORT = 4096


class PayloadTooLarge(exceptions.APIException):
    """413: the request body exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    # DRF types it as any error detail; this one is a message.
    default_detail: str = (  # pyright: ignore[reportIncompatibleVariableOverride]
        "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
    )
    default_code = "payload_too_large"


def _only(kind: type, values: list[Any], kinds: list[type], mixed: bool) -> Iterable[Any]:
    return compress(values, map(operator.is_, kinds, repeat(kind))) if mixed else values


def _check_parsed(
    root: Any, max_depth: int | None, finite: bool, budget: float = math.inf
) -> str | None:
    """What is wrong with a decoded document: ``"deep"``, ``"non-finite"`` or None.

    ``"many"`` when it has more than ``budget`` values (it stops there).

    It walks the decoded values level by level (never the text) with C-level
    iteration only (``map``, ``compress``, ``sum``), so it costs a few nanoseconds
    per value: a long string costs what a short one does. A level of numbers only
    costs one ``sum``. Past ``budget`` values it stops and answers ``"many"``:
    :func:`_check_serialized` checks many small values faster.
    """
    values = [root]
    depth = 0
    while True:
        try:
            total = sum(values)  # stops at the first value that is no number
        except (TypeError, OverflowError):
            pass
        else:  # numbers only (a list of prices): nothing nests below, and a finite sum
            if not finite or math.isfinite(total):  # has finite terms only
                return None
        budget -= len(values)
        if budget < 0:
            return "many"
        kinds = list(map(type, values))
        present = set(kinds)
        mixed = len(present) > 1
        # ``sum`` is finite when every term is (or overflows: then look closer).
        if (
            finite
            and float in present
            and not math.isfinite(sum(_only(float, values, kinds, mixed)))
            and not all(map(math.isfinite, _only(float, values, kinds, mixed)))
        ):
            return "non-finite"
        has_dicts, has_lists = dict in present, list in present
        if not has_dicts and not has_lists:
            return None
        depth += 1
        if max_depth is not None and depth > max_depth:
            return "deep"
        children: list[Any] = []
        if has_dicts:
            dicts = _only(dict, values, kinds, mixed)
            children.extend(chain.from_iterable(map(dict.values, dicts)))
        if has_lists:
            children.extend(chain.from_iterable(_only(list, values, kinds, mixed)))
        values = children


@functools.cache
def _marshal_limit() -> int:
    """How deep ``marshal`` nests objects (a C constant: 2000 on Linux, less elsewhere)."""
    fits, fails = 0, 1
    while _marshals(fails):
        fits, fails = fails, fails * 2
    while fails - fits > 1:
        middle = (fits + fails) // 2
        fits, fails = (middle, fails) if _marshals(middle) else (fits, middle)
    return fits + 1  # ``fits`` lists around a number: the number sits at depth fits + 1


def _marshals(depth: int) -> bool:
    """Whether ``marshal`` writes a number in ``depth`` (at least 1) nested lists."""
    value: list[object] = [0]
    for _ in range(depth - 1):
        value = [value]
    try:
        marshal.dumps(value, 4)
    except ValueError:
        return False
    return True


# How marshal writes +inf and -inf (a type byte, then the IEEE 754 bytes, little-endian).
_INFINITIES = (b"g\x00\x00\x00\x00\x00\x00\xf0\x7f", b"g\x00\x00\x00\x00\x00\x00\xf0\xff")


def _check_serialized(root: Any, max_depth: int | None, finite: bool) -> str | None:
    """:func:`_check_parsed` for a document of many small values, through ``marshal``.

    ``marshal`` serializes the document at C speed and refuses objects nested deeper
    than :func:`_marshal_limit`; wrapped in ``_marshal_limit() - max_depth`` lists, a
    document that ``marshal`` accepts nests at most ``max_depth`` deep. A refused one
    (nested at least that deep, counting scalars) and a float written as an infinity
    (or bytes of a huge integer that look like one) are settled by the caller.
    """
    wrapped = root
    for _ in range(0 if max_depth is None else max(0, _marshal_limit() - max_depth)):
        wrapped = [wrapped]
    try:
        serialized = marshal.dumps(wrapped, 4)
    except ValueError:
        return _check_parsed(root, max_depth, finite)
    if finite and any(_holds(serialized, infinity) for infinity in _INFINITIES):
        return "non-finite"
    return None


def _holds(serialized: bytes, infinity: bytes) -> bool:
    """Whether ``infinity`` is in ``serialized``, searching for its last two bytes.

    ``bytes.find`` looks for two bytes several times faster than for nine; a few
    other floats and integers end in the same two bytes, and past a few dozen of
    them one search for all nine bytes costs less than checking each.
    """
    tail = infinity[-2:]
    at = serialized.find(tail)
    for _ in range(32):
        if at < 0:
            return False
        if at >= 7 and serialized.startswith(infinity, at - 7):
            return True
        at = serialized.find(tail, at + 1)
    return infinity in serialized


def _nests_deeper(text: str, max_depth: int) -> bool:
    """Whether brackets outside strings in ``text`` nest deeper than ``max_depth`` (linear)."""
    # Inside a string every backslash escapes the next character, so removing
    # escaped backslashes, then escaped quotes, leaves quotes that open or close.
    plain = text.replace("\\\\", "").replace('\\"', "")
    depth = 0
    for match in _TOKEN.finditer(plain):
        token = match[0]
        if token == "[" or token == "{":
            depth += 1
            if depth > max_depth:
                return True
        elif token == "]" or token == "}":
            depth -= 1
    return False


def _finite_float(literal: str) -> float:
    value = float(literal)
    if value - value != 0:
        raise ValueError(f"Out of range float values are not JSON compliant: {literal!r}")
    return value


def _charset(parser_context: Mapping[str, Any]) -> str:
    encoding: str = parser_context.get("encoding", django_settings.DEFAULT_CHARSET)
    try:
        "".encode(encoding)  # text codecs only: a bytes-to-bytes codec would decompress
    except (LookupError, UnicodeError):
        raise exceptions.ParseError(
            f'Unsupported charset "{encoding}" in request Content-Type header.'
        ) from None
    return encoding


class JSONParser(drf_parsers.JSONParser):
    """DRF's ``JSONParser`` that answers hostile bodies with a 4xx, in linear time.

    - more than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes: 413 (:class:`PayloadTooLarge`),
      whatever DRF version streams the body;
    - nested deeper than ``RESTFLOW["JSON_MAX_DEPTH"]``, or deep enough to exhaust
      the recursion limit: 400 ``ParseError``;
    - with DRF's ``STRICT_JSON`` (the default), a non-finite number: ``NaN`` and
      ``Infinity`` as DRF does, and also a number too large for a float (``1e400``),
      which DRF turns into ``inf``: 400 ``ParseError`` ("Out of range float values
      are not JSON compliant");
    - everything else exactly as DRF (same messages for malformed JSON and bad UTF-8).

    The body is decoded once; the depth and non-finite checks walk the decoded
    values, or serialize them with ``marshal`` when there are many (never the text
    with a backtracking pattern), so the whole parse is linear in the body size on
    every input.
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
        encoding = _charset(parser_context or {})
        strict = self.strict
        max_depth = settings.JSON_MAX_DEPTH
        try:
            # DRF's stream reader, as DRF: a truncated last character is dropped, not an error.
            text = codecs.getreader(encoding)(io.BytesIO(body)).read()
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        try:
            # A short body has few numbers: checking each as it is decoded is cheaper than
            # checking the decoded values, as a long body's are (depth and numbers at once).
            short = len(text) <= _SHORT
            data = drf_json.loads(
                text,
                parse_constant=drf_json.strict_constant if strict else None,
                parse_float=_finite_float if strict and short else None,
            )
        except RecursionError:
            raise exceptions.ParseError(self._too_deep(text)) from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        # Nesting d levels deep takes at least d brackets.
        depth_limit = max_depth if max_depth is not None and len(text) > max_depth else None
        finite = strict and not short
        if depth_limit is not None or finite:
            # Walking costs per value and serializing per byte: walk a document of few
            # values (long strings), serialize one of many.
            problem = _check_parsed(data, depth_limit, finite, budget=len(text) >> 8)
            if problem == "many":
                problem = _check_serialized(data, depth_limit, finite)
            if problem == "deep":
                raise exceptions.ParseError(
                    f"JSON parse error - nested deeper than {max_depth} levels."
                )
            if problem == "non-finite":
                try:
                    # Raises, naming the number (unless an integer's bytes looked like one).
                    drf_json.loads(text, parse_float=_finite_float)
                except ValueError as exc:
                    raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        return data

    @staticmethod
    def _too_deep(text: str) -> str:
        max_depth = settings.JSON_MAX_DEPTH
        if max_depth is not None and _nests_deeper(text, max_depth):
            return f"JSON parse error - nested deeper than {max_depth} levels."
        return _TOO_DEEP


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


def _non_finite_field_error(exc: OverflowError) -> exceptions.ValidationError | None:
    """The field error for a non-finite float that a field passed on to ``int()``.

    DRF's ``PrimaryKeyRelatedField`` (and any field that looks a number up in an
    integer column) hands ``inf`` to Django, whose ``int(inf)`` raises
    ``OverflowError``: a 500 in DRF. The field that received the value answers
    instead, with the message DRF gives for ``nan`` (a float that is no pk either).
    """
    names: list[str] = []
    field: drf_fields.Field[Any, Any, Any, Any] | None = None
    value: object = None
    traceback = exc.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        current = frame.f_locals.get("self")
        if frame.f_code.co_name == "to_internal_value" and isinstance(current, drf_fields.Field):
            if current is not field and current.field_name:
                names.append(current.field_name)
            field, value = current, frame.f_locals.get("data")
        traceback = traceback.tb_next
    if field is None or not isinstance(value, float) or math.isfinite(value):
        return None
    key = "incorrect_type" if "incorrect_type" in field.error_messages else "invalid"
    try:
        if key in field.error_messages:
            field.fail(key, data_type=type(value).__name__)
        raise exceptions.ValidationError("A valid number is required.", code="invalid")
    except exceptions.ValidationError as error:
        detail: Any = error.detail
    for name in reversed(names):
        detail = {name: detail}
    return exceptions.ValidationError(detail)


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
    ``ParseError``; an ``OverflowError`` from a non-finite float that a serializer
    field passed to the database (``{"product": 1e400}`` through DRF's own
    ``JSONParser``, a 500 in DRF) becomes a 400 ``ValidationError`` for that
    field. Anything else is returned unchanged (a ``RecursionError``
    from the view's own code stays the server error it is).
    """
    translated: Exception | None = None
    if isinstance(exc, RequestDataTooBig):
        translated = PayloadTooLarge()
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        translated = exceptions.ParseError(str(exc))
    elif isinstance(exc, RecursionError) and _raised_while_parsing(exc):
        translated = exceptions.ParseError(_TOO_DEEP)
    elif isinstance(exc, OverflowError):
        return _non_finite_field_error(exc) or exc
    if translated is None:
        return exc
    _forget_body(request)
    return translated
