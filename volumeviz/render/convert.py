"""THE one place a Volume becomes VTK data: ``pv.ImageData`` plus the actor ``user_matrix``.

The grid keeps the voxel spacing (so opacity per mm is right) and sits at the origin with an
identity direction; the volume's rotation and origin go into the prop's user matrix
(``vol.rigid_ijk_to_lps``), because VTK's fixed-point mapper ignores
``ImageData.direction_matrix`` (pyvista #7837; see PLATFORM.md). World coordinates are LPS mm.

The voxels are shared, not copied: ``vol.array`` (k, j, i) in C order is already VTK's
i-fastest order. One exception: a floating-point volume of fewer than
:data:`THIN_FLOAT_SLICES` slices is copied into a buffer with :data:`OVERREAD_SLACK_SLICES`
zero slices after it, because VTK's fixed-point ray caster reads past the end of such a buffer
(measured: 2-3 slices beyond for 2-4 float32 slices; a crash when the next page is unmapped,
e.g. an array made in the window's loader thread).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyvista as pv
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonMath import vtkMatrix4x4

from volumeviz.model.volume import Volume

SCALARS = "values"
#: floating-point volumes with fewer slices than this get slack after their buffer (see above)
THIN_FLOAT_SLICES = 8
#: zero slices after a thin floating-point volume's voxels (VTK over-reads 2-3 slices)
OVERREAD_SLACK_SLICES = 8


def volume_to_grid(vol: Volume) -> pv.ImageData:
    """Wrap ``vol`` as an axis-aligned ``pv.ImageData`` in scaled index space (no voxel copy).

    Point ``(i, j, k)`` of the grid is at ``(i*di, j*dj, k*dk)``; apply :func:`user_matrix` to
    place it in LPS.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> grid = volume_to_grid(phantom.asymmetric(8, spacing=(1, 2, 3)))
    >>> grid.dimensions, grid.spacing, grid.origin
    ((8, 8, 8), (1.0, 2.0, 3.0), (0.0, 0.0, 0.0))
    """
    arr = vol.array
    ni, nj, nk = vol.size
    if arr.dtype.kind == "f" and nk < THIN_FLOAT_SLICES:
        # VTK's fixed-point mapper reads past the end of thin float buffers: give it slack
        padded = np.zeros((nk + OVERREAD_SLACK_SLICES, nj, ni), arr.dtype)
        padded[:nk] = arr
        arr = padded[:nk]  # C-contiguous, and the slack is owned by the same buffer
    elif not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)  # a view's copy, same dtype: never float64
    grid = pv.ImageData(dimensions=(ni, nj, nk), spacing=vol.spacing, origin=(0.0, 0.0, 0.0))
    flat = arr.reshape(-1)
    vtk_arr = numpy_to_vtk(flat, deep=False)
    vtk_arr.SetName(SCALARS)
    grid.GetPointData().SetScalars(vtk_arr)
    # keep the numpy buffer alive as long as the grid
    grid._volumeviz_buffer = flat
    return grid


def user_matrix(vol: Volume) -> npt.NDArray[np.float64]:
    """Return the 4x4 matrix taking the grid of :func:`volume_to_grid` to LPS mm."""
    return np.asarray(vol.rigid_ijk_to_lps, dtype=float)


def vtk_matrix(m: npt.ArrayLike) -> Any:
    """Return a ``vtkMatrix4x4`` holding the 4x4 ``m``."""
    vm = vtkMatrix4x4()
    a = np.asarray(m, float).reshape(4, 4)
    for r in range(4):
        for c in range(4):
            vm.SetElement(r, c, float(a[r, c]))
    return vm


def grid_bounds_lps(vol: Volume) -> npt.NDArray[np.float64]:
    """Return the LPS axis-aligned bounds ``(xmin, xmax, ymin, ymax, zmin, zmax)`` of ``vol``."""
    c = vol.corners_lps()
    return np.array([c[:, 0].min(), c[:, 0].max(), c[:, 1].min(), c[:, 1].max(),
                     c[:, 2].min(), c[:, 2].max()])  # fmt: skip
