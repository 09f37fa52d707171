"""The window's measurement tools under Xvfb: real clicks in a real window, numbers in mm/°/HU."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from volumeviz.ops.measure import ellipse_stats

pytestmark = pytest.mark.gui


def _click(win: Any, qtbot: Any, view: str, lps: Any) -> None:
    from qtpy import QtCore

    widget = win.panels[view].interactor
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton, pos=win.lps_to_widget(view, lps))


def _on_axial(win: Any, vol: Any, i: float, j: float) -> np.ndarray:
    """LPS of index (i, j) on the axial slice the window shows."""
    k = win.state.slice_indices(vol)["axial"]
    return vol.index_to_lps([i, j, k])


def _clicked_lps(win: Any, view: str, lps: Any) -> np.ndarray:
    """Where a click at the widget pixel nearest to ``lps`` lands (pixel rounding)."""
    pos = win.lps_to_widget(view, lps)
    return win._widget_to_lps(view, pos.x(), pos.y())


def test_distance_tool(win: Any, qtbot: Any, phantom64: Any) -> None:
    vol = phantom64
    win.set_volume(vol)
    cursor = win.state.cursor_lps
    win.measure.set_mode("distance")
    a, b = _on_axial(win, vol, 10, 20), _on_axial(win, vol, 50, 20)
    _click(win, qtbot, "axial", a)
    assert win.measure.markups == []
    _click(win, qtbot, "axial", b)
    (m,) = win.measure.markups
    assert m.kind == "distance"
    # clicks measure, they do not move the crosshair
    assert win.state.cursor_lps == cursor
    truth = float(np.linalg.norm(_clicked_lps(win, "axial", b) - _clicked_lps(win, "axial", a)))
    assert truth == pytest.approx(40.0, abs=1.5)  # 40 columns of 1 mm, within a screen pixel
    text = win.measure.list.item(0).text()
    assert text == f"1. distance {truth:.1f} mm"
    assert win.measure.visible_on("axial") == [0]
    assert win.measure.visible_on("coronal") == []


def test_angle_tool(win: Any, qtbot: Any, phantom64: Any) -> None:
    vol = phantom64
    win.set_volume(vol)
    win.measure.set_mode("angle")
    a, v, b = (_on_axial(win, vol, *ij) for ij in ((50, 32), (20, 32), (50, 2)))
    for p in (a, v, b):
        _click(win, qtbot, "axial", p)
    (m,) = win.measure.markups
    pa, pv, pb = (np.asarray(p) for p in m.points)
    truth = math.degrees(
        math.acos((pa - pv) @ (pb - pv) / np.linalg.norm(pa - pv) / np.linalg.norm(pb - pv))
    )
    assert truth == pytest.approx(45.0, abs=2.0)
    assert win.measure.list.item(0).text() == f"1. angle {truth:.1f}°"


def test_point_tool_and_value_under_the_cursor(win: Any, qtbot: Any, phantom64: Any) -> None:
    vol = phantom64
    win.set_volume(vol)
    marker = np.asarray(vol.meta.extra["marker_lps"])
    win.set_state(win.state.moved_to(vol, marker))
    i0, i1, j0, j1, _k0, _k1 = vol.meta.extra["marker_box"]
    inside = vol.index_to_lps([(i0 + i1 - 1) / 2, (j0 + j1 - 1) / 2, vol.lps_to_index(marker)[2]])
    # the value under the mouse, with its LPS position, in the status bar
    widget = win.panels["axial"].interactor
    qtbot.mouseMove(widget, pos=win.lps_to_widget("axial", inside))
    qtbot.waitUntil(lambda: "mouse:" in win.position_label.text(), timeout=3000)
    ijk = np.rint(vol.lps_to_index(_clicked_lps(win, "axial", inside))).astype(int)
    expected = vol.array[ijk[2], ijk[1], ijk[0]]
    assert win.position_label.text().endswith(f"   {float(expected):g} HU")
    win.measure.set_mode("point")
    _click(win, qtbot, "axial", inside)
    (m,) = win.measure.markups
    text = win.measure.list.item(0).text()
    x, y, z = m.points[0]
    assert text.startswith(f"1. L {x:.1f}  P {y:.1f}  S {z:.1f} mm: ")
    assert text.endswith(f": {float(expected):g} HU")


def test_ellipse_tool(win: Any, qtbot: Any, phantom64: Any) -> None:
    vol = phantom64
    win.set_volume(vol)
    win.measure.set_mode("ellipse")
    c = _on_axial(win, vol, 32, 32)
    corner = _on_axial(win, vol, 42, 38)  # 10 mm to the side, 6 mm down
    _click(win, qtbot, "axial", c)
    _click(win, qtbot, "axial", corner)
    (m,) = win.measure.markups
    assert m.kind == "ellipse"
    pc, pa, pb = (np.asarray(p) for p in m.points)
    rx, ry = np.linalg.norm(pa - pc), np.linalg.norm(pb - pc)
    assert rx == pytest.approx(10.0, abs=1.5)
    assert ry == pytest.approx(6.0, abs=1.5)
    text = win.measure.list.item(0).text()
    assert f"ellipse {2 * rx:.1f} x {2 * ry:.1f} mm: " in text
    st = ellipse_stats(vol, m.points)
    assert f"{st.area_mm2:.1f} mm², mean {st.mean:.1f} SD {st.sd:.1f}" in text
    assert st.area_mm2 == pytest.approx(math.pi * rx * ry, rel=0.1)


def test_measurements_are_listed_deleted_and_saved_in_screenshots(
    win: Any, qtbot: Any, phantom64: Any, tmp_path: Any
) -> None:
    from PIL import Image
    from qtpy import QtCore

    vol = phantom64
    win.set_volume(vol)
    before = win.save_screenshot(tmp_path / "before.png")
    win.measure.set_mode("distance")
    for pair in (((5, 5), (60, 5)), ((5, 60), (60, 60))):
        for ij in pair:
            _click(win, qtbot, "axial", _on_axial(win, vol, *ij))
    assert win.measure.list.count() == 2
    after = win.save_screenshot(tmp_path / "after.png")
    a = np.asarray(Image.open(before).convert("RGB"), int)
    b = np.asarray(Image.open(after).convert("RGB"), int)

    def yellow(img: np.ndarray) -> int:
        return int(((img[..., 0] > 200) & (img[..., 1] > 150) & (img[..., 2] < 100)).sum())

    # two 55 mm lines (and their labels) drawn in the axial view: hundreds of new yellow pixels
    assert yellow(b) - yellow(a) > 200
    # select the first and press Delete
    win.measure.list.setCurrentRow(0)
    qtbot.keyClick(win.measure.list, QtCore.Qt.Key.Key_Delete)
    assert len(win.measure.markups) == 1
    assert win.measure.list.count() == 1
    assert win.measure.list.item(0).text().startswith("1. distance")
    win.measure.clear_button.click()
    assert win.measure.markups == []
    # back to the crosshair: a click moves it again
    win.measure.set_mode(None)
    cursor = win.state.cursor_lps
    _click(win, qtbot, "axial", _on_axial(win, vol, 12, 50))
    assert win.state.cursor_lps != cursor


def test_window_values_are_laid_out_with_the_view_text(
    win: Any, qtbot: Any, phantom64: Any
) -> None:
    """The values beside the window's measurements go through the panel's text layout (the
    same model as screenshots): drawn, near their lines, never over letters or corner text."""
    vol = phantom64
    win.set_volume(vol)
    view = win.slices["axial"]
    win.measure.set_mode("distance")
    # two lines in the upper left, where the series' own lines are, one near the top letter
    for pair in (((1, 2), (20, 3)), ((2, 5), (21, 6)), ((30, 1), (34, 1))):
        for ij in pair:
            _click(win, qtbot, "axial", _on_axial(win, vol, *ij))
    assert win.measure.list.count() == 3
    win.panels["axial"].interactor.render()
    lay = view.layout
    assert lay is not None
    assert lay.overlaps() == []
    placed = {p.text.split(":")[0]: p for p in lay.point_labels()}
    assert sorted(placed) == ["1", "2", "3"], lay.dropped
    for n, m in enumerate(win.measure.markups):
        p = placed[str(n + 1)]
        assert p.text == f"{n + 1}: {win.measure.texts()[n].split('. ', 1)[1]}"
        assert p.name in view.overlay.text_actors  # drawn where the layout put it
        # beside its line: the box is within a few text heights of one of its ends
        ren = view.plotter.renderer
        h = ren.GetSize()[1]
        ends = [view.lps_to_display(q) for q in m.points]
        near = min(
            max(p.box.x0 - x, x - p.box.x1, p.box.y0 - (h - y), (h - y) - p.box.y1, 0.0)
            for x, y in ends
        )
        assert near <= 4 * lay.font_px, (p.text, p.box, ends)
    # letters stay: a value never pushes geometry out
    assert set(view.letters()) == {"top", "bottom", "left", "right"}
