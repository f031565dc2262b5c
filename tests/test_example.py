"""The demo shop (``example/``) as ``scripts/demo`` runs it, over real HTTP.

``example/demo.py`` (what ``scripts/demo`` runs once the ``[demo]`` extra is installed)
migrates a fresh SQLite database (``SHOP_DB``), seeds the demo user and serves the shop with
uvicorn through ``restflow.asgi`` on 127.0.0.1 (a free port). The tests then do what the
README tells a newcomer to do: open the API root, log in with the printed credentials,
create a product, follow a bad URL, open the schema UI; and one looks at the browsable API
and the Swagger UI in a headless Chromium. Every request has a timeout, the server start has
a deadline, and the server is always terminated.
"""

from __future__ import annotations

import ast
import http.cookiejar
import importlib.metadata
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests._servers import EXAMPLE, free_port, start_demo, stop, wait_until_ready

pytestmark = pytest.mark.own_servers

START_DEADLINE = 60.0
REQUEST_TIMEOUT = 15.0
BROWSER_TIMEOUT = 60.0
README = EXAMPLE.parent / "README.md"
# The credentials the README and the demo's banner give.
USERNAME, PASSWORD = "demo", "restflow-demo"


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is returned to the test as it is


class Shop:
    """The running demo. ``fetch`` sends one request (no redirects followed, cookies
    kept per instance) and returns (status, headers, raw body); ``call`` decodes JSON."""

    def __init__(self, base: str, log: Path) -> None:
        self.base = base
        self.log = log
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            _NoRedirects, urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def browser(self) -> Shop:
        """A client with a cookie jar of its own (a new browser session)."""
        return Shop(self.base, self.log)

    def fetch(
        self,
        method: str,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=dict(headers or {})
        )
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, _lower(error.headers), error.read()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        status, received, content = self.fetch(method, path, data, sent)
        return status, received, json.loads(content)

    def cookie(self, name: str) -> str:
        return next(cookie.value or "" for cookie in self.cookies if cookie.name == name)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    database = tmp_path_factory.mktemp("shop") / "shop.sqlite3"
    env = {**os.environ, "SHOP_DB": str(database)}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the demo picks its own, as for a newcomer
    port = free_port()
    log_path = tmp_path_factory.getbasetemp() / "demo.log"
    log = log_path.open("wb")
    server = start_demo(port, env=env, log=log)
    try:
        running = Shop(f"http://127.0.0.1:{port}", log_path)
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


def _requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        found = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert found is not None
        names.add(re.sub(r"[-_.]+", "-", found.group()).lower())
    return names


def _top_modules(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "INSTALLED_APPS"
            for target in node.targets
        ):
            assert isinstance(node.value, ast.List)
            for app in node.value.elts:
                assert isinstance(app, ast.Constant)
                yield str(app.value).split(".")[0]


def test_the_demo_extra_brings_everything_the_demo_imports() -> None:
    project = tomllib.loads((EXAMPLE.parent / "pyproject.toml").read_text())["project"]
    allowed = _requirement_names(
        [*project["dependencies"], *project["optional-dependencies"]["demo"]]
    )
    local = {"shop", "shop_project", "restflow"}
    distributions = importlib.metadata.packages_distributions()
    needed = {
        module
        for file in EXAMPLE.rglob("*.py")
        for module in _top_modules(file.read_text())
        if module not in sys.stdlib_module_names and module not in local
    }
    assert needed >= {"django", "rest_framework", "drf_spectacular", "uvicorn"}
    missing = {
        module: distributions[module]
        for module in needed
        if not _requirement_names(distributions[module]) & allowed
    }
    assert missing == {}, "add these to the [demo] extra"
    # ...and nothing of the test toolchain.
    assert not allowed & {"pytest", "ruff", "mypy", "basedpyright", "schemathesis"}


def test_health(shop: Shop) -> None:
    assert shop.call("GET", "/api/health/")[::2] == (200, {"status": "ok"})


def test_the_banner_and_the_readme_give_the_pages_and_the_credentials(shop: Shop) -> None:
    output = shop.log.read_text()
    credentials = f'username "{USERNAME}", password "{PASSWORD}"'
    assert credentials in output
    for page in ("/api/", "/api-auth/login/", "/api/schema/swagger-ui/", "/api/schema/redoc/"):
        assert f"{shop.base}{page}" in output
    readme = README.read_text()
    assert f"`{USERNAME}`" in readme
    assert f"`{PASSWORD}`" in readme
    assert "scripts/demo" in readme


def test_served_by_restflow_asgi_with_lifespan_and_no_warning(shop: Shop) -> None:
    output = shop.log.read_text()
    assert "Application startup complete." in output
    assert "lifespan" not in output.lower()
    assert "warning" not in output.lower()


