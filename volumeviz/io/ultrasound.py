"""Read an ultrasound DICOM file into an :class:`~volumeviz.model.ultrasound.UltrasoundImage`.

Every item of the Sequence of Ultrasound Regions (0018,6011) is read and checked against the
image (bounds inside Rows x Columns, known unit codes, a non-zero delta); a region or axis that
fails is kept, with its reason, and never used for a number. Frames are decoded one at a time
with pydicom 3's pixels API (``pixel_array(path, index=n)`` / ``iter_pixels``), converted for
display: YBR_FULL / YBR_FULL_422 to RGB (pydicom), YBR_RCT / YBR_ICT by the JPEG 2000 decoder,
PALETTE COLOR through its LUT (``apply_color_lut``), MONOCHROME1 inverted, and all to uint8.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import DicomReadError, HeaderError, UltrasoundError
from volumeviz.io._decode import decoding
from volumeviz.io.header import Header
from volumeviz.model.ultrasound import (
    PhysicalUnits,
    RegionDataType,
    RegionFlags,
    RegionSpatialFormat,
    UltrasoundImage,
    UltrasoundMeta,
    UltrasoundRegion,
)

#: SOP classes of ultrasound images (current and retired)
US_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
        "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound Multi-frame Image Storage
        "1.2.840.10008.5.1.4.1.1.6",  # Ultrasound Image Storage (Retired)
        "1.2.840.10008.5.1.4.1.1.3",  # Ultrasound Multi-frame Image Storage (Retired)
        "1.2.840.10008.5.1.4.1.1.6.2",  # Enhanced US Volume Storage
    }
)

_RGB_AFTER_DECODE = {"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT"}


def _read_header(path: Path) -> Any:
    """Read the header (pixel data located but deferred, not read), quietly.

    Raises
    ------
    DicomReadError
        Not DICOM, or a header pydicom cannot parse (truncated, wrong lengths ...).
    UltrasoundError
        A folder was given.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    from volumeviz.io.discover import quiet_pydicom

    if path.is_dir():
        raise UltrasoundError(f"{path}: is a folder; give one ultrasound DICOM file")
    if not path.is_file():
        raise DicomReadError(f"{path}: no such file")
    try:
        with quiet_pydicom():
            return pydicom.dcmread(path, defer_size=4096)
    except InvalidDicomError as exc:
        raise DicomReadError(f"{path}: not a DICOM file ({exc})") from exc
    except Exception as exc:  # truncated or corrupt: pydicom raises many kinds
        raise DicomReadError(
            f"{path}: cannot be read as DICOM ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]})"
        ) from exc


def is_ultrasound_file(path: str | os.PathLike[str]) -> bool:
    """Tell whether ``path`` is a readable DICOM ultrasound image (modality US or US class).

    Never raises: unreadable or non-DICOM files give False.
    """
    try:
        ds = _read_header(Path(path))
    except (DicomReadError, UltrasoundError):
        return False
    return _is_us(Header(ds, path))


def _is_us(h: Header) -> bool:
    return (
        h.text("Modality", lenient=True).upper() == "US"
        or h.text("SOPClassUID", lenient=True) in US_SOP_CLASSES
    )


def _enum(cls: Any, code: int | None) -> Any:
    if code is None:
        return None
    try:
        return cls(code)
    except ValueError:
        return None


