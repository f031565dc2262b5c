"""Fuzzing every operation of the demo shop (``example/``) from its own OpenAPI schema.

One uvicorn process serves ``example/shop_project`` on 127.0.0.1 (a free port) with a fresh
database, migrated and seeded: a SQLite file (``SHOP_DB``) by default, and a throwaway
PostgreSQL database when the suite runs with ``RESTFLOW_TEST_DB=postgres`` (CI's PostgreSQL +
Redis section), so both backends' errors are fuzzed; a user with a token and a logged-in
session, and throttle rates high enough that a 429 never hides an answer. schemathesis loads
the schema the demo serves at ``/api/schema/`` and generates requests for each operation, in
two phases: valid data (``GenerationMode.POSITIVE``) and malformed or invalid data
(``GenerationMode.NEGATIVE``). Hypothesis also picks who sends each request: the user's
token, nobody, a wrong or malformed ``Authorization`` header, or the user's session cookie
without a CSRF token. Then, for every response:

- never a 5xx (schemathesis's ``not_a_server_error``);
- a 1xx-3xx status is one the schema documents (``status_code_conformance``) and its body and
  content type conform to the schema (``response_schema_conformance``,
  ``content_type_conformance``);
- a 4xx is one of DRF's error statuses with a body in DRF's shape (a dict of ``detail`` or
  field errors, or a list of non-field messages). drf-spectacular documents the success
  responses only, for DRF's views as for restflow's, so the schema is no oracle for 4xx;
- a rejected request (4xx) changes nothing: the users, tokens, sessions, categories, products
  and reviews tables are the same before and after it (read straight from the database);
- an unsafe request without the token (other than logging in at ``/api/token/``) is refused
  with 401 or 403: a bad credential or a forged session request never writes.

A URL whose lookup cannot match the router's ``[^/.]+`` (an ``id`` with a dot or a slash)
never reaches the viewset: the demo's catch-all under ``/api/`` answers it with DRF's JSON
404, checked like every other rejection.

Each phase runs a bounded number of examples per operation (no deadline, no example
database), so the module takes well under a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import unquote, urlsplit

import pytest
import requests
import schemathesis
import yaml
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests._servers import (
    connect_pg,
    free_port,
    manage,
    start_uvicorn,
    stop,
    throwaway_pg_database,
    wait_until_ready,
)

#: A generated request; its operation's four type parameters are schemathesis internals.
FuzzCase: TypeAlias = Case[Any]
START_DEADLINE = 60.0
REQUEST_TIMEOUT = 15.0
PASSWORD = "fuzz-password-123"
EXAMPLES = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 50}
#: The example's (and DRF's) error statuses; anything else in 4xx is a surprise.
DRF_ERRORS = {400, 401, 403, 404, 405, 406, 413, 415}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: The tables a rejected request must leave exactly as they were.
TABLES = (
    "auth_user",
    "authtoken_token",
    "django_session",
    "shop_category",
    "shop_product",
    "shop_review",
)
#: Every operation of the demo's schema: (operationId, method, path, has inputs).
OPERATIONS = [
    ("health_retrieve", "GET", "/api/health/", False),
    ("products_list", "GET", "/api/products/", True),
    ("products_create", "POST", "/api/products/", True),
    ("products_retrieve", "GET", "/api/products/{id}/", True),
    ("products_update", "PUT", "/api/products/{id}/", True),
    ("products_partial_update", "PATCH", "/api/products/{id}/", True),
    ("products_destroy", "DELETE", "/api/products/{id}/", True),
    ("reviews_list", "GET", "/api/reviews/", False),
    ("reviews_create", "POST", "/api/reviews/", True),
    ("reviews_retrieve", "GET", "/api/reviews/{id}/", True),
    ("reviews_update", "PUT", "/api/reviews/{id}/", True),
    ("reviews_partial_update", "PATCH", "/api/reviews/{id}/", True),
    ("reviews_destroy", "DELETE", "/api/reviews/{id}/", True),
    ("schema_retrieve", "GET", "/api/schema/", True),
    ("token_create", "POST", "/api/token/", True),
]
# Negative data needs something to break: an operation without parameters or body has none.
PHASES = [
    pytest.param(mode, operation_id, method, path, id=f"{mode.value}-{operation_id}")
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    for operation_id, method, path, has_inputs in OPERATIONS
    if has_inputs or mode is GenerationMode.POSITIVE
]
ROUTABLE = re.compile(r"^/api/(?:products|reviews)/[^/.]+/$")
#: Who sends a request: the user's token half the time, else someone the API must refuse.
IDENTITIES = st.one_of(
    st.just("token"),
    st.sampled_from(("anonymous", "wrong token", "malformed header", "session without CSRF")),
)
MALFORMED_AUTHORIZATION = ("Token", "Token a b", "Token caf\xe9", "Basic Zm9v", "token")
# The user, their token and a logged-in session, made in the demo's database.
SETUP_SCRIPT = """
import json
import os
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authtoken.models import Token

