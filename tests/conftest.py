"""Shared fixtures: the real data in ../shared/data, and synthetic phantoms."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
TEST_DATA = TESTS / "data"


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