def read_region(
    item: Header, index: int, rows: int, columns: int, source: str
) -> UltrasoundRegion:
    """Build one :class:`UltrasoundRegion` from a (0018,6011) item and check it.

    Problems make the region unusable (bounds outside the image, reversed bounds, missing
    bounds, unknown spatial format, a value that cannot be read as the number it must be);
    per-axis faults (unknown units, missing or zero delta) are reported by
    :meth:`UltrasoundRegion.axis_problem` when that axis is used.
    """
    problems: list[str] = []
    notes: list[str] = []
    where = f"{source}: (0018,6011) item {index}"

    def code(keyword: str) -> int | None:
        """An integer code or bound; unreadable or not an integer makes the region unusable."""
        try:
            return item.integer(keyword, None, low=-(2**31), high=2**32)
        except HeaderError as exc:
            problems.append(str(exc))
            return None

    def num(keyword: str, *, needed: bool = True) -> float | None:
        """A real number; unreadable makes the region unusable (``needed``) or is noted."""
        try:
            return item.number(keyword, None, finite=False)  # the region judges NaN/inf
        except HeaderError as exc:
            (problems if needed else notes).append(str(exc))
            return None

    unreadable = len(problems)
    fmt_code = code("RegionSpatialFormat")
    fmt = _enum(RegionSpatialFormat, fmt_code)
    if fmt is None and len(problems) == unreadable:
        problems.append(f"{where}: (0018,6012) Region Spatial Format {fmt_code!r} is not defined")
    type_code = code("RegionDataType")
    dtype = _enum(RegionDataType, type_code)
    if dtype is None:
        notes.append(f"{where}: (0018,6014) Region Data Type {type_code!r} is not defined")

    names = (
        "(0018,6018) Region Location Min X0",
        "(0018,601A) Region Location Min Y0",
        "(0018,601C) Region Location Max X1",
        "(0018,601E) Region Location Max Y1",
    )
    raw = [
        code(k)
        for k in (
            "RegionLocationMinX0",
            "RegionLocationMinY0",
            "RegionLocationMaxX1",
            "RegionLocationMaxY1",
        )
    ]
    bounds = [0, 0, -1, -1]
    missing = [n for n, v in zip(names, raw, strict=True) if v is None]
    if missing:
        problems.append(f"{where}: no {', '.join(missing)}")
    else:
        x0, y0, x1, y1 = (int(v) for v in raw)  # type: ignore[arg-type]
        limits = (columns, rows)
        for n, (lo, hi) in enumerate(((x0, x1), (y0, y1))):
            limit = limits[n]
            axis = "Columns" if n == 0 else "Rows"
            last = limit - 1
            if hi == limit and lo < hi:
                # One past the last pixel: a common vendor off-by-one. Kept as in the file
                # (points are checked against the image anyway) and said so.
                notes.append(
                    f"{where}: {names[n + 2]} = {hi} equals {axis} ({limit}), one past the "
                    f"last pixel; accepted as {last}"
                )
                last = limit
            if lo < 0 or hi > last:
                problems.append(
                    f"{where}: bounds {names[n]} = {lo}, {names[n + 2]} = {hi} lie outside the "
                    f"image (0..{limit - 1}, {axis} = {limit})"
                )
            elif hi < lo:
                problems.append(f"{where}: {names[n + 2]} = {hi} is less than {names[n]} = {lo}")
            if n == 0:
                x0, x1 = lo, hi
            else:
                y0, y1 = lo, hi
        bounds = [x0, y0, x1, y1]

    ref_x, ref_y = num("ReferencePixelX0"), num("ReferencePixelY0")
    reference_pixel = None if ref_x is None or ref_y is None else (ref_x, ref_y)
    if (ref_x is None) != (ref_y is None):
        notes.append(f"{where}: only one of Reference Pixel X0/Y0 given; origin unknown")
    ref_val = (
        num("ReferencePixelPhysicalValueX"),
        num("ReferencePixelPhysicalValueY"),
    )
    if reference_pixel is not None and None in ref_val:
        notes.append(
            f"{where}: no Reference Pixel Physical Value; 0 assumed at the reference pixel"
        )

    unit_codes = (code("PhysicalUnitsXDirection"), code("PhysicalUnitsYDirection"))
    units = tuple(_enum(PhysicalUnits, c) for c in unit_codes)
    delta = (num("PhysicalDeltaX"), num("PhysicalDeltaY"))

    region = UltrasoundRegion(
        index=index,
        spatial_format=fmt,
        data_type=dtype,
        flags=RegionFlags.from_code(code("RegionFlags") or 0),
        bounds=(bounds[0], bounds[1], bounds[2], bounds[3]),
        reference_pixel=reference_pixel,
        units=(units[0], units[1]),
        delta=delta,
        reference_value=ref_val,
        spatial_format_code=fmt_code,
        data_type_code=type_code,
        unit_codes=unit_codes,
        transducer_frequency_khz=num("TransducerFrequency", needed=False),
        pulse_repetition_frequency_hz=num("PulseRepetitionFrequency", needed=False),
        doppler_correction_angle_deg=num("DopplerCorrectionAngle", needed=False),
        steering_angle_deg=num("SteeringAngle", needed=False),
        problems=(),
        notes=tuple(notes),
    )
    # An axis with physical units but an unknown unit code or a missing, zero or non-finite
    # delta makes the whole region unusable: no number is produced from it on any axis.
    for n, axis in enumerate(("x", "y")):
        if region.units[n] is PhysicalUnits.NONE:
            continue  # no units: that axis simply has no physical meaning (e.g. ECG y)
        fault = region.axis_problem(axis)
        if fault is not None:
            problems.append(f"{source}: {fault}")
    return dataclasses.replace(region, problems=tuple(problems))


