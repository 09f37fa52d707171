"""Region statistics: voxel values inside a mask (or weighted by fractions), in physical units.

One function, :func:`region_stats`, serves every region kind:

- a 3D region on a :class:`~volumeviz.model.volume.Volume` (a segment, a sphere, a box): size as
  voxels and **volume in mL**;
- a 2D region on a resliced plane (:class:`~volumeviz.ops.mpr.Slice2D`: an ellipse or circle ROI
  drawn on an MPR view): size as pixels and **area in mm²**.

The region is given as an array of the image's shape: ``bool`` (inside / outside) or floating
weights in ``[0, 1]`` (a fractional segmentation: DICOM SEG ``FRACTIONAL`` after dividing by the
Maximum Fractional Value, PS3.3 C.8.20.2). With weights ``w`` and values ``x`` the statistics are
the weighted ones: ``mean = Σwx / Σw``, ``SD = sqrt(Σw(x-mean)² / Σw)`` (population SD, as 3D
Slicer's Segment Statistics reports), size ``= Σw`` voxels, and ``min``/``max``/``median`` over
the voxels with ``w > 0`` (the median weighted: the smallest value whose cumulative weight reaches
half of ``Σw``). A boolean mask is the special case ``w ∈ {0, 1}``, where all of these are the
ordinary statistics. The centroid is the weighted mean of the voxel-centre LPS positions.

Voxels count as inside a geometric ROI when their **centre** is inside it (:func:`sphere_mask`,
:func:`box_mask`, :func:`ellipse_mask`). Pixels of a :class:`Slice2D` that fall outside the
volume (``inside`` False) are never counted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import UsageError
from volumeviz.model.volume import Volume

if TYPE_CHECKING:
    from volumeviz.model.segmentation import Segmentation
    from volumeviz.ops.mpr import Slice2D

__all__ = [
    "RegionStats",
    "box_mask",
    "ellipse_mask",
    "parse_roi",
    "region_stats",
    "roi_mask",
    "segment_stats",
    "sphere_mask",
]


@dataclass(frozen=True, slots=True)
class RegionStats:
    """Statistics of one region of an image.

    Attributes
    ----------
    name
        What the region is (segment label, ``"sphere r=10 mm at (x, y, z)"``, ``"ellipse"``).
    ndim
        3 for a region of a Volume, 2 for a region of a resliced plane.
    voxels
        Number of voxels (pixels when 2D) with a weight > 0.
    weighted_voxels
        Sum of the weights (equals ``voxels`` for a boolean mask).
    volume_ml
        ``weighted_voxels`` × voxel volume / 1000 (3D; ``None`` when 2D, and for a Volume
        without a patient frame: :attr:`~volumeviz.model.volume.Volume.geometry`).
    area_mm2
        ``weighted_voxels`` × pixel area (2D, and a one-frame projection image with a known
        pixel spacing; ``None`` otherwise).
    mean, sd, minimum, maximum, median
        In ``units``; ``nan`` when the region is empty.
    centroid_lps
        Weighted centroid of the voxel centres, LPS mm (``nan`` when empty, or the image has no
        patient frame).
    units
        The image's unit (``"HU"`` for CT; ``""`` when unknown).
    """

    name: str
    ndim: int
    voxels: int
    weighted_voxels: float
    volume_ml: float | None
    area_mm2: float | None
    mean: float
    sd: float
    minimum: float
    maximum: float
    median: float
    centroid_lps: tuple[float, float, float]
    units: str

    @property
    def empty(self) -> bool:
        """True when no voxel has a weight > 0."""
        return self.voxels == 0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (``nan`` becomes ``None``)."""
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, float) and not math.isfinite(v):
                out[k] = None
        out["centroid_lps"] = [None if not math.isfinite(c) else c for c in self.centroid_lps]
        return out


def _weights(weights: npt.ArrayLike, shape: tuple[int, ...]) -> npt.NDArray[Any]:
    w = np.asarray(weights)
    if w.shape != shape:
        raise UsageError(f"region mask has shape {w.shape}; the image region has shape {shape}")
    if w.dtype == bool:
        return w
    if not np.issubdtype(w.dtype, np.number):
        raise UsageError(f"region weights must be bool or numbers, got dtype {w.dtype}")
    w = w.astype(np.float64, copy=False)
    if w.size and (not np.all(np.isfinite(w)) or w.min() < 0 or w.max() > 1):
        raise UsageError("region weights must be finite and within [0, 1]")
    return w


