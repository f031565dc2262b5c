"""The code in ``README.md`` and ``docs/`` runs as written, or says it is a fragment.

Every fenced block is either preceded by ``<!-- fragment -->`` (an excerpt: it needs code
around it) or runnable. In the quickstart pages (``README.md``, ``docs/index.md``) the
runnable blocks are a project, in page order: ``console`` blocks are commands, and a
``python`` block whose first line is ``# <path>`` is that file (``# <path>: add at the end``
appends to it). The test builds each project in an empty directory with the commands as
written (``pip install`` lines excepted: the packages they name must already be importable),
serves it with the documented server command on a free port, runs the documented ``curl``
there, and checks what the text promises: the list is paginated, the browsable API renders,
a create with the documented credentials answers 201 and one without answers 401.

The testing guide's pytest section is written in the same way for ``docs/index.md``'s
project: the test copies that project, adds the section's files (its ``pytest.ini`` and
test modules) and runs its ``pytest`` command, pytest-asyncio and pytest-django active, in
a process of its own (this suite runs with ``-p no:asyncio``).
"""

from __future__ import annotations

import ast
import base64
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests._servers import free_port, start, stop, wait_until_ready

pytestmark = pytest.mark.own_servers

ROOT = Path(__file__).resolve().parent.parent
QUICKSTARTS = [ROOT / "README.md", ROOT / "docs" / "index.md"]
# Pages whose unmarked blocks add files and commands to a quickstart's project.
TESTING_GUIDE = ROOT / "docs" / "guide" / "testing.md"
BUILT_ON = {TESTING_GUIDE: ROOT / "docs" / "index.md"}
# The typing guide's project (its titled files, mypy.ini, pyproject.toml and restflow_types
# commands) is built and type-checked by tests/test_typing_guide.py.
TYPING_GUIDE = ROOT / "docs" / "guide" / "typing.md"
PAGES = sorted({ROOT / "README.md", *(ROOT / "docs").rglob("*.md")})
FRAGMENT = "<!-- fragment -->"
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```$",
    re.M | re.S,
)
FILE_HEADER = re.compile(r"^# (?P<path>[\w/]+\.(?:py|ini))(?P<append>: add at the end)?\n")
TIMEOUT = 120.0
ADD_PRODUCTS = """
from shop.models import Product
Product.objects.bulk_create(Product(name=f"P{n}", price="2.00") for n in range(3, 23))
"""


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    body: str
    fragment: bool
    info: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        found.append(
            Block(
                page,
                text.count("\n", 0, match.start()) + 1,
                match["lang"],
                match["body"],
                before == FRAGMENT,
                match["info"],
            )
        )
    return found


def _in_typing_project(block: Block) -> bool:
    return block.page == TYPING_GUIDE and (
        'title="' in block.info
        or block.lang in {"ini", "toml"}
        or (block.lang == "console" and block.body.startswith("python manage.py restflow_types"))
    )


def _runnable(block: Block) -> bool:
    if block.lang in {"python", "ini"}:
        return FILE_HEADER.match(block.body) is not None
    return block.lang == "console"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_block_runs_as_written_or_is_marked_a_fragment(page: Path) -> None:
    found = blocks(page)
    unmarked = [
        block.where
        for block in found
        if not block.fragment
        and not ((page in QUICKSTARTS or page in BUILT_ON) and _runnable(block))
        and not _in_typing_project(block)
    ]
    assert unmarked == [], f"mark these {FRAGMENT} or make them part of a quickstart"
    for block in found:
        if block.lang == "python" and not block.fragment:
            ast.parse(block.body, filename=block.where)


# -- the quickstart projects ------------------------------------------------------------------


@dataclass
class Project:
    directory: Path
    env: dict[str, str]
    base: str
    username: str
    password: str
    curls: list[list[str]]


def _command(line: str, port: int | None) -> tuple[dict[str, str], list[str]]:
    """A documented command line as (environment additions, argv for this interpreter)."""
    words = shlex.split(line)
    env = {}
    while "=" in words[0] and not words[0].startswith("-"):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    program, *args = words
    if program == "python":
        return env, [sys.executable, *args]
    if program in {"django-admin", "uvicorn", "pytest"}:
        module = "django" if program == "django-admin" else program
        extra = [] if port is None else ["--port", str(port)]
        return env, [sys.executable, "-m", module, *args, *extra]
    if program == "curl" and port is not None:
        return env, [program, *(arg.replace(":8000/", f":{port}/") for arg in args)]
    raise AssertionError(f"the test does not know how to run {line!r}")


def _assert_installed(line: str) -> None:
    """What a documented ``pip install`` line names is installed here, extras included."""
    for word in shlex.split(line, comments=True)[2:]:
        requirement = Requirement(word)
        importlib.metadata.version(requirement.name)  # PackageNotFoundError if missing
        specs = importlib.metadata.requires(requirement.name) or []
        for extra in requirement.extras:
            needs = [
                need
                for need in map(Requirement, specs)
                if need.marker is not None and need.marker.evaluate({"extra": extra})
            ]
            assert needs, f"{requirement.name} has no extra [{extra}]"
            for need in needs:
                importlib.metadata.version(need.name)


@dataclass
class Commands:
    """What a page asks to run once its project is built."""

    env: dict[str, str]
    server: list[str] = field(default_factory=list)
    curls: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)


def _build(page: Path, directory: Path) -> Commands:
    """Run the page's setup commands and write its files; return the server, curl and
    pytest lines and the environment the commands asked for."""
    commands = Commands(
        {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    )
    for block in blocks(page):
        if block.fragment:
            continue
        if block.lang != "console":
            header = FILE_HEADER.match(block.body)
            assert header is not None
            target = directory / header["path"]
            code = block.body[header.end() :]
            if header["append"]:
                target.write_text(target.read_text() + "\n" + code)
            else:
                target.write_text(code)
            continue
        for line in block.body.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("pip install "):
                _assert_installed(line)
                continue
            later = {"uvicorn": commands.server, "curl": commands.curls, "pytest": commands.tests}
            program = line.split()[0]
            if program in later:
                later[program].append(line)
                continue
            extra, argv = _command(line, None)
            commands.env.update(extra)
            subprocess.run(argv, cwd=directory, env=commands.env, check=True, timeout=TIMEOUT)
    return commands


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, tuple[Path, Commands]]:
    """Both quickstart projects, built at once (each is a handful of Django commands)."""

    def build(page: Path) -> tuple[Path, Commands]:
        directory = tmp_path_factory.mktemp(page.stem)
        return directory, _build(page, directory)

    with ThreadPoolExecutor(len(QUICKSTARTS)) as pool:
        return dict(zip(QUICKSTARTS, pool.map(build, QUICKSTARTS), strict=True))


@pytest.fixture(params=QUICKSTARTS, ids=lambda page: str(page.relative_to(ROOT)))
def project(
    request: pytest.FixtureRequest, built: dict[Path, tuple[Path, Commands]]
) -> Iterator[Project]:
    page: Path = request.param
    directory, commands = built[page]
    server = commands.server
    assert len(server) == 1, f"{page.name} should show one server command, not {server}"
    port = free_port()
    _, argv = _command(server[0], port)
    user = re.search(
        r"DJANGO_SUPERUSER_PASSWORD=(\S+) python manage.py createsuperuser .*--username (\S+)",
        page.read_text(),
    )
    assert user is not None, "the page should show how the documented user is made"
    log = (directory / "server.log").open("wb")
    process = start(argv, env=commands.env, log=log, cwd=directory)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            lambda: _get(base + "/api/products/")[0] == 200, process, log, seconds=60.0
        )
        curl_argvs = [_command(line, port)[1] for line in commands.curls]
        yield Project(directory, commands.env, base, user[2], user[1], curl_argvs)
    finally:
        stop(process)
        log.close()


def _get(url: str, accept: str = "application/json") -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, response.read()


def _post(base: str, body: object, credentials: tuple[str, str] | None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if credentials is not None:
        token = base64.b64encode(":".join(credentials).encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(
        base + "/api/products/", json.dumps(body).encode(), headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_the_quickstart_builds_a_paginated_authenticated_typed_endpoint(project: Project) -> None:
    # The documented curl, as written (but for the port): a create with the documented user.
    assert len(project.curls) == 1
    made = subprocess.run(project.curls[0], capture_output=True, text=True, check=True)
    assert json.loads(made.stdout) == {"id": 1, "name": "Pen", "price": "1.50"}

    credentials = (project.username, project.password)
    assert _post(project.base, {"name": "Anonymous", "price": "1"}, None)[0] == 401
    status, created = _post(project.base, {"name": "P2", "price": "2.00"}, credentials)
    assert (status, created) == (201, {"id": 2, "name": "P2", "price": "2.00"})
    # Twenty more, straight into the database (each create over HTTP hashes the password).
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ADD_PRODUCTS],
        cwd=project.directory,
        env=project.env,
        check=True,
        timeout=TIMEOUT,
    )

    # 22 products: a first page of 20, newest first, with a cursor to the rest.
    status, body = _get(project.base + "/api/products/")
    page = json.loads(body)
    assert status == 200
    assert [item["id"] for item in page["results"]] == list(range(22, 2, -1))
    assert page["previous"] is None
    status, body = _get(page["next"])
    assert [item["id"] for item in json.loads(body)["results"]] == [2, 1]

    status, html = _get(project.base + "/api/products/", accept="text/html")
    assert status == 200
    assert b'class="navbar navbar-static-top' in html
    assert b"/api-auth/login/?next=/api/products/" in html
    assert b"TemplateDoesNotExist" not in html


MYPY_INI = """
[mypy]
strict = True
plugins = mypy_django_plugin.main, mypy_drf_plugin.main

[mypy.plugins.django-stubs]
django_settings_module = project.settings

# Django's startproject template is not written for --strict (ALLOWED_HOSTS = []).
[mypy-project.settings]
ignore_errors = True
"""


@pytest.mark.parametrize("page", QUICKSTARTS, ids=lambda page: str(page.relative_to(ROOT)))
def test_the_quickstart_project_passes_mypy_strict(
    page: Path, built: dict[Path, tuple[Path, Commands]]
) -> None:
    directory, commands = built[page]
    env = commands.env
    (directory / "mypy.ini").write_text(MYPY_INI)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "shop", "project"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# -- the testing guide's tests, in docs/index.md's project ------------------------------------

# Breaks the quickstart's view for everyone but staff: the guide's tests must then fail.
STAFF_ONLY = """
from restflow.permissions import IsAdminUser
ProductViewSet.permission_classes = [IsAdminUser]
"""


def _run_pytest(directory: Path, commands: Commands) -> subprocess.CompletedProcess[str]:
    assert commands.tests == ["pytest"], "the testing guide should show one `pytest` command"
    _, argv = _command(commands.tests[0], None)
    # As a user's shell would run it: no pytest options of this suite's run. `-W error`: the
    # documented set-up runs without a warning (pytest-asyncio's about its unset loop scope).
    env = {key: value for key, value in commands.env.items() if not key.startswith("PYTEST_")}
    return subprocess.run(
        [*argv, "-W", "error", "-p", "no:cacheprovider"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_the_testing_guides_async_tests_run_under_pytest_asyncio(
    tmp_path: Path, built: dict[Path, tuple[Path, Commands]]
) -> None:
    quickstart, _ = built[BUILT_ON[TESTING_GUIDE]]
    shutil.copytree(
        quickstart,
        tmp_path,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("db.sqlite3", "*.log", "mypy.ini", ".mypy_cache"),
    )
    commands = _build(TESTING_GUIDE, tmp_path)

    ran = _run_pytest(tmp_path, commands)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output
    assert re.search(r"^plugins: .*\basyncio-.*\bdjango-", output, re.M), output
    assert re.search(r"^=+ 2 passed in ", output, re.M), output

    views = tmp_path / "shop" / "views.py"
    views.write_text(views.read_text() + STAFF_ONLY)
    ran = _run_pytest(tmp_path, commands)
    output = ran.stdout + ran.stderr
    assert ran.returncode == 1, output
    assert "FAILED shop/test_api.py::test_create - assert 403 == 201" in output, output
    assert "FAILED shop/test_case.py::ProductTests::test_list" in output, output
    assert re.search(r"^=+ 2 failed in ", output, re.M), output
