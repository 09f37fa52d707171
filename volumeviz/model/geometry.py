"""How much geometry a Volume has, and which annotations a picture of it may therefore show.

Three kinds (:class:`GeometryKind`):

- ``PATIENT``: the voxels are placed in the patient's LPS frame from (0020,0032) Image Position
  (Patient), (0020,0037) Image Orientation (Patient) and a pixel spacing. Letters, positions in mm
  and scale bars are all true (a scale bar only when the in-plane spacing is known).
- ``PROJECTION``: a projection radiograph (CR, DX, MG, XA, RF, IO): one 2D image with no patient
  frame. Its pixel spacing may be known (from (0028,0030) Pixel Spacing, else (0018,1164) Imager
  Pixel Spacing corrected by (0018,1114) Estimated Radiographic Magnification Factor, PS3.3
  C.8.11.7 and 10.7.1.3), and (0020,0020) Patient Orientation may name the anatomical direction of
  its rows and columns (PS3.3 C.7.6.1.1.1). There are no LPS letters, no slice position and no
  plane name; edge letters come from Patient Orientation only, for the image as stored.
- ``UNKNOWN``: nothing places the voxels (e.g. legacy multi-frame without positions): 1 mm and an
  identity orientation were *assumed* so that something can be drawn. Pictures then show no
  letters, no mm bar, no mm position, and a visible note saying the geometry is unknown.

:func:`annotation_rule` is the ONE place that decides what a picture may show; every picture
(screenshot, Scene, report, the window) asks it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "AnnotationRule",
    "Geometry",
    "GeometryKind",
    "annotation_rule",
    "opposite_patient_orientation",
]


class GeometryKind(str, Enum):
    """How a Volume's voxels relate to the patient (see the module docstring)."""

    PATIENT = "patient"
    PROJECTION = "projection"
    UNKNOWN = "unknown"


#: opposites of the (0020,0020) Patient Orientation letters (PS3.3 C.7.6.1.1.1; quadruped terms
#: have no single-letter opposite here and are then not mirrored)
_OPPOSITE = {"A": "P", "P": "A", "R": "L", "L": "R", "H": "F", "F": "H"}


def opposite_patient_orientation(letters: str) -> str | None:
    """The (0020,0020) letters of the opposite direction, or None if a letter has none.

    Examples
    --------
    >>> opposite_patient_orientation("FL"), opposite_patient_orientation("P")
    ('HR', 'A')
    >>> opposite_patient_orientation("CD") is None  # quadruped terms
    True
    """
    if not letters or any(c not in _OPPOSITE for c in letters):
        return None
    return "".join(_OPPOSITE[c] for c in letters)


