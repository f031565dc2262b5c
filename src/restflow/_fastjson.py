"""DRF's ``JSONRenderer``, byte for byte, encoded by ``orjson`` when it is installed.

The public name is ``restflow.renderers.JSONRenderer``.

restflow's views render with :class:`JSONRenderer` wherever DRF's own
``JSONRenderer`` was negotiated (``pip install django-restflow[fast]`` brings
``orjson``). The bytes are DRF's: ``COMPACT_JSON`` separators, ``UNICODE_JSON``
(non-ASCII escaped as ``json.dumps`` escapes it), ``\\u2028``/``\\u2029``
escaped, DRF's encoder for dates, times, decimals, UUIDs, lazy strings, bytes,
querysets and iterables, Python's float formatting, and ``STRICT_JSON``'s
refusal of NaN and infinities.

Two paths. Data made only of JSON's own types (what serializers return: dicts,
lists, tuples, strings, ints, bools, ``None``, floats, and subclasses of these
that iterate as their base does) is walked once, level by level, to find its
floats: orjson writes NaN and infinities as ``null``, so a non-finite float
sends the data to DRF's code (which raises under ``STRICT_JSON``, as DRF does),
and only data with floats under 1e-4 (written by orjson without an exponent)
gets its float tokens rewritten. Any other value (dates, decimals, lazy strings,
an ``OrderedDict`` or a subclass with its own ``items``/``__iter__``) takes the
general path: orjson hands it to DRF's encoder, and a ``null`` anywhere in the
output (it may be a NaN) sends the data to DRF's code. Where orjson would write
anything else — an ``indent`` from the ``Accept`` header, ``COMPACT_JSON =
False``, an int beyond 64 bits, a non-string dict key, any error — the response
is rendered by DRF's ``json.dumps`` code, so the output (or the error) is DRF's.
Without orjson, it is DRF's renderer.

One deviation: a plain ``Enum`` member (no ``str``/``int`` mix-in) in the data
makes DRF's encoder raise ``TypeError``; orjson writes the member's value.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Mapping
from itertools import chain, compress, repeat
from operator import is_
from typing import Any, Final

from rest_framework import renderers
from rest_framework.response import Response
from rest_framework.utils import encoders

try:
    import orjson
except ImportError:  # pragma: no cover - exercised by a test that hides orjson
    orjson = None  # type: ignore[assignment]  # the fallback: DRF's json.dumps

__all__ = ["JSONRenderer", "render_json", "use_fast_json"]

_DRF_RENDER: Final = renderers.JSONRenderer.render
_DRF_INDENT: Final = renderers.JSONRenderer.get_indent
_ENCODER: Final = encoders.JSONEncoder()
#: Rewrites the floats orjson may write other than ``repr()`` (under 1e-4:
#: ``0.00001``, ``1e-7``), leaving strings and ints as they are.
_TOKEN: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?')
#: Python writes smaller floats with an exponent (``1e-05``); orjson does not (``0.00001``).
_REPR_EXPONENT_BELOW: Final = 1e-4
#: What ``json.dumps(ensure_ascii=True)`` escapes that orjson writes raw (DEL too).
_NON_ASCII: Final = re.compile("[^\x00-\x7e]")
#: What DRF escapes in every output (JavaScript's line separators), UTF-8 to escape.
_LINE_SEPARATORS: Final = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))
#: Deeper than orjson writes: the general path (and its error, or DRF's).
_DEPTH: Final = 256


class _NonFinite(Exception):
    """DRF's encoder made a NaN or an infinity: json.dumps decides what that gives."""


class _NotNative(Exception):
    """The data holds a value that is not one of JSON's own types: the general path."""


# -- the walk over JSON-native data --------------------------------------------------------
# Each class is sorted once: a leaf orjson writes as json.dumps does, a float, a mapping
# or a sequence orjson reads as json.dumps reads it, or anything else.
_LEAF, _FLOAT, _MAPPING, _SEQUENCE, _OTHER = range(5)
_LEAVES: Final[frozenset[type]] = frozenset({str, int, bool, type(None)})
_KINDS: dict[type, int] = {
    **dict.fromkeys(_LEAVES, _LEAF),
    float: _FLOAT,
    dict: _MAPPING,
    list: _SEQUENCE,
    tuple: _SEQUENCE,
}
_KINDS_KEPT: Final = 512  # classes made at run time must not grow the table without end
_flatten: Final = chain.from_iterable
_VALUES: Final = dict.values


def _classify(cls: type) -> int:
    if issubclass(cls, enum.Enum):
        return _OTHER  # orjson writes the value, json.dumps its base's data or an error
    if issubclass(cls, (str, int)):
        return _LEAF  # orjson and json.dumps both write the base's data
    if issubclass(cls, dict):
        # json.dumps reads a subclass through items(), orjson through the dict itself.
        return _MAPPING if cls.items is dict.items and cls.__iter__ is dict.__iter__ else _OTHER
    if issubclass(cls, (list, tuple)):
        # json.dumps iterates a subclass, orjson reads the items themselves.
        base = list if issubclass(cls, list) else tuple
        return _SEQUENCE if cls.__iter__ is base.__iter__ else _OTHER
    return _OTHER


def _kind(cls: type) -> int:
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _classify(cls)
        if len(_KINDS) < _KINDS_KEPT:
            _KINDS[cls] = kind
    return kind


