"""On-screen annotations: orientation letters, orientation marker, scale bar and text.

Letters come from geometry (:meth:`Slice2D.edge_letters`), never from a table of plane names, so
an oblique plane is labelled with what it really shows (``"AS"``, ``"LP"`` ...).

Text drawn on a picture is :class:`~volumeviz.model.deid.SafeText`: it has been through a
:class:`~volumeviz.model.deid.Redactor` (active when the output is anonymised, a no-op
otherwise). :func:`add_corner_text` accepts nothing else, so new annotation text cannot skip the
de-identification: build it with ``redact(text)`` or ``redact.lines([...])``, where ``redact``
is :func:`redactor_for` the volume being drawn.
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
from volumeviz.model.volume import VolumeMeta
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


def add_edge_letters(
    pl: Any, s: Slice2D, *, color: str = "yellow", font_size: int = 14, tag: str = ""
) -> dict[str, str]:
    """Label the four edges of ``pl``'s active viewport with ``s``'s orientation letters.

    Returns the letters placed (``{"left": "R", "right": "L", ...}``).
    """
    letters = s.edge_letters()
    for edge, text in letters.items():
        pl.add_text(
            text,
            position=_EDGE_POSITIONS[edge],
            font_size=font_size,
            color=color,
            name=f"letters-{tag}-{edge}",
        )
    return letters


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
    pl: Any, s: Slice2D, *, color: str = "white", font_size: int = 12, tag: str = ""
) -> float:
    """Draw a millimetre scale bar in the image's lower right; return its length in mm."""
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


def add_orientation_marker(pl: Any) -> vtkAnnotatedCubeActor:
    """Add a cube labelled L/R, P/A, S/I (LPS) in the lower right of the active 3D viewport."""
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
