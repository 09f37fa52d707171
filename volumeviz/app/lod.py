"""Level of detail for the 3D view: a block-averaged copy of a large volume (numpy only).

Kept apart from :mod:`volumeviz.app.scene` so the loading thread can build it without importing
VTK or pyvista.
"""

from __future__ import annotations

import numpy as np

from volumeviz.model.volume import Volume

#: the 3D view renders a block-averaged copy when a volume has more voxels than this
PREVIEW_MAX_VOXELS = 16_000_000


def preview_volume(vol: Volume, max_voxels: int = PREVIEW_MAX_VOXELS) -> Volume | None:
    """Return a block-averaged copy of ``vol`` for the 3D view, or None if it is small enough.

    Each side is reduced by the smallest integer factor ``f`` that brings the voxel count under
    ``max_voxels``; voxel ``(i, j, k)`` of the copy is the mean of the ``f^3`` block it covers and
    sits at that block's centre, so the copy occupies the same place in the patient. The fixed-
    point ray caster's first frame (gradients for shading) and every frame while dragging then
    cost about ``1/f^3`` as much; the 3D view is a few hundred pixels wide, so little is lost.
    The 2D views always show the full-resolution volume.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> vol = phantom.asymmetric(64, spacing=(0.5, 0.5, 1.0))
    >>> small = preview_volume(vol, max_voxels=40_000)
    >>> small.size, small.spacing
    ((32, 32, 32), (1.0, 1.0, 2.0))
    >>> bool(np.allclose(small.center_lps, vol.center_lps))
    True
    """
    n = int(vol.array.size)
    if n <= max_voxels:
        return None
    f = 2
    while n / f**3 > max_voxels:
        f += 1
    nk, nj, ni = (d // f for d in vol.array.shape)
    out = np.empty((nk, nj, ni), dtype=np.float32)
    for k in range(nk):  # one slab at a time: never a float copy of the whole volume
        block = vol.array[k * f : (k + 1) * f, : nj * f, : ni * f].astype(np.float32)
        out[k] = block.reshape(f, nj, f, ni, f).mean(axis=(0, 2, 4))
    arr = np.rint(out).astype(vol.array.dtype) if vol.array.dtype.kind in "iu" else out
    spacing = tuple(float(s) * f for s in vol.spacing)
    shift = np.asarray(vol.direction) @ (np.asarray(vol.spacing) * (f - 1) / 2)
    origin = tuple(float(c) for c in np.asarray(vol.origin) + shift)
    return vol.replace(array=arr, spacing=spacing, origin=origin)