def _floats(data: Any) -> list[float]:
    """The floats in ``data``, walked a level at a time; ``_NotNative`` for any other value.

    Each level costs a few C-level passes over its values (``map(type, ...)``), not a
    Python call per value: a page of rows is three levels, however many rows, and the
    last one (the rows' values) is checked without building a list of it.
    """
    floats: list[float] = []
    level: list[Any] = [data]
    for _ in range(_DEPTH):
        classes = set(map(type, level))
        mappings: list[Any] = []
        sequences: list[Any] = []
        if len(classes) == 1:  # the usual level: rows, or the values of one row
            cls = classes.pop()
            kind = _KINDS.get(cls)
            if kind is None:
                kind = _kind(cls)
            if kind is _MAPPING:
                mappings = level
            elif kind is _SEQUENCE:
                sequences = level
            elif kind is _FLOAT:
                floats += level
                return floats
            elif kind is _OTHER:
                raise _NotNative
            else:
                return floats
        else:
            every = list(map(type, level))
            for cls in classes - _LEAVES:
                kind = _kind(cls)
                if kind is _OTHER:
                    raise _NotNative
                if kind is _LEAF:
                    continue
                found = list(compress(level, map(is_, every, repeat(cls))))
                if kind is _FLOAT:
                    floats += found
                elif kind is _MAPPING:
                    mappings += found
                else:
                    sequences += found
        if not sequences:
            if _LEAVES.issuperset(map(type, _flatten(map(_VALUES, mappings)))):
                return floats
            level = [*_flatten(map(_VALUES, mappings))]
        elif not mappings:
            if _LEAVES.issuperset(map(type, _flatten(sequences))):
                return floats
            level = [*_flatten(sequences)]
        else:
            level = [*_flatten(map(_VALUES, mappings)), *_flatten(sequences)]
    raise _NotNative  # too deep, or a container inside itself


def _default(value: Any) -> Any:
    # The types json.dumps writes natively but orjson hands here (subclasses), as
    # json's C encoder reads them; then DRF's encoder.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return dict(value.items())
    if isinstance(value, list):
        return list(value)  # json.dumps iterates a list subclass
    if isinstance(value, int):
        return int.__int__(value)
    result = _ENCODER.default(value)
    if type(result) is float and result - result != 0:
        raise _NonFinite
    return result


#: orjson hands these to ``_default``: DRF's encoder writes them its way.
_OPTIONS: Final = (
    0
    if orjson is None
    else orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _encode(data: Any, dumps: Callable[..., bytes]) -> bytes:
    """orjson's bytes (``dumps``) for ``data`` with Python's floats; ``_NonFinite`` for a NaN."""
    try:
        floats = _floats(data)
    except _NotNative:
        output = dumps(data, default=_default, option=_OPTIONS)
        if b"null" in output:
            # A None or a NaN (orjson writes both as null): telling them apart would
            # cost a walk over values of every kind.
            raise _NonFinite from None
        if b"0.0000" in output or b"e-" in output:
            output = _TOKEN.sub(_float_token, output)
        return output
    if floats and not all(map(math.isfinite, floats)):
        raise _NonFinite
    output = dumps(data, default=_default)
    if floats and min(filter(None, map(abs, floats)), default=1.0) < _REPR_EXPONENT_BELOW:
        output = _TOKEN.sub(_float_token, output)
    return output


def _float_token(match: re.Match[bytes]) -> bytes:
    token = match.group()
    if token[0] == 34 or not any(mark in token for mark in (b".", b"e")):  # a string or an int
        return token
    return repr(float(token)).encode()


def _ascii_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def render_json(
    renderer: renderers.JSONRenderer,
    data: Any,
    accepted_media_type: str | None = None,
    renderer_context: Mapping[str, Any] | None = None,
) -> bytes:
    """What ``renderer`` (DRF's ``JSONRenderer`` or a subclass) renders, via orjson if it can."""
    if data is None:
        return b""
    if (
        orjson is None
        or not renderer.compact
        or renderer.encoder_class is not encoders.JSONEncoder
        or _indented(renderer, accepted_media_type, renderer_context)
    ):
        return _DRF_RENDER(renderer, data, accepted_media_type, renderer_context)
    try:
        output = _encode(data, orjson.dumps)
    except (orjson.JSONEncodeError, _NonFinite):
        return _DRF_RENDER(renderer, data, accepted_media_type, renderer_context)
    # Line separators and what ensure_ascii escapes are all outside ASCII (but DEL).
    if not output.isascii():
        if renderer.ensure_ascii:
            return _NON_ASCII.sub(_ascii_escape, output.decode()).encode()
        for raw, escaped in _LINE_SEPARATORS:
            output = output.replace(raw, escaped)
    elif renderer.ensure_ascii and b"\x7f" in output:
        return output.replace(b"\x7f", b"\\u007f")
    return output


def _indented(
    renderer: renderers.JSONRenderer,
    accepted_media_type: str | None,
    renderer_context: Mapping[str, Any] | None,
) -> bool:
    if type(renderer).get_indent is _DRF_INDENT and (
        not accepted_media_type or ";" not in accepted_media_type
    ):
        return bool(renderer_context) and renderer_context.get("indent") is not None  # type: ignore[union-attr]  # checked just before
    media_type: Any = accepted_media_type  # DRF's get_indent takes None too
    return renderer.get_indent(media_type, renderer_context or {}) is not None


class JSONRenderer(renderers.JSONRenderer):
    """DRF's ``JSONRenderer`` with the same bytes, encoded by orjson where installed."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """DRF's JSON bytes for ``data`` (orjson writes them where it writes DRF's)."""
        return render_json(self, data, accepted_media_type, renderer_context)


def use_fast_json(response: Any) -> None:
    """Render ``response`` with :class:`JSONRenderer` where DRF's own was negotiated."""
    if orjson is None or not isinstance(response, Response):
        return
    renderer = getattr(response, "accepted_renderer", None)
    if type(renderer) is renderers.JSONRenderer:
        fast = JSONRenderer()
        vars(fast).update(vars(renderer))
        response.accepted_renderer = fast