user = User.objects.create_user("fuzz", password=os.environ["FUZZ_PASSWORD"])
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({"token": Token.objects.create(user=user).key, "session": session.session_key}))
"""


@dataclass(frozen=True)
class Shop:
    """The running demo: its address, database and the fuzz user's credentials.

    ``database`` is the SQLite file, or the name of the PostgreSQL database.
    """

    base: str
    database: Path | str
    token: str
    session: str
    schema: Any

    def credentials(self, identity: str, malformed: str) -> tuple[dict[str, str], dict[str, str]]:
        """The headers and cookies ``identity`` sends."""
        if identity == "token":
            return {"Authorization": f"Token {self.token}"}, {}
        if identity == "wrong token":
            return {"Authorization": "Token " + "0" * 40}, {}
        if identity == "malformed header":
            return {"Authorization": malformed}, {}
        if identity == "session without CSRF":
            return {}, {"sessionid": self.session}
        return {}, {}

    def snapshot(self) -> dict[str, tuple[int, str]]:
        """Row count and a digest of the rows of each table in ``TABLES``."""
        if isinstance(self.database, str):
            with connect_pg(self.database) as pg:
                return {table: _digest(pg.execute(_select(table)).fetchall()) for table in TABLES}
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            return {
                table: _digest(connection.execute(_select(table)).fetchall()) for table in TABLES
            }
        finally:
            connection.close()


def _select(table: str) -> str:
    return f'SELECT * FROM "{table}" ORDER BY 1'


def _digest(rows: list[Any]) -> tuple[int, str]:
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def _health(base: str) -> int:
    with urllib.request.urlopen(base + "/api/health/", timeout=REQUEST_TIMEOUT) as response:
        status: int = response.status
        return status


@pytest.fixture(scope="module")
def shop_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path | str, dict[str, str]]]:
    """The demo's database (a SQLite file or a PostgreSQL database) and its settings."""
    if django_settings.TEST_DB == "postgres":
        with throwaway_pg_database("restflow_fuzz") as name:
            yield name, {"SHOP_DB_ENGINE": "postgres", "SHOP_DB_NAME": name}
    else:
        path = tmp_path_factory.mktemp("fuzz") / "shop.sqlite3"
        yield path, {"SHOP_DB": str(path)}


