"""An oblique plane in the window: the screenshot's plane, measured on, saved alike."""

from __future__ import annotations

import json
import math
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.gui

#: tilted 20 degrees from axial about the left-right axis (a gantry-like tilt)
NORMAL = (0.0, math.sin(math.radians(20)), math.cos(math.radians(20)))


def _click(win: Any, qtbot: Any, view: str, lps: Any) -> None:
    from qtpy import QtCore

    widget = win.panels[view].interactor
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton, pos=win.lps_to_widget(view, lps))


def _clicked(win: Any, view: str, lps: Any) -> np.ndarray:
    pos = win.lps_to_widget(view, lps)
    return win._widget_to_lps(view, pos.x(), pos.y())


def test_oblique_plane_is_the_screenshots_plane(win: Any, qtbot: Any, phantom64: Any) -> None:
    from volumeviz.ops.mpr import plane_axes
    from volumeviz.render.screenshot import render_image

    win.set_volume(phantom64)
    win.set_oblique(NORMAL)
    assert win.state.mpr == "oblique"
    assert win.oblique_panel() == "axial"
    assert win.panels["axial"].isVisible()
    assert not win.panels["coronal"].isVisible()
    assert win.panels["axial"].title.text() == "Oblique"
    view = win.slices["axial"]
    right, down, normal, _name = plane_axes("oblique", normal=NORMAL)
    got = view.axes()
    for a, b in zip(got[:3], (right, down, normal), strict=True):
        assert np.allclose(a, b)
    win.flush_render()
    # the panel shows the oblique plane's letters and caption, as the screenshot does
    _, info = render_image(phantom64, win.state.replace(size=(600, 500)))
    assert view.letters() == info.letters["oblique"]
    assert view.cell is not None
    assert view.cell.texts()["lower_left"] == info.texts["oblique"]["lower_left"]
    assert "oblique 20°" in view.cell.texts()["lower_left"]
    # a click lands on the plane through the crosshair
    cursor = np.asarray(win.state.cursor_lps)
    p = _clicked(win, "axial", cursor + 12 * right - 7 * down)
    assert abs(float((p - cursor) @ normal)) < 1e-6
    # the wheel moves the plane along its normal (a finest spacing a step)
    before = cursor
    win.set_state(win._stepped("axial", 2))
    moved = np.asarray(win.state.cursor_lps) - before
    assert np.allclose(moved, 2 * min(phantom64.spacing) * normal, atol=1e-6)
    # maximise again: back to the four cardinal views
    win.toggle_maximise("axial")
    assert win.state.mpr == "quad"
    assert win.state.normal is None
    assert win.panels["coronal"].isVisible()
    assert win.panels["axial"].title.text() == "Axial"
    assert np.allclose(view.axes()[2], (0, 0, 1))


def test_measuring_on_an_oblique_plane(
    win: Any, qtbot: Any, phantom64: Any, tmp_path: Path
) -> None:
    from PIL import Image

    vol = phantom64
    win.set_volume(vol)
    win.set_oblique(NORMAL)
    win.flush_render()
    right, down, normal, _ = win.slices["axial"].axes()
    cursor = np.asarray(win.state.cursor_lps)
    a_, b_ = cursor - 15 * right - 10 * down, cursor + 12 * right + 6 * down
    win.measure.set_mode("distance")
    _click(win, qtbot, "axial", a_)
    _click(win, qtbot, "axial", b_)
    (m,) = win.measure.markups
    pa, pb = (np.asarray(p) for p in m.points)
    # both ends on the oblique plane; the length is theirs in mm (within a screen pixel)
    assert abs(float((pa - cursor) @ normal)) < 1e-6
    assert abs(float((pb - cursor) @ normal)) < 1e-6
    assert float(np.linalg.norm(pb - pa)) == pytest.approx(math.hypot(27, 16), abs=1.5)
    assert win.measure.list.item(0).text() == f"1. distance {np.linalg.norm(pb - pa):.1f} mm"
    assert win.measure.visible_on("axial") == [0]
    # an ellipse's axes follow the oblique view's right and down
    win.measure.set_mode("ellipse")
    _click(win, qtbot, "axial", cursor)
    _click(win, qtbot, "axial", cursor + 8 * right + 5 * down)
    c, ea, eb = (np.asarray(p) for p in win.measure.markups[1].points)
    assert abs(float((ea - c) @ right)) == pytest.approx(8, abs=1.0)
    assert abs(float((eb - c) @ down)) == pytest.approx(5, abs=1.0)
    assert abs(float((eb - c) @ right)) < 1e-6
    win.flush_render()
    lay = win.slices["axial"].layout
    assert lay is not None
    assert lay.overlaps() == []
    assert sorted(p.text.split(":")[0] for p in lay.point_labels()) == ["1", "2"]
    # the saved screenshot is the oblique plane with both measurements, as the CLI draws it
    shot = win.save_screenshot(tmp_path / "oblique.png")
    with Image.open(shot) as im:
        meta = dict(im.info)
        img = np.asarray(im.convert("RGB"), int)
    assert "--mpr oblique --normal 0,0.34202,0.939693" in meta["volumeviz:cli"]
    marks = json.loads(meta["volumeviz:measurements"])["oblique"]
    assert marks[0] == f"distance {np.linalg.norm(pb - pa):.1f} mm"
    assert marks[1].startswith("ellipse ")
    folder = tmp_path / "series"
    from volumeviz.io.synth import write_synthetic_series

    write_synthetic_series(vol, folder)
    ref = tmp_path / "cli.png"
    res = subprocess.run(
        [sys.executable, "-m", "volumeviz", "screenshot", str(folder),
         *shlex.split(meta["volumeviz:cli"]), "-o", str(ref)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    with Image.open(ref) as im:
        cli_img = np.asarray(im.convert("RGB"), int)
        assert json.loads(im.info["volumeviz:measurements"])["oblique"] == marks
    assert cli_img.shape == img.shape
    assert np.abs(cli_img - img).mean() < 1.5
    # back in the 2x2 layout the axial (cardinal) view does not show them: not on its plane
    win.toggle_maximise("axial")
    assert win.measure.visible_on("axial") == []
