"""Segmentations drawn over images: MPR fill + outline, 3D surfaces, RTSTRUCT lines, a legend.

Everything here takes segmentations that io has already placed on the image's grid
(:func:`volumeviz.io.seg.place_on`); render reads no files.

- 2D: :func:`overlay_rgba` samples every segment at the pixel centres of a resliced plane
  (nearest neighbour, :func:`volumeviz.ops.regrid.plane_masks`) and composites a translucent fill
  (``opacity`` × the fraction, for fractional segments) and an opaque one-pixel outline, in the
  segment's own colour; :func:`add_overlay_2d` lays that RGBA image exactly over the grey slice
  of :func:`volumeviz.render.planes.add_slice` (same pixel grid, no interpolation).
- 3D: :func:`add_segment_surfaces` turns each mask into a smooth closed surface with VTK's
  ``vtkSurfaceNets3D`` (a labelmap-to-surface filter with built-in constrained smoothing: the
  surface never moves more than a voxel from the mask's boundary), placed in LPS with the same
  user matrix as the volume (:mod:`volumeviz.render.convert`); an RTSTRUCT's own contours are
  drawn with it as closed lines in LPS.
- The legend lists each shown segment in its colour. Segment labels are free text and may
  identify the patient: with ``anonymize`` only the coded type (e.g. ``Liver``) or
  ``segment N`` is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.model.deid import Redactor, SafeText
from volumeviz.model.segmentation import Segment, Segmentation
from volumeviz.ops.mpr import Slice2D
from volumeviz.ops.regrid import plane_masks

__all__ = [
    "OverlayStyle",
    "add_legend",
    "add_overlay_2d",
    "add_segment_surfaces",
    "legend_entries",
    "legend_label",
    "overlay_rgba",
]


@dataclass(frozen=True)
class OverlayStyle:
    """How segmentations are drawn (fields of the render view state).

    Attributes
    ----------
    opacity
        Fill opacity in 2D (0 = outlines only), and of the 3D surfaces.
    outline
        Draw the 2D outline (one slice pixel wide, opaque).
    fill
        Fill the 2D regions.
    surfaces
        Show 3D surfaces in 3D views.
    surface_opacity
        Opacity of the 3D surfaces (below 1 the volume rendering shows through).
    hidden
        Segment labels (or numbers as text) not to draw.
    legend
        Show the legend.
    """

    opacity: float = 0.4
    outline: bool = True
    fill: bool = True
    surfaces: bool = True
    hidden: frozenset[str] = field(default_factory=frozenset)
    legend: bool = True
    surface_opacity: float = 1.0

    def shows(self, s: Segment) -> bool:
        """True unless ``s`` is hidden (by label or number)."""
        return s.label not in self.hidden and str(s.number) not in self.hidden


def legend_label(s: Segment, *, anonymize: bool = False) -> str:
    """The text shown for a segment: its label, or (anonymized) its coded type / number.

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.segmentation import Code
    >>> s = Segment(2, "Mr Smith's liver", (1, 0, 0), np.ones((1, 1, 1), bool),
    ...             type=Code("10200004", "SCT", "Liver"))
    >>> legend_label(s), legend_label(s, anonymize=True)
    ("Mr Smith's liver", 'Liver')
    """
    if not anonymize:
        return s.label
    if s.type is not None and s.type.meaning:
        return s.type.meaning
    return f"segment {s.number}"


def legend_entries(
    segs: Sequence[Segmentation],
    style: OverlayStyle | None = None,
    *,
    redact: Redactor | None = None,
    anonymize: bool = False,
) -> list[tuple[SafeText, tuple[float, float, float]]]:
    """``[(text, rgb)]`` of every shown, non-empty segment, in order.

    Every text passes through ``redact`` (the picture's scrubber; an inactive one when nothing
    is anonymised), after :func:`legend_label` has replaced free-text labels when anonymising.
    """
    st = style or OverlayStyle()
    rd = redact or Redactor.off()
    return [
        (rd(legend_label(s, anonymize=anonymize)), s.color)
        for seg in segs
        for s in seg.segments
        if st.shows(s) and not s.empty
    ]


def _boundary(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Pixels of ``mask`` with a 4-neighbour outside it (the image edge counts as outside)."""
    p = np.pad(mask, 1, constant_values=False)
    inner = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return mask & ~inner