@pytest.fixture(scope="module")
def shop(
    tmp_path_factory: pytest.TempPathFactory,
    shop_database: tuple[Path | str, dict[str, str]],
) -> Iterator[Shop]:
    database, database_env = shop_database
    env = {
        **os.environ,
        **database_env,
        "SHOP_DEBUG": "0",
        "SHOP_ANON_RATE": "100000/min",
        "SHOP_USER_RATE": "100000/min",
        "DJANGO_SETTINGS_MODULE": "shop_project.settings",
        "FUZZ_PASSWORD": PASSWORD,
    }
    manage(env, "migrate", "--noinput")
    made = json.loads(manage(env, "shell", "-v", "0", "-c", SETUP_SCRIPT).splitlines()[-1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.getbasetemp() / "uvicorn-fuzz.log").open("wb")
    server = start_uvicorn("shop_project.asgi:application", port, env=env, log=log)
    try:
        # URLError (an OSError) while uvicorn is not listening yet counts as "not ready".
        wait_until_ready(lambda: _health(base) == 200, server, log, seconds=START_DEADLINE)
        schema = schemathesis.openapi.from_url(f"{base}/api/schema/?format=json")
        yield Shop(base, database, made["token"], made["session"], schema)
    finally:
        stop(server)
        log.close()


def _operations(schema: Any) -> set[tuple[str, str, str]]:
    return {
        (operation["operationId"], method.upper(), path)
        for path, methods in schema.raw_schema["paths"].items()
        for method, operation in methods.items()
    }


def test_every_operation_of_the_schema_is_fuzzed(shop: Shop) -> None:
    # A new endpoint in the demo must join OPERATIONS (and so the fuzzing) to pass.
    assert _operations(shop.schema) == {row[:3] for row in OPERATIONS}


def _error_body(path: str, status: int, content_type: str, content: bytes) -> Any:
    if path != "/api/schema/":
        assert content_type == "application/json", f"{status} as {content_type}"
        return json.loads(content)
    # drf-spectacular's schema view renders its errors with the negotiated schema renderer:
    # JSON, or YAML that spells each ``ErrorDetail`` as ``{string: ..., code: ...}``.
    if content_type.startswith("application/vnd.oai.openapi+json"):
        return json.loads(content)
    assert content_type.startswith(("application/vnd.oai.openapi;", "application/yaml"))
    body = yaml.safe_load(content)
    if isinstance(body, dict) and isinstance(body.get("detail"), dict):
        body["detail"] = body["detail"]["string"]
    return body


def _is_drf_error(body: Any) -> bool:
    """DRF's error bodies: ``{"detail": ...}``, field errors, or non-field messages."""
    if isinstance(body, list):
        return bool(body) and all(isinstance(message, str) for message in body)
    if not isinstance(body, dict) or not body:
        return False
    if "detail" in body:
        return isinstance(body["detail"], str)
    return all(isinstance(errors, list | dict) and errors for errors in body.values())


def _check_rejection(
    shop: Shop,
    path: str,
    sent_path: str,
    before: dict[str, tuple[int, str]],
    status: int,
    content_type: str,
    content: bytes,
) -> None:
    """A 4xx: one of DRF's, in DRF's shape, and nothing in the database changed."""
    assert status in DRF_ERRORS, f"{status} for {sent_path}"
    after = shop.snapshot()
    changed = sorted(table for table in TABLES if before[table] != after[table])
    assert not changed, f"rejected with {status}, yet {changed} changed"
    if "{id}" in path and not ROUTABLE.match(sent_path):
        assert status == 404  # the URL matches no route: the demo's JSON catch-all
    body = _error_body(path, status, content_type, content)
    assert _is_drf_error(body), f"{status}: {body!r}"


def _verify(
    shop: Shop,
    case: FuzzCase,
    response: schemathesis.Response,
    identity: str,
    before: dict[str, tuple[int, str]],
) -> None:
    status = response.status_code
    method = case.operation.method.upper()
    sent_path = unquote(urlsplit(response.request.url).path)
    case.validate_response(response, checks=[not_a_server_error])
    if status < 400:
        checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
        case.validate_response(response, checks=checks)
    else:
        content_type = response.headers.get("content-type", [""])[0]
        _check_rejection(
            shop, case.operation.path, sent_path, before, status, content_type, response.content
        )
    if method in UNSAFE and identity != "token" and case.operation.path != "/api/token/":
        assert status in {401, 403} or (not ROUTABLE.match(sent_path) and status == 404)


def _aim(case: FuzzCase, existing: int) -> None:
    """Point the valid parts of ``case`` at a seeded row (random ones mostly miss), so that
    updates and deletes land, reviews name a product that exists, logins succeed."""
    meta = case.meta
    modes = (
        {} if meta is None else {where.value: info.mode for where, info in meta.components.items()}
    )
    if case.path_parameters and modes.get("path") is not GenerationMode.NEGATIVE:
        case.path_parameters = {**case.path_parameters, "id": existing}
    if (
        case.operation.path.startswith("/api/reviews/")
        and isinstance(case.body, dict)
        and "product" in case.body
        and modes.get("body") is not GenerationMode.NEGATIVE
    ):
        case.body = {**case.body, "product": existing}
    # Now and then, the right password: the token endpoint answers 200 with the token.
    if (
        case.operation.path == "/api/token/"
        and isinstance(case.body, dict)
        and modes.get("body") is not GenerationMode.NEGATIVE
        and existing % 3 == 0
    ):
        case.body = {**case.body, "username": "fuzz", "password": PASSWORD}


@pytest.mark.parametrize(("mode", "operation_id", "method", "path"), PHASES)
def test_fuzz(shop: Shop, mode: GenerationMode, operation_id: str, method: str, path: str) -> None:
    operation = shop.schema[path][method]
    assert operation.definition.raw["operationId"] == operation_id

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        identity=IDENTITIES,
        malformed=st.sampled_from(MALFORMED_AUTHORIZATION),
        existing=st.none() | st.integers(min_value=1, max_value=45),
    )
    def fuzz(case: FuzzCase, identity: str, malformed: str, existing: int | None) -> None:
        if existing is not None:
            _aim(case, existing)
        headers, cookies = shop.credentials(identity, malformed)
        before = shop.snapshot()
        response = case.call(
            base_url=shop.base, headers=headers, cookies=cookies, timeout=REQUEST_TIMEOUT
        )
        _verify(shop, case, response, identity, before)

    fuzz()


