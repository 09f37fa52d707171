"""Segmentations in: DICOM SEG (highdicom), labelmaps, and matching any of them to their image.

- :func:`read_seg` reads a DICOM Segmentation (BINARY, FRACTIONAL scaled by its Maximum
  Fractional Value, the LABELMAP SOP class; sparse frames and overlapping segments) with highdicom
  onto the grid its frames span (``Segmentation.get_volume``), one cropped block per segment.
- :func:`read_labelmap` reads a NIfTI/NRRD labelmap (through :mod:`volumeviz.io.nifti`, the one
  place RAS/LPS is converted) or a numpy ``.npy`` labelmap on a given image.
- :func:`place_on` matches a segmentation to an image — by referenced series UID, then Frame of
  Reference, then geometry — and moves it onto the image's grid. What does not fit is reported in
  ``Segmentation.issues`` with its size in mm; what cannot be related to the image at all (another
  Frame of Reference and no reference to this series) raises :class:`SegmentationMismatch`,
  because showing it would be a guess.
- :func:`find_segmentation_files` lists the SEG/RTSTRUCT objects in a folder and
  :func:`segmentations_for` picks those that belong to a loaded image (``--seg auto``).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from volumeviz.errors import DicomReadError, VolumeVizError
from volumeviz.io.header import Header
from volumeviz.io.series import MAX_GRID_VOXELS
from volumeviz.model.segmentation import (
    Code,
    Grid,
    Segment,
    Segmentation,
    cielab_to_rgb,
    palette_color,
)
from volumeviz.model.volume import GeometryIssue, Volume
from volumeviz.ops.regrid import resample_segmentation

log = logging.getLogger(__name__)

__all__ = [
    "RTSTRUCT_SOP_CLASS",
    "SEG_SOP_CLASSES",
    "SegmentationError",
    "SegmentationMismatch",
    "SegmentationRef",
    "find_segmentation_files",
    "place_on",
    "read_labelmap",
    "read_seg",
    "read_segmentation",
    "segmentations_for",
]

#: Segmentation Storage and Label Map Segmentation Storage (PS3.4 B.5)
SEG_SOP_CLASSES = ("1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7")
#: RT Structure Set Storage
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"


class SegmentationError(VolumeVizError, ValueError):
    """A segmentation file cannot be read (malformed, unsupported, no geometry)."""


class SegmentationMismatch(SegmentationError):
    """A segmentation cannot be related to the image it was asked to go on."""


def _code(h: Header, keyword: str) -> Code | None:
    """The first item of a code sequence as a :class:`Code` (None if absent or unreadable)."""
    item = h.item(keyword, lenient=True)
    if item is None:
        return None
    return Code(
        item.text("CodeValue", lenient=True) or item.text("LongCodeValue", lenient=True),
        item.text("CodingSchemeDesignator", lenient=True),
        item.text("CodeMeaning", lenient=True),
    )


def read_seg(path: str | os.PathLike[str]) -> Segmentation:
    """Read a DICOM SEG onto the grid its frames span (LPS), one cropped mask per segment.

    Parameters
    ----------
    path
        A Segmentation Storage or Label Map Segmentation Storage file.

    Returns
    -------
    Segmentation
        ``kind="SEG"``; bool masks (BINARY, LABELMAP) or float32 fractions in ``[0, 1]``
        (FRACTIONAL, divided by (0062,000E) Maximum Fractional Value); colours from
        (0062,000D) Recommended Display CIELab Value, else the palette; the referenced series,
        instances and Frame of Reference from the file.

    Raises
    ------
    SegmentationError
        Not a readable SEG, or its frames do not form a regular 3D grid (one line naming the
        file and the problem).
    HeaderError
        (0028,0010) Rows x (0028,0011) Columns x (0028,0008) Number of Frames more than the
        (7FE0,0010) Pixel Data holds (checked before anything is decoded or allocated).
    """
    import highdicom as hd

    from volumeviz.io.pixels import check_frames, read_header

    label = str(path)
    if not Path(path).is_file():
        raise SegmentationError(f"{label}: no such file")
    # Rows x Columns x (0028,0008) against the pixel data before highdicom allocates anything
    # (a header claiming 65535x65535 or 2^31 frames is refused here, naming the element)
    try:
        head = read_header(path)
    except DicomReadError as exc:
        cause = exc.__cause__ or exc
        raise SegmentationError(f"{label}: not a readable DICOM SEG ({_one_line(cause)})") from exc
    check_frames(Header(head, label))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg = hd.seg.segread(str(path))
    except FileNotFoundError as exc:
        raise SegmentationError(f"{label}: no such file") from exc
    except Exception as exc:
        raise SegmentationError(f"{label}: not a readable DICOM SEG ({_one_line(exc)})") from exc
    seg_type = Header(seg, label).code("SegmentationType", {"BINARY", "FRACTIONAL", "LABELMAP"})
    # (0062,0004) Segment Number of each item, checked (highdicom hands back the raw values);
    # in a LABELMAP, segment 0 is the background, not a segment to show (as highdicom does)
    numbers = [
        n
        for item in Header(seg, label).items("SegmentSequence")
        if (n := item.integer("SegmentNumber", low=0, high=65535)) or seg_type != "LABELMAP"
    ]
    if not numbers:
        raise SegmentationError(f"{label}: (0062,0002) Segment Sequence is empty")
    segments: list[Segment] = []
    grid: Grid | None = None
    fractional = seg_type == "FRACTIONAL"
    try:
        geometry = seg.get_volume_geometry()
        voxels = int(np.prod(geometry.spatial_shape)) if geometry is not None else 0
    except Exception:
        geometry, voxels = None, 0
    if geometry is not None and voxels > MAX_GRID_VOXELS:
        # a hostile (0018,0088) / frame position would have highdicom allocate the whole grid
        shape = "x".join(str(int(n)) for n in reversed(geometry.spatial_shape))
        raise SegmentationError(
            f"{label}: the frames' (0018,0088) Spacing Between Slices "
            f"{float(geometry.spacing_between_slices):g} mm and (0020,0032) Image Position "
            f"(Patient) values need a {shape} grid ({voxels} voxels); refusing above "
            f"{MAX_GRID_VOXELS} voxels"
        )
    # several segments per highdicom call (each call indexes the frames once), at most about
    # 256 MB of decoded masks at a time, so 100+ organ segmentations stay within memory
    per_call = max(1, (2**28) // max(voxels * (4 if fractional else 1), 1))
    for first in range(0, len(numbers), per_call):
        chunk = numbers[first : first + per_call]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = seg.get_volume(
                    combine_segments=False, segment_numbers=chunk, rescale_fractional=True
                )
        except Exception as exc:
            raise SegmentationError(
                f"{label}: segment(s) {', '.join(map(str, chunk))}: the frames do not form a "
                "regular 3D grid ((0020,0032) Image Position (Patient) / (0020,0037) Image "
                f"Orientation of the frames): {_one_line(exc)}"
            ) from exc
        g = _grid_from_hd(v.affine, v.array.shape[:3], label)
        if grid is None:
            grid = g
        elif not grid.same_as(g, tol_mm=1e-3):  # pragma: no cover - highdicom uses one geometry
            raise SegmentationError(f"{label}: segments lie on different grids")
        arr4 = np.asarray(v.array)
        for c, n in enumerate(chunk):
            pos = first + c
            arr = arr4[..., c]
            mask = np.clip(arr.astype(np.float32), 0.0, 1.0) if fractional else arr.astype(bool)
            desc = Header(
                seg.get_segment_description(n),
                label,
                context=f"(0062,0002) Segment Sequence segment {n} > ",
            )
            # descriptive values only: a malformed one is left out (colour: the palette's)
            lab = desc.integers(
                "RecommendedDisplayCIELabValue", 3, None, low=0, high=65535, lenient=True
            )
            color = cielab_to_rgb(list(lab)) if lab else palette_color(pos)
            segments.append(
                Segment(
                    number=n,
                    label=desc.text("SegmentLabel", lenient=True) or f"segment {n}",
                    color=color,
                    mask=mask,
                    category=_code(desc, "SegmentedPropertyCategoryCodeSequence"),
                    type=_code(desc, "SegmentedPropertyTypeCodeSequence"),
                    anatomic_region=_code(desc, "AnatomicRegionSequence"),
                    algorithm=desc.text("SegmentAlgorithmType", lenient=True),
                    color_source="RecommendedDisplayCIELabValue" if lab else "palette",
                    description=desc.text("SegmentDescription", lenient=True),
                ).cropped()
            )
        del arr4, v
    assert grid is not None
    top = Header(seg, label)
    ref_item = top.item("ReferencedSeriesSequence", lenient=True)
    ref_series = ref_item.text("SeriesInstanceUID", lenient=True) if ref_item else ""
    sops: list[str] = []
    try:
        for _, _, sop in seg.get_source_image_uids():
            sops.append(str(sop))
    except Exception:  # pragma: no cover - highdicom reads what segread accepted
        sops = []
    return Segmentation(
        grid=grid,
        segments=tuple(segments),
        kind="SEG",
        source=label,
        frame_of_reference_uid=top.text("FrameOfReferenceUID", lenient=True),
        referenced_series_uid=ref_series,
        referenced_sop_uids=tuple(sops),
        description=top.text("SeriesDescription", lenient=True)
        or top.text("ContentLabel", lenient=True),
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _grid_from_hd(affine: Any, shape: Sequence[int], label: str) -> Grid:
    """Our grid from a highdicom Volume affine ((slice, row, column) -> LPS; ours is (i, j, k))."""
    a = np.asarray(affine, float)
    cols = np.stack([a[:3, 2], a[:3, 1], a[:3, 0]], axis=1)  # i = column, j = row, k = slice
    spacing = np.linalg.norm(cols, axis=0)
    if np.any(spacing <= 0):
        raise SegmentationError(f"{label}: frames give a voxel size of 0 mm; cannot place them")
    direction = cols / spacing
    u, _, vt = np.linalg.svd(direction)
    return Grid(
        (int(shape[0]), int(shape[1]), int(shape[2])),
        (float(a[0, 3]), float(a[1, 3]), float(a[2, 3])),
        (float(spacing[0]), float(spacing[1]), float(spacing[2])),
        u @ vt,
    )


def read_labelmap(
    path: str | os.PathLike[str],
    image: Volume | None = None,
    *,
    names: dict[int, str] | None = None,
) -> Segmentation:
    """A labelmap file as a Segmentation: one segment per non-zero label value.

    ``.nii``/``.nii.gz``/``.nrrd`` carry their own geometry; ``.npy`` is a ``(k, j, i)`` array
    on ``image``'s grid (required then). Labelmaps carry no UIDs: :func:`place_on` matches them
    by geometry alone, and says so.

    Raises
    ------
    SegmentationError
        Non-integer labels, a 4D file, a ``.npy`` of another shape than ``image``.
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".npy"):
        if image is None:
            raise SegmentationError(f"{p}: a .npy labelmap needs the image it was drawn on")
        try:
            with p.open("rb") as fp:  # the header's shape first: nothing allocated for a lie
                version = np.lib.format.read_magic(fp)
                read = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape = read(fp)[0] if version in ((1, 0), (2, 0)) else image.array.shape
        except Exception as exc:
            raise SegmentationError(f"{p}: not a readable .npy array ({_one_line(exc)})") from exc
        if tuple(shape) != image.array.shape:
            raise SegmentationError(
                f"{p}: labelmap shape {tuple(shape)} is not the image's (k, j, i) shape "
                f"{image.array.shape}"
            )
        try:
            arr = np.load(p, allow_pickle=False)
        except Exception as exc:
            raise SegmentationError(f"{p}: not a readable .npy array ({_one_line(exc)})") from exc
        if arr.shape != image.array.shape:
            raise SegmentationError(
                f"{p}: labelmap shape {arr.shape} is not the image's (k, j, i) shape "
                f"{image.array.shape}"
            )
        grid = Grid.of(image)
    else:
        from volumeviz.io.nifti import read_images

        vols = read_images(p)
        if len(vols) != 1:
            raise SegmentationError(f"{p}: holds {len(vols)} 3D images; a labelmap is one")
        arr, grid = vols[0].array, Grid.of(vols[0])
    try:
        seg = Segmentation.from_labelmap(arr, grid, names=names, source=str(p))
    except ValueError as exc:
        raise SegmentationError(f"{p}: {exc}") from exc
    return seg


