#!/usr/bin/env bash
# Set up everything volumeviz needs on a fresh Debian machine: system packages, a virtualenv
# in .venv, and the package with its GUI and test extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_system_deps.sh
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[gui,test]'
echo "bootstrap: ready (.venv/bin/volumeviz)"
