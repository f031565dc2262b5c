"""restflow's JSONParser: linear time on every body, DRF's answers, non-finite numbers refused.

Timings are ratios measured in the same test (against DRF's own ``JSONParser`` on
the same body, or of one body against one twice its size), never absolute times:
each is the best of several interleaved runs, in CPU time of this process (other
processes on a shared machine do not count), and a ratio is retried a few times
before it counts as a failure.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import marshal
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, override_settings
from django.urls import path
from rest_framework import exceptions, serializers
from rest_framework import parsers as drf_parsers
from rest_framework import views as drf_views
from rest_framework.request import Request
from rest_framework.response import Response

from restflow import authentication, parsers, permissions
from restflow.test import hop_count
from restflow.views import AsyncAPIView
from tests._clients import CLIENTS, outcome, send
from tests.testapp.models import Category, Product

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


# -- timing helpers -----------------------------------------------------------------------


def _best(run: Callable[[], object], rounds: int) -> float:
    best = math.inf
    for _ in range(rounds):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def _parse(parser: drf_parsers.BaseParser, body: bytes) -> Callable[[], object]:
    def run() -> object:
        try:
            return parser.parse(io.BytesIO(body), "application/json", {})
        except exceptions.ParseError as error:
            return error

    return run


def _ratio(first: Callable[[], object], second: Callable[[], object], rounds: int) -> float:
    """time(first) / time(second), best of ``rounds`` interleaved runs, best of 5 tries.

    The cyclic garbage collector is paused while timing: its passes over every
    object alive make any allocation-heavy parse (DRF's too) look superlinear.
    """
    ratios = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            a = b = math.inf
            for _ in range(rounds):
                a = min(a, _best(first, 1))
                b = min(b, _best(second, 1))
            ratios.append(a / b)
            if ratios[-1] < 1.2:
                break
    finally:
        gc.enable()
    return min(ratios)


# -- bodies -------------------------------------------------------------------------------


def crafted(size: int) -> bytes:
    """The issue's body: 513 ``[`` and an unterminated string of escaped quotes."""
    head = "[" * 513 + '"'
    return (head + '\\"' * ((size - len(head)) // 2)).encode()


def records(size: int) -> bytes:
    """About ``size`` bytes of product records: an ordinary body."""
    rng = random.Random(1)
    return json.dumps(
        [
            {
                "id": i,
                "name": f"product {i} " + "x" * rng.randint(5, 40),
                "price": f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
                "category": rng.randint(1, 50),
                "tags": ["tools", "garden"],
                "size": {"w": rng.random() * 10, "h": rng.random() * 10},
            }
            for i in range(size // 185)
        ]
    ).encode()


def deep_valid(size: int) -> bytes:
    """Valid JSON nested 500 deep, repeated to ``size`` bytes (under the depth limit)."""
    unit = "[" * 500 + "]" * 500
    return ("[" + ",".join([unit] * max(1, size // (len(unit) + 1))) + "]").encode()


def backslashes(size: int) -> bytes:
    return ('["' + "\\\\" * (size // 2) + '", ' + "[" * 600 + "]" * 600 + "]").encode()


def huge_string(size: int) -> bytes:
    return json.dumps({"text": "[{" * (size // 2)}).encode()


def recursion_deep(size: int) -> bytes:
    return b"[" * size


def unterminated_after_strings(size: int) -> bytes:
    return ('["' + '", "'.join(["[{"] * (size // 6)) + ', "\\"').encode()


CRAFTED = {
    "escaped-quotes": crafted,
    "deep-valid": deep_valid,
    "backslashes": backslashes,
    "huge-string": huge_string,
    "recursion-deep": recursion_deep,
    "unterminated": unterminated_after_strings,
    "records": records,
}


# -- linear time --------------------------------------------------------------------------


def test_crafted_64kb_body_costs_what_drfs_parser_costs() -> None:
    # The quadratic string regex took ~19 s here (DRF's parser: well under a millisecond).
    body = crafted(64 * 1024)
    ours = _parse(parsers.JSONParser(), body)
    assert isinstance(ours(), exceptions.ParseError)
    assert _ratio(ours, _parse(drf_parsers.JSONParser(), body), rounds=5) < 3


@pytest.mark.parametrize("family", sorted(CRAFTED))
def test_parse_time_is_linear_in_the_body_size(family: str) -> None:
    make = CRAFTED[family]
    size = 32 * 1024 if family == "deep-valid" else 256 * 1024
    small, large = make(size), make(2 * size)
    parser = parsers.JSONParser()
    # Linear: doubling the body doubles the time (quadratic would be 4x).
    assert _ratio(_parse(parser, large), _parse(parser, small), rounds=5) < 3


@pytest.mark.parametrize(
    ("body", "bound"),
    [
        pytest.param(records(600_000), 1.5, id="records-600kb"),
        pytest.param(huge_string(600_000), 1.5, id="text-600kb"),
        pytest.param(json.dumps([1.5 + i for i in range(40_000)]).encode(), 1.5, id="floats"),
        pytest.param(json.dumps({"name": "chisel", "price": "4.20"}).encode(), 1.5, id="small"),
    ],
)
def test_ordinary_bodies_parse_within_half_again_drfs_time(body: bytes, bound: float) -> None:
    ours, drf = parsers.JSONParser(), drf_parsers.JSONParser()
    assert _parse(ours, body)() == _parse(drf, body)()
    rounds = 9 if len(body) > 10_000 else 2_000
    assert _ratio(_parse(ours, body), _parse(drf, body), rounds=rounds) < bound


class DrfParsedView(drf_views.APIView):
    authentication_classes = []
    permission_classes = []
    parser_classes = [drf_parsers.JSONParser]

    def post(self, request: Request) -> Response:
        return Response({"type": type(request.data).__name__})


class AsyncParsedView(AsyncAPIView):
    authentication_classes = []
    permission_classes = []
    parser_classes = [parsers.JSONParser]

    async def post(self, request: Request) -> Response:
        return Response({"type": type(request.data).__name__})


def test_crafted_64kb_post_to_an_async_view_answers_400_in_drfs_time() -> None:
    body = crafted(64 * 1024).decode()

    def ours() -> object:
        response = send("asgi", "POST", "/parsed/async/", body=body)
        assert response.status_code == 400
        return response

    def drf() -> object:
        response = send("asgi", "POST", "/parsed/drf/", body=body)
        assert response.status_code == 400
        return response

    assert _ratio(ours, drf, rounds=5) < 3


# -- documents of many values: checked through marshal ------------------------------------


def _many_values(head: str, tail: str = "") -> bytes:
    """``head`` followed by enough numbers that checking each value would cost too much."""
    return ("[" + head + ", 0" * 5_000 + tail + "]").encode()


@pytest.mark.parametrize(("depth", "refused"), [(511, False), (512, True), (600, True)])
def test_a_document_of_many_values_is_held_to_the_depth_limit(depth: int, refused: bool) -> None:
    # With the outer list, ``depth`` + 1 levels: the limit (512) is met, then passed.
    body = _many_values("[" * depth + "1" + "]" * depth)
    with mock.patch.object(
        parsers, "_check_serialized", wraps=parsers._check_serialized
    ) as serialized:
        ours = _parse(parsers.JSONParser(), body)()
    serialized.assert_called_once()
    if refused:
        assert isinstance(ours, exceptions.ParseError)
        assert ours.detail == "JSON parse error - nested deeper than 512 levels."
    else:
        assert ours == _parse(drf_parsers.JSONParser(), body)()


@pytest.mark.parametrize(
    "numbers",
    [[1e308] * 3_000, [10**400, 1.5] * 1_000, [1.5, 2] * 1_000],
    ids=["finite-sum-overflows", "huge-integers", "mixed"],
)
def test_a_list_of_numbers_parses_as_in_drf(numbers: list[float]) -> None:
    # Its sum settles it at once, unless the sum overflows or cannot be taken.
    body = json.dumps(numbers).encode()
    assert _parse(parsers.JSONParser(), body)() == _parse(drf_parsers.JSONParser(), body)()


def test_an_integer_marshalled_like_infinity_is_no_infinity() -> None:
    # marshal writes this integer's digits as the bytes it writes for float("inf").
    body = _many_values(str(0x6700 + (0x7FF0 << 60)))
    assert marshal.dumps(json.loads(body), 4).count(b"g" + bytes(6) + b"\xf0\x7f") == 1
    ours = _parse(parsers.JSONParser(), body)()
    assert ours == _parse(drf_parsers.JSONParser(), body)()


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN"])
def test_a_document_of_many_values_refuses_non_finite_numbers(literal: str) -> None:
    refused = _parse(parsers.JSONParser(), _many_values("2.5", ", " + literal))()
    assert isinstance(refused, exceptions.ParseError)
    assert str(refused.detail).endswith(repr(literal))


# -- non-finite numbers -------------------------------------------------------------------

OUT_OF_RANGE = "JSON parse error - Out of range float values are not JSON compliant: "


@pytest.mark.parametrize(
    ("body", "literal"),
    [
        ('{"a": NaN}', "'NaN'"),
        ('{"a": Infinity}', "'Infinity'"),
        ('{"a": -Infinity}', "'-Infinity'"),
        ('{"a": 1e400}', "'1e400'"),
        ('{"a": -1e400}', "'-1e400'"),
        ('{"a": 1' + "0" * 400 + ".5}", "'1" + "0" * 400 + ".5'"),
        ('[{"a": [1.5, {"b": [2.5, 1E+999]}]}]', "'1E+999'"),
        (json.dumps([{"x": 1.5}] * 2_000)[:-1] + ', {"x": 1e400}]', "'1e400'"),
        (json.dumps([1.5] * 2_000)[:-1] + ", -1e999]", "'-1e999'"),
    ],
    ids=["nan", "inf", "-inf", "1e400", "-1e400", "long", "nested", "long-body", "float-list"],
)
def test_non_finite_numbers_are_refused_anywhere(body: str, literal: str) -> None:
    refused = _parse(parsers.JSONParser(), body.encode())()
    assert isinstance(refused, exceptions.ParseError)
    assert refused.detail == OUT_OF_RANGE + literal


@pytest.mark.parametrize("body", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'])
def test_non_finite_constants_are_refused_in_drfs_words(body: str) -> None:
    ours = _parse(parsers.JSONParser(), body.encode())()
    drf = _parse(drf_parsers.JSONParser(), body.encode())()
    assert isinstance(ours, exceptions.ParseError)
    assert isinstance(drf, exceptions.ParseError)
    assert ours.detail == drf.detail


def test_drfs_parser_turns_an_overflowing_number_into_infinity() -> None:
    # What restflow's parser improves on.
    assert _parse(drf_parsers.JSONParser(), b'{"a": 1e400}')() == {"a": math.inf}


@pytest.mark.parametrize("body", ['{"a": NaN}', '{"a": 1e400}', "[-1e400, 2.5]"])
@override_settings(REST_FRAMEWORK={"STRICT_JSON": False})
def test_without_strict_json_non_finite_numbers_parse_as_in_drf(body: str) -> None:
    class Lenient(parsers.JSONParser):
        strict = False

    class DrfLenient(drf_parsers.JSONParser):
        strict = False

    ours, drf = _parse(Lenient(), body.encode())(), _parse(DrfLenient(), body.encode())()
    assert json.dumps(ours) == json.dumps(drf)


def test_finite_numbers_parse_as_in_drf() -> None:
    body = b"[1e308, -1e308, 1e-400, 0.1, 3, 1" + b"0" * 300 + b".5, 2e+2]"
    assert _parse(parsers.JSONParser(), body)() == _parse(drf_parsers.JSONParser(), body)()


# -- non-finite values that reach a field by another way ------------------------------------


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "price", "category"]


class NestedSerializer(serializers.Serializer[Any]):
    product = ProductSerializer()


class NestedView(AsyncAPIView):
    authentication_classes = []
    permission_classes = []
    parser_classes = [drf_parsers.JSONParser]
    serializer_class = NestedSerializer

    async def post(self, request: Request) -> Response:
        serializer = await self.avalidated_serializer()
        return Response(serializer.validated_data)


urlpatterns = [
    path("nested/", NestedView.as_view()),
    path("parsed/drf/", DrfParsedView.as_view()),
    path("parsed/async/", AsyncParsedView.as_view()),
]


@pytest.fixture
def category() -> Category:
    return Category.objects.create(name="tools")


@pytest.mark.parametrize("client", CLIENTS)
def test_a_nested_field_names_its_path(category: Category, client: str) -> None:
    body = '{"product": {"name": "saw", "price": "1.00", "category": 1e400}}'
    assert outcome(send(client, "POST", "/nested/", body=body))[:2] == (
        400,
        {"product": {"category": ["Incorrect type. Expected pk value, received float."]}},
    )


# -- where a body is parsed ------------------------------------------------------------


class Parses:
    """Records the thread of every parse by restflow's JSON and DRF's multipart parser."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.loop_threads: list[int] = []


@pytest.fixture
def parses() -> Iterator[Parses]:
    record = Parses()
    classes: list[type[drf_parsers.BaseParser]] = [parsers.JSONParser, drf_parsers.MultiPartParser]
    originals: dict[type[drf_parsers.BaseParser], Callable[..., Any]] = {
        cls: cls.parse for cls in classes
    }

    def recording(cls: type[drf_parsers.BaseParser]) -> Callable[..., Any]:
        def parse(self: drf_parsers.BaseParser, *args: Any, **kwargs: Any) -> Any:
            record.threads.append(threading.get_ident())
            return originals[cls](self, *args, **kwargs)

        return parse

    with contextlib.ExitStack() as stack:
        for cls in originals:
            stack.enter_context(mock.patch.object(cls, "parse", recording(cls)))
        yield record


class BodyEcho(AsyncAPIView):
    """Session-authenticated; reads the body after the CSRF check has parsed it."""

    authentication_classes = [authentication.SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [parsers.JSONParser, drf_parsers.MultiPartParser]
    threads: ClassVar[list[int]] = []

    async def post(self, request: Request) -> Response:
        type(self).threads.append(threading.get_ident())
        return Response({"keys": sorted(request.data)})


class BodyIgnored(BodyEcho):
    async def post(self, request: Request) -> Response:
        type(self).threads.append(threading.get_ident())
        return Response({})


class NameSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()


class Validates(AsyncAPIView):
    authentication_classes = []
    permission_classes = []
    parser_classes = [parsers.JSONParser, drf_parsers.MultiPartParser]
    serializer_class = NameSerializer
    threads: ClassVar[list[int]] = []

    async def post(self, request: Request) -> Response:
        type(self).threads.append(threading.get_ident())
        serializer = await self.avalidated_serializer()
        return Response(serializer.validated_data)


urlpatterns += [
    path("body/echo/", BodyEcho.as_view()),
    path("body/ignored/", BodyIgnored.as_view()),
    path("body/validates/", Validates.as_view()),
]

CSRF = "a" * 32
SMALL_JSON = ("application/json", json.dumps({"name": "saw"}).encode())
LARGE_JSON = ("application/json", json.dumps({"name": "saw", "pad": "x" * 100_000}).encode())
BOUNDARY = "restflowboundary"
MULTIPART = (
    f"multipart/form-data; boundary={BOUNDARY}",
    (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nsaw\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n" + "x" * 1000 + f"\r\n--{BOUNDARY}--\r\n"
    ).encode(),
)
BODIES = {"small-json": SMALL_JSON, "large-json": LARGE_JSON, "multipart": MULTIPART}
#: Which bodies may block the loop when parsed.
BLOCKS = [("small-json", False), ("large-json", True), ("multipart", True)]


def _post(url: str, body: tuple[str, bytes], user: Any = None) -> tuple[Any, int]:
    """POST through Django's ASGI client; returns the response and the hops it took."""

    async def through_asgi() -> tuple[Any, int]:
        client = AsyncClient(enforce_csrf_checks=True)
        if user is not None:
            await client.aforce_login(user)
            client.cookies["csrftoken"] = CSRF
        before = hop_count()
        response = await client.generic(
            "POST", url, body[1], content_type=body[0], headers={"X-CSRFToken": CSRF}
        )
        return response, hop_count() - before

    return async_to_sync(through_asgi)()


@pytest.mark.parametrize(
    ("name", "blocks"), [("small-json", False), ("large-json", True), ("multipart", True)]
)
@pytest.mark.parametrize("view", [BodyEcho, BodyIgnored])
def test_the_csrf_check_parses_a_blocking_body_in_a_thread_once(
    user: Any, parses: Parses, name: str, blocks: bool, view: type[BodyEcho]
) -> None:
    view.threads.clear()
    url = "/body/echo/" if view is BodyEcho else "/body/ignored/"
    response, hops = _post(url, BODIES[name], user)
    assert response.status_code == 200, response.content
    if view is BodyEcho:
        assert "name" in response.json()["keys"]
    (loop,) = view.threads
    (parsed_on,) = parses.threads  # once: the CSRF check's parse is the one request.data reads
    assert (parsed_on != loop) is blocks
    assert hops == (1 if blocks else 0)


@pytest.mark.parametrize(
    ("name", "blocks"), [("small-json", False), ("large-json", True), ("multipart", True)]
)
def test_helpers_parse_a_blocking_body_in_their_one_hop(
    parses: Parses, name: str, blocks: bool
) -> None:
    Validates.threads.clear()
    response, hops = _post("/body/validates/", BODIES[name])
    assert (response.status_code, response.json()) == (200, {"name": "saw"})
    (loop,) = Validates.threads
    (parsed_on,) = parses.threads
    assert (parsed_on != loop) is blocks
    assert hops == 1  # validation takes its hop anyway; a blocking parse joins it
