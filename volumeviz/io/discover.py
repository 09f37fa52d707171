"""Discover DICOM series: walk a folder or take a file list, read headers only, group and split.

Only the header fields the loader needs are read (pydicom ``specific_tags``; the pixel data is
located but not read), so a 300-slice CT is scanned in well under a second. Files that are not
DICOM, and DICOM objects that are not images (DICOMDIR, Philips DIRFILE, RT plans, SR), are
skipped with a note. DICOM images that cannot be used (truncated, no pixel data, Rows/Columns
that disagree with the pixel data length, absurd sizes) are *rejected* with a one-line reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag

from volumeviz.errors import HeaderError, NoSeriesError
from volumeviz.io.header import Header, check_value_in_file, number_of_frames
from volumeviz.io.series import plan_series, split_parts
from volumeviz.model.geometry import Geometry
from volumeviz.model.series import DerivedObject, RejectedFile, ScanResult, SeriesInfo, SliceRef

log = logging.getLogger(__name__)

__all__ = ["HEADER_TAGS", "MAX_VOXELS", "check_file", "read_slices", "scan", "scan_datasets"]

#: largest image (voxels in one file) the loader accepts; a header claiming more is refused
MAX_VOXELS = 2**31 // 2

#: the elements read from each file (everything else is skipped unread)
HEADER_TAGS = [
    "SpecificCharacterSet",
    "ImageType",
    "SOPClassUID",
    "SOPInstanceUID",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "Modality",
    "Manufacturer",
    "InstitutionName",
    "ReferringPhysicianName",
    "StudyDescription",
    "SeriesDescription",
    "ManufacturerModelName",
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "BodyPartExamined",
    "SliceThickness",
    "SpacingBetweenSlices",
    "EchoTime",
    "EchoNumbers",
    "TriggerTime",
    "GantryDetectorTilt",
    "PatientPosition",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "StudyID",
    "SeriesNumber",
    "AcquisitionNumber",
    "InstanceNumber",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "FrameOfReferenceUID",
    "TemporalPositionIdentifier",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "NumberOfFrames",
    "FrameIncrementPointer",
    "Rows",
    "Columns",
    "PixelSpacing",
    "ImagerPixelSpacing",
    "EstimatedRadiographicMagnificationFactor",
    "PixelSpacingCalibrationType",
    "PatientOrientation",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "PixelRepresentation",
    "WindowCenter",
    "WindowWidth",
    "RescaleIntercept",
    "RescaleSlope",
    "RescaleType",
    "WindowCenterWidthExplanation",
    "DiffusionBValue",
    "GridFrameOffsetVector",
    "DimensionIndexSequence",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
    "ReferencedSeriesSequence",
    "ReferencedFrameOfReferenceSequence",
    "CurrentRequestedProcedureEvidenceSequence",
    "PixelData",
    "FloatPixelData",
    "DoubleFloatPixelData",
    "DirectoryRecordSequence",
    # extra dimensions (io/dimensions.py): timing and the number of volumes
    "RepetitionTime",
    "NumberOfTemporalPositions",
    "FrameTime",
    "MRAcquisitionType",
    "AcquisitionTime",
]

#: Philips private (2005,1429) label type (LABEL / CONTROL of ASL), read as dcm2niix does
PHILIPS_LABEL_TYPE = 0x20051429

#: HEADER_TAGS as tags: dcmread converts keywords on every call (62 lookups a file), tags it passes
_HEADER_TAG_IDS = [Tag(k) for k in HEADER_TAGS] + [Tag(PHILIPS_LABEL_TYPE)]

_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_NATIVE_SYNTAXES = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
}
_UNDEFINED = 0xFFFFFFFF
#: Media Storage Directory Storage (a DICOMDIR)
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
#: largest |Rescale Slope| / |Rescale Intercept| accepted: beyond it no stored value maps to a
#: number float32 can hold in a useful way (and none is real)
MAX_RESCALE = 1e20


class _Skip(Exception):
    """Not an image: skip with a note."""


class _Derived(Exception):
    """A derived object without pixels (RTSTRUCT, SR, PR, KOS ...): list it, not as a series."""

    def __init__(self, obj: DerivedObject) -> None:
        super().__init__(obj.path)
        self.obj = obj


_SOP_PREFIX = "1.2.840.10008.5.1.4.1.1."
#: SOP classes of objects made from images (PS3.4 B.5): kind by SOP Class UID (after the prefix)
DERIVED_SOP_CLASSES: dict[str, str] = {
    "66": "RAW",
    "66.1": "REG",
    "66.2": "FID",
    "66.3": "REG",
    "66.4": "SEG",
    "66.5": "SEG",
    "66.7": "SEG",
    "67": "RWV",
    "481.1": "RTIMAGE",
    "481.2": "RTDOSE",
    "481.3": "RTSTRUCT",
    "481.5": "RTPLAN",
    "481.8": "RTPLAN",
    "88.59": "KOS",
}
#: SOP class families (prefix after ``1.2.840.10008.5.1.4.1.1.``) that are derived
_DERIVED_FAMILIES = {"11.": "PR", "88.": "SR", "481.": "RT", "104.": "DOC"}
#: (0008,0060) Modality values of derived objects (when the SOP class says nothing)
DERIVED_MODALITIES = frozenset(
    {"SEG", "RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD", "RTIMAGE", "PR", "SR", "KO", "REG",
     "FID", "RWV", "DOC", "PLAN"}
)  # fmt: skip


def derived_kind(sop_class_uid: str, modality: str = "") -> str:
    """The kind of derived object a SOP class (or modality) is, ``""`` for an image.

    Examples
    --------
    >>> derived_kind("1.2.840.10008.5.1.4.1.1.66.4"), derived_kind("1.2.840.10008.5.1.4.1.1.2")
    ('SEG', '')
    >>> derived_kind("1.2.840.10008.5.1.4.1.1.11.1"), derived_kind("", "RTSTRUCT")
    ('PR', 'RTSTRUCT')
    """
    if sop_class_uid.startswith(_SOP_PREFIX):
        rest = sop_class_uid[len(_SOP_PREFIX) :]
        if rest in DERIVED_SOP_CLASSES:
            return DERIVED_SOP_CLASSES[rest]
        for prefix, kind in _DERIVED_FAMILIES.items():
            if rest.startswith(prefix):
                return kind
        return ""
    return modality if modality in DERIVED_MODALITIES else ""


def _referenced_series(h: Header) -> tuple[str, ...]:
    """Series a derived object says it was made from (the references cheap to read)."""
    found: list[str] = []
    items = h.items("ReferencedSeriesSequence", lenient=True)
    for ev in h.items("CurrentRequestedProcedureEvidenceSequence", lenient=True):
        items += ev.items("ReferencedSeriesSequence", lenient=True)
    for fr in h.items("ReferencedFrameOfReferenceSequence", lenient=True):
        for st in fr.items("RTReferencedStudySequence", lenient=True):
            items += st.items("RTReferencedSeriesSequence", lenient=True)
    for item in items:
        uid = item.text("SeriesInstanceUID", lenient=True)
        if uid and uid not in found:
            found.append(uid)
    return tuple(found)


class _Reject(Exception):
    """An image that cannot be used: reject with a reason (and its series UID, if known)."""

    def __init__(self, message: str, series_uid: str = "") -> None:
        super().__init__(message)
        self.series_uid = series_uid


#: positions further than this from the origin (mm) are not a patient's: refused as implausible
MAX_POSITION_MM = 1e6
#: a direction cosine triple whose length is further than this from 1 is not a direction
COSINE_LENGTH_TOL = 0.1
#: row and column cosines whose dot product exceeds this are not perpendicular (about 0.6°)
COSINE_DOT_TOL = 1e-2
#: largest pixel spacing accepted (mm)
MAX_PIXEL_SPACING_MM = 1e4


def _first_window(h: Header) -> tuple[float, float] | None:
    """The image's first (0028,1050)/(0028,1051) pair (centre, width), None if none is usable."""
    wcs = h.numbers("WindowCenter", None, (), lenient=True)
    wws = h.numbers("WindowWidth", None, (), lenient=True)
    if wcs and wws and wws[0] > 0:
        return (wcs[0], wws[0])
    return None