def _sop_class(path: Path) -> str:
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
    except Exception:
        return ""
    meta = getattr(ds, "file_meta", None)
    return Header(ds, path).text("SOPClassUID", lenient=True) or (
        Header(meta, path).text("MediaStorageSOPClassUID", lenient=True) if meta else ""
    )


def read_segmentation(path: str | os.PathLike[str], image: Volume | None = None) -> Segmentation:
    """Read any segmentation: DICOM SEG, RTSTRUCT (needs ``image``), NIfTI/NRRD/npy labelmap.

    The result is on the file's own grid (RTSTRUCT: on ``image``'s); use :func:`place_on` to put
    it on an image (:func:`load_segmentation` does both).

    Raises
    ------
    SegmentationError
        Unknown or unreadable file.
    """
    p = Path(path)
    if not p.is_file():
        raise SegmentationError(f"{p}: no such file")
    lower = p.name.lower()
    if lower.endswith((".nii", ".nii.gz", ".nrrd", ".nhdr", ".npy")):
        return read_labelmap(p, image)
    sop = _sop_class(p)
    if sop in SEG_SOP_CLASSES:
        return read_seg(p)
    if sop == RTSTRUCT_SOP_CLASS:
        if image is None:
            raise SegmentationError(f"{p}: an RTSTRUCT needs the image its contours are drawn on")
        from volumeviz.io.rtstruct import read_rtstruct

        return read_rtstruct(p, image)
    what = f"(0008,0016) SOP Class UID {sop}" if sop else "not DICOM"
    raise SegmentationError(
        f"{p}: not a segmentation ({what}); give a DICOM SEG, an RTSTRUCT, or a .nii/.nii.gz/"
        ".nrrd/.npy labelmap"
    )


