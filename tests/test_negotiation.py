"""Content negotiation: DRF's answer every time, without parsing ``Accept: */*``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import (
    BaseRenderer,
    BrowsableAPIRenderer,
    JSONRenderer,
    TemplateHTMLRenderer,
)
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView as DRFAPIView

from restflow.views import APIView, AsyncAPIView


class AnyRenderer(BaseRenderer):
    media_type = "*/*"
    format = "any"


class CharsetJSON(JSONRenderer):
    media_type = "application/json; charset=utf-8"
    format = "cjson"


RENDERER_SETS: list[list[type[BaseRenderer]]] = [
    [JSONRenderer],
    [JSONRenderer, BrowsableAPIRenderer],
    [BrowsableAPIRenderer, JSONRenderer],
    [CharsetJSON, JSONRenderer],
    [AnyRenderer, JSONRenderer],
    [TemplateHTMLRenderer, JSONRenderer],
]
ACCEPTS = [
    None,
    "*/*",
    "*/* ",
    "application/json",
    "application/json; indent=4",
    "text/html",
    "text/html,application/xhtml+xml,*/*;q=0.8",
    "application/*",
    "image/png",
    "",
]
FORMATS = [None, "", "json", "api", "cjson", "any", "xml"]


def _outcome(view: DRFAPIView, request: Request) -> tuple[type[BaseRenderer], str] | str:
    try:
        renderer, media_type = view.perform_content_negotiation(request)
    except Exception as exc:  # the error is the outcome compared
        return type(exc).__name__
    return type(renderer), media_type


@settings(max_examples=300, deadline=None)
@given(
    renderers=st.sampled_from(RENDERER_SETS),
    accept=st.sampled_from(ACCEPTS),
    query_format=st.sampled_from(FORMATS),
    suffix=st.sampled_from(FORMATS),
    base=st.sampled_from([APIView, AsyncAPIView]),
)
def test_negotiation_matches_drf(
    renderers: list[type[BaseRenderer]],
    accept: str | None,
    query_format: str | None,
    suffix: str | None,
    base: type[APIView],
) -> None:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    query = {} if query_format is None else {"format": query_format}
    django_request = APIRequestFactory().get("/", query, **headers)
    outcomes = []
    for view_class in (base, DRFAPIView):
        view = view_class(renderer_classes=renderers)
        request = Request(django_request, negotiator=DefaultContentNegotiation())
        view.format_kwarg = suffix
        outcomes.append(_outcome(view, request))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("accept", [None, "*/*"])
def test_accepting_anything_skips_parsing_the_header(
    monkeypatch: pytest.MonkeyPatch, accept: str | None
) -> None:
    calls: list[Any] = []
    select = DefaultContentNegotiation.select_renderer

    def counting(self: DefaultContentNegotiation, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return select(self, *args, **kwargs)

    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", counting)
    factory = APIRequestFactory()
    django_request = factory.get("/") if accept is None else factory.get("/", HTTP_ACCEPT=accept)
    view = APIView(renderer_classes=[JSONRenderer, BrowsableAPIRenderer])
    view.format_kwarg = None
    request = Request(django_request)
    renderer, media_type = view.perform_content_negotiation(request)
    assert (type(renderer), media_type) == (JSONRenderer, "application/json")
    assert calls == []
    request = Request(APIRequestFactory().get("/", HTTP_ACCEPT="text/html"))
    view.perform_content_negotiation(request)
    assert len(calls) == 1  # anything else is DRF's negotiation