@dataclass(frozen=True, slots=True)
class Geometry:
    """How much geometry a Volume has and where it came from.

    Parameters
    ----------
    kind
        :class:`GeometryKind`.
    spacing_known
        True when the in-plane pixel spacing comes from the file (not assumed). For ``PATIENT``
        the slice spacing always comes from positions.
    spacing_source
        Where the spacing came from, for a person: ``"(0028,0030) Pixel Spacing"``, ``"(0018,1164)
        Imager Pixel Spacing / (0018,1114) Estimated Radiographic Magnification Factor 1.1"`` ...
        or what was assumed.
    pixel_spacing
        ``(row, column)`` spacing in mm the source gives (DICOM order), None when assumed.
    patient_orientation
        (0020,0020) Patient Orientation: letters of the direction of increasing column (the
        image's right edge) and of increasing row (its bottom edge), for the image as stored;
        None when absent (or for ``PATIENT``, whose letters come from the LPS frame).
    note
        What was assumed, one line (shown on pictures of ``UNKNOWN`` volumes).

    Examples
    --------
    >>> g = Geometry.projection((0.75, 0.75), "(0018,1164) Imager Pixel Spacing", ("P", "FL"))
    >>> g.kind.value, g.has_patient_frame, g.spacing_known
    ('projection', False, True)
    >>> Geometry().describe()
    'patient (LPS from position/orientation; spacing: given)'
    """

    kind: GeometryKind = GeometryKind.PATIENT
    spacing_known: bool = True
    spacing_source: str = "given"
    pixel_spacing: tuple[float, float] | None = None
    patient_orientation: tuple[str, str] | None = None
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", GeometryKind(self.kind))
        if self.kind is GeometryKind.UNKNOWN and self.spacing_known:
            object.__setattr__(self, "spacing_known", False)

    @classmethod
    def patient(cls, spacing_source: str = "(0028,0030) Pixel Spacing") -> Geometry:
        """Full LPS geometry; ``spacing_source=""`` when the in-plane spacing was assumed."""
        if not spacing_source:
            return cls(GeometryKind.PATIENT, False, "assumed 1 mm (no (0028,0030) Pixel Spacing)")
        return cls(GeometryKind.PATIENT, True, spacing_source)

    @classmethod
    def projection(
        cls,
        pixel_spacing: tuple[float, float] | None,
        spacing_source: str,
        patient_orientation: tuple[str, str] | None = None,
    ) -> Geometry:
        """A projection image; ``pixel_spacing=None`` when no spacing element was usable."""
        known = pixel_spacing is not None
        return cls(
            GeometryKind.PROJECTION,
            known,
            spacing_source if known else "assumed 1 mm (no pixel spacing in the file)",
            pixel_spacing,
            patient_orientation,
        )

    @classmethod
    def unknown(cls, note: str) -> Geometry:
        """Nothing places the voxels: spacing and orientation were assumed (``note`` says how)."""
        return cls(GeometryKind.UNKNOWN, False, "assumed", None, None, note)

    @property
    def has_patient_frame(self) -> bool:
        """True when LPS letters, positions in mm and plane names are true."""
        return self.kind is GeometryKind.PATIENT

    @property
    def assumed(self) -> bool:
        """True when anything about the geometry was assumed (``strict`` refuses it)."""
        return self.kind is GeometryKind.UNKNOWN or not self.spacing_known

    def describe(self) -> str:
        """One line for ``info``: the kind, the spacing's source, Patient Orientation."""
        if self.kind is GeometryKind.PATIENT:
            return f"patient (LPS from position/orientation; spacing: {self.spacing_source})"
        if self.kind is GeometryKind.PROJECTION:
            parts = ["projection image (no patient frame)"]
            if self.pixel_spacing is not None:
                r, c = self.pixel_spacing
                mm = f"{r:.4g} mm/px" if abs(r - c) < 1e-9 else f"{r:.4g} x {c:.4g} mm/px"
                parts.append(f"{mm} from {self.spacing_source}")
            else:
                parts.append(f"spacing {self.spacing_source}")
            if self.patient_orientation is not None:
                letters = "\\".join(self.patient_orientation)
                parts.append(f"(0020,0020) Patient Orientation {letters}")
            return "; ".join(parts)
        return f"unknown: {self.note or 'spacing and orientation assumed'}"

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        d = dataclasses.asdict(self)
        d["kind"] = self.kind.value
        for key in ("pixel_spacing", "patient_orientation"):
            if d[key] is not None:
                d[key] = list(d[key])
        return d


_EDGES = ("left", "right", "top", "bottom")


