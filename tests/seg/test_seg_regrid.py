"""ops.regrid: the exact path (same voxels, reordered) equals nearest-neighbour resampling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from volumeviz.model.segmentation import Grid, Segment, Segmentation
from volumeviz.ops import regrid


def _reordered(src: Grid, perm: tuple[int, int, int], flips: tuple[bool, bool, bool]) -> Grid:
    """The same voxel centres as ``src``, axes permuted and flipped, one voxel cut on each side."""
    nk, nj, ni = src.shape
    n_ijk = np.array([ni, nj, nk])
    cols, start = [], np.zeros(3)
    for a in range(3):
        b = perm[a]
        col = src.direction[:, b] * src.spacing[b]
        if flips[a]:
            start[b] = n_ijk[b] - 2  # start one voxel in from the far end
            col = -col
        else:
            start[b] = 1
        cols.append(col)
    direction = np.stack([c / np.linalg.norm(c) for c in cols], axis=1)
    spacing = tuple(float(np.linalg.norm(c)) for c in cols)
    shape_ijk = [n_ijk[perm[a]] - 2 for a in range(3)]  # one voxel shorter at both ends
    return Grid(
        (shape_ijk[2], shape_ijk[1], shape_ijk[0]),
        tuple(src.index_to_lps(start)),
        spacing,
        direction,
    )


@pytest.mark.parametrize(
    ("perm", "flips"),
    [
        (p, f)
        for p in itertools.permutations(range(3))
        for f in [(False, False, False), (True, False, True), (False, True, False)]
    ],
)
def test_exact_path_equals_nearest_resampling(
    perm: tuple[int, int, int], flips: tuple[bool, bool, bool]
) -> None:
    rng = np.random.default_rng(1)
    theta = 0.3
    d = np.array(
        [[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1.0]]
    )
    src = Grid((7, 9, 11), (3.0, -2.0, 5.0), (0.7, 0.9, 2.5), d)
    mask = rng.random(src.shape) > 0.6
    mask[0, :, :] = True  # reaches the edge that the target cuts away
    frac = rng.random(src.shape).astype(np.float32)
    seg = Segmentation(
        src,
        (
            Segment(1, "a", (1, 0, 0), mask).cropped(),
            Segment(2, "b", (0, 1, 0), frac),
        ),
    )
    dst = _reordered(src, perm, flips)
    assert regrid._index_map(src, dst) is not None
    fast, cuts = regrid.resample_segmentation(seg, dst)
    for s_fast, s_src in zip(fast.segments, seg.segments, strict=True):
        slow = regrid._resample_segment(s_src, src, dst)
        np.testing.assert_array_equal(s_fast.full_mask(dst.shape), slow.full_mask(dst.shape))
    assert {c.number for c in cuts} == {1, 2}  # both lose their outer voxels
