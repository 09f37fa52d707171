"""Write DICOM: a Volume as a CT or MR image series, a screenshot as a Secondary Capture.

Both produce Part 10 files (Explicit VR Little Endian) that ``dciodvfy`` accepts without errors:
every type 1 attribute of the IOD present and valid, every type 2 attribute present (empty when
unknown). Each file is written through :func:`volumeviz._atomic.atomic_path`, never over an
existing file and never over one of the Volume's source files.

Geometry (PS3.3 C.7.6.2): Image Orientation (Patient) is ``direction[:, 0]`` then
``direction[:, 1]``; the Image Position (Patient) of slice ``k`` is ``index_to_lps([0, 0, k])``;
Pixel Spacing is ``(dj, di)`` (row spacing first); Slice Thickness and Spacing Between Slices are
``dk``. Values are rescaled to signed 16-bit stored values with the smallest Rescale Slope that
fits (slope 1, intercept 0 when the values are integers within int16).
"""

from __future__ import annotations

import copy
import datetime as _dt
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz._atomic import atomic_path
from volumeviz.errors import DicomReadError, HeaderError, OutputError, UsageError, WriteError
from volumeviz.io.deid import DeidSession, deidentify_dataset, session_for
from volumeviz.model.deid import Identity
from volumeviz.model.volume import Volume, VolumeMeta

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
SC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.7"
_SOP_CLASS = {"CT": CT_IMAGE_STORAGE, "MR": MR_IMAGE_STORAGE}

#: copied from ``like`` (a dataset) when present: patient, study and equipment context
_CONTEXT_KEYWORDS = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber",
    "ReferringPhysicianName", "StudyDescription", "FrameOfReferenceUID",
    "PositionReferenceIndicator", "Manufacturer", "InstitutionName", "BodyPartExamined",
    "PatientPosition", "SpecificCharacterSet",
)  # fmt: skip

#: MR Image module attributes copied from ``like`` (type 1/2 ones get defaults otherwise)
_MR_KEYWORDS = (
    "ScanningSequence", "SequenceVariant", "ScanOptions", "MRAcquisitionType",
    "RepetitionTime", "EchoTime", "EchoTrainLength", "InversionTime", "MagneticFieldStrength",
    "ImagingFrequency", "ImagedNucleus", "SequenceName", "FlipAngle",
)  # fmt: skip

_INT16 = (-32768, 32767)

log = logging.getLogger(__name__)


def _ds_str(value: float) -> str:
    """Format a number as a DICOM DS (at most 16 characters)."""
    from pydicom.valuerep import format_number_as_ds

    return str(format_number_as_ds(float(value)))


def rescale_for_int16(
    array: npt.NDArray[Any],
) -> tuple[float, float]:
    """Choose Rescale Slope and Intercept so ``array`` fits signed 16-bit stored values.

    Integer data within int16 keep slope 1, intercept 0 (HU stored as HU). Anything else gets
    the smallest slope spreading its range over the int16 range. The values returned are
    exactly what the DS strings will hold.

    Examples
    --------
    >>> rescale_for_int16(np.array([-1024, 3071], np.int16))
    (1.0, 0.0)
    >>> s, b = rescale_for_int16(np.array([0.0, 0.5], np.float32)); 0 < s < 1e-4
    True
    """
    if array.size == 0:
        raise WriteError("cannot write an empty volume")
    lo = float(np.min(array))
    hi = float(np.max(array))
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise WriteError("the volume holds NaN or infinite values; DICOM cannot store them")
    # slice by slice, so a float volume is never copied whole
    integral = array.dtype.kind in "iub" or all(
        bool(np.all(np.mod(plane, 1) == 0))
        for plane in (array.reshape(-1, *array.shape[-2:]) if array.ndim > 2 else [array])
    )
    if integral and lo >= _INT16[0] and hi <= _INT16[1]:
        return 1.0, 0.0
    span = hi - lo
    slope = float(_ds_str(span / 65534.0)) if span > 0 else 1.0
    while (hi - lo) / slope > 65534.0:  # DS rounding may have shrunk the slope
        slope = float(_ds_str(slope * (1 + 1e-6)))
    intercept = float(_ds_str(lo + 32767.0 * slope))
    return slope, intercept