def overlay_rgba(
    plane: Slice2D, segs: Sequence[Segmentation], style: OverlayStyle | None = None
) -> npt.NDArray[np.uint8]:
    """The segmentations on one resliced plane as an RGBA image ``(rows, cols, 4)`` uint8.

    Later segments are composited over earlier ones ("over" operator), so where segments
    overlap both colours stay visible through the translucent fill; outlines are opaque.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> from volumeviz.model.segmentation import Grid
    >>> from volumeviz.ops.mpr import reslice
    >>> vol = phantom.asymmetric(16)
    >>> seg = Segmentation.from_labelmap((vol.array > 500).astype(np.uint8), Grid.of(vol))
    >>> s = reslice(vol, "axial", point=vol.meta.extra["marker_lps"])
    >>> rgba = overlay_rgba(s, [seg])
    >>> bool(rgba[..., 3].max() == 255), bool((rgba[..., 3] > 0).sum() > 0)
    (True, True)
    """
    st = style or OverlayStyle()
    rows, cols = plane.shape
    acc = np.zeros((rows, cols, 3), np.float32)  # premultiplied colour
    alpha = np.zeros((rows, cols), np.float32)

    def over(a: npt.NDArray[np.float32], rgb: tuple[float, float, float]) -> None:
        nonlocal acc, alpha
        c = np.asarray(rgb, np.float32)
        acc = acc * (1 - a[..., None]) + c * a[..., None]
        alpha = alpha * (1 - a) + a

    for seg in segs:
        for s, m in plane_masks(seg, plane):
            if not st.shows(s):
                continue
            weight = m.astype(np.float32)
            inside = m if m.dtype == bool else m >= 0.5
            if st.fill and st.opacity > 0:
                over(np.float32(st.opacity) * weight, s.color)
            if st.outline:
                over(_boundary(inside).astype(np.float32), s.color)
    out = np.zeros((rows, cols, 4), np.uint8)
    safe = np.where(alpha > 0, alpha, 1.0)
    out[..., :3] = np.clip(np.rint(acc / safe[..., None] * 255), 0, 255).astype(np.uint8)
    out[..., 3] = np.clip(np.rint(alpha * 255), 0, 255).astype(np.uint8)
    return out


def add_overlay_2d(pl: Any, plane: Slice2D, rgba: npt.NDArray[np.uint8]) -> Any:
    """Lay ``rgba`` (from :func:`overlay_rgba`) over the slice drawn by ``add_slice``.

    The same pixel grid as the grey image (row 0 at the top), 0.01 mm nearer the 2D camera, no
    interpolation (a boundary stays on the pixel it belongs to). Returns the vtkImageActor.
    """
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkRenderingCore import vtkImageActor

    rows, cols = plane.shape
    flipped = np.ascontiguousarray(rgba[::-1])  # VTK's y goes up
    img = vtkImageData()
    img.SetDimensions(cols, rows, 1)
    img.SetSpacing(plane.spacing[1], plane.spacing[0], 1.0)
    img.SetOrigin(0.0, 0.0, 0.01)
    arr = numpy_to_vtk(flipped.reshape(-1, 4), deep=True)
    arr.SetName("overlay")
    img.GetPointData().SetScalars(arr)
    actor = vtkImageActor()
    actor.GetMapper().SetInputData(img)
    actor.InterpolateOff()
    actor.GetProperty().SetOpacity(1.0)
    pl.renderer.AddActor(actor)
    return actor


def add_legend(
    pl: Any,
    entries: Sequence[tuple[SafeText, tuple[float, float, float]]],
    *,
    font_size: int | None = None,
    bottom: float = 0.02,
) -> list[Any]:
    """Write each ``(text, rgb)`` in its colour, one per line, in the viewport's lower right.

    The lower right is the corner the view annotations leave free (upper left: series, upper
    right: patient, lower left: plane and window). Lines stack upward by 1.3 × ``font_size``
    display pixels (default: 1/35 of the viewport height, at least 12), the first entry on
    top, from ``bottom`` (a fraction of the viewport height; 3D views start above the
    orientation cube). Returns the text actors (top first).
    """
    from vtkmodules.vtkRenderingCore import vtkTextActor

    _, h = pl.renderer.GetSize()
    h = max(int(h), 1)
    if font_size is None:  # readable at any picture size: about 1/35 of the viewport height
        font_size = max(12, round(h / 35))
    actors = []
    for n, (text, rgb) in enumerate(entries):
        a = vtkTextActor()
        a.SetInput(text)
        prop = a.GetTextProperty()
        prop.SetFontSize(font_size)
        prop.SetColor(*rgb)
        prop.SetBold(1)
        prop.SetJustificationToRight()
        prop.SetVerticalJustificationToBottom()
        prop.SetShadow(1)
        coord = a.GetPositionCoordinate()
        coord.SetCoordinateSystemToNormalizedViewport()
        up = len(entries) - 1 - n
        coord.SetValue(0.985, bottom + (up * 1.3 * font_size) / h)
        pl.renderer.AddViewProp(a)
        actors.append(a)
    return actors


