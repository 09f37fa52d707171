"""Shared fixtures: the real data in ../shared/data, and synthetic phantoms."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
TEST_DATA = TESTS / "data"

_EGL = "vtkEGLRenderWindow"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep one OpenGL platform per process when GUI tests run.

    A Qt window draws through GLX; once GLX has been used in a process, VTK's EGL offscreen
    windows lose wide lines (glLineWidth dispatches to the GLX context: scale bars and measurement
    lines come out 1 px wide). The window process itself never forces EGL (``app/run.py``), so a
    test session that runs GUI tests renders everything through the Xvfb display as the window
    does. ``scripts/test.sh`` runs the GUI tests in their own process and the rest under EGL.
    """
    if os.environ.get("VTK_DEFAULT_OPENGL_WINDOW") == _EGL and any(
        item.get_closest_marker("gui") for item in items
    ):
        del os.environ["VTK_DEFAULT_OPENGL_WINDOW"]


def _shared_data_root() -> Path | None:
    value = os.environ.get("VOLUMEVIZ_SHARED_DATA")
    if not value:
        if os.environ.get("VOLUMEVIZ_REQUIRE_SHARED_DATA") == "1" or os.environ.get("CI"):
            raise pytest.UsageError(
                "VOLUMEVIZ_SHARED_DATA is not set, but CI requires the shared real data"
            )
        return None
    return Path(value)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of ../shared/data. Skips (saying why) when unset; fails when set but missing."""
    root = _shared_data_root()
    if root is None:
        pytest.skip(
            "real DICOM series not available: set VOLUMEVIZ_SHARED_DATA to ../shared/data "
            "(.ci/run does) to run this test"
        )
    if not (root / "MANIFEST.md").is_file():
        pytest.fail(f"VOLUMEVIZ_SHARED_DATA={root} is set but holds no MANIFEST.md: data missing")
    return root


def shared_path(root: Path, rel: str) -> Path:
    """A path under the shared data that must exist (fail, never skip, if it does not)."""
    p = root / rel
    if not p.exists():
        pytest.fail(f"shared data item missing: {p}")
    return p


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``volumeviz ARGS`` in-process: (exit code, stdout, stderr)."""
    from volumeviz.cli.main import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