def _stored(array: npt.NDArray[Any], slope: float, intercept: float) -> npt.NDArray[np.int16]:
    """One slice (or volume) to int16 stored values (float32 arithmetic, per slice)."""
    if slope == 1.0 and intercept == 0.0:
        return array.astype(np.int16)
    values = (array.astype(np.float32) - np.float32(intercept)) / np.float32(slope)
    return np.clip(np.rint(values), *_INT16).astype(np.int16)


def _read_like(like: Any) -> Any:
    """``like`` as a pydicom Dataset (header only), or None."""
    if like is None or isinstance(like, Volume | VolumeMeta):
        return None
    if isinstance(like, str | os.PathLike):
        from pydicom import dcmread
        from pydicom.errors import InvalidDicomError

        try:
            return dcmread(like, stop_before_pixels=True)
        except (InvalidDicomError, OSError, ValueError) as exc:
            raise DicomReadError(f"{like}: cannot be read as the 'like' template: {exc}") from exc
        except Exception as exc:  # a corrupt file: pydicom raises many kinds
            raise DicomReadError(
                f"{like}: cannot be read as the 'like' template: {type(exc).__name__}: {exc}"
            ) from exc
    if hasattr(like, "dir") and hasattr(like, "get"):
        return like
    raise WriteError(f"like= must be a Volume, VolumeMeta, Dataset or path, not {type(like)}")


def _from_template(template: Any, keyword: str, default: Any = None) -> Any:
    """A template element's value to copy, or ``default`` if absent, empty or unreadable.

    The template is a source file: an element pydicom cannot convert (an unknown VR, a wrong
    length) is not copied rather than failing the write.
    """
    if template is None:
        return default
    from volumeviz.io.header import Header

    try:
        value = Header(template, str(getattr(template, "filename", "") or "template")).raw(keyword)
    except HeaderError:
        return default
    return default if value is None else value


def _meta_of(like: Any) -> VolumeMeta | None:
    if isinstance(like, Volume):
        return like.meta
    if isinstance(like, VolumeMeta):
        return like
    return None


_DA = re.compile(r"^\d{8}$")
_TM = re.compile(r"^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$")


def _valid(value: str, pattern: re.Pattern[str], what: str) -> str:
    """``value`` if it is a valid DA/TM, else ``""`` (type 2: empty means unknown), logged."""
    text = (value or "").strip()
    if text and not pattern.match(text):
        log.warning("%s %r is not a valid DICOM value; written empty", what, text)
        return ""
    return text


def _now() -> tuple[str, str]:
    now = _dt.datetime.now()
    return now.strftime("%Y%m%d"), now.strftime("%H%M%S")


def _needs_utf8(ds: Any) -> bool:
    for elem in ds:
        if elem.VR in ("PN", "LO", "SH", "ST", "LT", "UT") and elem.value is not None:
            if not str(elem.value).isascii():
                return True
    return False


def _base_dataset(meta: VolumeMeta, template: Any, sop_class: str, modality: str) -> Any:
    """Patient, study, series, frame of reference, equipment and SOP common attributes."""
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    ds = Dataset()
    date, time = _now()
    ds.SOPClassUID = sop_class
    ds.InstanceCreationDate = date
    ds.InstanceCreationTime = time
    # Patient (type 2)
    ds.PatientName = meta.patient_name
    ds.PatientID = meta.patient_id
    ds.PatientBirthDate = _valid(meta.patient_birth_date, _DA, "(0010,0030) Patient's Birth Date")
    ds.PatientSex = meta.patient_sex if meta.patient_sex in ("M", "F", "O") else ""
    if meta.patient_age:
        ds.PatientAge = meta.patient_age
    # General Study
    ds.StudyInstanceUID = meta.study_uid or generate_uid()
    ds.StudyDate = _valid(meta.study_date, _DA, "(0008,0020) Study Date")
    ds.StudyTime = _valid(meta.study_time, _TM, "(0008,0030) Study Time")
    ds.ReferringPhysicianName = meta.referring_physician
    ds.StudyID = meta.study_id
    ds.AccessionNumber = meta.accession_number
    if meta.study_description:
        ds.StudyDescription = meta.study_description
    # General Series
    ds.Modality = modality
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesDate = date
    ds.SeriesTime = time
    ds.Laterality = ""  # type 2C: a paired body part may have been imaged
    # General Equipment (type 2): this software made the pixels
    ds.Manufacturer = meta.manufacturer
    if meta.institution:
        ds.InstitutionName = meta.institution
    ds.SoftwareVersions = _software()
    if template is not None:
        for keyword in _CONTEXT_KEYWORDS:
            value = _from_template(template, keyword)
            if value is not None:
                setattr(ds, keyword, value)
    if sop_class == SC_IMAGE_STORAGE and "FrameOfReferenceUID" in ds:
        del ds.FrameOfReferenceUID  # a screenshot has no patient frame of reference
    if _needs_utf8(ds):
        ds.SpecificCharacterSet = "ISO_IR 192"
    return ds


