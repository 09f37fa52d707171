"""On-screen annotations: orientation letters, scale bar, orientation marker and text.

Letters come from geometry (:meth:`Slice2D.edge_letters`), never from a table of plane names, so
an oblique plane is labelled with what it really shows (``"AS"``, ``"LP"`` ...).

What a cell shows is built as a :class:`~volumeviz.render.layout.CellText` by
:func:`plane_text` (a 2D view) or :func:`volume_text` (a 3D view), laid out by
:func:`volumeviz.render.layout.layout_cell` (sizes from the cell's pixels and the output dpi, no
overlap, the less important lines dropped first) and drawn by :class:`Overlay` in screen space.
The offscreen pictures and the window's live panels use the same three steps.

Text drawn on a picture is :class:`~volumeviz.model.deid.SafeText`: it has been through a
:class:`~volumeviz.model.deid.Redactor` (active when the output is anonymised, a no-op
otherwise). Build it with ``redact(text)`` or ``redact.lines([...])``, where ``redact`` is
:func:`redactor_for` the volume being drawn.

What a picture may show at all is decided in ONE place,
:func:`volumeviz.model.geometry.annotation_rule` (via :func:`rule_for`): a Volume without a patient
frame (a projection radiograph, or geometry assumed) gets no LPS letters, no orientation cube, no
position in mm and no plane name; no scale bar where the pixel spacing is assumed; and a visible
note where geometry is unknown. :func:`plane_text` and :func:`volume_text` take the Volume and
ask that rule, so no picture (screenshot, Scene, report, window panel) can bypass it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvista as pv
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor2D,
    vtkCoordinate,
    vtkPolyDataMapper2D,
    vtkTextActor,
    vtkTextProperty,
)

from volumeviz.model.dates import format_date
from volumeviz.model.deid import Identity, Redactor, SafeText
from volumeviz.model.geometry import AnnotationRule, annotation_rule
from volumeviz.model.stamps import loader_actions
from volumeviz.model.volume import GeometryIssue, Volume, VolumeMeta
from volumeviz.ops.mpr import Slice2D
from volumeviz.render.layout import CellLayout, CellText, Placed, Priority, Reserved, layout_cell
from volumeviz.transfer import WindowLevel

LETTER_COLOUR = "yellow"
TEXT_COLOUR = "white"
#: the marker's face and letter colours by LPS axis (x: L/R, y: P/A, z: S/I)
AXIS_COLOURS = ((1.0, 0.45, 0.45), (0.45, 0.95, 0.45), (0.55, 0.65, 1.0))
#: the six marker letters: LPS direction -> letter
MARKER_LETTERS: tuple[tuple[tuple[float, float, float], str], ...] = (
    ((1.0, 0.0, 0.0), "L"),
    ((-1.0, 0.0, 0.0), "R"),
    ((0.0, 1.0, 0.0), "P"),
    ((0.0, -1.0, 0.0), "A"),
    ((0.0, 0.0, 1.0), "S"),
    ((0.0, 0.0, -1.0), "I"),
)


#: distance of the marker letters from the cube's centre, in half-sides
LETTER_RADIUS = 1.6


def _color(color: str) -> tuple[float, float, float]:
    c = pv.Color(color)
    return (float(c.float_rgb[0]), float(c.float_rgb[1]), float(c.float_rgb[2]))


# -- what to show ----------------------------------------------------------------------------


def rule_for(vol: Volume) -> AnnotationRule:
    """What pictures of ``vol`` may show (:func:`volumeviz.model.geometry.annotation_rule`)."""
    return annotation_rule(vol.geometry)


def edge_letters(vol: Volume, s: Slice2D) -> dict[str, str]:
    """The letters the four edges of slice ``s`` of ``vol`` may carry (``{}``: none).

    Patient geometry: LPS letters from the slice's right/down vectors. Otherwise (0020,0020)
    Patient Orientation letters, only when the slice shows the stored image plane.
    """
    rule = rule_for(vol)
    if rule.patient_letters:
        return s.edge_letters()
    d = vol.direction
    return rule.projection_letters(d.T @ s.right, d.T @ s.down)


def plane_caption(vol: Volume, s: Slice2D) -> list[str]:
    """The lines naming a 2D view: plane and position in mm, or what the image is instead.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> from volumeviz.ops.mpr import reslice
    >>> vol = phantom.asymmetric(8)
    >>> plane_caption(vol, reslice(vol, "axial"))
    ['axial', 'at +0.0 mm']
    """
    rule = rule_for(vol)
    if rule.plane_names:
        lines = [s.plane]
        if rule.position_mm:
            lines.append(f"at {s.position_mm:+.1f} mm")
        return lines
    # no patient frame: the stored image plane (one frame of it), or a cut across the frames
    if abs(float(s.normal @ vol.slice_normal)) < 1 - 1e-6:
        return [f"{rule.label}: cut across the frames"]
    lines = [rule.label]
    if vol.size[2] > 1:
        k = round(float(vol.lps_to_index(s.center)[2]))
        lines.append(f"frame {k + 1} of {vol.size[2]}")
    return lines


def redactor_for(meta: VolumeMeta, *, anonymize: bool) -> Redactor:
    """The :class:`Redactor` every annotation of ``meta``'s pictures goes through.

    Active (removing ``meta``'s identity and every date) when ``anonymize``, else a no-op.
    """
    return Redactor(Identity.of(meta)) if anonymize else Redactor.off()


def nice_length(max_mm: float) -> float:
    """Return the largest 1, 2 or 5 x 10^n mm not above ``max_mm`` (a scale bar's length).

    Examples
    --------
    >>> nice_length(37.0), nice_length(120.0), nice_length(0.8)
    (20.0, 100.0, 0.5)
    """
    if not max_mm > 0:
        raise ValueError("scale bar needs a positive length")
    exp = math.floor(math.log10(max_mm))
    for m in (5.0, 2.0, 1.0):
        length = m * 10.0**exp
        if length <= max_mm * (1 + 1e-9):
            return length
    return 10.0 ** (exp - 1) * 5.0  # pragma: no cover - unreachable for max_mm > 0


def meta_lines(meta: VolumeMeta, redact: Redactor) -> list[tuple[str, SafeText, int]]:
    """``(corner, text, priority)`` of the series' own lines: description, modality, patient.

    For one volume of a series with extra dimensions, which one it is (``time 3/10 (4 s)``, from
    ``meta.dims``) goes lower left with :attr:`Priority.INDEX`, next to the plane and position.

    With an active ``redact`` (anonymised output) the patient's name, ID and institution and
    the study date are left out, and what is left is scrubbed of the identity.
    """
    out: list[tuple[str, SafeText, int]] = []
    anonymous = redact.active
    for text, prio in ((meta.series_description, Priority.DESCRIPTION),
                       (meta.modality, Priority.MODALITY)):  # fmt: skip
        if text:
            out.append(("upper_left", redact(text), prio))
    if meta.study_date and not anonymous:
        out.append(("upper_left", redact(format_date(meta.study_date)), Priority.DATE))
    if meta.dims:  # which volume of a series with extra dimensions: "time 3/10 (4 s)"
        label = " · ".join(d.label for d in meta.dims)
        out.append(("lower_left", redact(label), Priority.INDEX))
    if not anonymous:
        for text, prio in (
            (meta.patient_name, Priority.PATIENT_NAME),
            (f"ID {meta.patient_id}" if meta.patient_id else "", Priority.PATIENT_ID),
            (meta.institution, Priority.INSTITUTION),
        ):
            if text:
                out.append(("upper_right", redact(text), prio))
    return out


def info_lines(
    meta: VolumeMeta,
    *,
    anonymize: bool = False,
    extra: tuple[str, ...] = (),
    redact: Redactor | None = None,
) -> dict[str, SafeText]:
    r"""Return the corner texts for a view: ``{"upper_left": ..., "upper_right": ...}``.

    Upper left: series description, modality, date; upper right: patient name and ID; lower
    left, for one volume of a series with extra dimensions, which one (``time 3/10 (4 s)``). With
    ``anonymize`` the patient's name, ID, birth date and institution are left out, and so is the
    study date (a date is an identifier under HIPAA Safe Harbor); what is left (the
    description ...) is scrubbed of the identity by ``redact`` (default
    :func:`redactor_for` ``meta``). ``extra`` lines go lower left.

    Examples
    --------
    >>> m = VolumeMeta(modality="CT", series_description="HEAD 5mm Doe", study_date="20190102",
    ...                patient_name="DOE^JANE", patient_id="123")
    >>> info_lines(m)["upper_right"]
    'DOE^JANE\nID 123'
    >>> sorted(info_lines(m, anonymize=True))
    ['upper_left']
    >>> info_lines(m, anonymize=True)["upper_left"]
    'HEAD 5mm [removed]\nCT'
    """
    if redact is None or (anonymize and not redact.active):
        redact = redactor_for(meta, anonymize=anonymize or (redact is not None and redact.active))
    corners: dict[str, list[str]] = {}
    for corner, text, _ in meta_lines(meta, redact):
        corners.setdefault(corner, []).append(text)
    if extra:
        corners["lower_left"] = list(extra)
    return {c: redact.lines(lines) for c, lines in corners.items()}


#: a legend line: the (already scrubbed) text and its RGB colour (0..1)
LegendEntry = tuple[SafeText, tuple[float, float, float]]


#: colour of the note saying the geometry is not known
NOTE_COLOUR = (1.0, 0.65, 0.0)


def _add_common(
    cell: CellText,
    vol: Volume,
    meta: VolumeMeta | None,
    issues: Sequence[GeometryIssue],
    redact: Redactor,
    legend: Sequence[LegendEntry] = (),
) -> None:
    note = rule_for(vol).note
    if note:  # every cell says so: a picture without patient geometry must not pass for one
        cell.add("upper_left", redact(note), Priority.GEOMETRY_NOTE, wrap=True, color=NOTE_COLOUR)
    for line in loader_actions(issues):
        cell.add("upper_left", redact(line), Priority.LOADER_ACTION, wrap=True)
    if meta is not None:
        for corner, text, prio in meta_lines(meta, redact):
            cell.add(corner, text, prio)
    for text, rgb in legend:  # segments, in their colours, above the scale bar / marker
        cell.add("lower_right", text, Priority.LEGEND, color=rgb)


def plane_text(
    vol: Volume,
    s: Slice2D,
    window: WindowLevel,
    *,
    redact: Redactor,
    meta: VolumeMeta | None = None,
    issues: Sequence[GeometryIssue] = (),
    px_per_mm: float | None = None,
    cell_width: int = 0,
    legend: Sequence[LegendEntry] = (),
) -> tuple[CellText, float]:
    """What a 2D view of ``vol`` shows: letters, plane, position, slab, window, scale bar ...

    Letters, plane name, position and scale bar only as :func:`rule_for` ``vol`` allows
    (:func:`edge_letters`, :func:`plane_caption`). ``meta`` and ``issues`` are given for the one
    cell of a picture that carries the series' own lines (the first plane of a quad) and the
    loader's actions. The scale bar is reserved when ``px_per_mm`` (screen pixels per mm) and
    ``cell_width`` are known; its length (mm, 0 without one) is returned with the cell.
    ``legend`` lines (segment names in their colours) go in the lower right, above the bar.
    """
    rule = rule_for(vol)
    cell = CellText(letters=edge_letters(vol, s))
    _add_common(cell, vol, meta, issues, redact, legend)
    caption = plane_caption(vol, s)
    for n, line in enumerate(caption):
        cell.add("lower_left", redact(line), Priority.PLANE if n == 0 else Priority.POSITION)
    if s.slab_mm:
        cell.add(
            "lower_left", redact(f"slab {s.slab_mm:g} mm {s.slab_mode.upper()}"), Priority.SLAB
        )
    wtext = str(window) + (f" ({window.name})" if window.name else "")
    cell.add("lower_left", redact(wtext), Priority.WINDOW)
    length = 0.0
    if rule.scale_bar and px_per_mm and px_per_mm > 0 and cell_width > 0:
        length = nice_length(0.25 * cell_width / px_per_mm)
        cell.reserve(
            Reserved(
                "scalebar",
                "lower_right",
                Priority.SCALE_BAR,
                size=(length * px_per_mm, 3.0),
                label=redact(f"{length:g} mm"),
            )
        )
    return cell, length


def volume_text(
    vol: Volume,
    preset: str,
    camera: str,
    *,
    redact: Redactor,
    meta: VolumeMeta | None = None,
    issues: Sequence[GeometryIssue] = (),
    marker: bool = True,
    legend: Sequence[LegendEntry] = (),
) -> CellText:
    """What a 3D view shows: the orientation marker, preset, camera and the series lines.

    The LPS marker only where :func:`rule_for` ``vol`` allows patient letters.
    """
    cell = CellText()
    _add_common(cell, vol, meta, issues, redact, legend)
    cell.add("lower_left", redact(f"preset {preset}"), Priority.PRESET, wrap=True)
    cell.add("lower_left", redact(f"view {camera}"), Priority.CAMERA)
    if marker and rule_for(vol).patient_letters:
        cell.reserve(Reserved("marker", "lower_right", Priority.MARKER))
    return cell


# -- the orientation marker --------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerView:
    """The orientation marker as seen by a camera, in marker units (the cube's half side = 1).

    ``faces``: the visible cube faces, each ``(corners (4, 2) screen x right / y up, rgb)``,
    farthest first. ``letters``: ``(letter, (x, y), facing)`` for the letters in view, where
    ``facing`` is how much the letter's axis points at the camera (1: straight at it).
    """

    faces: tuple[tuple[npt.NDArray[np.float64], tuple[float, float, float]], ...]
    letters: tuple[tuple[str, tuple[float, float], float], ...]


def marker_view(direction_of_projection: npt.ArrayLike, view_up: npt.ArrayLike) -> MarkerView:
    """Project the LPS orientation cube for a camera looking along ``direction_of_projection``.

    The projection is orthographic and the letters are placed in screen space, always upright
    (never sideways, never an edge-on face): the letter of each LPS direction sits where that
    direction points on screen, at :data:`LETTER_RADIUS` half-sides times its projected length
    (beside the cube for a direction across the view, on the front face for one pointing at the
    camera); a direction pointing away from the camera (behind the cube) is not labelled.

    Examples
    --------
    >>> mv = marker_view((0, 1, 0), (0, 0, 1))  # anterior view: looking along +y (posterior)
    >>> {t: (round(x, 2), round(y, 2)) for t, (x, y), _ in mv.letters}
    {'L': (1.6, 0.0), 'R': (-1.6, 0.0), 'A': (0.0, 0.0), 'S': (0.0, 1.6), 'I': (0.0, -1.6)}
    """
    d = np.asarray(direction_of_projection, float)
    d = d / np.linalg.norm(d)
    up = np.asarray(view_up, float)
    up = up - (up @ d) * d
    up = up / np.linalg.norm(up)
    right = np.cross(d, up)
    to_cam = -d
    faces = []
    for axis in range(3):
        for sign in (1.0, -1.0):
            n = np.zeros(3)
            n[axis] = sign
            facing = float(n @ to_cam)
            if facing <= 1e-6:
                continue
            u, v = (a for a in range(3) if a != axis)
            corners = []
            for cu, cv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = n.copy()
                p[u], p[v] = cu, cv
                corners.append((float(p @ right), float(p @ up)))
            shade = 0.45 + 0.55 * facing
            rgb = tuple(c * shade for c in AXIS_COLOURS[axis])
            faces.append((facing, np.array(corners), (rgb[0], rgb[1], rgb[2])))
    faces.sort(key=lambda f: f[0])
    letters = []
    for vec, text in MARKER_LETTERS:
        a = np.asarray(vec, float)
        facing = float(a @ to_cam)
        if facing < -0.3:  # pointing away: behind the cube
            continue
        x, y = LETTER_RADIUS * float(a @ right), LETTER_RADIUS * float(a @ up)
        letters.append((text, (round(x, 9) + 0.0, round(y, 9) + 0.0), facing))
    return MarkerView(tuple((c, rgb) for _, c, rgb in faces), tuple(letters))


# -- drawing ---------------------------------------------------------------------------------


def _points_for(px: int, dpi: float) -> int:
    """VTK font size (points at the window's dpi) that draws ``px`` pixels of text."""
    return max(1, round(px * 72.0 / dpi))


@functools.lru_cache(maxsize=4096)
def _measure(text: str, px: int, bold: bool, dpi: int) -> tuple[int, int]:
    import vtkmodules.vtkRenderingFreeType  # noqa: F401  (registers the text renderer)
    from vtkmodules.vtkRenderingCore import vtkTextRenderer

    prop = vtkTextProperty()
    prop.SetFontFamilyToArial()
    prop.SetFontSize(_points_for(px, dpi))
    prop.SetBold(bold)
    bbox = [0, 0, 0, 0]
    if not text or not vtkTextRenderer().GetBoundingBox(prop, text, bbox, dpi):
        return (0, px)
    return (bbox[1] - bbox[0] + 1, bbox[3] - bbox[2] + 1)


def vtk_measure(dpi: float = 72.0) -> Any:
    """``measure(text, px, bold) -> (width, height)`` of text as VTK draws it at ``dpi``."""
    d = round(dpi)
    return lambda text, px, bold: _measure(text, int(px), bool(bold), d)


class Overlay:
    """Draws a :class:`~volumeviz.render.layout.CellLayout` into one renderer, in screen space.

    Text actors sit at the layout's pixel boxes (viewport coordinates), the scale bar is a 2D
    line, the orientation marker a projected cube with upright letters. :meth:`draw` replaces
    what the previous call drew, so the window can re-lay out a panel on every update.
    """

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer
        self._props: list[Any] = []
        self.layout: CellLayout | None = None
        self.text_actors: dict[str, vtkTextActor] = {}

    def clear(self) -> None:
        """Remove everything this overlay drew."""
        for prop in self._props:
            self.renderer.RemoveViewProp(prop)
        self._props = []
        self.text_actors = {}
        self.layout = None

    def _add(self, prop: Any) -> None:
        self.renderer.AddViewProp(prop)
        self._props.append(prop)

    def _text(self, p: Placed, height: int, dpi: float, colour: str, bold: bool) -> vtkTextActor:
        actor = vtkTextActor()
        actor.SetInput(p.text)
        actor.SetTextScaleModeToNone()
        prop = actor.GetTextProperty()
        prop.SetFontFamilyToArial()
        prop.SetFontSize(_points_for(p.font_px, dpi))
        prop.SetBold(bold)
        prop.SetColor(*_color(colour))
        prop.SetShadow(True)
        prop.SetShadowOffset(1, -1)
        prop.SetVerticalJustificationToBottom()
        if p.align == "right":
            prop.SetJustificationToRight()
            x = p.box.x1
        elif p.align == "center":
            prop.SetJustificationToCentered()
            x = (p.box.x0 + p.box.x1) / 2
        else:
            prop.SetJustificationToLeft()
            x = p.box.x0
        coord = actor.GetPositionCoordinate()
        coord.SetCoordinateSystemToViewport()
        coord.SetValue(float(x), float(height - p.box.y1))
        self._add(actor)
        self.text_actors[p.name] = actor
        return actor

    def _polygon(self, pts: npt.NDArray[np.float64], rgb: tuple[float, float, float]) -> None:
        """A filled 2D polygon at viewport pixel ``pts`` ``(n, 2)``."""
        points = vtkPoints()
        for x, y in pts:
            points.InsertNextPoint(float(x), float(y), 0.0)
        cells = vtkCellArray()
        cells.InsertNextCell(len(pts))
        for i in range(len(pts)):
            cells.InsertCellPoint(i)
        poly = vtkPolyData()
        poly.SetPoints(points)
        poly.SetPolys(cells)
        mapper = vtkPolyDataMapper2D()
        mapper.SetInputData(poly)
        coord = vtkCoordinate()
        coord.SetCoordinateSystemToViewport()
        mapper.SetTransformCoordinate(coord)
        actor = vtkActor2D()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(*rgb)
        self._add(actor)

    def draw(
        self,
        layout: CellLayout,
        *,
        window_dpi: float = 72.0,
        camera: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    ) -> None:
        """Draw ``layout`` (replacing the previous drawing); ``camera`` = (DOP, view-up)."""
        self.clear()
        self.layout = layout
        h = layout.size[1]
        for p in layout.placed:
            if p.kind in ("line", "label", "point"):
                actor = self._text(p, h, window_dpi, TEXT_COLOUR, p.color is not None)
                if p.color is not None:
                    actor.GetTextProperty().SetColor(*p.color)
            elif p.kind == "letter":
                self._text(p, h, window_dpi, LETTER_COLOUR, True)
            elif p.kind == "scalebar":
                # a filled rectangle on whole pixels (wide 2D lines are not drawn alike by
                # every OpenGL context: 1 px and grey under GLX)
                x0, x1 = round(p.box.x0), round(p.box.x1)
                y0, y1 = h - round(p.box.y1), h - round(p.box.y0)
                pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
                self._polygon(pts, _color(TEXT_COLOUR))
            elif p.kind == "marker" and camera is not None:
                self._marker(p, h, window_dpi, camera)

    def _marker(
        self,
        p: Placed,
        height: int,
        dpi: float,
        camera: tuple[npt.ArrayLike, npt.ArrayLike],
    ) -> None:
        mv = marker_view(*camera)
        side = min(p.box.width, p.box.height)
        cx = (p.box.x0 + p.box.x1) / 2
        cy = height - (p.box.y0 + p.box.y1) / 2
        scale = side / 2 / 2.3  # letters at LETTER_RADIUS half-sides plus their size fit the box
        for corners, rgb in mv.faces:
            pts = np.column_stack([cx + corners[:, 0] * scale, cy + corners[:, 1] * scale])
            self._polygon(pts, rgb)
        letter_px = max(8, round(scale * 0.9))
        for text, (x, y), facing in mv.letters:
            actor = vtkTextActor()
            actor.SetInput(text)
            actor.SetTextScaleModeToNone()
            prop = actor.GetTextProperty()
            prop.SetFontFamilyToArial()
            prop.SetBold(True)
            prop.SetFontSize(_points_for(letter_px, dpi))
            axis = next(i for i, (vec, t) in enumerate(MARKER_LETTERS) if t == text) // 2
            on_face = facing > 0.6  # written on the face towards the camera: dark on light
            light = [min(1.0, c + 0.35) for c in AXIS_COLOURS[axis]]
            prop.SetColor(*((0.08, 0.08, 0.08) if on_face else light))
            prop.SetShadow(not on_face)
            prop.SetJustificationToCentered()
            prop.SetVerticalJustificationToCentered()
            coord = actor.GetPositionCoordinate()
            coord.SetCoordinateSystemToViewport()
            coord.SetValue(float(cx + x * scale), float(cy + y * scale))
            self._add(actor)
            self.text_actors[f"marker:{text}"] = actor


def draw_cell(
    renderer: Any,
    cell: CellText,
    size: tuple[int, int],
    *,
    dpi: float = 96.0,
    window_dpi: float = 72.0,
    camera: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    overlay: Overlay | None = None,
) -> tuple[CellLayout, Overlay]:
    """Lay out ``cell`` for a ``size`` viewport shown at ``dpi`` and draw it into ``renderer``.

    ``window_dpi`` is the render window's own DPI (VTK fonts are sized in points at it);
    ``camera`` (direction of projection, view-up) orients the marker of a 3D cell.
    """
    layout = layout_cell(cell, size, dpi=dpi, measure=vtk_measure(window_dpi))
    overlay = overlay or Overlay(renderer)
    overlay.draw(layout, window_dpi=window_dpi, camera=camera)
    return layout, overlay


def camera_vectors(renderer: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(direction of projection, view-up)`` of ``renderer``'s active camera (LPS)."""
    cam = renderer.GetActiveCamera()
    return np.asarray(cam.GetDirectionOfProjection(), float), np.asarray(cam.GetViewUp(), float)


def px_per_mm_2d(renderer: Any, height_px: int) -> float:
    """Screen pixels per mm of ``renderer``'s parallel camera (a 2D view) ``height_px`` high."""
    scale = float(renderer.GetActiveCamera().GetParallelScale())
    return height_px / (2.0 * scale) if scale > 0 else 0.0


def texts_of(layout: CellLayout) -> Mapping[str, str]:
    """The text shown in each corner after layout (what made it onto the picture)."""
    return {
        c: layout.shown(c)
        for c in ("upper_left", "upper_right", "lower_left", "lower_right")
        if layout.shown(c)
    }
