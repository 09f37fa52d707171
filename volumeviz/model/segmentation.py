"""Segmentations: labelled regions (masks or fractions) on a grid in patient coordinates (LPS).

A :class:`Segmentation` is what a DICOM SEG, an RTSTRUCT or a labelmap (NIfTI/NRRD/numpy) says
about an image: a tuple of :class:`Segment` s on one :class:`Grid`. Each segment keeps only the
block of the grid that holds it (``offset`` + ``mask``), so 100 small organs on a 512×512×300 CT
cost what the organs cost, not 100 full volumes; segments may overlap.

A segment's ``mask`` is ``bool`` (binary) or ``float32`` fractions in ``[0, 1]`` (DICOM SEG
FRACTIONAL, already divided by the Maximum Fractional Value, PS3.3 C.8.20.2.3). RTSTRUCT segments
also keep their closed planar contours (``contours``, each ``(n, 3)`` LPS mm).

Colours are sRGB in ``[0, 1]``: from the SEG's Recommended Display CIELab Value (PS3.3 C.10.7.1.1,
converted with the D65 white point as the standard says), an RTSTRUCT's ROI Display Color, or
:data:`PALETTE` when the file gives none. :func:`cielab_to_rgb` / :func:`rgb_to_cielab` convert.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.model.volume import GeometryIssue, Volume

__all__ = [
    "PALETTE",
    "Code",
    "Grid",
    "Segment",
    "Segmentation",
    "cielab_to_rgb",
    "palette_color",
    "rgb_to_cielab",
]

#: colours for segments that bring none (distinct, readable on grey CT; 3D Slicer's first
#: GenericAnatomyColors entries are too alike for neighbours, so a qualitative set is used)
PALETTE: tuple[tuple[float, float, float], ...] = (
    (0.902, 0.098, 0.294),  # red
    (0.235, 0.706, 0.294),  # green
    (0.263, 0.388, 0.847),  # blue
    (1.000, 0.882, 0.098),  # yellow
    (0.961, 0.510, 0.188),  # orange
    (0.569, 0.118, 0.706),  # purple
    (0.259, 0.831, 0.957),  # cyan
    (0.941, 0.196, 0.902),  # magenta
    (0.749, 0.937, 0.271),  # lime
    (0.980, 0.745, 0.831),  # pink
    (0.275, 0.600, 0.565),  # teal
    (0.863, 0.745, 1.000),  # lavender
)


def palette_color(n: int) -> tuple[float, float, float]:
    """The ``n``-th palette colour (``n`` from 0; wraps around).

    Examples
    --------
    >>> palette_color(0) == PALETTE[0], palette_color(len(PALETTE)) == PALETTE[0]
    (True, True)
    """
    return PALETTE[n % len(PALETTE)]


# -- CIELab (PS3.3 C.10.7.1.1: D65, L 0..100 and a/b -128..127 scaled to 0..65535) ---------------
_D65 = np.array([0.950456, 1.0, 1.088754])
_RGB_TO_XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)


def cielab_to_rgb(dicom_lab: Sequence[int]) -> tuple[float, float, float]:
    """Return the sRGB ``[0, 1]`` of a DICOM CIELab triple (each 0..65535).

    Examples
    --------
    >>> cielab_to_rgb((65535, 32896, 32896))  # white (L=100, a=b=0)
    (1.0, 1.0, 1.0)
    >>> r, g, b = cielab_to_rgb(rgb_to_cielab((1.0, 0.0, 0.0)))
    >>> round(r, 2), round(g, 2), round(b, 2)
    (1.0, 0.0, 0.0)
    """
    v = np.asarray(dicom_lab, float).reshape(3)
    lab_l = v[0] * 100.0 / 65535.0
    lab_a = v[1] * 255.0 / 65535.0 - 128.0
    lab_b = v[2] * 255.0 / 65535.0 - 128.0
    fy = (lab_l + 16.0) / 116.0
    f = np.array([fy + lab_a / 500.0, fy, fy - lab_b / 200.0])
    eps = 6.0 / 29.0
    xyz = np.where(f > eps, f**3, 3 * eps**2 * (f - 4.0 / 29.0)) * _D65
    lin = np.linalg.solve(_RGB_TO_XYZ, xyz)
    lin = np.clip(lin, 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    out = np.clip(srgb, 0.0, 1.0)
    return (float(round(out[0], 6)), float(round(out[1], 6)), float(round(out[2], 6)))


def rgb_to_cielab(rgb: Sequence[float]) -> tuple[int, int, int]:
    """DICOM CIELab triple (each 0..65535) of an sRGB colour in ``[0, 1]``."""
    c = np.clip(np.asarray(rgb, float).reshape(3), 0.0, 1.0)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = _RGB_TO_XYZ @ lin / _D65
    eps = (6.0 / 29.0) ** 3
    f = np.where(xyz > eps, np.cbrt(xyz), xyz / (3 * (6.0 / 29.0) ** 2) + 4.0 / 29.0)
    lab_l = 116.0 * f[1] - 16.0
    lab_a = 500.0 * (f[0] - f[1])
    lab_b = 200.0 * (f[1] - f[2])
    scaled = (
        lab_l * 65535.0 / 100.0,
        (lab_a + 128.0) * 65535.0 / 255.0,
        (lab_b + 128.0) * 65535.0 / 255.0,
    )
    return tuple(int(np.clip(round(s), 0, 65535)) for s in scaled)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Code:
    """A coded concept (DICOM Code Sequence item): value, scheme, meaning.

    Examples
    --------
    >>> str(Code("10200004", "SCT", "Liver"))
    'Liver (SCT 10200004)'
    """

    value: str
    scheme: str
    meaning: str

    def __str__(self) -> str:
        return f"{self.meaning} ({self.scheme} {self.value})"


@dataclass(frozen=True, eq=False)
class Grid:
    """Voxel geometry without voxels: shape ``(k, j, i)`` and the Volume's LPS conventions.

    ``lps = origin + direction @ (spacing * (i, j, k))``, as for
    :class:`~volumeviz.model.volume.Volume`.
    """

    shape: tuple[int, int, int]
    origin: tuple[float, float, float]
    spacing: tuple[float, float, float]
    direction: npt.NDArray[np.float64] = field(default_factory=lambda: np.eye(3))

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        object.__setattr__(self, "origin", tuple(float(x) for x in self.origin))
        object.__setattr__(self, "spacing", tuple(float(x) for x in self.spacing))
        d = np.array(self.direction, float).reshape(3, 3)
        d.setflags(write=False)
        object.__setattr__(self, "direction", d)

    @classmethod
    def of(cls, vol: Volume) -> Grid:
        """The grid of a Volume."""
        return cls(vol.array.shape, vol.origin, vol.spacing, vol.direction)

    @property
    def affine(self) -> npt.NDArray[np.float64]:
        """4x4 matrix taking homogeneous ``(i, j, k, 1)`` to LPS mm."""
        m = np.eye(4)
        m[:3, :3] = self.direction * np.asarray(self.spacing)[None, :]
        m[:3, 3] = self.origin
        return m

    def index_to_lps(self, ijk: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """LPS mm of continuous index ``(i, j, k)`` (or an ``(n, 3)`` array of them)."""
        p = np.asarray(ijk, dtype=float)
        out = (p * np.asarray(self.spacing)) @ self.direction.T + np.asarray(self.origin)
        return np.asarray(out, float)

    def lps_to_index(self, lps: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Continuous index ``(i, j, k)`` of LPS point(s)."""
        p = np.asarray(lps, dtype=float) - np.asarray(self.origin)
        return np.asarray((p @ self.direction) / np.asarray(self.spacing), float)

    def corners_lps(self) -> npt.NDArray[np.float64]:
        """The 8 corner voxel centres in LPS mm, ``(8, 3)``."""
        nk, nj, ni = self.shape
        idx = np.array(
            [[i, j, k] for k in (0, nk - 1) for j in (0, nj - 1) for i in (0, ni - 1)], float
        )
        return self.index_to_lps(idx)

    def same_as(self, other: Grid, tol_mm: float = 1e-3) -> bool:
        """True when both grids put every voxel centre in the same place (within ``tol_mm``)."""
        return (
            self.shape == other.shape
            and float(np.abs(self.corners_lps() - other.corners_lps()).max()) <= tol_mm
        )