def _software() -> str:
    from volumeviz import __version__

    return f"volumeviz {__version__}"


def _file_meta(ds: Any) -> Any:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

    fm = FileMetaDataset()
    fm.MediaStorageSOPClassUID = ds.SOPClassUID
    fm.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    fm.ImplementationVersionName = "VOLUMEVIZ"
    return fm


def _save(ds: Any, target: Path, protected: set[Path], *, overwrite: bool = False) -> None:
    from pydicom import dcmwrite

    if target.resolve() in protected:
        raise OutputError(f"{target}: is one of the input files; refusing to overwrite it")
    ds.file_meta = _file_meta(ds)
    with atomic_path(target, overwrite=overwrite) as tmp:
        try:
            dcmwrite(tmp, ds, enforce_file_format=True)
        except (ValueError, TypeError) as exc:
            raise WriteError(f"{target}: cannot be written as DICOM: {exc}") from exc
        except OSError as exc:
            raise OutputError(f"{target}: cannot be written: {exc.strerror or exc}") from exc


def _prepare_outdir(outdir: Path) -> None:
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{outdir}: output folder cannot be created: {exc.strerror or exc}"
        ) from exc
    if not outdir.is_dir():
        raise OutputError(f"{outdir}: exists and is not a folder")


def _protected(meta: VolumeMeta) -> set[Path]:
    out = set()
    for f in meta.source_files:
        try:
            out.add(Path(f).resolve())
        except OSError:
            continue
    return out


