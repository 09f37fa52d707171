"""On-screen annotations: orientation letters, orientation marker, scale bar and text.

Letters come from geometry (:meth:`Slice2D.edge_letters`), never from a table of plane names, so
an oblique plane is labelled with what it really shows (``"AS"``, ``"LP"`` ...).

Text drawn on a picture is :class:`~volumeviz.model.deid.SafeText`: it has been through a
:class:`~volumeviz.model.deid.Redactor` (active when the output is anonymised, a no-op
otherwise). :func:`add_corner_text` accepts nothing else, so new annotation text cannot skip the
de-identification: build it with ``redact(text)`` or ``redact.lines([...])``, where ``redact``
is :func:`redactor_for` the volume being drawn.

What a picture may show at all is decided in ONE place,
:func:`volumeviz.model.geometry.annotation_rule` (via :func:`rule_for`): a Volume without a patient
frame (a projection radiograph, or geometry assumed) gets no LPS letters, no orientation cube, no
position in mm and no plane name; no scale bar where the pixel spacing is assumed; and a visible
note where geometry is unknown. Every function here that draws letters, bars or positions takes
the Volume and asks that rule, so no picture can bypass it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pyvista as pv
from vtkmodules.vtkRenderingAnnotation import vtkAnnotatedCubeActor
from vtkmodules.vtkRenderingCore import vtkTextActor

from volumeviz.model.dates import format_date
from volumeviz.model.deid import Identity, Redactor, SafeText
from volumeviz.model.geometry import AnnotationRule, annotation_rule
from volumeviz.model.volume import Volume, VolumeMeta
from volumeviz.ops.mpr import Slice2D
from volumeviz.render.planes import slice_extent_mm

_EDGE_POSITIONS = {
    "left": "left_edge",
    "right": "right_edge",
    "top": "upper_edge",
    "bottom": "lower_edge",
}


def _color(color: str) -> tuple[float, float, float]:
    c = pv.Color(color)
    return (float(c.float_rgb[0]), float(c.float_rgb[1]), float(c.float_rgb[2]))


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


def add_edge_letters(
    pl: Any,
    s: Slice2D,
    *,
    vol: Volume,
    color: str = "yellow",
    font_size: int = 14,
    tag: str = "",
) -> dict[str, str]:
    """Label the edges of ``pl``'s active viewport with the letters :func:`edge_letters` allows.

    Returns the letters placed (``{"left": "R", "right": "L", ...}``; ``{}`` when none may be).
    """
    letters = edge_letters(vol, s)
    for edge, text in letters.items():
        pl.add_text(
            text,
            position=_EDGE_POSITIONS[edge],
            font_size=font_size,
            color=color,
            name=f"letters-{tag}-{edge}",
        )
    return letters


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


def add_scale_bar(
    pl: Any,
    s: Slice2D,
    *,
    vol: Volume,
    color: str = "white",
    font_size: int = 12,
    tag: str = "",
) -> float | None:
    """Draw a millimetre scale bar in the image's lower right; return its length in mm.

    Returns None (and draws nothing) when ``vol``'s pixel spacing is not known.
    """
    if not rule_for(vol).scale_bar:
        return None
    width, height = slice_extent_mm(s)
    length = nice_length(width / 4)
    x1 = width * 0.96
    x0 = x1 - length
    y = height * 0.05
    line = pv.Line((x0, y, 0.5), (x1, y, 0.5))
    pl.add_mesh(line, color=color, line_width=3, lighting=False, name=f"scalebar-{tag}")
    label = vtkTextActor()
    label.SetInput(f"{length:g} mm")
    prop = label.GetTextProperty()
    prop.SetFontSize(font_size)
    prop.SetColor(*_color(color))
    prop.SetJustificationToCentered()
    prop.SetVerticalJustificationToBottom()
    coord = label.GetPositionCoordinate()
    coord.SetCoordinateSystemToWorld()
    coord.SetValue((x0 + x1) / 2, y + height * 0.01, 0.5)
    pl.renderer.AddViewProp(label)
    return length


def add_orientation_marker(pl: Any, *, vol: Volume) -> vtkAnnotatedCubeActor | None:
    """Add a cube labelled L/R, P/A, S/I (LPS) in the lower right of the active 3D viewport.

    Returns None (and adds nothing) when ``vol`` has no patient frame.
    """
    if not rule_for(vol).patient_letters:
        return None
    cube = vtkAnnotatedCubeActor()
    cube.SetXPlusFaceText("L")
    cube.SetXMinusFaceText("R")
    cube.SetYPlusFaceText("P")
    cube.SetYMinusFaceText("A")
    cube.SetZPlusFaceText("S")
    cube.SetZMinusFaceText("I")
    cube.SetFaceTextScale(0.6)
    cube.GetCubeProperty().SetColor(0.35, 0.35, 0.4)
    cube.GetTextEdgesProperty().SetColor(0.8, 0.8, 0.8)
    for prop, rgb in (
        (cube.GetXPlusFaceProperty(), (1.0, 0.4, 0.4)),
        (cube.GetXMinusFaceProperty(), (1.0, 0.4, 0.4)),
        (cube.GetYPlusFaceProperty(), (0.4, 1.0, 0.4)),
        (cube.GetYMinusFaceProperty(), (0.4, 1.0, 0.4)),
        (cube.GetZPlusFaceProperty(), (0.5, 0.6, 1.0)),
        (cube.GetZMinusFaceProperty(), (0.5, 0.6, 1.0)),
    ):
        prop.SetColor(*rgb)
    pl.add_orientation_widget(cube, viewport=(0.8, 0.0, 1.0, 0.2))
    return cube


def redactor_for(meta: VolumeMeta, *, anonymize: bool) -> Redactor:
    """The :class:`Redactor` every annotation of ``meta``'s pictures goes through.

    Active (removing ``meta``'s identity and every date) when ``anonymize``, else a no-op.
    """
    return Redactor(Identity.of(meta)) if anonymize else Redactor.off()


def info_lines(
    meta: VolumeMeta,
    *,
    anonymize: bool = False,
    extra: tuple[str, ...] = (),
    redact: Redactor | None = None,
) -> dict[str, SafeText]:
    r"""Return the corner texts for a view: ``{"upper_left": ..., "upper_right": ...}``.

    Upper left: series description, modality, date; upper right: patient name and ID. With
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
    if redact is None:
        redact = redactor_for(meta, anonymize=anonymize)
    anonymous = anonymize or redact.active
    upper_left = [x for x in (meta.series_description, meta.modality) if x]
    if meta.study_date and not anonymous:
        upper_left.append(format_date(meta.study_date))
    out: dict[str, SafeText] = {}
    if upper_left:
        out["upper_left"] = redact.lines(upper_left)
    if not anonymous:
        upper_right = [x for x in (meta.patient_name, f"ID {meta.patient_id}" if meta.patient_id
                                   else "", meta.institution) if x]  # fmt: skip
        if upper_right:
            out["upper_right"] = redact.lines(upper_right)
    if extra:
        out["lower_left"] = redact.lines(extra)
    return out


def add_corner_text(
    pl: Any,
    texts: Mapping[str, SafeText],
    *,
    color: str = "white",
    font_size: int = 10,
    tag: str = "",
) -> None:
    """Write ``texts`` (``{"upper_left": "...", ...}``) in the corners of the active viewport.

    Every value must be :class:`~volumeviz.model.deid.SafeText` (made by a
    :class:`~volumeviz.model.deid.Redactor`): the one road for text onto a picture.
    """
    for position, text in texts.items():
        pl.add_text(
            text, position=position, font_size=font_size, color=color, name=f"{tag}-{position}"
        )


def add_geometry_note(
    pl: Any,
    vol: Volume,
    *,
    letters: dict[str, str] | None = None,
    color: str = "orange",
    font_size: int = 9,
    tag: str = "",
) -> str:
    """Write the rule's note ("geometry unknown: ...") where no edge letter is; return it."""
    note = rule_for(vol).note
    if not note:
        return ""
    taken = set(letters or {})
    position = "upper_edge" if "top" not in taken else "lower_edge"
    if "top" in taken and "bottom" in taken:
        position = "lower_right"
    pl.add_text(note, position=position, font_size=font_size, color=color, name=f"note-{tag}")
    return note
