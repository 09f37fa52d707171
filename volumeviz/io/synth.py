r"""Write SYNTHETIC DICOM CT/MR series from a Volume, with defects whose truth is known.

The files are for tests, benchmarks and demos only: every one is marked
``ImageType = DERIVED\\SECONDARY\\SYNTHETIC`` and a patient name ``SYNTHETIC^PHANTOM`` unless told
otherwise. The geometry written is exact, so a test knows where every voxel must land:

- slice ``k`` of ``vol`` is written with ``ImageOrientationPatient`` = the first two columns of
  ``vol.direction`` and ``ImagePositionPatient`` = :func:`slice_positions` ``[k]``;
- voxel ``(i, j)`` of that slice is at ``IPP + i*di*row + j*dj*col`` (LPS mm).

Defects (all optional): shuffled file names, reversed or random ``InstanceNumber``, misleading
``SliceLocation``, dropped slices (gaps), gantry tilt (a sheared stack, as GE writes it), uneven
slice spacing, a localizer in the same series, and any number of series in one folder (call the
function again with another ``series_uid``/``prefix``).

Examples
--------
>>> import tempfile
>>> from volumeviz.model import phantom
>>> vol = phantom.asymmetric(16)
>>> paths = write_synthetic_series(vol, tempfile.mkdtemp(), shuffle_names=True, seed=1)
>>> len(paths)
16
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from volumeviz.model.volume import Volume

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"

__all__ = [
    "CT_IMAGE_STORAGE",
    "MR_IMAGE_STORAGE",
    "read_positions",
    "slice_positions",
    "write_synthetic_series",
]


def _ds_str(x: float) -> str:
    """Format a DS value (at most 16 characters) keeping as much precision as fits."""
    for digits in range(10, 0, -1):
        s = f"{x:.{digits}f}".rstrip("0").rstrip(".")
        if s in ("-0", ""):
            s = "0"
        if len(s) <= 16:
            return s
    return f"{x:.6g}"


def slice_positions(
    vol: Volume,
    *,
    tilt_deg: float = 0.0,
    k_offsets_mm: Sequence[float] | None = None,
) -> npt.NDArray[np.float64]:
    """Compute the LPS position (mm) of voxel ``(0, 0, k)`` for every slice ``k``: ``(nk, 3)``.

    Parameters
    ----------
    vol
        The volume the series is written from.
    tilt_deg
        Gantry tilt: the stack is sheared along the column direction so that slice ``k`` sits at
        ``origin + s_k * (normal - tan(tilt) * col)`` (the slices stay parallel; their spacing
        measured along the normal stays ``s_k``). GE writes tilted series this way.
    k_offsets_mm
        Offsets ``s_k`` of each slice along the normal, in mm (default ``k * spacing[2]``):
        give uneven values to simulate uneven spacing.
    """
    nk = vol.size[2]
    if k_offsets_mm is None:
        offsets = np.arange(nk, dtype=float) * vol.spacing[2]
    else:
        offsets = np.asarray(k_offsets_mm, dtype=float).reshape(-1)
        if offsets.shape != (nk,):
            raise ValueError(f"k_offsets_mm needs {nk} values (one per slice), got {offsets.size}")
    col = vol.direction[:, 1]
    normal = vol.direction[:, 2]
    step = normal - np.tan(np.radians(tilt_deg)) * col
    return np.asarray(vol.origin, float)[None, :] + offsets[:, None] * step[None, :]


def _stored(arr: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    if slope == 1 and intercept == 0:
        values = np.asarray(arr)
    else:
        values = np.rint((np.asarray(arr, dtype=np.float64) - intercept) / slope)
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0 and hi <= 65535:
        return values.astype(np.uint16)
    if lo >= -32768 and hi <= 32767:
        return values.astype(np.int16)
    raise ValueError(
        f"stored values {lo:g}..{hi:g} do not fit 16 bits with slope {slope} intercept {intercept}"
    )


def _base_dataset(
    *,
    modality: str,
    sop_class: str,
    study_uid: str,
    series_uid: str,
    frame_uid: str,
    series_number: int,
    description: str,
    patient_name: str,
    patient_id: str,
) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.ImageType = ["DERIVED", "SECONDARY", "SYNTHETIC"]
    ds.Modality = modality
    ds.Manufacturer = "volumeviz synthetic"
    ds.StudyDate = "20260101"
    ds.StudyTime = "120000"
    ds.StudyDescription = "volumeviz synthetic study"
    ds.SeriesDescription = description
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = frame_uid
    ds.StudyID = "1"
    ds.SeriesNumber = series_number
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    return ds


def _save(ds: Dataset, path: Path) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.save_as(path, enforce_file_format=True)


def write_synthetic_series(
    vol: Volume,
    outdir: str | os.PathLike[str],
    *,
    modality: str | None = None,
    series_uid: str | None = None,
    study_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
    series_number: int = 1,
    description: str = "synthetic series",
    patient_name: str = "SYNTHETIC^PHANTOM",
    patient_id: str = "SYNTH0001",
    prefix: str = "IM",
    shuffle_names: bool = False,
    instance_numbers: str = "ascending",
    misleading_slice_location: bool = False,
    drop_slices: Sequence[int] = (),
    tilt_deg: float = 0.0,
    k_offsets_mm: Sequence[float] | None = None,
    localizer: bool = False,
    rescale_slope: float = 1.0,
    rescale_intercept: float | None = None,
    window: tuple[float, float] | None = (40.0, 400.0),
    seed: int = 0,
    elements: Mapping[str, Any] | None = None,
    first_instance: int = 1,
) -> list[Path]:
    r"""Write ``vol`` as one DICOM file per slice into ``outdir``; return the paths in slice order.

    Parameters
    ----------
    vol
        Voxels ``(k, j, i)`` in output units (HU for CT) with its geometry.
    outdir
        Folder (created if needed). Existing files with other names are left alone.
    modality
        ``"CT"`` or ``"MR"`` (default: ``vol.meta.modality`` or ``"CT"``).
    series_uid, study_uid, frame_of_reference_uid
        UIDs (new ones generated when not given). Reuse ``study_uid`` and the frame of reference to
        put a second series in the same study.
    series_number
        (0020,0011) Series Number.
    description, patient_name, patient_id
        Text fields.
    prefix
        File-name prefix (``IM0001.dcm`` ...). Use a different one for each series in a folder.
    shuffle_names
        Random file names, unrelated to the slice order.
    instance_numbers
        ``"ascending"`` (k+1), ``"reversed"`` (nk-k) or ``"random"``.
    misleading_slice_location
        Write (0020,1041) Slice Location with the opposite sign of the true position, so a loader
        that sorts by it stacks the slices upside down.
    drop_slices
        Slice indices ``k`` not written (missing slices / gaps).
    tilt_deg
        Gantry tilt (see :func:`slice_positions`); also written to (0018,1120) for CT.
    k_offsets_mm
        Uneven slice offsets along the normal (see :func:`slice_positions`).
    localizer
        Also write a localizer (ImageType ``...\\LOCALIZER``, orthogonal plane, other matrix size)
        in the same series; it is named ``<prefix>_LOC.dcm`` and is last in the returned list.
    rescale_slope, rescale_intercept
        Modality LUT written for CT (default intercept -1024 for CT). Not written for MR when the
        slope is 1 and the intercept 0 or None.
    window
        (0028,1050)/(0028,1051) Window Center/Width, or None.
    seed
        Seed for shuffling and random instance numbers.
    elements
        Data elements written into every image file, by keyword, e.g.
        ``{"TemporalPositionIdentifier": 2, "EchoNumbers": 1}`` (one volume of a 4D series).
    first_instance
        (0020,0013) Instance Number of the first slice (the others follow ``instance_numbers``);
        give each volume of a 4D series its own range.

    Returns
    -------
    list of Path
        The image files in slice order (``k`` ascending, dropped slices left out), then the
        localizer if any.
    """
    modality = (modality or vol.meta.modality or "CT").upper()
    if modality not in ("CT", "MR"):
        raise ValueError(f"modality must be 'CT' or 'MR', got {modality!r}")
    if instance_numbers not in ("ascending", "reversed", "random"):
        raise ValueError(
            "instance_numbers must be 'ascending', 'reversed' or 'random', "
            f"got {instance_numbers!r}"
        )
    sop_class = CT_IMAGE_STORAGE if modality == "CT" else MR_IMAGE_STORAGE
    intercept = (
        (-1024.0 if modality == "CT" else 0.0)
        if rescale_intercept is None
        else float(rescale_intercept)
    )
    write_lut = modality == "CT" or rescale_slope != 1 or intercept != 0
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    frame_uid = frame_of_reference_uid or generate_uid()

    nk, nj, ni = vol.array.shape
    row = vol.direction[:, 0]
    col = vol.direction[:, 1]
    normal = np.cross(row, col)
    positions = slice_positions(vol, tilt_deg=tilt_deg, k_offsets_mm=k_offsets_mm)
    keep = [k for k in range(nk) if k not in set(drop_slices)]
    if not keep:
        raise ValueError("drop_slices leaves no slice to write")
    if instance_numbers == "ascending":
        numbers = {k: n + first_instance for n, k in enumerate(keep)}
    elif instance_numbers == "reversed":
        numbers = {k: len(keep) - n + first_instance - 1 for n, k in enumerate(keep)}
    else:
        perm = rng.permutation(len(keep)) + first_instance
        numbers = {k: int(perm[n]) for n, k in enumerate(keep)}
    if shuffle_names:
        order = rng.permutation(len(keep))
        names = [f"{prefix}_{rng.integers(0, 16**8):08x}_{n:03d}" for n in order]
    else:
        names = [f"{prefix}{n + 1:04d}.dcm" for n in range(len(keep))]

    common = dict(
        modality=modality,
        sop_class=sop_class,
        study_uid=study_uid,
        series_uid=series_uid,
        frame_uid=frame_uid,
        series_number=series_number,
        description=description,
        patient_name=patient_name,
        patient_id=patient_id,
    )
    iop = [_ds_str(float(x)) for x in (*row, *col)]
    paths: list[Path] = []
    for name, k in zip(names, keep, strict=True):
        ds = _base_dataset(**common)  # type: ignore[arg-type]
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = numbers[k]
        ds.ImagePositionPatient = [_ds_str(float(x)) for x in positions[k]]
        ds.ImageOrientationPatient = iop
        ds.PixelSpacing = [_ds_str(vol.spacing[1]), _ds_str(vol.spacing[0])]
        ds.SliceThickness = _ds_str(vol.spacing[2])
        loc = float(positions[k] @ normal)
        ds.SliceLocation = _ds_str(-loc if misleading_slice_location else loc)
        if modality == "CT":
            ds.GantryDetectorTilt = _ds_str(tilt_deg)
            ds.KVP = "120"
        ds.Rows, ds.Columns = nj, ni
        stored = _stored(vol.array[k], rescale_slope, intercept)
        ds.PixelRepresentation = 1 if stored.dtype == np.int16 else 0
        if write_lut:
            ds.RescaleIntercept = _ds_str(intercept)
            ds.RescaleSlope = _ds_str(rescale_slope)
            ds.RescaleType = "HU" if modality == "CT" else "US"
        if window is not None:
            ds.WindowCenter = _ds_str(window[0])
            ds.WindowWidth = _ds_str(window[1])
        for keyword, value in (elements or {}).items():
            setattr(ds, keyword, value)
        ds.PixelData = np.ascontiguousarray(stored).tobytes()
        path = out / name
        _save(ds, path)
        paths.append(path)

    if localizer:
        ds = _base_dataset(**common)  # type: ignore[arg-type]
        ds.SOPInstanceUID = generate_uid()
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
        ds.InstanceNumber = len(keep) + 1
        # a plane through the stack that contains the row direction and the normal
        n_rows, n_cols = max(nk, 8), ni
        centre = positions[len(positions) // 2] + col * (nj - 1) * vol.spacing[1] / 2
        ds.ImageOrientationPatient = [_ds_str(float(x)) for x in (*row, *normal)]
        ds.ImagePositionPatient = [_ds_str(float(x)) for x in centre]
        ds.PixelSpacing = [_ds_str(max(vol.spacing[2], 1.0)), _ds_str(vol.spacing[0])]
        ds.SliceThickness = "1"
        ds.Rows, ds.Columns = n_rows, n_cols + 3
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = _ds_str(intercept) if write_lut else "0"
        ds.RescaleSlope = "1"
        ds.PixelData = np.full((n_rows, n_cols + 3), 1000, np.uint16).tobytes()
        path = out / f"{prefix}_LOC.dcm"
        _save(ds, path)
        paths.append(path)
    return paths


def read_positions(paths: Sequence[str | os.PathLike[str]]) -> npt.NDArray[np.float64]:
    """Read the (0020,0032) Image Position (Patient) of each file, shape ``(n, 3)`` (for tests)."""
    rows = []
    for p in paths:
        ds = pydicom.dcmread(p, stop_before_pixels=True, specific_tags=["ImagePositionPatient"])
        rows.append([float(x) for x in ds.ImagePositionPatient])
    return np.asarray(rows, dtype=float)