def write_series(
    volume: Volume,
    outdir: str | os.PathLike[str],
    *,
    like: Any = None,
    modality: str | None = None,
    series_description: str | None = None,
    series_number: int | None = None,
    anonymize: bool | DeidSession = False,
    store: str | None = None,
) -> list[Path]:
    """Write a Volume as a CT or MR image series, one file per slice (``IM00001.dcm`` ...).

    Parameters
    ----------
    volume
        The volume; its geometry gives IPP/IOP/Pixel Spacing, its ``meta`` the patient, study,
        Frame of Reference and windows.
    outdir
        Folder to write into (created if missing). Existing files are never overwritten.
    like
        A Dataset, a DICOM file, or a Volume/VolumeMeta whose patient, study, Frame of Reference
        and equipment attributes (and MR acquisition attributes) are copied.
    modality
        ``"CT"`` or ``"MR"``; default the volume's own modality.
    series_description, series_number
        For the new series; default the source's description with ``" (volumeviz)"`` appended,
        and the source's number + 1000.
    anonymize
        De-identify every file (PS3.15 Basic Profile with Clean Descriptors, see
        :mod:`volumeviz.io.deid`): ``True`` for a new :class:`~volumeviz.io.deid.DeidSession`,
        or a session shared with other outputs (the same new UIDs and pseudonym).
    store
        A PACS address (``dicomweb+https://HOST/PREFIX`` or ``dimse://AET@HOST:PORT``): after
        writing, send the series there (STOW-RS / C-STORE, :func:`volumeviz.io.pacs.store`).

    Returns
    -------
    list of Path
        The files written, in slice order (k = 0 first).

    Raises
    ------
    WriteError
        Modality other than CT/MR, empty or non-finite data.
    OutputError
        The folder cannot be created, or a target file exists or is an input.
    PacsError
        With ``store``: the PACS cannot be reached or refuses the series (the files stay).

    Examples
    --------
    >>> import tempfile
    >>> from volumeviz.model import phantom
    >>> vol = phantom.asymmetric(8)
    >>> files = write_series(vol, tempfile.mkdtemp(), modality="CT")
    >>> len(files), files[0].name
    (8, 'IM00001.dcm')
    """
    from pydicom.uid import generate_uid

    meta = _meta_of(like) or volume.meta
    template = _read_like(like)
    mod = (modality or volume.meta.modality or meta.modality or "").upper()
    if mod not in _SOP_CLASS:
        raise WriteError(
            f"cannot write modality {mod or '(none)'!r} as an image series; pass modality='CT' "
            "or modality='MR'"
        )
    outdir = Path(outdir)
    nk, nj, ni = volume.array.shape
    if min(nk, nj, ni) == 0:
        raise WriteError(f"cannot write an empty volume of shape {volume.array.shape}")
    slope, intercept = rescale_for_int16(volume.array)
    names = [outdir / f"IM{k + 1:05d}.dcm" for k in range(nk)]
    protected = _protected(volume.meta)
    clash = [p for p in names if p.exists() or p.resolve() in protected]
    if clash:
        raise OutputError(f"{clash[0]}: exists; choose an empty output folder")
    _prepare_outdir(outdir)

    base = _base_dataset(meta, template, _SOP_CLASS[mod], mod)
    base.FrameOfReferenceUID = (
        _from_template(template, "FrameOfReferenceUID")
        or meta.frame_of_reference_uid
        or generate_uid()
    )
    if "PositionReferenceIndicator" not in base:
        base.PositionReferenceIndicator = ""
    if "PatientPosition" not in base:
        base.PatientPosition = meta.patient_position
    source_number = volume.meta.series_number
    base.SeriesNumber = (
        series_number
        if series_number is not None
        else (source_number + 1000 if source_number is not None else 1000)
    )
    desc = series_description
    if desc is None:
        desc = f"{volume.meta.series_description} (volumeviz)".strip()
    base.SeriesDescription = desc[:64]
    # General Image / Image Plane / Image Pixel
    base.ImageType = ["DERIVED", "SECONDARY", "AXIAL" if mod == "CT" else "OTHER"]
    base.DerivationDescription = "written by volumeviz from a reconstructed volume"
    base.ContentDate, base.ContentTime = _now()
    base.AcquisitionNumber = 1 if mod == "CT" else ""
    row_dir = volume.direction[:, 0]
    col_dir = volume.direction[:, 1]
    base.ImageOrientationPatient = [_ds_str(v) for v in (*row_dir, *col_dir)]
    di, dj, dk = volume.spacing
    base.PixelSpacing = [_ds_str(dj), _ds_str(di)]
    base.SliceThickness = _ds_str(dk)
    base.SamplesPerPixel = 1
    base.PhotometricInterpretation = "MONOCHROME2"
    base.Rows = nj
    base.Columns = ni
    base.BitsAllocated = 16
    base.BitsStored = 16
    base.HighBit = 15
    base.PixelRepresentation = 1
    base.RescaleIntercept = _ds_str(intercept)
    base.RescaleSlope = _ds_str(slope)
    if mod == "CT":
        base.RescaleType = "HU" if volume.units in ("HU", "") else "US"
        base.KVP = _from_template(template, "KVP", "")
    else:
        _mr_attributes(base, template, dk)
    windows = volume.meta.windows
    if windows:
        base.WindowCenter = [_ds_str(w.center) for w in windows]
        base.WindowWidth = [_ds_str(max(w.width, 1.0)) for w in windows]
        base.WindowCenterWidthExplanation = [
            (w.explanation or f"window {i + 1}")[:64] for i, w in enumerate(windows)
        ]
    session = session_for(anonymize, volume.meta, meta)
    normal = np.cross(row_dir, col_dir)
    written: list[Path] = []
    for k in range(nk):
        ds = copy.deepcopy(base)  # own elements: de-identification changes them in place
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = k + 1
        position = volume.index_to_lps([0, 0, k])
        ds.ImagePositionPatient = [_ds_str(v) for v in position]
        ds.SliceLocation = _ds_str(float(np.dot(position, normal)))
        stored = _stored(volume.array[k], slope, intercept)
        ds.SmallestImagePixelValue = int(stored.min())
        ds.LargestImagePixelValue = int(stored.max())
        ds["SmallestImagePixelValue"].VR = "SS"
        ds["LargestImagePixelValue"].VR = "SS"
        ds.PixelData = np.ascontiguousarray(stored).astype("<i2").tobytes()
        ds["PixelData"].VR = "OW"
        if session is not None:
            deidentify_dataset(
                ds,
                session,
                descriptors={
                    "SeriesDescription": base.SeriesDescription,
                    "DerivationDescription": base.DerivationDescription,
                },
                identity=Identity.of(volume.meta, meta),
            )
        _save(ds, names[k], protected)
        written.append(names[k])
    if store is not None:
        from volumeviz.io.pacs import store as store_files

        store_files(store, written)
    return written


