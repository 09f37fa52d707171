"""Scale bars, region outlines and the physical-size plane: numbers first, then pixels."""

from __future__ import annotations

import numpy as np
import pytest

from volumeviz.errors import UltrasoundError
from volumeviz.io.ultrasound import load_ultrasound
from volumeviz.model.ultrasound import (
    ArrayFrames,
    PhysicalUnits,
    RegionSpatialFormat,
    UltrasoundImage,
    UltrasoundRegion,
)
from volumeviz.render import ultrasound as r

WHITE = np.array(r.BAR_COLOUR)


def synthetic(delta=(0.05, 0.05), rows=240, cols=320, regions=None):
    reg = UltrasoundRegion(index=0, bounds=(20, 10, 219, 229), delta=delta,
                           reference_pixel=(100, 0), reference_value=(0.0, 0.0))  # fmt: skip
    frames = np.zeros((1, rows, cols, 3), np.uint8)
    regs = (reg,) if regions is None else regions
    return UltrasoundImage("syn", rows, cols, 1, True, regs, frames=ArrayFrames(frames))


def test_depth_bar_ticks_are_one_cm_apart():
    img = synthetic(delta=(0.04, 0.05))
    bar = r.depth_bar(img.regions[0])
    ys = np.array([t[1] for t in bar.ticks])
    assert np.allclose(np.diff(ys), 20.0)  # 1 / 0.05 px per cm
    assert bar.label == f"{len(ys) - 1} cm"
    assert (len(ys) - 1) <= 0.8 * 220 * 0.05
    lat = r.lateral_bar(img.regions[0])
    assert np.allclose(np.diff([t[0] for t in lat.ticks]), 25.0)  # 1 / 0.04


def test_annotated_frame_has_white_ticks_where_the_bar_says():
    img = synthetic()
    out = r.annotate_frame(img.frame(0), img, scale_bar=True, regions=False)
    bar = r.depth_bar(img.regions[0])
    for x, y in bar.ticks:
        assert (out[round(y), round(x) - 2] == WHITE).all()
    # nothing drawn between ticks, left of the bar line
    mid = round((bar.ticks[0][1] + bar.ticks[1][1]) / 2)
    assert (out[mid, round(bar.ticks[0][0]) - 2] == 0).all()


def test_time_bar_for_seconds_axis():
    ecg = UltrasoundRegion(index=0, spatial_format=RegionSpatialFormat.WAVEFORM,
                           bounds=(0, 0, 299, 39), delta=(0.01, 0.0),
                           units=(PhysicalUnits.SECONDS, PhysicalUnits.NONE))  # fmt: skip
    bar = r.time_bar(ecg)
    assert bar.units == "s"
    assert np.allclose(np.diff([t[0] for t in bar.ticks]), bar.step * 100)
    assert r.depth_bar(ecg) is None


def test_uncalibrated_frame_is_labelled_and_has_no_bar():
    img = synthetic(regions=())
    assert r.scale_bars(img) == []
    out = r.annotate_frame(img.frame(0), img)
    red = (out[..., 0] > 200) & (out[..., 1] < 50)
    assert red[:30, :].any()  # the word 'uncalibrated'
    assert not (out == WHITE).all(axis=2).any()


def test_unusable_region_is_outlined_red_and_gets_no_bar():
    bad = UltrasoundRegion(index=0, bounds=(20, 10, 219, 229), delta=(0.05, 0.05),
                           problems=("bounds outside",))  # fmt: skip
    img = synthetic(regions=(bad,))
    assert r.scale_bars(img) == []
    out = r.annotate_frame(img.frame(0), img)
    assert (out[100, 20] == r.BAD_COLOUR).all()


def test_fit_to_size_keeps_aspect():
    out = r.fit_to_size(np.full((100, 200, 3), 255, np.uint8), (400, 400))
    assert out.shape == (400, 400, 3)
    assert (out[0, 200] == 0).all()  # letterbox
    assert (out[200, 200] == 255).all()


def test_anonymize_blacks_out_outside_regions_and_refuses_without_regions():
    img = synthetic()
    rgb = np.full((240, 320, 3), 200, np.uint8)
    masked = r.mask_outside_regions(rgb, img)
    assert (masked[5, 5] == 0).all()
    assert (masked[100, 100] == 200).all()
    with pytest.raises(UltrasoundError, match="Burned In Annotation"):
        r.mask_outside_regions(rgb, synthetic(regions=()))


@pytest.mark.render
def test_plane_has_true_physical_size_and_is_upright(philips_path):
    import pyvista as pv

    img = load_ultrasound(philips_path)
    reg = img.regions[0]
    pl = pv.Plotter(off_screen=True, window_size=(400, 300))
    actor = r.add_ultrasound_plane(pl, img, 0, origin=(5.0, 0.0, 0.0))
    xmin, xmax, ymin, ymax, zmin, zmax = actor.GetBounds()
    # region 0: 680 columns (120..799 inside the 800-column image) x 459 rows, 0.2623 mm/px
    d_mm = 0.02622878766196998 * 10
    assert xmax - xmin == pytest.approx(680 * d_mm)
    assert ymax - ymin == pytest.approx((reg.bounds[3] - reg.bounds[1] + 1) * d_mm)
    assert (xmin, ymax, zmin, zmax) == (pytest.approx(5.0), 0.0, 0.0, 0.0)
    pl.close()


@pytest.mark.render
def test_plane_texture_orientation():
    import pyvista as pv

    frames = np.zeros((1, 100, 100, 3), np.uint8)
    frames[0, :50, :50] = (255, 0, 0)  # image top-left quadrant red
    reg = UltrasoundRegion(index=0, bounds=(0, 0, 99, 99), delta=(0.1, 0.1))
    img = UltrasoundImage("syn", 100, 100, 1, True, (reg,), frames=ArrayFrames(frames))
    pl = pv.Plotter(off_screen=True, window_size=(200, 200))
    r.add_ultrasound_plane(pl, img, 0)
    pl.view_xy()
    pl.camera.parallel_projection = True
    pl.reset_camera(bounds=(0, 100, -100, 0, 0, 0))
    shot = pl.screenshot(return_img=True)
    pl.close()
    h, w = shot.shape[:2]
    top_left = shot[h // 2 - 20, w // 2 - 20]
    bottom_right = shot[h // 2 + 20, w // 2 + 20]
    assert top_left[0] > 200
    assert top_left[1] < 60
    assert bottom_right[0] < 60


def test_plane_refuses_without_physical_size(derive):
    import pyvista as pv

    img = load_ultrasound(derive("noreg", []))
    pl = pv.Plotter(off_screen=True)
    with pytest.raises(UltrasoundError, match="no usable 2D region in cm"):
        r.add_ultrasound_plane(pl, img, 0)
    pl.close()