def _weighted_median(values: npt.NDArray[np.float64], w: npt.NDArray[np.float64]) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(w[order])
    idx = int(np.searchsorted(cum, 0.5 * cum[-1], side="left"))
    return float(values[order][min(idx, len(values) - 1)])


def region_stats(
    image: Volume | Slice2D,
    weights: npt.ArrayLike,
    *,
    name: str = "",
    offset: Sequence[int] | None = None,
) -> RegionStats:
    """Statistics of the image values inside a region.

    Parameters
    ----------
    image
        A :class:`Volume` (3D: ``array`` is ``(k, j, i)``) or a resliced plane
        :class:`~volumeviz.ops.mpr.Slice2D` (2D: ``(rows, cols)``).
    weights
        Same shape as ``image.array``: ``bool`` (inside), or floats in ``[0, 1]`` (fractions).
    name
        Label stored on the result.
    offset
        When given, ``weights`` covers only the block of ``image.array`` that starts at this
        index (``(k0, j0, i0)``, or ``(row0, col0)`` in 2D) and has ``weights``' shape: a
        segment stored cropped to its bounding box needs no full-size copy.

    Returns
    -------
    RegionStats
        Voxel count, size (mL for 3D, mm² for 2D), mean/SD/min/max/median in the image's unit,
        weighted centroid in LPS mm.

    Raises
    ------
    UsageError
        ``weights`` has the wrong shape, is not bool/numeric, or leaves ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> vol = Volume(np.arange(8, dtype=np.int16).reshape(2, 2, 2), spacing=(1, 2, 5))
    >>> s = region_stats(vol, vol.array >= 4, name="top slice")
    >>> s.voxels, s.volume_ml, s.mean, s.median, s.centroid_lps
    (4, 0.04, 5.5, 5.5, (0.5, 1.0, 5.0))
    >>> region_stats(vol, np.full((2, 2, 2), 0.5)).weighted_voxels
    4.0
    """
    full = np.asarray(image.array)
    is_2d = full.ndim == 2
    start = tuple(0 for _ in full.shape) if offset is None else tuple(int(o) for o in offset)
    wshape = np.shape(weights)
    if offset is None and wshape != full.shape:
        raise UsageError(f"region mask has shape {wshape}; the image has shape {full.shape}")
    if len(start) != full.ndim or len(wshape) != full.ndim:
        raise UsageError(f"region of {len(wshape)} dimensions for a {full.ndim}D image")
    if any(o < 0 or o + n > m for o, n, m in zip(start, wshape, full.shape, strict=True)):
        raise UsageError(
            f"region block {wshape} at {start} does not fit the image shape {full.shape}"
        )
    block = tuple(slice(o, o + n) for o, n in zip(start, wshape, strict=True))
    arr = full[block]
    w = _weights(weights, arr.shape)
    if is_2d:
        inside = np.asarray(image.inside, bool)[block]  # type: ignore[union-attr]
        w = w & inside if w.dtype == bool else np.where(inside, w, 0.0)
    if w.dtype == bool:
        idx = np.nonzero(w)
        wv = None
    else:
        idx = np.nonzero(w > 0)
        wv = w[idx]
    values = arr[idx].astype(np.float64)
    n = len(values)
    units = str(getattr(getattr(image, "meta", None), "units", "") or "")
    if is_2d:
        units = units or str(getattr(image, "units", "") or "")
    nan = float("nan")
    if n == 0:
        total = 0.0
        mean = sd = vmin = vmax = med = nan
        centroid = (nan, nan, nan)
    else:
        if wv is None:
            total = float(n)
            mean = float(values.mean())
            sd = float(values.std())
            med = float(np.median(values))
            cidx = np.stack([i.astype(np.float64).mean() for i in idx])
        else:
            total = float(wv.sum())
            mean = float((wv * values).sum() / total)
            sd = float(math.sqrt(max(float((wv * (values - mean) ** 2).sum() / total), 0.0)))
            med = _weighted_median(values, wv)
            cidx = np.stack([(wv * i).sum() / total for i in idx])
        cidx = cidx + np.asarray(start, float)
        vmin, vmax = float(values.min()), float(values.max())
        if is_2d:
            c = image.pixel_to_lps(cidx[0], cidx[1])  # type: ignore[union-attr]
        else:
            c = image.index_to_lps(cidx[::-1])  # type: ignore[union-attr]  # (k, j, i) -> (i, j, k)
        centroid = (float(c[0]), float(c[1]), float(c[2]))
    if is_2d:
        px = float(image.spacing[0]) * float(image.spacing[1])
        volume_ml, area = None, total * px
    else:
        vox = float(np.prod(np.asarray(image.spacing, float)))
        volume_ml, area = total * vox / 1000.0, None
        geometry = getattr(image, "geometry", None)
        if geometry is not None and not geometry.has_patient_frame:
            # never invented: no LPS centroid without a patient frame, no size from an
            # assumed spacing; a projection image's area from its known pixel spacing
            centroid = (nan, nan, nan)
            volume_ml = None
            one_frame = full.shape[0] == 1
            if geometry.spacing_known and one_frame:
                area = total * float(image.spacing[0]) * float(image.spacing[1])
    return RegionStats(
        name=name,
        ndim=2 if is_2d else 3,
        voxels=int(n),
        weighted_voxels=total,
        volume_ml=volume_ml,
        area_mm2=area,
        mean=mean,
        sd=sd,
        minimum=vmin,
        maximum=vmax,
        median=med,
        centroid_lps=centroid,
        units=units,
    )


