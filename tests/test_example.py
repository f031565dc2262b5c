"""Smoke test of the demo shop (``example/``) over real HTTP, served by uvicorn.

One uvicorn process serves ``example/shop_project`` on 127.0.0.1 (a free port) with a
fresh SQLite database (``SHOP_DB``), migrated and seeded first. Every request has a
timeout, the server start has a deadline, and the server is always terminated.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests._servers import free_port, manage, start_uvicorn, stop, wait_until_ready

START_DEADLINE = 60.0
REQUEST_TIMEOUT = 15.0
PASSWORD = "demo-password-123"


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


class Shop:
    """The running demo: ``call`` sends one request and returns (status, headers, JSON)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=dict(headers or {})
        )
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, _lower(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _lower(error.headers), json.loads(error.read())


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    database = tmp_path_factory.mktemp("shop") / "shop.sqlite3"
    env = {
        **os.environ,
        "SHOP_DB": str(database),
        "SHOP_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "shop_project.settings",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }
    manage(env, "migrate", "--noinput")
    manage(env, "createsuperuser", "--noinput", "--username", "demo", "--email", "d@example.com")
    port = free_port()
    log = (tmp_path_factory.getbasetemp() / "uvicorn.log").open("wb")
    server = start_uvicorn("shop_project.asgi:application", port, env=env, log=log)
    try:
        running = Shop(f"http://127.0.0.1:{port}")
        wait_until_ready(
            lambda: running.call("GET", "/api/health/")[0] == 200,
            server,
            log,
            seconds=START_DEADLINE,
        )
        yield running
    finally:
        stop(server)
        log.close()


def test_health(shop: Shop) -> None:
    assert shop.call("GET", "/api/health/")[::2] == (200, {"status": "ok"})


def test_list_is_paginated_with_the_latest_review(shop: Shop) -> None:
    status, _, page = shop.call("GET", "/api/products/")
    assert status == 200
    assert page["count"] == 30
    assert len(page["results"]) == 20
    assert page["next"].endswith("/api/products/?page=2")
    by_name = {product["name"]: product for product in page["results"]}
    # Product 03 has three reviews (ratings 1..3, the last created is the latest); 04 has none.
    latest = by_name["Product 03"]["latest_review"]
    assert (latest["rating"], latest["comment"]) == (3, "Review 3 of Product 03")
    assert by_name["Product 04"]["latest_review"] is None


def test_retrieve(shop: Shop) -> None:
    status, _, product = shop.call("GET", "/api/products/1/")
    assert status == 200
    assert product["name"] == "Product 01"
    assert product["url"].endswith("/api/products/1/")


def test_search_and_ordering(shop: Shop) -> None:
    status, _, found = shop.call("GET", "/api/products/?search=Product%2003")
    assert status == 200
    assert [product["name"] for product in found["results"]] == ["Product 03"]
    _, _, ordered = shop.call("GET", "/api/products/?ordering=-price")
    assert ordered["results"][0]["name"] == "Product 30"


def test_writes_need_credentials(shop: Shop) -> None:
    status, headers, body = shop.call("POST", "/api/products/", {"name": "x", "price": "1.00"})
    assert (status, body) == (401, {"detail": "Authentication credentials were not provided."})
    assert headers["www-authenticate"] == "Token"
    status, _, body = shop.call(
        "POST", "/api/products/", {"name": "x"}, headers={"Authorization": "Token nope"}
    )
    assert (status, body) == (401, {"detail": "Invalid token."})


def test_token_auth_create(shop: Shop) -> None:
    status, _, body = shop.call("POST", "/api/token/", {"username": "demo", "password": PASSWORD})
    assert status == 200
    auth = {"Authorization": f"Token {body['token']}"}
    status, _, created = shop.call(
        "POST", "/api/products/", {"name": "Smoke", "price": "2.50"}, headers=auth
    )
    assert status == 201
    assert (created["name"], created["price"]) == ("Smoke", "2.50")
    status, _, fetched = shop.call("GET", f"/api/products/{created['id']}/")
    assert (status, fetched["name"]) == (200, "Smoke")
    status, _, duplicate = shop.call(
        "POST", "/api/products/", {"name": "Smoke", "price": "2.50"}, headers=auth
    )
    assert (status, duplicate) == (400, {"name": ["product with this name already exists."]})
