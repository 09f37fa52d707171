"""Measurements in physical units: ultrasound through its calibration regions; CT/MR in LPS mm.

**CT and MR** (a :class:`~volumeviz.model.volume.Volume`): distances, angles, the value under a
point and ellipse ROI statistics are computed from LPS points in millimetres (:func:`voxel_value`,
:func:`volume_distance`, :func:`volume_angle`, :func:`ellipse_stats`), so they hold on any MPR,
oblique included. A :class:`Markup` is such a measurement as plain data (kind and
LPS points) that the window, ``screenshot --measure`` and reports keep; :func:`describe_markup`
gives its one-line value. ROI statistics are :func:`volumeviz.ops.stats.region_stats`, the code
``volumeviz stats`` uses.

**Ultrasound**:
Every number comes from exactly one region of (0018,6011): the points must all lie in the same
region, that region must be sound, and the axes used must have known units and a usable delta.
Otherwise the measurement is refused with :class:`~volumeviz.errors.MeasurementRefused` and a
one-line reason, never guessed. An image with no regions at all is measured in pixels, labelled
``"uncalibrated"``, unless it carries (0028,0030) Pixel Spacing or (0018,1164) Imager Pixel
Spacing, in which case that element is used and named in :attr:`Measurement.basis`.

Examples
--------
>>> import numpy as np
>>> from volumeviz.model.ultrasound import ArrayFrames, UltrasoundImage, UltrasoundRegion
>>> reg = UltrasoundRegion(index=0, bounds=(0, 0, 99, 99), delta=(0.05, 0.05),
...                        reference_pixel=(50, 0), reference_value=(0.0, 0.0))
>>> img = UltrasoundImage("demo", 100, 100, 1, False, (reg,))
>>> m = distance(img, (10, 10), (10, 50))
>>> round(m.value, 6), m.units, m.region
(2.0, 'cm', 0)
>>> round(area(img, [(0, 0), (20, 0), (20, 20), (0, 20)]).value, 6)
1.0
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import MeasurementRefused, UsageError, VolumeVizError
from volumeviz.model.ultrasound import PhysicalUnits, UltrasoundImage, UltrasoundRegion
from volumeviz.model.volume import Volume
from volumeviz.ops.stats import RegionStats

Point = tuple[float, float]
Vec3 = tuple[float, float, float]

#: values of :attr:`Measurement.calibration`
REGION, PIXEL_SPACING, UNCALIBRATED = "region", "pixel-spacing", "uncalibrated"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measured value with its units and where its scale came from.

    Parameters
    ----------
    kind
        ``"distance"``, ``"area"``, ``"difference-x"``, ``"difference-y"``, ``"value-x"``,
        ``"value-y"`` or (on a Volume) ``"angle"``.
    value
        The number, in ``units``. Differences are signed (second point minus first).
    units
        ``"cm"``, ``"cm²"``, ``"s"``, ``"cm/s"``, ``"Hz"``, ... or ``"px"`` / ``"px²"``; on a
        Volume ``"mm"`` or ``"°"`` (``"voxels"`` when uncalibrated).
    calibration
        ``"region"``, ``"pixel-spacing"``, ``"patient"`` (a Volume's LPS geometry) or
        ``"uncalibrated"``.
    basis
        One line saying what gave the scale (region and its type, or the DICOM element).
    region
        Index of the region used, None off-region.
    components
        Signed ``(dx, dy)`` in the axes' units for distances, None otherwise.
    """

    kind: str
    value: float
    units: str
    calibration: str
    basis: str
    region: int | None = None
    components: tuple[float, float] | None = None

    @property
    def calibrated(self) -> bool:
        """False when the value is in pixels."""
        return self.calibration != UNCALIBRATED

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        d = dataclasses.asdict(self)
        d["components"] = None if self.components is None else list(self.components)
        d["calibrated"] = self.calibrated
        return d

    def __str__(self) -> str:
        label = "" if self.calibrated else " (uncalibrated)"
        return f"{self.kind} {self.value:.4g} {self.units}{label} [{self.basis}]"


def _points(image: UltrasoundImage, points: Sequence[Sequence[float]]) -> list[Point]:
    out: list[Point] = []
    for p in points:
        if len(p) != 2:
            raise UsageError(f"a point is (column, row), not {tuple(p)!r}")
        col, row = float(p[0]), float(p[1])
        if not (math.isfinite(col) and math.isfinite(row)):
            raise UsageError(f"point ({col}, {row}) is not finite")
        image.check_point(col, row)
        out.append((col, row))
    return out


