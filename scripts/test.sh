#!/usr/bin/env bash
# Set up and run every check CI runs: lint, types, import layers, then the whole pytest suite
# (offscreen rendering through Mesa EGL; GUI tests in a real Qt window under Xvfb via pytest-xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export VTK_DEFAULT_OPENGL_WINDOW=${VTK_DEFAULT_OPENGL_WINDOW:-vtkEGLRenderWindow}
# real series in ../shared/data are used when present (CI sets this; a fresh clone skips them, saying why)
if [ -z "${VOLUMEVIZ_SHARED_DATA:-}" ] && [ -d ../shared/data ]; then
  export VOLUMEVIZ_SHARED_DATA="$(cd ../shared/data && pwd)"
fi
# (one command a line: under set -e a failure on the left of && would not stop the script)
echo "== ruff";        .venv/bin/ruff check volumeviz tests scripts
echo "== format";      .venv/bin/ruff format --check volumeviz tests scripts
echo "== mypy";        .venv/bin/mypy volumeviz
echo "== import layers"; .venv/bin/lint-imports
echo "== docs";        bash scripts/docs.sh
# Two processes, one OpenGL platform each (see tests/conftest.py): offscreen rendering through EGL
# as on a server, then the GUI tests in a real Qt window under Xvfb (GLX), as the window runs.
# Exit code 5 (nothing selected, e.g. a path with no GUI tests) is not a failure.
run_pytest() { "$@" || { rc=$?; [ "$rc" -eq 5 ] || exit "$rc"; }; }
echo "== pytest (offscreen, EGL)"
run_pytest .venv/bin/python -m pytest -m "not gui" "$@"
echo "== pytest (GUI, Xvfb)"
run_pytest env -u VTK_DEFAULT_OPENGL_WINDOW .venv/bin/python -m pytest -m gui "$@"
