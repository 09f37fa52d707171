"""The CLI's error contract: one line, an exit code, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "volumeviz", *args], capture_output=True, text=True, timeout=120
    )


def test_version() -> None:
    res = _run("--version")
    assert res.returncode == 0
    assert "volumeviz" in res.stdout


def test_unknown_command_is_a_usage_error() -> None:
    res = _run("frobnicate")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr


def test_missing_path_is_one_line_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    res = _run("info", str(missing))
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert str(missing) in lines[0]
    assert "does not exist" in lines[0] or "no such" in lines[0].lower()