def test_the_root_redirects_to_the_api_root(shop: Shop) -> None:
    status, headers, _ = shop.fetch("GET", "/")
    assert (status, headers["location"]) == (302, "/api/")
    status, _, root = shop.call("GET", "/api/")
    assert status == 200
    assert root == {
        "products": f"{shop.base}/api/products/",
        "reviews": f"{shop.base}/api/reviews/",
    }


def test_list_is_paginated_with_the_latest_review(shop: Shop) -> None:
    status, _, page = shop.call("GET", "/api/products/")
    assert status == 200
    assert page["count"] >= 30
    assert len(page["results"]) == 20
    assert page["next"].endswith("/api/products/?page=2")
    by_name = {product["name"]: product for product in page["results"]}
    # Product 03 has three reviews (ratings 1..3, the last created is the latest); 04 has none.
    latest = by_name["Product 03"]["latest_review"]
    assert (latest["rating"], latest["comment"]) == (3, "Review 3 of Product 03")
    assert by_name["Product 04"]["latest_review"] is None


def test_list_and_detail_agree(shop: Shop) -> None:
    _, _, page = shop.call("GET", "/api/products/")
    for listed in page["results"][:5]:
        status, _, detail = shop.call("GET", f"/api/products/{listed['id']}/")
        assert status == 200
        assert detail == listed


def test_search_and_ordering(shop: Shop) -> None:
    status, _, found = shop.call("GET", "/api/products/?search=Product%2003")
    assert status == 200
    assert [product["name"] for product in found["results"]] == ["Product 03"]
    _, _, ordered = shop.call("GET", "/api/products/?ordering=name")
    assert ordered["results"][0]["name"] == "Product 01"


def test_writes_need_credentials(shop: Shop) -> None:
    status, headers, body = shop.call("POST", "/api/products/", {"name": "x", "price": "1.00"})
    assert (status, body) == (401, {"detail": "Authentication credentials were not provided."})
    assert headers["www-authenticate"] == "Token"
    status, _, body = shop.call(
        "POST", "/api/products/", {"name": "x"}, headers={"Authorization": "Token nope"}
    )
    assert (status, body) == (401, {"detail": "Invalid token."})


def test_the_demo_credentials_get_a_token_that_creates(shop: Shop) -> None:
    status, _, body = shop.call("POST", "/api/token/", {"username": USERNAME, "password": PASSWORD})
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


def _csrf_field(html: bytes) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found is not None, "no CSRF field in the form"
    return found.group(1).decode()


def test_a_browser_logs_in_from_the_browsable_api_and_creates_a_product(shop: Shop) -> None:
    browser = shop.browser()
    status, _, page = browser.fetch("GET", "/api/products/", headers={"Accept": "text/html"})
    assert status == 200
    assert b"href='/api-auth/login/?next=/api/products/'>Log in<" in page
    status, _, form = browser.fetch("GET", "/api-auth/login/?next=/api/products/")
    assert status == 200
    fields = {
        "csrfmiddlewaretoken": _csrf_field(form),
        "username": USERNAME,
        "password": PASSWORD,
        "next": "/api/products/",
    }
    status, headers, _ = browser.fetch(
        "POST",
        "/api-auth/login/",
        urllib.parse.urlencode(fields).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": shop.base + "/"},
    )
    assert (status, headers["location"]) == (302, "/api/products/")
    # The browsable API's "POST" form: form-encoded, with the session and its CSRF token.
    status, _, page = browser.fetch("GET", "/api/products/", headers={"Accept": "text/html"})
    assert f"{USERNAME}".encode() in page  # the navbar names the logged-in user
    status, _, created = browser.fetch(
        "POST",
        "/api/products/",
        urllib.parse.urlencode(
            {"csrfmiddlewaretoken": _csrf_field(page), "name": "From a browser", "price": "3.00"}
        ).encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "text/html",
            "Referer": shop.base + "/api/products/",
        },
    )
    assert status == 201, created[:2000]
    assert b"From a browser" in created


def _stylesheets(html: bytes) -> list[str]:
    return [link.decode() for link in re.findall(rb'<link[^>]+href="([^"]+\.css)"', html)]


def test_the_browsable_api_is_styled(shop: Shop) -> None:
    status, _, page = shop.fetch("GET", "/api/", headers={"Accept": "text/html"})
    assert status == 200
    sheets = _stylesheets(page)
    assert "/static/rest_framework/css/bootstrap.min.css" in sheets
    for sheet in sheets:
        status, headers, _ = shop.fetch("GET", sheet)
        assert (sheet, status, headers["content-type"]) == (sheet, 200, "text/css")


