"""RT Structure Sets: closed planar contours → masks on the referenced image's grid, and lines.

Each ROI of (3006,0020) Structure Set ROI Sequence becomes a
:class:`~volumeviz.model.segmentation.Segment`: its (3006,0039) ROI Contour Sequence items of type
``CLOSED_PLANAR`` are rasterised onto the slices of the image they were drawn on (PS3.3 C.8.8.6),
and kept as ``(n, 3)`` LPS polylines for drawing. Rasterisation (scikit-image
``draw.polygon``) takes the pixels whose **centre** lies inside a contour; several contours of
one ROI on one slice combine by the even-odd rule (a contour inside another is a hole, the
convention of PS3.3 C.8.8.6.3 and of the planning systems that write them).

A contour must lie in a plane parallel to the image's slices; a contour off any slice by more than
``slice_tol_mm`` (default: a tenth of the slice spacing) or tilted against them is not
rasterised, and the Segmentation's issues say which and by how many mm. ``POINT`` and ``OPEN_*``
contours have no inside: they are kept as lines only.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.io.discover import MAX_POSITION_MM
from volumeviz.io.header import Header
from volumeviz.io.seg import SegmentationError
from volumeviz.model.segmentation import Grid, Segment, Segmentation, palette_color
from volumeviz.model.volume import GeometryIssue, Volume

__all__ = ["contour_to_index", "rasterize_contours", "read_rtstruct"]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def contour_to_index(points_lps: npt.ArrayLike, grid: Grid | Volume) -> npt.NDArray[np.float64]:
    """Continuous ``(i, j, k)`` of contour points (LPS mm) on an image grid, ``(n, 3)``."""
    g = Grid.of(grid) if isinstance(grid, Volume) else grid
    return g.lps_to_index(np.asarray(points_lps, float).reshape(-1, 3))


def rasterize_contours(
    contours: list[npt.NDArray[np.float64]],
    grid: Grid,
    *,
    slice_tol_mm: float | None = None,
) -> tuple[npt.NDArray[np.bool_], list[str]]:
    """Fill closed planar contours (LPS mm) on ``grid``; return the mask and what was refused.

    Returns
    -------
    (mask, problems)
        ``mask`` ``(k, j, i)`` bool on the whole grid; ``problems`` one line per contour that was
        not rasterised (tilted against the slices, off every slice, outside the grid).
    """
    from skimage.draw import polygon

    nk, nj, ni = grid.shape
    tol = 0.1 * grid.spacing[2] if slice_tol_mm is None else slice_tol_mm
    mask = np.zeros(grid.shape, bool)
    problems: list[str] = []
    for n, pts in enumerate(contours):
        idx = contour_to_index(pts, grid)
        if len(idx) < 3:
            problems.append(f"contour {n + 1}: {len(idx)} point(s), a closed contour needs 3")
            continue
        k = idx[:, 2]
        spread_mm = float((k.max() - k.min()) * grid.spacing[2])
        if spread_mm > tol:
            problems.append(
                f"contour {n + 1}: not parallel to the image slices (its points span "
                f"{spread_mm:.2f} mm along the slice normal); not filled"
            )
            continue
        kc = float(k.mean())
        kr = round(kc)
        off_mm = abs(kc - kr) * grid.spacing[2]
        if kr < 0 or kr >= nk:
            problems.append(
                f"contour {n + 1}: {(-kr if kr < 0 else kr - nk + 1) * grid.spacing[2]:.1f} mm "
                "beyond the image's first/last slice; not filled"
            )
            continue
        if off_mm > tol:
            problems.append(
                f"contour {n + 1}: lies {off_mm:.2f} mm from the nearest image slice "
                f"(tolerance {tol:.2f} mm); not filled"
            )
            continue
        rr, cc = polygon(idx[:, 1], idx[:, 0], shape=(nj, ni))
        mask[kr, rr, cc] ^= True  # even-odd: an inner contour is a hole
    return mask, problems


def _ds_read(path: Path) -> Any:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, stop_before_pixels=True)


def read_rtstruct(path: str | os.PathLike[str], image: Volume) -> Segmentation:
    """Read an RTSTRUCT onto ``image``'s grid: one Segment per ROI, masks and contours.

    Parameters
    ----------
    path
        An RT Structure Set Storage file.
    image
        The image the contours were drawn on (its grid receives the masks).

    Returns
    -------
    Segmentation
        ``kind="RTSTRUCT"``, on ``Grid.of(image)``; colours from (3006,002A) ROI Display
        Color; issues for contours that could not be filled. Matching (Frame of Reference,
        referenced series) is :func:`volumeviz.io.seg.place_on`'s job.

    Raises
    ------
    SegmentationError
        Not an RTSTRUCT.
    HeaderError
        A malformed element (read through :class:`volumeviz.io.header.Header`): one line naming
        the file, the sequence item and the element with its value.
    """
    p = Path(path)
    label = str(p)
    try:
        ds = _ds_read(p)
    except FileNotFoundError as exc:
        raise SegmentationError(f"{label}: no such file") from exc
    except Exception as exc:
        raise SegmentationError(f"{label}: not readable as DICOM ({_one_line(exc)})") from exc
    h = Header(ds, label)
    if h.text("Modality", lenient=True) != "RTSTRUCT" and "ROIContourSequence" not in h:
        raise SegmentationError(f"{label}: not an RTSTRUCT (no (3006,0039) ROI Contour Sequence)")
    grid = Grid.of(image)
    rois: dict[int, tuple[str, str, str]] = {}
    for item in h.items("StructureSetROISequence"):
        num = item.integer("ROINumber")
        rois[num] = (
            item.text("ROIName", "", lenient=True) or f"ROI {num}",
            item.text("ROIGenerationAlgorithm", "", lenient=True),
            item.text("ROIDescription", "", lenient=True),
        )
    segments: list[Segment] = []
    issues: list[GeometryIssue] = []
    for pos, rc in enumerate(h.items("ROIContourSequence")):
        num = rc.integer("ReferencedROINumber")
        name, algo, desc = rois.get(num, (f"ROI {num}", "", ""))
        closed: list[npt.NDArray[np.float64]] = []
        lines: list[npt.NDArray[np.float64]] = []
        for c in rc.items("ContourSequence", lenient=True):
            values = c.numbers("ContourData")
            if len(values) % 3 or len(values) < 3:
                raise c.error(
                    "ContourData", values, f"has {len(values)} values, not (x, y, z) triplets"
                )
            pts = np.asarray(values, float).reshape(-1, 3)
            if float(np.abs(pts).max()) > MAX_POSITION_MM:  # as for (0020,0032): not a patient's
                raise c.error(
                    "ContourData",
                    values,
                    f"is implausible: a point more than {MAX_POSITION_MM:g} mm from the origin",
                )
            kind = c.text("ContourGeometricType", "", lenient=True).upper()
            lines.append(pts)
            if kind == "CLOSED_PLANAR":
                closed.append(pts)
        mask, problems = rasterize_contours(closed, grid)
        for msg in problems:
            issues.append(
                GeometryIssue("contour-not-filled", f"ROI {num} '{name}': {msg}", action="ignored")
            )
        color_v = rc.integers("ROIDisplayColor", 3, None, low=0, high=255, lenient=True)
        if color_v is not None:
            color = tuple(float(v) / 255.0 for v in color_v)
            source = "ROIDisplayColor"
        else:
            color, source = palette_color(pos), "palette"
        segments.append(
            Segment(
                number=num,
                label=name,
                color=color,  # type: ignore[arg-type]
                mask=mask,
                algorithm=algo,
                color_source=source,
                contours=tuple(lines),
                description=desc,
            ).cropped()
        )
    ref_series = ""
    for_uid = ""
    sops: list[str] = []
    for fr in h.items("ReferencedFrameOfReferenceSequence", lenient=True):
        for_uid = for_uid or fr.text("FrameOfReferenceUID", "", lenient=True)
        for st in fr.items("RTReferencedStudySequence", lenient=True):
            for se in st.items("RTReferencedSeriesSequence", lenient=True):
                ref_series = ref_series or se.text("SeriesInstanceUID", "", lenient=True)
                for im in se.items("ContourImageSequence", lenient=True):
                    sops.append(im.text("ReferencedSOPInstanceUID", "", lenient=True))
    return Segmentation(
        grid=grid,
        segments=tuple(segments),
        kind="RTSTRUCT",
        source=label,
        frame_of_reference_uid=for_uid,
        referenced_series_uid=ref_series,
        referenced_sop_uids=tuple(sops),
        issues=tuple(issues),
        description=h.text("StructureSetLabel", "", lenient=True),
    )