# -- geometric regions ----------------------------------------------------------------------------
def _index_box(
    vol: Volume, lo_lps: npt.NDArray[np.float64], hi_lps: npt.NDArray[np.float64]
) -> tuple[slice, slice, slice] | None:
    """The (k, j, i) block of voxels that can hold an LPS-axis box (None: it misses)."""
    corners = np.array(
        [
            [x, y, z]
            for x in (lo_lps[0], hi_lps[0])
            for y in (lo_lps[1], hi_lps[1])
            for z in (lo_lps[2], hi_lps[2])
        ]
    )
    idx = vol.lps_to_index(corners)
    lo = np.floor(idx.min(axis=0)).astype(int)
    hi = np.ceil(idx.max(axis=0)).astype(int) + 1
    size = np.asarray(vol.size)
    lo, hi = np.maximum(lo, 0), np.minimum(hi, size)
    if np.any(hi <= lo):
        return None
    return (slice(lo[2], hi[2]), slice(lo[1], hi[1]), slice(lo[0], hi[0]))


def _centres(
    image: Volume | Slice2D, lo_lps: npt.NDArray[np.float64], hi_lps: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.bool_], tuple[slice, ...] | None, npt.NDArray[np.float64]]:
    """An all-False mask of the image, the block to test and the LPS centres of that block.

    For a Volume only the voxels whose index box can reach the LPS box ``lo..hi`` are
    returned (a 10 mm sphere in a 512x512x300 CT touches a few thousand voxels, not 78 M).
    """
    if isinstance(image, Volume):
        out = np.zeros(image.array.shape, bool)
        block = _index_box(image, lo_lps, hi_lps)
        if block is None:
            return out, None, np.zeros((0, 3))
        k, j, i = np.meshgrid(*(np.arange(s.start, s.stop) for s in block), indexing="ij")
        return out, block, image.index_to_lps(np.stack([i, j, k], axis=-1).astype(np.float64))
    rows, cols = image.shape
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return np.zeros((rows, cols), bool), (slice(None), slice(None)), image.pixel_to_lps(rr, cc)


def sphere_mask(
    image: Volume | Slice2D, center_lps: Sequence[float], radius_mm: float
) -> npt.NDArray[np.bool_]:
    """Voxels (or plane pixels) whose centre lies within ``radius_mm`` of ``center_lps``.

    On a :class:`Slice2D` this is the circle where the sphere cuts the plane.

    Examples
    --------
    >>> import numpy as np
    >>> vol = Volume(np.zeros((5, 5, 5), np.int16))
    >>> int(sphere_mask(vol, (2, 2, 2), 1.0).sum())  # the centre and its 6 neighbours
    7
    """
    if not (math.isfinite(radius_mm) and radius_mm > 0):
        raise UsageError(f"sphere radius must be > 0 mm, got {radius_mm}")
    c = np.asarray(center_lps, float).reshape(3)
    out, block, p = _centres(image, c - radius_mm, c + radius_mm)
    if block is not None:
        d = p - c
        out[block] = np.einsum("...i,...i->...", d, d) <= radius_mm**2 * (1 + 1e-9)
    return out


def box_mask(
    image: Volume | Slice2D, corner_a_lps: Sequence[float], corner_b_lps: Sequence[float]
) -> npt.NDArray[np.bool_]:
    """Voxels whose centre lies in the LPS-axis-aligned box between two corners (inclusive)."""
    a = np.asarray(corner_a_lps, float).reshape(3)
    b = np.asarray(corner_b_lps, float).reshape(3)
    lo, hi = np.minimum(a, b) - 1e-6, np.maximum(a, b) + 1e-6
    out, block, p = _centres(image, lo, hi)
    if block is not None:
        out[block] = np.all((p >= lo) & (p <= hi), axis=-1)
    return out