def _header_fields(h: Header) -> dict[str, Any]:
    """Study/patient/display fields: they only inform, so a bad one is noted and left out."""
    windows: list[tuple[float, float, str]] = []
    wcs = h.numbers("WindowCenter", None, (), finite=False, lenient=True)
    wws = h.numbers("WindowWidth", None, (), finite=False, lenient=True)
    if wcs and wws:
        exs = h.texts("WindowCenterWidthExplanation", lenient=True)
        for n, (c_f, w_f) in enumerate(zip(wcs, wws, strict=False)):
            if math.isfinite(c_f) and math.isfinite(w_f) and w_f > 0:
                windows.append((c_f, w_f, exs[n] if n < len(exs) else ""))
    text = functools.partial(h.text, lenient=True)
    return {
        "study_uid": text("StudyInstanceUID"),
        "frame_of_reference_uid": text("FrameOfReferenceUID"),
        "sop_class_uid": text("SOPClassUID"),
        "study_description": text("StudyDescription"),
        "study_date": text("StudyDate"),
        "study_time": text("StudyTime"),
        "study_id": text("StudyID"),
        "manufacturer": text("Manufacturer"),
        "model": text("ManufacturerModelName"),
        "body_part": text("BodyPartExamined"),
        "patient_position": text("PatientPosition"),
        "patient_name": text("PatientName"),
        "patient_id": text("PatientID"),
        "patient_birth_date": text("PatientBirthDate"),
        "patient_sex": text("PatientSex"),
        "patient_age": text("PatientAge"),
        "institution": text("InstitutionName"),
        "accession_number": text("AccessionNumber"),
        "referring_physician": text("ReferringPhysicianName"),
        "slice_thickness": h.number(
            "SliceThickness", 0.0, positive=True, high=MAX_PIXEL_SPACING_MM, lenient=True
        ),
        "spacing_between_slices": h.number(
            "SpacingBetweenSlices", 0.0, positive=True, high=MAX_PIXEL_SPACING_MM, lenient=True
        ),
        "gantry_tilt": h.number("GantryDetectorTilt", 0.0, low=-90.0, high=90.0, lenient=True),
        "rescale_type": text("RescaleType"),
        "windows": windows,
        "frame_increment_pointer": "\\".join(h.texts("FrameIncrementPointer", lenient=True)),
        "repetition_time": h.number("RepetitionTime", 0.0, positive=True, lenient=True),
        "number_of_temporal_positions": h.integer(
            "NumberOfTemporalPositions", 0, low=0, lenient=True
        ),
        "frame_time": h.number("FrameTime", 0.0, positive=True, lenient=True),
        "mr_acquisition_type": text("MRAcquisitionType"),
    }


