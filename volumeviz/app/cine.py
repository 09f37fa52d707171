"""The ultrasound view: a 2D cine with play/pause, a frame slider and a two-click ruler.

Frames are drawn by :func:`volumeviz.render.ultrasound.render_frame` (region outlines and cm
scale bars from the file's (0018,6011) regions), so the window shows what ``volumeviz us``
exports. The ruler measures through :func:`volumeviz.ops.measure.distance`: a length in cm
inside one calibrated region, or a refusal with its reason (points in different regions,
outside every region, or a region whose axes are not both cm).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyvista as pv
from pyvistaqt import QtInteractor
from qtpy import QtCore, QtGui, QtWidgets
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkRenderingCore import vtkImageActor

from volumeviz.errors import VolumeVizError
from volumeviz.ops import measure
from volumeviz.render import cameras
from volumeviz.render import ultrasound as rus

#: frame rate used when the file states none (said so in the view)
FALLBACK_FPS = 25.0


def playback_fps(image: Any) -> tuple[float, str]:
    """Return the frame rate to play ``image`` at and where it comes from.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> playback_fps(SimpleNamespace(display_fps=30.0, display_fps_source="(0008,2144) Cine Rate",
    ...                              frame_time_ms=None))
    (30.0, '(0008,2144) Cine Rate')
    >>> playback_fps(SimpleNamespace(display_fps=None, display_fps_source="", frame_time_ms=40.0))
    (25.0, 'frame time 40 ms')
    """
    if image.display_fps:
        return float(image.display_fps), image.display_fps_source or "file"
    if image.frame_time_ms:
        return 1000.0 / float(image.frame_time_ms), f"frame time {image.frame_time_ms:g} ms"
    return FALLBACK_FPS, "none in the file; default"


class CineView(QtWidgets.QWidget):
    """The ultrasound page of the main window."""

    frame_changed = QtCore.Signal(int)
    measured = QtCore.Signal(object)  # a Measurement, or a str: why it was refused

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: Any = None
        self.index = 0
        self.fps = FALLBACK_FPS
        self.points: list[tuple[float, float]] = []
        self.last_measurement: Any = None
        self.last_refusal: str | None = None
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plotter = QtInteractor(self, off_screen=False, auto_update=False)
        self.plotter.renderer.SetBackground(0.0, 0.0, 0.0)
        self.plotter.iren.interactor.SetInteractorStyle(None)
        self.plotter.installEventFilter(self)
        layout.addWidget(self.plotter, 1)
        bar = QtWidgets.QHBoxLayout()
        self.play_button = QtWidgets.QToolButton()
        self.play_button.setText("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self.set_playing)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(self.show_frame)
        self.frame_label = QtWidgets.QLabel("")
        self.ruler_label = QtWidgets.QLabel("Ruler: click two points")
        for w in (self.play_button, self.slider, self.frame_label):
            bar.addWidget(w)
        bar.setStretch(1, 1)
        layout.addLayout(bar)
        layout.addWidget(self.ruler_label)
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self._img = vtkImageData()
        self._actor = vtkImageActor()
        self._actor.GetMapper().SetInputData(self._img)
        self._line = pv.PolyData(np.zeros((2, 3)), lines=[2, 0, 1])
        self._line_actor: Any = None
        self._dots = pv.PolyData(np.zeros((2, 3)))
        self._dots_actor: Any = None

    # -- content ---------------------------------------------------------------------------
    def set_image(self, image: Any) -> None:
        """Show ``image`` (an :class:`~volumeviz.model.ultrasound.UltrasoundImage`) at frame 0."""
        self.set_playing(False)
        self.image = image
        self.fps, source = playback_fps(image)
        self.timer.setInterval(max(1, round(1000.0 / self.fps)))
        self.slider.blockSignals(True)
        self.slider.setRange(0, image.n_frames - 1)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.play_button.setEnabled(image.n_frames > 1)
        self.slider.setEnabled(image.n_frames > 1)
        self.fps_source = source
        pl = self.plotter
        pl.renderer.AddViewProp(self._actor)
        if self._line_actor is None:
            self._line_actor = pl.add_mesh(
                self._line, color="cyan", line_width=2, reset_camera=False, render=False
            )
            self._dots_actor = pl.add_mesh(
                self._dots,
                color="cyan",
                point_size=7,
                render_points_as_spheres=False,
                reset_camera=False,
                render=False,
            )
        self._line_actor.SetVisibility(False)
        self._dots_actor.SetVisibility(False)
        self.points = []
        self.last_measurement = None
        self.last_refusal = None
        self.ruler_label.setText("Ruler: click two points")
        self.index = -1
        self.show_frame(0)
        cameras.set_camera_2d(
            pl.renderer,
            image.columns - 1,
            image.rows - 1,
            max(pl.width(), 1) / max(pl.height(), 1),
        )
        pl.render()

    def clear(self) -> None:
        """Forget the image (stop playback, drop the pixels)."""
        self.set_playing(False)
        self.image = None
        self._img.Initialize()
        self.plotter.renderer.RemoveViewProp(self._actor)

    def close_plotter(self) -> None:
        """Release the render window (on closing the main window)."""
        self.timer.stop()
        self.plotter.close()

    # -- frames --------------------------------------------------------------------------------
    def show_frame(self, index: int) -> None:
        """Decode and draw frame ``index`` with outlines and scale bars."""
        if self.image is None or index == self.index:
            return
        rgb = rus.render_frame(self.image, int(index))
        rows, cols = rgb.shape[:2]
        flipped = np.ascontiguousarray(rgb[::-1].reshape(-1, 3))
        self._img.SetDimensions(cols, rows, 1)
        arr = numpy_to_vtk(flipped, deep=True)
        arr.SetName("rgb")
        self._img.GetPointData().SetScalars(arr)
        self._img.Modified()
        self.index = int(index)
        if self.slider.value() != self.index:
            self.slider.blockSignals(True)
            self.slider.setValue(self.index)
            self.slider.blockSignals(False)
        self.frame_label.setText(
            f"frame {self.index + 1}/{self.image.n_frames}  {self.fps:.3g} fps ({self.fps_source})"
        )
        self.plotter.render()
        self.frame_changed.emit(self.index)

    def set_playing(self, on: bool) -> None:
        """Play the cine at the file's frame rate, or pause it."""
        playing = bool(on) and self.image is not None and self.image.n_frames > 1
        if playing:
            self.timer.start()
        else:
            self.timer.stop()
        self.play_button.blockSignals(True)
        self.play_button.setChecked(playing)
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.blockSignals(False)

    @property
    def playing(self) -> bool:
        """Whether the cine is playing."""
        return bool(self.timer.isActive())

    def _tick(self) -> None:
        if self.image is not None:
            self.show_frame((self.index + 1) % self.image.n_frames)

    # -- ruler ---------------------------------------------------------------------------------
    def widget_to_pixel(self, x: float, y: float) -> tuple[float, float]:
        """Return the image ``(column, row)`` under widget pixel ``(x, y)`` (Qt: y down)."""
        ren = self.plotter.renderer
        ratio = self.plotter.devicePixelRatioF()
        ren.SetDisplayPoint(x * ratio, (self.plotter.height() - 1 - y) * ratio, 0.0)
        ren.DisplayToWorld()
        w = ren.GetWorldPoint()
        wx, wy = w[0] / w[3], w[1] / w[3]
        return (float(wx), float(self.image.rows - 1 - wy))

    def pixel_to_widget(self, col: float, row: float) -> QtCore.QPoint:
        """Return the widget pixel (Qt, origin top-left) showing image pixel ``(col, row)``."""
        ren = self.plotter.renderer
        ren.SetWorldPoint(float(col), float(self.image.rows - 1 - row), 0.0, 1.0)
        ren.WorldToDisplay()
        dx, dy, _ = ren.GetDisplayPoint()
        ratio = self.plotter.devicePixelRatioF()
        return QtCore.QPoint(round(dx / ratio), round(self.plotter.height() - 1 - dy / ratio))

    def click(self, col: float, row: float) -> None:
        """Add a ruler point at image pixel ``(col, row)``; the second point measures."""
        if self.image is None:
            return
        if len(self.points) == 2:
            self.points = []
        self.points.append((float(col), float(row)))
        pts = np.array(
            [[c, self.image.rows - 1 - r, 0.5] for c, r in self.points]
            + [[c, self.image.rows - 1 - r, 0.5] for c, r in self.points[-1:]]
            * (2 - len(self.points))
        )
        self._dots.points = pts
        self._line.points = pts
        self._dots_actor.SetVisibility(True)
        self._line_actor.SetVisibility(len(self.points) == 2)
        if len(self.points) == 2:
            self._measure()
        else:
            self.ruler_label.setText(
                f"Ruler: first point ({col:.0f}, {row:.0f}); click the second"
            )
        self.plotter.render()

    def _measure(self) -> None:
        p0, p1 = self.points
        try:
            m = measure.distance(self.image, p0, p1)
        except VolumeVizError as exc:
            self.last_measurement = None
            self.last_refusal = str(exc)
            self.ruler_label.setText(f"Ruler refused: {exc}")
            self.measured.emit(self.last_refusal)
            return
        self.last_measurement = m
        self.last_refusal = None
        note = "" if m.calibration == "region" else f" ({m.calibration})"
        self.ruler_label.setText(f"Ruler: {m.value:.2f} {m.units}{note} — {m.basis}")
        self.measured.emit(m)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        """Left clicks place ruler points; keys and other mouse input are not VTK's."""
        et = event.type()
        if et in (QtCore.QEvent.Type.KeyPress, QtCore.QEvent.Type.KeyRelease):
            return True
        if et == QtCore.QEvent.Type.MouseButtonPress and self.image is not None:
            assert isinstance(event, QtGui.QMouseEvent)
            if event.button() == QtCore.Qt.MouseButton.LeftButton:
                col, row = self.widget_to_pixel(event.position().x(), event.position().y())
                self.click(col, row)
            return True
        if et in (
            QtCore.QEvent.Type.MouseButtonRelease,
            QtCore.QEvent.Type.MouseMove,
            QtCore.QEvent.Type.MouseButtonDblClick,
            QtCore.QEvent.Type.Wheel,
        ):
            return True
        return False