def place_on(seg: Segmentation, image: Volume) -> Segmentation:
    """Match ``seg`` to ``image`` and move it onto the image's grid.

    Matching order: the referenced series UID, then the Frame of Reference UID, then geometry.

    - Same series, or the same Frame of Reference: placed by geometry (world coordinates).
    - A different Frame of Reference but a reference to this very series: placed, with an issue
      naming both UIDs (the file contradicts itself; its references and coordinates agree with
      this image's geometry, checked voxel by voxel below).
    - A different Frame of Reference and no reference to this series: refused.
    - A labelmap (no UIDs): placed by geometry alone, with an issue saying so.

    Voxels that fall outside the image are cut and reported (count and mm beyond the edge).

    Raises
    ------
    SegmentationMismatch
        Nothing relates the segmentation's coordinates to the image's.
    """
    issues = list(seg.issues)
    img_for = image.meta.frame_of_reference_uid
    img_series = image.meta.series_uid
    same_series = bool(seg.referenced_series_uid) and seg.referenced_series_uid == img_series
    src = seg.source or "segmentation"
    if seg.kind == "labelmap":
        issues.append(
            GeometryIssue(
                "geometry-only",
                f"{Path(src).name}: a labelmap has no UIDs; placed on the image by its "
                "geometry (affine) alone",
                action="placed",
            )
        )
    elif seg.frame_of_reference_uid and img_for and seg.frame_of_reference_uid != img_for:
        if not same_series:
            raise SegmentationMismatch(
                f"{src}: (0020,0052) Frame of Reference UID {seg.frame_of_reference_uid} differs "
                f"from the image's {img_for}, and it references series "
                f"{seg.referenced_series_uid or '(none)'}, not this one ({img_series}): its "
                "coordinates cannot be related to this image; not shown"
            )
        issues.append(
            GeometryIssue(
                "frame-of-reference",
                f"{Path(src).name}: (0020,0052) Frame of Reference UID "
                f"{seg.frame_of_reference_uid} differs from the image's {img_for}, but it "
                "references this series; placed by the image's geometry",
                action="placed",
            )
        )
    elif seg.referenced_series_uid and not same_series:
        issues.append(
            GeometryIssue(
                "other-series",
                f"{Path(src).name}: drawn on series {seg.referenced_series_uid}; shown on "
                f"{img_series or 'this image'} of the same Frame of Reference by geometry",
                action="resampled",
            )
        )
    missing = _missing_references(seg, image)
    if missing:
        n_ref = len(set(seg.referenced_sop_uids))
        issues.append(
            GeometryIssue(
                "missing-references",
                f"{Path(src).name}: {len(missing)} of the {n_ref} image(s) it references "
                "(SOP Instance UIDs) are not in this series; what lies on this series' grid is "
                "shown, placed by geometry",
                action="placed",
            )
        )
    moved, cuts = resample_segmentation(seg, Grid.of(image))
    for cut in cuts:
        whole = cut.voxels_outside == cut.voxels_total
        issues.append(
            GeometryIssue(
                "outside-image",
                f"segment {cut.number} '{cut.label}': "
                + (
                    "lies entirely outside the image"
                    if whole
                    else f"{cut.voxels_outside} of {cut.voxels_total} voxels lie outside the image"
                )
                + f" (up to {cut.max_mm_outside:.1f} mm beyond its edge); not shown there",
                size=cut.max_mm_outside,
                unit="mm",
                action="cut",
            )
        )
    return moved.replace(issues=tuple(issues))