def ellipse_mask(
    plane: Slice2D,
    center_lps: Sequence[float],
    radius_right_mm: float,
    radius_down_mm: float | None = None,
) -> npt.NDArray[np.bool_]:
    """Pixels of a resliced plane inside an ellipse (a circle when one radius is given).

    The ellipse's axes run along the plane's ``right`` and ``down`` directions; ``center_lps`` is
    projected onto the plane. Radii are in mm, so the ROI is the same physical size whatever the
    pixel size of the reslice.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> from volumeviz.ops.mpr import reslice
    >>> s = reslice(phantom.asymmetric(16), "axial")
    >>> m = ellipse_mask(s, s.pixel_to_lps(8, 8), 2.0)  # centred on a pixel centre
    >>> region_stats(s, m).area_mm2  # 13 pixels of 1 mm x 1 mm
    13.0
    """
    ry = radius_right_mm if radius_down_mm is None else radius_down_mm
    if not (radius_right_mm > 0 and ry > 0):
        raise UsageError(f"ellipse radii must be > 0 mm, got {radius_right_mm}, {ry}")
    c = np.asarray(center_lps, float).reshape(3)
    _, _, p = _centres(plane, c, c)
    d = p - c
    u = d @ plane.right / radius_right_mm
    v = d @ plane.down / ry
    return np.asarray(u * u + v * v <= 1 + 1e-9)


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_roi(spec: str) -> tuple[str, tuple[float, ...]]:
    """Read a ROI given on the command line.

    ``sphere:X,Y,Z,R`` (LPS mm centre, radius mm) or ``box:X0,Y0,Z0,X1,Y1,Z1`` (two LPS
    corners). Returns ``(kind, numbers)``.

    Examples
    --------
    >>> parse_roi("sphere:10,-20.5,30,7")
    ('sphere', (10.0, -20.5, 30.0, 7.0))
    """
    m = re.fullmatch(r"\s*(sphere|box)\s*:\s*(.*)", spec, flags=re.IGNORECASE)
    if not m:
        raise UsageError(f"ROI {spec!r}: use sphere:X,Y,Z,R_MM or box:X0,Y0,Z0,X1,Y1,Z1 (LPS mm)")
    kind = m.group(1).lower()
    parts = [p.strip() for p in m.group(2).split(",")]
    need = 4 if kind == "sphere" else 6
    if len(parts) != need or not all(re.fullmatch(_NUM, p) for p in parts):
        raise UsageError(f"ROI {spec!r}: {kind} needs {need} numbers separated by commas")
    nums = tuple(float(p) for p in parts)
    if kind == "sphere" and not nums[3] > 0:
        raise UsageError(f"ROI {spec!r}: the radius must be > 0 mm")
    return kind, nums


def roi_mask(image: Volume | Slice2D, spec: str) -> tuple[str, npt.NDArray[np.bool_]]:
    """The mask and a readable name of a ROI given as :func:`parse_roi` reads it."""
    kind, n = parse_roi(spec)
    if kind == "sphere":
        name = f"sphere r={n[3]:g} mm at ({n[0]:g}, {n[1]:g}, {n[2]:g})"
        return name, sphere_mask(image, n[:3], n[3])
    name = f"box ({n[0]:g}, {n[1]:g}, {n[2]:g})-({n[3]:g}, {n[4]:g}, {n[5]:g})"
    return name, box_mask(image, n[:3], n[3:])


def segment_stats(image: Volume, seg: Segmentation) -> list[RegionStats]:
    """:func:`region_stats` of every segment of ``seg`` over ``image``.

    ``seg`` must already lie on ``image``'s grid (``volumeviz.io.seg.place_on`` puts it
    there). Fractional segments weight each voxel by its fraction. Each segment's cropped block
    is used as it is (no full-size copy).

    Raises
    ------
    UsageError
        ``seg`` is on another grid.
    """
    from volumeviz.model.segmentation import Grid

    if not seg.grid.same_as(Grid.of(image), tol_mm=1e-3):
        raise UsageError(
            "the segmentation is not on this image's grid; place it first "
            "(volumeviz.io.seg.place_on)"
        )
    return [
        region_stats(image, s.mask, name=s.label, offset=s.offset)
        if s.mask.size
        else region_stats(image, np.zeros((0, 0, 0), bool), name=s.label, offset=(0, 0, 0))
        for s in seg.segments
    ]
