"""Resample a stack of 2D slices placed anywhere in LPS onto a regular 3D grid.

Used by the loader for gantry-tilted (sheared) stacks, uneven spacing, missing slices and slightly
non-parallel slices. Each output voxel is placed in LPS, projected onto the two source slices
that bracket it along the slice normal, sampled bilinearly in each, and blended linearly by its
signed distance to the two planes. For parallel slices this is exact linear interpolation along
the normal; for non-parallel slices the bracketing pair is chosen per output slice (at its
centre), which is accurate for the few-degree differences seen in practice.

Why not ``SimpleITK.Resample``: an ITK image is a regular grid, and a tilted stack with uneven
spacing is not one, so it cannot be described as a SimpleITK input image. This works slice by
slice in numpy (float32, one output slice at a time), so memory stays near the size of the output.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["resample_slices"]


def _bilinear(
    img: npt.NDArray[np.float32],
    u: npt.NDArray[np.float64],
    v: npt.NDArray[np.float64],
    fill: float,
) -> npt.NDArray[np.float32]:
    nj, ni = img.shape
    eps = 1e-6
    inside = (u >= -eps) & (u <= ni - 1 + eps) & (v >= -eps) & (v <= nj - 1 + eps)
    u = np.clip(u, 0, ni - 1)
    v = np.clip(v, 0, nj - 1)
    u0 = np.minimum(np.floor(u).astype(np.intp), max(ni - 2, 0))
    v0 = np.minimum(np.floor(v).astype(np.intp), max(nj - 2, 0))
    fu = (u - u0).astype(np.float32)
    fv = (v - v0).astype(np.float32)
    u1 = np.minimum(u0 + 1, ni - 1)
    v1 = np.minimum(v0 + 1, nj - 1)
    top = img[v0, u0] * (1 - fu) + img[v0, u1] * fu
    bottom = img[v1, u0] * (1 - fu) + img[v1, u1] * fu
    out = top * (1 - fv) + bottom * fv
    out[~inside] = fill
    return out.astype(np.float32, copy=False)


def resample_slices(
    stack: npt.NDArray[np.generic],
    positions: npt.ArrayLike,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    pixel_spacing: tuple[float, float],
    *,
    origin: npt.ArrayLike,
    spacing: tuple[float, float, float],
    direction: npt.ArrayLike,
    size: tuple[int, int, int],
    fill: float = 0.0,
    dtype: npt.DTypeLike | None = None,
) -> npt.NDArray[np.generic]:
    """Resample slices ``stack[k]`` (each placed by its own position and axes) to a regular grid.

    Parameters
    ----------
    stack
        ``(n, nj, ni)`` source slices, sorted along the normal.
    positions
        ``(n, 3)`` LPS mm of each source slice's voxel ``(0, 0)``.
    rows, cols
        ``(n, 3)`` unit LPS vectors of increasing column index i (row direction) and row index j.
    pixel_spacing
        ``(di, dj)`` mm of the source slices.
    origin, spacing, direction, size
        The output grid (SimpleITK conventions: ``direction`` columns are the i, j, k axes).
    fill
        Value outside the source slices.
    dtype
        Output type (default: the stack's); integers are rounded and clipped.

    Returns
    -------
    numpy.ndarray
        ``(nk, nj, ni)`` voxels.

    Examples
    --------
    Two slices 2 mm apart, resampled to 1 mm: the middle slice is their mean.

    >>> import numpy as np
    >>> stack = np.stack([np.zeros((2, 2)), np.full((2, 2), 10.0)]).astype(np.float32)
    >>> pos = [[0, 0, 0], [0, 0, 2]]
    >>> rows, cols = [[1, 0, 0]] * 2, [[0, 1, 0]] * 2
    >>> out = resample_slices(stack, pos, rows, cols, (1, 1), origin=(0, 0, 0),
    ...                       spacing=(1, 1, 1), direction=np.eye(3), size=(2, 2, 3))
    >>> out[:, 0, 0].tolist()
    [0.0, 5.0, 10.0]
    """
    src = np.asarray(stack)
    n = src.shape[0]
    pos = np.asarray(positions, float).reshape(n, 3)
    r = np.asarray(rows, float).reshape(n, 3)
    c = np.asarray(cols, float).reshape(n, 3)
    normals = np.cross(r, c)
    di, dj = float(pixel_spacing[0]), float(pixel_spacing[1])
    d = np.asarray(direction, float).reshape(3, 3)
    ti, tj, tk = d[:, 0], d[:, 1], d[:, 2]
    o = np.asarray(origin, float)
    sx, sy, sz = (float(v) for v in spacing)
    ni_t, nj_t, nk_t = (int(v) for v in size)
    out_dtype = np.dtype(dtype) if dtype is not None else src.dtype
    out = np.empty((nk_t, nj_t, ni_t), dtype=out_dtype)

    nj_s, ni_s = src.shape[1], src.shape[2]
    centres = pos + r * (ni_s - 1) * di / 2 + c * (nj_s - 1) * dj / 2
    dc = centres @ tk
    ii = np.arange(ni_t, dtype=float)[None, :]
    jj = np.arange(nj_t, dtype=float)[:, None]
    cache: dict[int, npt.NDArray[np.float32]] = {}

    def source(k: int) -> npt.NDArray[np.float32]:
        if k not in cache:
            if len(cache) > 2:
                cache.pop(min(cache))
            cache[k] = np.asarray(src[k], dtype=np.float32)
        return cache[k]

    def affine(
        base: npt.NDArray[np.float64], axis: npt.NDArray[np.float64], scale: float
    ) -> npt.NDArray[np.float64]:
        return (base @ axis) + ii * sx * float(ti @ axis) + jj * sy * float(tj @ axis)

    info = np.iinfo(out_dtype) if np.issubdtype(out_dtype, np.integer) else None
    for kt in range(nk_t):
        base = o + kt * sz * tk
        centre_t = base + ti * (ni_t - 1) * sx / 2 + tj * (nj_t - 1) * sy / 2
        k1 = int(np.clip(np.searchsorted(dc, centre_t @ tk), 1, max(n - 1, 1)))
        k0 = k1 - 1 if n > 1 else 0
        k1 = min(k1, n - 1)
        rel0 = base - pos[k0]
        rel1 = base - pos[k1]
        u0 = affine(rel0, r[k0], di) / di
        v0 = affine(rel0, c[k0], dj) / dj
        s0 = affine(rel0, normals[k0], 1.0)
        val0 = _bilinear(source(k0), u0, v0, fill)
        if k1 == k0:
            val = val0
        else:
            u1 = affine(rel1, r[k1], di) / di
            v1 = affine(rel1, c[k1], dj) / dj
            s1 = affine(rel1, normals[k1], 1.0)
            denom = s0 - s1
            with np.errstate(divide="ignore", invalid="ignore"):
                w = np.where(np.abs(denom) > 1e-9, s0 / denom, 0.0)
            # beyond the first or last source slice: nothing to interpolate from
            outside = ((w < -1e-3) & (k0 == 0)) | ((w > 1 + 1e-3) & (k1 == n - 1))
            w = np.clip(w, 0.0, 1.0).astype(np.float32)
            val1 = _bilinear(source(k1), u1, v1, fill)
            val = val0 * (1 - w) + val1 * w
            val[outside] = fill
        if info is not None:
            np.rint(val, out=val)
            np.clip(val, info.min, info.max, out=val)
        out[kt] = val
    return out
