"""Decide how a series whose positions repeat splits into volumes along extra dimensions.

A series holds several volumes when the same slice position appears more than once (fMRI, DWI,
dynamic, cardiac, multi-echo, magnitude/phase, ASL). :func:`find_dimensions` decides which
volume each slice belongs to, names the dimensions and gives their values, and says which rule it
used. Rules, in this order (the first that tells every repeat apart wins; several may combine,
e.g. time x label):

Standard DICOM
  1. (0020,0100) Temporal Position Identifier / (0020,9128) Temporal Position Index -> ``time``
  2. (0020,9157) Dimension Index Values of enhanced objects (non-spatial indices), named from
     their (0020,9165) Dimension Index Pointer
  3. (0018,0086) Echo Numbers / (0018,0081) Echo Time / (0018,9082) Effective Echo Time -> ``echo``
  4. (0008,0008) Image Type / (0008,9007) Frame Type -> ``part`` (magnitude, phase, real,
     imaginary) or ``type`` (e.g. magnitude and field map)
  5. (0018,9087) Diffusion b-value -> ``b-value``
  6. (0018,1060) Trigger Time / (0020,9153) Nominal Cardiac Trigger Delay Time -> ``phase``
     (cardiac). Where it varies from slice to slice within a volume (slice timing), it is
     *ranked within each position*: the n-th trigger time at a position is volume n.
  7. (0028,0009) Frame Increment Pointer to (0018,1063) Frame Time in a multi-frame file without
     positions: every frame is a time point (PS3.3 C.7.6.6), never a slice.

Vendor rules (following dcm2niix, ``console/nii_dicom_batch.cpp`` and its issues)
  - Philips: the private (2005,1429) label type (LABEL / CONTROL) separates ASL label and
    control volumes -> ``label`` (dcm2niix reads the same element for Philips ASL).
  - GE: (0018,1060) Trigger Time holds the slice timing of EPI, not a volume's time (dcm2niix
    issue #336): it is never used for the time values of a GE series, only ranked as above.
  - (0020,0012) Acquisition Number separates volumes only as the last standard resort; dcm2niix
    stacks across varying acquisition numbers.
  - Siemens MOSAIC: when (0020,0012) Acquisition Number is what separates volumes and each
    volume is one whole mosaic file (not ``DIFFUSION``), the volumes are time points (an fMRI
    run: one mosaic per repetition, as dcm2niix writes it, 4D).

Instance order
  When nothing above tells the repeats apart: slices sorted by (0020,0013) Instance Number (the
  order dcm2niix's ``compareTDCMsort`` uses), a new volume starting where a position repeats; the
  dimension is ``time`` when (0020,0105) Number of Temporal Positions equals the number of
  volumes (GE classic fMRI), else ``index``.

Dimensions are ordered outermost first by how seldom their value changes in storage order
(Instance Number, then frame number): the volumes in C order of the index are then the volumes in
the order dcm2niix writes them into a 4D NIfTI.

Volumes that lack some of the series' positions (a time point missing a slice, an echo present
at some positions only) are *missing*: recorded with what is missing, never stacked; an index
none of whose volumes is complete is dropped from its dimension. Volumes on other positions or
another orientation form a separate series (geometry differs).

Time values (seconds from the first volume) come from, in order: a (0018,1060) Trigger Time that
is constant within each volume (not on GE), the earliest (0008,0032) Acquisition Time /
(0018,9074) Frame Acquisition DateTime of each volume, then index x (0018,0080) Repetition Time
for 2D MR. Without any of them the time points are numbered 1..n and no frame rate is claimed.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from volumeviz.model.dimensions import Dimension
from volumeviz.model.series import DimensionLayout, SliceRef
from volumeviz.model.volume import GeometryIssue

__all__ = ["find_dimensions", "position_key"]

TPI = ("(0020,0100) Temporal Position Identifier", "(0020,9128) Temporal Position Index")
ECHO_NUMBER = ("(0018,0086) Echo Numbers",)
ECHO_TIME = ("(0018,0081) Echo Time", "(0018,9082) Effective Echo Time")
IMAGE_TYPE = ("(0008,9007) Frame Type", "(0008,0008) Image Type")
B_VALUE = ("(0018,9087) Diffusion b-value",)
TRIGGER = ("(0018,1060) Trigger Time", "(0020,9153) Nominal Cardiac Trigger Delay Time")
PHILIPS_LABEL = ("(2005,1429) Philips label type",)
ACQUISITION = ("(0020,0012) Acquisition Number",)
ACQUISITION_TIME = ("(0018,9074) Frame Acquisition DateTime", "(0008,0032) Acquisition Time")
FIP = "(0028,0009) Frame Increment Pointer"
REPETITION_TIME = ("(0018,0080) Repetition Time",)
DIMENSION_INDEX = "dimension index "

#: (0020,9165) Dimension Index Pointer -> dimension name
_POINTER_NAMES = {
    "(0020,9128)": "time",
    "(0020,0100)": "time",
    "(0018,9087)": "b-value",
    "(0018,9082)": "echo",
    "(0018,0081)": "echo",
    "(0018,0086)": "echo",
    "(0020,9153)": "phase",
    "(0018,1060)": "phase",
    "(0020,9241)": "phase",
    "(2005,1429)": "label",
    "(0008,9007)": "type",
    "(2005,1011)": "type",
}

#: a dimension found by nothing better than storage order is limited to this many volumes
#: per position only by the data; positions closer than POSITION_ROUND_MM are the same
POSITION_ROUND_MM = 0.01

#: priority of names when several elements tell the same volumes apart
_NAME_PRIORITY = ("time", "part", "type", "echo", "b-value", "phase", "label", "acquisition")

_PART_TOKENS = (
    ("phase", {"P", "PHASE", "PHASE MAP", "PHA"}),
    ("real", {"R", "REAL"}),
    ("imaginary", {"I", "IMAGINARY"}),
    ("magnitude", {"M", "MAG", "MAGNITUDE"}),
)


def position_key(s: SliceRef) -> tuple[float, ...] | None:
    """(0020,0032) rounded to 0.01 mm: slices with the same key are at the same position."""
    if s.ipp is None:
        return None
    return tuple(round(v / POSITION_ROUND_MM) * POSITION_ROUND_MM for v in s.ipp)


@dataclass(frozen=True)
class _Candidate:
    name: str
    keys: tuple[str, ...]
    source: str
    unit: str = ""
    ranked: bool = False  # may be ranked within each position where it varies per slice
    vendor: str = ""  # the vendor rule this follows, quoted with the source


def _value(s: SliceRef, keys: tuple[str, ...]) -> str:
    d = dict(s.split_key)
    for k in keys:
        v = d.get(k)
        if v is not None and v != "":
            return v
    return ""


def _float(v: str) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _candidates(slices: Sequence[SliceRef], manufacturer: str) -> list[_Candidate]:
    names: list[str] = []
    for s in slices:
        for name, _ in s.split_key:
            if name.startswith(DIMENSION_INDEX) and name not in names:
                names.append(name)
    dim_index = []
    for name in names:
        ptr = name[len(DIMENSION_INDEX) :].split(" ", 1)[0]
        dim_index.append(
            _Candidate(_POINTER_NAMES.get(ptr, "index"), (name,), f"(0020,9157) {name}")
        )
    out = [
        _Candidate("time", TPI, " / ".join(TPI)),
        *dim_index,
        _Candidate("echo", ECHO_NUMBER, ECHO_NUMBER[0], "ms"),
        _Candidate("echo", ECHO_TIME, " / ".join(ECHO_TIME), "ms"),
        _Candidate("part", IMAGE_TYPE, " / ".join(IMAGE_TYPE)),
        _Candidate("b-value", B_VALUE, B_VALUE[0], "s/mm²"),
        _Candidate("phase", TRIGGER, " / ".join(TRIGGER), "ms", ranked=True),
    ]
    if "philips" in manufacturer.lower():
        out.append(
            _Candidate(
                "label",
                PHILIPS_LABEL,
                PHILIPS_LABEL[0],
                vendor="Philips vendor rule, as dcm2niix reads ASL label/control",
            )
        )
    out.append(_Candidate("acquisition", ACQUISITION, ACQUISITION[0]))
    return out


def _groups(keys: Sequence[tuple[float, ...] | None]) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = {}
    for i, k in enumerate(keys):
        out.setdefault(k, []).append(i)
    return out


def _rank_within(groups: dict[Any, list[int]], vals: list[str]) -> list[str] | None:
    """Rank each slice's numeric value among the slices at its position (0 = earliest)."""
    nums = [_float(v) for v in vals]
    if any(x is None for x in nums):
        return None
    out = [""] * len(vals)
    for members in groups.values():
        order = sorted(members, key=lambda i: (nums[i], i))
        for r, i in enumerate(order):
            out[i] = str(r)
    return out


