"""Split a DICOM series into stackable parts, sort the slices and check their geometry.

Rules (see DESIGN.md):

- Slices are sorted by (0020,0032) Image Position (Patient) projected on the slice normal
  (row x column cosines of (0020,0037)). Never by Instance Number, Slice Location or file name.
- The slice spacing comes from those positions, never from (0018,0050) Slice Thickness.
- One Series Instance UID is split where it holds localizers, different orientations or
  different matrix sizes; every split says why. Repeated positions told apart by time / echo /
  dimension index ... are extra dimensions of one series (:mod:`volumeviz.io.dimensions`).
- Measured in mm (or degrees): missing slices, uneven spacing, gantry tilt (a sheared stack, seen
  from the positions and orientation, whatever (0018,1120) says), non-parallel slices, duplicate
  positions. Each becomes a :class:`~volumeviz.model.volume.GeometryIssue`; the plan then
  resamples to a regular grid, or ``strict=True`` refuses.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import SeriesGeometryError
from volumeviz.io.dimensions import find_dimensions, position_key
from volumeviz.model.geometry import Geometry, GeometryKind
from volumeviz.model.orientation import plane_name
from volumeviz.model.series import DimensionLayout, SeriesInfo, SliceRef, StackPlan
from volumeviz.model.volume import GeometryIssue

__all__ = ["plan_series", "plan_stack", "split_parts", "split_series"]

#: slices whose normals differ by more than this (degrees) are different orientations (split)
ORIENTATION_SPLIT_DEG = 5.0
#: positions closer than this (mm, along the normal) are "the same position"
DUPLICATE_TOL_MM = 0.01
#: a resampling grid larger than GRID_FREE_VOXELS may hold at most this many times the voxels
#: of the slices it comes from (a tilt or a few missing slices grow it 1-3x)
MAX_GRID_GROWTH = 16
#: grids up to this size (64 MiB as float32) are resampled whatever their growth: a few
#: sparse slices far apart (e.g. 4 slices of 16x16 spread over 200 mm) are cheap to fill in
GRID_FREE_VOXELS = 2**24
#: and at most this many voxels (as discover.MAX_VOXELS: 2 GiB of int16)
MAX_GRID_VOXELS = 2**31 // 2
#: slice steps within this many mm of the median are even whatever ``spacing_rtol`` says:
#: scanners write (0020,0032) with 2 decimals, so 0.625 mm steps read as 0.62 / 0.63
POSITION_ROUNDING_MM = 0.015


def _normal_of(s: SliceRef) -> npt.NDArray[np.float64] | None:
    return s.normal


def _orientation_groups(slices: list[SliceRef]) -> list[list[SliceRef]]:
    groups: list[tuple[npt.NDArray[np.float64] | None, list[SliceRef]]] = []
    for s in slices:
        n = _normal_of(s)
        for ref, members in groups:
            if n is None and ref is None:
                members.append(s)
                break
            if n is not None and ref is not None:
                cos = abs(float(n @ ref))
                if math.degrees(math.acos(min(1.0, cos))) <= ORIENTATION_SPLIT_DEG:
                    members.append(s)
                    break
        else:
            groups.append((n, [s]))
    placed = [m for ref, m in groups if ref is not None]
    unplaced = [m for ref, m in groups if ref is None]
    if placed and unplaced:
        # slices without (0020,0037) but with the main stack's matrix belong to it: keep them
        # there, so that planning refuses the series naming them (never dropped silently);
        # other matrices (a dose screen, a secondary capture) stay a part of their own
        main = max(placed, key=len)
        shape = (main[0].rows, main[0].cols)
        same = [s for s in unplaced[0] if (s.rows, s.cols) == shape]
        other = [s for s in unplaced[0] if (s.rows, s.cols) != shape]
        main.extend(same)
        return placed + ([other] if other else [])
    return [m for _, m in groups]


def _storage_forms(part: list[SliceRef]) -> list[tuple[list[SliceRef], str]]:
    """Split multi-frame from single-frame images where both hold the same positions.

    One Series Instance UID may hold the same scan twice: as an enhanced multi-frame object and
    as classic single-frame files (a scanner or PACS export of both, e.g. Philips "classic" and
    "enhanced" DICOM of one series). Stacked together every position would repeat and the
    volumes of one copy would pose as an extra dimension of the other. dcm2niix converts the
    two copies separately; so do we: two parts, each with its own dimensions. Multi-frame and
    single-frame images at *different* positions stay one part (nothing repeats).
    """
    multi = [s for s in part if s.frame is not None]
    single = [s for s in part if s.frame is None]
    if not multi or not single:
        return [(part, "")]
    keys = {position_key(s) for s in multi}
    if not any(position_key(s) in keys for s in single):
        return [(part, "")]
    files = len({s.path for s in multi})
    return [
        (
            multi,
            f"{len(multi)} frames of {files} multi-frame file(s), stored also as single-frame",
        ),
        (single, f"{len(single)} single-frame files, stored also as multi-frame"),
    ]


def _describe_orientation(s: SliceRef) -> str:
    n = s.normal
    return "no orientation" if n is None else plane_name(n)


def split_series(slices: Sequence[SliceRef]) -> list[tuple[list[SliceRef], str]]:
    """Split the slices of one Series Instance UID into stackable parts, each with a reason.

    :func:`split_parts` without the extra-dimension layouts (see there).
    """
    return [(part, why) for part, why, _ in split_parts(slices)]


def split_parts(
    slices: Sequence[SliceRef], header: dict[str, Any] | None = None
) -> list[tuple[list[SliceRef], str, DimensionLayout | None]]:
    """Split the slices of one Series Instance UID into parts, each with a reason and dimensions.

    Order of splits: localizers, orientation (normals more than 5° apart), matrix size
    (Rows x Columns), then the same positions stored both in multi-frame and in single-frame
    files (two copies of one scan, converted apart as dcm2niix does). Repeated positions inside
    a part are *not* split into parts: they become extra dimensions (time, echo, ...) of one
    part, decided by :func:`volumeviz.io.dimensions.find_dimensions` (which says which rule it
    used); only volumes whose geometry differs become parts of their own. The reason is "" for
    a series that needed no split. Largest parts come first.
    """
    slices = list(slices)
    header = header or {}
    out: list[tuple[list[SliceRef], str, DimensionLayout | None]] = []
    locs = [s for s in slices if s.is_localizer]
    rest = [s for s in slices if not s.is_localizer]
    if locs and rest:
        itype = "\\".join(locs[0].image_type)
        out.append((locs, f"localizer: (0008,0008) Image Type {itype}", None))
    elif locs:
        rest = locs
    groups = _orientation_groups(rest)
    multi_orient = len(groups) > 1
    for g in groups:
        sizes = Counter((s.rows, s.cols) for s in g)
        for (rows, cols), _ in sizes.most_common():
            part = [s for s in g if (s.rows, s.cols) == (rows, cols)]
            reasons = []
            if multi_orient:
                reasons.append(f"orientation {_describe_orientation(part[0])}")
            if len(sizes) > 1:
                reasons.append(f"matrix {cols}x{rows}")
            for form, storage in _storage_forms(part):
                r0 = [*reasons, storage] if storage else reasons
                for piece, why, layout in find_dimensions(form, header):
                    r = [*r0, why] if why else r0
                    out.append((piece, "; ".join(r), layout))
    if len(out) > 1:
        names = ", ".join(f"{len(p)} slice(s)" for p, _, _ in out)
        out = [(p, r or f"one of {len(out)} parts ({names})", lay) for p, r, lay in out]
    out.sort(key=lambda pr: (pr[0][0].is_localizer, -len(pr[0])))
    return out


def _unit(v: npt.ArrayLike) -> npt.NDArray[np.float64]:
    a = np.asarray(v, float)
    return a / float(np.linalg.norm(a))


def _no_geometry_plan(slices: list[SliceRef], info: SeriesInfo) -> StackPlan:
    s0 = slices[0]
    geometry = s0.geometry or Geometry.unknown("no (0020,0032) / (0020,0037)")
    spacing = geometry.pixel_spacing if geometry.spacing_known else None
    ps = spacing or s0.pixel_spacing
    di, dj = (ps[1], ps[0]) if ps else (1.0, 1.0)
    dk = info.header.get("spacing_between_slices") or info.header.get("slice_thickness") or 1.0
    fip = info.header.get("frame_increment_pointer", "")
    in_time = "0018,1063" in fip or "(0018, 1063)" in fip
    issues = []
    if geometry.kind is GeometryKind.PROJECTION:
        frames = f"; {len(slices)} frames in file order" if len(slices) > 1 else ""
        issues.append(
            GeometryIssue(
                "projection",
                f"{info.modality or 'projection'} image, not placed in patient space: "
                f"{geometry.describe()}{frames}",
                action="" if geometry.spacing_known else "assumed",
            )
        )
        if len(slices) > 1:
            dk = 1.0
    else:
        missing = []
        if s0.ipp is None:
            missing.append("(0020,0032) Image Position (Patient)")
        if s0.iop is None:
            missing.append("(0020,0037) Image Orientation (Patient)")
        if ps is None:
            missing.append("(0028,0030) Pixel Spacing")
        if in_time and len(slices) == 1:
            what = (
                f"one frame of a series in time ((0028,0009) Frame Increment Pointer {fip}), "
                f"assumed spacing {di:g} x {dj:g} mm"
            )
        else:
            what = (
                f"{len(slices)} "
                + (
                    f"frames are a series in time ((0028,0009) Frame Increment Pointer {fip})"
                    if in_time
                    else "slices in file order"
                )
                + f", stacked with assumed spacing {di:g} x {dj:g} x {dk:g} mm"
            )
        tags = " / ".join(m.split(" ", 1)[0] for m in missing)
        short = f"no {tags}; {di:g} x {dj:g} x {dk:g} mm and identity orientation assumed"
        geometry = dataclasses.replace(geometry, note=short)
        issues.append(
            GeometryIssue(
                "no-geometry",
                f"no {' / '.join(missing)}: not placed in patient space; {what}, "
                "identity orientation",
                action="assumed",
            )
        )
    if len(slices) == 1:
        issues.append(GeometryIssue("single-slice", "one slice only", action=""))
    return StackPlan(
        order=tuple(range(len(slices))),
        origin=(0.0, 0.0, 0.0),
        spacing=(float(di), float(dj), float(dk)),
        direction=np.eye(3),
        size=(s0.cols, s0.rows, len(slices)),
        issues=tuple(issues),
        pixel_spacing=(float(di), float(dj)),
        geometry=geometry,
    )


def plan_stack(
    slices: Sequence[SliceRef],
    *,
    spacing_rtol: float = 0.01,
    perpendicular_tol: float = 1e-3,
    slice_thickness: float = 0.0,
    gantry_tilt_tag: float = 0.0,
) -> StackPlan:
    """Sort slices along their normal, measure the geometry, and plan a regular grid.

    Parameters
    ----------
    slices
        Slices of one part of a series; all must have position, orientation and pixel spacing.
    spacing_rtol
        Relative tolerance for slice steps to count as even (default 1 %; at least
        ``POSITION_ROUNDING_MM`` = 0.015 mm, the rounding of positions written with 2 decimals).
    perpendicular_tol
        Tolerance (radians; also the sine of the shear angle) for slices to count as parallel and
        stacked along their normal (default 1e-3, about 0.06°).
    slice_thickness
        (0018,0050), used only as the k spacing of a single slice.
    gantry_tilt_tag
        (0018,1120) Gantry/Detector Tilt in degrees, only quoted in the messages.

    Returns
    -------
    StackPlan
        ``resample`` is True when the slices are not on a regular grid; its issues say why.
    """
    slices = list(slices)
    s0 = slices[0]
    for s in slices:
        if s.ipp is None:
            raise SeriesGeometryError(
                f"{s.label}: no (0020,0032) Image Position (Patient); slice cannot be placed"
            )
        if s.iop is None:
            raise SeriesGeometryError(
                f"{s.label}: no (0020,0037) Image Orientation (Patient); slice cannot be placed"
            )
    ps = s0.pixel_spacing
    issues: list[GeometryIssue] = []
    geometry = Geometry.patient("(0028,0030) Pixel Spacing" if ps is not None else "")
    if ps is None:
        ps = (1.0, 1.0)
        issues.append(
            GeometryIssue(
                "no-pixel-spacing",
                "no (0028,0030) Pixel Spacing: 1 mm assumed in-plane (distances are not real)",
                action="assumed",
            )
        )
    di, dj = float(ps[1]), float(ps[0])
    for s in slices:
        if s.pixel_spacing is not None and not np.allclose(s.pixel_spacing, ps, rtol=spacing_rtol):
            raise SeriesGeometryError(
                f"{s.label}: (0028,0030) Pixel Spacing {list(s.pixel_spacing)} differs from "
                f"{list(ps)} in {s0.label}"
            )
    row = _unit(s0.iop[:3])  # type: ignore[index]
    col = _unit(s0.iop[3:])  # type: ignore[index]
    if abs(float(row @ col)) > 1e-2:
        raise SeriesGeometryError(
            f"{s0.label}: (0020,0037) Image Orientation (Patient) {list(s0.iop or ())} has "
            f"row and column cosines that are not perpendicular (dot {float(row @ col):.3f})"
        )
    col = _unit(col - (col @ row) * row)
    normal = np.cross(row, col)
    ipps = np.array([s.ipp for s in slices], float)
    dist = ipps @ normal
    order = np.argsort(dist, kind="stable")
    rows_all = np.array([_unit(s.iop[:3]) for s in slices])  # type: ignore[index]
    cols_all = np.array([_unit(s.iop[3:]) for s in slices])  # type: ignore[index]
    normals = np.cross(rows_all, cols_all)

    # non-parallel slices
    cosines = np.clip(np.abs(normals @ normal), 0.0, 1.0)
    max_angle = float(np.degrees(np.arccos(cosines.min())))
    non_parallel = math.radians(max_angle) > perpendicular_tol
    if non_parallel:
        issues.append(
            GeometryIssue(
                "non-parallel",
                f"slices are not parallel: normals differ by up to {max_angle:.2f}°",
                size=round(max_angle, 3),
                unit="deg",
            )
        )

    # duplicate positions: keep the first slice found at each position
    keep: list[int] = []
    dropped: list[int] = []
    for idx in order:
        if keep and abs(dist[idx] - dist[keep[-1]]) < DUPLICATE_TOL_MM:
            dropped.append(int(idx))
        else:
            keep.append(int(idx))
    if dropped and len(keep) > 1 and len(slices) % len(keep) == 0:
        per = len(slices) // len(keep)
        counts = Counter(int(np.argmin(np.abs(dist[keep] - dist[i]))) for i in order)
        if per > 1 and set(counts.values()) == {per}:
            raise SeriesGeometryError(
                f"{s0.label}: each of {len(keep)} slice positions holds {per} images and "
                "nothing ((0018,0086) Echo Numbers, (0020,0100) Temporal Position Identifier, "
                "(0018,1060) Trigger Time, (0018,9087) Diffusion b-value, (0020,0012) "
                "Acquisition Number, (0008,0008) Image Type) tells the volumes apart; "
                "they cannot be separated safely"
            )
    if dropped:
        names = ", ".join(slices[i].label for i in dropped[:3]) + (
            " ..." if len(dropped) > 3 else ""
        )
        issues.append(
            GeometryIssue(
                "duplicate-position",
                f"{len(dropped)} slice(s) repeat a position already filled (within "
                f"{DUPLICATE_TOL_MM} mm) and nothing tells them apart; kept the first found, "
                f"dropped {names}",
                size=float(len(dropped)),
                unit="",
                action="dropped",
            )
        )
    order_arr = np.asarray(keep, dtype=int)
    d = dist[order_arr]
    pos = ipps[order_arr]
    n = len(order_arr)
    ni, nj = s0.cols, s0.rows

    if n == 1:
        dk = slice_thickness if slice_thickness > 0 else 1.0
        issues.append(
            GeometryIssue(
                "single-slice",
                f"one slice: k spacing set to (0018,0050) Slice Thickness {dk:g} mm"
                if slice_thickness > 0
                else "one slice: k spacing unknown, 1 mm assumed",
                action="",  # a single 2D image: its k spacing changes no position
            )
        )
        direction = np.column_stack([row, col, normal])
        return StackPlan(
            order=tuple(int(i) for i in order_arr),
            origin=tuple(float(v) for v in pos[0]),  # type: ignore[arg-type]
            spacing=(di, dj, float(dk)),
            direction=direction,
            size=(ni, nj, 1),
            issues=tuple(issues),
            positions=pos,
            rows=rows_all[order_arr],
            cols=cols_all[order_arr],
            pixel_spacing=(di, dj),
            geometry=geometry,
        )

    steps = np.diff(d)
    # shear (gantry tilt): in-plane drift of the positions per mm along the normal
    rel = pos - pos[0]
    along = rel @ normal
    a = rel @ row
    b = rel @ col
    span = float(along[-1] - along[0])
    shear_a = float(np.polyfit(along, a, 1)[0]) if n > 1 else 0.0
    shear_b = float(np.polyfit(along, b, 1)[0]) if n > 1 else 0.0
    shear = math.hypot(shear_a, shear_b)
    tilt_deg = math.degrees(math.atan(shear))
    drift = float(np.max(np.hypot(a - shear_a * along, b - shear_b * along)))
    tilted = shear > perpendicular_tol
    if tilted:
        tag = (
            f"; (0018,1120) Gantry/Detector Tilt says {gantry_tilt_tag:g}°"
            if gantry_tilt_tag
            else "; (0018,1120) says none: seen from positions and orientation"
        )
        issues.append(
            GeometryIssue(
                "gantry-tilt",
                f"gantry tilt {tilt_deg:.1f}°: slice positions drift "
                f"{shear * span:.1f} mm in-plane over {span:.1f} mm{tag}",
                size=round(tilt_deg, 3),
                unit="deg",
            )
        )
    if drift > max(perpendicular_tol * max(span, 1.0), 0.01):
        issues.append(
            GeometryIssue(
                "misaligned",
                f"slice positions wander up to {drift:.2f} mm in-plane off a straight stack",
                size=round(drift, 3),
                unit="mm",
            )
        )

    nominal = float(np.median(steps))
    if nominal <= 0:  # pragma: no cover - duplicates were removed
        raise SeriesGeometryError(f"{s0.label}: slice positions do not advance along the normal")
    ratios = steps / nominal
    tol = max(spacing_rtol * nominal, POSITION_ROUNDING_MM)
    uneven = bool(np.any(np.abs(steps - nominal) > tol))
    gaps = [
        (k, r)
        for k, r in enumerate(ratios)
        if r > 1.5 and abs(r - round(r)) < 0.1 and abs(steps[k] - nominal) > tol
    ]
    other = [
        k
        for k, r in enumerate(ratios)
        if abs(steps[k] - nominal) > tol and k not in {g for g, _ in gaps}
    ]
    if gaps:
        n_missing = int(sum(round(r) - 1 for _, r in gaps))
        where = ", ".join(f"after k={k} ({steps[k]:.2f} mm)" for k, _ in gaps[:5])
        issues.append(
            GeometryIssue(
                "missing-slices",
                f"{n_missing} slice(s) missing: gap {where} where the step is {nominal:.2f} mm",
                size=round(float(max(steps[k] for k, _ in gaps)), 4),
                unit="mm",
            )
        )
    if other:
        issues.append(
            GeometryIssue(
                "uneven-spacing",
                f"slice spacing varies {steps.min():.2f}–{steps.max():.2f} mm "
                f"(median {nominal:.2f} mm)",
                size=round(float(steps.max() - steps.min()), 4),
                unit="mm",
            )
        )
    resample = (
        tilted or non_parallel or uneven or drift > max(perpendicular_tol * max(span, 1.0), 0.01)
    )

    direction = np.column_stack([row, col, normal])
    if not resample:
        dk = span / (n - 1)
        return StackPlan(
            order=tuple(int(i) for i in order_arr),
            origin=tuple(float(v) for v in pos[0]),  # type: ignore[arg-type]
            spacing=(di, dj, float(dk)),
            direction=direction,
            size=(ni, nj, n),
            issues=tuple(issues),
            positions=pos,
            rows=rows_all[order_arr],
            cols=cols_all[order_arr],
            pixel_spacing=(di, dj),
            geometry=geometry,
        )

    # a regular grid that holds every slice: same row/col axes, k along the normal
    nk = max(2, round(span / nominal) + 1)
    dk = span / (nk - 1)
    corners_a = np.concatenate([a, a + (ni - 1) * di])
    corners_b = np.concatenate([b, b + (nj - 1) * dj])
    # whole voxels from the first slice's grid, so that its pixels are copied, not interpolated;
    # in-plane offsets within the rounding of (0020,0032) (written with few decimals) are no
    # offset: they must not add a column of padding and move the grid by a voxel
    ta = max(1e-6, POSITION_ROUNDING_MM / di)
    tb = max(1e-6, POSITION_ROUNDING_MM / dj)
    a0 = math.floor(float(corners_a.min()) / di + ta) * di
    b0 = math.floor(float(corners_b.min()) / dj + tb) * dj
    ni_t = math.ceil((float(corners_a.max()) - a0) / di - ta) + 1
    nj_t = math.ceil((float(corners_b.max()) - b0) / dj - tb) + 1
    _check_grid(slices, order_arr, ipps, (ni_t, nj_t, nk), (ni, nj, n))
    origin = pos[0] + a0 * row + b0 * col
    what = [i.code for i in issues if i.code not in ("no-pixel-spacing",)]
    issues.append(
        GeometryIssue(
            "resampled",
            f"resampled ({', '.join(what)}) to a regular {ni_t}x{nj_t}x{nk} grid, "
            f"{di:.4g} x {dj:.4g} x {dk:.4g} mm, along the slice normal (linear)",
            size=round(dk, 4),
            unit="mm",
            action="resampled",
        )
    )
    issues = [
        i if i.action or i.code == "resampled" else _with_action(i, "resampled") for i in issues
    ]
    return StackPlan(
        order=tuple(int(i) for i in order_arr),
        origin=tuple(float(v) for v in origin),  # type: ignore[arg-type]
        spacing=(di, dj, float(dk)),
        direction=direction,
        size=(int(ni_t), int(nj_t), int(nk)),
        resample=True,
        issues=tuple(issues),
        positions=pos,
        rows=rows_all[order_arr],
        cols=cols_all[order_arr],
        pixel_spacing=(di, dj),
        geometry=geometry,
    )


def _check_grid(
    slices: Sequence[SliceRef],
    kept: npt.NDArray[np.intp],
    ipps: npt.NDArray[np.float64],
    grid: tuple[int, int, int],
    source: tuple[int, int, int],
) -> None:
    """Refuse a resampling grid far larger than the data it is made from.

    A regular grid that holds every slice grows with the slices' spread; one slice placed far
    from the others (a hostile or corrupt (0020,0032)) would make it enormous. The grid may hold
    at most :data:`MAX_GRID_VOXELS` voxels, and beyond :data:`GRID_FREE_VOXELS` at most
    :data:`MAX_GRID_GROWTH` times the source voxels; otherwise the slice farthest from the median
    position is named as implausible.

    Raises
    ------
    SeriesGeometryError
        The grid exceeds either bound.
    """
    ni_t, nj_t, nk = grid
    voxels = ni_t * nj_t * nk
    own = max(1, source[0] * source[1] * source[2])
    if voxels <= MAX_GRID_VOXELS and (
        voxels <= GRID_FREE_VOXELS or voxels <= MAX_GRID_GROWTH * own
    ):
        return
    pos = ipps[kept]
    far = int(np.argmax(np.linalg.norm(pos - np.median(pos, axis=0), axis=1)))
    worst = slices[int(kept[far])]
    shown = "\\".join(f"{v:g}" for v in (worst.ipp or ()))
    raise SeriesGeometryError(
        f"{worst.label}: (0020,0032) Image Position (Patient) '{shown}' is implausible: with "
        f"the other {len(kept) - 1} slice(s) it needs a {ni_t}x{nj_t}x{nk} grid ({voxels} "
        f"voxels, {voxels / own:.0f}x the {own} voxels of the slices themselves); refusing to "
        f"resample beyond {MAX_GRID_GROWTH}x (above {GRID_FREE_VOXELS} voxels) or "
        f"{MAX_GRID_VOXELS} voxels"
    )


def _check_plan(plan: StackPlan, label: str) -> None:
    """The plan must give a valid Volume: finite origin, positive spacing, orthonormal axes."""
    origin = np.asarray(plan.origin, float)
    spacing = np.asarray(plan.spacing, float)
    d = np.asarray(plan.direction, float)
    if not np.all(np.isfinite(origin)):
        raise SeriesGeometryError(f"{label}: the planned origin {origin.tolist()} is not finite")
    if not (np.all(np.isfinite(spacing)) and np.all(spacing > 0)):
        raise SeriesGeometryError(
            f"{label}: the planned voxel spacing {spacing.tolist()} mm is not positive; "
            "(0028,0030) Pixel Spacing / (0018,0088) Spacing Between Slices / slice positions "
            "give no usable spacing"
        )
    if not (np.all(np.isfinite(d)) and np.allclose(d.T @ d, np.eye(3), atol=1e-3)):
        raise SeriesGeometryError(
            f"{label}: (0020,0037) Image Orientation (Patient) gives no orthonormal axes "
            f"({d.round(4).tolist()})"
        )


def _with_action(issue: GeometryIssue, action: str) -> GeometryIssue:
    if issue.code in ("no-pixel-spacing",):
        return issue
    return GeometryIssue(issue.code, issue.message, issue.size, issue.unit, action)


def plan_series(
    info: SeriesInfo,
    *,
    spacing_rtol: float = 0.01,
    perpendicular_tol: float = 1e-3,
) -> SeriesInfo:
    """Fill ``info.plan`` (or ``info.refusal`` with one line) from its slices' headers.

    A series whose slices carry no position/orientation at all is stacked only when its slices
    come from a single file (file order is trusted only inside one file), with a
    ``no-geometry`` issue; several files without positions cannot be sorted and are refused.
    """
    slices = info.slices
    if not slices:
        info.refusal = f"series {info.key}: no slices"
        return info
    if info.dims is not None:
        return _plan_dimensions(
            info, spacing_rtol=spacing_rtol, perpendicular_tol=perpendicular_tol
        )
    bad_samples = [s for s in slices if s.samples not in (1, 3)]
    if bad_samples:
        s = bad_samples[0]
        info.refusal = f"{s.label}: (0028,0002) Samples per Pixel {s.samples} is not supported"
        return info
    no_geo = [s for s in slices if s.ipp is None or s.iop is None]
    if no_geo and len(no_geo) == len(slices) and len({s.path for s in slices}) == 1:
        try:
            plan = _no_geometry_plan(slices, info)
            _check_plan(plan, slices[0].path)
        except SeriesGeometryError as exc:
            info.refusal = str(exc)
        else:
            info.plan = plan
        return info
    try:
        plan = plan_stack(
            slices,
            spacing_rtol=spacing_rtol,
            perpendicular_tol=perpendicular_tol,
            slice_thickness=float(info.header.get("slice_thickness") or 0.0),
            gantry_tilt_tag=float(info.header.get("gantry_tilt") or 0.0),
        )
        _check_plan(plan, slices[0].path)
    except SeriesGeometryError as exc:
        info.refusal = str(exc)
    else:
        info.plan = plan
    return info


def _same_grid(a: StackPlan, b: StackPlan) -> bool:
    return (
        a.size == b.size
        and np.allclose(a.origin, b.origin, atol=0.01)
        and np.allclose(a.spacing, b.spacing, rtol=1e-4)
        and np.allclose(a.direction, b.direction, atol=1e-4)
        and a.has_geometry == b.has_geometry
    )


def _plan_dimensions(
    info: SeriesInfo, *, spacing_rtol: float, perpendicular_tol: float
) -> SeriesInfo:
    """Plan every volume of a series with extra dimensions; all must share one grid.

    A volume that cannot be planned, or lands on another grid, becomes missing (with the reason,
    also recorded as an issue); ``info.plan`` is the first volume's plan.
    """
    layout = info.dims
    assert layout is not None
    if not layout.dims:  # one volume left after incomplete ones were dropped: a plain stack
        only = next(iter(layout.cells.values()))
        info.slices = [info.slices[i] for i in only]
        info.dims = None
        plan_series(info, spacing_rtol=spacing_rtol, perpendicular_tol=perpendicular_tol)
        if info.plan is not None:
            info.plan = dataclasses.replace(info.plan, issues=info.plan.issues + layout.issues)
        return info
    plans: dict[tuple[int, ...], StackPlan] = {}
    extra: list[GeometryIssue] = []
    first: StackPlan | None = None
    for idx in sorted(layout.cells):
        part = SeriesInfo(
            key=info.key,
            uid=info.uid,
            number=info.number,
            modality=info.modality,
            description=info.description,
            slices=[info.slices[i] for i in layout.cells[idx]],
            header=info.header,
        )
        plan_series(part, spacing_rtol=spacing_rtol, perpendicular_tol=perpendicular_tol)
        label = " · ".join(d.label(k) for d, k in zip(layout.dims, idx, strict=True))
        why = ""
        if part.plan is None:
            why = part.refusal
        elif first is not None and not _same_grid(part.plan, first):
            why = (
                f"grid {part.plan.size} at {tuple(round(v, 2) for v in part.plan.origin)} "
                f"differs from the first volume's {first.size} at "
                f"{tuple(round(v, 2) for v in first.origin)}"
            )
        if why:
            layout.missing[idx] = why
            extra.append(
                GeometryIssue("missing-volume", f"{label}: {why}; not loaded", action="dropped")
            )
            continue
        assert part.plan is not None
        first = first or part.plan
        plans[idx] = part.plan
    for idx in list(layout.cells):
        if idx not in plans:
            del layout.cells[idx]
    if not plans:
        info.refusal = next(iter(layout.missing.values()), f"series {info.key}: no volume")
        return info
    layout.issues = layout.issues + tuple(extra)
    layout.plans = {
        idx: dataclasses.replace(p, issues=p.issues + layout.issues) for idx, p in plans.items()
    }
    info.plan = layout.plans[layout.first]
    return info