def position(h: Header, key: str = "ImagePositionPatient") -> tuple[float, float, float] | None:
    """(0020,0032) Image Position (Patient): 3 finite mm within :data:`MAX_POSITION_MM`, or None.

    Raises
    ------
    HeaderError
        Not 3 numbers, not finite, or implausibly far from the origin.
    """
    ipp = h.numbers(key, 3, None)
    if ipp is None:
        return None
    if max(abs(v) for v in ipp) > MAX_POSITION_MM:
        raise h.error(
            key, ipp, f"is implausible: more than {MAX_POSITION_MM:g} mm from the origin"
        )
    return (ipp[0], ipp[1], ipp[2])


def orientation(
    h: Header, key: str = "ImageOrientationPatient"
) -> tuple[float, float, float, float, float, float] | None:
    """(0020,0037) Image Orientation (Patient): two unit direction-cosine triples, or None.

    All zeros (written by some secondary captures for "unknown") reads as absent, with a note.

    Raises
    ------
    HeaderError
        Not 6 finite numbers, or a triple that is not a unit vector (within
        :data:`COSINE_LENGTH_TOL`), or row and column triples that are not perpendicular
        (normalised dot product above :data:`COSINE_DOT_TOL`): no image plane, so no slice
        normal to stack or place the image along (PS3.3 C.7.6.2.1.1).
    """
    iop = h.numbers(key, 6, None)
    if iop is None:
        return None
    if not any(iop):
        h.note(f"{h.where(key)} is all zero: read as absent (no orientation)")
        return None
    lengths = []
    for name, triple in (("row", iop[:3]), ("column", iop[3:])):
        length = math.sqrt(sum(v * v for v in triple))
        if not abs(length - 1.0) <= COSINE_LENGTH_TOL:
            raise h.error(
                key, iop, f"has {name} cosines of length {length:.3g}; not a unit vector"
            )
        lengths.append(length)
    dot = sum(a * b for a, b in zip(iop[:3], iop[3:], strict=True)) / (lengths[0] * lengths[1])
    if not abs(dot) <= COSINE_DOT_TOL:
        raise h.error(
            key, iop, f"has row and column cosines that are not perpendicular (dot {dot:.3f})"
        )
    return (iop[0], iop[1], iop[2], iop[3], iop[4], iop[5])


def pixel_spacing(h: Header, key: str = "PixelSpacing") -> tuple[float, float] | None:
    """(0028,0030) Pixel Spacing (row, column) in mm: 2 positive finite numbers, or None."""
    ps = h.numbers(key, 2, None, positive=True, high=MAX_PIXEL_SPACING_MM)
    return None if ps is None else (ps[0], ps[1])


@contextlib.contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Silence pydicom's value-validation warnings (bad VRs are judged by the loader instead)."""
    settings = pydicom.config.settings
    mode = settings.reading_validation_mode
    settings.reading_validation_mode = pydicom.config.IGNORE
    pd_log = logging.getLogger("pydicom")
    level = pd_log.level
    pd_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        settings.reading_validation_mode = mode
        pd_log.setLevel(level)


def _read_dataset(path: Path) -> Dataset:
    with quiet_pydicom():
        return _read_dataset_inner(path)


