"""Multi-frame files: enhanced CT/MR (per-frame functional groups) and legacy multi-frame.

Each frame becomes a :class:`~volumeviz.model.series.SliceRef` with its own geometry:

- Enhanced (Shared/Per-frame Functional Groups): (0020,9113) Plane Position, (0020,9116) Plane
  Orientation, (0028,9110) Pixel Measures and (0028,9145) Pixel Value Transformation are taken per
  frame (per-frame group first, then shared, then the top level). What tells a frame's volume
  apart is recorded in its ``split_key``: the (0020,9157) Dimension Index Values with the spatial
  indices (In-Stack Position, Image Position) left out, keyed by their (0020,9165) pointer, and
  the per-frame Temporal Position Index, Frame Type, Effective Echo Time, b-value, trigger delay,
  repetition time and acquisition time; :mod:`volumeviz.io.dimensions` makes the extra
  dimensions from them.
- Legacy multi-frame (no functional groups): frames share the top-level geometry; a single
  (0020,0032) cannot place several frames, so such frames are stacked in file order only when the
  file gives no position at all (see :func:`volumeviz.io.series.plan_series`).

Decision for the ``syntax/emri_10f_*`` files (Enhanced MR Image Storage with no functional groups,
no position, no pixel spacing): they load as one 10-slice volume in file order with a
``no-geometry`` issue (spacing from (0018,0088) Spacing Between Slices, 1 mm in-plane).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from volumeviz.io.header import Header
from volumeviz.model.series import SliceRef

__all__ = ["frame_slices"]

_POSITION_POINTERS = {0x00209057, 0x00200032, 0x00209056}  # in-stack position, IPP, stack id


def _group(per: Header | None, shared: Header | None, keyword: str) -> Header | None:
    """The functional group ``keyword``: the frame's own, else the shared one."""
    return (per.item(keyword) if per is not None else None) or (
        shared.item(keyword) if shared is not None else None
    )


def _frame_key(
    per: Header | None,
    shared: Header | None,
    labels: dict[int, str],
    pointers: dict[int, str],
    spatial: set[int],
    philips: bool,
) -> list[tuple[str, str]]:
    """The values that tell a frame's volume apart (read by :mod:`volumeviz.io.dimensions`).

    Non-spatial (0020,9157) Dimension Index Values (keyed by their (0020,9165) pointer), and the
    per-frame (or shared) standard values: Temporal Position Index, Frame Type, Effective Echo
    Time, b-value, repetition time, nominal cardiac trigger delay, frame acquisition time; and
    the Philips private per-frame label type (2005,1429) inside (2005,140F), which dcm2niix reads
    for ASL. Values that only inform are read leniently (a bad one is left out, with a note).
    """
    key: list[tuple[str, str]] = []
    content = per.item("FrameContentSequence") if per is not None else None
    if content is not None:
        div = content.integers("DimensionIndexValues", None, None)
        if div is not None:
            for pos, v in enumerate(div):
                if pos not in spatial:
                    ptr = pointers.get(pos, "(?)")
                    key.append((f"dimension index {ptr} '{labels.get(pos, pos + 1)}'", str(v)))
        for kw, tag in (
            ("TemporalPositionIndex", "(0020,9128) Temporal Position Index"),
            ("FrameAcquisitionDateTime", "(0018,9074) Frame Acquisition DateTime"),
        ):
            text = content.text(kw, lenient=True)
            if text:
                key.append((tag, text))
    ftype_item = _group(per, shared, "MRImageFrameTypeSequence") or _group(
        per, shared, "CTImageFrameTypeSequence"
    )
    if ftype_item is not None:
        ft = ftype_item.texts("FrameType", lenient=True)
        if ft:
            key.append(("(0008,9007) Frame Type", "\\".join(ft)))
    for group, kw, tag in (
        ("MREchoSequence", "EffectiveEchoTime", "(0018,9082) Effective Echo Time"),
        ("MRDiffusionSequence", "DiffusionBValue", "(0018,9087) Diffusion b-value"),
        ("MRTimingAndRelatedParametersSequence", "RepetitionTime", "(0018,0080) Repetition Time"),
        (
            "CardiacSynchronizationSequence",
            "NominalCardiacTriggerDelayTime",
            "(0020,9153) Nominal Cardiac Trigger Delay Time",
        ),
    ):
        item = _group(per, shared, group)
        if item is not None:
            value = item.number(kw, None, lenient=True)
            if value is not None:
                key.append((tag, f"{value:g}"))
    if philips and per is not None:
        private = per.item(0x2005140F, lenient=True)
        label = private.text(0x20051429, lenient=True).upper() if private is not None else ""
        if label:
            key.append(("(2005,1429) Philips label type", label))
    return key


