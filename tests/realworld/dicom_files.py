"""Write small synthetic DICOM files whose every attribute the test chose (truth known)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

DX_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"


def write_image(
    path: Path,
    pixels: np.ndarray,
    *,
    sop_class: str = SECONDARY_CAPTURE,
    modality: str = "OT",
    series_uid: str | None = None,
    study_uid: str | None = None,
    bits_allocated: int | None = None,
    bits_stored: int | None = None,
    signed: bool = False,
    photometric: str | None = None,
    **elements: Any,
) -> Path:
    """Write ``pixels`` ((rows, cols), (frames, rows, cols) or (..., 3) RGB) with ``elements``.

    ``elements`` are DICOM keywords set as given (e.g. ``ImagerPixelSpacing=[0.2, 0.25]``).
    """
    arr = np.asarray(pixels)
    rgb = photometric == "RGB" or (photometric is None and arr.ndim >= 3 and arr.shape[-1] == 3)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientName = "SYNTHETIC^PHANTOM"
    ds.PatientID = "SYN0001"
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    frames = arr.shape[0] if arr.ndim == (4 if rgb else 3) else 1
    rows, cols = (arr.shape[-3], arr.shape[-2]) if rgb else (arr.shape[-2], arr.shape[-1])
    ds.Rows, ds.Columns = rows, cols
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = photometric or ("RGB" if rgb else "MONOCHROME2")
    if rgb:
        ds.PlanarConfiguration = 0
    ba = bits_allocated or arr.dtype.itemsize * 8
    ds.BitsAllocated = ba
    if arr.dtype.kind == "f":  # (7FE0,0008) Float / (7FE0,0009) Double Float Pixel Data
        data = np.ascontiguousarray(arr).tobytes()
        if arr.dtype.itemsize == 4:
            ds.FloatPixelData = data
        else:
            ds.DoubleFloatPixelData = data
    else:
        ds.BitsStored = bits_stored or ba
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = 1 if signed else 0
        if ba == 1:
            data = np.packbits(np.ascontiguousarray(arr).ravel(), bitorder="little").tobytes()
        else:
            data = np.ascontiguousarray(arr).tobytes()
        ds.PixelData = data + b"\0" * (len(data) % 2)
    for key, value in elements.items():
        setattr(ds, key, value)
    ds.save_as(path, enforce_file_format=True)
    return path


def read(path: Path) -> Dataset:
    return pydicom.dcmread(path)


def csa2(tags: dict[str, tuple[str, list[str]]]) -> bytes:
    """Encode a Siemens CSA2 ("SV10") header: ``{name: (vr, [item strings])}``.

    The layout nibabel's ``csareader.read`` parses: 'SV10', 4 unused bytes, n_tags, 77; per tag a
    64-byte name, vm, 4-byte VR, syngodt, n_items, 77; per item four int32 (the second is the
    item length) and the null-terminated value padded to 4 bytes.
    """
    import struct

    out = [b"SV10", b"\x04\x03\x02\x01", struct.pack("<2I", len(tags), 77)]
    for name, (vr, items) in tags.items():
        out.append(
            struct.pack("<64si4s3i", name.encode(), len(items), vr.encode(), 0, len(items), 77)
        )
        for item in items:
            value = item.encode() + b"\x00"
            out.append(struct.pack("<4i", len(value), len(value), 77, len(value)))
            out.append(value + b"\x00" * (-len(value) % 4))
    return b"".join(out)


def add_csa_image_header(ds: Dataset, tags: dict[str, tuple[str, list[str]]]) -> None:
    """Put a CSA Image Header Info (0029,1010) with its private creator into ``ds``."""
    ds.add_new((0x0029, 0x0010), "LO", "SIEMENS CSA HEADER")
    ds.add_new((0x0029, 0x1010), "OB", csa2(tags))