def _instance_chunks(slices: Sequence[SliceRef], members: list[int]) -> dict[int, int] | None:
    """Each slice's volume number in Instance Number order: a new one where a position repeats."""
    numbers = [(slices[i].instance_number, slices[i].frame) for i in members]
    if any(n is None for n, _ in numbers) or len(set(numbers)) < len(numbers):
        return None  # no or repeated instance numbers: their order tells nothing
    order = sorted(members, key=lambda i: (slices[i].instance_number, slices[i].frame or 0, i))
    chunk = 0
    seen: set[Any] = set()
    out: dict[int, int] = {}
    for i in order:
        key = position_key(slices[i])
        if key in seen:
            chunk += 1
            seen = set()
        seen.add(key)
        out[i] = chunk
    return out


def _chunks_are_volumes(
    slices: Sequence[SliceRef], chunk_of: dict[int, int], members: list[int]
) -> bool:
    """True when instance-order chunks are volumes.

    There must be as many chunks as the most repeated position has images, and at least half of
    them must hold every position (a few may miss a slice).
    """
    groups = _groups([position_key(slices[i]) for i in members])
    repeats = max(len(m) for m in groups.values())
    chunks: dict[int, set[Any]] = {}
    for i, c in chunk_of.items():
        chunks.setdefault(c, set()).add(position_key(slices[i]))
    complete = sum(1 for members in chunks.values() if len(members) == len(groups))
    return len(chunks) == repeats and complete * 2 >= len(chunks)