def frame_slices(h: Header, base: SliceRef) -> list[SliceRef]:
    """One :class:`SliceRef` per frame of the multi-frame dataset behind ``h``.

    ``base`` carries the file-level fields (path, rows, top-level geometry and rescale).

    Raises
    ------
    HeaderError
        A functional-group value of the wrong type or range (e.g. a per-frame (0028,1053)
        Rescale Slope with two values, a (0020,9165) Dimension Index Pointer that is not a tag,
        a non-finite (0020,0032)); the message names the frame's item.
    """
    from volumeviz.io.discover import (
        MAX_POSITION_MM,
        MAX_RESCALE,
        orientation,
        pixel_spacing,
        position,
    )

    n = base.n_frames
    shared = h.item("SharedFunctionalGroupsSequence")
    per_frame = (
        h.items("PerFrameFunctionalGroupsSequence")
        if "PerFrameFunctionalGroupsSequence" in h
        else None
    )
    if per_frame is None and shared is None:
        # legacy multi-frame: every frame shares the top-level header
        fip = "\\".join(h.texts("FrameIncrementPointer", lenient=True))
        legacy_key = (
            (*base.split_key, ("(0028,0009) Frame Increment Pointer", fip))
            if fip
            else base.split_key
        )
        normal = base.normal
        if base.ipp is not None and normal is not None:
            offs = h.numbers(
                "GridFrameOffsetVector",
                None,
                (),
                low=-MAX_POSITION_MM,
                high=MAX_POSITION_MM,
                lenient=True,
            )
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
    pointers: dict[int, str] = {}
    spatial: set[int] = set()
    for pos, item in enumerate(h.items("DimensionIndexSequence")):
        ptr = item.pointer("DimensionIndexPointer", None)
        label = item.text("DimensionDescriptionLabel", lenient=True) or f"dimension {pos + 1}"
        labels[pos] = label
        if ptr is not None:
            pointers[pos] = f"({int(ptr) >> 16:04X},{int(ptr) & 0xFFFF:04X})"
        if ptr is not None and ptr in _POSITION_POINTERS:
            spatial.add(pos)
    philips = "philips" in h.text("Manufacturer", lenient=True).lower()

    out: list[SliceRef] = []
    for f in range(n):
        per = per_frame[f] if per_frame is not None and f < len(per_frame) else None
        pos_item = _group(per, shared, "PlanePositionSequence")
        ori_item = _group(per, shared, "PlaneOrientationSequence")
        meas = _group(per, shared, "PixelMeasuresSequence")
        pvt = _group(per, shared, "PixelValueTransformationSequence")
        voi = _group(per, shared, "FrameVOILUTSequence")
        ipp = position(pos_item) if pos_item else base.ipp
        iop = orientation(ori_item) if ori_item else base.iop
        ps = pixel_spacing(meas) if meas else base.pixel_spacing
        slope, intercept = base.slope, base.intercept
        if pvt is not None:
            slope = pvt.number("RescaleSlope", slope, low=-MAX_RESCALE, high=MAX_RESCALE)
            if slope == 0:
                raise pvt.error("RescaleSlope", 0, "is 0")
            intercept = pvt.number(
                "RescaleIntercept", intercept, low=-MAX_RESCALE, high=MAX_RESCALE
            )
        key = _frame_key(per, shared, labels, pointers, spatial, philips)
        have = {name for name, _ in key}
        key += [(name, v) for name, v in base.split_key if name not in have]
        out.append(
            dataclasses.replace(
                base,
                frame=f,
                ipp=ipp,
                iop=iop,
                pixel_spacing=ps,
                slope=slope,
                intercept=intercept,
                split_key=tuple(key),
                instance_number=f + 1,
                geometry=None if ipp is not None and iop is not None else base.geometry,
                window=_frame_window(voi) or base.window,
            )
        )
    return out


def _frame_window(voi: Header | None) -> tuple[float, float] | None:
    """A frame's first window from its (0028,9132) Frame VOI LUT Sequence item, if usable."""
    if voi is None:
        return None
    wcs = voi.numbers("WindowCenter", None, (), lenient=True)
    wws = voi.numbers("WindowWidth", None, (), lenient=True)
    if wcs and wws and wws[0] > 0:
        return (wcs[0], wws[0])
    return None
