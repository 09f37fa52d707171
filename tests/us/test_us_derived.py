"""M-mode and spectral Doppler files derived from a real Philips header (see SOURCE.md).

Each file keeps the real header and frames and gets the regions written here, so the expected
values below follow from the numbers in these region dictionaries, not from the code under test.
"""

from __future__ import annotations

import math

import pytest

from volumeviz.errors import MeasurementRefused
from volumeviz.io.ultrasound import load_ultrasound
from volumeviz.model.ultrasound import PhysicalUnits, RegionDataType, RegionSpatialFormat
from volumeviz.ops import measure as m

TWO_D_TOP = {
    "RegionSpatialFormat": 1,
    "RegionDataType": 1,
    "RegionFlags": 0,
    "RegionLocationMinX0": 120,
    "RegionLocationMinY0": 60,
    "RegionLocationMaxX1": 799,
    "RegionLocationMaxY1": 300,
    "ReferencePixelX0": 340,
    "ReferencePixelY0": 36,
    "PhysicalUnitsXDirection": 3,
    "PhysicalUnitsYDirection": 3,
    "ReferencePixelPhysicalValueX": 0.0,
    "ReferencePixelPhysicalValueY": 0.0,
    "PhysicalDeltaX": 0.03,
    "PhysicalDeltaY": 0.03,
}

# M-mode strip: x in s (0.004 s/px, 2.0 s at absolute column 160), y in cm (0.05 cm/px,
# 0.5 cm at absolute row 310, the strip's top)
M_MODE = {
    "RegionSpatialFormat": 2,
    "RegionDataType": 1,
    "RegionFlags": 0,
    "RegionLocationMinX0": 120,
    "RegionLocationMinY0": 310,
    "RegionLocationMaxX1": 799,
    "RegionLocationMaxY1": 518,
    "ReferencePixelX0": 40,
    "ReferencePixelY0": 0,
    "PhysicalUnitsXDirection": 4,
    "PhysicalUnitsYDirection": 3,
    "ReferencePixelPhysicalValueX": 2.0,
    "ReferencePixelPhysicalValueY": 0.5,
    "PhysicalDeltaX": 0.004,
    "PhysicalDeltaY": 0.05,
}

# PW Doppler strip: x in s (0.005 s/px, 1.0 s at absolute column 0 = reference pixel -120),
# y in cm/s with a NEGATIVE delta (-2 cm/s per px: faster upwards), baseline at absolute row
# 410 (reference pixel 100 below the top, 310) whose value is 10 cm/s (not zero).
SPECTRAL = {
    "RegionSpatialFormat": 3,
    "RegionDataType": 3,
    "RegionFlags": 0,
    "RegionLocationMinX0": 120,
    "RegionLocationMinY0": 310,
    "RegionLocationMaxX1": 799,
    "RegionLocationMaxY1": 518,
    "ReferencePixelX0": -120,
    "ReferencePixelY0": 100,
    "PhysicalUnitsXDirection": 4,
    "PhysicalUnitsYDirection": 7,
    "ReferencePixelPhysicalValueX": 1.0,
    "ReferencePixelPhysicalValueY": 10.0,
    "PhysicalDeltaX": 0.005,
    "PhysicalDeltaY": -2.0,
    "TransducerFrequency": 2500,
    "PulseRepetitionFrequency": 4340,
    "DopplerCorrectionAngle": 60.0,
    "SteeringAngle": -10.0,
}


@pytest.fixture
def mmode(derive):
    return load_ultrasound(derive("mmode", [TWO_D_TOP, M_MODE]))


@pytest.fixture
def spectral(derive):
    return load_ultrasound(derive("spectral", [TWO_D_TOP, SPECTRAL]))


def test_mmode_regions_read_as_written(mmode):
    r = mmode.regions[1]
    assert r.spatial_format is RegionSpatialFormat.M_MODE
    assert r.units == (PhysicalUnits.SECONDS, PhysicalUnits.CM)
    assert r.reference_pixel == (40, 0)
    assert r.reference_value == (2.0, 0.5)
    assert r.pixels_per_cm == (None, pytest.approx(20.0))
    assert r.pixels_per_cm2 is None
    assert r.pixels_per_unit("x") == pytest.approx(250.0)
    # frames are the real Philips frames, untouched
    assert mmode.frame(1).shape == (600, 800, 3)


def test_mmode_time_and_depth_mapping_use_the_reference_value(mmode):
    region, (t, depth) = mmode.to_physical(160, 310)
    assert region.index == 1
    assert (t, depth) == (pytest.approx(2.0), pytest.approx(0.5))
    _, (t, depth) = mmode.to_physical(410, 410)
    assert t == pytest.approx(2.0 + 250 * 0.004)
    assert depth == pytest.approx(0.5 + 100 * 0.05)
    assert m.time_difference(mmode, (160, 400), (410, 400)).value == pytest.approx(1.0)
    dy = m.axis_difference(mmode, (300, 310), (300, 410), "y")
    assert (dy.value, dy.units, dy.region) == (pytest.approx(5.0), "cm", 1)


def test_mmode_distance_is_refused_because_units_differ(mmode):
    with pytest.raises(MeasurementRefused, match=r"units differ \(s x cm\)"):
        m.distance(mmode, (160, 320), (410, 410))
    with pytest.raises(MeasurementRefused, match="area needs cm on both axes"):
        m.area(mmode, [(200, 320), (300, 320), (300, 400)])


def test_spectral_velocity_with_negative_delta_and_baseline_value(spectral):
    r = spectral.regions[1]
    assert r.spatial_format is RegionSpatialFormat.SPECTRAL
    assert r.data_type is RegionDataType.PW_DOPPLER
    assert r.units == (PhysicalUnits.SECONDS, PhysicalUnits.CM_PER_S)
    assert r.delta == (0.005, -2.0)
    assert r.pixels_per_unit("y") == pytest.approx(0.5)  # |delta|, sign kept on delta
    assert r.transducer_frequency_khz == 2500
    assert r.pulse_repetition_frequency_hz == 4340
    assert r.doppler_correction_angle_deg == 60.0
    assert r.steering_angle_deg == -10.0
    # baseline row 410 holds the reference value, 10 cm/s
    assert m.value_at(spectral, (300, 410)).value == pytest.approx(10.0)
    # 25 px above the baseline: 10 + (-25) * (-2) = 60 cm/s; 50 px below: 10 - 100 = -90
    above = m.value_at(spectral, (300, 385))
    assert (above.value, above.units) == (pytest.approx(60.0), "cm/s")
    assert m.value_at(spectral, (300, 460)).value == pytest.approx(-90.0)
    dv = m.axis_difference(spectral, (300, 385), (300, 460), "y")
    assert dv.value == pytest.approx(-150.0)
    # time: reference pixel -120 relative to x0 = 120 -> absolute column 0 is 1.0 s
    assert m.value_at(spectral, (320, 400), "x").value == pytest.approx(1.0 + 320 * 0.005)
    assert m.time_difference(spectral, (200, 400), (400, 400)).value == pytest.approx(1.0)


def test_spectral_in_hertz_with_frequency_flag(derive):
    hz = dict(SPECTRAL, PhysicalUnitsYDirection=5, PhysicalDeltaY=-50.0, RegionFlags=4)
    img = load_ultrasound(derive("spectral_hz", [TWO_D_TOP, hz]))
    r = img.regions[1]
    assert r.flags.doppler_scale_frequency
    v = m.value_at(img, (300, 400))
    assert (v.value, v.units) == (pytest.approx(10.0 + (400 - 410) * -50.0), "Hz")


def test_measurement_across_2d_and_doppler_is_refused(spectral):
    with pytest.raises(MeasurementRefused, match=r"different regions.*region 0.*region 1"):
        m.distance(spectral, (300, 200), (300, 400))
    with pytest.raises(MeasurementRefused, match="units differ"):
        m.distance(spectral, (300, 400), (500, 450))
    # the 2D region of the same file still measures in cm
    d = m.distance(spectral, (200, 100), (200, 200))
    assert (d.value, d.units) == (pytest.approx(100 * 0.03), "cm")
    assert math.isclose(d.components[1], 3.0)


def test_cli_doppler_velocity_at_a_point_and_difference(derive, capsys):
    import json

    from volumeviz.cli.main import main

    path = str(derive("spectral_cli", [TWO_D_TOP, SPECTRAL]))
    main(["us", "measure", path, "--at", "300,385", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert (d["value"], d["units"], d["region"], d["kind"]) == (60.0, "cm/s", 1, "value-y")
    main(["us", "measure", path, "--from", "300,385", "--to", "300,460", "--axis", "y", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert (d["value"], d["units"]) == (-150.0, "cm/s")
    with pytest.raises(SystemExit) as exc:
        main(["us", "measure", path, "--from", "300,385", "--to", "400,460"])
    assert exc.value.code == 1
    assert "units differ (s x cm/s)" in capsys.readouterr().err
