"""Side virtualenvs for peers that cannot share the main one.

drf-restflow's import name is ``restflow``, like ours, so its worker runs with its own
interpreter: ``.venvs/bench-drf-restflow`` (git-ignored), made from the interpreter that
runs ``python -m bench``, with the same Django, DRF and asgiref versions as the main venv
plus the peer. :func:`ensure` builds it when missing and re-installs when the wanted set
changes (a stamp file records it); ``PYTHONPATH`` stays the repository root, so
``bench`` and ``tests.testapp`` import while our ``src/`` (installed editable in the main
venv only) does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".venvs"

#: target -> (venv directory name, the peer's requirement, the distribution to report)
SIDE: dict[str, tuple[str, str, str]] = {
    "drf-restflow": ("bench-drf-restflow", "drf-restflow==2.0.1", "drf-restflow"),
}
#: pinned to whatever the main venv has, so the peer runs on the same stack (the last three
#: serve it: uvicorn with uvloop and httptools, like the other async targets)
SHARED = ["Django", "djangorestframework", "asgiref", "uvicorn", "uvloop", "httptools"]
STAMP = "bench-requirements.txt"


def python(target: str) -> str:
    """The interpreter that runs ``target``'s worker and server."""
    if target not in SIDE:
        return sys.executable
    return str(VENVS / SIDE[target][0] / "bin" / "python")


def requirements(target: str) -> list[str]:
    _, peer, _ = SIDE[target]
    return [*(f"{name}=={metadata.version(name)}" for name in SHARED), peer]


def ensure(target: str) -> str:
    """Create or update ``target``'s venv; return the peer's installed version."""
    directory = VENVS / SIDE[target][0]
    interpreter_line = f"python {sys.version.split()[0]}"
    wanted = "\n".join([interpreter_line, *requirements(target)]) + "\n"
    stamp = directory / STAMP
    had = stamp.read_text() if stamp.exists() else ""
    interpreter = python(target)
    if had != wanted or not Path(interpreter).exists():
        print(f"side venv for {target}: {directory.relative_to(ROOT)}", flush=True)
        if not Path(interpreter).exists() or not had.startswith(interpreter_line + "\n"):
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(directory)], check=True)
        subprocess.run(
            [interpreter, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *requirements(target)],
            check=True,
        )  # fmt: skip
        stamp.write_text(wanted)
    return check(target)


def check(target: str) -> str:
    """Fail unless ``restflow`` in the side venv is the peer's, not ours; return its version."""
    _, _, distribution = SIDE[target]
    probe = (
        "import importlib.metadata as m, restflow; "
        f"print(restflow.__file__); print(m.version({distribution!r}))"
    )
    out = subprocess.run(
        [python(target), "-c", probe],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    where, version = out[0], out[1]
    venv = str(VENVS / SIDE[target][0])
    if not where.startswith(venv + os.sep):
        raise RuntimeError(f"{target}: `restflow` resolves to {where}, not the peer in {venv}")
    return version
