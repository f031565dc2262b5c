"""The request class of restflow's views: DRF's, with Django's body-size limit on every DRF.

DRF 3.17 and later read ``request.body`` when the chosen parser is its JSON or
form parser, so Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` applies (and restflow
answers an over-limit body with a 413). DRF 3.16 streams the body past the
limit. This subclass makes the same choice on every supported DRF version;
multipart and other streaming parsers keep streaming, as in DRF.
"""

from __future__ import annotations

import io
from typing import Any

from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Request

__all__ = ["BoundedRequest"]


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
