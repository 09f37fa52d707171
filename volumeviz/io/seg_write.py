"""Segmentations out: a DICOM SEG (highdicom) of a segmentation placed on a loaded series.

The SEG references the series' own instances (Referenced Series Sequence, Source Image
Sequence per frame) and carries its Frame of Reference; its frames sit on the series' grid
(Plane Position / Orientation / Pixel Measures written from the Volume's geometry, PS3.3
C.7.6.16.2), so a viewer places every mask voxel on the image voxel it was drawn on. Segments may
overlap (BINARY, one frame per segment and slice, empty frames omitted). Colours go out as
Recommended Display CIELab Values; a segment without codes is written as Category "Tissue" /
Type "Tissue" (SCT 85756007), the generic concept dcmqi and 3D Slicer use.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from volumeviz import __version__
from volumeviz._atomic import atomic_path
from volumeviz.errors import WriteError
from volumeviz.io.deid import DeidSession, deidentify_dataset, session_for
from volumeviz.model.deid import Identity
from volumeviz.model.segmentation import Code, Grid, Segmentation, rgb_to_cielab
from volumeviz.model.volume import Volume

__all__ = ["write_seg"]

_TISSUE = Code("85756007", "SCT", "Tissue")
_ALGORITHM_TYPES = ("MANUAL", "SEMIAUTOMATIC", "AUTOMATIC")


def _coded(code: Code | None) -> Any:
    from highdicom.sr.coding import CodedConcept

    c = code or _TISSUE
    return CodedConcept(value=c.value, scheme_designator=c.scheme, meaning=c.meaning)


def _source_datasets(image: Volume) -> list[Any]:
    import pydicom

    files = list(image.meta.source_files)
    if not files:
        raise WriteError(
            "the image has no source files (meta.source_files): a SEG must reference the DICOM "
            "instances it was drawn on"
        )
    out = []
    for f in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception as exc:
            raise WriteError(f"{f}: cannot read the source image header ({exc})") from exc
        # an empty (0008,0005) means the default repertoire; highdicom wants it absent then
        if "SpecificCharacterSet" in ds and not str(ds.SpecificCharacterSet or "").strip():
            del ds.SpecificCharacterSet
        out.append(ds)
    return out


def write_seg(
    seg: Segmentation,
    image: Volume,
    path: str | os.PathLike[str],
    *,
    series_description: str = "Segmentation",
    series_number: int = 300,
    algorithm_type: str = "MANUAL",
    content_label: str = "SEGMENTATION",
    overwrite: bool = True,
    anonymize: bool | DeidSession = False,
) -> Path:
    """Write ``seg`` (placed on ``image``'s grid) as a DICOM SEG referencing ``image``'s files.

    Parameters
    ----------
    seg
        Segments on ``Grid.of(image)`` (:func:`volumeviz.io.seg.place_on` puts them there).
        All boolean: a BINARY SEG. Any fractional segment (float fractions in [0, 1]): a
        FRACTIONAL SEG (PS3.3 C.8.20.2, Segmentation Fractional Type PROBABILITY, Maximum
        Fractional Value 255: fractions kept to 1/255), the boolean segments written as 0/1.
    image
        The loaded series (its ``meta.source_files`` are the referenced instances).
    path
        Output ``.dcm``; written atomically.
    series_description, series_number, content_label
        Written into the SEG.
    algorithm_type
        Segment Algorithm Type when a segment does not say: MANUAL, SEMIAUTOMATIC, AUTOMATIC.
    overwrite
        Replace an existing file.
    anonymize
        De-identify the SEG (PS3.15 Basic Profile with Clean Descriptors:
        :func:`volumeviz.io.deid.deidentify_dataset`, the one de-identification of every DICOM
        volumeviz writes), or pass a :class:`~volumeviz.io.deid.DeidSession` shared with other
        outputs. Its references (series, instances, Frame of Reference) are kept with the
        session's new UIDs (``U*``), keyed by the old ones: the same for the same source
        under one ``$VOLUMEVIZ_PSEUDONYM_KEY``, random for the session without one. Content
        Date/Time and Device Serial Number (Type 1 here) get dummies. Segment labels and the
        description are scrubbed of the identity. The result passes ``dciodvfy``.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    WriteError
        No segments, a segment on another grid, an image without source files, highdicom
        refusing the content (the message names the problem).
    """
    import highdicom as hd
    from highdicom.color import CIELabColor
    from pydicom.uid import UID, generate_uid

    if not seg.grid.same_as(Grid.of(image), tol_mm=1e-3):
        raise WriteError("the segmentation is not on the image's grid; place it first (place_on)")
    segments = [s for s in seg.segments if not s.empty]
    if not segments:
        raise WriteError(f"{path}: no non-empty segment to write")
    sources = _source_datasets(image)
    g = seg.grid
    nk, nj, ni = g.shape
    fractional = any(s.fractional for s in segments)
    pixels = np.zeros((nk, nj, ni, len(segments)), np.float32 if fractional else np.uint8)
    descriptions = []
    for n, s in enumerate(segments, start=1):
        view = pixels[(*s.block, n - 1)]
        if fractional:
            view[...] = np.clip(s.mask.astype(np.float32), 0.0, 1.0)
        else:
            view[s.mask] = 1
        algo = (s.algorithm or algorithm_type).upper()
        if algo not in _ALGORITHM_TYPES:
            algo = algorithm_type
        lab = rgb_to_cielab(s.color)
        kwargs: dict[str, Any] = {}
        if algo != "MANUAL":
            kwargs["algorithm_identification"] = hd.AlgorithmIdentificationSequence(
                name="volumeviz",
                family=_coded(Code("123110", "DCM", "Artificial Intelligence")),
                version=__version__,
            )
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=n,
                segment_label=(s.label or f"segment {n}")[:64],
                segmented_property_category=_coded(s.category),
                segmented_property_type=_coded(s.type),
                algorithm_type=algo,
                anatomic_regions=[_coded(s.anatomic_region)] if s.anatomic_region else None,
                display_color=CIELabColor(
                    lab[0] * 100.0 / 65535.0,
                    lab[1] * 255.0 / 65535.0 - 128.0,
                    lab[2] * 255.0 / 65535.0 - 128.0,
                ),
                **kwargs,
            )
        )
    affine = np.eye(4)
    sp = np.asarray(g.spacing)
    affine[:3, 0] = g.direction[:, 2] * sp[2]  # highdicom: (slice, row, column)
    affine[:3, 1] = g.direction[:, 1] * sp[1]
    affine[:3, 2] = g.direction[:, 0] * sp[0]
    affine[:3, 3] = g.origin
    volume = hd.Volume(
        pixels,
        affine=affine,
        coordinate_system="PATIENT",
        frame_of_reference_uid=image.meta.frame_of_reference_uid or None,
        channels={"SegmentNumber": list(range(1, len(segments) + 1))},
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = hd.seg.Segmentation(
                source_images=sources,
                pixel_array=volume,
                segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL
                if fractional
                else hd.seg.SegmentationTypeValues.BINARY,
                fractional_type=hd.seg.SegmentationFractionalTypeValues.PROBABILITY,
                max_fractional_value=255,
                segment_descriptions=descriptions,
                series_instance_uid=generate_uid(),
                series_number=series_number,
                sop_instance_uid=generate_uid(),
                instance_number=1,
                manufacturer="volumeviz",
                manufacturer_model_name="volumeviz",
                software_versions=__version__,
                device_serial_number="0",
                content_label=content_label[:16].upper().replace(" ", "_"),
                series_description=series_description[:64],
                omit_empty_frames=True,
            )
    except Exception as exc:
        raise WriteError(
            f"{path}: highdicom refused the SEG: {' '.join(str(exc).split())}"
        ) from exc
    session = session_for(anonymize, image.meta)
    if session is not None:
        # a SEG must keep its references (U*: new UIDs, the session's, keyed by the old) and
        # its Type 1 Content Date/Time and Device Serial Number (D: dummies)
        deidentify_dataset(
            out,
            session,
            descriptors={"SeriesDescription": series_description[:64]},
            identity=Identity.of(image.meta),
            required=("ContentDate", "ContentTime", "DeviceSerialNumber"),
            keep_references=True,
        )
        out.file_meta.MediaStorageSOPInstanceUID = UID(str(out.SOPInstanceUID))
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        out.save_as(tmp)
    return target
