"""Ultrasound images and their calibration regions, Sequence of Ultrasound Regions (0018,6011).

A pixel of an ultrasound image has a physical meaning only through the region that contains it
(DICOM PS3.3 C.8.5.5). Each region carries its own bounds, units per axis, physical delta per
pixel (sign kept) and a reference pixel whose physical value is given, so that::

    value_x = reference_value_x + (col - (x0 + reference_pixel_x0)) * delta_x

The reference pixel (0018,6020)/(0018,6022) is stored *relative to the region's top-left corner*
(Region Location Min X0/Y0), as the standard says; it may lie outside the region (an ECG trace
whose time origin is column 0 of the image has ``reference_pixel = (-x0, -y0)``).

An axis whose units are unknown, whose delta is missing, zero or not finite, or a region whose
bounds fall outside the image, is never used to produce a number: the problem is kept on the
region (:attr:`UltrasoundRegion.problems`, :meth:`UltrasoundRegion.axis_problem`) and any
measurement that needs it is refused with that reason.

This module is numpy only; frames are pulled from a :class:`FrameProvider` that ``io`` supplies.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from volumeviz.errors import MeasurementRefused, UsageError


class PhysicalUnits(IntEnum):
    """Physical Units X/Y Direction (0018,6024)/(0018,6026), PS3.3 C.8.5.5.1.15.

    Examples
    --------
    >>> PhysicalUnits(3)
    <PhysicalUnits.CM: 3>
    >>> PhysicalUnits.CM_PER_S.symbol
    'cm/s'
    """

    NONE = 0
    PERCENT = 1
    DB = 2
    CM = 3
    SECONDS = 4
    HERTZ = 5
    DB_PER_S = 6
    CM_PER_S = 7
    CM2 = 8
    CM2_PER_S = 9
    CM3 = 10
    CM3_PER_S = 11
    DEGREES = 12

    @property
    def symbol(self) -> str:
        """Short unit symbol for display and JSON (``""`` for none)."""
        return _UNIT_SYMBOLS[self]

    @property
    def is_physical(self) -> bool:
        """False for NONE: that axis has no physical meaning."""
        return self is not PhysicalUnits.NONE


_UNIT_SYMBOLS = {
    PhysicalUnits.NONE: "",
    PhysicalUnits.PERCENT: "%",
    PhysicalUnits.DB: "dB",
    PhysicalUnits.CM: "cm",
    PhysicalUnits.SECONDS: "s",
    PhysicalUnits.HERTZ: "Hz",
    PhysicalUnits.DB_PER_S: "dB/s",
    PhysicalUnits.CM_PER_S: "cm/s",
    PhysicalUnits.CM2: "cm²",
    PhysicalUnits.CM2_PER_S: "cm²/s",
    PhysicalUnits.CM3: "cm³",
    PhysicalUnits.CM3_PER_S: "cm³/s",
    PhysicalUnits.DEGREES: "deg",
}


class RegionSpatialFormat(IntEnum):
    """Region Spatial Format (0018,6012), PS3.3 C.8.5.5.1.1."""

    NONE = 0
    TWO_D = 1
    M_MODE = 2
    SPECTRAL = 3
    WAVEFORM = 4
    GRAPHICS = 5

    @property
    def label(self) -> str:
        """Human-readable name (``"2D"``, ``"M-mode"``, ...)."""
        return _FORMAT_LABELS[self]


_FORMAT_LABELS = {
    RegionSpatialFormat.NONE: "none",
    RegionSpatialFormat.TWO_D: "2D",
    RegionSpatialFormat.M_MODE: "M-mode",
    RegionSpatialFormat.SPECTRAL: "spectral",
    RegionSpatialFormat.WAVEFORM: "waveform",
    RegionSpatialFormat.GRAPHICS: "graphics",
}


class RegionDataType(IntEnum):
    """Region Data Type (0018,6014), PS3.3 C.8.5.5.1.2 (code 9 is not defined there)."""

    NONE = 0
    TISSUE = 1
    COLOR_FLOW = 2
    PW_DOPPLER = 3
    CW_DOPPLER = 4
    DOPPLER_MEAN_TRACE = 5
    DOPPLER_MODE_TRACE = 6
    DOPPLER_MAX_TRACE = 7
    VOLUME_TRACE = 8
    ECG_TRACE = 10
    PULSE_TRACE = 11
    PHONOCARDIOGRAM_TRACE = 12
    GRAY_BAR = 13
    COLOR_BAR = 14
    INTEGRATED_BACKSCATTER = 15
    AREA_TRACE = 16
    D_AREA_DT = 17
    OTHER_PHYSIOLOGICAL = 18

    @property
    def label(self) -> str:
        """Human-readable name (``"tissue"``, ``"PW Doppler"``, ``"ECG trace"``, ...)."""
        return _TYPE_LABELS.get(self, self.name.replace("_", " ").lower())


_TYPE_LABELS = {
    RegionDataType.PW_DOPPLER: "PW Doppler",
    RegionDataType.CW_DOPPLER: "CW Doppler",
    RegionDataType.ECG_TRACE: "ECG trace",
    RegionDataType.D_AREA_DT: "d(area)/dt",
    RegionDataType.COLOR_FLOW: "colour flow",
    RegionDataType.COLOR_BAR: "colour bar",
}


class ScrollingMode(IntEnum):
    """Bits 3-4 of Region Flags (0018,6016)."""

    UNSPECIFIED = 0
    SCROLLING = 1
    SWEEPING = 2
    SWEEPING_THEN_SCROLLING = 3


@dataclass(frozen=True, slots=True)
class RegionFlags:
    """Region Flags (0018,6016), decoded bit by bit.

    Examples
    --------
    >>> RegionFlags.from_code(3).low_priority, RegionFlags.from_code(3).scaling_protected
    (True, True)
    """

    code: int = 0
    low_priority: bool = False
    scaling_protected: bool = False
    doppler_scale_frequency: bool = False
    scrolling: ScrollingMode = ScrollingMode.UNSPECIFIED

    @classmethod
    def from_code(cls, code: int) -> RegionFlags:
        """Decode the bit field (bit 0 priority, 1 protection, 2 Doppler scale, 3-4 scroll)."""
        code = int(code)
        return cls(
            code=code,
            low_priority=bool(code & 1),
            scaling_protected=bool(code & 2),
            doppler_scale_frequency=bool(code & 4),
            scrolling=ScrollingMode((code >> 3) & 3),
        )


#: formats whose pixels map to physical values through the region's axes
MAPPED_FORMATS = frozenset(
    {
        RegionSpatialFormat.TWO_D,
        RegionSpatialFormat.M_MODE,
        RegionSpatialFormat.SPECTRAL,
        RegionSpatialFormat.WAVEFORM,
    }
)

_AXES = ("x", "y")


@dataclass(frozen=True, slots=True)
class UltrasoundRegion:
    """One item of the Sequence of Ultrasound Regions (0018,6011).

    Parameters
    ----------
    index
        Position of the item in the sequence (0-based).
    spatial_format, data_type
        Enums, or None when the file's code is not in the standard (the raw codes are kept in
        ``spatial_format_code`` / ``data_type_code``).
    flags
        Decoded Region Flags.
    bounds
        ``(x0, y0, x1, y1)``: Region Location Min X0/Y0 and Max X1/Y1, inclusive, image pixels.
    reference_pixel
        ``(X0, Y0)`` of Reference Pixel X0/Y0, *relative to* ``(x0, y0)``; None when absent.
    units
        Per axis, or None when the code is not in the standard (``unit_codes`` keeps it).
    delta
        Physical Delta X/Y, units per pixel, with its sign; None when absent.
    reference_value
        Reference Pixel Physical Value X/Y; None when absent (then 0 is assumed only if the
        reference pixel is present, as PS3.3 makes it the physical origin).
    problems
        Why this region cannot be used at all (bounds outside the image, unknown format).
    notes
        Things found and tolerated (e.g. max X1 equal to Columns, clipped by one pixel).

    Examples
    --------
    >>> r = UltrasoundRegion(index=0, bounds=(10, 20, 109, 219), delta=(0.05, 0.05),
    ...                      reference_pixel=(50, 0), reference_value=(0.0, 0.0))
    >>> r.pixels_per_cm
    (20.0, 20.0)
    >>> r.to_physical(60, 20)
    (0.0, 0.0)
    >>> r.to_physical(80, 120)
    (1.0, 5.0)
    """

    index: int
    spatial_format: RegionSpatialFormat | None = RegionSpatialFormat.TWO_D
    data_type: RegionDataType | None = RegionDataType.TISSUE
    flags: RegionFlags = field(default_factory=RegionFlags)
    bounds: tuple[int, int, int, int] = (0, 0, 0, 0)
    reference_pixel: tuple[float, float] | None = None
    units: tuple[PhysicalUnits | None, PhysicalUnits | None] = (PhysicalUnits.CM, PhysicalUnits.CM)
    delta: tuple[float | None, float | None] = (None, None)
    reference_value: tuple[float | None, float | None] = (None, None)
    spatial_format_code: int | None = None
    data_type_code: int | None = None
    unit_codes: tuple[int | None, int | None] = (None, None)
    transducer_frequency_khz: float | None = None
    pulse_repetition_frequency_hz: float | None = None
    doppler_correction_angle_deg: float | None = None
    steering_angle_deg: float | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.spatial_format_code is None and self.spatial_format is not None:
            object.__setattr__(self, "spatial_format_code", int(self.spatial_format))
        if self.data_type_code is None and self.data_type is not None:
            object.__setattr__(self, "data_type_code", int(self.data_type))
        if self.unit_codes == (None, None):
            codes = tuple(None if u is None else int(u) for u in self.units)
            object.__setattr__(self, "unit_codes", codes)

    # -- description -------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """``"#0 2D tissue"``-style one-word description."""
        fmt = (
            self.spatial_format.label
            if self.spatial_format is not None
            else f"format {self.spatial_format_code}"
        )
        typ = self.data_type.label if self.data_type is not None else f"type {self.data_type_code}"
        return f"#{self.index} {fmt} {typ}"

    @property
    def width(self) -> int:
        """Number of pixel columns covered (inclusive bounds)."""
        return self.bounds[2] - self.bounds[0] + 1

    @property
    def height(self) -> int:
        """Number of pixel rows covered (inclusive bounds)."""
        return self.bounds[3] - self.bounds[1] + 1

    @property
    def usable(self) -> bool:
        """True if the region itself is sound (its axes may still be individually unusable)."""
        return not self.problems

    @property
    def is_mapped(self) -> bool:
        """True for formats whose pixels carry physical axes (2D, M-mode, spectral, waveform)."""
        return self.spatial_format in MAPPED_FORMATS

    def contains(self, col: float, row: float) -> bool:
        """Tell whether image pixel ``(col, row)`` lies within the inclusive bounds."""
        x0, y0, x1, y1 = self.bounds
        return x0 <= col <= x1 and y0 <= row <= y1

    # -- axes ------------------------------------------------------------------------------
    def _axis(self, axis: str) -> int:
        if axis not in _AXES:
            raise UsageError(f"axis must be 'x' or 'y', not {axis!r}")
        return _AXES.index(axis)

    def axis_problem(self, axis: str) -> str | None:
        """Why ``axis`` (``"x"`` or ``"y"``) cannot give a physical value, or None if it can."""
        n = self._axis(axis)
        if self.problems:
            return "; ".join(self.problems)
        tag_u = (
            "(0018,6024) Physical Units X Direction",
            "(0018,6026) Physical Units Y Direction",
        )
        tag_d = ("(0018,602C) Physical Delta X", "(0018,602E) Physical Delta Y")
        unit = self.units[n]
        if unit is None:
            return f"region {self.index}: {tag_u[n]} has unknown code {self.unit_codes[n]}"
        if unit is PhysicalUnits.NONE:
            return f"region {self.index}: {tag_u[n]} is 0 (none): the {axis} axis has no units"
        d = self.delta[n]
        if d is None:
            return f"region {self.index}: no {tag_d[n]}"
        if not math.isfinite(d) or d == 0.0:
            return f"region {self.index}: {tag_d[n]} is {d!r}, not a usable scale"
        return None

    def axis_units(self, axis: str) -> PhysicalUnits:
        """Units of a usable axis; refuses (MeasurementRefused) with the reason otherwise."""
        problem = self.axis_problem(axis)
        if problem is not None:
            raise MeasurementRefused(problem)
        unit = self.units[self._axis(axis)]
        assert unit is not None  # checked by axis_problem
        return unit

    def axis_delta(self, axis: str) -> float:
        """Physical delta (sign kept) of a usable axis; refuses otherwise."""
        self.axis_units(axis)
        d = self.delta[self._axis(axis)]
        assert d is not None
        return float(d)

    def pixels_per_unit(self, axis: str) -> float | None:
        """``1 / |delta|`` for a usable axis, else None."""
        if self.axis_problem(axis) is not None:
            return None
        return 1.0 / abs(self.axis_delta(axis))

    @property
    def pixels_per_cm(self) -> tuple[float | None, float | None]:
        """Pixels per cm along x and y (None on an axis that is not in cm or not usable)."""
        out: list[float | None] = []
        for axis, unit in zip(_AXES, self.units, strict=True):
            ppu = self.pixels_per_unit(axis)
            out.append(ppu if ppu is not None and unit is PhysicalUnits.CM else None)
        return out[0], out[1]

    @property
    def pixels_per_cm2(self) -> float | None:
        """Pixels per cm² when both axes are in cm, else None."""
        px, py = self.pixels_per_cm
        return None if px is None or py is None else px * py

    @property
    def is_spatial_cm(self) -> bool:
        """True for a usable 2D region whose two axes are in cm (distances and areas)."""
        return self.spatial_format is RegionSpatialFormat.TWO_D and self.pixels_per_cm2 is not None

    # -- mapping ---------------------------------------------------------------------------
    def reference_problem(self, axis: str) -> str | None:
        """Why absolute values on ``axis`` are undefined (no reference pixel), or None."""
        if self.reference_pixel is None:
            return (
                f"region {self.index}: no (0018,6020)/(0018,6022) Reference Pixel X0/Y0; "
                "only differences can be measured, not absolute values"
            )
        return None

    def to_physical_axis(self, pixel: float, axis: str) -> float:
        """Physical value of image coordinate ``pixel`` along ``axis`` (refuses if undefined)."""
        n = self._axis(axis)
        delta = self.axis_delta(axis)
        problem = self.reference_problem(axis)
        if problem is not None:
            raise MeasurementRefused(problem)
        assert self.reference_pixel is not None
        ref_px = self.bounds[n] + self.reference_pixel[n]
        ref_val = self.reference_value[n] or 0.0
        return float(ref_val + (pixel - ref_px) * delta)

    def to_physical(self, col: float, row: float) -> tuple[float | None, float | None]:
        """Physical ``(x, y)`` of image pixel ``(col, row)`` in the region's units.

        ``value = reference value + (pixel - (region corner + reference pixel)) * delta``.
        An axis with no physical meaning (units none, delta 0) gives None; an axis that is
        broken (unknown unit code, missing delta), a region with problems, a missing reference
        pixel, or a point outside the region raise :class:`MeasurementRefused`.
        """
        if not self.contains(col, row):
            raise MeasurementRefused(
                f"point ({col:g}, {row:g}) lies outside region {self.index} {self.bounds}"
            )
        if self.problems:
            raise MeasurementRefused("; ".join(self.problems))
        out: list[float | None] = []
        usable = 0
        for axis, pixel in zip(_AXES, (col, row), strict=True):
            n = self._axis(axis)
            if self.units[n] is PhysicalUnits.NONE:
                out.append(None)
                continue
            out.append(self.to_physical_axis(pixel, axis))
            usable += 1
        if not usable:
            raise MeasurementRefused(f"region {self.index}: neither axis has physical units")
        return out[0], out[1]

    def same_mapping(self, other: UltrasoundRegion) -> bool:
        """Tell whether both regions map pixels identically (units, deltas and origin)."""

        def origin(r: UltrasoundRegion) -> tuple[float | None, ...]:
            if r.reference_pixel is None:
                return (None, None)
            return tuple(
                (r.reference_value[n] or 0.0) - (r.bounds[n] + r.reference_pixel[n]) * d
                if d
                else None
                for n, d in enumerate(r.delta)
            )

        return (
            self.units == other.units
            and self.delta == other.delta
            and (
                self.reference_pixel is None
                or other.reference_pixel is None
                or np.allclose(
                    np.array(origin(self), dtype=float),
                    np.array(origin(other), dtype=float),
                    equal_nan=True,
                )
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form used by ``volumeviz us info --json``."""
        return {
            "index": self.index,
            "spatial_format": (
                self.spatial_format.label
                if self.spatial_format is not None
                else f"unknown ({self.spatial_format_code})"
            ),
            "spatial_format_code": self.spatial_format_code,
            "data_type": (
                self.data_type.label
                if self.data_type is not None
                else f"unknown ({self.data_type_code})"
            ),
            "data_type_code": self.data_type_code,
            "flags": self.flags.code,
            "bounds": list(self.bounds),
            "units": [
                u.symbol if u is not None else f"unknown ({c})"
                for u, c in zip(self.units, self.unit_codes, strict=True)
            ],
            "unit_codes": list(self.unit_codes),
            "delta": list(self.delta),
            "reference_pixel": None
            if self.reference_pixel is None
            else list(self.reference_pixel),
            "reference_value": list(self.reference_value),
            "pixels_per_cm": _xy_or_none(self.pixels_per_cm),
            "pixels_per_cm2": self.pixels_per_cm2,
            "transducer_frequency_khz": self.transducer_frequency_khz,
            "pulse_repetition_frequency_hz": self.pulse_repetition_frequency_hz,
            "doppler_correction_angle_deg": self.doppler_correction_angle_deg,
            "steering_angle_deg": self.steering_angle_deg,
            "usable": self.usable,
            "axis_problems": {a: self.axis_problem(a) for a in _AXES},
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def _xy_or_none(xy: tuple[float | None, float | None]) -> list[float | None] | None:
    return None if xy == (None, None) else list(xy)


class FrameProvider(Protocol):
    """Where an :class:`UltrasoundImage` gets its display-ready frames from (io supplies one)."""

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        """Decode one frame: ``(rows, cols)`` grey or ``(rows, cols, 3)`` RGB, uint8."""
        ...

    def iter_frames(self, indices: Sequence[int]) -> Iterator[npt.NDArray[np.uint8]]:
        """Decode frames one at a time, in the order given."""
        ...


@dataclass(frozen=True)
class ArrayFrames:
    """A :class:`FrameProvider` over frames already in memory (tests, synthetic images)."""

    array: npt.NDArray[np.uint8]

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        """Return frame ``index`` (a view)."""
        return self.array[index]

    def iter_frames(self, indices: Sequence[int]) -> Iterator[npt.NDArray[np.uint8]]:
        """Yield the frames at ``indices``."""
        for i in indices:
            yield self.array[i]


def region_mask(
    regions: Iterable[UltrasoundRegion], rows: int, cols: int
) -> npt.NDArray[np.bool_]:
    """Boolean ``(rows, cols)``: True inside any of ``regions`` (bounds inclusive, clipped).

    What an anonymised output keeps of an ultrasound frame: scanners burn the patient's name,
    ID, date and institution in outside the regions.

    Examples
    --------
    >>> reg = UltrasoundRegion(index=0, bounds=(1, 1, 2, 2), delta=(0.1, 0.1),
    ...                        reference_pixel=(0, 0), reference_value=(0.0, 0.0))
    >>> region_mask([reg], 4, 4).sum()
    np.int64(4)
    """
    keep = np.zeros((rows, cols), dtype=bool)
    for region in regions:
        x0, y0, x1, y1 = region.bounds
        keep[max(y0, 0) : max(y1 + 1, 0), max(x0, 0) : max(x1 + 1, 0)] = True
    return keep


def parse_frames(spec: str, n_frames: int, source: str = "") -> list[int]:
    """Parse ``"0,5,10-20"`` or ``"all"`` into frame indices, each checked against n_frames.

    Examples
    --------
    >>> parse_frames("0,5,10-12", 20)
    [0, 5, 10, 11, 12]
    >>> parse_frames("all", 3)
    [0, 1, 2]
    """
    spec = spec.strip().lower()
    if spec == "all":
        return list(range(n_frames))
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        try:
            lo_s, _, hi_s = part.partition("-") if "-" in part[1:] else (part, "", part)
            lo, hi = int(lo_s), int(hi_s)
        except ValueError:
            raise UsageError(
                f"--frames {spec!r}: {part!r} is not a frame number or range (e.g. 0,5,10-20)"
            ) from None
        if hi < lo:
            raise UsageError(f"--frames {spec!r}: range {part!r} runs backwards")
        out.extend(range(lo, hi + 1))
    bad = [i for i in out if not 0 <= i < n_frames]
    if bad:
        raise UsageError(
            f"{source}: frame {bad[0]} out of range; the file has {n_frames} frame(s), "
            f"0..{n_frames - 1}"
        )
    return out


#: coded UltrasoundMeta fields (never free text, kept as they are)
_TECHNICAL_FIELDS = ("sop_class_uid", "transfer_syntax", "photometric_interpretation",
                     "burned_in_annotation", "modality")  # fmt: skip


@dataclass(frozen=True)
class UltrasoundMeta:
    """Descriptive fields of the file; :meth:`anonymized` blanks the patient-identifying ones."""

    modality: str = "US"
    sop_class_uid: str = ""
    manufacturer: str = ""
    model: str = ""
    transfer_syntax: str = ""
    photometric_interpretation: str = ""
    burned_in_annotation: str = ""
    patient_name: str = ""
    patient_id: str = ""
    study_date: str = ""
    institution: str = ""

    def anonymized(self, *, identity: Any = None) -> UltrasoundMeta:
        """Return a copy with the identifying fields blanked and the other text scrubbed.

        The fields are those of :data:`volumeviz.model.volume.IDENTIFYING_FIELDS` this class
        has (patient name, ID, study date, institution); ``identity`` (a
        :class:`volumeviz.model.deid.Identity`, default this metadata's own) is scrubbed
        from the rest by :class:`volumeviz.model.deid.Redactor`.
        """
        from volumeviz.model.deid import Identity, Redactor, scrub_fields
        from volumeviz.model.volume import IDENTIFYING_FIELDS

        redact = Redactor(Identity.of(self) if identity is None else identity)
        changes = scrub_fields(self, redact, skip=(*IDENTIFYING_FIELDS, *_TECHNICAL_FIELDS))
        changes.update(
            {f.name: "" for f in dataclasses.fields(self) if f.name in IDENTIFYING_FIELDS}
        )
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class UltrasoundImage:
    """An ultrasound image or cine with its calibration regions.

    Frames are not held: :meth:`frame` and :meth:`iter_frames` decode them on demand through
    ``frames`` (a :class:`FrameProvider`), so a long cine never sits in memory whole.

    Parameters
    ----------
    source
        File name used in messages.
    rows, columns, n_frames
        Frame size and count.
    color
        True if frames are ``(rows, cols, 3)`` RGB, False if ``(rows, cols)`` grey; uint8 both.
    regions
        Every item of (0018,6011), in file order.
    frame_time_ms
        Nominal time between frames (ms), None if the file gives none.
    frame_time_source
        Which element gave it (``"(0018,1063) Frame Time"``, ...).
    frame_time_vector_ms
        (0018,1065) Frame Time Vector as given (first value normally 0), or None.
    display_fps
        Frame rate for playback: Recommended Display Frame Rate, else Cine Rate, else from
        the frame time; None if the file has none.
    heart_rate_bpm, r_wave_times_ms
        (0018,1088) Heart Rate, (0018,6060) R Wave Time Vector, where present.
    pixel_spacing_mm, pixel_spacing_source
        (0028,0030) Pixel Spacing or (0018,1164) Imager Pixel Spacing ``(row, col)`` mm and
        which one; used only when there are no regions.

    Examples
    --------
    >>> import numpy as np
    >>> reg = UltrasoundRegion(index=0, bounds=(0, 0, 31, 15), delta=(0.1, 0.1),
    ...                        reference_pixel=(0, 0), reference_value=(0.0, 0.0))
    >>> img = UltrasoundImage("demo", 16, 32, 2, False, (reg,),
    ...                       frames=ArrayFrames(np.zeros((2, 16, 32), np.uint8)))
    >>> img.region_at(5, 5).index
    0
    >>> img.frame(1).shape
    (16, 32)
    """

    source: str
    rows: int
    columns: int
    n_frames: int
    color: bool
    regions: tuple[UltrasoundRegion, ...] = ()
    frames: FrameProvider | None = field(default=None, repr=False, compare=False)
    frame_time_ms: float | None = None
    frame_time_source: str = ""
    frame_time_vector_ms: tuple[float, ...] | None = None
    display_fps: float | None = None
    display_fps_source: str = ""
    cine_rate: float | None = None
    recommended_display_frame_rate: float | None = None
    heart_rate_bpm: float | None = None
    r_wave_times_ms: tuple[float, ...] | None = None
    pixel_spacing_mm: tuple[float, float] | None = None
    pixel_spacing_source: str = ""
    meta: UltrasoundMeta = field(default_factory=UltrasoundMeta)
    notes: tuple[str, ...] = ()

    # -- frames ----------------------------------------------------------------------------
    def check_frame(self, index: int) -> int:
        """Return ``index`` if it is a valid frame index, else raise :class:`UsageError`."""
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise UsageError(f"{self.source}: frame index must be an integer, not {index!r}")
        if not 0 <= index < self.n_frames:
            raise UsageError(
                f"{self.source}: frame {index} out of range; the file has {self.n_frames} "
                f"frame(s), 0..{self.n_frames - 1}"
            )
        return int(index)

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        """Decode frame ``index`` for display (uint8 grey or RGB)."""
        index = self.check_frame(index)
        if self.frames is None:
            raise UsageError(f"{self.source}: this UltrasoundImage was built without frames")
        return self.frames.frame(index)

    def iter_frames(self, indices: Iterable[int] | None = None) -> Iterator[npt.NDArray[np.uint8]]:
        """Decode frames one at a time (all if ``indices`` is None); indices checked first."""
        idx = list(range(self.n_frames)) if indices is None else list(indices)
        idx = [self.check_frame(i) for i in idx]
        if self.frames is None:
            raise UsageError(f"{self.source}: this UltrasoundImage was built without frames")
        return self.frames.iter_frames(idx)

    # -- calibration -----------------------------------------------------------------------
    @property
    def calibrated(self) -> bool:
        """True if any region maps pixels to physical values on at least one axis."""
        return any(
            r.is_mapped and any(r.axis_problem(a) is None for a in _AXES) for r in self.regions
        )

    def regions_at(self, col: float, row: float) -> tuple[UltrasoundRegion, ...]:
        """Every region whose bounds contain ``(col, row)``, in file order."""
        return tuple(r for r in self.regions if r.contains(col, row))

    def region_at(self, col: float, row: float) -> UltrasoundRegion | None:
        """Return the region that gives ``(col, row)`` its physical meaning, or None.

        Only 2D, M-mode, spectral and waveform regions are considered (a grey bar or a
        graphics region has no physical axes). If several contain the point, high-priority
        regions (flag bit 0 clear) win; among those the smallest is taken when they all map
        the pixel the same way, and the point is refused as ambiguous when they do not.
        """
        candidates = [r for r in self.regions_at(col, row) if r.is_mapped]
        if not candidates:
            return None
        high = [r for r in candidates if not r.flags.low_priority]
        pool = high or candidates
        pool.sort(key=lambda r: (r.width * r.height, r.index))
        first = pool[0]
        for other in pool[1:]:
            if not first.same_mapping(other):
                raise MeasurementRefused(
                    f"{self.source}: point ({col:g}, {row:g}) lies in overlapping regions "
                    f"{first.index} and {other.index} that map it differently"
                )
        return first

    def check_point(self, col: float, row: float) -> None:
        """Raise :class:`UsageError` if ``(col, row)`` is outside the image."""
        if not (0 <= col <= self.columns - 1 and 0 <= row <= self.rows - 1):
            raise UsageError(
                f"{self.source}: point ({col:g}, {row:g}) is outside the image "
                f"({self.columns} columns x {self.rows} rows)"
            )

    def to_physical(self, col: float, row: float) -> tuple[UltrasoundRegion, tuple[Any, Any]]:
        """``(region, (x, y))``: the physical value of a pixel through the region holding it."""
        self.check_point(col, row)
        region = self.region_at(col, row)
        if region is None:
            raise MeasurementRefused(
                f"{self.source}: point ({col:g}, {row:g}) lies outside every calibrated region"
            )
        return region, region.to_physical(col, row)

    @property
    def duration_s(self) -> float | None:
        """Cine length in seconds from the frame timing, None if unknown."""
        if self.frame_time_vector_ms is not None:
            return float(sum(self.frame_time_vector_ms)) / 1000.0
        if self.frame_time_ms is not None:
            return self.frame_time_ms * self.n_frames / 1000.0
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON summary used by ``volumeviz us info --json``."""
        return {
            "source": self.source,
            "frames": self.n_frames,
            "rows": self.rows,
            "columns": self.columns,
            "color": self.color,
            "frame_time_ms": self.frame_time_ms,
            "frame_time_source": self.frame_time_source,
            "frame_time_vector_ms": (
                None if self.frame_time_vector_ms is None else list(self.frame_time_vector_ms)
            ),
            "display_fps": self.display_fps,
            "display_fps_source": self.display_fps_source,
            "cine_rate": self.cine_rate,
            "recommended_display_frame_rate": self.recommended_display_frame_rate,
            "heart_rate_bpm": self.heart_rate_bpm,
            "r_wave_times_ms": None
            if self.r_wave_times_ms is None
            else list(self.r_wave_times_ms),
            "calibrated": self.calibrated,
            "pixel_spacing_mm": (
                None if self.pixel_spacing_mm is None else list(self.pixel_spacing_mm)
            ),
            "pixel_spacing_source": self.pixel_spacing_source,
            "regions": [r.to_dict() for r in self.regions],
            "notes": list(self.notes),
        }