def _missing_references(seg: Segmentation, image: Volume) -> list[str]:
    """Referenced SOP Instance UIDs that none of the image's files carries (headers only).

    Only asked when the segmentation references this very series: for another series of the
    same Frame of Reference the instances are expected to differ.
    """
    import pydicom

    refs = {u for u in seg.referenced_sop_uids if u}
    if not refs or seg.referenced_series_uid != image.meta.series_uid:
        return []
    have: set[str] = set()
    for f in image.meta.source_files:
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
        except Exception:
            return []  # cannot tell: say nothing rather than something wrong
        have.add(Header(ds, f).text("SOPInstanceUID", lenient=True))
    return sorted(refs - have)


def load_segmentation(path: str | os.PathLike[str], image: Volume) -> Segmentation:
    """:func:`read_segmentation` then :func:`place_on` ``image``."""
    return place_on(read_segmentation(path, image), image)


@dataclass(frozen=True, slots=True)
class SegmentationRef:
    """A SEG or RTSTRUCT file found in a folder, with what it says it belongs to."""

    path: str
    kind: str  # "SEG" or "RTSTRUCT"
    referenced_series_uids: tuple[str, ...]
    frame_of_reference_uids: tuple[str, ...]


def _refs_of(path: Path) -> SegmentationRef | None:
    import pydicom

    try:
        ds = pydicom.dcmread(
            path,
            stop_before_pixels=True,
            specific_tags=[
                "SOPClassUID",
                "FrameOfReferenceUID",
                "ReferencedSeriesSequence",
                "ReferencedFrameOfReferenceSequence",
            ],
        )
        h = Header(ds, path)
        sop = h.text("SOPClassUID", lenient=True)
        if sop in SEG_SOP_CLASSES:
            series = tuple(
                it.text("SeriesInstanceUID", lenient=True)
                for it in h.items("ReferencedSeriesSequence", lenient=True)
            )
            return SegmentationRef(
                str(path), "SEG", series, (h.text("FrameOfReferenceUID", lenient=True),)
            )
        if sop == RTSTRUCT_SOP_CLASS:
            series_l: list[str] = []
            fors: list[str] = []
            for fr in h.items("ReferencedFrameOfReferenceSequence", lenient=True):
                fors.append(fr.text("FrameOfReferenceUID", lenient=True))
                for st in fr.items("RTReferencedStudySequence", lenient=True):
                    for se in st.items("RTReferencedSeriesSequence", lenient=True):
                        series_l.append(se.text("SeriesInstanceUID", lenient=True))
            return SegmentationRef(str(path), "RTSTRUCT", tuple(series_l), tuple(fors))
    except Exception:
        return None
    return None