def _storage_order(slices: Sequence[SliceRef]) -> list[int]:
    big = 1 << 62
    return sorted(
        range(len(slices)),
        key=lambda i: (
            slices[i].instance_number if slices[i].instance_number is not None else big,
            slices[i].path,
            slices[i].frame or 0,
            i,
        ),
    )


def _part_label(image_type: str) -> str:
    tokens = {t.strip().upper() for t in image_type.split("\\")}
    for label, marks in _PART_TOKENS:
        if tokens & marks:
            return label
    if any(t.startswith("M_") for t in tokens):
        return "magnitude"
    return ""


def _type_labels(values: list[str]) -> list[str]:
    """Readable labels for Image/Frame Type values: the tokens that differ between them."""
    token_lists = [[t.strip() for t in v.split("\\")] for v in values]
    common = set.intersection(*(set(t) for t in token_lists)) if token_lists else set()
    out = []
    for v, tokens in zip(values, token_lists, strict=True):
        part = _part_label(v)
        rest = [t for t in tokens if t not in common]
        if part == "magnitude" and not ({"FIELD_MAP", "B0"} & set(tokens)):
            out.append("magnitude")
            continue
        text = " ".join(rest[-1:] or tokens[-1:]).replace("_", " ").lower()
        out.append(text or v)
    if len(set(out)) != len(out):
        return values
    return out


def _parse_time(v: str) -> float | None:
    """Seconds from (0008,0032) HHMMSS.FFFFFF or (0018,9074) YYYYMMDDHHMMSS.FFFFFF."""
    v = v.strip()
    if not v:
        return None
    try:
        if len(v.split(".")[0]) >= 14:  # DT: date and time
            day = int(v[6:8]) + 31 * int(v[4:6]) + 372 * int(v[:4])
            hh, mm, ss = int(v[8:10]), int(v[10:12]), float(v[12:] or 0)
            return day * 86400.0 + hh * 3600 + mm * 60 + ss
        t = v.replace(":", "")
        hh = int(t[0:2])
        mm = int(t[2:4]) if len(t) >= 4 else 0
        ss = float(t[4:]) if len(t) > 4 else 0.0
        return hh * 3600.0 + mm * 60 + ss
    except ValueError:
        return None