def _mr_attributes(ds: Any, template: Any, dk: float) -> None:
    """MR Image module: copy the acquisition attributes, or give valid defaults."""
    if template is not None:
        for keyword in _MR_KEYWORDS:
            value = _from_template(template, keyword)
            if value is not None:
                setattr(ds, keyword, value)
    defaults: dict[str, Any] = {
        "ScanningSequence": "RM",  # research mode: the pixels were computed, not acquired
        "SequenceVariant": "NONE",
        "ScanOptions": "",
        "MRAcquisitionType": "",
        "EchoTime": "",
        "EchoTrainLength": "",
        "RepetitionTime": "",
    }
    for keyword, value in defaults.items():
        if keyword not in ds:
            setattr(ds, keyword, value)
    ds.SpacingBetweenSlices = _ds_str(dk)


def _source_references(like: Any, template: Any) -> list[tuple[str, str, str]]:
    """``(series UID, SOP class, SOP instance)`` of the images the capture was made from."""
    from pydicom import dcmread

    if template is not None:
        sop_class = str(_from_template(template, "SOPClassUID", ""))
        sop_instance = str(_from_template(template, "SOPInstanceUID", ""))
        if sop_class and sop_instance:
            return [
                (str(_from_template(template, "SeriesInstanceUID", "")), sop_class, sop_instance)
            ]
        return []
    meta = _meta_of(like)
    if meta is None:
        return []
    refs = []
    for f in meta.source_files:
        try:
            h = dcmread(
                f,
                stop_before_pixels=True,
                specific_tags=["SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID"],
            )
        except Exception:  # a vanished source only loses its reference, not the capture
            continue
        sop_class = str(_from_template(h, "SOPClassUID", ""))
        sop_instance = str(_from_template(h, "SOPInstanceUID", ""))
        if sop_class and sop_instance:
            series_uid = str(_from_template(h, "SeriesInstanceUID", "") or meta.series_uid)
            refs.append((series_uid, sop_class, sop_instance))
    return refs