def find_segmentation_files(path: str | os.PathLike[str]) -> list[SegmentationRef]:
    """SEG and RTSTRUCT objects in a folder (walked recursively) or among given files.

    Headers only; files that are not DICOM, or not a SEG/RTSTRUCT, are passed over.
    """
    p = Path(path)
    files: Iterable[Path]
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
    elif p.is_file():
        files = [f for f in sorted(p.parent.iterdir()) if f.is_file()]
    else:
        return []
    out = []
    for f in files:
        if f.name.upper() == "DICOMDIR":
            continue
        ref = _refs_of(f)
        if ref is not None:
            out.append(ref)
    return out


def segmentations_for(image: Volume, path: str | os.PathLike[str]) -> list[SegmentationRef]:
    """The SEG/RTSTRUCT files under ``path`` that belong to ``image`` (``--seg auto``).

    A file belongs when it references the image's series UID, or (no series reference) shares
    its Frame of Reference.
    """
    uid, for_uid = image.meta.series_uid, image.meta.frame_of_reference_uid
    found = []
    for ref in find_segmentation_files(path):
        if (uid and uid in ref.referenced_series_uids) or (
            not any(ref.referenced_series_uids)
            and for_uid
            and for_uid in ref.frame_of_reference_uids
        ):
            found.append(ref)
    return found


