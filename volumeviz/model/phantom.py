"""Synthetic phantoms whose truth is known, for tests, docs and benchmarks.

The asymmetric phantom has a soft-tissue box (40 HU) in air (-1000 HU) and a bright bone block
(1000 HU) in the patient's **left, anterior, superior** corner, so any flip of left/right,
anterior/posterior or head/foot changes the picture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from volumeviz.model.volume import Volume, VolumeMeta

AIR_HU = -1000
TISSUE_HU = 40
MARKER_HU = 1000


def asymmetric(
    size: int | Sequence[int] = 64,
    *,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    direction: npt.ArrayLike | None = None,
    origin: Sequence[float] | None = None,
    modality: str = "CT",
) -> Volume:
    """A CT-like phantom with a marker block on the patient's left, anterior, superior side.

    The marker's LPS centre is in ``vol.meta.extra["marker_lps"]`` and its index box
    ``(i0, i1, j0, j1, k0, k1)`` (half-open) in ``vol.meta.extra["marker_box"]``.

    Examples
    --------
    >>> vol = asymmetric(32)
    >>> vol.size, vol.array.dtype.name
    ((32, 32, 32), 'int16')
    >>> x, y, z = vol.meta.extra["marker_lps"]
    >>> bool(x > vol.center_lps[0] and y < vol.center_lps[1] and z > vol.center_lps[2])
    True
    """
    ni, nj, nk = (size, size, size) if isinstance(size, int) else tuple(size)
    d = np.eye(3) if direction is None else np.asarray(direction, float).reshape(3, 3)
    sp = np.asarray(spacing, float)
    arr = np.full((nk, nj, ni), AIR_HU, dtype=np.int16)
    # body: the central 3/4 in every direction
    arr[nk // 8 : nk - nk // 8, nj // 8 : nj - nj // 8, ni // 8 : ni - ni // 8] = TISSUE_HU
    if origin is None:
        # centre the phantom on the LPS origin
        centre_idx = (np.array([ni, nj, nk], float) - 1) / 2
        origin = -(d @ (centre_idx * sp))
    vol0 = Volume(arr, origin=tuple(origin), spacing=tuple(sp), direction=d)

    # find the index-space box that sits on the patient's left (+x), anterior (-y), superior (+z)
    want = np.array([1.0, -1.0, 1.0])  # L, A, S in LPS
    # for each index axis, which end (low or high) is more "left/anterior/superior"
    box = []
    for axis, n in enumerate((ni, nj, nk)):
        score = float(d[:, axis] @ want)
        lo, hi = (n * 5) // 8, (n * 7) // 8 - 1  # within the body, near its edge
        if score < 0:
            lo, hi = n - 1 - hi, n - 1 - lo
        box += [lo, hi + 1]
    i0, i1, j0, j1, k0, k1 = box
    arr[k0:k1, j0:j1, i0:i1] = MARKER_HU
    centre = vol0.index_to_lps([(i0 + i1 - 1) / 2, (j0 + j1 - 1) / 2, (k0 + k1 - 1) / 2])
    meta = VolumeMeta(
        modality=modality,
        units="HU" if modality == "CT" else "",
        series_description="asymmetric phantom (marker: left anterior superior)",
        patient_name="PHANTOM^ASYMMETRIC",
        patient_id="PHANTOM",
        extra={"marker_lps": tuple(float(c) for c in centre), "marker_box": tuple(box)},
    )
    return vol0.replace(array=arr, meta=meta)


def head(
    shape: Sequence[int] = (300, 512, 512),
    *,
    spacing: Sequence[float] = (0.5, 0.5, 0.6),
    noise_hu: float = 12.0,
) -> Volume:
    """The benchmarks' CT head: an ellipsoid skull (900 HU) around brain (35 HU) in air.

    ``shape`` is ``(k, j, i)``; the default 512x512x300 int16 volume (150 MB) is the one
    ``scripts/bench_render.py`` renders and the mapper cost model is measured on. Noise of
    ``noise_hu`` (Gaussian, seeded per slice: the same volume every time) inside the head gives
    the per-voxel normals real work, as a scanner's noise does.

    Examples
    --------
    >>> vol = head((6, 32, 32), spacing=(1.0, 1.0, 2.0))
    >>> vol.size, int(vol.array[3, 16, 16]) in range(-20, 90), int(vol.array[3, 0, 0])
    ((32, 32, 6), True, -1000)
    """
    nk, nj, ni = (int(n) for n in shape)
    arr = np.full((nk, nj, ni), AIR_HU, np.int16)
    j, i = np.ogrid[:nj, :ni]
    for k in range(nk):
        z = (k - nk / 2) / (nk / 2)  # -1..1
        scale = np.sqrt(max(0.0, 1 - (z * 0.9) ** 2))
        r2 = ((i - ni / 2) / (0.42 * ni * scale + 1e-6)) ** 2 + (
            (j - nj / 2) / (0.46 * nj * scale + 1e-6)
        ) ** 2
        sl = arr[k]
        sl[r2 < 1.0] = 900  # skull
        sl[r2 < 0.86] = 35  # brain
        if noise_hu:
            noise = np.random.default_rng(k).normal(0, noise_hu, sl.shape).astype(np.int16)
            sl += np.where(r2 < 1.0, noise, 0).astype(np.int16)
    meta = VolumeMeta(
        modality="CT",
        units="HU",
        series_description=f"bench head phantom {ni}x{nj}x{nk}",
        patient_name="SYNTHETIC^PHANTOM",
        patient_id="SYNTH0001",
    )
    di, dj, dk = (float(x) for x in spacing)
    return Volume(arr, spacing=(di, dj, dk), meta=meta)


def rotation(axis: str, degrees: float) -> npt.NDArray[np.float64]:
    """3x3 rotation about LPS axis ``'x'``, ``'y'`` or ``'z'`` by ``degrees`` (right-handed).

    Examples
    --------
    >>> rotation("z", 90).round(6).tolist()
    [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    t = np.radians(degrees)
    c, s = np.cos(t), np.sin(t)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    if axis == "z":
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
