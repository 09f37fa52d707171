"""Measurements drawn on 2D MPR views: lines, angles, points and ellipses with their values.

A :class:`~volumeviz.ops.measure.Markup` is drawn on a plane when all its LPS points lie on it
(within half the thickest voxel spacing, or half the slab): its points are projected to pixels
with :meth:`~volumeviz.ops.mpr.Slice2D.lps_to_pixel` and placed as :mod:`volumeviz.render.planes`
places the image, so a drawn 10 mm line covers 10 mm of the picture. The value next to it is
:func:`~volumeviz.ops.measure.describe_markup`, the same line the window lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvista as pv
from vtkmodules.vtkRenderingCore import vtkTextActor

from volumeviz.model.deid import Redactor
from volumeviz.model.volume import Volume
from volumeviz.ops.measure import Markup, describe_markup
from volumeviz.ops.mpr import Slice2D
from volumeviz.render.planes import slice_to_world

#: colour of measurements (bright on grey images, distinct from the crosshair colours)
COLOR = (1.0, 0.85, 0.1)
#: height of drawn lines above the image (towards the camera), in renderer units (mm)
_LIFT = 0.6


def on_plane_tolerance(vol: Volume, s: Slice2D) -> float:
    """How far (mm) a point may lie from the plane of ``s`` and still be drawn on it."""
    return max(0.5 * float(max(vol.spacing)), 0.5 * float(s.slab_mm), 1e-3)


def lies_on(markup: Markup, s: Slice2D, tolerance_mm: float) -> bool:
    """True when every point of ``markup`` lies within ``tolerance_mm`` of the plane of ``s``."""
    return all(abs(s.lps_to_pixel(p)[2]) <= tolerance_mm for p in markup.points)


def _world(s: Slice2D, lps: Sequence[float]) -> npt.NDArray[np.float64]:
    row, col, _ = s.lps_to_pixel(lps)
    x, y = slice_to_world(s, row, col)
    return np.array([x, y, _LIFT])


def _ellipse_outline(s: Slice2D, points: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
    c, a, b = (np.asarray(p, float) for p in points)
    t = np.linspace(0.0, 2 * np.pi, 73)
    ring = c + np.cos(t)[:, None] * (a - c) + np.sin(t)[:, None] * (b - c)
    return np.array([_world(s, p) for p in ring])


def markup_polyline(s: Slice2D, markup: Markup) -> npt.NDArray[np.float64]:
    """The renderer points ``(n, 3)`` drawn for ``markup`` on plane ``s`` (z lifted above it)."""
    if markup.kind == "ellipse":
        return _ellipse_outline(s, markup.points)
    return np.array([_world(s, p) for p in markup.points])


def _thick(pl: Any, lines: pv.PolyData, px: float = 2.0) -> pv.PolyData:
    """``lines`` as a flat tube ``px`` screen pixels wide.

    OpenGL line widths above 1 px are not drawn alike by every context: an offscreen render in a
    process that also shows a Qt window got 1-px lines.
    """
    _, y0, _, y1 = (float(v) for v in pl.renderer.GetViewport())
    height_px = max(1.0, float(pl.window_size[1]) * (y1 - y0))
    mm_per_px = 2.0 * float(pl.renderer.GetActiveCamera().GetParallelScale()) / height_px
    return lines.tube(radius=px / 2 * mm_per_px, n_sides=8)


def add_markups(
    pl: Any,
    s: Slice2D,
    vol: Volume,
    markups: Sequence[Markup],
    *,
    redact: Redactor,
    font_size: int = 12,
    tag: str = "",
) -> list[str]:
    """Draw the markups lying on ``s`` into ``pl``'s active renderer; return their texts.

    Each markup is a polyline (distance, angle), a small cross (point) or an outline (ellipse),
    with its short value written beside it; the full lines are returned (for the picture's
    metadata and lists). Markups off this plane are left out. Every text goes through
    ``redact`` (:func:`volumeviz.render.annotations.redactor_for` the volume), as all picture
    text does.
    """
    tol = on_plane_tolerance(vol, s)
    texts: list[str] = []
    width = max(s.shape[1] * s.spacing[1], s.shape[0] * s.spacing[0])
    for n, m in enumerate(markups):
        if not lies_on(m, s, tol):
            continue
        pts = markup_polyline(s, m)
        name = f"markup-{tag}-{n}"
        if m.kind == "point":
            r = width * 0.012
            (x, y, z) = pts[0]
            for k, (dx, dy) in enumerate(((r, 0.0), (0.0, r))):
                line = pv.Line((x - dx, y - dy, z), (x + dx, y + dy, z))
                pl.add_mesh(_thick(pl, line), color=COLOR, name=f"{name}-{k}", lighting=False)
        else:
            poly = pv.lines_from_points(pts)
            pl.add_mesh(_thick(pl, poly), color=COLOR, name=name, lighting=False)
            ends = pv.PolyData(pts[[0, -1]] if m.kind != "ellipse" else pts[:1])
            pl.add_mesh(
                ends, color=COLOR, point_size=6, name=f"{name}-ends", lighting=False,
                render_points_as_spheres=False,
            )  # fmt: skip
        # a markup's label is typed by a person: it goes through the picture's redactor
        texts.append(redact(describe_markup(vol, m)))
        text = redact(describe_markup(vol, m, short=True))
        anchor = pts[0] if m.kind in ("point", "ellipse") else pts[int(np.argmax(pts[:, 1]))]
        label = vtkTextActor()
        label.SetInput(text)
        prop = label.GetTextProperty()
        prop.SetFontSize(font_size)
        prop.SetColor(*COLOR)
        prop.SetShadow(True)
        prop.SetVerticalJustificationToBottom()
        offset = width * 0.015
        if anchor[0] > 0.5 * s.shape[1] * s.spacing[1]:  # right half: write towards the left
            prop.SetJustificationToRight()
            offset = -offset
        coord = label.GetPositionCoordinate()
        coord.SetCoordinateSystemToWorld()
        coord.SetValue(float(anchor[0] + offset), float(anchor[1] + abs(offset)), _LIFT)
        pl.renderer.AddViewProp(label)
    return texts
