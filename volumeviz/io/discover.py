"""Discover DICOM series: walk a folder or take a file list, read headers only, group and split.

Only the header fields the loader needs are read (pydicom ``specific_tags``; the pixel data is
located but not read), so a 300-slice CT is scanned in well under a second. Files that are not
DICOM, and DICOM objects that are not images (DICOMDIR, Philips DIRFILE, RT plans, SR), are
skipped with a note. DICOM images that cannot be used (truncated, no pixel data, Rows/Columns
that disagree with the pixel data length, absurd sizes) are *rejected* with a one-line reason.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag

from volumeviz.errors import NoSeriesError
from volumeviz.io.series import plan_series, split_series
from volumeviz.model.series import RejectedFile, ScanResult, SeriesInfo, SliceRef

log = logging.getLogger(__name__)

__all__ = ["HEADER_TAGS", "MAX_VOXELS", "read_slices", "scan"]

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
    "BitsAllocated",
    "BitsStored",
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
    "PixelData",
    "FloatPixelData",
    "DoubleFloatPixelData",
    "DirectoryRecordSequence",
]

#: HEADER_TAGS as tags: dcmread converts keywords on every call (62 lookups a file), tags it passes
_HEADER_TAG_IDS = [Tag(k) for k in HEADER_TAGS]

_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_NATIVE_SYNTAXES = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
}
_UNDEFINED = 0xFFFFFFFF


class _Skip(Exception):
    """Not an image: skip with a note."""


class _Reject(Exception):
    """An image that cannot be used: reject with a reason (and its series UID, if known)."""

    def __init__(self, message: str, series_uid: str = "") -> None:
        super().__init__(message)
        self.series_uid = series_uid


def _str(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    return str(value).strip()


def _float(value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _floats(value: Any, n: int, label: str, elem: str, tag: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        seq = [float(v) for v in (value if isinstance(value, (list, tuple)) else list(value))]
    except (TypeError, ValueError) as exc:
        raise _Reject(f"{label}: {tag} {elem} is not numeric: {value!r}") from exc
    if len(seq) != n:
        raise _Reject(f"{label}: {tag} {elem} needs {n} values, has {len(seq)}: {value!r}")
    if any(v != v or abs(v) == float("inf") for v in seq):
        raise _Reject(f"{label}: {tag} {elem} is not finite: {value!r}")
    return tuple(seq)


def _header_fields(ds: Dataset) -> dict[str, Any]:
    windows: list[tuple[float, float, str]] = []
    wc, ww = ds.get("WindowCenter"), ds.get("WindowWidth")
    if wc is not None and ww is not None:
        wcs = list(wc) if isinstance(wc, (list, tuple, pydicom.multival.MultiValue)) else [wc]
        wws = list(ww) if isinstance(ww, (list, tuple, pydicom.multival.MultiValue)) else [ww]
        ex = ds.get("WindowCenterWidthExplanation")
        exs = [] if ex is None else (list(ex) if not isinstance(ex, str) else [ex])
        for n, (c, w) in enumerate(zip(wcs, wws, strict=False)):
            c_f, w_f = _float(c, float("nan")), _float(w, float("nan"))
            if c_f == c_f and w_f == w_f and w_f > 0:
                windows.append((c_f, w_f, str(exs[n]) if n < len(exs) else ""))
    return {
        "study_uid": _str(ds, "StudyInstanceUID"),
        "frame_of_reference_uid": _str(ds, "FrameOfReferenceUID"),
        "sop_class_uid": _str(ds, "SOPClassUID"),
        "study_description": _str(ds, "StudyDescription"),
        "study_date": _str(ds, "StudyDate"),
        "study_time": _str(ds, "StudyTime"),
        "study_id": _str(ds, "StudyID"),
        "manufacturer": _str(ds, "Manufacturer"),
        "model": _str(ds, "ManufacturerModelName"),
        "body_part": _str(ds, "BodyPartExamined"),
        "patient_position": _str(ds, "PatientPosition"),
        "patient_name": _str(ds, "PatientName"),
        "patient_id": _str(ds, "PatientID"),
        "patient_birth_date": _str(ds, "PatientBirthDate"),
        "patient_sex": _str(ds, "PatientSex"),
        "patient_age": _str(ds, "PatientAge"),
        "institution": _str(ds, "InstitutionName"),
        "accession_number": _str(ds, "AccessionNumber"),
        "referring_physician": _str(ds, "ReferringPhysicianName"),
        "slice_thickness": _float(ds.get("SliceThickness"), 0.0),
        "spacing_between_slices": _float(ds.get("SpacingBetweenSlices"), 0.0),
        "gantry_tilt": _float(ds.get("GantryDetectorTilt"), 0.0),
        "rescale_type": _str(ds, "RescaleType"),
        "windows": windows,
        "frame_increment_pointer": str(ds.get("FrameIncrementPointer", "")),
    }


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


def _check_pixels(ds: Dataset, path: Path, rows: int, cols: int, frames: int) -> str:
    """Check the pixel data is present and its size agrees with the header; return the TS."""
    label = str(path)
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    if not ts:
        if getattr(ds, "preamble", None) is not None:
            raise _Reject(
                f"{label}: File Meta has no (0002,0010) Transfer Syntax UID; pixels cannot be "
                "decoded"
            )
        ts = "1.2.840.10008.1.2"  # raw dataset without meta: DICOM default (implicit VR LE)
    tag = next((t for t in _PIXEL_TAGS if t in ds), None)
    if tag is None:
        raise _Reject(f"{label}: no (7FE0,0010) Pixel Data; image cannot be loaded")
    raw = ds._dict[tag]  # type: ignore[index]
    length = getattr(raw, "length", None)
    if length is None:  # already a DataElement (small value): measure it
        value = ds[tag].value
        length = len(value) if value is not None else 0
    samples = _int(ds.get("SamplesPerPixel")) or 1
    bits = _int(ds.get("BitsAllocated")) or 16
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
            if tell is not None:
                size = path.stat().st_size
                if tell + need > size:
                    raise _Reject(
                        f"{label}: file truncated: (7FE0,0010) Pixel Data needs {need} bytes "
                        f"from offset {tell} but the file has {size} bytes"
                    )
    return ts


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


def _read_slices_quiet(
    p: Path, full_header: Callable[[str], bool]
) -> tuple[list[SliceRef], dict[str, Any]]:
    """:func:`read_slices` for a caller already inside :func:`quiet_pydicom` (one per scan)."""
    return _slices_from(_read_dataset_inner(p), p, full_header)


def _slices_from(
    ds: Dataset, p: Path, full_header: Callable[[str], bool]
) -> tuple[list[SliceRef], dict[str, Any]]:
    from volumeviz.io.enhanced import frame_slices

    label = str(p)
    has_pixels = any(t in ds for t in _PIXEL_TAGS)
    sop = _str(ds, "SOPClassUID")
    if "DirectoryRecordSequence" in ds or sop == "1.2.840.10008.1.3.10":
        raise _Skip(f"{label}: skipped: a DICOMDIR / directory file, not an image")
    meta_sop = str(getattr(ds, "file_meta", {}).get("MediaStorageSOPClassUID", ""))
    if len(ds) == 0 and meta_sop:
        raise _Reject(
            f"{label}: File Meta says {_sop_name(meta_sop)} but no data element after it can be "
            "read (file truncated or corrupt)"
        )
    if not has_pixels and "Rows" not in ds:
        kind = _sop_name(sop or meta_sop) if (sop or meta_sop) else "unknown SOP class"
        if "Image Storage" in kind:
            raise _Reject(
                f"{label}: a {kind} object with no (0028,0010) Rows and no (7FE0,0010) Pixel "
                "Data (file truncated?)",
                _str(ds, "SeriesInstanceUID"),
            )
        raise _Skip(f"{label}: skipped: not an image ({kind})")
    rows = _int(ds.get("Rows"))
    cols = _int(ds.get("Columns"))
    if rows is None or cols is None:
        raise _Reject(f"{label}: no (0028,0010) Rows / (0028,0011) Columns; not a usable image")
    nof = ds.get("NumberOfFrames")
    frames = _int(nof) if nof not in (None, "") else 1
    if frames is None or frames < 1:
        raise _Reject(
            f"{label}: (0028,0008) Number of Frames {str(nof)!r} is not a positive integer"
        )
    try:
        ts = _check_pixels(ds, p, rows, cols, frames)
    except _Reject as exc:
        raise _Reject(str(exc), _str(ds, "SeriesInstanceUID")) from None

    series_uid = _str(ds, "SeriesInstanceUID")
    header = _header_fields(ds) if full_header(series_uid) else {}
    header.update(
        series_uid=series_uid,
        series_number=_int(ds.get("SeriesNumber")),
        modality=_str(ds, "Modality").upper(),
        series_description=_str(ds, "SeriesDescription"),
    )
    ipp = _floats(
        ds.get("ImagePositionPatient"), 3, label, "Image Position (Patient)", "(0020,0032)"
    )
    iop = _floats(
        ds.get("ImageOrientationPatient"), 6, label, "Image Orientation (Patient)", "(0020,0037)"
    )
    ps = _floats(ds.get("PixelSpacing"), 2, label, "Pixel Spacing", "(0028,0030)")
    if ps is not None and min(ps) <= 0:
        raise _Reject(f"{label}: (0028,0030) Pixel Spacing must be positive, got {list(ps)}")
    split: list[tuple[str, str]] = []
    for kw, tag in (
        ("EchoNumbers", "(0018,0086) Echo Numbers"),
        ("TemporalPositionIdentifier", "(0020,0100) Temporal Position Identifier"),
        ("TriggerTime", "(0018,1060) Trigger Time"),
        ("DiffusionBValue", "(0018,9087) Diffusion b-value"),
        ("AcquisitionNumber", "(0020,0012) Acquisition Number"),
        ("EchoTime", "(0018,0081) Echo Time"),
    ):
        v = ds.get(kw)
        if v is not None and str(v) != "":
            split.append((tag, str(v)))
    image_type = tuple(str(v).upper() for v in (ds.get("ImageType") or ()))
    if image_type:
        split.append(("(0008,0008) Image Type", "\\".join(image_type)))
    base = SliceRef(
        path=label,
        frame=None,
        rows=rows,
        cols=cols,
        ipp=ipp,  # type: ignore[arg-type]
        iop=iop,  # type: ignore[arg-type]
        pixel_spacing=ps,  # type: ignore[arg-type]
        instance_number=_int(ds.get("InstanceNumber")),
        slope=_float(ds.get("RescaleSlope"), 1.0),
        intercept=_float(ds.get("RescaleIntercept"), 0.0),
        bits_stored=_int(ds.get("BitsStored")) or _int(ds.get("BitsAllocated")) or 16,
        signed=(_int(ds.get("PixelRepresentation")) or 0) == 1,
        samples=_int(ds.get("SamplesPerPixel")) or 1,
        photometric=_str(ds, "PhotometricInterpretation") or "MONOCHROME2",
        transfer_syntax=ts,
        image_type=image_type,
        split_key=tuple(split),
        n_frames=frames,
    )
    if base.slope == 0:
        raise _Reject(f"{label}: (0028,1053) Rescale Slope is 0")
    if frames > 1 or "PerFrameFunctionalGroupsSequence" in ds:
        return frame_slices(ds, base), header
    return [base], header


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _collect(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> tuple[list[Path], list[RejectedFile], list[str]]:
    if isinstance(path, (str, os.PathLike)):
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


def _scan_one(
    f: Path,
    n: int,
    total: int,
    result: ScanResult,
    by_uid: dict[str, list[SliceRef]],
    headers: dict[str, dict[str, Any]],
    progress: Callable[[int, int], None] | None,
) -> None:
    """Read one file's header into ``by_uid`` / ``headers``, or note why it was skipped."""
    try:
        slices, header = _read_slices_quiet(f, lambda uid: uid not in headers)
    except _Skip as exc:
        result.notes.append(str(exc))
        log.debug("%s", exc)
        return
    except _Reject as exc:
        result.rejected.append(RejectedFile(str(f), str(exc), exc.series_uid))
        log.info("%s", exc)
        return
    finally:
        if progress is not None:
            progress(n + 1, total)
    uid = header["series_uid"] or f"(no Series Instance UID) {f}"
    by_uid.setdefault(uid, []).extend(slices)
    if uid not in headers or "study_uid" not in headers[uid]:
        headers[uid] = header


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
        and notes (skipped non-DICOM / non-image files, splits).

    Raises
    ------
    NoSeriesError
        ``path`` does not exist, or an empty file list.
    """
    files, rejected, notes = _collect(path)
    result = ScanResult(rejected=list(rejected), notes=list(notes), n_files=len(files))
    by_uid: dict[str, list[SliceRef]] = {}
    headers: dict[str, dict[str, Any]] = {}
    with quiet_pydicom():  # once for the whole folder, not twice per file
        for n, f in enumerate(files):
            _scan_one(f, n, len(files), result, by_uid, headers, progress)
    for uid, slices in by_uid.items():
        header = headers[uid]
        parts = split_series(slices)
        for idx, (part, reason) in enumerate(parts):
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
            )
            if reason:
                result.notes.append(f"series {key}: {reason}")
            plan_series(info, spacing_rtol=spacing_rtol, perpendicular_tol=perpendicular_tol)
            result.series.append(info)
    result.series.sort(key=lambda s: (s.number if s.number is not None else 1 << 30, s.key))
    return result
