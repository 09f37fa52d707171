"""Multi-frame files: enhanced CT/MR (per-frame functional groups) and legacy multi-frame.

Each frame becomes a :class:`~volumeviz.model.series.SliceRef` with its own geometry:

- Enhanced (Shared/Per-frame Functional Groups): (0020,9113) Plane Position, (0020,9116) Plane
  Orientation, (0028,9110) Pixel Measures and (0028,9145) Pixel Value Transformation are taken per
  frame (per-frame group first, then shared, then the top level). Frames are told apart by their
  (0020,9157) Dimension Index Values with the spatial indices (In-Stack Position, Image
  Position) left out, e.g. echo, b-value, "Private ImageTypeMR": the splitter then makes one
  volume per value.
- Legacy multi-frame (no functional groups): frames share the top-level geometry; a single
  (0020,0032) cannot place several frames, so such frames are stacked in file order only when the
  file gives no position at all (see :func:`volumeviz.io.series.plan_series`).

Decision for the ``syntax/emri_10f_*`` files (Enhanced MR Image Storage with no functional groups,
no position, no pixel spacing): they load as one 10-slice volume in file order with a
``no-geometry`` issue (spacing from (0018,0088) Spacing Between Slices, 1 mm in-plane).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from volumeviz.model.series import SliceRef

__all__ = ["frame_slices"]

_POSITION_POINTERS = {0x00209057, 0x00200032, 0x00209056}  # in-stack position, IPP, stack id


def _item(seq_owner: Dataset | None, keyword: str) -> Dataset | None:
    if seq_owner is None:
        return None
    seq = seq_owner.get(keyword)
    if not seq:
        return None
    item: Dataset = seq[0]
    return item


def _group(per: Dataset | None, shared: Dataset | None, keyword: str) -> Dataset | None:
    return _item(per, keyword) or _item(shared, keyword)


def _floats(values: Any, n: int) -> tuple[float, ...] | None:
    if values is None:
        return None
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        return None
    return out if len(out) == n else None


def frame_slices(ds: Dataset, base: SliceRef) -> list[SliceRef]:
    """One :class:`SliceRef` per frame of the multi-frame dataset ``ds``.

    ``base`` carries the file-level fields (path, rows, top-level geometry and rescale).
    """
    n = base.n_frames
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is None and shared is None:
        # legacy multi-frame: every frame shares the top-level header
        fip = str(ds.get("FrameIncrementPointer", ""))
        legacy_key = (
            (*base.split_key, ("(0028,0009) Frame Increment Pointer", fip))
            if fip
            else base.split_key
        )
        offsets = ds.get("GridFrameOffsetVector")
        normal = base.normal
        if base.ipp is not None and normal is not None and offsets is not None:
            try:
                offs = [float(v) for v in offsets]
            except (TypeError, ValueError):
                offs = []
            if len(offs) == n:  # RT Dose style: frame f at IPP + offset_f * normal
                origin = np.asarray(base.ipp, float)
                return [
                    dataclasses.replace(
                        base,
                        frame=f,
                        ipp=tuple(float(v) for v in origin + offs[f] * normal),  # type: ignore[arg-type]
                        split_key=legacy_key,
                    )
                    for f in range(n)
                ]
        # one (0020,0032) cannot place several frames: keep them in file order, unplaced
        one_ipp = base.ipp if n == 1 else None
        return [
            dataclasses.replace(base, frame=f, ipp=one_ipp, split_key=legacy_key) for f in range(n)
        ]

    labels: dict[int, str] = {}
    spatial: set[int] = set()
    for pos, item in enumerate(ds.get("DimensionIndexSequence") or ()):
        ptr = item.get("DimensionIndexPointer")
        label = str(item.get("DimensionDescriptionLabel", "")) or f"dimension {pos + 1}"
        labels[pos] = label
        if ptr is not None and int(ptr) in _POSITION_POINTERS:
            spatial.add(pos)

    out: list[SliceRef] = []
    for f in range(n):
        per = per_frame[f] if per_frame is not None and f < len(per_frame) else None
        pos_item = _group(per, shared, "PlanePositionSequence")
        ori_item = _group(per, shared, "PlaneOrientationSequence")
        meas = _group(per, shared, "PixelMeasuresSequence")
        pvt = _group(per, shared, "PixelValueTransformationSequence")
        content = _item(per, "FrameContentSequence")
        ftype_item = _group(per, shared, "MRImageFrameTypeSequence") or _group(
            per, shared, "CTImageFrameTypeSequence"
        )
        ipp = _floats(pos_item.get("ImagePositionPatient"), 3) if pos_item else base.ipp
        iop = _floats(ori_item.get("ImageOrientationPatient"), 6) if ori_item else base.iop
        ps = _floats(meas.get("PixelSpacing"), 2) if meas else base.pixel_spacing
        slope, intercept = base.slope, base.intercept
        if pvt is not None:
            slope = float(pvt.get("RescaleSlope", slope) or slope)
            intercept = float(pvt.get("RescaleIntercept", intercept) or intercept)
        key: list[tuple[str, str]] = []
        if content is not None:
            div = content.get("DimensionIndexValues")
            if div is not None:
                values = list(div) if not isinstance(div, int) else [div]
                for pos, v in enumerate(values):
                    if pos not in spatial:
                        key.append((f"dimension index '{labels.get(pos, pos + 1)}'", str(v)))
            tpi = content.get("TemporalPositionIndex")
            if tpi is not None and not key:
                key.append(("(0020,9128) Temporal Position Index", str(tpi)))
        if ftype_item is not None and not key:
            ft = ftype_item.get("FrameType")
            if ft:
                key.append(("(0008,9007) Frame Type", "\\".join(str(v) for v in ft)))
        echo = _item(per, "MREchoSequence")
        if echo is not None and not key and echo.get("EffectiveEchoTime") is not None:
            key.append(("(0018,9082) Effective Echo Time", str(echo.get("EffectiveEchoTime"))))
        out.append(
            dataclasses.replace(
                base,
                frame=f,
                ipp=ipp,  # type: ignore[arg-type]
                iop=iop,  # type: ignore[arg-type]
                pixel_spacing=ps,  # type: ignore[arg-type]
                slope=slope,
                intercept=intercept,
                split_key=tuple(key),
                instance_number=f + 1,
            )
        )
    return out