def _increasing(values: list[float]) -> bool:
    return all(b > a for a, b in itertools.pairwise(values))


def _time_values(
    members: list[list[int]], slices: Sequence[SliceRef], header: dict[str, Any]
) -> tuple[tuple[float, ...] | None, str]:
    """Seconds from the first volume of each time index, and where they came from."""
    ge = "GE" in str(header.get("manufacturer", "")).upper().split()
    if not ge:
        per = [{_value(slices[i], TRIGGER) for i in m} for m in members]
        if all(len(p) == 1 for p in per):
            found = [_float(next(iter(p))) for p in per]
            nums = [x for x in found if x is not None]
            if len(nums) == len(found) and _increasing(nums):
                return tuple((x - nums[0]) / 1000.0 for x in nums), TRIGGER[0]
    starts: list[float] = []
    for m in members:
        times = [_parse_time(_value(slices[i], ACQUISITION_TIME)) for i in m]
        known = [t for t in times if t is not None]
        if not known:
            break
        starts.append(min(known))
    if len(starts) == len(members) and _increasing(starts):
        src = (
            ACQUISITION_TIME[0]
            if any(_value(slices[i], ACQUISITION_TIME[:1]) for i in members[0])
            else ACQUISITION_TIME[1]
        )
        return tuple(round(t - starts[0], 6) for t in starts), f"earliest {src} of each volume"
    tr = float(header.get("repetition_time") or 0.0) or (
        _float(_value(slices[members[0][0]], REPETITION_TIME)) or 0.0
    )
    acq_type = str(header.get("mr_acquisition_type", "")).upper()
    if tr > 0 and header.get("modality") == "MR" and acq_type != "3D":
        return tuple(k * tr / 1000.0 for k in range(len(members))), "(0018,0080) Repetition Time"
    return None, ""


@dataclass
class _Chosen:
    cand: _Candidate
    vals: list[str]
    ranked: bool = False


