"""The real window under Xvfb: crosshair linking, window/level, presets, loading, errors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.gui

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def _qt() -> Any:
    from qtpy import QtCore, QtGui, QtWidgets

    return QtCore, QtGui, QtWidgets


def _view_pixel(win: Any, view: str, lps: Any) -> np.ndarray:
    """RGB the view shows at an LPS point (rendered by the real window)."""
    pos = win.lps_to_widget(view, lps)
    pl = win.panels[view].interactor
    pl.render()
    img = pl.screenshot(None, return_img=True)
    return np.asarray(img[pos.y(), pos.x(), :3], int)


def _send_mouse(widget: Any, kind: str, pos: Any, button: Any, buttons: Any) -> None:
    QtCore, QtGui, QtWidgets = _qt()
    types = {
        "press": QtCore.QEvent.Type.MouseButtonPress,
        "move": QtCore.QEvent.Type.MouseMove,
        "release": QtCore.QEvent.Type.MouseButtonRelease,
    }
    p = QtCore.QPointF(pos)
    ev = QtGui.QMouseEvent(
        types[kind],
        p,
        widget.mapToGlobal(p),
        button,
        buttons,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(widget, ev)


def test_click_in_axial_moves_coronal_and_sagittal(win: Any, qtbot: Any, phantom64: Any) -> None:
    QtCore, _, _ = _qt()
    win.set_volume(phantom64)
    vol = phantom64
    before = win.state.slice_indices(vol)
    i0, i1, j0, j1, _k0, _k1 = vol.meta.extra["marker_box"]
    target_ijk = np.array([(i0 + i1 - 1) // 2, (j0 + j1 - 1) // 2, before["axial"]], float)
    target = vol.index_to_lps(target_ijk)
    axial = win.panels["axial"].interactor
    pos = win.lps_to_widget("axial", target)
    # radiological axial view: the marker (patient left, anterior) is right of centre and up
    assert pos.x() > axial.width() / 2
    assert pos.y() < axial.height() / 2
    qtbot.mouseClick(axial, QtCore.Qt.MouseButton.LeftButton, pos=pos)
    after = win.state.slice_indices(vol)
    assert after["sagittal"] == int(target_ijk[0])
    assert after["coronal"] == int(target_ijk[1])
    assert after["axial"] == before["axial"]  # clicking in a plane never changes its own slice
    assert np.allclose(win.state.cursor_lps, target, atol=0.51)
    # the coronal and sagittal views now cut through the marker: it is bright where they show it
    win.set_state(win.state.moved_to(vol, vol.meta.extra["marker_lps"]))
    near_marker = np.asarray(vol.meta.extra["marker_lps"]) + 3.0  # off the crosshair lines
    for view in ("coronal", "sagittal"):
        assert _view_pixel(win, view, near_marker).tolist() == [255, 255, 255], view
    # the status bar shows the position and the HU under the crosshair
    assert "1000 HU" in win.position_label.text()


def test_scroll_wheel_and_right_drag(win: Any, phantom64: Any) -> None:
    QtCore, QtGui, QtWidgets = _qt()
    win.set_volume(phantom64)
    widget = win.panels["coronal"].interactor
    start = win.state.slice_indices(phantom64)["coronal"]
    centre = QtCore.QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(3):
        wheel = QtGui.QWheelEvent(
            centre,
            widget.mapToGlobal(centre),
            QtCore.QPoint(0, 0),
            QtCore.QPoint(0, 120),
            QtCore.Qt.MouseButton.NoButton,
            QtCore.Qt.KeyboardModifier.NoModifier,
            QtCore.Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QtWidgets.QApplication.sendEvent(widget, wheel)
    assert win.state.slice_indices(phantom64)["coronal"] == start + 3
    w0, l0 = win.state.window_level.width, win.state.window_level.center
    right = QtCore.Qt.MouseButton.RightButton
    _send_mouse(widget, "press", centre, right, right)
    _send_mouse(
        widget, "move", centre + QtCore.QPointF(40, -20), QtCore.Qt.MouseButton.NoButton, right
    )
    _send_mouse(
        widget, "release", centre + QtCore.QPointF(40, -20), right, QtCore.Qt.MouseButton.NoButton
    )
    assert (win.state.window_level.width, win.state.window_level.center) == (w0 + 80, l0 + 40)
    prop = win.slices["coronal"]._slice.GetProperty()
    assert (prop.GetColorWindow(), prop.GetColorLevel()) == (w0 + 80, l0 + 40)


def test_window_presets_change_the_displayed_range(win: Any, qtbot: Any, phantom64: Any) -> None:
    QtCore, _, _ = _qt()
    win.set_volume(phantom64)
    tissue = np.asarray(win.state.cursor_lps) + np.array([-12.0, 9.0, 0.0])  # 40 HU, off the lines
    grey = {}
    for name, (width, level) in {
        "brain": (100, 50),
        "soft-tissue": (400, 40),
        "lung": (1400, -500),
    }.items():
        win.apply_window_preset(name)
        assert (win.state.window_level.width, win.state.window_level.center) == (width, level)
        for plane in ("axial", "coronal", "sagittal"):
            prop = win.slices[plane]._slice.GetProperty()
            assert (prop.GetColorWindow(), prop.GetColorLevel()) == (width, level)
        grey[name] = _view_pixel(win, "axial", tissue).mean()
    # 40 HU: 40% of the brain window, the middle of soft tissue, 89% of the lung window
    assert grey["brain"] == pytest.approx(0.40 * 255, abs=12)
    assert grey["soft-tissue"] == pytest.approx(0.50 * 255, abs=12)
    assert grey["lung"] == pytest.approx(0.886 * 255, abs=12)
    # number keys choose presets too (1 = brain, 5 = lung)
    win.raise_()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    qtbot.keyClick(win.panels["axial"].interactor, QtCore.Qt.Key.Key_1)
    assert win.state.window_name == "brain"
    assert (win.state.window_level.width, win.state.window_level.center) == (100, 50)
    qtbot.keyClick(win.panels["axial"].interactor, QtCore.Qt.Key.Key_5)
    assert win.state.window_name == "lung"


def test_preset_switch_changes_the_3d_transfer_function(win: Any, phantom64: Any) -> None:
    from volumeviz.transfer import load_preset

    win.set_volume(phantom64)
    assert win.state.preset == "ct-bone"
    hu = np.array([-900.0, -400.0, 40.0, 300.0, 1000.0])

    def opacity() -> np.ndarray:
        fn = win.scene3d.volume.GetProperty().GetScalarOpacity()
        return np.array([fn.GetValue(v) for v in hu])

    bone = opacity()
    assert np.allclose(bone, load_preset("ct-bone").opacity_at(hu), atol=1e-6)
    win.preset_combo.textActivated.emit("ct-lung")
    assert win.state.preset == "ct-lung"
    lung = opacity()
    assert np.allclose(lung, load_preset("ct-lung").opacity_at(hu), atol=1e-6)
    assert not np.allclose(lung, bone)
    # a MIP preset changes the blend mode of the mapper
    win.set_preset("ct-mip")
    assert win.scene3d.mapper.GetBlendMode() == win.scene3d.mapper.MAXIMUM_INTENSITY_BLEND


def test_mr_series_gets_mr_defaults(win: Any) -> None:
    from volumeviz.model import phantom

    mr = phantom.asymmetric(32, modality="MR")
    win.set_volume(mr)
    assert win.state.preset == "mr-default"  # never a CT preset by default
    wl = win.state.window_level
    assert wl.name == "auto 1-99%"
    assert float(mr.array.min()) <= wl.low < wl.high <= float(mr.array.max())


def test_slab_and_maximise(win: Any, qtbot: Any, phantom64: Any) -> None:
    QtCore, _, _ = _qt()
    win.set_volume(phantom64)
    win.slab_spin.setValue(12.0)
    win.slab_mode.setCurrentIndex(1)  # MinIP
    mapper = win.slices["axial"]._mapper
    assert mapper.GetSlabThickness() == 12.0
    assert mapper.GetSlabTypeAsString() == "Min"
    assert win.state.slab_mm == 12.0
    assert win.state.slab_mode == "minip"
    qtbot.mouseDClick(win.panels["sagittal"].interactor, QtCore.Qt.MouseButton.LeftButton)
    assert win.state.maximised == "sagittal"
    assert [n for n, p in win.panels.items() if p.isVisible()] == ["sagittal"]
    win.panels["sagittal"].button.click()
    assert win.state.maximised is None
    assert all(p.isVisible() for p in win.panels.values())


def test_anatomical_camera_buttons(win: Any, phantom64: Any) -> None:
    win.set_volume(phantom64)
    cam = win.panels["3d"].interactor.renderer.GetActiveCamera()
    win.camera_buttons["S"].click()
    assert cam.GetPosition()[2] > cam.GetFocalPoint()[2] + 10  # above the head
    win.camera_buttons["L"].click()
    assert cam.GetPosition()[0] > cam.GetFocalPoint()[0] + 10  # on the patient's left (+x)
    assert win.state.view == "left"
    # reset: anterior camera, centred crosshair, 2x2 layout
    win.set_state(win.state.moved_to(phantom64, (20.0, 20.0, 20.0)).replace(mpr="axial"))
    win.reset_view()
    assert cam.GetPosition()[1] < cam.GetFocalPoint()[1] - 10  # in front of the patient (-y)
    assert win.state.slice_indices(phantom64) == {"axial": 32, "coronal": 32, "sagittal": 32}
    assert win.state.maximised is None


def test_background_load_keeps_the_window_responsive(win: Any, qtbot: Any, tmp_path: Path) -> None:
    """The loader waits for the GUI thread's timer to tick five times: it can only see them if
    the event loop keeps running while it works (a load on the GUI thread would never see one).
    No clock is read: under load the ticks come later, never not at all."""
    import threading

    QtCore, _, _ = _qt()
    from volumeviz.model import phantom

    ticks: list[int] = []
    five_ticks = threading.Event()
    saw_ticks: list[bool] = []

    def on_tick() -> None:
        ticks.append(1)
        if len(ticks) >= 5:
            five_ticks.set()

    def slow_loader(path: Path, series: Any, report: Any) -> Any:
        report(10, "working")
        saw_ticks.append(five_ticks.wait(timeout=15))
        report(90, "working")
        return phantom.asymmetric(16)

    win._loader = slow_loader
    timer = QtCore.QTimer()
    timer.timeout.connect(on_tick)
    timer.start(20)
    with qtbot.waitSignal(win.volume_loaded, timeout=30_000):
        win.open_path(tmp_path)
        assert win.progress.isVisible()
    timer.stop()
    assert saw_ticks == [True]  # the event loop ran while the loader worked
    assert win.vol is not None
    assert win.vol.size == (16, 16, 16)
    qtbot.waitUntil(lambda: not win.progress.isVisible(), timeout=5000)


def test_broken_folder_shows_a_dialog_and_the_window_stays_usable(
    win: Any, qtbot: Any, tmp_path: Path, phantom64: Any
) -> None:
    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.model import phantom

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "IM0001.dcm").write_bytes(b"DICM" + b"\x00" * 300)
    (broken / "notes.txt").write_text("not an image")
    with qtbot.waitSignal(win.load_failed, timeout=30_000) as blocker:
        win.open_path(broken)
    assert str(broken) in blocker.args[0]
    dialog = win.error_dialog
    assert dialog.isVisible()
    assert str(broken) in dialog.text()
    assert dialog.informativeText()  # the loader's own message, one line
    dialog.accept()
    # still usable: open a good series in the same window
    good = tmp_path / "good"
    write_synthetic_series(phantom.asymmetric(16), good)
    with qtbot.waitSignal(win.volume_loaded, timeout=30_000):
        win.open_path(good)
    assert win.vol.size == (16, 16, 16)
    assert win.toolbar.isEnabled()


def test_open_the_bundled_sample_and_recent_files(
    win: Any, qtbot: Any, settings_ini: Path, tmp_path: Path
) -> None:
    from volumeviz.app.window import MainWindow

    sample = ASSETS / "ct-head"
    with qtbot.waitSignal(win.volume_loaded, timeout=90_000):
        win.open_path(sample)
    vol = win.vol
    assert vol.size[:2] == (512, 512)
    assert vol.size[2] == 28
    assert vol.modality == "CT"
    assert win.slices["axial"].letters() == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert win.slices["sagittal"].letters()["left"] == "A"
    assert win.state.slice_indices(vol)["axial"] == 14
    assert win.recent.paths()[0] == str(sample.resolve())
    out = win.save_screenshot(tmp_path / "shot.png")
    from PIL import Image

    with Image.open(out) as im:
        # the layout rendered as `volumeviz screenshot` renders the same view
        assert im.info["volumeviz:preset"] == "ct-bone"
        assert im.info["volumeviz:view"] == "quad"
        assert "--mpr quad" in im.info["volumeviz:cli"]
        assert np.asarray(im).std() > 10
    # a second window with the same settings file lists the sample under File > Recent
    other = MainWindow(settings_path=settings_ini)
    qtbot.addWidget(other)
    assert str(sample.resolve()) in [a.text() for a in other.recent_menu.actions()]
    assert settings_ini.is_file()
    other.close()


def test_closing_while_loading_does_not_hang(qtbot: Any, settings_ini: Path) -> None:
    from volumeviz.app.window import MainWindow
    from volumeviz.model import phantom

    def slow_loader(path: Path, series: Any, report: Any) -> Any:
        time.sleep(1.0)
        return phantom.asymmetric(8)

    w = MainWindow(settings_path=settings_ini, loader=slow_loader)
    qtbot.addWidget(w)
    w.show()
    job = w.open_path(settings_ini.parent)
    t0 = time.perf_counter()
    w.close()  # waits for the thread, which must be able to finish on its own
    assert time.perf_counter() - t0 < 10
    assert not job.is_running()


def test_closing_a_series_releases_the_data(win: Any, qtbot: Any) -> None:
    import gc
    import weakref

    from volumeviz.model import phantom

    vol = phantom.asymmetric(48)
    array_ref = weakref.ref(vol.array)
    vol_ref = weakref.ref(vol)
    win.set_volume(vol)
    win.flush_render()
    del vol
    gc.collect()
    assert vol_ref() is not None  # the window holds it while it is shown
    win.close_series()
    qtbot.wait(10)
    gc.collect()
    assert vol_ref() is None
    assert array_ref() is None  # no VTK object keeps the voxels alive
    # and the window works again afterwards
    win.set_volume(phantom.asymmetric(16))
    assert win.state.slice_indices(win.vol)["axial"] == 8


def test_cropping_box_cuts_the_3d_volume(win: Any, phantom64: Any) -> None:
    win.set_volume(phantom64)
    mapper = win.scene3d.mapper
    assert mapper.GetClippingPlanes() is None or mapper.GetClippingPlanes().GetNumberOfItems() == 0
    win.crop_check.setChecked(True)
    assert win.scene3d._box is not None  # the box widget is shown in the 3D view
    # the user drags the box (the widget reports its new bounds on release)
    box = (-20.0, 5.0, -31.5, 31.5, -40.0, 10.0)
    win.scene3d._box_moved(type("Box", (), {"bounds": box})())
    assert win.state.crop == box
    planes = mapper.GetClippingPlanes()
    assert planes.GetNumberOfItems() == 6
    origins = sorted(
        round(float(np.dot(planes.GetItem(n).GetOrigin(), planes.GetItem(n).GetNormal())), 3)
        for n in range(6)
    )
    # each plane keeps the inside: n.x >= n.origin; the box faces in LPS mm
    assert origins == sorted([-20.0, -5.0, -31.5, -31.5, -40.0, -10.0])
    win.crop_check.setChecked(False)
    assert win.scene3d._box is None
    assert mapper.GetClippingPlanes().GetNumberOfItems() == 0


def test_data_the_window_cannot_show_is_reported_not_fatal(
    win: Any, qtbot: Any, tmp_path: Path, phantom64: Any
) -> None:
    win.set_volume(phantom64)
    win._loader = lambda path, series, report: object()  # neither a Volume nor an image
    with qtbot.waitSignal(win.load_failed, timeout=20_000) as blocker:
        win.open_path(tmp_path)
    assert str(tmp_path) in blocker.args[0]
    assert win.error_dialog.isVisible()
    win.error_dialog.accept()
    assert win.vol is None
    assert str(tmp_path.resolve()) not in win.recent.paths()
    win.set_volume(phantom64)  # still usable
    assert win.toolbar.isEnabled()


def test_a_closed_window_is_freed(qtbot: Any, settings_ini: Path, phantom64: Any) -> None:
    """pyvistaqt's reference cycle: four QtInteractors must not keep a closed window alive."""
    import gc
    import weakref

    from qtpy import QtCore

    from volumeviz.app.window import MainWindow

    w = MainWindow(settings_path=settings_ini)
    w.show()
    w.set_volume(phantom64)
    w.flush_render()
    refs = [weakref.ref(w), weakref.ref(w.panels["3d"].interactor), weakref.ref(w.scene3d)]
    w.close()
    w.deleteLater()
    del w
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    gc.collect()
    assert [r() is None for r in refs] == [True, True, True]