def add_segment_surfaces(
    pl: Any,
    segs: Sequence[Segmentation],
    style: OverlayStyle | None = None,
    *,
    smooth_iterations: int = 16,
) -> list[Any]:
    """Add one smooth surface per shown segment to ``pl``'s active renderer (LPS mm).

    Fractional segments are cut at 0.5. Returns the actors (one per non-empty segment); a
    segment with RTSTRUCT contours also gets them as lines, added to the renderer and kept on
    its surface actor as ``_volumeviz_contours`` (to hide or remove them with it).
    """
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkFiltersCore import vtkSurfaceNets3D
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    from volumeviz.render.convert import vtk_matrix

    st = style or OverlayStyle()
    actors = []
    for seg in segs:
        g = seg.grid
        m = np.eye(4)
        m[:3, :3] = g.direction
        m[:3, 3] = g.origin
        for s in seg.segments:
            if not st.shows(s) or s.empty:
                continue
            inside = s.mask if s.mask.dtype == bool else s.mask >= 0.5
            block = np.pad(inside.astype(np.uint8), 1)  # closed surfaces at the block's edges
            nk, nj, ni = block.shape
            img = vtkImageData()
            img.SetDimensions(ni, nj, nk)
            img.SetSpacing(*g.spacing)
            k0, j0, i0 = s.offset
            img.SetOrigin(
                (i0 - 1) * g.spacing[0], (j0 - 1) * g.spacing[1], (k0 - 1) * g.spacing[2]
            )
            arr = numpy_to_vtk(np.ascontiguousarray(block).reshape(-1), deep=True)
            arr.SetName("label")
            img.GetPointData().SetScalars(arr)
            nets = vtkSurfaceNets3D()
            nets.SetInputData(img)
            nets.SetLabel(0, 1.0)
            nets.SetBackgroundLabel(0.0)
            nets.SetOutputMeshTypeToTriangles()
            if smooth_iterations > 0:
                nets.SmoothingOn()
                nets.SetNumberOfIterations(smooth_iterations)
            else:
                nets.SmoothingOff()
            nets.Update()
            mapper = vtkPolyDataMapper()
            mapper.SetInputData(nets.GetOutput())
            mapper.ScalarVisibilityOff()
            actor = vtkActor()
            actor.SetMapper(mapper)
            prop = actor.GetProperty()
            prop.SetColor(*s.color)
            prop.SetOpacity(float(st.surface_opacity))
            prop.SetSpecular(0.2)
            actor.SetUserMatrix(vtk_matrix(m))
            actor._volumeviz_segment = s.label  # type: ignore[attr-defined]
            pl.renderer.AddActor(actor)
            actors.append(actor)
            if s.contours:
                lines = _contour_lines(s)
                lines._volumeviz_segment = s.label
                pl.renderer.AddActor(lines)
                actor._volumeviz_contours = lines  # type: ignore[attr-defined]
    return actors


def _contour_lines(s: Segment) -> Any:
    """The RTSTRUCT contours of ``s`` as closed polylines in LPS (an opaque line actor)."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
    from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

    pts = np.concatenate(s.contours, axis=0)
    points = vtkPoints()
    points.SetData(numpy_to_vtk(np.ascontiguousarray(pts, float), deep=True))
    cells = vtkCellArray()
    start = 0
    for c in s.contours:
        n = len(c)
        cells.InsertNextCell(n + 1)
        for k in range(n):
            cells.InsertCellPoint(start + k)
        cells.InsertCellPoint(start)  # closed
        start += n
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetLines(cells)
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(poly)
    mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*s.color)
    actor.GetProperty().SetLineWidth(2.0)
    actor.GetProperty().LightingOff()
    return actor