def common_region(
    image: UltrasoundImage, points: Sequence[Sequence[float]]
) -> UltrasoundRegion | None:
    """Return the one region holding every point; None if the image has no regions at all.

    Refuses when a point lies outside every calibrated region, when the points lie in
    different regions, or when the region itself is unusable.
    """
    pts = _points(image, points)
    if not image.regions:
        return None
    found: list[UltrasoundRegion] = []
    for col, row in pts:
        region = image.region_at(col, row)
        if region is None:
            raise MeasurementRefused(
                f"{image.source}: point ({col:g}, {row:g}) lies outside every calibrated "
                f"region ({len(image.regions)} region(s) in (0018,6011))"
            )
        found.append(region)
    indices = sorted({r.index for r in found})
    if len(indices) > 1:
        where = ", ".join(
            f"({c:g}, {r:g}) in region {g.index}" for (c, r), g in zip(pts, found, strict=True)
        )
        raise MeasurementRefused(f"{image.source}: points lie in different regions: {where}")
    region = found[0]
    if region.problems:
        raise MeasurementRefused(
            f"region {region.index} is unusable: {'; '.join(region.problems)}"
        )
    return region


def _basis(region: UltrasoundRegion) -> str:
    return f"region {region.index} ({region.label.split(' ', 1)[1]})"


def _spacing_basis(image: UltrasoundImage) -> str:
    return f"{image.pixel_spacing_source} (no ultrasound regions in the file)"


def distance(image: UltrasoundImage, p0: Sequence[float], p1: Sequence[float]) -> Measurement:
    """Length of the segment ``p0``-``p1`` (image ``(column, row)``) in physical units.

    Both axes of the region must have the same units (cm in a 2D region); an M-mode or
    Doppler region (s x cm, s x cm/s) is refused: use :func:`axis_difference` there.
    """
    region = common_region(image, [p0, p1])
    (c0, r0), (c1, r1) = _points(image, [p0, p1])
    dcol, drow = c1 - c0, r1 - r0
    if region is None:
        if image.pixel_spacing_mm is not None:
            row_mm, col_mm = image.pixel_spacing_mm
            dx, dy = dcol * col_mm / 10.0, drow * row_mm / 10.0
            return Measurement(
                "distance", math.hypot(dx, dy), "cm", PIXEL_SPACING, _spacing_basis(image),
                None, (dx, dy),
            )  # fmt: skip
        return Measurement(
            "distance", math.hypot(dcol, drow), "px", UNCALIBRATED,
            "uncalibrated: no (0018,6011) regions and no pixel spacing in the file",
            None, (dcol, drow),
        )  # fmt: skip
    ux, uy = region.axis_units("x"), region.axis_units("y")
    if ux is not uy:
        raise MeasurementRefused(
            f"region {region.index} ({region.label}): the axes' units differ "
            f"({ux.symbol} x {uy.symbol}); a distance needs the same units on both axes. "
            "Measure a difference along one axis instead"
        )
    dx = dcol * region.axis_delta("x")
    dy = drow * region.axis_delta("y")
    return Measurement(
        "distance", math.hypot(dx, dy), ux.symbol, REGION, _basis(region), region.index, (dx, dy)
    )


def _shoelace(points: Sequence[Point]) -> float:
    s = 0.0
    for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2.0


def area(image: UltrasoundImage, polygon: Sequence[Sequence[float]]) -> Measurement:
    """Area enclosed by ``polygon`` (image ``(column, row)`` vertices) in cm² (or px²).

    Every vertex must lie in the same 2D region whose both axes are in cm.
    """
    if len(polygon) < 3:
        raise UsageError(f"a polygon needs at least 3 points, got {len(polygon)}")
    region = common_region(image, polygon)
    pts = _points(image, polygon)
    px_area = _shoelace(pts)
    if region is None:
        if image.pixel_spacing_mm is not None:
            row_mm, col_mm = image.pixel_spacing_mm
            value = px_area * row_mm * col_mm / 100.0
            return Measurement("area", value, "cm²", PIXEL_SPACING, _spacing_basis(image))
        return Measurement(
            "area", px_area, "px²", UNCALIBRATED,
            "uncalibrated: no (0018,6011) regions and no pixel spacing in the file",
        )  # fmt: skip
    ux, uy = region.axis_units("x"), region.axis_units("y")
    if not (ux is PhysicalUnits.CM and uy is PhysicalUnits.CM):
        raise MeasurementRefused(
            f"region {region.index} ({region.label}): an area needs cm on both axes, the axes "
            f"are {ux.symbol} x {uy.symbol}"
        )
    value = px_area * abs(region.axis_delta("x") * region.axis_delta("y"))
    return Measurement("area", value, "cm²", REGION, _basis(region), region.index)


