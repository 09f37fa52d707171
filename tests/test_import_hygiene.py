"""`volumeviz --help` and `import volumeviz.model` must load neither VTK, SimpleITK nor Qt."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("vtkmodules", "vtk", "pyvista", "SimpleITK", "qtpy", "PySide6", "pyvistaqt", "pydicom")


def _loaded_after(code: str) -> set[str]:
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_model_and_transfer_are_pure() -> None:
    assert _loaded_after("import volumeviz.model, volumeviz.model.phantom") == set()


def test_package_import_is_lazy() -> None:
    assert _loaded_after("import volumeviz; volumeviz.__version__") == set()


def test_cli_help_loads_no_heavy_library() -> None:
    code = (
        "import contextlib, io\n"
        "from volumeviz.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    assert _loaded_after(code) == set()
