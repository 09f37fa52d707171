"""The ultrasound cine view in the real window: calibrated ruler, refusal, playback."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import shared_path

pytestmark = pytest.mark.gui

PHILIPS = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "us_philips_cx50_rle"
    / "philips_cx50_palette_2f_ecg_rle.dcm"
)
DELTA_CM = 0.02622878766196998  # region 0's (0018,602C)/(0018,602E), cm per pixel


def _open(win: Any, qtbot: Any, path: Path) -> Any:
    with qtbot.waitSignal(win.volume_loaded, timeout=60_000):
        win.open_path(path)
    assert win.stack.currentWidget() is win.us_view
    return win.us_view


def test_ruler_measures_cm_through_the_region(win: Any, qtbot: Any) -> None:
    from qtpy import QtCore

    cine = _open(win, qtbot, PHILIPS)
    assert cine.image.n_frames == 2
    # two real clicks in the 2D tissue region, 300 px across and 400 px down: 500 px
    for col, row in ((200, 100), (500, 500)):
        pos = cine.pixel_to_widget(col, row)
        qtbot.mouseClick(cine.plotter, QtCore.Qt.MouseButton.LeftButton, pos=pos)
    m = cine.last_measurement
    assert m is not None, cine.ruler_label.text()
    assert m.units == "cm"
    assert m.region == 0
    # the clicks land within a screen pixel of the asked image pixels (display is scaled)
    (c0, r0), (c1, r1) = cine.points
    expected = math.hypot(c1 - c0, r1 - r0) * DELTA_CM
    assert m.value == pytest.approx(expected, rel=1e-9)
    assert m.value == pytest.approx(500 * DELTA_CM, abs=3 * DELTA_CM)  # 13.1 cm
    assert "cm" in cine.ruler_label.text()


def test_ruler_refuses_across_regions(win: Any, qtbot: Any) -> None:
    cine = _open(win, qtbot, PHILIPS)
    cine.click(300, 300)  # 2D tissue region (cm)
    cine.click(400, 550)  # ECG waveform region (s)
    assert cine.last_measurement is None
    assert "different regions" in cine.last_refusal
    assert "refused" in cine.ruler_label.text()
    cine.click(300, 300)  # a third click starts a new ruler
    assert len(cine.points) == 1


def test_cine_plays_at_the_file_frame_rate(win: Any, qtbot: Any, shared_data: Path) -> None:
    path = shared_path(shared_data, "us/sonosite_jpeg422_120f_regions.dcm")
    cine = _open(win, qtbot, path)
    assert cine.image.n_frames == 120
    assert cine.fps == pytest.approx(30.0, rel=1e-3)
    assert cine.timer.interval() == 33
    frames: list[int] = []
    cine.frame_changed.connect(frames.append)
    cine.play_button.click()
    assert cine.playing
    t0 = time.perf_counter()
    qtbot.waitUntil(lambda: len(frames) >= 6, timeout=10_000)
    elapsed = time.perf_counter() - t0
    cine.play_button.click()
    assert not cine.playing
    assert frames[:6] == [1, 2, 3, 4, 5, 6]
    assert elapsed >= 5 * 0.033 * 0.9  # not faster than the file says
    shown = cine.index
    qtbot.wait(150)
    assert cine.index == shown  # paused
    cine.slider.setValue(100)
    assert cine.index == 100
    assert "101/120" in cine.frame_label.text()