def axis_difference(
    image: UltrasoundImage, p0: Sequence[float], p1: Sequence[float], axis: str
) -> Measurement:
    """Signed difference ``p1 - p0`` along one axis, in that axis' units.

    In an M-mode region ``axis="x"`` gives a time (s) and ``"y"`` a depth (cm); in a spectral
    Doppler region ``"x"`` gives a time and ``"y"`` a velocity (cm/s) or frequency (Hz). The
    sign of the region's delta is kept, so a velocity scale that grows upwards gives a
    positive difference for a point higher on the screen.
    """
    if axis not in ("x", "y"):
        raise UsageError(f"axis must be 'x' or 'y', not {axis!r}")
    region = common_region(image, [p0, p1])
    (c0, r0), (c1, r1) = _points(image, [p0, p1])
    dpix = (c1 - c0) if axis == "x" else (r1 - r0)
    kind = f"difference-{axis}"
    if region is None:
        if image.pixel_spacing_mm is not None:
            mm = image.pixel_spacing_mm[1 if axis == "x" else 0]
            return Measurement(kind, dpix * mm / 10.0, "cm", PIXEL_SPACING, _spacing_basis(image))
        return Measurement(
            kind, dpix, "px", UNCALIBRATED,
            "uncalibrated: no (0018,6011) regions and no pixel spacing in the file",
        )  # fmt: skip
    unit = region.axis_units(axis)
    return Measurement(
        kind, dpix * region.axis_delta(axis), unit.symbol, REGION, _basis(region), region.index
    )


def time_difference(
    image: UltrasoundImage, p0: Sequence[float], p1: Sequence[float]
) -> Measurement:
    """Time between two points of an M-mode, Doppler or waveform region (x axis in s)."""
    region = common_region(image, [p0, p1])
    if region is None:
        raise MeasurementRefused(f"{image.source}: no (0018,6011) regions; no time axis")
    unit = region.axis_units("x")
    if unit is not PhysicalUnits.SECONDS:
        raise MeasurementRefused(
            f"region {region.index} ({region.label}): the x axis is in {unit.symbol or 'none'}, "
            "not seconds"
        )
    return axis_difference(image, p0, p1, "x")


def value_at(image: UltrasoundImage, point: Sequence[float], axis: str = "y") -> Measurement:
    """Absolute physical value at ``point`` along ``axis`` (e.g. a Doppler velocity).

    Uses the region's reference pixel and reference physical value (a Doppler baseline), so
    it is refused when the file gives no reference pixel.
    """
    if axis not in ("x", "y"):
        raise UsageError(f"axis must be 'x' or 'y', not {axis!r}")
    region = common_region(image, [point])
    if region is None:
        raise MeasurementRefused(
            f"{image.source}: no (0018,6011) regions; absolute values need a calibrated region"
        )
    ((col, row),) = _points(image, [point])
    unit = region.axis_units(axis)
    value = region.to_physical_axis(col if axis == "x" else row, axis)
    return Measurement(f"value-{axis}", value, unit.symbol, REGION, _basis(region), region.index)


# ------------------------------------------------------------------------------ CT / MR volumes
#: calibration of a measurement on a Volume placed in patient space
PATIENT = "patient"
#: what gives a Volume's scale (the elements the loader placed the voxels from)
_PATIENT_BASIS = (
    "patient space (LPS mm) from (0020,0032) Image Position, (0020,0037) Image Orientation, "
    "(0028,0030) Pixel Spacing"
)
#: the kinds of :class:`Markup` and how many LPS points each takes
MARKUP_POINTS: dict[str, int] = {"distance": 2, "angle": 3, "point": 1, "ellipse": 3}


def _placed(vol: Volume) -> bool:
    """False when the loader had no patient geometry and assumed a spacing (``no-geometry``)."""
    return not any(i.code == "no-geometry" for i in vol.issues)