def _read_dataset_inner(path: Path) -> Dataset:
    label = str(path)
    try:
        return pydicom.dcmread(path, defer_size=1024, specific_tags=_HEADER_TAG_IDS)
    except InvalidDicomError:
        pass
    except PermissionError as exc:
        raise _Reject(f"{label}: cannot open: permission denied") from exc
    except IsADirectoryError as exc:  # pragma: no cover - walk gives files only
        raise _Skip(f"{label}: a folder") from exc
    except OSError as exc:
        raise _Reject(f"{label}: cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:
        raise _Reject(f"{label}: DICOM header unreadable ({type(exc).__name__}: {exc})") from exc
    # no preamble / no File Meta: accept a raw dataset only if it plainly is an image, and only
    # try when the file starts like one (group 0002 or 0008), so that large non-DICOM files are
    # never parsed as garbage
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise _Reject(f"{label}: cannot read: {exc.strerror or exc}") from exc
    if len(head) < 4 or head[:2] not in (b"\x02\x00", b"\x08\x00", b"\x00\x02", b"\x00\x08"):
        raise _Skip(f"{label}: not DICOM (no DICM prefix and no recognisable dataset)")
    try:
        ds = pydicom.dcmread(path, defer_size=1024, specific_tags=_HEADER_TAG_IDS, force=True)
    except Exception as exc:
        raise _Skip(f"{label}: not DICOM") from exc
    try:
        ok = "SOPClassUID" in ds or ("Rows" in ds and any(t in ds for t in _PIXEL_TAGS))
        ok = ok and all(isinstance(k, int) for k in ds.keys())
    except Exception:
        ok = False
    if not ok:
        raise _Skip(f"{label}: not DICOM (no DICM prefix and no recognisable dataset)")
    return ds


def _check_pixels(
    h: Header, rows: int, cols: int, frames: int, samples: int, bits: int, photometric: str
) -> tuple[str, int | None]:
    """Check the pixel data is present and its size agrees with the header.

    Returns the transfer syntax and, for native little-endian (7FE0,0010) Pixel Data whose
    bytes are all in the file, their byte offset (else None).
    """
    offset = None
    label = h.source
    meta = Header(getattr(h.ds, "file_meta", None) or Dataset(), h.source, cache=h.cache)
    ts = meta.text("TransferSyntaxUID")
    if not ts:
        if getattr(h.ds, "preamble", None) is not None:
            raise _Reject(
                f"{label}: File Meta has no (0002,0010) Transfer Syntax UID; pixels cannot be "
                "decoded"
            )
        ts = "1.2.840.10008.1.2"  # raw dataset without meta: DICOM default (implicit VR LE)
    tag = next((t for t in _PIXEL_TAGS if t in h), None)
    if tag is None:
        raise _Reject(f"{label}: no (7FE0,0010) Pixel Data; image cannot be loaded")
    raw = h.element(tag)
    length = getattr(raw, "length", None)
    value = getattr(raw, "value", None)
    if length is None:  # already a DataElement (small value): measure it
        length = len(value) if isinstance(value, bytes | bytearray) else 0
    if rows <= 0 or cols <= 0:
        raise _Reject(f"{label}: (0028,0010) Rows={rows} / (0028,0011) Columns={cols} is empty")
    voxels = rows * cols * frames * samples
    if voxels > MAX_VOXELS:
        raise _Reject(
            f"{label}: header claims a {cols}x{rows} image x {frames} frame(s) "
            f"({voxels * max(bits, 8) / 8 / 2**30:.1f} GiB); refusing (limit "
            f"{MAX_VOXELS} voxels)"
        )
    if ts in _NATIVE_SYNTAXES and tag == 0x7FE00010:
        if length == _UNDEFINED:
            raise _Reject(
                f"{label}: (7FE0,0010) Pixel Data is encapsulated but (0002,0010) Transfer "
                f"Syntax {ts} is native"
            )
        need = (voxels * bits + 7) // 8
        if ts != "1.2.840.10008.1.2.1.99":
            if length < need or length > need + 1:
                raise _Reject(
                    f"{label}: (7FE0,0010) Pixel Data has {length} bytes but (0028,0010) "
                    f"Rows={rows} x (0028,0011) Columns={cols} x {frames} frame(s) x "
                    f"{bits} bits needs {need}"
                )
            tell = getattr(raw, "value_tell", None)
            if tell is not None and h.path is not None:
                size = h.path.stat().st_size
                if tell + need > size:
                    raise _Reject(
                        f"{label}: file truncated: (7FE0,0010) Pixel Data needs {need} bytes "
                        f"from offset {tell} but the file has {size} bytes"
                    )
                if ts != "1.2.840.10008.1.2.2":
                    offset = int(tell)
    elif length == _UNDEFINED:
        # encapsulated: at least one fragment per frame (PS3.5 A.4), counted before decoding
        number_of_frames(
            h, rows=rows, cols=cols, samples=samples, bits_allocated=bits, photometric=photometric
        )
    else:  # encapsulated syntax, defined length (not PS3.5 A.4): at least it must be in the file
        check_value_in_file(h, tag)
    return ts, offset


def _remote_syntax(h: Header, rows: int, cols: int, frames: int, samples: int) -> str:
    """The size checks of :func:`_check_pixels` for a header whose pixels are not here."""
    if rows <= 0 or cols <= 0:
        raise _Reject(f"{h.source}: (0028,0010) Rows={rows} / (0028,0011) Columns={cols} is empty")
    if rows * cols * frames * samples > MAX_VOXELS:
        raise _Reject(
            f"{h.source}: header claims a {cols}x{rows} image x {frames} frame(s); refusing "
            f"(limit {MAX_VOXELS} voxels)"
        )
    meta = getattr(h.ds, "file_meta", None)
    return Header(meta, h.source).text("TransferSyntaxUID", lenient=True) if meta else ""


def _sop_name(uid: str) -> str:
    try:
        return str(pydicom.uid.UID(uid).name)
    except Exception:  # pragma: no cover - unusual UID strings
        return uid


def read_slices(
    path: str | os.PathLike[str],
    *,
    full_header: Callable[[str], bool] = lambda uid: True,
) -> tuple[list[SliceRef], dict[str, Any]]:
    """Read one file's header; return its 2D images (frames) and header fields.

    ``full_header(series_uid)`` says whether the study/patient/display fields are wanted (a scan
    needs them once per series); the series UID, number, modality and description always are.

    Raises
    ------
    _Skip
        Not DICOM, or not an image (with the note to show).
    _Reject
        A DICOM image that cannot be used (with the reason).
    """
    with quiet_pydicom():
        return _read_slices_quiet(Path(path), full_header)


def check_file(path: str | os.PathLike[str]) -> str | None:
    """Why discovery would reject the file at ``path``; ``None`` if usable (or not an image).

    The same checks as a scan (pixel data present and as long as the header says, ...): the
    PACS cache runs it on every instance before keeping it, so a truncated one never enters.
    """
    try:
        read_slices(path)
    except _Skip:
        return None
    except _Reject as exc:
        return str(exc)
    return None


def _read_slices_quiet(
    p: Path, full_header: Callable[[str], bool], cache: dict[tuple[Any, ...], Any] | None = None
) -> tuple[list[SliceRef], dict[str, Any]]:
    """:func:`read_slices` for a caller already inside :func:`quiet_pydicom` (one per scan).

    ``cache``: converted header values shared by the files of one scan (see :class:`Header`).
    """
    return _slices_from(_read_dataset_inner(p), p, full_header, cache=cache)


def _slices_from(
    ds: Dataset,
    p: Path | str,
    full_header: Callable[[str], bool],
    *,
    remote: bool = False,
    cache: dict[tuple[Any, ...], Any] | None = None,
) -> tuple[list[SliceRef], dict[str, Any]]:
    """One dataset's slices; ``remote``: a header whose pixel data stays on a PACS."""
    h = Header(ds, p, cache=cache)
    series_uid = ""
    try:
        series_uid = h.text("SeriesInstanceUID")
        return _slices_checked(h, series_uid, full_header, remote)
    except HeaderError as exc:
        raise _Reject(str(exc), series_uid) from None
    except _Reject as exc:
        if exc.series_uid or not series_uid:
            raise
        raise _Reject(str(exc), series_uid) from None


def _slices_checked(
    h: Header, series_uid: str, full_header: Callable[[str], bool], remote: bool = False
) -> tuple[list[SliceRef], dict[str, Any]]:
    from volumeviz.io.enhanced import frame_slices
    from volumeviz.io.mosaic import is_mosaic, mosaic_slices

    ds, label = h.ds, h.source
    has_pixels = remote or any(t in h for t in _PIXEL_TAGS)
    sop = h.text("SOPClassUID", lenient=True)
    meta = Header(
        getattr(ds, "file_meta", None) or Dataset(), h.source, notes=h.notes, cache=h.cache
    )
    meta_sop = meta.text("MediaStorageSOPClassUID", lenient=True)
    if "DirectoryRecordSequence" in h or DICOMDIR_SOP_CLASS in (sop, meta_sop):
        raise _Skip(f"{label}: skipped: a DICOMDIR / directory file, not an image")
    if len(ds) == 0 and meta_sop:
        raise _Reject(
            f"{label}: File Meta says {_sop_name(meta_sop)} but no data element after it can be "
            "read (file truncated or corrupt)"
        )
    derived = derived_kind(sop or meta_sop, h.text("Modality", lenient=True).upper())
    if derived and not has_pixels:
        raise _Derived(
            DerivedObject(
                path=label,
                kind=derived,
                sop_class=_sop_name(sop or meta_sop),
                series_uid=series_uid,
                description=h.text("SeriesDescription", lenient=True),
                referenced_series_uids=_referenced_series(h),
            )
        )
    if not has_pixels and "Rows" not in h:
        kind = _sop_name(sop or meta_sop) if (sop or meta_sop) else "unknown SOP class"
        if "Image Storage" in kind:
            raise _Reject(
                f"{label}: a {kind} object with no (0028,0010) Rows and no (7FE0,0010) Pixel "
                "Data (file truncated?)",
                series_uid,
            )
        raise _Skip(f"{label}: skipped: not an image ({kind})")
    rows = h.integer("Rows", None, high=65535)
    cols = h.integer("Columns", None, high=65535)
    if rows is None or cols is None:
        raise _Reject(f"{label}: no (0028,0010) Rows / (0028,0011) Columns; not a usable image")
    samples = h.integer("SamplesPerPixel", 1, low=1, high=4)
    bits_allocated = h.integer("BitsAllocated", 16, low=1, high=64)
    bits_stored = h.integer("BitsStored", bits_allocated, low=1, high=64, lenient=True)
    signed = h.integer("PixelRepresentation", 0, low=0, high=1) == 1
    photometric = h.code("PhotometricInterpretation", None, "MONOCHROME2", lenient=True)
    frames = h.integer("NumberOfFrames", 1, low=1)
    pixel_offset = None
    if remote:  # the pixels are on the PACS: only the size checks
        ts = _remote_syntax(h, rows, cols, frames, samples)
    else:
        ts, pixel_offset = _check_pixels(
            h, rows, cols, frames, samples, bits_allocated, photometric
        )

    header: dict[str, Any] = {}
    field_notes: list[str] = []
    if full_header(series_uid):
        before = len(h.notes)
        header = _header_fields(h)
        field_notes = h.notes[before:]  # reported only if this file's fields are the series'
    if derived:
        header.update(derived=derived, referenced_series_uids=_referenced_series(h))
    header.update(
        series_uid=series_uid,
        series_number=h.integer("SeriesNumber", None, lenient=True),
        modality=h.text("Modality", lenient=True).upper(),
        series_description=h.text("SeriesDescription", lenient=True),
    )
    ipp = position(h)
    iop = orientation(h)
    ps = pixel_spacing(h)
    split: list[tuple[str, str]] = []
    for kw, tag in (
        ("EchoNumbers", "(0018,0086) Echo Numbers"),
        ("TemporalPositionIdentifier", "(0020,0100) Temporal Position Identifier"),
        ("TriggerTime", "(0018,1060) Trigger Time"),
        ("DiffusionBValue", "(0018,9087) Diffusion b-value"),
        ("AcquisitionNumber", "(0020,0012) Acquisition Number"),
        ("EchoTime", "(0018,0081) Echo Time"),
        ("AcquisitionTime", "(0008,0032) Acquisition Time"),
    ):
        v = h.text(kw, lenient=True)
        if v != "":
            split.append((tag, v))
    if "philips" in h.text("Manufacturer", lenient=True).lower():
        label_type = h.text(PHILIPS_LABEL_TYPE, lenient=True).upper()
        if label_type:
            split.append(("(2005,1429) Philips label type", label_type))
    image_type = tuple(v.upper() for v in h.texts("ImageType", lenient=True))
    if image_type:
        split.append(("(0008,0008) Image Type", "\\".join(image_type)))
    slope = h.number("RescaleSlope", 1.0, low=-MAX_RESCALE, high=MAX_RESCALE)
    if slope == 0:
        raise _Reject(f"{label}: (0028,1053) Rescale Slope is 0")
    geometry = None if ipp is not None and iop is not None else _unplaced_geometry(h, ps)
    base = SliceRef(
        path=label,
        frame=None,
        rows=rows,
        cols=cols,
        ipp=ipp,
        iop=iop,
        pixel_spacing=ps,
        instance_number=h.integer("InstanceNumber", None, lenient=True),
        slope=slope,
        intercept=h.number("RescaleIntercept", 0.0, low=-MAX_RESCALE, high=MAX_RESCALE),
        bits_stored=bits_stored,
        signed=signed,
        samples=samples,
        photometric=photometric or "MONOCHROME2",
        transfer_syntax=ts,
        image_type=image_type,
        split_key=tuple(split),
        n_frames=frames,
        geometry=geometry,
        bits_allocated=bits_allocated,
        high_bit=h.integer("HighBit", None, low=0, high=63, lenient=True),
        pixel_offset=pixel_offset,
        window=_first_window(h),
        float_pixels=0x7FE00010 not in h and any(t in h for t in _PIXEL_TAGS),
    )
    if h.notes:
        header["notes"] = list(h.notes)
    if field_notes:
        header["field_notes"] = list(field_notes)
    if frames > 1 or "PerFrameFunctionalGroupsSequence" in h:
        return frame_slices(h, base), header
    if is_mosaic(image_type):
        return mosaic_slices(base, h), header
    return [base], header


#: modalities whose images are projections (no patient frame): PS3.3 C.7.3.1.1.1
PROJECTION_MODALITIES = frozenset({"CR", "DX", "MG", "XA", "RF", "IO", "PX"})


def _unplaced_geometry(h: Header, ps: tuple[float, float] | None) -> Geometry:
    """The :class:`Geometry` of an image that (0020,0032)/(0020,0037) do not place.

    Projection radiographs (PS3.3 10.7.1.3, C.8.11.7): (0028,0030) Pixel Spacing when present
    (with its (0028,0A02) Pixel Spacing Calibration Type), else (0018,1164) Imager Pixel Spacing
    divided by (0018,1114) Estimated Radiographic Magnification Factor (the detector-plane
    spacing, labelled as such, when the factor is absent). (0020,0020) Patient Orientation gives
    the edge letters. Anything else is of unknown geometry.
    """
    orientation: tuple[str, str] | None = None
    po = [v.strip().upper() for v in h.texts("PatientOrientation", lenient=True)]
    if len(po) == 2 and all(v and v.isalpha() for v in po):
        orientation = (po[0], po[1])
    modality = h.text("Modality", lenient=True).upper()
    ips = pixel_spacing(h, "ImagerPixelSpacing")
    if modality not in PROJECTION_MODALITIES and ips is None:
        missing = [
            h.label(kw).split(" ", 1)[0]
            for kw in ("ImagePositionPatient", "ImageOrientationPatient")
            if not h.has(kw)
        ]
        return dataclasses.replace(
            Geometry.unknown(f"no {' / '.join(missing)}; 1 mm and identity orientation assumed"),
            patient_orientation=orientation,
        )
    if ps is not None:
        cal = h.text("PixelSpacingCalibrationType", lenient=True)
        source = "(0028,0030) Pixel Spacing" + (
            f", (0028,0A02) Pixel Spacing Calibration Type {cal}" if cal else ""
        )
        return Geometry.projection(ps, source, orientation)
    if ips is not None:
        ermf = h.number(
            "EstimatedRadiographicMagnificationFactor", None, positive=True, lenient=True
        )
        if ermf is not None:
            source = (
                "(0018,1164) Imager Pixel Spacing / (0018,1114) Estimated Radiographic "
                f"Magnification Factor {ermf:g}"
            )
            return Geometry.projection((ips[0] / ermf, ips[1] / ermf), source, orientation)
        source = "(0018,1164) Imager Pixel Spacing (at the detector; magnification not corrected)"
        return Geometry.projection(ips, source, orientation)
    return Geometry.projection(None, "", orientation)


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _collect(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> tuple[list[Path], list[RejectedFile], list[str]]:
    if isinstance(path, (str, os.PathLike)):
        from volumeviz.io.pacs.address import is_address

        if is_address(path):  # a PACS: its instances, retrieved into the local cache
            from volumeviz.io.pacs import fetch

            got = fetch(str(path))
            note = f"{got.address}: {len(got.files)} instance(s), {got.from_cache} from the cache"
            return list(got.files), [], [note]
        p = Path(path)
        if not p.exists():
            raise NoSeriesError(f"{p}: no such file or folder")
        if p.is_dir():
            return list(_walk(p)), [], []
        from volumeviz.io.dicomdir import is_dicomdir

        if is_dicomdir(p):
            return _dicomdir_files(p)
        return [p], [], []
    files = [Path(x) for x in path]
    if not files:
        raise NoSeriesError("empty file list: nothing to load")
    missing = [RejectedFile(str(f), f"{f}: no such file") for f in files if not f.is_file()]
    return [f for f in files if f.is_file()], missing, []


def _dicomdir_files(p: Path) -> tuple[list[Path], list[RejectedFile], list[str]]:
    from volumeviz.io import dicomdir

    referenced = getattr(dicomdir, "referenced_files", None)
    if referenced is None:
        from volumeviz.errors import DicomDirError

        raise DicomDirError(
            f"{p}: is a DICOMDIR, but reading DICOMDIR file-sets is not available in this build; "
            "pass the folder that holds the images instead"
        )
    files, refused = referenced(p)
    rejected = [RejectedFile(str(f), str(reason)) for f, reason in refused]
    return [Path(f) for f in files], rejected, [f"{p}: DICOMDIR lists {len(files)} image file(s)"]


#: a scan of at least this many files reads headers on :data:`SCAN_PROCESSES` processes
PARALLEL_MIN_FILES = 200
#: header-reading processes (pydicom holds the GIL, so threads would not help)
SCAN_PROCESSES = max(1, min(2, os.cpu_count() or 1))

#: one file's header read: ("ok", slices, header) | ("skip", note) | ("reject", reason, uid)
#: | ("derived", DerivedObject) for a derived object without pixels
_Outcome = tuple[Any, ...]


def _read_outcomes(
    files: Sequence[Path], tick: Callable[[int], None] | None = None
) -> list[_Outcome]:
    """Read the headers of ``files`` in order (in this process or a forked helper).

    The study/patient/display fields are read for the first file of each series in ``files``
    (the caller keeps the first of them in file order, as a single pass would).
    """
    seen: set[str] = set()
    out: list[_Outcome] = []
    cache: dict[tuple[Any, ...], Any] = {}  # header values the files share (Header cache)
    with quiet_pydicom():  # once for the whole list, not twice per file
        for n, f in enumerate(files):
            try:
                slices, header = _read_slices_quiet(f, lambda uid: uid not in seen, cache)
            except _Skip as exc:
                out.append(("skip", str(exc)))
            except _Derived as exc:
                out.append(("derived", exc.obj))
            except _Reject as exc:
                out.append(("reject", str(exc), exc.series_uid))
            else:
                if header["series_uid"]:
                    seen.add(header["series_uid"])
                out.append(("ok", slices, header))
            if tick is not None:
                tick(n + 1)
    return out


def _helper_read(files: Sequence[Path]) -> list[_Outcome]:
    """:func:`_read_outcomes` in the forked helper (named here, so it pickles by reference)."""
    return _read_outcomes(files)


def _may_fork(n_files: int) -> bool:
    """Whether to read headers on a forked helper process too.

    Only from the main thread of a single-threaded main process on Linux: forking a process in
    which other threads hold locks (a GUI, a thread pool, a batch worker) can deadlock the child.
    """
    import multiprocessing
    import threading

    return (
        SCAN_PROCESSES > 1
        and n_files >= PARALLEL_MIN_FILES
        and sys.platform == "linux"
        and threading.active_count() == 1
        and multiprocessing.parent_process() is None
    )


def _read_all(
    files: Sequence[Path], progress: Callable[[int, int], None] | None
) -> list[_Outcome]:
    """Every file's outcome, in file order; on two processes for large folders.

    Reading 300 CT headers costs about 0.9 ms a file in pydicom; the second core halves it.
    """
    total = len(files)
    if not _may_fork(total):
        tick = None if progress is None else (lambda n: progress(n, total))
        return _read_outcomes(files, tick)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    cut = (total + 1) // 2  # this process reads the first half, the helper the second

    def estimate(n: int) -> None:  # both halves go at the same pace
        if progress is not None:
            progress(min(total - 1, n * total // cut), total)

    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=ctx) as helper:
        theirs = helper.submit(_helper_read, files[cut:])
        mine = _read_outcomes(files[:cut], estimate)
        out = mine + theirs.result()
    if progress is not None:
        progress(total, total)
    return out


def _merge(
    f: Path,
    outcome: _Outcome,
    result: ScanResult,
    by_uid: dict[str, list[SliceRef]],
    headers: dict[str, dict[str, Any]],
) -> None:
    """Add one file's outcome to ``by_uid`` / ``headers``, or note why it was skipped."""
    kind = outcome[0]
    if kind == "skip":
        result.notes.append(outcome[1])
        log.debug("%s", outcome[1])
        return
    if kind == "derived":
        result.derived.append(outcome[1])
        return
    if kind == "reject":
        result.rejected.append(RejectedFile(str(f), outcome[1], outcome[2]))
        log.info("%s", outcome[1])
        return
    slices, header = outcome[1], outcome[2]
    notes = header.pop("notes", [])
    field_notes = header.pop("field_notes", [])
    uid = header["series_uid"] or f"(no Series Instance UID) {f}"
    by_uid.setdefault(uid, []).extend(slices)
    if uid not in headers or "study_uid" not in headers[uid]:
        headers[uid] = header
    else:  # another file's study/patient fields stand for the series: not this one's notes
        notes = [n for n in notes if n not in field_notes]
    result.ignored.extend(notes)


def scan(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    progress: Callable[[int, int], None] | None = None,
    spacing_rtol: float = 0.01,
    perpendicular_tol: float = 1e-3,
) -> ScanResult:
    """Find the image series under ``path`` from headers only (no pixels are decoded).

    Parameters
    ----------
    path
        A folder (walked recursively), one file, a DICOMDIR, or a list of files.
    progress
        Called as ``progress(done, total)`` while headers are read.
    spacing_rtol, perpendicular_tol
        Tolerances passed to :func:`volumeviz.io.series.plan_series`.

    Returns
    -------
    ScanResult
        Series (each planned: size, spacing, issues, or a refusal), rejected files with reasons,
        and notes (skipped non-DICOM / non-image files); a split's reason is on its
        :attr:`SeriesInfo.split_reason`.

    Raises
    ------
    NoSeriesError
        ``path`` does not exist, or an empty file list.
    """
    files, rejected, notes = _collect(path)
    result = ScanResult(rejected=list(rejected), notes=list(notes), n_files=len(files))
    by_uid: dict[str, list[SliceRef]] = {}
    headers: dict[str, dict[str, Any]] = {}
    for f, outcome in zip(files, _read_all(files, progress), strict=True):
        _merge(f, outcome, result, by_uid, headers)
    return _plan_all(result, by_uid, headers, spacing_rtol, perpendicular_tol)


def scan_datasets(
    items: Iterable[tuple[str, Dataset]],
    *,
    spacing_rtol: float = 0.01,
    perpendicular_tol: float = 1e-3,
) -> ScanResult:
    """Plan series from headers whose pixel data is elsewhere (a PACS' metadata).

    ``items`` are ``(label, dataset)``: the label (an instance's address) names the slice in
    messages and in ``SliceRef.path``. The same checks and planning as :func:`scan`, except
    that the pixel data cannot be measured; such slices are for planning only, not loading.
    """
    result = ScanResult()
    by_uid: dict[str, list[SliceRef]] = {}
    headers: dict[str, dict[str, Any]] = {}
    with quiet_pydicom():
        for label, ds in items:
            result.n_files += 1
            try:
                slices, header = _slices_from(ds, label, lambda u: u not in headers, remote=True)
                header.pop("field_notes", None)
            except _Skip as exc:
                result.notes.append(str(exc))
                continue
            except _Derived as exc:
                result.derived.append(exc.obj)
                continue
            except _Reject as exc:
                result.rejected.append(RejectedFile(label, str(exc), exc.series_uid))
                continue
            uid = header["series_uid"] or f"(no Series Instance UID) {label}"
            by_uid.setdefault(uid, []).extend(slices)
            if uid not in headers or "study_uid" not in headers[uid]:
                headers[uid] = header
    return _plan_all(result, by_uid, headers, spacing_rtol, perpendicular_tol)


def _plan_all(
    result: ScanResult,
    by_uid: dict[str, list[SliceRef]],
    headers: dict[str, dict[str, Any]],
    spacing_rtol: float,
    perpendicular_tol: float,
) -> ScanResult:
    """Split and plan every series found (shared by :func:`scan` and :func:`scan_datasets`)."""
    for uid, slices in by_uid.items():
        header = headers[uid]
        parts = split_parts(slices, header)
        for idx, (part, reason, layout) in enumerate(parts):
            key = uid if len(parts) == 1 else f"{uid}#{idx + 1}"
            info = SeriesInfo(
                key=key,
                uid=header["series_uid"],
                number=header["series_number"],
                modality=header["modality"],
                description=header["series_description"],
                slices=part,
                split_reason=reason,
                header=header,
                dims=layout,
                derived=header.get("derived", ""),
            )
            plan_series(info, spacing_rtol=spacing_rtol, perpendicular_tol=perpendicular_tol)
            result.series.append(info)
        if header.get("derived"):
            result.derived.append(
                DerivedObject(
                    path=slices[0].path,
                    kind=header["derived"],
                    sop_class=_sop_name(header.get("sop_class_uid", "")),
                    series_uid=header["series_uid"],
                    description=header["series_description"],
                    referenced_series_uids=tuple(header.get("referenced_series_uids", ())),
                    has_pixels=True,
                )
            )
    result.series.sort(key=lambda s: (s.number if s.number is not None else 1 << 30, s.key))
    return result
