"""Fixtures for the loader tests: synthetic series on disk whose truth the test knows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from volumeviz.model import phantom
from volumeviz.model.volume import Volume


def marker_phantom(
    size: tuple[int, int, int] = (24, 20, 16),
    *,
    spacing: tuple[float, float, float] = (1.0, 1.0, 2.0),
    direction: np.ndarray | None = None,
    origin: tuple[float, float, float] = (-10.0, 20.0, 30.0),
) -> tuple[Volume, tuple[int, int, int]]:
    """A small CT volume (-1000 HU) with a single 1000 HU marker voxel at a known (i, j, k)."""
    ni, nj, nk = size
    arr = np.full((nk, nj, ni), -1000, np.int16)
    arr[nk // 4 : nk - nk // 4, nj // 4 : nj - nj // 4, ni // 4 : ni - ni // 4] = 40
    mark = (ni - 5, 4, nk - 4)  # asymmetric: near i max, j min, k max
    arr[mark[2], mark[1], mark[0]] = 1000
    d = np.eye(3) if direction is None else np.asarray(direction, float)
    vol = Volume(arr, origin=origin, spacing=spacing, direction=d)
    return vol, mark


def marker_lps(vol: Volume) -> np.ndarray:
    """LPS of the brightest voxel of a loaded volume (centre of the voxel)."""
    k, j, i = np.unravel_index(int(np.argmax(vol.array)), vol.array.shape)
    return vol.index_to_lps([i, j, k])


@pytest.fixture
def phantom_volume() -> Volume:
    return phantom.asymmetric(24, spacing=(1.0, 1.0, 2.0))


@pytest.fixture
def tree_hash():
    """Hash every file under a folder (to prove inputs are untouched)."""
    import hashlib

    def _hash(root: Path) -> dict[str, str]:
        out = {}
        for p in sorted(Path(root).rglob("*")):
            if p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        return out

    return _hash


@pytest.fixture
def make_marker():
    """Factory: ``make_marker(size, spacing=, direction=, origin=) -> (vol, (i, j, k))``."""
    return marker_phantom


@pytest.fixture
def find_marker():
    """Function: LPS of the brightest voxel of a loaded volume."""
    return marker_lps