def _lps(point: npt.ArrayLike) -> npt.NDArray[np.float64]:
    p = np.asarray(point, float).reshape(-1)
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise UsageError(f"an LPS point is 3 finite numbers (mm), not {p.tolist()!r}")
    return p


def _uncalibrated_basis(vol: Volume) -> str:
    return (
        "uncalibrated: the file gives no patient geometry (no-geometry), so lengths are in "
        f"voxels of the assumed {' x '.join(f'{s:g}' for s in vol.spacing)} mm grid"
    )


def volume_distance(vol: Volume, a_lps: Sequence[float], b_lps: Sequence[float]) -> Measurement:
    """Length of the segment between two LPS points (mm), on any plane, oblique included.

    The points are where the user clicked on an MPR (:meth:`~volumeviz.ops.mpr.Slice2D.
    pixel_to_lps` gives them from pixel positions), so the length is the patient-space distance
    whatever the plane's orientation or pixel size. A volume without patient geometry
    (``no-geometry``: spacing assumed by the loader) is measured in voxels, labelled
    ``"uncalibrated"``, never in invented millimetres.

    Returns
    -------
    Measurement
        ``kind="distance"``, ``units="mm"`` (or ``"voxels"``), ``components`` unset.

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.volume import Volume
    >>> vol = Volume(np.zeros((4, 4, 4), np.int16), spacing=(0.5, 0.5, 2.0))
    >>> m = volume_distance(vol, vol.index_to_lps([0, 0, 0]), vol.index_to_lps([0, 0, 3]))
    >>> round(m.value, 6), m.units, m.calibration
    (6.0, 'mm', 'patient')
    """
    a, b = _lps(a_lps), _lps(b_lps)
    if _placed(vol):
        return Measurement("distance", float(np.linalg.norm(b - a)), "mm", PATIENT, _PATIENT_BASIS)
    d = vol.lps_to_index(b) - vol.lps_to_index(a)
    return Measurement(
        "distance", float(np.linalg.norm(d)), "voxels", UNCALIBRATED, _uncalibrated_basis(vol)
    )


def volume_angle(
    vol: Volume, a_lps: Sequence[float], vertex_lps: Sequence[float], b_lps: Sequence[float]
) -> Measurement:
    """Angle at ``vertex_lps`` between the rays to ``a_lps`` and ``b_lps``, in degrees (0–180).

    Measured in patient space, so it is the true angle on an oblique plane and on anisotropic
    voxels. On a volume without patient geometry it is the angle in voxel space, labelled
    ``"uncalibrated"``.

    Raises
    ------
    UsageError
        A ray has zero length (two points coincide): the angle is undefined.

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.volume import Volume
    >>> vol = Volume(np.zeros((2, 2, 2), np.int16))
    >>> round(volume_angle(vol, (10, 0, 0), (0, 0, 0), (10, 10, 0)).value, 6)
    45.0
    """
    a, v, b = _lps(a_lps), _lps(vertex_lps), _lps(b_lps)
    placed = _placed(vol)
    if not placed:
        a, v, b = (vol.lps_to_index(p) for p in (a, v, b))
    u, w = a - v, b - v
    nu, nw = float(np.linalg.norm(u)), float(np.linalg.norm(w))
    if nu < 1e-9 or nw < 1e-9:
        raise UsageError("an angle needs three distinct points (a ray of zero length)")
    # atan2 of |u x w| and u.w: accurate near 0 and 180 degrees, unlike acos
    deg = math.degrees(math.atan2(float(np.linalg.norm(np.cross(u, w))), float(u @ w)))
    if placed:
        return Measurement("angle", deg, "°", PATIENT, _PATIENT_BASIS)
    return Measurement("angle", deg, "°", UNCALIBRATED, _uncalibrated_basis(vol))


@dataclass(frozen=True, slots=True)
class VoxelValue:
    """The value under a point: the nearest voxel's value and where it is.

    Attributes
    ----------
    lps
        The point asked about (LPS mm).
    ijk
        The nearest voxel ``(i, j, k)``, None outside the volume.
    value
        That voxel's value in ``units`` (HU for CT), None outside the volume.
    units
        The volume's units (``"HU"`` for CT; ``""`` when the modality has none).
    """

    lps: tuple[float, float, float]
    ijk: tuple[int, int, int] | None
    value: float | None
    units: str

    def __str__(self) -> str:
        x, y, z = self.lps
        where = f"L {x:.1f}  P {y:.1f}  S {z:.1f} mm"
        if self.value is None:
            return f"{where}: outside the volume"
        return f"{where}: {self.value:g} {self.units}".rstrip()


