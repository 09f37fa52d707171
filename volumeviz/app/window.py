"""The interactive window: a 2x2 layout of axial, coronal, sagittal MPR and the 3D view.

Everything the window shows is derived from one :class:`~volumeviz.render.state.ViewState` (the
same object ``volumeviz screenshot`` renders, so a saved layout is that picture); every
control changes that state through :meth:`MainWindow.set_state`, which then updates the scenes.
Loading runs in a background thread (:mod:`volumeviz.app.loader`); errors go to a dialog and the
window stays usable.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from pyvistaqt import QtInteractor
from qtpy import QtCore, QtGui, QtWidgets

from volumeviz.app.dims import DimensionPanel
from volumeviz.app.loader import Loader, LoadJob, PreparedVolume
from volumeviz.app.lod import preview_volume
from volumeviz.app.measure import MeasureTool
from volumeviz.app.recent import RecentFiles, open_settings
from volumeviz.app.segments import SegmentLayers, SegmentPanel
from volumeviz.errors import SeriesGeometryError, VolumeVizError
from volumeviz.model.geometry import annotation_rule
from volumeviz.model.multivolume import MultiVolume
from volumeviz.model.volume import Volume
from volumeviz.ops.mpr import PLANES, SLAB_MODES, plane_axes
from volumeviz.render import convert
from volumeviz.render.interactive import SliceView, VolumeView, image_and_matrix
from volumeviz.render.state import (
    CAMERA_KEYS,
    VIEWS,
    ViewState,
    plane_index_axes,
    value_at,
)
from volumeviz.transfer import (
    defaults,
    list_presets,
    list_window_presets,
    load_preset,
    parse_window,
)

log = logging.getLogger(__name__)

#: window presets bound to the number keys 1..9, in this order
WINDOW_KEYS = ("brain", "subdural", "stroke", "soft-tissue", "lung", "abdomen", "liver", "bone",
               "angio")  # fmt: skip
TITLES = {"axial": "Axial", "coronal": "Coronal", "sagittal": "Sagittal", "3d": "3D"}


class ViewPanel(QtWidgets.QFrame):
    """One cell of the 2x2 layout: a title bar with a maximise button over a QtInteractor."""

    maximise_requested = QtCore.Signal(str)

    def __init__(self, name: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(0)
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(4, 0, 0, 0)
        self.title = QtWidgets.QLabel(TITLES[name])
        self.info = QtWidgets.QLabel("")
        self.button = QtWidgets.QToolButton()
        self.button.setText("□")
        self.button.setToolTip("Maximise / restore this view (or double-click it)")
        self.button.setAutoRaise(True)
        self.button.clicked.connect(lambda: self.maximise_requested.emit(self.name))
        bar.addWidget(self.title)
        bar.addStretch(1)
        bar.addWidget(self.info)
        bar.addWidget(self.button)
        layout.addLayout(bar)
        self.interactor = QtInteractor(self, off_screen=False, auto_update=False)
        layout.addWidget(self.interactor.interactor, 1)


class MainWindow(QtWidgets.QMainWindow):
    """The volumeviz viewer.

    Parameters
    ----------
    settings_path
        INI file for recent files (default: ``$VOLUMEVIZ_SETTINGS`` or the user's settings).
    loader
        Function run in the loading thread (tests inject failing or slow loaders).
    """

    #: the 3D view re-renders this long after the last crosshair/slice change
    RENDER_3D_DELAY_MS = 120
    #: 2D views whose slice did not change (only their crosshair lines moved) follow this late
    RENDER_LINES_DELAY_MS = 40

    state_changed = QtCore.Signal(object)
    volume_loaded = QtCore.Signal(object)
    load_failed = QtCore.Signal(str)
    #: the volume shown along the series' extra dimensions changed (0-based index tuple)
    index_changed = QtCore.Signal(object)

    def __init__(
        self,
        settings_path: str | Path | None = None,
        loader: Loader | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("volumeviz")
        self.resize(1100, 850)
        self.vol: Volume | None = None
        self._preview: Volume | None = None
        self.ultrasound: Any = None
        self.state: ViewState | None = None
        self.path: Path | None = None
        self.recent = RecentFiles(open_settings(settings_path))
        self._loader = loader
        self._job: LoadJob | None = None
        self._drag: tuple[str, QtCore.QPointF, ViewState] | None = None
        self.last_error: str | None = None
        #: seconds from process start to the first full render (set by run_view)
        self.launch_to_first_render_s: float | None = None
        self.show_error_dialogs = True
        self._closed = False
        self._last_crop: tuple[float, ...] | None = None

        self._render3d_timer = QtCore.QTimer(self)
        self._render3d_timer.setSingleShot(True)
        self._render3d_timer.setInterval(self.RENDER_3D_DELAY_MS)
        self._render3d_timer.timeout.connect(self._render_3d_now)
        self._pending_2d: set[str] = set()
        self._render2d_timer = QtCore.QTimer(self)
        self._render2d_timer.setSingleShot(True)
        self._render2d_timer.setInterval(self.RENDER_LINES_DELAY_MS)
        self._render2d_timer.timeout.connect(self._render_2d_pending)
        self.panels: dict[str, ViewPanel] = {}
        grid_widget = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(grid_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        for n, name in enumerate(VIEWS):
            panel = ViewPanel(name)
            panel.maximise_requested.connect(self.toggle_maximise)
            grid.addWidget(panel, n // 2, n % 2)
            self.panels[name] = panel
            panel.interactor.interactor.installEventFilter(self)
        self.grid_widget = grid_widget
        self.slices = {p: SliceView(self.panels[p].interactor, p) for p in PLANES}
        self.scene3d = VolumeView(self.panels["3d"].interactor)
        for p in PLANES:  # the 2D views take mouse input themselves (see eventFilter)
            self.panels[p].interactor.iren.interactor.SetInteractorStyle(None)

        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(grid_widget)
        self.us_view: Any = None
        self.setCentralWidget(self.stack)
        self._build_actions()
        self._build_toolbar()
        self._build_statusbar()
        self.measure = MeasureTool(self)  # distance, angle, point, ellipse (app/measure.py)
        self._set_controls_enabled(False)
        #: --seg values for the next series opened ("auto": SEG/RTSTRUCT found beside it)
        self.seg_specs: list[str] = ["auto"]
        self.segmentations: list[Any] = []
        self.seg_layers = SegmentLayers()
        self.seg_panel = SegmentPanel(self.seg_layers, self)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, self.seg_panel)
        self.seg_panel.hide()
        self.seg_panel.changed.connect(self._render_all_views)
        #: the shown series' volumes along its extra dimensions (None: a plain 3D series)
        self.multivolume: MultiVolume | None = None
        #: ``--index`` for the next series opened (0-based), applied once it has loaded
        self.initial_index: dict[str, int] = {}
        self.dims_panel = DimensionPanel(self)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, self.dims_panel)
        self.dims_panel.hide()
        self.dims_panel.index_changed.connect(self.set_index)

    # ------------------------------------------------------------------------------ UI build
    def _build_actions(self) -> None:
        mb = self.menuBar()
        m_file = mb.addMenu("&File")
        self.act_open_dir = m_file.addAction("Open &folder…", self.open_folder_dialog)
        self.act_open_dir.setShortcut(QtGui.QKeySequence.StandardKey.Open)
        m_file.addAction("Open file / &DICOMDIR…", self.open_file_dialog)
        self.recent_menu = m_file.addMenu("&Recent")
        self._refresh_recent_menu()
        m_file.addSeparator()
        self.act_screenshot = m_file.addAction("Save &screenshot…", self.screenshot_dialog)
        self.act_close = m_file.addAction("&Close series", self.close_series)
        m_file.addSeparator()
        m_file.addAction("&Quit", self.close).setShortcut(QtGui.QKeySequence.StandardKey.Quit)

        m_view = mb.addMenu("&View")
        self.act_reset = m_view.addAction("&Reset view", self.reset_view)
        self.act_reset.setShortcut("R")
        for name in VIEWS:
            m_view.addAction(
                f"Maximise {TITLES[name]}", functools.partial(self.toggle_maximise, name)
            )
        self.act_oblique = m_view.addAction("&Oblique plane…", self.oblique_dialog)
        self.act_oblique.setShortcut("O")
        m_view.addSeparator()
        for letter, cam in CAMERA_KEYS.items():
            act = m_view.addAction(
                f"3D from {cam} ({letter})", functools.partial(self.set_camera, cam)
            )
            act.setShortcut(f"Shift+{letter}")

        self.m_window = mb.addMenu("&Window/Level")
        presets = list_window_presets()
        #: the CT (HU) window presets: enabled only for series whose values are HU
        self.ct_window_actions: list[QtGui.QAction] = []
        for n, name in enumerate(WINDOW_KEYS, start=1):
            wl = presets[name]
            act = self.m_window.addAction(
                f"{name} ({wl})", functools.partial(self.apply_window_preset, name)
            )
            act.setShortcut(str(n))
            self.ct_window_actions.append(act)
        for name in presets:
            if name not in WINDOW_KEYS:
                act = self.m_window.addAction(
                    f"{name} ({presets[name]})", functools.partial(self.apply_window_preset, name)
                )
                self.ct_window_actions.append(act)
        self.m_window.addSeparator()
        self.act_window_file = self.m_window.addAction(
            "From the file", lambda: self.apply_window_preset("file")
        )
        self.m_window.addAction("Automatic (default)", lambda: self.apply_window_preset("auto"))

        m_3d = mb.addMenu("&3D")
        self.m_3d = m_3d
        self.act_full_3d = m_3d.addAction("Full-resolution 3D (slower)")
        self.act_full_3d.setCheckable(True)
        self.act_full_3d.toggled.connect(self.set_full_resolution_3d)
        m_3d.addSeparator()
        self.preset_group = QtGui.QActionGroup(self)
        for name in list_presets():
            act = m_3d.addAction(name, functools.partial(self.set_preset, name))
            act.setCheckable(True)
            self.preset_group.addAction(act)

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Controls")
        tb.setObjectName("controls")
        tb.addWidget(QtWidgets.QLabel(" 3D "))
        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.addItems(list_presets())
        self.preset_combo.textActivated.connect(self.set_preset)
        tb.addWidget(self.preset_combo)
        # shift/scale the 3D preset along the value axis (3D Slicer's shift slider)
        self.tf_shift_spin = QtWidgets.QDoubleSpinBox()
        self.tf_shift_spin.setRange(-4000.0, 4000.0)
        self.tf_shift_spin.setSingleStep(10.0)
        self.tf_shift_spin.setDecimals(0)
        self.tf_shift_spin.setPrefix("shift ")
        self.tf_shift_spin.setToolTip("Move the 3D preset along the value axis (HU for CT)")
        self.tf_shift_spin.valueChanged.connect(lambda v: self._change(tf_shift=float(v)))
        tb.addWidget(self.tf_shift_spin)
        self.tf_scale_spin = QtWidgets.QDoubleSpinBox()
        self.tf_scale_spin.setRange(0.1, 10.0)
        self.tf_scale_spin.setSingleStep(0.1)
        self.tf_scale_spin.setDecimals(2)
        self.tf_scale_spin.setValue(1.0)
        self.tf_scale_spin.setPrefix("x")
        self.tf_scale_spin.setToolTip("Stretch the 3D preset's ramps from where it starts to show")
        self.tf_scale_spin.valueChanged.connect(lambda v: self._change(tf_scale=float(v)))
        tb.addWidget(self.tf_scale_spin)
        tb.addWidget(QtWidgets.QLabel(" W/L "))
        self.window_combo = QtWidgets.QComboBox()
        self.window_combo.addItems(list(list_window_presets()))
        self.window_combo.textActivated.connect(self.apply_window_preset)
        tb.addWidget(self.window_combo)
        tb.addWidget(QtWidgets.QLabel(" Slab "))
        self.slab_spin = QtWidgets.QDoubleSpinBox()
        self.slab_spin.setRange(0.0, 200.0)
        self.slab_spin.setSuffix(" mm")
        self.slab_spin.setSingleStep(1.0)
        self.slab_spin.valueChanged.connect(lambda v: self._change(slab_mm=float(v)))
        tb.addWidget(self.slab_spin)
        self.slab_mode = QtWidgets.QComboBox()
        self.slab_mode.addItems([m.upper() if m != "minip" else "MinIP" for m in SLAB_MODES])
        self.slab_mode.currentIndexChanged.connect(
            lambda i: self._change(slab_mode=SLAB_MODES[int(i)])
        )
        tb.addWidget(self.slab_mode)
        self.crop_check = QtWidgets.QCheckBox("Crop")
        self.crop_check.setToolTip("Cropping box in 3D: the box spanned by the crosshair")
        self.crop_check.toggled.connect(self.set_crop)
        tb.addWidget(self.crop_check)
        tb.addSeparator()
        self.camera_buttons: dict[str, QtWidgets.QToolButton] = {}
        for letter, cam in CAMERA_KEYS.items():
            b = QtWidgets.QToolButton()
            b.setText(letter)
            b.setToolTip(f"3D view from {cam}")
            b.clicked.connect(lambda _=False, c=cam: self.set_camera(c))
            tb.addWidget(b)
            self.camera_buttons[letter] = b
        reset = QtWidgets.QToolButton()
        reset.setText("Reset")
        reset.clicked.connect(self.reset_view)
        tb.addWidget(reset)
        self.toolbar = tb

    def _build_statusbar(self) -> None:
        sb = self.statusBar()
        self.position_label = QtWidgets.QLabel("")
        self.position_label.setMinimumWidth(380)
        sb.addWidget(self.position_label, 1)
        self.window_label = QtWidgets.QLabel("")
        sb.addPermanentWidget(self.window_label)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        sb.addPermanentWidget(self.progress)

    def _set_controls_enabled(self, on: bool) -> None:
        for w in (self.toolbar, self.m_window, self.m_3d, self.measure.toolbar):
            w.setEnabled(on)
        self.act_screenshot.setEnabled(on)
        self.act_close.setEnabled(on)
        if not on:  # disabled controls show nothing, not the values of a CT no longer open
            for combo in (self.preset_combo, self.window_combo):
                combo.blockSignals(True)
                combo.setPlaceholderText("—")  # (an empty one makes Qt select item 0)
                combo.setCurrentIndex(-1)
                combo.blockSignals(False)
            for act in self.preset_group.actions():
                act.setChecked(False)
            self.window_label.setText("")

    def _fill_window_controls(self, vol: Volume) -> None:
        """Offer the windows that make sense for ``vol``: CT presets for HU data only."""
        d = defaults.defaults_for(vol)
        names = [*d.window_presets, *(["file"] if vol.meta.windows else []), "auto"]
        self.window_combo.blockSignals(True)
        self.window_combo.clear()
        self.window_combo.addItems(names)
        self.window_combo.blockSignals(False)
        for act in self.ct_window_actions:
            act.setEnabled(d.family == "CT")
        self.act_window_file.setEnabled(bool(vol.meta.windows))

    def _sync_controls(self, state: ViewState) -> None:
        """Show ``state`` in the toolbar (no signals: the state is already current)."""
        wl = state.window_level
        name = wl.name
        key = "file" if name.startswith("file") else "auto" if name.startswith("auto") else name
        combo = self.window_combo
        combo.blockSignals(True)
        combo.setCurrentIndex(combo.findText(key) if key else -1)
        combo.setPlaceholderText(f"W {wl.width:g} / L {wl.center:g}")
        combo.blockSignals(False)
        hu = self.vol is not None and defaults.is_hu(self.vol)
        self.tf_shift_spin.setSuffix(" HU" if hu else "")
        for widget, value in (
            (self.tf_shift_spin, float(state.tf_shift)),
            (self.tf_scale_spin, float(state.tf_scale)),
            (self.slab_spin, float(state.slab_mm)),
            (self.slab_mode, SLAB_MODES.index(state.slab_mode)),
            (self.crop_check, state.crop is not None),
        ):
            widget.blockSignals(True)
            if isinstance(widget, QtWidgets.QDoubleSpinBox):
                widget.setValue(float(value))
            elif isinstance(widget, QtWidgets.QComboBox):
                widget.setCurrentIndex(int(value))
            else:
                widget.setChecked(bool(value))
            widget.blockSignals(False)

    # ------------------------------------------------------------------------------ loading
    def open_path(
        self, path: str | Path, series: str | None = None, *, job: LoadJob | None = None
    ) -> LoadJob:
        """Load ``path`` (folder, file or DICOMDIR) in the background; returns the job.

        ``job`` is a load of ``path`` already started (``volumeviz view`` starts reading before
        the window exists); its results are shown here.
        """
        if self._job is not None and self._job.is_running():
            self._job.wait()
        started = job is not None
        if job is None:
            job = LoadJob(path, series=series, loader=self._loader, parent=self)
        job.progress.connect(self._on_progress)
        job.loaded.connect(lambda obj, p=Path(path): self._on_loaded(obj, p))
        job.failed.connect(lambda msg, kind, p=Path(path): self._on_failed(msg, kind, p))
        job.done.connect(self._on_job_done)
        self._job = job
        self.progress.setRange(0, 0)  # busy until the loader reports numbers
        self.progress.setVisible(True)
        self.statusBar().showMessage(f"loading {path} …")
        if not started:
            job.start()
        elif job.outcome is not None:  # it ended before we listened: show what it gave
            what, value = job.outcome
            if what == "loaded":
                QtCore.QTimer.singleShot(0, lambda: self._on_loaded(value, Path(path)))
            else:
                msg, kind = value
                QtCore.QTimer.singleShot(0, lambda: self._on_failed(msg, kind, Path(path)))
            if job.finished_:
                self.progress.setVisible(False)
        return job

    def _on_progress(self, percent: int, text: str) -> None:
        self.progress.setRange(0, 100)
        self.progress.setValue(int(percent))
        self.progress.setFormat(f"{text} %p%")

    def _on_job_done(self) -> None:
        self.progress.setVisible(False)

    def _on_failed(self, message: str, kind: str, path: Path) -> None:
        if self._closed:
            return
        self.last_error = f"{path}: {message}"
        self.statusBar().showMessage(f"could not open {path}", 10_000)
        self.load_failed.emit(self.last_error)
        if self.show_error_dialogs:
            box = QtWidgets.QMessageBox(self)
            box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
            box.setWindowTitle("volumeviz: cannot open")
            box.setText(f"Could not open {path}")
            box.setInformativeText(f"{kind}: {message}")
            box.setObjectName("error_dialog")
            box.open()  # window-modal, does not block the event loop
            self.error_dialog = box

    def _on_loaded(self, obj: Any, path: Path) -> None:
        if self._closed:
            return
        try:
            if isinstance(obj, PreparedVolume):
                self.set_volume(obj.volume, preview=obj.preview)
                self.set_multivolume(obj.series)
                self._load_segmentations(path)
            elif isinstance(obj, Volume):
                self.set_volume(obj)
                self._load_segmentations(path)
            else:
                self.set_ultrasound(obj)
        except Exception as exc:  # shown, never fatal: the window stays usable
            log.debug("showing %s failed", path, exc_info=True)
            self.close_series()
            self._on_failed(
                " ".join(str(exc).split()) or type(exc).__name__, type(exc).__name__, path
            )
            return
        self.path = path
        self.recent.add(path)
        self._refresh_recent_menu()
        self.statusBar().showMessage(f"opened {path}", 5_000)
        self.volume_loaded.emit(obj)

    # ------------------------------------------------------------------------------ volume
    @contextlib.contextmanager
    def _one_render(self) -> Iterator[None]:
        """Hold every render inside the block, then render each view once."""
        plotters = [p.interactor for p in self.panels.values()]
        for pl in plotters:
            pl.suppress_rendering = True
        try:
            yield
        finally:
            for pl in plotters:
                pl.suppress_rendering = False
            for panel in self.panels.values():
                if panel.isVisible():
                    panel.interactor.render()

    def set_volume(
        self, vol: Volume, state: ViewState | None = None, *, preview: Any = "auto"
    ) -> None:
        """Show ``vol`` in the four views (replacing what was shown).

        The 3D view renders ``preview`` (default: :func:`~volumeviz.app.lod.preview_volume`
        of ``vol``, None for small volumes) unless *3D > Full-resolution 3D* is checked.
        """
        if isinstance(preview, str):
            preview = preview_volume(vol)
        with self._one_render():
            self._set_volume(vol, state, preview)

    def _set_volume(self, vol: Volume, state: ViewState | None, preview: Volume | None) -> None:
        self.close_series()
        self.vol = vol
        self._preview = preview
        self.stack.setCurrentWidget(self.grid_widget)
        st = (state or ViewState(mpr="quad")).resolved(vol)
        if isinstance(st.preset, str):  # the combo box lists full names ("bone" -> "ct-bone")
            st = st.replace(preset=load_preset(st.preset).name)
        if st.preset not in list_presets():
            st = st.replace(preset=ViewState(window=st.window).resolved(vol).preset)
        grid, matrix = image_and_matrix(vol)
        for scene in self.slices.values():
            scene.set_volume(vol, grid, matrix)
        self.scene3d.set_volume(vol, st.transfer_function(vol)[0], self._preview_in_use())
        self._update_3d_title()
        self.scene3d.on_crop_changed = self._on_crop_box
        self.state = None
        self._set_controls_enabled(True)
        self._fill_window_controls(vol)
        ratio = float(self.devicePixelRatioF())
        for view in self.slices.values():
            view.dpi = 96.0 * ratio
        self.scene3d.dpi = 96.0 * ratio
        self.setWindowTitle(f"volumeviz — {vol.meta.series_description or self.path or ''}")
        self.set_state(st)

    def _load_segmentations(self, path: Path) -> None:
        """Read and place the ``seg_specs`` segmentations on the shown volume (warn, not fail)."""
        from volumeviz.io.seg import load_segmentations

        if self.vol is None:
            return
        segs, notes = load_segmentations(self.vol, self.seg_specs, search=path)
        for note in notes:
            log.warning("%s", note)
        if notes:
            self.statusBar().showMessage(notes[0], 10_000)
        self.set_segmentations(segs)

    def set_segmentations(self, segs: list[Any]) -> None:
        """Show placed segmentations in every view, with the Segments panel."""
        self.segmentations = list(segs)
        if self.vol is None:
            return
        self.seg_layers.set(
            self.vol, self.segmentations, self.slices, self.panels["3d"].interactor
        )
        self.seg_panel.refresh()
        self._render_all_views()

    def _render_all_views(self) -> None:
        for panel in self.panels.values():
            if panel.isVisible():
                panel.interactor.render()

    def close_series(self) -> None:
        """Forget the loaded data and empty every view (the window stays open)."""
        if hasattr(self, "dims_panel"):
            self.dims_panel.set_series(None)
        self.multivolume = None
        self.seg_layers.clear()
        self.segmentations = []
        if hasattr(self, "seg_panel"):
            self.seg_panel.refresh()
        self._render3d_timer.stop()
        self._render2d_timer.stop()
        self._pending_2d.clear()
        for scene in self.slices.values():
            scene.clear()
        self.scene3d.clear()
        if self.us_view is not None:
            self.us_view.clear()
        self.vol = None
        self._preview = None
        self._last_crop = None
        self.ultrasound = None
        self.state = None
        self.measure.clear()  # measurements belong to the series that was shown
        self._set_controls_enabled(False)
        self.position_label.setText("")
        for panel in self.panels.values():
            panel.info.setText("")
            panel.interactor.render()
        gc.collect()

    def set_state(self, state: ViewState) -> None:
        """Make ``state`` current and update every view that depends on what changed."""
        if self.vol is None:
            return
        if state.mpr != "oblique" and state.normal is not None:
            state = state.replace(normal=None)  # the oblique plane is left with its view
        old, self.state = self.state, state
        tilted = self._orient_views(state)
        tf_key = (state.preset, state.tf_shift, state.tf_scale)
        if old is None or (old.preset, old.tf_shift, old.tf_scale) != tf_key:
            self.scene3d.set_transfer_function(state.transfer_function(self.vol)[0])
            self._sync_preset_controls(str(state.preset))
        image_changed = (
            old is None
            or tilted
            or old.window != state.window
            or old.slab_mm != state.slab_mm
            or old.slab_mode != state.slab_mode
        )
        idx = state.slice_indices(self.vol)
        old_idx = None if old is None else old.slice_indices(self.vol)
        if image_changed or old is None or old.slice != state.slice:
            for plane, scene in self.slices.items():
                scene.update(state)
                n = self.vol.size[_axis(self.vol, plane)]
                oblique = scene.oblique_normal is not None
                self.panels[plane].info.setText("" if oblique else f"{idx[plane] + 1}/{n} ")
                if image_changed or old_idx is None or old_idx[plane] != idx[plane]:
                    # its picture changed: show it now
                    self._pending_2d.discard(plane)
                    self.panels[plane].interactor.render()
                else:
                    # only its crosshair lines moved: render when input pauses
                    self._pending_2d.add(plane)
            if self._pending_2d:
                self._render2d_timer.start()
        self.scene3d.update(state)
        self._schedule_3d_render()
        if old is None or old.mpr != state.mpr or tilted:
            self._apply_layout(self._maximised_panel(state))
        wl = state.window_level
        name = f" {wl.name}" if wl.name else ""
        self._sync_controls(state)
        self.window_label.setText(f"W {wl.width:g} / L {wl.center:g}{name}  |  3D {state.preset} ")
        self._show_position(np.asarray(state.cursor_lps), "cursor")
        self.state_changed.emit(state)

    # ------------------------------------------------------------------------------ dims
    def set_multivolume(self, mv: MultiVolume | None) -> None:
        """Offer the extra dimensions (time, echo ...) of the shown series: a slider for each.

        ``mv`` is the series the shown volume belongs to (None: a plain 3D series). A pending
        :attr:`initial_index` (``view --index``) is shown now.

        Raises
        ------
        UsageError
            :attr:`initial_index` names a dimension the series does not have, or is out of range.
        """
        self.multivolume = mv
        if mv is None or self.vol is None:
            self.dims_panel.set_series(None)
            self._update_title()
            return
        shown = tuple(d.index for d in self.vol.meta.dims)
        self.dims_panel.set_series(mv, shown or mv.index(None))
        if self.initial_index:
            wanted, self.initial_index = self.initial_index, {}
            self.set_index(wanted)
        self._update_title()

    def set_index(self, index: Any) -> None:
        """Show the volume at ``index`` (0-based: a tuple, or ``{"time": 3}``) in every view.

        The three MPR planes and the 3D view change their voxels only: crosshair, window,
        preset, camera, crop and layout stay, and the sliders follow. A volume that is missing
        (incomplete) is reported in the status bar and the shown one kept.
        """
        mv = self.multivolume
        if mv is None or self.vol is None or self.state is None:
            return
        idx = mv.index(index)
        shown = tuple(d.index for d in self.vol.meta.dims)
        if idx == shown:
            self.dims_panel.set_index(idx)
            return
        try:
            vol = mv.volume(idx)
        except SeriesGeometryError as exc:
            self.statusBar().showMessage(str(exc), 10_000)
            self.dims_panel.set_index(shown)
            return
        preview = preview_volume(vol) if self._preview is not None else None
        with self._one_render():
            grid, _ = image_and_matrix(vol)
            for scene in self.slices.values():
                scene.replace_volume(vol, grid)
            self.vol, self._preview = vol, preview
            self.scene3d.replace_volume(vol, self._preview_in_use())
            self.measure.redraw()  # values under the measurements are this volume's
        self.dims_panel.set_index(idx)
        self._show_position(np.asarray(self.state.cursor_lps), "cursor")
        self._update_title()
        self.index_changed.emit(idx)

    def _update_title(self) -> None:
        if self.vol is None:
            return
        title = f"volumeviz — {self.vol.meta.series_description or self.path or ''}"
        if self.vol.meta.dims:
            title += " — " + " · ".join(d.label for d in self.vol.meta.dims)
        self.setWindowTitle(title)

    def _preview_in_use(self) -> Volume | None:
        return None if self.act_full_3d.isChecked() else self._preview

    def set_full_resolution_3d(self, on: bool) -> None:
        """Volume-render the full-resolution data (slower) instead of the block-averaged copy."""
        self.act_full_3d.setChecked(bool(on))
        if self.vol is None or self.state is None:
            return
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            self.scene3d.set_volume(
                self.vol, self.state.transfer_function(self.vol)[0], self._preview_in_use()
            )
            self.scene3d.update(self.state)
            self.scene3d.set_camera(self.state.view)
            self.panels["3d"].interactor.render()
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        self._update_3d_title()

    def _update_3d_title(self) -> None:
        r = self.scene3d.rendered
        if r is not None and self.vol is not None and r is not self.vol:
            self.panels["3d"].title.setText(f"3D (preview {'x'.join(map(str, r.size))})")
        else:
            self.panels["3d"].title.setText("3D")

    def _schedule_3d_render(self) -> None:
        """Re-render the 3D view once input pauses (a slice move never waits for it)."""
        self._render3d_timer.start()

    def _render_2d_pending(self) -> None:
        self._render2d_timer.stop()
        for plane in sorted(self._pending_2d):
            if self.panels[plane].isVisible():
                self.panels[plane].interactor.render()
        self._pending_2d.clear()

    def _render_3d_now(self) -> None:
        self._render3d_timer.stop()
        if self.panels["3d"].isVisible():
            self.panels["3d"].interactor.render()

    def flush_render(self) -> None:
        """Render now every view that has an update pending."""
        if self._render2d_timer.isActive():
            self._render_2d_pending()
        if self._render3d_timer.isActive():
            self._render_3d_now()

    def _change(self, **changes: Any) -> None:
        if self.state is not None:
            self.set_state(self.state.replace(**changes))

    def _sync_preset_controls(self, preset: str) -> None:
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentText(preset)
        self.preset_combo.blockSignals(False)
        for act in self.preset_group.actions():
            act.setChecked(act.text() == preset)

    # ------------------------------------------------------------------------------ controls
    def apply_window_preset(self, name: str) -> None:
        """Apply a window/level preset by name (``"lung"``) or ``"file"`` (the series' own)."""
        if self.state is None or self.vol is None:
            return
        if name == "file":
            if not self.vol.meta.windows:
                self.statusBar().showMessage("this series has no window of its own", 5000)
                return
            w = parse_window("file", self.vol)
            self.set_state(self.state.with_window(w.width, w.center, w.name))
            return
        if name == "auto":
            w = defaults.defaults_for(self.vol).window
            self.set_state(self.state.with_window(w.width, w.center, w.name))
            return
        if not defaults.is_hu(self.vol):
            self.statusBar().showMessage(
                f"{name!r} is a CT window (HU); this series is {self.vol.modality or 'not CT'}",
                5000,
            )
            return
        wl = list_window_presets()[name]
        self.set_state(self.state.with_window(wl.width, wl.center, name))

    def set_preset(self, name: str) -> None:
        """Switch the 3D transfer-function preset."""
        self._change(preset=name)

    def set_crop(self, on: bool) -> None:
        """Show or hide the 3D cropping box (drag its faces; the volume is cut on release).

        The box comes back where it was last left; the first time it spans the whole volume.
        """
        if self.state is None or self.vol is None:
            return
        if not on:
            self._change(crop=None)
            return
        box = self._last_crop or tuple(float(b) for b in convert.grid_bounds_lps(self.vol))
        self._change(crop=box)

    def _on_crop_box(self, bounds: tuple[float, ...]) -> None:
        self._last_crop = tuple(float(b) for b in bounds)
        self._change(crop=self._last_crop)

    def set_camera(self, name: str) -> None:
        """Look at the 3D view from an anatomical direction."""
        if self.state is None:
            return
        self.scene3d.set_camera(name)
        self._change(view=name)
        self.panels["3d"].interactor.render()

    def reset_view(self) -> None:
        """Centre the crosshair, fit every view, restore the 2x2 layout."""
        if self.vol is None or self.state is None:
            return
        for scene in self.slices.values():
            scene.reset_camera()
        self.scene3d.set_camera("anterior")
        fresh = ViewState(mpr="quad").resolved(self.vol)
        self.set_state(self.state.replace(slice=fresh.slice, mpr="quad", view="anterior"))

    def toggle_maximise(self, name: str) -> None:
        """Maximise view ``name`` or, if it already is, go back to the 2x2 layout."""
        if self.state is None:
            self._apply_layout(None)
            return
        if self._maximised_panel(self.state) == name:
            self._change(mpr="quad")
        else:
            self._change(mpr=None if name == "3d" else name)

    def _apply_layout(self, maximised: str | None) -> None:
        for name, panel in self.panels.items():
            panel.setVisible(maximised is None or name == maximised)

    # ------------------------------------------------------------------------------ oblique
    def set_oblique(self, normal: Any) -> None:
        """Show the oblique plane with LPS ``normal`` through the crosshair, maximised.

        It is the state's ``mpr="oblique"`` with ``normal`` (``volumeviz screenshot --mpr
        oblique --normal``): shown in the panel of its nearest cardinal plane, whose picture,
        letters, measurements and saved screenshot then follow the oblique plane. Maximise
        again (or :meth:`reset_view`) to go back to the 2x2 layout of cardinal planes.
        """
        n = np.asarray(normal, float).reshape(-1)
        plane_axes("oblique", normal=n)  # refuses a zero or non-finite normal (UsageError)
        self._change(mpr="oblique", normal=(float(n[0]), float(n[1]), float(n[2])))

    def oblique_dialog(self) -> None:
        """Ask for the oblique plane's normal (LPS: x to the left, y back, z up)."""
        if self.vol is None or self.state is None:
            return
        current = self.state.normal or (0.0, 0.0, 1.0)
        text, ok = QtWidgets.QInputDialog.getText(
            self,
            "Oblique plane",
            "Plane normal, LPS (x left, y posterior, z superior), e.g. 0,0.34,0.94:",
            text=",".join(f"{c:g}" for c in current),
        )
        if not ok:
            return
        try:
            values = [float(v) for v in text.replace(" ", ",").split(",") if v.strip()]
            if len(values) != 3:
                raise ValueError(f"three numbers are needed, got {len(values)}")
            self.set_oblique(values)
        except (ValueError, VolumeVizError) as exc:
            self.statusBar().showMessage(f"oblique plane refused: {exc}", 8000)

    def oblique_panel(self, normal: Any = None) -> str:
        """The 2D panel that shows an oblique plane: that of its nearest cardinal plane."""
        if normal is None and self.state is not None:
            normal = self.state.normal
        if normal is None:
            raise ValueError("no oblique plane: give its normal")
        n = np.abs(np.asarray(normal, float))
        return ("sagittal", "coronal", "axial")[int(np.argmax(n))]

    def _maximised_panel(self, state: ViewState) -> str | None:
        m = state.maximised
        return self.oblique_panel(state.normal) if m == "oblique" else m

    def _orient_views(self, state: ViewState) -> bool:
        """Tilt the oblique panel to ``state``'s plane, the others back; True if one turned."""
        panel = self.oblique_panel(state.normal) if state.mpr == "oblique" else None
        turned = False
        for plane, scene in self.slices.items():
            turned |= scene.set_normal(state.normal if plane == panel else None)
            self.panels[plane].title.setText("Oblique" if plane == panel else TITLES[plane])
        return turned

    # ------------------------------------------------------------------------------ mouse
    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        """Route mouse input of the 2D views to the crosshair, slices and window/level."""
        name = self._panel_of(obj)
        if name is None:
            return False
        et = event.type()
        if et in (QtCore.QEvent.Type.KeyPress, QtCore.QEvent.Type.KeyRelease):
            # VTK's key bindings ('q' closes the render window, 'w' wireframe ...) are not ours;
            # the window's own shortcuts (1-9, Shift+A ...) have been handled before this point
            return True
        if et == QtCore.QEvent.Type.MouseButtonDblClick:
            self.toggle_maximise(name)
            return True
        if name == "3d" or self.vol is None or self.state is None:
            return False
        if et == QtCore.QEvent.Type.Wheel:
            assert isinstance(event, QtGui.QWheelEvent)
            steps = event.angleDelta().y() // 120 or (1 if event.angleDelta().y() > 0 else -1)
            if event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier:
                self.slices[name].zoom(1.1**steps)
                self.panels[name].interactor.render()
            else:
                self.set_state(self._stepped(name, int(steps)))
            return True
        if et == QtCore.QEvent.Type.MouseButtonPress:
            assert isinstance(event, QtGui.QMouseEvent)
            if event.button() == QtCore.Qt.MouseButton.LeftButton and self.measure.active:
                pos = event.position()
                self.measure.click(name, self._widget_to_lps(name, pos.x(), pos.y()))
                return True
            if event.button() == QtCore.Qt.MouseButton.LeftButton:
                self.click_view(name, event.position().x(), event.position().y())
                self._drag = (name, event.position(), self.state)
                return True
            if event.button() == QtCore.Qt.MouseButton.RightButton:
                self._drag = ("wl:" + name, event.position(), self.state)
                return True
        if et == QtCore.QEvent.Type.MouseMove:
            assert isinstance(event, QtGui.QMouseEvent)
            pos = event.position()
            if self._drag is not None:
                what, start, st0 = self._drag
                if what.startswith("wl:"):
                    d = pos - start
                    self.set_state(st0.dragged_window(d.x(), -d.y()))
                else:
                    self.click_view(name, pos.x(), pos.y())
            else:
                lps = self._widget_to_lps(name, pos.x(), pos.y())
                self._show_position(lps, "mouse")
            return True
        if et == QtCore.QEvent.Type.MouseButtonRelease:
            self._drag = None
            return True
        return False

    def _stepped(self, name: str, steps: int) -> ViewState:
        """The state ``steps`` slices further through view ``name`` (scroll wheel)."""
        assert self.vol is not None
        assert self.state is not None
        normal = self.slices[name].oblique_normal
        if normal is None:
            return self.state.stepped(self.vol, name, steps)
        # an oblique plane moves along its normal by the finest voxel spacing
        n = np.asarray(normal, float) / np.linalg.norm(normal)
        step = float(min(self.vol.spacing)) * steps
        return self.state.moved_to(self.vol, np.asarray(self.state.cursor_lps) + step * n)

    def _panel_of(self, obj: QtCore.QObject) -> str | None:
        for name, panel in self.panels.items():
            if obj is panel.interactor.interactor:
                return name
        return None

    def _widget_to_lps(self, name: str, x: float, y: float) -> np.ndarray:
        assert self.state is not None
        widget = self.panels[name].interactor.interactor
        ratio = widget.devicePixelRatioF()
        dx, dy = x * ratio, (widget.height() - 1 - y) * ratio
        return self.slices[name].display_to_lps(dx, dy, self.state)

    def lps_to_widget(self, name: str, lps: Any) -> QtCore.QPoint:
        """Return the widget pixel (Qt: origin top-left) of an LPS point in 2D view ``name``."""
        widget = self.panels[name].interactor.interactor
        ratio = widget.devicePixelRatioF()
        dx, dy = self.slices[name].lps_to_display(lps)
        return QtCore.QPoint(round(dx / ratio), round(widget.height() - 1 - dy / ratio))

    def click_view(self, name: str, x: float, y: float) -> None:
        """Handle a left click at widget pixel ``(x, y)`` of a 2D view: move the crosshair."""
        if self.vol is None or self.state is None:
            return
        self.set_state(self.state.moved_to(self.vol, self._widget_to_lps(name, x, y)))

    def _show_position(self, lps: np.ndarray, what: str) -> None:
        if self.vol is None:
            return
        v = value_at(self.vol, lps)
        units = self.vol.units or ""
        value = "outside" if v is None else f"{v:g} {units}".strip()
        if annotation_rule(self.vol.geometry).patient_letters:
            x, y, z = (float(c) for c in lps)
            where = f"L {x:.1f}  P {y:.1f}  S {z:.1f} mm"
        else:  # no patient frame: no LPS millimetres, only the pixel (column, row, frame)
            i, j, k = (round(float(c)) for c in self.vol.lps_to_index(lps))
            where = f"column {i}  row {j}  frame {k}"
        self.position_label.setText(f"{what}: {where}   {value}")

    # ------------------------------------------------------------------------------ recent
    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for p in paths:
            self.recent_menu.addAction(p, functools.partial(self.open_path, p))
        if paths:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear", self._clear_recent)
        self.recent_menu.setEnabled(bool(paths))

    def _clear_recent(self) -> None:
        self.recent.clear()
        self._refresh_recent_menu()

    # ------------------------------------------------------------------------------ dialogs
    def open_folder_dialog(self) -> None:
        """Ask for a folder, then let the user pick a series from it."""
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if folder:
            self.browse(folder)

    def open_file_dialog(self) -> None:
        """Ask for a DICOMDIR or a single (ultrasound) file."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open DICOMDIR or file")
        if path:
            if Path(path).name.upper() == "DICOMDIR":
                self.browse(path)
            else:
                self.open_path(path)

    def browse(self, path: str | Path) -> None:
        """Scan ``path`` and show the series browser; open the series the user picks."""
        from volumeviz.app.browser import SeriesBrowser

        dlg = SeriesBrowser(Path(path), parent=self)
        dlg.series_chosen.connect(lambda key: self.open_path(path, series=key))
        dlg.failed.connect(lambda msg: self._on_failed(msg, "scan", Path(path)))
        dlg.open()
        dlg.start_scan()
        self.browser = dlg

    def screenshot_dialog(self) -> None:
        """Ask for a PNG file name and save the current layout there."""
        out, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save screenshot", "", "PNG (*.png)")
        if out:
            self.save_screenshot(out)

    def save_screenshot(self, out: str | Path) -> Path:
        """Save the visible layout (all views as laid out) to a PNG; returns the path."""
        from volumeviz.app.snapshot import save_layout_png

        return save_layout_png(self, Path(out))

    # ------------------------------------------------------------------------------ ultrasound
    def set_ultrasound(self, image: Any) -> None:
        """Show an ultrasound image in the 2D cine view."""
        from volumeviz.app.cine import CineView

        self.close_series()
        if self.us_view is None:
            self.us_view = CineView(self)
            self.stack.addWidget(self.us_view)
        self.ultrasound = image
        self.us_view.set_image(image)
        self.stack.setCurrentWidget(self.us_view)
        self.act_screenshot.setEnabled(True)
        self.act_close.setEnabled(True)

    # ------------------------------------------------------------------------------ closing
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Wait for a running load, then release every VTK object."""
        self._closed = True  # a load that finishes now is dropped, not shown
        if self._job is not None and self._job.is_running():
            self._job.wait()
        self.close_series()
        for panel in self.panels.values():
            panel.interactor.close()
        if self.us_view is not None:
            self.us_view.close_plotter()
        super().closeEvent(event)


def _axis(vol: Volume, plane: str) -> int:
    return plane_index_axes(vol)[plane]