def _describe(
    chosen: _Chosen,
    members: list[list[int]],
    slices: Sequence[SliceRef],
    candidates: list[_Candidate],
    header: dict[str, Any],
) -> Dimension:
    """Name a chosen split and give each index its value, from the best element that agrees.

    Several elements often tell the same volumes apart (Temporal Position Identifier and Trigger
    Time on Philips fMRI; a private dimension index and Frame Type on a Philips B0 map): the
    dimension takes the most telling name of those (:data:`_NAME_PRIORITY`).
    """

    def agrees(keys: tuple[str, ...]) -> list[str] | None:
        per = [{_value(slices[i], keys) for i in m} for m in members]
        if any(len(p) != 1 or "" in p for p in per):
            return None
        vals = [next(iter(p)) for p in per]
        return vals if len(set(vals)) == len(vals) else None

    n = len(members)
    source = chosen.cand.source
    if chosen.ranked:
        source = f"{source}, ranked within each position"
    name, vals, value_source, unit = chosen.cand.name, [], "", chosen.cand.unit
    best_prio = len(_NAME_PRIORITY) + 1.0
    for cand in candidates:
        found = agrees(cand.keys)
        if found is None:
            continue
        cname = cand.name
        if cname == "part" and not all(_part_label(v) for v in found):
            cname = "type"
        rank = _NAME_PRIORITY.index(cname) if cname in _NAME_PRIORITY else len(_NAME_PRIORITY)
        # a standard (or vendor) element names values better than a dimension index pointing at it
        prio = rank + (0.5 if cand.keys[0].startswith(DIMENSION_INDEX) else 0.0)
        if prio < best_prio:
            best_prio = prio
            name, vals, unit = cname, found, cand.unit
            value_source = cand.source if cand.source != chosen.cand.source else ""
    if chosen.ranked and name == "phase":
        ge = "GE" in str(header.get("manufacturer", "")).upper().split()
        if ge or int(header.get("number_of_temporal_positions") or 0) == n:
            # GE writes EPI slice timing into Trigger Time (dcm2niix issue #336): its ranks are
            # time points, as they are wherever (0020,0105) counts as many
            name = "time"
    if name == "acquisition" and _mosaic_repeats(members, slices):
        # Siemens vendor rule: each volume is one whole MOSAIC file (fMRI, one acquisition per
        # repetition); dcm2niix writes such a series as a time series (4D, TR in pixdim[4])
        name = "time"
    if name == "time":
        times, src = _time_values(members, slices, header)
        if times is not None:
            return Dimension("time", times, "s", source, src)
        return Dimension("time", tuple(str(k + 1) for k in range(n)), "", source, "")
    if name == "echo":
        tes = agrees(ECHO_TIME)
        if tes is not None and all(_float(v) is not None for v in tes):
            te_values = tuple(float(v) for v in tes)
            return Dimension("echo", te_values, "ms", source, value_source or ECHO_TIME[0])
        return Dimension("echo", tuple(vals or [str(k + 1) for k in range(n)]), "", source, "")
    if name == "part" and vals:
        return Dimension("part", tuple(_part_label(v) for v in vals), "", source, value_source)
    if name == "type" and vals:
        return Dimension("type", tuple(_type_labels(vals)), "", source, value_source)
    if name in ("b-value", "phase") and vals and all(_float(v) is not None for v in vals):
        nums = tuple(float(v) for v in vals)
        return Dimension(name, nums, unit, source, value_source)
    if name == "phase" and chosen.ranked:
        medians = []
        for m in members:
            xs = [_float(_value(slices[i], TRIGGER)) for i in m]
            known = [x for x in xs if x is not None]
            medians.append(statistics.median(known) if known else float("nan"))
        return Dimension(
            "phase", tuple(medians), "ms", source, "median trigger time of each volume"
        )
    if name == "label" and vals:
        return Dimension("label", tuple(v.lower() for v in vals), "", source, value_source)
    if name == "acquisition" and vals:
        return Dimension("acquisition", tuple(vals), "", source, value_source)
    return Dimension("index", tuple(str(k + 1) for k in range(n)), "", source, "")


def _mosaic_repeats(members: list[list[int]], slices: Sequence[SliceRef]) -> bool:
    """True when every volume is the tiles of one Siemens MOSAIC file, not a diffusion image.

    A diffusion series (``DIFFUSION`` in (0008,0008) Image Type) repeats its volumes over
    gradient directions, not over time: its volumes stay ``acquisition``.
    """
    for m in members:
        if len({slices[i].path for i in m}) != 1:
            return False
        for i in m:
            if slices[i].mosaic is None or "DIFFUSION" in slices[i].image_type:
                return False
    return True


def _per_slice(keys: Sequence[Any], vals: list[str]) -> bool:
    """True when most values occur at one position only (slice timing), not across a volume."""
    if len(set(keys)) < 2:
        return False
    where: dict[str, set[Any]] = {}
    for k, v in zip(keys, vals, strict=True):
        where.setdefault(v, set()).add(k)
    single = sum(1 for positions in where.values() if len(positions) == 1)
    return single * 2 > len(where)


def _select(
    slices: Sequence[SliceRef], candidates: list[_Candidate]
) -> tuple[list[_Chosen], bool]:
    """Choose the elements that tell repeated positions apart; (chosen, all repeats told apart)."""
    keys = [position_key(s) for s in slices]
    groups = _groups(keys)
    chosen: list[_Chosen] = []
    combo: list[tuple[str, ...]] = [() for _ in slices]

    def unique(c: list[tuple[str, ...]]) -> bool:
        return len({(k, v) for k, v in zip(keys, c, strict=True)}) == len(slices)

    for cand in candidates:
        vals = [_value(s, cand.keys) for s in slices]
        distinct = set(vals)
        if len(distinct) < 2:
            continue
        if not any(len({vals[i] for i in m}) > 1 for m in groups.values()):
            continue  # never differs at one position: not what tells repeats apart
        ranked = False
        if _per_slice(keys, vals):  # varies from slice to slice, not from volume to volume
            if not cand.ranked:
                continue
            ranks = _rank_within(groups, vals)
            if ranks is None:
                continue
            vals, ranked = ranks, True
        new = [(*c, v) for c, v in zip(combo, vals, strict=True)]
        if len(set(new)) == len(set(combo)):
            continue  # splits nothing the chosen elements did not split already
        present = [
            f"(0020,9157) {k}" if k.startswith(DIMENSION_INDEX) else k
            for k in cand.keys
            if any(_value(s, (k,)) for s in slices)
        ]
        source = " / ".join(present) + (f" ({cand.vendor})" if cand.vendor else "")
        cand = _Candidate(cand.name, cand.keys, source, cand.unit, cand.ranked, cand.vendor)
        chosen.append(_Chosen(cand, vals, ranked))
        combo = new
        if unique(combo):
            return chosen, True
    return chosen, unique(combo)