def voxel_value(vol: Volume, lps: Sequence[float]) -> VoxelValue:
    """The value of the voxel nearest to an LPS point (HU for CT), as a viewer reads it.

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.volume import Volume, VolumeMeta
    >>> arr = np.arange(8, dtype=np.int16).reshape(2, 2, 2) - 1000
    >>> vol = Volume(arr, meta=VolumeMeta(modality="CT", units="HU"))
    >>> v = voxel_value(vol, vol.index_to_lps([1, 0, 1]))
    >>> v.ijk, v.value, v.units
    ((1, 0, 1), -995.0, 'HU')
    >>> voxel_value(vol, (50, 50, 50)).value is None
    True
    """
    p = _lps(lps)
    ijk = np.rint(vol.lps_to_index(p)).astype(int)
    where = (float(p[0]), float(p[1]), float(p[2]))
    if np.any(ijk < 0) or np.any(ijk >= np.asarray(vol.size)):
        return VoxelValue(where, None, None, vol.units)
    i, j, k = (int(x) for x in ijk)
    return VoxelValue(where, (i, j, k), float(vol.array[k, j, i]), vol.units)


def ellipse_points(
    center_lps: npt.ArrayLike,
    right: npt.ArrayLike,
    down: npt.ArrayLike,
    radius_right_mm: float,
    radius_down_mm: float | None = None,
) -> tuple[Vec3, Vec3, Vec3]:
    """The three LPS points that describe an ellipse ROI: centre, end of each semi-axis.

    ``right``/``down`` are the plane's unit vectors (:attr:`Slice2D.right`/``down``) the ellipse's
    axes run along; a circle when ``radius_down_mm`` is None.
    """
    c = _lps(center_lps)
    ry = radius_right_mm if radius_down_mm is None else radius_down_mm
    if not (radius_right_mm > 0 and ry > 0):
        raise UsageError(f"ellipse radii must be > 0 mm, got {radius_right_mm}, {ry}")
    r = _lps(right) / np.linalg.norm(_lps(right))
    d = _lps(down) / np.linalg.norm(_lps(down))
    return (_vec(c), _vec(c + radius_right_mm * r), _vec(c + ry * d))


def _vec(p: npt.ArrayLike) -> Vec3:
    x, y, z = (float(v) for v in np.asarray(p, float).reshape(3))
    return (x, y, z)


def ellipse_stats(
    vol: Volume, points: Sequence[Sequence[float]], *, pixel_mm: float | None = None
) -> RegionStats:
    """Statistics (mean, SD, min, max, area in mm²) inside an ellipse ROI on its plane.

    ``points`` are :func:`ellipse_points`: the centre and the ends of the two semi-axes, which
    fix the plane (any orientation) and the radii in mm. The volume is resliced on that plane
    (thin, trilinear, pixels of the smallest voxel spacing) and the statistics are
    :func:`volumeviz.ops.stats.region_stats` over :func:`volumeviz.ops.stats.ellipse_mask`: the
    same code ``volumeviz stats`` uses. Pixels whose centre lies in the ellipse count; pixels
    outside the volume never do. ``pixel_mm`` sets the plane's pixel size (finer: an area closer
    to pi·a·b, slower).

    Raises
    ------
    UsageError
        The semi-axes are not perpendicular, or have zero length.

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.volume import Volume
    >>> vol = Volume(np.full((9, 41, 41), 40, np.int16), spacing=(0.5, 0.5, 2.0))
    >>> c = vol.center_lps
    >>> st = ellipse_stats(vol, ellipse_points(c, (1, 0, 0), (0, 1, 0), 5.0))
    >>> st.mean, st.sd, round(st.area_mm2 / (np.pi * 25), 1)
    (40.0, 0.0, 1.0)
    """
    from volumeviz.ops.mpr import reslice
    from volumeviz.ops.stats import ellipse_mask, region_stats

    if len(points) != 3:
        raise UsageError(f"an ellipse is 3 LPS points (centre, two axis ends), got {len(points)}")
    c, a, b = (_lps(p) for p in points)
    u, w = a - c, b - c
    rx, ry = float(np.linalg.norm(u)), float(np.linalg.norm(w))
    if rx < 1e-6 or ry < 1e-6:
        raise UsageError("an ellipse needs two semi-axes of non-zero length")
    if abs(float(u @ w)) > 1e-3 * rx * ry:
        raise UsageError("an ellipse's two semi-axes must be perpendicular")
    normal = np.cross(u, w)
    plane = reslice(vol, "oblique", normal=normal, point=c, pixel_mm=pixel_mm)
    # the mask's axes run along the plane's right/down: rotate the radii onto them
    cos_r = abs(float(u @ plane.right)) / rx
    if cos_r < 1 - 1e-6:
        if abs(float(u @ plane.down)) / rx < 1 - 1e-6:
            raise UsageError(
                "an ellipse's axes must run along its plane's right and down directions"
            )
        rx, ry = ry, rx
    name = (
        f"ellipse {2 * rx:.1f} x {2 * ry:.1f} mm"
        if abs(rx - ry) > 1e-6
        else (f"circle r={rx:.1f} mm")
    )
    stats = region_stats(plane, ellipse_mask(plane, _vec(c), rx, ry), name=name)
    return dataclasses.replace(stats, units=vol.units)  # a resliced plane has no units


