"""Put a segmentation on another grid (its image's), and sample it on a resliced plane.

Nearest-neighbour throughout: a mask is inside/outside and a fraction is kept as the file gave it;
no voxel is invented between labels. A segment that reaches beyond the target grid is cut at its
edge and the cut is measured (voxels and mm) so that io can report it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from volumeviz.model.segmentation import Grid, Segment, Segmentation

if TYPE_CHECKING:
    from volumeviz.ops.mpr import Slice2D

__all__ = ["Cut", "plane_masks", "resample_segmentation"]


@dataclass(frozen=True, slots=True)
class Cut:
    """How much of a segment fell outside the target grid when it was moved there."""

    number: int
    label: str
    voxels_outside: int
    voxels_total: int
    max_mm_outside: float


def _block_corners(seg: Segment, src: Grid) -> npt.NDArray[np.float64]:
    k0, j0, i0 = seg.offset
    nk, nj, ni = seg.mask.shape
    idx = np.array(
        [
            [i, j, k]
            for k in (k0 - 0.5, k0 + nk - 0.5)
            for j in (j0 - 0.5, j0 + nj - 0.5)
            for i in (i0 - 0.5, i0 + ni - 0.5)
        ]
    )
    return src.index_to_lps(idx)


def _outside(seg: Segment, src: Grid, dst: Grid) -> tuple[int, int, float]:
    """Voxels of ``seg`` (inside / fraction > 0) whose centre lies outside ``dst``; max mm."""
    nz = np.nonzero(seg.mask)
    total = len(nz[0])
    if total == 0:
        return 0, 0, 0.0
    k = nz[0] + seg.offset[0]
    j = nz[1] + seg.offset[1]
    i = nz[2] + seg.offset[2]
    idx = dst.lps_to_index(src.index_to_lps(np.stack([i, j, k], axis=1).astype(float)))
    dims = np.array(dst.shape[::-1], float)
    below = np.clip(-0.5 - idx, 0, None)
    above = np.clip(idx - (dims - 0.5), 0, None)
    excess_mm = np.max((below + above) * np.asarray(dst.spacing), axis=1)
    out = excess_mm > 1e-6
    return int(out.sum()), total, float(excess_mm.max()) if out.any() else 0.0


def _resample_segment(seg: Segment, src: Grid, dst: Grid) -> Segment:
    corners = dst.lps_to_index(_block_corners(seg, src))
    lo = np.maximum(np.floor(corners.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 1, np.array(dst.shape[::-1]))
    if np.any(hi <= lo) or seg.empty:
        return seg.replace(mask=np.zeros((0, 0, 0), seg.mask.dtype), offset=(0, 0, 0))
    (i0, j0, k0), (i1, j1, k1) = lo, hi
    out = np.zeros((k1 - k0, j1 - j0, i1 - i0), seg.mask.dtype)
    jj, ii = np.meshgrid(np.arange(j0, j1), np.arange(i0, i1), indexing="ij")
    plane = np.stack([ii.ravel(), jj.ravel(), np.zeros(ii.size)], axis=1).astype(float)
    sk0, sj0, si0 = seg.offset
    snk, snj, sni = seg.mask.shape
    for n, k in enumerate(range(k0, k1)):
        plane[:, 2] = k
        s = np.rint(src.lps_to_index(dst.index_to_lps(plane))).astype(np.int64)
        si, sj, sk = s[:, 0] - si0, s[:, 1] - sj0, s[:, 2] - sk0
        ok = (si >= 0) & (si < sni) & (sj >= 0) & (sj < snj) & (sk >= 0) & (sk < snk)
        vals = np.zeros(len(s), seg.mask.dtype)
        vals[ok] = seg.mask[sk[ok], sj[ok], si[ok]]
        out[n] = vals.reshape(j1 - j0, i1 - i0)
    return seg.replace(mask=out, offset=(k0, j0, i0)).cropped()


def resample_segmentation(seg: Segmentation, target: Grid) -> tuple[Segmentation, list[Cut]]:
    """``seg`` moved onto ``target`` (nearest neighbour), and what fell outside it.

    Parameters
    ----------
    seg
        A segmentation on its own grid.
    target
        The grid to put it on (usually ``Grid.of(image_volume)``).

    Returns
    -------
    (Segmentation, list of Cut)
        The segmentation on ``target`` (segments cropped to their voxels; a segment wholly
        outside keeps an empty mask) and, for each segment that lost voxels, a :class:`Cut`.

    Examples
    --------
    >>> lab = np.zeros((2, 4, 4), np.uint8)
    >>> lab[:, 1:3, 1:3] = 1
    >>> src = Grid((2, 4, 4), (0, 0, 0), (1, 1, 2))
    >>> seg = Segmentation.from_labelmap(lab, src)
    >>> moved, cuts = resample_segmentation(seg, Grid((1, 4, 4), (1, 0, 2), (1, 1, 2)))
    >>> moved.segments[0].offset, moved.segments[0].mask.shape, cuts[0].voxels_outside
    ((0, 1, 0), (1, 2, 2), 4)
    """
    if seg.grid.same_as(target, tol_mm=1e-4):
        return seg.replace(grid=target), []
    cuts: list[Cut] = []
    out: list[Segment] = []
    for s in seg.segments:
        n_out, total, mm = _outside(s, seg.grid, target)
        if n_out:
            cuts.append(Cut(s.number, s.label, n_out, total, mm))
        out.append(_resample_segment(s, seg.grid, target))
    return seg.replace(grid=target, segments=tuple(out)), cuts


def plane_masks(seg: Segmentation, plane: Slice2D) -> list[tuple[Segment, npt.NDArray[Any]]]:
    """Each segment sampled (nearest) at the pixel centres of a resliced plane.

    Returns ``[(segment, (rows, cols) mask)]`` for the segments that touch the plane: bool, or
    float32 fractions. Pixels outside the image (``plane.inside`` False) are never inside.
    """
    rows, cols = plane.shape
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    idx = np.rint(seg.grid.lps_to_index(plane.pixel_to_lps(rr, cc))).astype(np.int64)
    out: list[tuple[Segment, npt.NDArray[Any]]] = []
    for s in seg.segments:
        if s.mask.size == 0:
            continue
        k0, j0, i0 = s.offset
        nk, nj, ni = s.mask.shape
        si, sj, sk = idx[..., 0] - i0, idx[..., 1] - j0, idx[..., 2] - k0
        ok = (si >= 0) & (si < ni) & (sj >= 0) & (sj < nj) & (sk >= 0) & (sk < nk)
        ok &= plane.inside
        if not ok.any():
            continue
        m = np.zeros((rows, cols), s.mask.dtype)
        m[ok] = s.mask[sk[ok], sj[ok], si[ok]]
        if np.any(m):
            out.append((s, m))
    return out