def test_a_load_started_before_the_window_is_shown_when_it_ends(
    qtbot: Any, settings_ini: Path, tmp_path: Path
) -> None:
    """``volumeviz view`` starts reading before the window exists; nothing may be lost."""
    from volumeviz.app.loader import LoadJob
    from volumeviz.app.window import MainWindow
    from volumeviz.model import phantom

    job = LoadJob(tmp_path, loader=lambda path, series, report: phantom.asymmetric(12))
    job.start()
    assert job.wait(10_000)
    qtbot.waitUntil(lambda: job.outcome is not None, timeout=5000)  # delivered before listening
    w = MainWindow(settings_path=settings_ini)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.volume_loaded, timeout=10_000):
        w.open_path(tmp_path, job=job)
    assert w.vol.size == (12, 12, 12)
    w.close()


def test_panels_carry_scale_bar_position_and_window_as_the_screenshot_does(
    win: Any, qtbot: Any, phantom64: Any
) -> None:
    from volumeviz.render.screenshot import make_plotter, render_scene

    win.set_volume(phantom64)
    win.apply_window_preset("brain")
    win.set_state(win.state.stepped(phantom64, "axial", 5))
    win.flush_render()
    for plane in ("axial", "coronal", "sagittal"):
        view = win.slices[plane]
        lay = view.layout
        assert lay is not None, plane
        assert lay.find("scalebar") is not None, f"{plane}: no scale bar"
        shown = lay.shown("lower_left")
        assert "at " in shown, shown
        assert " mm" in shown, shown
        assert "W 100 / L 50 (brain)" in shown, shown
        assert lay.overlaps() == []
        assert set(view.letters().values()) >= {"R", "L"} or plane == "sagittal"
    assert win.scene3d.layout is not None
    assert win.scene3d.layout.find("marker") is not None
    # the same state rendered offscreen carries the same lines in each view
    state = win.state.replace(size=(700, 560))
    pl = make_plotter(state)
    try:
        info = render_scene(pl, phantom64, state)
    finally:
        pl.close()
    for plane in ("axial", "coronal", "sagittal"):
        assert win.slices[plane].cell is not None
        assert win.slices[plane].cell.texts() == info.texts[plane], plane


