"""The project ``docs/guide/typing.md`` builds, built from the page and type-checked.

The page's ``mypy.ini`` and ``pyproject.toml`` blocks and every code block with a
``title="<path>"`` become the files of a fresh project in a temporary directory (plus the
empty ``__init__.py`` files ``startproject``/``startapp`` write). The test then runs the
page's ``restflow_types`` command, ``mypy`` and ``basedpyright`` as configured there, and
the project's own tests: all must pass, and no file may carry an ignore comment.

It takes tens of seconds (mypy with the Django plugins, from a cold project cache), so it
runs in CI's main job only (``.ci/run`` deselects the ``typing_guide`` marker elsewhere).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.typing_guide

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide" / "typing.md"
_FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r'title="([^"]+)"')


def _blocks() -> list[tuple[str, str, str]]:
    """``(language, title, body)`` of every fenced block of the page, in order."""
    blocks = []
    for language, info, body in _FENCE.findall(GUIDE.read_text()):
        title = _TITLE.search(info)
        blocks.append((language, title.group(1) if title else "", body))
    return blocks


def _project(root: Path) -> list[str]:
    """Write the page's project under ``root``; return its console commands."""
    blocks = _blocks()
    files = {title: body for _, title, body in blocks if title}
    files["mypy.ini"] = next(body for language, _, body in blocks if language == "ini")
    files["pyproject.toml"] = next(
        body for language, _, body in blocks if language == "toml" and "basedpyright" in body
    )
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        if name.endswith(".py") and path.parent != root:
            (path.parent / "__init__.py").touch()
    commands = [body.strip() for language, _, body in blocks if language == "console"]
    return [command for command in commands if command.startswith("python manage.py")]


def _run(args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        args, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_guides_project_type_checks_clean(tmp_path: Path) -> None:
    commands = _project(tmp_path)
    assert {"shop/views.py", "shop/tests.py", "shop/serializers.py"} <= {
        str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.py")
    }
    write = next(command for command in commands if "--check" not in command)
    check = next(command for command in commands if "--check" in command)
    bin_dir = Path(sys.executable).parent

    written = _run([sys.executable, *write.split()[1:]], tmp_path)
    assert written.returncode == 0, written.stdout + written.stderr
    checked = _run([sys.executable, *check.split()[1:]], tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    sources = {path: path.read_text() for path in tmp_path.rglob("*.py")}
    assert not [path for path, text in sources.items() if "ignore" in text]

    cache = Path(sys.prefix) / ".mypy-typing-guide-cache"
    mypy = _run([str(bin_dir / "mypy"), "--cache-dir", str(cache), "."], tmp_path)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    pyright = _run([str(bin_dir / "basedpyright"), "--pythonpath", sys.executable], tmp_path)
    assert pyright.returncode == 0, pyright.stdout + pyright.stderr

    tests = _run([sys.executable, "manage.py", "test", "shop"], tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "Ran 2 tests" in tests.stderr
