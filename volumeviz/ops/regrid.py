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
    if seg.mask.size == 0:
        return 0, 0, 0.0
    dims = np.array(dst.shape[::-1], float)
    k0, j0, i0 = seg.offset
    nk, nj, ni = seg.mask.shape
    corners = np.array(
        [
            [i, j, k]
            for k in (k0, k0 + nk - 1)
            for j in (j0, j0 + nj - 1)
            for i in (i0, i0 + ni - 1)
        ],
        float,
    )
    c = dst.lps_to_index(src.index_to_lps(corners))
    if np.all((c >= -0.5 - 1e-9) & (c <= dims - 0.5 + 1e-9)):
        # the block's corner centres are inside, so (affine map, box target) all its voxels are
        return 0, int(np.count_nonzero(seg.mask)), 0.0
    nz = np.nonzero(seg.mask)
    total = len(nz[0])
    if total == 0:
        return 0, 0, 0.0
    k = nz[0] + seg.offset[0]
    j = nz[1] + seg.offset[1]
    i = nz[2] + seg.offset[2]
    idx = dst.lps_to_index(src.index_to_lps(np.stack([i, j, k], axis=1).astype(float)))
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
    exact = _index_map(seg.grid, target)
    for s in seg.segments:
        n_out, total, mm = _outside(s, seg.grid, target)
        if n_out:
            cuts.append(Cut(s.number, s.label, n_out, total, mm))
        if exact is not None:
            out.append(_move_block(s, target, *exact))
        else:
            out.append(_resample_segment(s, seg.grid, target))
    return seg.replace(grid=target, segments=tuple(out)), cuts


def _index_map(src: Grid, dst: Grid) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """``(P, t)`` with ``src_ijk = P @ dst_ijk + t`` when that is exact, else None.

    Exact means a signed permutation and a whole-voxel shift: the same voxel centres, ordered
    differently (a SEG whose frames run head to foot on a CT stored foot to head).
    """
    m = np.linalg.inv(src.affine) @ dst.affine
    p = np.rint(m[:3, :3])
    t = np.rint(m[:3, 3])
    if not (np.allclose(m[:3, :3], p, atol=1e-5) and np.allclose(m[:3, 3], t, atol=1e-3)):
        return None
    if not np.array_equal(np.abs(p).sum(axis=0), np.ones(3)) or abs(np.linalg.det(p)) != 1:
        return None
    return p.astype(np.int64), t.astype(np.int64)


def _move_block(
    seg: Segment, dst: Grid, p: npt.NDArray[np.int64], t: npt.NDArray[np.int64]
) -> Segment:
    """Move a segment's block exactly (transpose / flip / shift), cut at the grid's edge."""
    if seg.mask.size == 0:
        return seg
    block = seg.mask.transpose(2, 1, 0)  # (i, j, k)
    # dst axis a reads src axis b = the row of P's nonzero entry in column a
    order = [int(np.nonzero(p[:, a])[0][0]) for a in range(3)]
    signs = [int(p[order[a], a]) for a in range(3)]
    moved = block.transpose(order)
    flips = tuple(slice(None, None, -1) if sg < 0 else slice(None) for sg in signs)
    moved = moved[flips]
    lo_src = np.array(seg.offset[::-1])  # (i, j, k) of the block's first voxel
    hi_src = lo_src + np.array(block.shape) - 1
    pinv = p.T  # a signed permutation's inverse
    a_corner = pinv @ (lo_src - t)
    b_corner = pinv @ (hi_src - t)
    lo = np.minimum(a_corner, b_corner)
    size = np.array(dst.shape[::-1])
    cut_lo = np.clip(-lo, 0, None)
    hi = lo + np.array(moved.shape)
    cut_hi = np.clip(hi - size, 0, None)
    keep = tuple(
        slice(int(cl), int(n - ch)) for cl, ch, n in zip(cut_lo, cut_hi, moved.shape, strict=True)
    )
    moved = moved[keep]
    if moved.size == 0 or any(n <= 0 for n in moved.shape):
        return seg.replace(mask=np.zeros((0, 0, 0), seg.mask.dtype), offset=(0, 0, 0))
    start = lo + cut_lo
    out = np.ascontiguousarray(moved.transpose(2, 1, 0))  # back to (k, j, i)
    return seg.replace(mask=out, offset=(int(start[2]), int(start[1]), int(start[0]))).cropped()


def plane_masks(seg: Segmentation, plane: Slice2D) -> list[tuple[Segment, npt.NDArray[Any]]]:
    """Each segment sampled (nearest) at the pixel centres of a resliced plane.

    Returns ``[(segment, (rows, cols) mask)]`` for the segments that touch the plane: bool, or
    float32 fractions. Pixels outside the image (``plane.inside`` False) are never inside.
    On a thick slab (``plane.slab_mm > 0``) a pixel is inside where the segment is anywhere in
    the slab (the maximum over samples through it, no further apart than the segmentation's
    smallest voxel size), as a MIP shows the brightest voxel anywhere in it.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> from volumeviz.ops.mpr import reslice
    >>> vol = phantom.asymmetric(16)
    >>> seg = Segmentation.from_labelmap((vol.array > 500).astype(np.uint8), Grid.of(vol))
    >>> thin = reslice(vol, "axial", slice_spec=2)  # below the marker block
    >>> thick = reslice(vol, "axial", slice_spec=2, slab_mm=40.0)  # reaching into it
    >>> len(plane_masks(seg, thin)), len(plane_masks(seg, thick))
    (0, 1)
    """
    rows, cols = plane.shape
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    centre = plane.pixel_to_lps(rr, cc)
    if plane.slab_mm > 0:
        step = float(min(seg.grid.spacing))
        n = max(2, int(np.ceil(plane.slab_mm / step)) + 1)
        offsets = np.linspace(-plane.slab_mm / 2, plane.slab_mm / 2, n)
    else:
        offsets = np.zeros(1)
    normal = np.asarray(plane.normal, float)
    samples = [
        np.rint(seg.grid.lps_to_index(centre + off * normal)).astype(np.int64) for off in offsets
    ]
    out: list[tuple[Segment, npt.NDArray[Any]]] = []
    for s in seg.segments:
        if s.mask.size == 0:
            continue
        k0, j0, i0 = s.offset
        nk, nj, ni = s.mask.shape
        m = np.zeros((rows, cols), s.mask.dtype)
        for idx in samples:
            si, sj, sk = idx[..., 0] - i0, idx[..., 1] - j0, idx[..., 2] - k0
            ok = (si >= 0) & (si < ni) & (sj >= 0) & (sj < nj) & (sk >= 0) & (sk < nk)
            ok &= plane.inside
            if ok.any():
                vals = np.zeros((rows, cols), s.mask.dtype)
                vals[ok] = s.mask[sk[ok], sj[ok], si[ok]]
                np.maximum(m, vals, out=m)
        if np.any(m):
            out.append((s, m))
    return out