def _other_keys(slices: Sequence[SliceRef], members: list[int]) -> frozenset[Any]:
    return frozenset(
        (position_key(slices[i]), tuple(round(v, 4) for v in (slices[i].iop or ())))
        for i in members
    )


def _where(keys: frozenset[Any], normal: np.ndarray | None) -> str:
    if normal is None:
        return ""
    dist = sorted(float(np.asarray(k[0]) @ normal) for k in keys if k[0] is not None)
    shown = ", ".join(f"{d:.2f}" for d in dist[:3]) + (" ..." if len(dist) > 3 else "")
    return f" (at {shown} mm along the slice normal)"


Part = tuple[list[SliceRef], str, DimensionLayout | None]


def find_dimensions(
    slices: Sequence[SliceRef], header: dict[str, Any], *, _depth: int = 0
) -> list[Part]:
    """Split one stack's slices into volumes along extra dimensions, if their positions repeat.

    Parameters
    ----------
    slices
        The slices of one part of a series (one orientation, one matrix size, no localizers).
    header
        The series' header fields (manufacturer, modality, repetition time, number of temporal
        positions, frame time), as :func:`volumeviz.io.discover.scan` collects them.

    Returns
    -------
    list of (slices, reason, layout)
        The first part is the main one: its ``layout`` is a
        :class:`~volumeviz.model.series.DimensionLayout` when the slices form several volumes
        (None for a plain stack, or when nothing tells the repeats apart: planning then drops
        or refuses them, saying why). Further parts hold volumes whose geometry differs (other
        positions or orientation), each with its reason.
    """
    slices = list(slices)
    if len(slices) < 2:
        return [(slices, "", None)]
    if any(s.ipp is None for s in slices):
        layout = _unplaced_dimensions(slices, header)
        return [(slices, "", layout)]
    keys = [position_key(s) for s in slices]
    groups = _groups(keys)
    if max(len(m) for m in groups.values()) <= 1:
        return [(slices, "", None)]
    manufacturer = str(header.get("manufacturer", ""))
    candidates = _candidates(slices, manufacturer)
    chosen, told_apart = _select(slices, candidates)
    if not told_apart:
        # Instance Number order within what the chosen elements already split
        combo = [tuple(c.vals[i] for c in chosen) for i in range(len(slices))]
        chunk_of: dict[int, int] = {}
        ok = True
        for members in _groups(combo).values():  # type: ignore[arg-type]
            chunks = _instance_chunks(slices, members)
            if chunks is None or not _chunks_are_volumes(slices, chunks, members):
                ok = False
                break
            chunk_of.update(chunks)
        n_chunks = len(set(chunk_of.values())) if chunk_of else 0
        if not ok or n_chunks < 2:
            return [(slices, "", None)]
        ntp = int(header.get("number_of_temporal_positions") or 0)
        name = "time" if ntp == n_chunks else "index"
        src = "(0020,0013) Instance Number order" + (
            f" with (0020,0105) Number of Temporal Positions {ntp}" if ntp else ""
        )
        chosen.append(
            _Chosen(_Candidate(name, (), src), [str(chunk_of[i]) for i in range(len(slices))])
        )
    return _build(slices, header, chosen, candidates, _depth)


