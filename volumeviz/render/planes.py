"""2D MPR views: a :class:`~volumeviz.ops.mpr.Slice2D` shown flat, windowed, the right way up.

The image lies in z=0 of its renderer with x = column * col_mm and y = (rows-1-row) * row_mm, so
row 0 is at the top and the screen's right is the slice's ``right`` (patient left, radiological).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkRenderingCore import vtkImageActor

from volumeviz.ops.mpr import Slice2D
from volumeviz.transfer import WindowLevel


def slice_extent_mm(s: Slice2D) -> tuple[float, float]:
    """Return ``(width, height)`` in mm spanned by the pixel centres of ``s``."""
    rows, cols = s.shape
    return ((cols - 1) * s.spacing[1], (rows - 1) * s.spacing[0])


def slice_to_world(s: Slice2D, row: float, col: float) -> tuple[float, float]:
    """Return the renderer's ``(x, y)`` of pixel ``(row, col)`` of ``s``."""
    rows, _ = s.shape
    return (col * s.spacing[1], (rows - 1 - row) * s.spacing[0])


def add_slice(pl: Any, s: Slice2D, window: WindowLevel) -> vtkImageActor:
    """Add ``s`` as a grey image, windowed by ``window``, to ``pl``'s active renderer."""
    grey = window.apply(s.array)[::-1]  # VTK's y goes up: flip rows so row 0 is at the top
    grey = np.ascontiguousarray(grey)
    rows, cols = s.shape
    img = vtkImageData()
    img.SetDimensions(cols, rows, 1)
    img.SetSpacing(s.spacing[1], s.spacing[0], 1.0)
    img.SetOrigin(0.0, 0.0, 0.0)
    arr = numpy_to_vtk(grey.reshape(-1), deep=True)
    arr.SetName("grey")
    img.GetPointData().SetScalars(arr)
    actor = vtkImageActor()
    actor.GetMapper().SetInputData(img)
    actor.InterpolateOn()
    pl.renderer.AddActor(actor)
    return actor