@dataclass(frozen=True, slots=True)
class Markup:
    """A measurement placed on a volume: what to measure, by its LPS points (plain data).

    The window's measurement list, ``screenshot --measure`` and reports hold these; the numbers
    are computed from the volume when shown (:func:`measure_markup`), never stored.

    Parameters
    ----------
    kind
        ``"distance"`` (2 points), ``"angle"`` (3 points, vertex in the middle), ``"point"``
        (1 point: the value under it) or ``"ellipse"`` (3 points, see :func:`ellipse_points`).
    points
        LPS mm.
    label
        Optional name shown with the value.

    Examples
    --------
    >>> Markup.parse("distance:0,0,0,30,40,0")
    Markup(kind='distance', points=((0.0, 0.0, 0.0), (30.0, 40.0, 0.0)), label='')
    """

    kind: str
    points: tuple[Vec3, ...]
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in MARKUP_POINTS:
            raise UsageError(
                f"unknown measurement {self.kind!r}; choose {', '.join(MARKUP_POINTS)}"
            )
        want = MARKUP_POINTS[self.kind]
        if len(self.points) != want:
            raise UsageError(f"a {self.kind} takes {want} LPS point(s), got {len(self.points)}")
        object.__setattr__(self, "points", tuple(_vec(_lps(p)) for p in self.points))

    @classmethod
    def parse(cls, spec: str) -> Markup:
        """Read ``KIND:x,y,z[,x,y,z...]`` (LPS mm), as ``volumeviz screenshot --measure`` takes.

        ``ellipse:cx,cy,cz,ax,ay,az,bx,by,bz`` is the centre and the ends of the two semi-axes.
        """
        kind, sep, rest = str(spec).partition(":")
        kind = kind.strip().lower()
        if not sep or kind not in MARKUP_POINTS:
            raise UsageError(
                f"measurement {spec!r}: write KIND:x,y,z,... with KIND one of "
                f"{', '.join(MARKUP_POINTS)} (LPS mm)"
            )
        try:
            nums = [float(x) for x in rest.replace(";", ",").split(",") if x.strip()]
        except ValueError:
            raise UsageError(f"measurement {spec!r}: coordinates must be numbers") from None
        want = 3 * MARKUP_POINTS[kind]
        if len(nums) != want:
            raise UsageError(
                f"measurement {spec!r}: a {kind} takes {want} numbers, got {len(nums)}"
            )
        pts = tuple((nums[i], nums[i + 1], nums[i + 2]) for i in range(0, want, 3))
        return cls(kind, pts)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"kind": self.kind, "points": [list(p) for p in self.points], "label": self.label}

    def spec(self) -> str:
        """The ``KIND:x,y,z,...`` text :meth:`parse` reads (``screenshot --measure``).

        Examples
        --------
        >>> Markup("point", ((1.5, -2.0, 30.25),)).spec()
        'point:1.5,-2,30.25'
        """
        return f"{self.kind}:" + ",".join(f"{v:.6g}" for p in self.points for v in p)


MarkupResult = Measurement | VoxelValue | RegionStats