#: Bodies no schema describes: truncated JSON, arbitrary bytes (invalid UTF-8 among them),
#: JSON nested past Python's recursion limit, and a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
RAW_BODIES = st.one_of(
    st.tuples(
        st.fixed_dictionaries(
            {"name": st.text(), "price": st.text(), "product": st.integers()},
            optional={"rating": st.integers(), "username": st.text(), "password": st.text()},
        ),
        st.integers(min_value=0, max_value=80),
    ).map(lambda cut: json.dumps(cut[0]).encode()[: cut[1]]),
    st.binary(max_size=200),
    st.integers(min_value=1, max_value=5000).map(lambda depth: b"[" * depth + b"]" * depth),
    # The size of a body over the limit (built in the test: its repr would be megabytes).
    st.integers(min_value=2_700_000, max_value=3_000_000),
)
CONTENT_TYPES = st.sampled_from(
    (
        "application/json",
        "application/json; charset=latin-1",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/xml",
        None,
    )
)
BODY_OPERATIONS = [
    pytest.param(method, path, id=operation_id)
    for operation_id, method, path, _ in OPERATIONS
    if method in {"POST", "PUT", "PATCH"}
]


@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_raw_bodies(shop: Shop, method: str, path: str) -> None:
    documented = {int(code) for code in shop.schema[path][method].definition.raw["responses"]}
    auth = {"Authorization": f"Token {shop.token}"}

    @settings(max_examples=60, deadline=None, database=None)
    @given(
        body=RAW_BODIES,
        content_type=CONTENT_TYPES,
        existing=st.integers(min_value=1, max_value=45),
    )
    def fuzz(body: bytes | int, content_type: str | None, existing: int) -> None:
        if isinstance(body, int):
            body = b'{"name": "' + b"x" * body + b'", "price": "1.00"}'
        sent_path = path.replace("{id}", str(existing))
        headers = auth if content_type is None else {**auth, "Content-Type": content_type}
        before = shop.snapshot()
        response = requests.request(
            method, shop.base + sent_path, data=body, headers=headers, timeout=REQUEST_TIMEOUT
        )
        assert response.status_code < 500, response.text[:500]
        if response.status_code < 400:
            assert response.status_code in documented
        else:
            content_type_sent = response.headers.get("content-type", "")
            _check_rejection(
                shop,
                path,
                sent_path,
                before,
                response.status_code,
                content_type_sent,
                response.content,
            )

    fuzz()


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        pytest.param(
            b"[" * 3000 + b"]" * 3000,
            400,
            "JSON parse error - nested deeper than 512 levels.",
            id="deep-json",
        ),
        pytest.param(
            b'{"username": "' + b"x" * 2_800_000 + b'"}',
            413,
            "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.",
            id="over-limit",
        ),
    ],
)
def test_token_endpoint_rejects_hostile_bodies_with_json(
    shop: Shop, body: bytes, status: int, detail: str
) -> None:
    # Found by the fuzzer: DRF's stock ``obtain_auth_token`` answered these with a 500 and
    # with Django's HTML "Bad Request" page; the demo's ``ObtainToken`` translates them.
    before = shop.snapshot()
    response = requests.post(
        shop.base + "/api/token/",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=REQUEST_TIMEOUT,
    )
    assert (response.status_code, response.json()) == (status, {"detail": detail})
    assert shop.snapshot() == before
