"""DRF's ``JSONRenderer``, byte for byte, encoded by ``orjson`` when it is installed.

The public name is ``restflow.renderers.JSONRenderer``.

restflow's views render with :class:`JSONRenderer` wherever DRF's own
``JSONRenderer`` was negotiated (``pip install django-restflow[fast]`` brings
``orjson``). The bytes are DRF's: ``COMPACT_JSON`` separators, ``UNICODE_JSON``
(non-ASCII escaped as ``json.dumps`` escapes it), ``\\u2028``/``\\u2029``
escaped, DRF's encoder for dates, times, decimals, UUIDs, lazy strings, bytes,
querysets and iterables, Python's float formatting, and ``STRICT_JSON``'s
refusal of NaN and infinities. Where orjson would write anything else — an
``indent`` from the ``Accept`` header, ``COMPACT_JSON = False``, an int beyond
64 bits, a non-string dict key, a ``null`` anywhere in the output (orjson
writes NaN and infinities as ``null``), any error — the response is rendered
by DRF's ``json.dumps`` code instead, so the output (or the error) is DRF's.
Without orjson, it is DRF's renderer.

One deviation: a plain ``Enum`` member (no ``str``/``int`` mix-in) in the data
makes DRF's encoder raise ``TypeError``; orjson writes the member's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
#: What ``json.dumps(ensure_ascii=True)`` escapes that orjson writes raw (DEL too).
_NON_ASCII: Final = re.compile("[^\x00-\x7e]")
_NON_ASCII_BYTES: Final = re.compile(b"[^\x00-\x7e]")


class _NonFinite(Exception):
    """DRF's encoder made a NaN or an infinity: json.dumps decides what that gives."""


def _default(value: Any) -> Any:
    # The types json.dumps writes natively but orjson hands here (subclasses), as
    # json's C encoder reads them; then DRF's encoder.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return dict(value.items())
    if isinstance(value, list):
        return list.copy(value)
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
        output = orjson.dumps(data, default=_default, option=_OPTIONS)
    except (orjson.JSONEncodeError, _NonFinite):
        return _DRF_RENDER(renderer, data, accepted_media_type, renderer_context)
    if b"null" in output:
        # orjson writes NaN and infinities as null, where DRF raises (STRICT_JSON) or
        # writes NaN: telling them from None would cost a walk over the data.
        return _DRF_RENDER(renderer, data, accepted_media_type, renderer_context)
    # Plain substring tests (a regex scan costs more than orjson); a hit in a string
    # only costs the exact token pass.
    if b"0.0000" in output or b"e-" in output:
        output = _TOKEN.sub(_float_token, output)
    output = output.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    if renderer.ensure_ascii and _NON_ASCII_BYTES.search(output):
        output = _NON_ASCII.sub(_ascii_escape, output.decode()).encode()
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