def test_the_schema_ui_is_served_without_a_cdn(shop: Shop) -> None:
    status, _, page = shop.fetch("GET", "/api/schema/swagger-ui/")
    assert status == 200
    assets = [url.decode() for url in re.findall(rb'(?:src|href)="([^"]+\.(?:js|css|png))"', page)]
    assert assets, "the Swagger UI page links no scripts or stylesheets"
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert shop.fetch("GET", asset)[0] == 200, asset
    assert shop.fetch("GET", "/api/schema/redoc/")[0] == 200
    status, _, schema = shop.call("GET", "/api/schema/?format=json")
    assert (status, schema["info"]["title"]) == (200, "restflow demo shop")


@pytest.mark.parametrize(
    "path",
    [
        "/api/nope/",
        "/api/nope",
        "/api/products/a.b.c/",
        "/api/products/a/b/",
        "/api/products/1/extra/",
        "/api/reviews/x%2Fy/",
        "/api/.env",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unmatched_api_urls_are_json_404s(shop: Shop, path: str, method: str) -> None:
    status, headers, body = shop.fetch(method, path, headers={"Accept": "application/json"})
    assert (status, headers["content-type"]) == (404, "application/json")
    assert json.loads(body) == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/api/products/999999/", "No Product matches the given query."),
        # DRF's format-suffix route takes ".2" for a format it cannot render.
        ("/api/products/1.2/", "Not found."),
    ],
)
def test_routed_urls_without_an_object_are_json_404s(shop: Shop, path: str, detail: str) -> None:
    status, headers, body = shop.fetch("GET", path, headers={"Accept": "application/json"})
    assert (status, headers["content-type"]) == (404, "application/json")
    assert json.loads(body) == {"detail": detail}


def test_a_missing_slash_under_api_still_redirects(shop: Shop) -> None:
    status, headers, _ = shop.fetch("GET", "/api/products?page=2")
    assert (status, headers["location"]) == (301, "/api/products/?page=2")


# -- the pages in a real browser --------------------------------------------------------------


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI requires it")
    return found


def _browse(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                _chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=1200,900",
                *args,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=BROWSER_TIMEOUT,
            check=True,
        )


def _pixel(png: bytes, x: int, y: int) -> tuple[int, ...]:
    """The colour at (x, y) of an 8-bit RGB or RGBA PNG, as Chromium writes them."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", png[16:26])
    assert (depth, colour in (2, 6)) == (8, True), (depth, colour)
    channels = 3 if colour == 2 else 4
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(png[offset + 8 : offset + 8 + length])
        offset += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    for row in range(y + 1):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min(
                    (abs(guess - left), 0, left),
                    (abs(guess - up), 1, up),
                    (abs(guess - corner), 2, corner),
                )
                line[i] = (line[i] + near[2]) & 0xFF
        previous = line
    assert y < height
    return tuple(previous[x * channels : x * channels + 3])


def test_the_browsable_api_and_the_schema_ui_render_in_a_browser(
    shop: Shop, tmp_path: Path
) -> None:
    api_url = f"{shop.base}/api/products/"
    docs_url = f"{shop.base}/api/schema/swagger-ui/"
    api_png, docs_png = tmp_path / "browsable-api.png", tmp_path / "swagger-ui.png"
    scripts = "--virtual-time-budget=5000"  # time for the Swagger UI to fetch the schema
    runs = [
        (api_url, "--dump-dom"),
        (api_url, f"--screenshot={api_png}"),
        (docs_url, scripts, "--dump-dom"),
        (docs_url, scripts, f"--screenshot={docs_png}"),
    ]
    with ThreadPoolExecutor(len(runs)) as pool:  # four browsers at once: a few seconds
        api_dom, _, docs_dom, _ = (run.stdout for run in pool.map(lambda a: _browse(*a), runs))

    assert 'class="navbar navbar-static-top navbar-inverse' in api_dom
    assert "Product List" in api_dom
    assert "Product 01" in api_dom
    for error in ("Server Error", "Traceback (most recent", "TemplateDoesNotExist", "not found"):
        assert error not in api_dom
    # DRF's navbar is dark grey when bootstrap.min.css and default.css applied; an unstyled
    # page is white there.
    assert max(_pixel(api_png.read_bytes(), 600, 30)) < 80

    assert 'class="swagger-ui' in docs_dom
    assert "restflow demo shop" in docs_dom
    # The operations are rendered from the schema the page fetched from the demo.
    assert re.search(r'data-path="/api/products/\{id\}/"', docs_dom)
    assert "Failed to load API definition" not in docs_dom
    # A blank or unstyled page compresses to a few kilobytes; the rendered UI does not.
    png = docs_png.read_bytes()
    assert struct.unpack(">II", png[16:24]) == (1200, 900)
    assert len(png) > 20_000