def _timing(h: Header, n_frames: int, source: str) -> dict[str, Any]:
    """Frame time, vector, display rate, heart rate and R-wave times from the header."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    # timing only informs (and scales cine playback): a malformed value is noted and ignored
    frame_time = h.number("FrameTime", None, finite=False, lenient=True)
    vector = h.numbers("FrameTimeVector", None, None, lenient=True)
    cine = h.number("CineRate", None, lenient=True)
    rec = h.number("RecommendedDisplayFrameRate", None, lenient=True)
    if rec is None:
        rec = h.number("RecommendedDisplayFrameRateInFloat", None, lenient=True)
    if frame_time is not None and not (math.isfinite(frame_time) and frame_time > 0):
        notes.append(f"{source}: (0018,1063) Frame Time {frame_time!r} ignored")
        frame_time = None
    if vector is not None and len(vector) != n_frames:
        notes.append(
            f"{source}: (0018,1065) Frame Time Vector has {len(vector)} values for "
            f"{n_frames} frames; ignored"
        )
        vector = None
    source_name = ""
    if frame_time is not None:
        source_name = "(0018,1063) Frame Time"
    if frame_time is None and vector is not None and n_frames > 1:
        steps = [v for v in vector[1:] if math.isfinite(v) and v > 0]
        if steps:
            frame_time = float(np.mean(steps))
            source_name = "(0018,1065) Frame Time Vector (mean)"
    if frame_time is None and cine is not None and cine > 0:
        frame_time = 1000.0 / cine
        source_name = "(0018,0040) Cine Rate"
    if frame_time is None and rec is not None and rec > 0:
        frame_time = 1000.0 / rec
        source_name = "(0008,2144) Recommended Display Frame Rate"
    fps, fps_source = None, ""
    if rec is not None and rec > 0:
        fps, fps_source = rec, "(0008,2144) Recommended Display Frame Rate"
    elif cine is not None and cine > 0:
        fps, fps_source = cine, "(0018,0040) Cine Rate"
    elif frame_time is not None:
        fps, fps_source = 1000.0 / frame_time, source_name
    heart = h.number("HeartRate", None, lenient=True)
    if heart is not None and heart <= 0:
        notes.append(f"{source}: (0018,1088) Heart Rate {heart:g} means not recorded; ignored")
        heart = None
    out.update(
        frame_time_ms=frame_time,
        frame_time_source=source_name,
        frame_time_vector_ms=vector,
        display_fps=fps,
        display_fps_source=fps_source,
        cine_rate=cine,
        recommended_display_frame_rate=rec,
        heart_rate_bpm=heart,
        r_wave_times_ms=h.numbers("RWaveTimeVector", None, None, lenient=True),
    )
    out["_notes"] = notes
    return out


def _spacing(h: Header) -> tuple[tuple[float, float] | None, str]:
    for keyword, tag in (("PixelSpacing", "(0028,0030)"), ("ImagerPixelSpacing", "(0018,1164)")):
        value = h.numbers(keyword, 2, None, positive=True, lenient=True)
        if value is not None:
            return (value[0], value[1]), f"{tag} {keyword}"
    return None, ""


class DicomFrames:
    """Decode frames of one DICOM file on demand, for display (a ``FrameProvider``)."""

    def __init__(self, path: Path, header: Any) -> None:
        self.path = path
        self.header = header
        h = Header(header, path)
        self.photometric = h.code("PhotometricInterpretation", None, "")
        bits_allocated = h.integer("BitsAllocated", 8, low=1, high=64)
        self.bits_stored = h.integer("BitsStored", bits_allocated, low=1, high=32)
        self._palette: tuple[npt.NDArray[Any], int, int] | None = None
        if self.photometric == "PALETTE COLOR":
            from volumeviz.io.pixels import palette_table

            self._palette = palette_table(h)  # checked once, before any frame is decoded

    def _display(self, arr: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
        pi = self.photometric
        if pi == "PALETTE COLOR" and self._palette is not None:
            table, first, depth = self._palette
            if arr.ndim not in (2, 3) or arr.dtype.kind not in "iu":
                raise DicomReadError(
                    f"{self.path}: PALETTE COLOR frame decoded as {arr.dtype} {arr.shape}, "
                    "not palette indices"
                )
            index = np.clip(arr.astype(np.int64) - first, 0, len(table) - 1)
            rgb: npt.NDArray[Any] = table[index].astype(np.uint32, copy=False)
            # Some writers declare 16-bit entries but store 8-bit values: keep those as they are.
            if depth > 8 and rgb.max() > 255:
                rgb = rgb >> (depth - 8)
            return np.ascontiguousarray(rgb, dtype=np.uint8)
        if pi in _RGB_AFTER_DECODE:
            if arr.ndim != 3 or arr.shape[-1] != 3:
                raise DicomReadError(
                    f"{self.path}: (0028,0004) Photometric Interpretation {pi} but decoded "
                    f"array has shape {arr.shape}"
                )
            return _to_uint8(arr, self.bits_stored)
        if pi in {"MONOCHROME1", "MONOCHROME2"}:
            grey = _to_uint8(arr, self.bits_stored)
            return 255 - grey if pi == "MONOCHROME1" else grey
        raise DicomReadError(
            f"{self.path}: (0028,0004) Photometric Interpretation {pi!r} cannot be displayed"
        )

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        """Decode frame ``index`` only."""
        from pydicom.pixels import pixel_array

        with decoding(self.path, f"frame {index} cannot be decoded"):
            arr = pixel_array(os.fspath(self.path), index=index)
        return self._display(arr)

    def iter_frames(self, indices: Sequence[int]) -> Iterator[npt.NDArray[np.uint8]]:
        """Decode the frames at ``indices`` one at a time (the file is read as a stream)."""
        from pydicom.pixels import iter_pixels

        wanted = list(indices)
        if not wanted:
            return
        if wanted != sorted(set(wanted)):  # iter_pixels yields in file order, once each
            for i in wanted:
                yield self.frame(i)
            return
        it = iter_pixels(os.fspath(self.path), indices=wanted)
        n = 0
        while True:
            frame = wanted[n] if n < len(wanted) else n
            with decoding(self.path, f"frame {frame} cannot be decoded"):
                arr = next(it, None)
            if arr is None:
                break
            n += 1
            yield self._display(arr)


def _to_uint8(arr: npt.NDArray[Any], bits_stored: int) -> npt.NDArray[np.uint8]:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind == "i":  # int64: a 32-bit signed sample plus 2**31 overflows int32
        arr = arr.astype(np.int64) + (1 << (bits_stored - 1))
    shift = max(bits_stored - 8, 0)
    out = np.clip(arr.astype(np.int64) >> shift, 0, 255)
    return out.astype(np.uint8)


def load_ultrasound(path: str | os.PathLike[str]) -> UltrasoundImage:
    """Read an ultrasound DICOM file: header, every region, timing; frames decoded on demand.

    Parameters
    ----------
    path
        One DICOM file (single or multi-frame).

    Returns
    -------
    UltrasoundImage
        Frames are decoded lazily (``img.frame(n)``, ``img.iter_frames()``).

    Raises
    ------
    DicomReadError
        Not DICOM, or no pixel data.
    UltrasoundError
        A DICOM file that is not ultrasound, or whose image size is missing.

    Examples
    --------
    >>> img = load_ultrasound("us.dcm")  # doctest: +SKIP
    >>> img.regions[0].pixels_per_cm  # doctest: +SKIP
    (19.589..., 19.589...)
    """
    path = Path(path)
    ds = _read_header(path)
    source = str(path)
    h = Header(ds, source)
    if not _is_us(h):
        raise UltrasoundError(
            f"{source}: not an ultrasound image: (0008,0060) Modality is "
            f"{h.text('Modality', lenient=True)!r} and (0008,0016) SOP Class UID "
            f"{h.text('SOPClassUID', lenient=True)!r} is not an ultrasound class"
        )
    rows = h.integer("Rows", None, low=0, high=65535)
    columns = h.integer("Columns", None, low=0, high=65535)
    if not rows or not columns:
        raise UltrasoundError(f"{source}: no (0028,0010) Rows / (0028,0011) Columns")
    if not any(t in h for t in (0x7FE00010, 0x7FE00008, 0x7FE00009)):
        raise DicomReadError(f"{source}: no (7FE0,0010) Pixel Data")
    from volumeviz.io.pixels import check_frames

    n_frames = check_frames(h)  # against the pixel data, before anything per frame
    pi = h.code("PhotometricInterpretation", None, "")
    samples = h.integer("SamplesPerPixel", 1, low=1, high=4)
    color = pi == "PALETTE COLOR" or samples == 3

    regions = tuple(
        read_region(item, n, rows, columns, source)
        for n, item in enumerate(h.items("SequenceOfUltrasoundRegions"))
    )
    timing = _timing(h, n_frames, source)
    notes = list(timing.pop("_notes"))
    spacing, spacing_source = _spacing(h)
    from pydicom.dataset import Dataset

    meta_h = Header(getattr(ds, "file_meta", None) or Dataset(), source, notes=h.notes)
    text = functools.partial(h.text, lenient=True)
    meta = UltrasoundMeta(
        modality=text("Modality"),
        sop_class_uid=text("SOPClassUID"),
        manufacturer=text("Manufacturer"),
        model=text("ManufacturerModelName"),
        transfer_syntax=meta_h.text("TransferSyntaxUID", lenient=True),
        photometric_interpretation=pi,
        burned_in_annotation=text("BurnedInAnnotation").upper(),
        patient_name=text("PatientName"),
        patient_id=text("PatientID"),
        study_date=text("StudyDate"),
        institution=text("InstitutionName"),
    )
    frames = DicomFrames(path, ds)
    notes.extend(n for n in h.notes if n not in notes)
    return UltrasoundImage(
        source=source,
        rows=rows,
        columns=columns,
        n_frames=n_frames,
        color=color,
        regions=regions,
        frames=frames,
        pixel_spacing_mm=spacing,
        pixel_spacing_source=spacing_source,
        meta=meta,
        notes=tuple(notes),
        **timing,
    )