def write_secondary_capture(
    image_rgb: npt.NDArray[Any],
    path: str | os.PathLike[str],
    *,
    like: Any = None,
    series_description: str = "volumeviz screenshot",
    overwrite: bool = False,
    anonymize: bool | DeidSession = False,
    burned_in_annotation: str = "YES",
    series_uid: str | None = None,
    instance_number: int = 1,
) -> Path:
    """Write a rendered picture as a Secondary Capture Image that references its source.

    Parameters
    ----------
    image_rgb
        ``(rows, cols, 3)`` uint8 RGB (or ``(rows, cols)`` uint8 grey).
    path
        The file to write.
    like
        The source: a Volume/VolumeMeta (its study, patient and the SOP instances of its
        ``source_files``), a Dataset, or a DICOM file. The capture joins the source's study in
        a new series and lists the source images in Source Image Sequence (0008,2112) and
        Referenced Series Sequence (0008,1115).
    series_description
        For the new series.
    overwrite
        Replace an existing ``path`` (never one of the source files).
    anonymize
        De-identify the capture (PS3.15 Basic Profile with Clean Pixel Data and Clean
        Descriptors, see :mod:`volumeviz.io.deid`): ``True`` for a new
        :class:`~volumeviz.io.deid.DeidSession`, or a session shared by the captures of one
        output (one new Study Instance UID for all). The source references are left out. The
        picture must have been rendered with ``anonymize`` (``burned_in_annotation="NO"``).
    burned_in_annotation
        (0028,0301) for the picture: ``"YES"`` when its text may show the patient (the
        default), ``"NO"`` when it was rendered from de-identified data.
    series_uid, instance_number
        Series Instance UID (default a new one) and Instance Number, so several captures can
        form one series.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    UsageError
        ``anonymize`` with ``burned_in_annotation`` other than ``"NO"``.
    """
    from pydicom.dataset import Dataset
    from pydicom.uid import generate_uid

    img = np.asarray(image_rgb)
    if img.dtype != np.uint8:
        raise WriteError(f"a secondary capture needs uint8 pixels, got {img.dtype}")
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
        raise WriteError(
            f"a secondary capture needs (rows, cols, 3) or (rows, cols), got {img.shape}"
        )
    if min(img.shape[:2]) == 0:
        raise WriteError(f"cannot write an empty picture of shape {img.shape}")
    burned_in = str(burned_in_annotation).upper()
    if burned_in not in ("YES", "NO"):
        raise UsageError(f"burned_in_annotation must be 'YES' or 'NO', not {burned_in!r}")
    if anonymize is not False and burned_in != "NO":
        raise UsageError(
            "an anonymised secondary capture needs a picture rendered without the patient's "
            "identity: render with anonymize=True and pass burned_in_annotation='NO'"
        )
    target = Path(path)
    meta = _meta_of(like) or VolumeMeta()
    template = _read_like(like)
    modality = meta.modality or str(_from_template(template, "Modality", ""))
    ds = _base_dataset(meta, template, SC_IMAGE_STORAGE, "OT")
    if modality:
        ds.Modality = modality  # the source's modality, as PACS group by it
    ds.SeriesNumber = 9000 + (meta.series_number or 0) % 1000
    ds.SeriesDescription = series_description[:64]
    ds.ConversionType = "WSD"  # workstation
    ds.SecondaryCaptureDeviceManufacturer = "volumeviz"
    ds.SecondaryCaptureDeviceSoftwareVersions = _software()
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.DerivationDescription = "rendered by volumeviz"
    ds.InstanceNumber = instance_number
    if series_uid:
        ds.SeriesInstanceUID = series_uid
    ds.ContentDate, ds.ContentTime = _now()
    ds.PatientOrientation = ""
    ds.BurnedInAnnotation = burned_in
    ds.SOPInstanceUID = generate_uid()
    session = session_for(anonymize, meta)
    # an anonymised capture names no source instance (their UIDs would lead back)
    refs = [] if session is not None else _source_references(like, template)
    if refs:
        items = []
        for _, sop_class, sop_instance in refs:
            item = Dataset()
            item.ReferencedSOPClassUID = sop_class
            item.ReferencedSOPInstanceUID = sop_instance
            items.append(item)
        ds.SourceImageSequence = items
        by_series: dict[str, list[Dataset]] = {}
        for (series_uid, _, _), item in zip(refs, items, strict=True):
            ref = Dataset()
            ref.ReferencedSOPClassUID = item.ReferencedSOPClassUID
            ref.ReferencedSOPInstanceUID = item.ReferencedSOPInstanceUID
            by_series.setdefault(series_uid, []).append(ref)
        series_items = []
        for series_uid, instances in by_series.items():
            if not series_uid:
                continue
            s_item = Dataset()
            s_item.SeriesInstanceUID = series_uid
            s_item.ReferencedInstanceSequence = instances
            series_items.append(s_item)
        if series_items:
            ds.ReferencedSeriesSequence = series_items
    ds.Rows, ds.Columns = int(img.shape[0]), int(img.shape[1])
    if img.ndim == 3:
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
    else:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    data = np.ascontiguousarray(img).tobytes()
    ds.PixelData = data + (b"\x00" if len(data) % 2 else b"")
    ds["PixelData"].VR = "OB"
    if session is not None:
        deidentify_dataset(
            ds,
            session,
            clean_pixels=True,
            descriptors={
                "SeriesDescription": ds.SeriesDescription,
                "DerivationDescription": ds.DerivationDescription,
            },
            identity=Identity.of(meta),
        )
    protected = _protected(meta)
    if template is not None and getattr(template, "filename", None):
        protected.add(Path(str(template.filename)).resolve())
    _save(ds, target, protected, overwrite=overwrite)
    return target