@dataclass(frozen=True, eq=False)
class Segment:
    """One labelled region.

    Attributes
    ----------
    number
        SEG Segment Number, RTSTRUCT ROI Number, or the labelmap value.
    label
        Segment Label / ROI Name (free text: may identify; the de-identification scrubs it).
    color
        sRGB in ``[0, 1]``.
    mask
        ``(nk, nj, ni)`` block of the grid: bool, or float32 fractions in ``[0, 1]``.
    offset
        ``(k0, j0, i0)`` of ``mask``'s first voxel in the grid.
    category, type, anatomic_region
        Segmented Property Category / Type, Anatomic Region codes where present.
    algorithm
        Segment Algorithm Type (``MANUAL``, ``AUTOMATIC``, ``SEMIAUTOMATIC``) or RTSTRUCT's
        ROI Generation Algorithm.
    color_source
        ``"RecommendedDisplayCIELabValue"``, ``"ROIDisplayColor"``, ``"palette"`` or ``"given"``.
    contours
        RTSTRUCT closed planar contours, each ``(n, 3)`` LPS mm (empty for masks).
    description
        Segment Description / ROI Description.
    """

    number: int
    label: str
    color: tuple[float, float, float]
    mask: npt.NDArray[Any]
    offset: tuple[int, int, int] = (0, 0, 0)
    category: Code | None = None
    type: Code | None = None
    anatomic_region: Code | None = None
    algorithm: str = ""
    color_source: str = "palette"
    contours: tuple[npt.NDArray[np.float64], ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        m = np.asarray(self.mask)
        if m.ndim != 3:
            raise ValueError(f"segment {self.number} mask must be 3D (k, j, i), got {m.shape}")
        if m.dtype != bool:
            m = m.astype(np.float32, copy=False)
        object.__setattr__(self, "mask", m)
        object.__setattr__(self, "offset", tuple(int(o) for o in self.offset))
        object.__setattr__(self, "color", tuple(float(c) for c in self.color))

    @property
    def fractional(self) -> bool:
        """True when the mask holds fractions rather than inside/outside."""
        return self.mask.dtype != bool

    @property
    def block(self) -> tuple[slice, slice, slice]:
        """Where :attr:`mask` sits in the grid, as slices of a ``(k, j, i)`` array."""
        return tuple(  # type: ignore[return-value]
            slice(o, o + n) for o, n in zip(self.offset, self.mask.shape, strict=True)
        )

    @property
    def empty(self) -> bool:
        """True when no voxel is inside (or has a fraction > 0)."""
        return not bool(np.any(self.mask))

    def full_mask(self, shape: tuple[int, int, int]) -> npt.NDArray[Any]:
        """The mask expanded to the whole grid ``shape`` (a new array)."""
        out = np.zeros(shape, self.mask.dtype)
        out[self.block] = self.mask
        return out

    def cropped(self) -> Segment:
        """The same segment with its block shrunk to the voxels that are inside."""
        nz = np.nonzero(self.mask)
        if len(nz[0]) == 0:
            return dataclasses.replace(self, mask=self.mask[:0, :0, :0])
        lo = [int(a.min()) for a in nz]
        hi = [int(a.max()) + 1 for a in nz]
        block = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        off = (self.offset[0] + lo[0], self.offset[1] + lo[1], self.offset[2] + lo[2])
        return dataclasses.replace(self, mask=self.mask[block], offset=off)

    def replace(self, **changes: Any) -> Segment:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, eq=False)
