"""The window's measurement tools on CT/MR: distance, angle, point value and ellipse ROI.

Modelled on the ultrasound ruler (:mod:`volumeviz.app.cine`): clicks in a 2D view give points,
the numbers come from :mod:`volumeviz.ops.measure` (LPS millimetres, so they hold on any plane)
and a refusal is shown with its reason. Each finished measurement is a
:class:`~volumeviz.ops.measure.Markup` kept in :attr:`MeasureTool.markups`, listed in the
*Measurements* panel (select and press *Delete* to remove), and drawn in the 2D views whose plane
it lies in, so saved screenshots show it.

Tools (the *Measure* toolbar, or :meth:`MeasureTool.set_mode`):

- ``distance``: click two points;
- ``angle``: click three points, the vertex second;
- ``point``: click once: the value under it (HU for CT) and its LPS position;
- ``ellipse``: click the centre, then a corner of the ellipse's bounding box (a circle when the
  corner is on a diagonal); the axes follow the view's right and down.

Every tool works in any 2D view, an oblique plane included (:meth:`MainWindow.set_oblique`):
clicks land on the plane shown and the numbers are LPS distances and angles in that plane.

``None`` (the *Crosshair* tool) gives clicks back to the crosshair.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyvista as pv
from qtpy import QtCore, QtGui, QtWidgets

from volumeviz.errors import VolumeVizError
from volumeviz.model.deid import Redactor
from volumeviz.ops import measure
from volumeviz.ops.measure import MARKUP_POINTS, Markup
from volumeviz.render.markups import MarkupLabel

#: the tools in toolbar order (None: clicks move the crosshair)
MODES: tuple[str | None, ...] = (None, "distance", "angle", "point", "ellipse")
LABELS = {None: "Crosshair", "distance": "Distance", "angle": "Angle", "point": "Point",
          "ellipse": "Ellipse"}  # fmt: skip
COLOR = (1.0, 0.85, 0.1)
PENDING_COLOR = (0.3, 1.0, 1.0)


class MeasureTool(QtCore.QObject):
    """Measurement tools of a :class:`~volumeviz.app.window.MainWindow` (toolbar, list, actors).

    Parameters
    ----------
    window
        The main window; its 2D ``slices`` scenes, ``panels``, ``vol`` and ``state`` are used.
    """

    changed = QtCore.Signal()  # the list of markups changed
    measured = QtCore.Signal(object)  # the finished Markup, or a str: why it was refused

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.mode: str | None = None
        self.markups: list[Markup] = []
        self.pending: list[tuple[float, float, float]] = []
        self.pending_plane: str | None = None
        self.last_refusal: str | None = None
        self._actors: dict[str, list[Any]] = {}
        self._build_toolbar()
        self._build_dock()
        window.state_changed.connect(lambda _state: self.redraw())

    # ------------------------------------------------------------------------------ UI
    def _build_toolbar(self) -> None:
        tb = self.window.addToolBar("Measure")
        tb.setObjectName("measure")
        self.toolbar = tb
        self.group = QtGui.QActionGroup(self)
        self.actions: dict[str | None, QtGui.QAction] = {}
        for mode in MODES:
            act = tb.addAction(LABELS[mode])
            act.setCheckable(True)
            act.setToolTip(_TIPS[mode])
            act.triggered.connect(lambda _=False, m=mode: self.set_mode(m))
            self.group.addAction(act)
            self.actions[mode] = act
        self.actions[None].setChecked(True)

    def _build_dock(self) -> None:
        dock = QtWidgets.QDockWidget("Measurements", self.window)
        dock.setObjectName("measurements")
        body = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        self.list = QtWidgets.QListWidget()
        self.list.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.installEventFilter(self)
        self.list.itemDoubleClicked.connect(lambda item: self.go_to(self.list.row(item)))
        layout.addWidget(self.list, 1)
        row = QtWidgets.QHBoxLayout()
        self.delete_button = QtWidgets.QPushButton("Delete")
        self.delete_button.setToolTip("Remove the selected measurements (or press Delete)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.clear_button = QtWidgets.QPushButton("Clear all")
        self.clear_button.clicked.connect(self.clear)
        row.addWidget(self.delete_button)
        row.addWidget(self.clear_button)
        layout.addLayout(row)
        self.hint = QtWidgets.QLabel("")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        dock.setWidget(body)
        self.window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.dock = dock

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        """Delete / Backspace in the list removes the selected measurements."""
        if obj is self.list and event.type() == QtCore.QEvent.Type.KeyPress:
            assert isinstance(event, QtGui.QKeyEvent)
            if event.key() in (QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace):
                self.delete_selected()
                return True
        return False

    # ------------------------------------------------------------------------------ tools
    @property
    def active(self) -> bool:
        """True when a measuring tool (not the crosshair) takes the clicks."""
        return self.mode is not None and self.window.vol is not None

    def set_mode(self, mode: str | None) -> None:
        """Choose the tool: ``"distance"``, ``"angle"``, ``"point"``, ``"ellipse"`` or None."""
        if mode not in MODES:
            raise ValueError(f"unknown measuring tool {mode!r}; choose {MODES}")
        self.mode = mode
        self.actions[mode].setChecked(True)
        self._cancel_pending()
        self.hint.setText(_TIPS[mode])

    def click(self, plane: str, lps: npt.ArrayLike) -> None:
        """Add a point (LPS mm) clicked in 2D view ``plane`` to the measurement being made."""
        if not self.active or self.mode is None:
            return
        p = tuple(float(v) for v in np.asarray(lps, float).reshape(3))
        if self.pending_plane not in (None, plane):
            self._cancel_pending()  # points of one measurement come from one view
        self.pending.append((p[0], p[1], p[2]))
        self.pending_plane = plane
        need = 2 if self.mode == "ellipse" else MARKUP_POINTS[self.mode]
        if len(self.pending) < need:
            self.hint.setText(f"{LABELS[self.mode]}: point {len(self.pending)} of {need} placed")
            self.redraw()
            return
        points = list(self.pending)
        self.pending, self.pending_plane = [], None
        try:
            markup = self._finish(self.mode, plane, points)
        except VolumeVizError as exc:
            self.last_refusal = str(exc)
            self.hint.setText(f"{LABELS[self.mode]} refused: {exc}")
            self.measured.emit(self.last_refusal)
            self.redraw()
            return
        self.add(markup)
        self.measured.emit(markup)

    def _finish(self, mode: str, plane: str, points: list[tuple[float, float, float]]) -> Markup:
        if mode != "ellipse":
            m = Markup(mode, tuple(points))
            measure.measure_markup(self.window.vol, m)  # refuses (with a reason) before listing
            return m
        right, down = _view_axes(self.window.slices[plane])
        c, corner = np.asarray(points[0]), np.asarray(points[1])
        d = corner - c
        rx, ry = abs(float(d @ right)), abs(float(d @ down))
        if min(rx, ry) < 0.5:  # a click along an axis: a circle through it
            rx = ry = float(np.linalg.norm(d))
        return Markup("ellipse", measure.ellipse_points(c, right, down, rx, ry))

    def _cancel_pending(self) -> None:
        self.pending, self.pending_plane = [], None
        self.redraw()

    # ------------------------------------------------------------------------------ the list
    def add(self, markup: Markup) -> None:
        """Append a finished measurement to the list and draw it."""
        self.markups.append(markup)
        self._refresh_list()

    def delete(self, index: int) -> None:
        """Remove measurement ``index`` (0-based, in list order)."""
        del self.markups[index]
        self._refresh_list()

    def delete_selected(self) -> None:
        """Remove the measurements selected in the list."""
        rows = sorted({self.list.row(i) for i in self.list.selectedItems()}, reverse=True)
        for r in rows:
            del self.markups[r]
        if rows:
            self._refresh_list()

    def clear(self) -> None:
        """Remove every measurement (also done when the series closes)."""
        self.markups.clear()
        self.pending, self.pending_plane = [], None
        self._refresh_list()

    def texts(self) -> list[str]:
        """The list's lines: each measurement's value (:func:`describe_markup`)."""
        vol = self.window.vol
        if vol is None:
            return []
        return [f"{n + 1}. {measure.describe_markup(vol, m)}" for n, m in enumerate(self.markups)]

    def go_to(self, index: int) -> None:
        """Move the crosshair to measurement ``index`` (its first point)."""
        win = self.window
        if win.vol is not None and win.state is not None:
            win.set_state(win.state.moved_to(win.vol, self.markups[index].points[0]))

    def _refresh_list(self) -> None:
        self.list.clear()
        self.list.addItems(self.texts())
        self.redraw()
        self.changed.emit()

    # ------------------------------------------------------------------------------ drawing
    def visible_on(self, plane: str) -> list[int]:
        """Indices of the measurements drawn in 2D view ``plane`` (those lying on its slice)."""
        win = self.window
        if win.vol is None or win.state is None:
            return []
        normal = win.slices[plane].axes()[2]  # the plane shown: cardinal or oblique
        tol = max(0.5 * float(max(win.vol.spacing)), 0.5 * float(win.state.slab_mm))
        cursor = np.asarray(win.state.cursor_lps, float)
        return [
            n
            for n, m in enumerate(self.markups)
            if all(abs(float((np.asarray(p) - cursor) @ normal)) <= tol for p in m.points)
        ]

    def redraw(self) -> None:
        """Redraw every 2D view's measurements (after a change of list, cursor or slab)."""
        win = self.window
        for plane, scene in win.slices.items():
            pl = scene.plotter
            for actor in self._actors.pop(plane, []):
                pl.remove_actor(actor, render=False)
            if win.vol is None or win.state is None:
                scene.set_labels(())
                continue
            actors: list[Any] = []
            labels: list[MarkupLabel] = []
            dop = _view_dop(scene)
            for n in self.visible_on(plane):
                drawn, label = self._draw(pl, plane, self.markups[n], dop, f"{n + 1}", COLOR)
                actors += drawn
                labels += label
            if self.pending and self.pending_plane == plane and self.mode is not None:
                pending = Markup("point", (self.pending[-1],))
                actors += self._draw(pl, plane, pending, dop, "", PENDING_COLOR)[0]
            self._actors[plane] = actors
            # the values are laid out with the view's other text (render.layout: no overlap)
            scene.set_labels(labels)
            if win.panels[plane].isVisible():
                pl.render()

    def _draw(
        self, pl: Any, plane: str, m: Markup, dop: npt.NDArray[np.float64], tag: str, color: Any
    ) -> tuple[list[Any], list[MarkupLabel]]:
        lift = -dop * 1.0  # just in front of the slice, towards the camera
        pts = np.asarray(m.points, float)
        if m.kind == "ellipse":
            c, a, b = pts
            t = np.linspace(0.0, 2 * np.pi, 73)[:, None]
            pts = c + np.cos(t) * (a - c) + np.sin(t) * (b - c)
        pts = pts + lift
        out = []
        right, down = _view_axes(self.window.slices[plane])
        if m.kind == "point":
            r = 0.02 * float(max(np.asarray(self.window.vol.size) * self.window.vol.spacing))
            for axis in (right, down):
                line = pv.Line(pts[0] - r * axis, pts[0] + r * axis)
                out.append(pl.add_mesh(line, color=color, line_width=2, pickable=False,
                                       reset_camera=False, render=False))  # fmt: skip
        else:
            poly = pv.lines_from_points(pts)
            out.append(pl.add_mesh(poly, color=color, line_width=2, pickable=False,
                                   reset_camera=False, render=False))  # fmt: skip
        labels = []
        if tag:
            text = f"{tag}: {measure.describe_markup(self.window.vol, m, short=True)}"
            top = pts[int(np.argmin(pts @ down))]  # written above its highest point on screen
            labels.append(
                MarkupLabel(
                    Redactor.off()(text),
                    (float(top[0]), float(top[1]), float(top[2])),
                    tuple((float(x), float(y), float(z)) for x, y, z in pts),
                    (float(color[0]), float(color[1]), float(color[2])),
                )
            )
        return out, labels


def _view_axes(scene: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Image right and down (LPS) of a 2D view's plane, cardinal or oblique."""
    right, down, _n, _name = scene.axes()
    return right, down


def _view_dop(scene: Any) -> npt.NDArray[np.float64]:
    right, down = _view_axes(scene)
    dop = np.cross(-down, right)
    return np.asarray(dop / np.linalg.norm(dop), float)


_TIPS = {
    None: "Clicks move the crosshair.",
    "distance": "Distance: click two points in a 2D view.",
    "angle": "Angle: click three points, the vertex second.",
    "point": "Point: click to keep the value under it (HU for CT) and its position.",
    "ellipse": "Ellipse: click the centre, then a corner of its box (mean, SD, min, max, area).",
}
