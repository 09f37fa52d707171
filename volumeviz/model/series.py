"""What discovery finds before any pixel is read: slices, series, rejected files (numpy only).

A :class:`SliceRef` is one 2D image: a single-frame file, or one frame of a multi-frame file.
A :class:`SeriesInfo` is a set of slices that can form one volume (a DICOM series, or a part of
one after a split by orientation, matrix size, localizer, echo, time or dimension index).
A :class:`StackPlan` says how the slices of a series become a regular volume: their sorted order,
the grid, whether resampling is needed, and the :class:`~volumeviz.model.volume.GeometryIssue`
list. :class:`ScanResult` is what :func:`volumeviz.io.discover.scan` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.model.dimensions import Dimension
from volumeviz.model.geometry import Geometry
from volumeviz.model.volume import GeometryIssue

Vec3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class SliceRef:
    """One 2D image and the header fields the loader needs (no pixels).

    ``ipp``/``iop``/``pixel_spacing`` are None when the file does not give them.
    ``pixel_spacing`` is DICOM's ``(row spacing, column spacing)`` = ``(dj, di)`` in mm.
    ``frame`` is the 0-based frame index in a multi-frame file, None for single-frame files.
    ``split_key`` holds values that tell repeated positions apart (echo, time, dimension index).
    ``float_pixels`` is True for (7FE0,0008) Float / (7FE0,0009)
    Double Float Pixel Data (IEEE values, no Bits Stored).
    ``window`` is the image's first (0028,1050) Window Center / (0028,1051) Width pair (centre,
    width), None without one; :func:`representative_window` chooses one for the series.
    ``mosaic`` is ``(tile, m)`` for one slice of a Siemens mosaic: tile ``tile`` (0-based, slice
    order) of an ``m x m`` grid, ``rows``/``cols`` being one tile's (see
    :mod:`volumeviz.io.mosaic`).
    ``geometry`` is set for images that (0020,0032)/(0020,0037) cannot place: a projection image
    (its spacing from Imager Pixel Spacing / ERMF, its (0020,0020) Patient Orientation) or an
    image of unknown geometry; None for ordinary slices placed by position and orientation.
    ``pixel_offset`` is the byte offset of native (7FE0,0010) Pixel Data in the file (None when
    encapsulated, deflated or not known); ``high_bit`` is (0028,0102) High Bit when given.
    """

    path: str
    frame: int | None
    rows: int
    cols: int
    ipp: Vec3 | None
    iop: tuple[float, float, float, float, float, float] | None
    pixel_spacing: tuple[float, float] | None
    instance_number: int | None = None
    slope: float = 1.0
    intercept: float = 0.0
    bits_stored: int = 16
    signed: bool = False
    samples: int = 1
    photometric: str = "MONOCHROME2"
    transfer_syntax: str = ""
    image_type: tuple[str, ...] = ()
    split_key: tuple[tuple[str, str], ...] = ()
    n_frames: int = 1
    geometry: Geometry | None = None
    bits_allocated: int = 16
    high_bit: int | None = None
    pixel_offset: int | None = None
    mosaic: tuple[int, int] | None = None
    window: tuple[float, float] | None = None
    float_pixels: bool = False

    @property
    def label(self) -> str:
        """``path``, ``path[frame n]`` or ``path[tile n]`` (1-based, as DICOM counts)."""
        if self.mosaic is not None:
            return f"{self.path}[tile {self.mosaic[0] + 1}]"
        return self.path if self.frame is None else f"{self.path}[frame {self.frame + 1}]"

    @property
    def is_localizer(self) -> bool:
        """True when (0008,0008) Image Type says LOCALIZER/SCOUT/SURVIEW."""
        return any(v in ("LOCALIZER", "SCOUT", "SURVIEW", "TOPOGRAM") for v in self.image_type)

    @property
    def normal(self) -> npt.NDArray[np.float64] | None:
        """Unit slice normal, row x column cosines, or None without (0020,0037)."""
        if self.iop is None:
            return None
        row = np.asarray(self.iop[:3], float)
        col = np.asarray(self.iop[3:], float)
        n = np.cross(row, col)
        norm = float(np.linalg.norm(n))
        return n / norm if norm > 0 else None


#: windows of different files that agree within this fraction of the width are "the same"
WINDOW_AGREE_RTOL = 0.01


@dataclass(frozen=True, slots=True)
class ChosenWindow:
    """The window (VOI) that represents a whole series, and why it was chosen.

    ``center``/``width`` are in modality units (after Rescale Slope/Intercept).
    ``agree`` is False when the files' own windows differ.
    """

    center: float
    width: float
    explanation: str
    agree: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "center": self.center,
            "width": self.width,
            "explanation": self.explanation,
            "files_agree": self.agree,
        }


def representative_window(slices: Sequence[SliceRef]) -> ChosenWindow | None:
    """A window for the whole series from every image's own (0028,1050)/(0028,1051).

    Windows are written per image and scanners set them per slice (a Siemens edge slice of
    almost only noise may carry C 4 / W 9 while the centre slices carry C 690 / W 1380), so the
    first file's window does not represent the volume. When the images agree (within 1 % of the
    width) that window is used; otherwise the median centre and the median width over the
    images, which no outlying slice can move far. None when no image has a window.

    Examples
    --------
    >>> def ref(c, w):
    ...     return SliceRef("f", None, 2, 2, None, None, None, window=(c, w))
    >>> w = representative_window([ref(4, 9), ref(625, 1289), ref(698, 1357), ref(691, 1384)])
    >>> w.center, w.width, w.agree
    (658.0, 1323.0, False)
    >>> representative_window([ref(40, 400)] * 3).explanation
    'the window all 3 images give'
    """
    pairs = [s.window for s in slices if s.window is not None]
    if not pairs:
        return None
    arr = np.asarray(pairs, float)
    c_lo, c_hi = float(arr[:, 0].min()), float(arr[:, 0].max())
    w_lo, w_hi = float(arr[:, 1].min()), float(arr[:, 1].max())
    tol = WINDOW_AGREE_RTOL * w_hi
    missing = len(slices) - len(pairs)
    without = f"; {missing} image(s) have none" if missing else ""
    if c_hi - c_lo <= tol and w_hi - w_lo <= tol:
        c, w = pairs[0]
        what = (
            "the window of the one image"
            if len(pairs) == 1
            else (f"the window all {len(pairs)} images give")
        )
        return ChosenWindow(float(c), float(w), what + without)
    c = float(np.median(arr[:, 0]))
    w = float(np.median(arr[:, 1]))
    return ChosenWindow(
        c,
        w,
        f"median of {len(pairs)} images' windows (they differ: centre {c_lo:g} to {c_hi:g}, "
        f"width {w_lo:g} to {w_hi:g}){without}",
        agree=False,
    )


@dataclass(frozen=True, slots=True)
class DerivedObject:
    """A DICOM object made *from* images: listed by a scan, never chosen as a folder's image.

    SEG, RTSTRUCT, RT Dose/Plan, presentation states, SR, KOS ...

    ``kind`` is a short name (``"SEG"``, ``"RTSTRUCT"``, ``"PR"``, ``"SR"``, ``"KOS"`` ...),
    ``sop_class`` the SOP Class name, ``referenced_series_uids`` the series it says it was made
    from (read from its header when cheap: (0008,1115) Referenced Series Sequence, RTSTRUCT's
    (3006,0010) tree, SR/KOS evidence), ``has_pixels`` whether it is also listed as a series.
    """

    path: str
    kind: str
    sop_class: str
    series_uid: str = ""
    description: str = ""
    referenced_series_uids: tuple[str, ...] = ()
    has_pixels: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "path": self.path,
            "kind": self.kind,
            "sop_class": self.sop_class,
            "series_uid": self.series_uid,
            "description": self.description,
            "referenced_series_uids": list(self.referenced_series_uids),
            "has_pixels": self.has_pixels,
        }


@dataclass(frozen=True, slots=True)
class RejectedFile:
    """A file that was not used, and why (one line naming the element and the value)."""

    path: str
    reason: str
    series_uid: str = ""  # when the header could be read

    def to_dict(self) -> dict[str, str]:
        """Plain-JSON form."""
        return {"path": self.path, "reason": self.reason, "series_uid": self.series_uid}


@dataclass(frozen=True)
class StackPlan:
    """How a series' sorted slices become a regular volume.

    ``order`` indexes the series' slices from the first to the last along the slice normal.
    ``origin``/``spacing``/``direction``/``size`` describe the output grid (SimpleITK
    conventions, LPS). ``resample`` is True when the slices do not already lie on that grid
    (gantry tilt, uneven spacing, gaps, non-parallel slices). ``positions`` (LPS of each sorted
    slice's first voxel), ``rows``/``cols`` (unit row and column cosines per sorted slice) are what
    a resampler needs.
    """

    order: tuple[int, ...]
    origin: Vec3
    spacing: Vec3
    direction: npt.NDArray[np.float64]
    size: tuple[int, int, int]
    resample: bool = False
    issues: tuple[GeometryIssue, ...] = ()
    positions: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))
    rows: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))
    cols: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 3)))
    pixel_spacing: tuple[float, float] = (1.0, 1.0)  # (di, dj) of the source slices
    geometry: Geometry = field(default_factory=Geometry.patient)

    @property
    def has_geometry(self) -> bool:
        """True when the plan places the slices in the patient's LPS frame."""
        return self.geometry.has_patient_frame


@dataclass
class DimensionLayout:
    """How the slices of one series form volumes along extra dimensions (time, echo ...).

    Filled by :func:`volumeviz.io.dimensions.find_dimensions` (which rule told the volumes
    apart) and :func:`volumeviz.io.series.plan_series` (one :class:`StackPlan` per volume).

    ``cells`` maps an index tuple (one 0-based int per dimension, outermost first) to the
    positions in ``SeriesInfo.slices`` of that volume's slices. ``missing`` maps the index tuples
    that have no complete volume to the reason (what is missing). ``issues`` are series-level
    findings (incomplete volumes ...), added to every loaded volume's issues.
    """

    dims: tuple[Dimension, ...]
    cells: dict[tuple[int, ...], tuple[int, ...]]
    rule: str
    missing: dict[tuple[int, ...], str] = field(default_factory=dict)
    issues: tuple[GeometryIssue, ...] = ()
    plans: dict[tuple[int, ...], StackPlan] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        """Size of each extra dimension, outermost first."""
        return tuple(d.size for d in self.dims)

    @property
    def first(self) -> tuple[int, ...]:
        """The first index (C order) that has a volume."""
        return min(self.cells)

    def summary(self) -> str:
        """``"5 time (TR 2 s)"`` / ``"2 part (magnitude, phase) x 2 echo (TE 7, 10 ms)"``."""
        return " × ".join(d.summary() for d in self.dims)

    def to_dict(self) -> dict[str, Any]:
        """The ``info --json`` fields: ``dims`` {name: size}, ``dimensions`` (values, units)."""
        return {
            "dims": {d.name: d.size for d in self.dims},
            "dimensions": [d.to_dict() for d in self.dims],
            "dimension_rule": self.rule,
            "missing_volumes": [
                {"index": list(k), "reason": v} for k, v in sorted(self.missing.items())
            ],
        }


@dataclass
class SeriesInfo:
    """One loadable series (or part of a split series), found from headers only.

    ``key`` is unique within a scan: the SeriesInstanceUID, plus ``#2``, ``#3`` ... for the parts
    of a split. ``split_reason`` says why this part was separated from the others.
    ``header`` holds study/patient/display fields (strings, numbers) from the first slice.
    ``plan`` and ``refusal`` are filled by :func:`volumeviz.io.series.plan_series`: a series that
    cannot be reconstructed has ``plan is None`` and a one-line ``refusal``. A series of several
    volumes on one grid (time, echo ...) has ``dims`` (:class:`DimensionLayout`); ``plan`` is then
    the plan of its first volume (every volume shares the grid).
    """

    key: str
    uid: str
    number: int | None
    modality: str
    description: str
    slices: list[SliceRef]
    split_reason: str = ""
    header: dict[str, Any] = field(default_factory=dict)
    plan: StackPlan | None = None
    refusal: str = ""
    #: extra dimensions (time, echo ...) when the slices form several volumes on one grid
    dims: DimensionLayout | None = None
    #: a derived object's kind ("SEG", "RTDOSE" ...): listed, loadable by name, never the default
    derived: str = ""

    @property
    def files(self) -> list[str]:
        """The distinct files of this series, in slice order when planned."""
        slices = self.sorted_slices
        seen: dict[str, None] = {}
        for s in slices:
            seen.setdefault(s.path, None)
        return list(seen)

    @property
    def sorted_slices(self) -> list[SliceRef]:
        """Slices in plan order (along the normal) if planned, else as found.

        For a series with extra dimensions: every volume's slices, volume after volume (C order
        of the index), each volume's along its normal.
        """
        if self.plan is None:
            return list(self.slices)
        layout = self.dims
        if layout is None:
            return [self.slices[i] for i in self.plan.order]
        out: list[SliceRef] = []
        for idx in sorted(layout.cells):
            cell = layout.cells[idx]
            plan = layout.plans.get(idx)
            order = plan.order if plan is not None else range(len(cell))
            out.extend(self.slices[cell[i]] for i in order)
        return out

    @property
    def n_files(self) -> int:
        """Number of distinct files."""
        return len({s.path for s in self.slices})

    @property
    def reconstructable(self) -> bool:
        """True when a plan exists and places the slices in patient space."""
        return self.plan is not None and self.plan.has_geometry

    @property
    def n_voxels(self) -> int:
        """Voxels of the output grid (0 when not planned)."""
        if self.plan is None:
            return 0
        return int(np.prod(self.plan.size))

    def to_dict(self) -> dict[str, Any]:
        """Return the ``info --json`` record of this series (``dims`` is ``{}`` for plain 3D)."""
        plan = self.plan
        dims: dict[str, Any] = (
            self.dims.to_dict()
            if self.dims is not None
            else {"dims": {}, "dimensions": [], "dimension_rule": "", "missing_volumes": []}
        )
        return {
            "key": self.key,
            "series_uid": self.uid,
            "series_number": self.number,
            "modality": self.modality,
            "description": self.description,
            "n_files": self.n_files,
            "n_slices": len(self.slices),
            "size": list(plan.size) if plan else None,
            "spacing": [round(v, 6) for v in plan.spacing] if plan else None,
            "origin": [round(v, 6) for v in plan.origin] if plan else None,
            "direction": [round(float(v), 8) for v in plan.direction.reshape(-1)]
            if plan
            else None,
            "issues": [i.to_dict() for i in plan.issues] if plan else [],
            "geometry": plan.geometry.to_dict() if plan else None,
            "window": None
            if (win := representative_window(self.slices)) is None
            else win.to_dict(),
            "reconstructable": self.reconstructable,
            "derived": self.derived,
            "referenced_series_uids": list(self.header.get("referenced_series_uids", ())),
            "refusal": self.refusal,
            "split_reason": self.split_reason,
            "patient_name": self.header.get("patient_name", ""),
            "patient_id": self.header.get("patient_id", ""),
            "study_description": self.header.get("study_description", ""),
            "study_date": self.header.get("study_date", ""),
            "study_uid": self.header.get("study_uid", ""),
            **dims,
        }


@dataclass
class ScanResult:
    """What a folder, file list or DICOMDIR holds: series, rejected files and notes."""

    series: list[SeriesInfo] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    n_files: int = 0
    #: header values that were malformed or out of range and left out (their file was used),
    #: one line each naming file, element and value
    ignored: list[str] = field(default_factory=list)
    #: derived objects found (SEG, RTSTRUCT, RT*, PR, SR, KOS ...), with or without pixels
    derived: list[DerivedObject] = field(default_factory=list)

    def describe(self) -> str:
        """One entry per series: its ``info`` label, modality, slices, description."""
        labels = self.labels()
        return "; ".join(
            f"{labels[s.key]} {s.modality} '{s.description}' {len(s.slices)} slice(s)"
            for s in self.series
        )

    def labels(self) -> dict[str, str]:
        """Map each series' ``key`` to its ``info`` label (see :func:`series_labels`)."""
        return series_labels(self.series)

    def find(self, label: str) -> SeriesInfo | None:
        """Return the series whose label (as ``info`` prints it) is ``label``, else None.

        Spacing inside the label does not matter: ``"801[2]"`` finds ``"801 [2]"``.
        """
        want = _normalise_label(label)
        labels = self.labels()
        for s in self.series:
            if _normalise_label(labels[s.key]) == want:
                return s
        return None


def _part(key: str) -> str:
    """The part number of a split key (``"1.2.3#2"`` -> ``"2"``), ``""`` for an unsplit series."""
    head, sep, tail = key.rpartition("#")
    return tail if sep and head and tail.isdigit() else ""


def _normalise_label(text: str) -> str:
    return " ".join(str(text).replace("[", " [").split()).replace("[ ", "[").replace(" ]", "]")


def series_labels(series: list[SeriesInfo]) -> dict[str, str]:
    """Map each series' ``key`` to a short label, unique within ``series``.

    The label is the Series Number (0020,0011), followed by ``[n]`` for part ``n`` of a series
    that was split (by echo, time, orientation ...): ``"801 [2]"``. A series without a number,
    or whose number-based label would name two series (two studies that both have a series 3),
    is labelled by its key (the Series Instance UID, plus ``#n`` for a part). ``info`` prints
    these labels and ``--series``/``series=`` accepts them.

    Examples
    --------
    >>> a = SeriesInfo("1.2#1", "1.2", 801, "MR", "B0", [])
    >>> b = SeriesInfo("1.2#2", "1.2", 801, "MR", "B0", [])
    >>> c = SeriesInfo("1.3", "1.3", None, "CT", "", [])
    >>> series_labels([a, b, c])
    {'1.2#1': '801 [1]', '1.2#2': '801 [2]', '1.3': '1.3'}
    """
    short: dict[str, str] = {}
    for s in series:
        if s.number is None:
            short[s.key] = s.key
            continue
        part = _part(s.key)
        short[s.key] = f"{s.number} [{part}]" if part else str(s.number)
    counts: dict[str, int] = {}
    for label in short.values():
        counts[label] = counts.get(label, 0) + 1
    return {key: (label if counts[label] == 1 else key) for key, label in short.items()}