class Segmentation:
    """Segments on one grid, with where they came from and how they fit their image.

    Attributes
    ----------
    grid
        The voxel grid every segment's block lives on (LPS).
    segments
        The segments, in file order.
    kind
        ``"SEG"``, ``"RTSTRUCT"`` or ``"labelmap"``.
    source
        The file read (or ``""``).
    frame_of_reference_uid, referenced_series_uid
        From the file (``""`` for labelmaps).
    referenced_sop_uids
        SOP Instance UIDs of the images the file says it was drawn on.
    issues
        What matching it to its image found (different Frame of Reference, parts outside the
        image, missing referenced images), each with its size in mm where it has one.
    description
        Series Description / Structure Set Label / Content Label.
    """

    grid: Grid
    segments: tuple[Segment, ...]
    kind: str = "labelmap"
    source: str = ""
    frame_of_reference_uid: str = ""
    referenced_series_uid: str = ""
    referenced_sop_uids: tuple[str, ...] = ()
    issues: tuple[GeometryIssue, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.segments))
        object.__setattr__(self, "issues", tuple(self.issues))
        for s in self.segments:
            if any(
                o < 0 or o + n > g
                for o, n, g in zip(s.offset, s.mask.shape, self.grid.shape, strict=True)
            ):
                raise ValueError(
                    f"segment {s.number} ({s.label}) block {s.mask.shape} at {s.offset} is "
                    f"outside the grid {self.grid.shape}"
                )

    def __len__(self) -> int:
        return len(self.segments)

    @property
    def labels(self) -> list[str]:
        """The segment labels, in order."""
        return [s.label for s in self.segments]

    def segment(self, key: int | str) -> Segment:
        """A segment by number or label (exact, then case-insensitive).

        Raises
        ------
        KeyError
            No such segment (the message lists the labels).
        """
        for s in self.segments:
            if (isinstance(key, int) and s.number == key) or s.label == key:
                return s
        for s in self.segments:
            if isinstance(key, str) and s.label.lower() == key.lower():
                return s
        raise KeyError(f"no segment {key!r}; segments: {', '.join(self.labels)}")

    def replace(self, **changes: Any) -> Segmentation:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def with_issue(self, issue: GeometryIssue) -> Segmentation:
        """A copy with one more issue recorded."""
        return self.replace(issues=(*self.issues, issue))

    @classmethod
    def from_labelmap(
        cls,
        labels: npt.ArrayLike,
        grid: Grid | Volume,
        *,
        names: dict[int, str] | None = None,
        colors: dict[int, tuple[float, float, float]] | None = None,
        source: str = "",
    ) -> Segmentation:
        """One segment per non-zero value of an integer labelmap ``(k, j, i)`` on ``grid``.

        Examples
        --------
        >>> lab = np.zeros((2, 3, 4), np.uint8)
        >>> lab[1, 1:, 2:] = 3
        >>> seg = Segmentation.from_labelmap(lab, Grid((2, 3, 4), (0, 0, 0), (1, 1, 1)))
        >>> [(s.number, s.label, s.offset, s.mask.shape) for s in seg.segments]
        [(3, 'label 3', (1, 1, 2), (1, 2, 2))]
        """
        g = Grid.of(grid) if isinstance(grid, Volume) else grid
        lab = np.asarray(labels)
        if lab.shape != g.shape:
            raise ValueError(f"labelmap shape {lab.shape} differs from the grid's {g.shape}")
        if not np.issubdtype(lab.dtype, np.integer):
            if not np.all(np.isfinite(lab)) or not np.array_equal(lab, np.round(lab)):
                raise ValueError("a labelmap must hold integer labels")
            lab = lab.astype(np.int64)
        # one pass over the labelled voxels: sort their flat indices by label, then each
        # label's bounding box comes from its own indices (no full-size mask per label)
        flat = lab.reshape(-1)
        nz = np.flatnonzero(flat)
        vals = flat[nz]
        order = np.argsort(vals, kind="stable")
        vals, nz = vals[order], nz[order]
        uniq, starts = np.unique(vals, return_index=True)
        ends = np.append(starts[1:], len(vals))
        segs = []
        for n, (value, a, b) in enumerate(zip(uniq, starts, ends, strict=True)):
            v = int(value)
            kk, jj, ii = np.unravel_index(nz[a:b], lab.shape)
            lo = (int(kk.min()), int(jj.min()), int(ii.min()))
            hi = (int(kk.max()) + 1, int(jj.max()) + 1, int(ii.max()) + 1)
            block = lab[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]] == value
            segs.append(
                Segment(
                    number=v,
                    label=(names or {}).get(v, f"label {v}"),
                    color=(colors or {}).get(v, palette_color(n)),
                    mask=block,
                    offset=lo,
                    color_source="given" if colors and v in colors else "palette",
                )
            )
        return cls(grid=g, segments=tuple(segs), kind="labelmap", source=source)

    def labelmap(self) -> npt.NDArray[np.int32]:
        """The segments as one integer array on the grid.

        Later segments win where they overlap; fractions count as inside when ``>= 0.5``.
        """
        out = np.zeros(self.grid.shape, np.int32)
        for s in self.segments:
            inside = s.mask if s.mask.dtype == bool else s.mask >= 0.5
            view = out[s.block]
            view[inside] = s.number
        return out