def load_segmentations(
    image: Volume,
    specs: Sequence[str | os.PathLike[str]],
    *,
    search: str | os.PathLike[str] | None = None,
    strict: bool = False,
) -> tuple[list[Segmentation], list[str]]:
    """The segmentations the command line asked for, placed on ``image``.

    Parameters
    ----------
    image
        The loaded image.
    specs
        ``--seg`` values: ``"auto"`` (the SEG/RTSTRUCT files under ``search`` that belong to
        ``image``), ``"none"``, or files (SEG, RTSTRUCT, .nii/.nii.gz/.nrrd/.npy labelmap).
    search
        Where ``auto`` looks (the path the image was loaded from).
    strict
        Raise on a file that cannot be read or placed (``stats``); otherwise skip it with a
        warning (pictures: the image is still shown).

    Returns
    -------
    (segmentations, warnings)
        Placed segmentations, and one line per problem (files skipped, issues found).
    """
    out: list[Segmentation] = []
    notes: list[str] = []
    paths: list[Path] = []
    auto = False
    for spec in specs:
        text = str(spec)
        if text.lower() == "none":
            return [], []
        if text.lower() == "auto":
            auto = True
        else:
            paths.append(Path(text))
    if auto and search is not None:
        for ref in segmentations_for(image, search):
            if Path(ref.path) not in paths:
                paths.append(Path(ref.path))
    for p in paths:
        try:
            seg = load_segmentation(p, image)
        except VolumeVizError as exc:  # SegmentationError, HeaderError, ImageFormatError ...
            if strict:
                raise
            notes.append(f"segmentation not shown: {exc}")
            continue
        out.append(seg)
        notes.extend(
            issue.message if issue.message.startswith(p.name) else f"{p.name}: {issue.message}"
            for issue in seg.issues
            if issue.code != "geometry-only"
        )
    return out, notes
