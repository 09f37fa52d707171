from __future__ import annotations

import os
from pathlib import Path

import pytest

from volumeviz._atomic import atomic_path
from volumeviz.errors import OutputError


def test_atomic_write_renames_and_uses_umask_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp != target
        tmp.write_text("hello")
        assert not target.exists()
    assert target.read_text() == "hello"
    umask = os.umask(0)
    os.umask(umask)
    assert (target.stat().st_mode & 0o777) == (0o666 & ~umask)


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"

    def write_then_fail() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_no_overwrite(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"), atomic_path(tmp_path / "no" / "x"):
        pass
    (tmp_path / "x").write_text("keep")
    with pytest.raises(OutputError, match="exists"), atomic_path(tmp_path / "x", overwrite=False):
        pass
    assert (tmp_path / "x").read_text() == "keep"


def test_no_overwrite_holds_when_the_target_appears_meanwhile(tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    with pytest.raises(OutputError, match="written meanwhile"):  # noqa: PT012
        with atomic_path(target, overwrite=False) as tmp:
            tmp.write_text("mine")
            target.write_text("theirs")  # another writer, between the check and the move
    assert target.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]  # no temporary file left
