"""Measurements in physical units on ultrasound images, through their calibration regions.

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

from volumeviz.errors import MeasurementRefused, UsageError
from volumeviz.model.ultrasound import PhysicalUnits, UltrasoundImage, UltrasoundRegion

Point = tuple[float, float]

#: values of :attr:`Measurement.calibration`
REGION, PIXEL_SPACING, UNCALIBRATED = "region", "pixel-spacing", "uncalibrated"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measured value with its units and where its scale came from.

    Parameters
    ----------
    kind
        ``"distance"``, ``"area"``, ``"difference-x"``, ``"difference-y"``, ``"value-x"`` or
        ``"value-y"``.
    value
        The number, in ``units``. Differences are signed (second point minus first).
    units
        ``"cm"``, ``"cm²"``, ``"s"``, ``"cm/s"``, ``"Hz"``, ... or ``"px"`` / ``"px²"``.
    calibration
        ``"region"``, ``"pixel-spacing"`` or ``"uncalibrated"``.
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
