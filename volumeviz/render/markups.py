"""Measurements drawn on 2D MPR views: lines, angles, points and ellipses with their values.

A :class:`~volumeviz.ops.measure.Markup` is drawn on a plane when all its LPS points lie on it
(within half the thickest voxel spacing, or half the slab): its points are projected to pixels
with :meth:`~volumeviz.ops.mpr.Slice2D.lps_to_pixel` and placed as :mod:`volumeviz.render.planes`
places the image, so a drawn 10 mm line covers 10 mm of the picture. The value next to it is
:func:`~volumeviz.ops.measure.describe_markup`, the same line the window lists; it is placed by
the cell's text layout (:mod:`volumeviz.render.layout`), as every other word on the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvista as pv

from volumeviz.model.deid import Redactor, SafeText
from volumeviz.model.volume import Volume
from volumeviz.ops.measure import Markup, describe_markup
from volumeviz.ops.mpr import Slice2D
from volumeviz.render.layout import CellText
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


@dataclass(frozen=True)
class MarkupLabel:
    """A markup's short value, the point it is written beside and what is drawn.

    Renderer coordinates; ``outline`` is the drawn polyline, which the value should not cover.
    """

    text: SafeText
    anchor: tuple[float, float, float]
    outline: tuple[tuple[float, float, float], ...] = ()
    color: tuple[float, float, float] = COLOR


def add_markups(
    pl: Any,
    s: Slice2D,
    vol: Volume,
    markups: Sequence[Markup],
    *,
    redact: Redactor,
    tag: str = "",
) -> tuple[list[str], list[MarkupLabel]]:
    """Draw the markups lying on ``s`` into ``pl``'s active renderer.

    Each markup is a polyline (distance, angle), a small cross (point) or an outline (ellipse).
    Markups off this plane are left out. Returns the full lines (for the picture's metadata and
    lists) and, for each markup drawn, its short value with the point it belongs beside: the
    caller lays these out with the rest of the cell's text
    (:meth:`volumeviz.render.layout.CellText.add_label`, after :func:`label_pixel`), so a
    value never covers a letter, the scale bar, a corner line or another value. Every text
    goes through ``redact`` (:func:`volumeviz.render.annotations.redactor_for` the volume), as
    all picture text does.
    """
    tol = on_plane_tolerance(vol, s)
    texts: list[str] = []
    labels: list[MarkupLabel] = []
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
        # written above its highest point (the picture's y is up), clear of the drawn line
        top = pts[int(np.argmax(pts[:, 1]))]
        anchor = (float(top[0]), float(top[1]), float(top[2]))
        outline = tuple((float(x), float(y), float(z)) for x, y, z in pts)
        labels.append(MarkupLabel(redact(describe_markup(vol, m, short=True)), anchor, outline))
    return texts, labels


def label_pixel(
    renderer: Any, size: tuple[int, int], world: Sequence[float]
) -> tuple[float, float]:
    """Cell pixel (origin top-left) of renderer point ``world`` under a parallel camera.

    Computed from the camera (focal point, view-up, parallel scale) and the cell ``size``, not
    asked of VTK, which may not know the final window size before the first render.
    """
    cam = renderer.GetActiveCamera()
    dop = np.asarray(cam.GetDirectionOfProjection(), float)
    up = np.asarray(cam.GetViewUp(), float)
    up = up - (up @ dop) * dop
    up /= np.linalg.norm(up)
    right = np.cross(dop, up)
    scale = float(cam.GetParallelScale())
    px_per_mm = size[1] / (2.0 * scale) if scale > 0 else 0.0
    d = np.asarray(world, float) - np.asarray(cam.GetFocalPoint(), float)
    return (size[0] / 2 + float(d @ right) * px_per_mm, size[1] / 2 - float(d @ up) * px_per_mm)


def add_labels(
    cell: CellText, renderer: Any, size: tuple[int, int], labels: Sequence[MarkupLabel]
) -> CellText:
    """Put markup values on ``cell`` beside their points (and keep their drawings clear)."""
    for lab in labels:
        if lab.outline:
            cell.keep_clear(label_pixel(renderer, size, p) for p in lab.outline)
    for lab in labels:
        cell.add_label(lab.text, label_pixel(renderer, size, lab.anchor), color=lab.color)
    return cell