def measure_markup(vol: Volume, markup: Markup) -> MarkupResult:
    """Compute a :class:`Markup` on ``vol``.

    Returns a :class:`Measurement` (distance, angle), a :class:`VoxelValue` (point) or the
    :class:`~volumeviz.ops.stats.RegionStats` of an ellipse.
    """
    p = markup.points
    if markup.kind == "distance":
        return volume_distance(vol, p[0], p[1])
    if markup.kind == "angle":
        return volume_angle(vol, p[0], p[1], p[2])
    if markup.kind == "point":
        return voxel_value(vol, p[0])
    return ellipse_stats(vol, p)


def describe_markup(vol: Volume, markup: Markup, *, short: bool = False) -> str:
    """One line for lists, pictures and reports.

    ``"distance 52.3 mm"``, ``"angle 90.0°"``, ``"L 1.0  P 2.0  S 3.0 mm: 35 HU"``,
    ``"circle r=5.0 mm: 78.5 mm², mean 40.0 SD 0.0 (min 40, max 40) HU"``.

    A measurement that cannot be made says why (``"angle: ..."``) instead of raising.
    ``short`` gives the compact label drawn on pictures (``"470 mm², mean -864 SD 321 HU"``).
    """
    prefix = f"{markup.label}: " if markup.label else ""
    try:
        r = measure_markup(vol, markup)
    except VolumeVizError as exc:
        return f"{prefix}{markup.kind}: {exc}"
    if isinstance(r, Measurement):
        note = "" if r.calibration == PATIENT else " (uncalibrated)"
        digits = ".1f"
        return f"{prefix}{r.kind} {r.value:{digits}} {r.units}{note}".replace(" °", "°")
    if isinstance(r, VoxelValue):
        if short and r.value is not None:
            return f"{prefix}{r.value:g} {r.units}".rstrip()
        return f"{prefix}{r}"
    if r.empty:
        return f"{prefix}{r.name}: no pixel inside the volume"
    units = f" {r.units}" if r.units else ""
    area = f"{r.area_mm2:.1f} mm²" if r.area_mm2 is not None else ""
    if short:
        return f"{prefix}{r.area_mm2 or 0:.0f} mm², mean {r.mean:.0f} SD {r.sd:.0f}{units}"
    return (
        f"{prefix}{r.name}: {area}, mean {r.mean:.1f} SD {r.sd:.1f} "
        f"(min {r.minimum:g}, max {r.maximum:g}){units}"
    )


def measurement_plane(
    markup: Markup, *, tolerance_mm: float = 1e-3
) -> tuple[str, npt.NDArray[np.float64] | None]:
    """The MPR plane to draw ``markup`` on: ``(name, None)`` or ``("oblique", LPS normal)``.

    ``axial``, ``coronal`` or ``sagittal`` (tried in that order: their normals are those of
    :func:`volumeviz.ops.mpr.plane_axes`) when every point lies within ``tolerance_mm`` of one
    such plane; otherwise the oblique plane through the points: the plane of three points
    (angle, ellipse), or for a distance the plane through its line that is nearest to the
    cardinal plane the line is most nearly parallel to. A plane through the first point then
    contains every point.

    Examples
    --------
    >>> measurement_plane(Markup.parse("distance:0,0,5,30,40,5"))
    ('axial', None)
    >>> measurement_plane(Markup.parse("distance:0,0,0,0,30,40"))
    ('sagittal', None)
    >>> measurement_plane(Markup.parse("angle:0,0,0,30,0,40,10,0,0"))
    ('coronal', None)
    >>> name, n = measurement_plane(Markup.parse("distance:0,0,0,30,30,30"))
    >>> name, round(float(np.dot(n, [1, 1, 1])), 9)
    ('oblique', 0.0)
    """
    from volumeviz.ops.mpr import plane_axes

    pts = np.asarray(markup.points, float)
    for name in ("axial", "coronal", "sagittal"):
        normal = plane_axes(name)[2]
        along = pts @ normal
        if float(along.max() - along.min()) <= tolerance_mm:
            return name, None
    if len(pts) >= 3:
        n = np.cross(pts[1] - pts[0], pts[2] - pts[0])
        if np.linalg.norm(n) > 1e-9:
            return "oblique", n / np.linalg.norm(n)
    d = pts[-1] - pts[0]
    d = d / np.linalg.norm(d)  # points that differ (else a cardinal plane held them)
    normals = [plane_axes(name)[2] for name in ("axial", "coronal", "sagittal")]
    e = min(normals, key=lambda v: abs(float(v @ d)))  # the plane the line is most in
    n = e - float(e @ d) * d
    return "oblique", n / np.linalg.norm(n)