def _sort_values(vals: list[str], order: list[int]) -> list[str]:
    distinct = list(dict.fromkeys(vals[i] for i in order))
    nums = [_float(v) for v in distinct]
    if all(x is not None for x in nums):
        return sorted(distinct, key=lambda v: _float(v) or 0.0)
    return distinct


def _build(
    slices: list[SliceRef],
    header: dict[str, Any],
    chosen: list[_Chosen],
    candidates: list[_Candidate],
    depth: int,
) -> list[Part]:
    """Index every slice by the chosen splits, find incomplete volumes, name the dimensions."""
    order = _storage_order(slices)
    changes = []
    for c in chosen:
        seq = [c.vals[i] for i in order]
        changes.append(sum(1 for a, b in itertools.pairwise(seq) if a != b))
    ranking = sorted(range(len(chosen)), key=lambda k: (changes[k], k))
    chosen = [chosen[k] for k in ranking]
    value_lists = [_sort_values(c.vals, order) for c in chosen]
    index_of = [{v: k for k, v in enumerate(vl)} for vl in value_lists]
    slice_idx = [
        tuple(index_of[d][chosen[d].vals[i]] for d in range(len(chosen)))
        for i in range(len(slices))
    ]

    cells: dict[tuple[int, ...], list[int]] = {}
    for i, idx in enumerate(slice_idx):
        cells.setdefault(idx, []).append(i)
    # the series' geometry: the most common set of (position, orientation) among volumes
    sigs = {idx: _other_keys(slices, m) for idx, m in cells.items()}
    counts = Counter(sigs.values())
    ref = max(counts, key=lambda k: (counts[k], len(k)))
    other = [idx for idx, sig in sigs.items() if not sig <= ref]
    parts: list[Part] = []
    if other and depth < 3:
        rest = sorted({i for idx in other for i in cells[idx]})
        sub = find_dimensions([slices[i] for i in rest], header, _depth=depth + 1)
        for k, (p, why, lay) in enumerate(sub):
            reason = "geometry differs (other slice positions or orientation)"
            parts.append((p, f"{reason}; {why}" if why and k else reason, lay))
        keep = sorted(i for i in range(len(slices)) if i not in set(rest))
        return _rebuild_after_split(slices, keep, header, parts, depth)

    normal = slices[0].normal
    n_pos = len(ref)
    members_by_dim: list[list[list[int]]] = []
    for d in range(len(chosen)):
        members_by_dim.append([[] for _ in value_lists[d]])
        for i, idx in enumerate(slice_idx):
            members_by_dim[d][idx[d]].append(i)
    dims = [
        _describe(chosen[d], members_by_dim[d], slices, candidates, header)
        for d in range(len(chosen))
    ]
    shape = tuple(len(v) for v in value_lists)
    incomplete: dict[tuple[int, ...], str] = {}
    for idx in np.ndindex(*shape):
        members = cells.get(idx)
        if not members:
            incomplete[idx] = "no images"
            continue
        lacking = ref - sigs[idx]
        if lacking:
            incomplete[idx] = (
                f"{len(lacking)} of {n_pos} slice(s) missing{_where(lacking, normal)}"
            )
    # drop indices none of whose volumes is complete
    complete_at: list[set[int]] = [set() for _ in dims]
    for idx in cells:
        if idx not in incomplete:
            for d, k in enumerate(idx):
                complete_at[d].add(k)
    keep_idx = [sorted(ks) for ks in complete_at]
    issues: list[GeometryIssue] = []

    def label_of(idx: tuple[int, ...]) -> str:
        return " · ".join(dims[d].label(idx[d]) for d in range(len(dims)))

    for idx, why in sorted(incomplete.items()):
        dropped = any(idx[d] not in keep_idx[d] for d in range(len(dims)))
        if why == "no images" and dropped:
            continue
        issues.append(
            GeometryIssue(
                "incomplete-volume" if why != "no images" else "missing-volume",
                f"{label_of(idx)}: {why}; not loaded",
                size=float(why.split()[0]) if why[0].isdigit() else None,
                unit="",
                action="dropped",
            )
        )
    # re-index the kept values
    new_dims: list[Dimension] = []
    keep_dims: list[int] = []
    for d, dim in enumerate(dims):
        keep = keep_idx[d]
        if not keep:
            return [(slices, "", None), *parts]
        if len(keep) < 2:
            continue  # one value left: not an extra dimension any more
        new_dims.append(
            Dimension(
                dim.name,
                tuple(dim.values[k] for k in keep),
                dim.unit,
                dim.source,
                dim.value_source,
            )
        )
        keep_dims.append(d)
    remap = [{k: n for n, k in enumerate(keep_idx[d])} for d in range(len(dims))]
    new_cells: dict[tuple[int, ...], tuple[int, ...]] = {}
    missing: dict[tuple[int, ...], str] = {}
    for idx in np.ndindex(*shape):
        if any(idx[d] not in remap[d] for d in range(len(dims))):
            continue
        new_idx = tuple(remap[d][idx[d]] for d in keep_dims)
        if idx in incomplete:
            missing[new_idx] = incomplete[idx]
        else:
            new_cells[new_idx] = tuple(cells[idx])
    if not new_cells:
        return [(slices, "", None), *parts]
    used = sorted({i for m in new_cells.values() for i in m})
    if len(used) < len(slices):
        # slices of volumes that were not kept: the layout keeps only complete volumes' slices
        pos = {old: n for n, old in enumerate(used)}
        kept = [slices[i] for i in used]
        new_cells = {k: tuple(pos[i] for i in m) for k, m in new_cells.items()}
    else:
        kept = slices
    rule = "; ".join(f"{d.name}: {d.source}" for d in new_dims)
    if not new_dims:
        # everything but one volume was dropped: a plain stack with the issues recorded
        only = next(iter(new_cells.values()))
        layout = DimensionLayout((), {(): only}, rule, {}, tuple(issues))
        return [(kept, "", layout), *parts]
    layout = DimensionLayout(tuple(new_dims), new_cells, rule, missing, tuple(issues))
    return [(kept, "", layout), *parts]


