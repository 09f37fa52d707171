"""UltrasoundRegion / UltrasoundImage on synthetic regions (numpy only, no files)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from volumeviz.errors import MeasurementRefused, UsageError
from volumeviz.model.ultrasound import (
    ArrayFrames,
    PhysicalUnits,
    RegionFlags,
    RegionSpatialFormat,
    ScrollingMode,
    UltrasoundImage,
    UltrasoundRegion,
)
from volumeviz.ops import measure as m


def region(**kw):
    base = dict(index=0, bounds=(10, 20, 109, 219), delta=(0.05, 0.05),
                reference_pixel=(50, 0), reference_value=(0.0, 0.0))  # fmt: skip
    base.update(kw)
    return UltrasoundRegion(**base)


def image(*regions, rows=300, cols=300, n=3):
    frames = ArrayFrames(np.arange(n * rows * cols, dtype=np.uint8).reshape(n, rows, cols))
    return UltrasoundImage("synthetic", rows, cols, n, False, tuple(regions), frames=frames)


def test_region_is_frozen():
    r = region()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.delta = (1.0, 1.0)  # type: ignore[misc]


@pytest.mark.parametrize("code", range(13))
def test_every_unit_code_has_a_symbol(code):
    unit = PhysicalUnits(code)
    assert isinstance(unit.symbol, str)
    assert (unit.symbol == "") == (unit is PhysicalUnits.NONE)


def test_unknown_unit_code_is_not_an_enum_member():
    with pytest.raises(ValueError, match="13"):
        PhysicalUnits(13)


def test_flags_bits():
    f = RegionFlags.from_code(0b11110)
    assert (f.low_priority, f.scaling_protected, f.doppler_scale_frequency) == (False, True, True)
    assert f.scrolling is ScrollingMode.SWEEPING_THEN_SCROLLING


def test_to_physical_uses_reference_pixel_relative_to_the_corner_and_reference_value():
    r = region(reference_pixel=(50, 10), reference_value=(-1.0, 2.0))
    # absolute reference pixel = (10 + 50, 20 + 10) = (60, 30)
    assert r.to_physical(60, 30) == (pytest.approx(-1.0), pytest.approx(2.0))
    assert r.to_physical(80, 130) == (pytest.approx(-1.0 + 20 * 0.05), pytest.approx(7.0))


def test_negative_delta_keeps_its_sign_but_scale_is_positive():
    r = region(delta=(0.05, -0.5), units=(PhysicalUnits.CM, PhysicalUnits.CM_PER_S))
    assert r.to_physical(60, 40)[1] == pytest.approx(-10.0)
    assert r.pixels_per_unit("y") == pytest.approx(2.0)
    assert r.pixels_per_cm == (pytest.approx(20.0), None)
    assert r.pixels_per_cm2 is None
    assert not r.is_spatial_cm


def test_no_reference_pixel_allows_differences_but_not_absolute_values():
    r = region(reference_pixel=None, reference_value=(None, None))
    img = image(r)
    with pytest.raises(MeasurementRefused, match="only differences can be measured"):
        img.to_physical(50, 50)
    assert m.distance(img, (20, 30), (20, 130)).value == pytest.approx(5.0)


def test_outside_point_refused():
    with pytest.raises(MeasurementRefused, match="outside region 0"):
        region().to_physical(5, 5)


def test_overlapping_regions_same_mapping_pick_smallest():
    big = region(index=0, bounds=(0, 0, 199, 199), reference_pixel=(0, 0))
    small = region(index=1, bounds=(50, 50, 99, 99), reference_pixel=(-50, -50),
                   data_type=None, data_type_code=2)  # fmt: skip
    img = image(big, small)
    assert img.region_at(60, 60).index == 1
    assert img.region_at(10, 10).index == 0


def test_overlapping_regions_that_disagree_are_refused():
    a = region(index=0, bounds=(0, 0, 199, 199))
    b = region(index=1, bounds=(50, 50, 99, 99), delta=(0.1, 0.1))
    with pytest.raises(MeasurementRefused, match="map it differently"):
        image(a, b).region_at(60, 60)


def test_low_priority_region_loses_to_high_priority():
    low = region(index=0, bounds=(0, 0, 99, 99), flags=RegionFlags.from_code(1), delta=(0.1, 0.1))
    high = region(index=1, bounds=(0, 0, 199, 199), delta=(0.05, 0.05))
    assert image(low, high).region_at(50, 50).index == 1


def test_non_spatial_regions_are_never_picked():
    bar = region(index=0, bounds=(0, 0, 50, 50), spatial_format=RegionSpatialFormat.NONE,
                 units=(PhysicalUnits.NONE, PhysicalUnits.NONE), delta=(0.0, 0.0))  # fmt: skip
    img = image(bar)
    assert img.region_at(10, 10) is None
    assert img.calibrated is False


def test_frames_and_index_checks():
    img = image(region(), n=3)
    assert img.frame(2)[0, 0] == (2 * 300 * 300) % 256
    assert len(list(img.iter_frames([0, 2]))) == 2
    with pytest.raises(UsageError, match="frame 3 out of range"):
        img.frame(3)
    with pytest.raises(UsageError, match="frame 9 out of range"):
        list(img.iter_frames([0, 9]))
    with pytest.raises(UsageError, match="must be an integer"):
        img.frame(1.5)  # type: ignore[arg-type]


def test_area_of_a_square_and_distance_in_cm():
    img = image(region(delta=(0.1, 0.05)))
    sq = m.area(img, [(20, 30), (40, 30), (40, 70), (20, 70)])
    assert (sq.value, sq.units) == (pytest.approx(2.0 * 2.0), "cm²")
    d = m.distance(img, (20, 30), (50, 70))
    assert d.value == pytest.approx(np.hypot(30 * 0.1, 40 * 0.05))
    assert d.components == (pytest.approx(3.0), pytest.approx(2.0))


def test_to_dict_has_the_json_keys():
    d = image(region()).to_dict()
    assert {"frames", "rows", "columns", "frame_time_ms", "regions"} <= set(d)
    keys = {"index", "spatial_format", "data_type", "bounds", "units", "delta",
            "reference_pixel", "reference_value", "pixels_per_cm", "pixels_per_cm2"}  # fmt: skip
    assert keys <= set(d["regions"][0])
    assert d["regions"][0]["units"] == ["cm", "cm"]
    assert d["regions"][0]["pixels_per_cm2"] == pytest.approx(400.0)
