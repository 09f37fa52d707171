#!/usr/bin/env bash
# Build the documentation site (Sphinx, offline) into docs/_build/html, failing on any warning.
# Command pages come from the click commands, the API from the docstrings, and the gallery's
# pictures are rendered by running docs/examples/plot_*.py (bundled assets/, plus the shared real
# series when VOLUMEVIZ_SHARED_DATA is set). Not deployed anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
export VTK_DEFAULT_OPENGL_WINDOW=${VTK_DEFAULT_OPENGL_WINDOW:-vtkEGLRenderWindow}
# the gallery is re-rendered every time: what it shows depends on VOLUMEVIZ_SHARED_DATA, which
# sphinx-gallery's source-checksum cache does not see
rm -rf docs/gallery docs/sg_execution_times.rst
.venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html "$@"
echo "docs: docs/_build/html/index.html"