def _rebuild_after_split(
    slices: list[SliceRef], keep: list[int], header: dict[str, Any], parts: list[Part], depth: int
) -> list[Part]:
    main = find_dimensions([slices[i] for i in keep], header, _depth=depth + 1)
    return [main[0], *main[1:], *parts]


def _unplaced_dimensions(slices: list[SliceRef], header: dict[str, Any]) -> DimensionLayout | None:
    """Frames without positions: time by Frame Increment Pointer, or enhanced dimension indices."""
    if len({s.path for s in slices}) != 1:
        return None
    fip = _value(slices[0], (FIP,))
    if (
        "0018,1063" in fip or "0018, 1063" in fip or "0018,1065" in fip or "0018, 1065" in fip
    ) and all(s.frame is not None for s in slices):
        frame_time = float(header.get("frame_time") or 0.0)
        n = len(slices)
        if frame_time > 0:
            dim = Dimension(
                "time",
                tuple(k * frame_time / 1000.0 for k in range(n)),
                "s",
                f"{FIP} {fip}: frames are time points",
                "(0018,1063) Frame Time",
            )
        else:
            dim = Dimension("time", tuple(float(k + 1) for k in range(n)), "", f"{FIP} {fip}")
        order = sorted(range(n), key=lambda i: slices[i].frame or 0)
        cells: dict[tuple[int, ...], tuple[int, ...]] = {(k,): (i,) for k, i in enumerate(order)}
        return DimensionLayout((dim,), cells, f"time: {dim.source}")
    candidates = [
        c
        for c in _candidates(slices, str(header.get("manufacturer", "")))
        if c.keys[0].startswith(DIMENSION_INDEX)
    ]
    chosen: list[_Chosen] = []
    combo: list[tuple[str, ...]] = [() for _ in slices]
    for cand in candidates:
        vals = [_value(s, cand.keys) for s in slices]
        new = [(*c, v) for c, v in zip(combo, vals, strict=True)]
        if len(set(new)) > len(set(combo)):
            chosen.append(_Chosen(cand, vals))
            combo = new
    if not chosen:
        return None
    parts = _build(slices, header, chosen, _candidates(slices, ""), 0)
    return parts[0][2]