@dataclass(frozen=True, slots=True)
class AnnotationRule:
    """What a picture of a Volume may show (from :func:`annotation_rule`).

    Attributes
    ----------
    patient_letters
        LPS orientation letters on 2D edges and the orientation cube in 3D.
    scale_bar
        A millimetre scale bar (and any other length in mm).
    position_mm
        A plane's position in mm along its normal ("at +12.0 mm").
    plane_names
        Anatomical plane names ("axial", "oblique 20°").
    note
        Short text that must be visible on the picture (``""``: none), e.g. "geometry unknown:
        spacing and orientation assumed" (the details are in the Volume's issues and ``info``).
    label
        What to call the 2D image instead of a plane name (``"projection"``, ``"image"``).
    """

    patient_letters: bool
    scale_bar: bool
    position_mm: bool
    plane_names: bool
    note: str = ""
    label: str = ""
    _orientation: tuple[str, str] | None = field(default=None, repr=False)

    def projection_letters(
        self, right_ijk: npt.ArrayLike, down_ijk: npt.ArrayLike
    ) -> dict[str, str]:
        """Edge letters from (0020,0020) for a 2D view whose right/down edges run along index axes.

        ``right_ijk`` and ``down_ijk`` are the directions of the picture's increasing column and
        row in the volume's index space ``(i, j, k)``. Letters are given only when the picture
        shows the image plane with its axes along ``±i`` and ``±j`` (as stored, or mirrored);
        anything else gets none. Edges whose letters have no opposite stay empty.

        Examples
        --------
        >>> rule = annotation_rule(Geometry.projection((1, 1), "x", ("P", "FL")))
        >>> rule.projection_letters((1, 0, 0), (0, 1, 0))
        {'left': 'A', 'right': 'P', 'top': 'HR', 'bottom': 'FL'}
        >>> rule.projection_letters((-1, 0, 0), (0, 1, 0))["left"]
        'P'
        """
        if self._orientation is None:
            return {}
        r = np.asarray(right_ijk, float).reshape(3)
        d = np.asarray(down_ijk, float).reshape(3)
        col_letters, row_letters = self._orientation
        out: dict[str, str] = {}

        def place(vec: npt.NDArray[np.float64], plus: str, minus: str) -> bool:
            # vec points along +i (column) or +j (row) of the stored image, or against it
            for axis, letters in ((0, col_letters), (1, row_letters)):
                if abs(abs(vec[axis]) - 1.0) < 1e-6 and abs(vec[2]) < 1e-6:
                    opp = opposite_patient_orientation(letters) or ""
                    fwd, back = (letters, opp) if vec[axis] > 0 else (opp, letters)
                    out[plus], out[minus] = fwd, back
                    return True
            return False

        if not (place(r, "right", "left") and place(d, "bottom", "top")):
            return {}
        return {e: out[e] for e in _EDGES if out.get(e)}


def annotation_rule(geometry: Geometry) -> AnnotationRule:
    """Decide which annotations a picture of a Volume with ``geometry`` may show.

    Patient geometry: everything, except a scale bar / mm position when the pixel spacing was
    assumed. Projection: no LPS letters, no position, no plane name; a scale bar when the spacing
    is known; edge letters from (0020,0020) via :meth:`AnnotationRule.projection_letters`.
    Unknown: none of them, and a visible note.

    Examples
    --------
    >>> annotation_rule(Geometry()).patient_letters
    True
    >>> r = annotation_rule(Geometry.unknown("no (0020,0032)"))
    >>> r.patient_letters, r.scale_bar, r.note.splitlines()
    (False, False, ['geometry unknown', '(spacing and orientation assumed)'])
    """
    if geometry.kind is GeometryKind.PATIENT:
        note = "" if geometry.spacing_known else f"pixel spacing {geometry.spacing_source}"
        return AnnotationRule(
            patient_letters=True,
            scale_bar=geometry.spacing_known,
            position_mm=geometry.spacing_known,
            plane_names=True,
            note=note,
        )
    if geometry.kind is GeometryKind.PROJECTION:
        return AnnotationRule(
            patient_letters=False,
            scale_bar=geometry.spacing_known,
            position_mm=False,
            plane_names=False,
            note="" if geometry.spacing_known else "pixel spacing unknown: no scale",
            label="projection",
            _orientation=geometry.patient_orientation,
        )
    return AnnotationRule(
        patient_letters=False,
        scale_bar=False,
        position_mm=False,
        plane_names=False,
        note="geometry unknown\n(spacing and orientation assumed)",
        label="image",
    )
