"""Fixtures for DICOMDIR tests: a writable copy of the shared file-set and byte-level patching."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dicomdir_helpers import FILESET

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:  # pragma: no cover - runs inside the interpreter
    if _OPENED is None:
        return
    if event in ("open", "os.listdir", "os.scandir", "os.readlink") and args:
        target = args[0]
        if isinstance(target, (str, bytes, Path)):
            _OPENED.append(str(target if not isinstance(target, bytes) else target.decode()))


sys.addaudithook(_audit)


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """Every path opened or listed (via Python's audit events) while the test runs."""
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


@pytest.fixture
def fileset_copy(shared_data: Path, tmp_path: Path) -> Path:
    """A writable copy of the 3-patient file-set under tmp_path/cd (the DICOMDIR's folder)."""
    src = shared_data / FILESET
    if not src.is_dir():
        pytest.fail(f"shared data item missing: {src}")
    dst = tmp_path / "cd"
    shutil.copytree(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst
