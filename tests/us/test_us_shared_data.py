"""Every file in ../shared/data/us: regions as in the file, scale, pane picking, timing, pixels.

Expected region tables are the ones MANIFEST.md prints (read there with pydicom), written out
here; the burned-in rulers and calipers of the Philips and Aloka frames give a check of the
calibration that does not come from the header at all.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pydicom
import pytest

from tests.conftest import shared_path
from volumeviz.errors import MeasurementRefused
from volumeviz.io.ultrasound import is_ultrasound_file, load_ultrasound
from volumeviz.model.ultrasound import PhysicalUnits, RegionDataType, RegionSpatialFormat
from volumeviz.ops import measure as m

ALOKA_2D = dict(fmt=1, typ=1, flags=2, units=(3, 3), delta=(0.03826530650258064,) * 2,
                ref_px=(154, 21), ref_val=(0.0, 0.0))  # fmt: skip
PHILIPS = [
    dict(fmt=1, typ=1, flags=3, bounds=(120, 60, 800, 518), units=(3, 3),
         delta=(0.02622878766196998,) * 2, ref_px=(340, 36), ref_val=(0.0, 0.0)),
    dict(fmt=4, typ=10, flags=3, bounds=(176, 522, 743, 576), units=(4, 0),
         delta=(0.009642736608649534, 0.0), ref_px=(-176, -522), ref_val=(0.0, 0.0)),
]  # fmt: skip
EXPECTED = {
    "aloka_ssd4000_palette16_dual2d.dcm": (1, 480, 640, [
        dict(ALOKA_2D, bounds=(32, 24, 335, 415)),
        dict(ALOKA_2D, bounds=(336, 24, 639, 415)),
        dict(fmt=0, typ=13, flags=0, bounds=(32, 40, 63, 103), units=(0, 0), delta=(0.0, 0.0),
             ref_px=None, ref_val=(None, None)),
    ]),
    "noreg_ge_epicard_rgb_bigendian.dcm": (1, 480, 640, []),
    "noreg_ge_rgb_small.dcm": (1, 240, 320, []),
    "noreg_ge_us1_j2kr_rgb.dcm": (1, 480, 640, []),
    "noreg_ge_us1_uncompressed_rgb.dcm": (1, 480, 640, []),
    "philips_cx50_palette_2f_ecg.dcm": (2, 600, 800, PHILIPS),
    "philips_cx50_palette_2f_ecg_rle.dcm": (2, 600, 800, PHILIPS),
    "sonosite_jpeg422_120f_regions.dcm": (120, 480, 640, [
        dict(fmt=1, typ=1, flags=2, bounds=(84, 31, 595, 414), units=(3, 3),
             delta=(0.05104970559477806,) * 2, ref_px=None, ref_val=(None, None)),
    ]),
}  # fmt: skip
EXPECTED["aloka_ssd4000_palette16_dual2d_bigendian.dcm"] = EXPECTED[
    "aloka_ssd4000_palette16_dual2d.dcm"
]

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def us_dir(shared_data):
    return shared_path(shared_data, "us")


def test_every_us_file_is_covered(us_dir):
    assert sorted(p.name for p in us_dir.glob("*.dcm")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_region_table_matches_the_file(us_dir, name):
    path = us_dir / name
    n_frames, rows, cols, regions = EXPECTED[name]
    assert is_ultrasound_file(path)
    img = load_ultrasound(path)
    assert (img.n_frames, img.rows, img.columns) == (n_frames, rows, cols)
    assert len(img.regions) == len(regions)
    # independently of MANIFEST: the raw items as pydicom reads them
    raw = pydicom.dcmread(path, stop_before_pixels=True).get("SequenceOfUltrasoundRegions", [])
    assert len(raw) == len(regions)
    for r, want, item in zip(img.regions, regions, raw, strict=True):
        assert r.spatial_format == RegionSpatialFormat(want["fmt"])
        assert r.data_type == RegionDataType(want["typ"])
        assert r.flags.code == want["flags"]
        assert r.bounds == want["bounds"]
        assert r.units == tuple(PhysicalUnits(u) for u in want["units"])
        assert r.delta == want["delta"]
        assert r.reference_pixel == want["ref_px"]
        assert r.reference_value == want["ref_val"]
        assert r.bounds[0] == item.RegionLocationMinX0
        assert r.delta[0] == item.PhysicalDeltaX
        # px/cm is exactly 1/delta on every cm axis, None elsewhere
        for n, unit in enumerate(r.units):
            ppc = r.pixels_per_cm[n]
            if unit is PhysicalUnits.CM and r.delta[n]:
                assert ppc == pytest.approx(1.0 / abs(r.delta[n]), rel=1e-12)
            else:
                assert ppc is None
        if r.units == (PhysicalUnits.CM, PhysicalUnits.CM):
            assert r.pixels_per_cm2 == pytest.approx(1.0 / (r.delta[0] * r.delta[1]))
    frame = img.frame(n_frames - 1)
    assert frame.dtype == np.uint8
    assert frame.shape == (rows, cols, 3)


def test_aloka_dual_pane_picks_the_right_pane(us_dir):
    img = load_ultrasound(us_dir / "aloka_ssd4000_palette16_dual2d.dcm")
    assert img.region_at(200, 200).index == 0
    assert img.region_at(500, 200).index == 1
    assert img.region_at(335, 100).index == 0
    assert img.region_at(336, 100).index == 1
    # inside the grey bar (units none) *and* the left pane: the pane gives the scale
    assert {r.index for r in img.regions_at(40, 50)} == {0, 2}
    assert img.region_at(40, 50).index == 0
    assert img.region_at(10, 200) is None
    # each pane's reference pixel is relative to its own corner: same depth, same x
    _, (x_left, y_left) = img.to_physical(32 + 154 + 10, 24 + 21 + 100)
    _, (x_right, y_right) = img.to_physical(336 + 154 + 10, 24 + 21 + 100)
    d = 0.03826530650258064
    assert (x_left, y_left) == (pytest.approx(10 * d), pytest.approx(100 * d))
    assert (x_right, y_right) == (pytest.approx(10 * d), pytest.approx(100 * d))
    left = m.distance(img, (100, 100), (100, 300))
    right = m.distance(img, (400, 100), (400, 300))
    assert left.region == 0
    assert right.region == 1
    assert left.value == pytest.approx(200 * d)
    with pytest.raises(MeasurementRefused, match="different regions"):
        m.distance(img, (300, 100), (400, 100))


def test_aloka_burned_in_cm_ticks_agree_with_the_delta(us_dir):
    """The scanner's own green 1-cm ticks on the left edge (column 33) vs 1/delta."""
    img = load_ultrasound(us_dir / "aloka_ssd4000_palette16_dual2d.dcm")
    col = img.frame(0)[:, 33].astype(int)
    green = np.flatnonzero((col[:, 1] > 150) & (col[:, 0] < 100))
    # centres of 2-pixel ticks, skipping the arrow markers (runs longer than 2)
    runs = np.split(green, np.flatnonzero(np.diff(green) > 1) + 1)
    ticks = np.array([r.mean() for r in runs if len(r) == 2])
    assert len(ticks) >= 10
    spacing = np.polyfit(np.arange(len(ticks)), ticks, 1)[0]
    assert spacing == pytest.approx(img.regions[0].pixels_per_cm[1], rel=0.005)


def test_philips_depth_ruler_and_caliper(us_dir):
    """The CX50 draws depth ticks every 5 cm and a caliper labelled '1.06 cm' into frame 0."""
    img = load_ultrasound(us_dir / "philips_cx50_palette_2f_ecg.dcm")
    col = img.frame(0)[:, 795].astype(int)
    blue = np.flatnonzero((col[:, 2] > 150) & (col[:, 0] < 150))
    runs = np.split(blue, np.flatnonzero(np.diff(blue) > 1) + 1)
    centres = [float(r.mean()) for r in runs]
    assert len(centres) == 3
    depths = [m.value_at(img, (700, c)).value for c in centres]
    # depth 0 at the reference pixel (row 60 + 36), then 5 and 10 cm: within half a pixel
    half_px = 0.5 * 0.02622878766196998
    assert depths == [pytest.approx(v, abs=half_px + 0.03) for v in (0.0, 5.0, 10.0)]
    # caliper crosses centred at (459.5, 290.5) and (498.5, 301.5) (2-px wide strokes)
    d = m.distance(img, (459.5, 290.5), (498.5, 301.5))
    assert (d.units, d.region, d.calibration) == ("cm", 0, "region")
    assert d.value == pytest.approx(1.06, abs=0.005)


@pytest.mark.parametrize(
    "name", ["philips_cx50_palette_2f_ecg.dcm", "philips_cx50_palette_2f_ecg_rle.dcm"]
)
def test_ecg_region_maps_x_to_seconds(us_dir, name):
    img = load_ultrasound(us_dir / name)
    ecg = img.regions[1]
    assert ecg.data_type is RegionDataType.ECG_TRACE
    delta = 0.009642736608649534
    # reference pixel -176 relative to x0 = 176: absolute column 0 is t = 0 s
    region, (t, y) = img.to_physical(176, 550)
    assert region.index == 1
    assert t == pytest.approx(176 * delta)
    assert y is None  # y units none: no physical value, and not a made-up one
    assert img.to_physical(743, 576)[1][0] == pytest.approx(743 * delta)
    dt = m.time_difference(img, (200, 550), (700, 550))
    assert (dt.value, dt.units) == (pytest.approx(500 * delta), "s")
    with pytest.raises(MeasurementRefused, match="Physical Units Y Direction is 0"):
        m.distance(img, (200, 530), (700, 560))
    with pytest.raises(MeasurementRefused, match="different regions"):
        m.time_difference(img, (200, 300), (700, 550))


@pytest.mark.parametrize(
    "name",
    [
        "noreg_ge_epicard_rgb_bigendian.dcm",
        "noreg_ge_rgb_small.dcm",
        "noreg_ge_us1_j2kr_rgb.dcm",
        "noreg_ge_us1_uncompressed_rgb.dcm",
    ],
)
def test_no_region_files_take_the_uncalibrated_path(us_dir, name):
    img = load_ultrasound(us_dir / name)
    assert not img.regions
    assert not img.calibrated
    assert img.pixel_spacing_mm is None
    d = m.distance(img, (10, 10), (40, 50))
    assert (d.value, d.units, d.calibration, d.region) == (50.0, "px", "uncalibrated", None)
    assert not d.calibrated
    assert "uncalibrated" in str(d)
    assert m.area(img, [(0, 0), (10, 0), (10, 10)]).units == "px²"
    with pytest.raises(MeasurementRefused, match="no time axis"):
        m.time_difference(img, (10, 10), (40, 50))


def test_pixel_spacing_is_used_only_without_regions_and_said_so(us_dir, tmp_path):
    ds = pydicom.dcmread(us_dir / "noreg_ge_rgb_small.dcm")
    ds.PixelSpacing = [0.5, 0.25]  # row, column (mm)
    path = tmp_path / "spacing.dcm"
    ds.save_as(path)
    img = load_ultrasound(path)
    d = m.distance(img, (0, 0), (40, 0))
    assert (d.value, d.units, d.calibration) == (pytest.approx(1.0), "cm", "pixel-spacing")
    assert "(0028,0030) PixelSpacing" in d.basis
    assert m.distance(img, (0, 0), (0, 20)).value == pytest.approx(1.0)


def test_decoding_colour_models(us_dir):
    j2k = load_ultrasound(us_dir / "noreg_ge_us1_j2kr_rgb.dcm").frame(0)
    raw = load_ultrasound(us_dir / "noreg_ge_us1_uncompressed_rgb.dcm").frame(0)
    assert np.array_equal(j2k, raw)  # YBR_RCT lossless -> the same RGB
    le = load_ultrasound(us_dir / "aloka_ssd4000_palette16_dual2d.dcm").frame(0)
    be = load_ultrasound(us_dir / "aloka_ssd4000_palette16_dual2d_bigendian.dcm").frame(0)
    assert np.array_equal(le, be)
    assert le.max() > 200  # 16-bit LUT scaled to 8 bits, not truncated to dark values
    plain = load_ultrasound(us_dir / "philips_cx50_palette_2f_ecg.dcm").frame(1)
    rle = load_ultrasound(us_dir / "philips_cx50_palette_2f_ecg_rle.dcm").frame(1)
    assert np.array_equal(plain, rle)
    # YBR_FULL_422 converted to RGB: the grey B-mode image has R ~ G ~ B (in YCbCr the
    # chroma planes would sit near 128 while Y follows the image)
    sono = load_ultrasound(us_dir / "sonosite_jpeg422_120f_regions.dcm").frame(60).astype(int)
    tissue = sono[100:380, 150:550]
    assert np.abs(tissue[..., 0] - tissue[..., 1]).mean() < 3
    assert np.abs(tissue[..., 1] - tissue[..., 2]).mean() < 3
    assert tissue.std() > 10


def test_cine_timing(us_dir):
    img = load_ultrasound(us_dir / "sonosite_jpeg422_120f_regions.dcm")
    assert img.frame_time_ms == pytest.approx(33.333)
    assert img.frame_time_source == "(0018,1063) Frame Time"
    assert img.display_fps == pytest.approx(1000 / 33.333)
    assert img.duration_s == pytest.approx(120 * 0.033333)
    assert img.heart_rate_bpm is None  # the file says 0: not recorded
    philips = load_ultrasound(us_dir / "philips_cx50_palette_2f_ecg.dcm")
    assert philips.frame_time_ms is None
    assert philips.display_fps is None


def test_long_cine_frames_stream_one_at_a_time(us_dir):
    """120 decoded frames are 110 MB; streaming must never hold more than a few at once."""
    img = load_ultrasound(us_dir / "sonosite_jpeg422_120f_regions.dcm")
    whole = img.n_frames * img.rows * img.columns * 3
    tracemalloc.start()
    try:
        n, checksum = 0, 0
        for frame in img.iter_frames():
            n += 1
            checksum += int(frame[240, 320].sum())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 120
    assert checksum > 0
    assert peak < whole / 8, f"peak {peak / 1e6:.1f} MB while iterating ({whole / 1e6:.0f} MB)"


def test_real_ct_file_is_not_ultrasound(shared_data):
    from volumeviz.errors import UltrasoundError

    folder = shared_path(shared_data, "ct/ge_hispeed_tilt_varspacing")
    ct = sorted(p for p in folder.iterdir() if p.is_file())[0]
    assert not is_ultrasound_file(ct)
    with pytest.raises(UltrasoundError, match="Modality is 'CT'"):
        load_ultrasound(ct)
