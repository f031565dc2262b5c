# Sourced by scripts/test and scripts/demo (not executable on its own): cd to the repo root,
# create the virtualenv if missing and install the project into it when needed.
#
# Environment:
#   PYTHON     interpreter used to create the venv (default: python3)
#   VENV       venv directory, relative to the repo root or absolute (default: .venv)
#   EXTRA_PIP  extra requirement specs installed with the project, e.g. 'Django>=6'
# The sourcing script may set EXTRAS (default: test), the project's extra to install.
# Sets BIN to the venv's bin directory.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
EXTRA_PIP="${EXTRA_PIP:-}"
EXTRAS="${EXTRAS:-test}"
read -r -a _extra_specs <<<"$EXTRA_PIP"

section() { printf '\n=== %s ===\n' "$*"; }

if [[ ! -x "$VENV/bin/python" ]]; then
    section "Creating virtualenv $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
BIN="$VENV/bin"

# Reinstall only when the project metadata, the extra specs or the interpreter changed; the
# editable install picks up source changes by itself.
# One stamp per extra: the demo's and the tests' installs do not undo each other.
_stamp_file="$VENV/.restflow-install-stamp"
[[ "$EXTRAS" == test ]] || _stamp_file="$VENV/.restflow-install-stamp-$EXTRAS"
_stamp="$(
    {
        cat pyproject.toml
        printf '%s\n' "$EXTRA_PIP"
        "$BIN/python" -VV
    } | sha256sum | cut -d' ' -f1
)"
if [[ ! -f "$_stamp_file" || "$(cat "$_stamp_file")" != "$_stamp" ]]; then
    section "Installing django-restflow[$EXTRAS] ${EXTRA_PIP:+and $EXTRA_PIP }into $VENV"
    "$BIN/python" -m pip install -qq -e ".[$EXTRAS]" ${_extra_specs[@]+"${_extra_specs[@]}"}
    printf '%s\n' "$_stamp" >"$_stamp_file"
fi