def test_mr_window_box_and_ct_windows(win: Any, qtbot: Any) -> None:
    from volumeviz.model import phantom

    mr = phantom.asymmetric(32, modality="MR")
    win.set_volume(mr)
    assert win.window_combo.currentText() == "auto"  # not blank
    assert "brain" not in [win.window_combo.itemText(i) for i in range(win.window_combo.count())]
    assert not any(a.isEnabled() for a in win.ct_window_actions)
    before = win.state.window_level
    win.apply_window_preset("brain")  # a CT window on MR: refused, said in the status bar
    assert win.state.window_level == before
    assert "CT window" in win.statusBar().currentMessage()
    win.set_state(win.state.dragged_window(20, 10))  # a manual window: shown as numbers
    assert win.window_combo.currentIndex() == -1
    wl = win.state.window_level
    assert win.window_combo.placeholderText() == f"W {wl.width:g} / L {wl.center:g}"
    # a CT again: the CT windows come back
    win.set_volume(phantom.asymmetric(32))
    assert win.window_combo.currentText() == "soft-tissue"
    assert all(a.isEnabled() for a in win.ct_window_actions)


def test_ultrasound_leaves_no_ct_values_in_the_disabled_controls(
    win: Any, qtbot: Any, phantom64: Any
) -> None:
    us = (
        Path(__file__).resolve().parents[1]
        / "data"
        / "us_philips_cx50_rle"
        / "philips_cx50_palette_2f_ecg_rle.dcm"
    )
    win.set_volume(phantom64)
    win.slab_spin.setValue(12.0)
    assert win.preset_combo.currentText() == "ct-bone"
    with qtbot.waitSignal(win.volume_loaded, timeout=60_000):
        win.open_path(us)
    assert not win.toolbar.isEnabled()
    assert win.preset_combo.currentIndex() == -1
    assert win.preset_combo.currentText() == ""
    assert win.window_combo.currentIndex() == -1
    assert win.window_combo.currentText() == ""
    assert win.window_label.text() == ""
    assert not any(a.isChecked() for a in win.preset_group.actions())


def test_tf_shift_and_scale_controls_move_the_3d_preset(win: Any, phantom64: Any) -> None:
    from volumeviz.transfer import load_preset

    win.set_volume(phantom64)
    hu = np.array([-500.0, 0.0, 300.0, 700.0, 1200.0])

    def opacity() -> np.ndarray:
        fn = win.scene3d.volume.GetProperty().GetScalarOpacity()
        return np.array([fn.GetValue(v) for v in hu])

    bone = load_preset("ct-bone")
    assert np.allclose(opacity(), bone.opacity_at(hu), atol=1e-6)
    win.tf_shift_spin.setValue(200.0)
    assert win.state.tf_shift == 200.0
    assert np.allclose(opacity(), bone.opacity_at(hu - 200.0), atol=1e-6)
    win.tf_scale_spin.setValue(2.0)
    assert win.state.tf_scale == 2.0
    assert np.allclose(opacity(), bone.shifted(200.0, 2.0).opacity_at(hu), atol=1e-6)
    assert win.tf_shift_spin.suffix() == " HU"
    # the saved layout is the same state: the CLI renders it with the same shift
    from volumeviz.app.snapshot import render_options

    opts = render_options(win)
    assert (opts.tf_shift, opts.tf_scale) == (200.0, 2.0)
