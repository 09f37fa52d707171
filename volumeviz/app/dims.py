"""The window's extra-dimension controls: a slider per dimension and play/pause.

A series with extra dimensions (time, echo ...) opens with a *Dimensions* panel: one slider per
dimension (labelled ``time 3/10 (4 s)``), and a play/pause button that steps along the time
dimension (else the first) at the series' own frame rate (1/TR), or 4 volumes/s when it has none.
Moving a slider shows that volume in every view (the three MPR planes and the 3D view) with the
crosshair, camera, window and preset kept; the volumes are read when asked for
(:class:`~volumeviz.model.multivolume.MultiVolume`).
"""

from __future__ import annotations

from typing import Any

from qtpy import QtCore, QtWidgets

from volumeviz.model.multivolume import MultiVolume

#: volumes per second when playing a dimension that has no rate of its own
DEFAULT_PLAY_FPS = 4.0
#: never faster than this (a short TR would only queue renders)
MAX_PLAY_FPS = 30.0


class DimensionPanel(QtWidgets.QDockWidget):
    """Sliders for the extra dimensions of the shown series, and play/pause.

    Emits ``index_changed(tuple)`` (0-based, one int per dimension) when the user moves a
    slider or playback steps.
    """

    index_changed = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Dimensions", parent)
        self.setObjectName("dimensions")
        self.mv: MultiVolume | None = None
        self.index: tuple[int, ...] = ()
        self.sliders: dict[str, QtWidgets.QSlider] = {}
        self.labels: dict[str, QtWidgets.QLabel] = {}
        body = QtWidgets.QWidget()
        self._grid = QtWidgets.QGridLayout(body)
        self._grid.setContentsMargins(6, 2, 6, 2)
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setCheckable(True)
        self.play_button.setText("Play")
        self.play_button.setToolTip("Play / pause along time (Space)")
        self.play_button.toggled.connect(self.set_playing)
        self.rate_label = QtWidgets.QLabel("")
        self.setWidget(body)
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.step)
        self.play_dim = ""

    # -- set up ------------------------------------------------------------------------------
    def set_series(self, mv: MultiVolume | None, index: tuple[int, ...] = ()) -> None:
        """Show controls for ``mv`` (None hides the panel) at ``index``."""
        self.set_playing(False)
        while self._grid.count():
            item = self._grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None and w not in (self.play_button, self.rate_label):
                w.deleteLater()
        self.sliders, self.labels = {}, {}
        self.mv = mv
        if mv is None:
            self.index = ()
            self.hide()
            return
        self.index = tuple(index) or mv.index(None)
        for row, d in enumerate(mv.dims):
            name = QtWidgets.QLabel(d.name)
            slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            slider.setObjectName(f"slider-{d.name}")
            slider.setRange(0, d.size - 1)
            slider.setPageStep(1)
            slider.setValue(self.index[row])
            slider.valueChanged.connect(lambda v, r=row: self._moved(r, int(v)))
            label = QtWidgets.QLabel("")
            label.setMinimumWidth(180)
            self._grid.addWidget(name, row, 0)
            self._grid.addWidget(slider, row, 1)
            self._grid.addWidget(label, row, 2)
            self.sliders[d.name] = slider
            self.labels[d.name] = label
        self.play_dim = "time" if "time" in mv.names else mv.names[0]
        fps = self.play_rate()
        self.rate_label.setText(f"{self.play_dim} at {fps:g}/s")
        self._grid.addWidget(self.play_button, 0, 3)
        self._grid.addWidget(self.rate_label, 0, 4)
        self._show_labels()
        self.show()

    def play_rate(self) -> float:
        """Volumes per second when playing: the series' own along time, else the default."""
        if self.mv is None:
            return DEFAULT_PLAY_FPS
        d = self.mv.dimension(self.play_dim)
        fps = d.frame_rate or DEFAULT_PLAY_FPS
        return min(fps, MAX_PLAY_FPS)

    # -- moving ------------------------------------------------------------------------------
    def _moved(self, row: int, value: int) -> None:
        idx = list(self.index)
        idx[row] = value
        self._apply(tuple(idx))

    def set_index(self, index: tuple[int, ...]) -> None:
        """Move the sliders to ``index`` and announce it (as if the user had)."""
        self._apply(tuple(index))

    def _apply(self, index: tuple[int, ...]) -> None:
        if self.mv is None or index == self.index:
            return
        self.index = index
        for d, k in zip(self.mv.dims, index, strict=True):
            slider = self.sliders[d.name]
            slider.blockSignals(True)
            slider.setValue(k)
            slider.blockSignals(False)
        self._show_labels()
        self.index_changed.emit(index)

    def _show_labels(self) -> None:
        if self.mv is None:
            return
        for d, k in zip(self.mv.dims, self.index, strict=True):
            missing = "  (missing)" if self.index in self.mv.missing else ""
            self.labels[d.name].setText(d.label(k) + missing)

    # -- playing -----------------------------------------------------------------------------
    def set_playing(self, on: bool) -> None:
        """Start or stop stepping along the play dimension."""
        if self.play_button.isChecked() != on:
            self.play_button.setChecked(on)  # calls back here
            return
        self.play_button.setText("Pause" if on else "Play")
        if on and self.mv is not None:
            self._timer.setInterval(max(1, round(1000 / self.play_rate())))
            self._timer.start()
        else:
            self._timer.stop()

    @property
    def playing(self) -> bool:
        """True while playing."""
        return bool(self._timer.isActive())

    def step(self, n: int = 1) -> None:
        """Go ``n`` steps along the play dimension (wrapping), skipping missing volumes."""
        if self.mv is None:
            return
        row = self.mv.names.index(self.play_dim)
        size = self.mv.shape[row]
        idx = list(self.index)
        for _ in range(size):
            idx[row] = (idx[row] + n) % size
            if tuple(idx) not in self.mv.missing:
                break
        self._apply(tuple(idx))

    def describe(self) -> dict[str, Any]:
        """What the panel shows (for tests and the status bar)."""
        return {
            "index": self.index,
            "labels": {k: v.text() for k, v in self.labels.items()},
            "playing": self.playing,
        }
