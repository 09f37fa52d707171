"""Segmentations in the window: a coloured layer on each 2D view, surfaces in 3D, a panel.

Each 2D view gets a second resliced image, a label map of the shown segments on the volume's
grid, coloured by a lookup table (label 0 transparent) and stacked over the grey image with a
``vtkImageStack`` (no depth fighting; the same reslice geometry, so the layer follows the
crosshair, slab position and pan exactly). Where segments overlap the later one is shown in
2D. The 3D view gets the smooth surfaces of :func:`volumeviz.render.overlay.add_segment_surfaces`.
:class:`SegmentPanel` toggles each segment and sets the opacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qtpy import QtCore, QtGui, QtWidgets
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkLookupTable
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkRenderingCore import vtkImageProperty, vtkImageSlice
from vtkmodules.vtkRenderingImage import vtkImageResliceMapper, vtkImageStack

from volumeviz.model.segmentation import Segment, Segmentation
from volumeviz.model.volume import Volume
from volumeviz.render import convert
from volumeviz.render.overlay import OverlayStyle, add_segment_surfaces, legend_label

__all__ = ["SegmentLayers", "SegmentPanel"]


class SegmentLayers:
    """The segment overlays of one window: 2D label layers and 3D surfaces."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.visible: list[bool] = []
        self.opacity = 0.4
        self._lut: Any = None
        self._stacks: list[tuple[Any, Any, Any]] = []  # (renderer, stack, grey slice)
        self._surfaces: list[Any] = []
        self._surface_of: dict[int, Any] = {}
        self._renderer3d: Any = None

    def set(
        self,
        vol: Volume,
        segs: Sequence[Segmentation],
        slices: dict[str, Any],
        plotter3d: Any,
    ) -> None:
        """Show ``segs`` (placed on ``vol``) in the 2D scenes ``slices`` and the 3D plotter."""
        self.clear()
        self.segments = [s for seg in segs for s in seg.segments if not s.empty]
        self.visible = [True] * len(self.segments)
        if not self.segments:
            return
        labels = np.zeros(vol.array.shape, np.uint16)
        n = 0
        for seg in segs:
            for s in seg.segments:
                if s.empty:
                    continue
                n += 1
                inside = s.mask if s.mask.dtype == bool else s.mask >= 0.5
                view = labels[s.block]
                view[inside] = n
        grid = vtkImageData()
        ni, nj, nk = vol.size
        grid.SetDimensions(ni, nj, nk)
        grid.SetSpacing(*vol.spacing)
        arr = numpy_to_vtk(labels.reshape(-1), deep=True)
        arr.SetName("labels")
        grid.GetPointData().SetScalars(arr)
        self._lut = vtkLookupTable()
        self._lut.SetNumberOfTableValues(len(self.segments) + 1)
        self._lut.SetTableRange(0, len(self.segments))
        self._update_lut()
        matrix = convert.vtk_matrix(convert.user_matrix(vol))
        for scene in slices.values():
            grey = getattr(scene, "_slice", None)
            if grey is None:
                continue
            mapper = vtkImageResliceMapper()
            mapper.SetInputData(grid)
            mapper.SliceFacesCameraOn()
            mapper.SliceAtFocalPointOn()
            mapper.ResampleToScreenPixelsOn()
            prop = vtkImageProperty()
            prop.SetLookupTable(self._lut)
            prop.UseLookupTableScalarRangeOn()
            prop.SetInterpolationTypeToNearest()
            layer = vtkImageSlice()
            layer.SetMapper(mapper)
            layer.SetProperty(prop)
            layer.SetUserMatrix(matrix)
            renderer = scene.plotter.renderer
            renderer.RemoveViewProp(grey)
            stack = vtkImageStack()
            stack.AddImage(grey)
            stack.AddImage(layer)
            stack.SetActiveLayer(0)
            renderer.AddViewProp(stack)
            self._stacks.append((renderer, stack, grey))
        self._renderer3d = plotter3d.renderer
        self._surfaces = add_segment_surfaces(
            plotter3d, list(segs), OverlayStyle(surface_opacity=1.0)
        )
        # one surface per non-empty segment, in the same order as self.segments
        self._surface_of = dict(enumerate(self._surfaces))

    def _update_lut(self) -> None:
        if self._lut is None:
            return
        self._lut.SetTableValue(0, 0.0, 0.0, 0.0, 0.0)
        for n, (s, on) in enumerate(zip(self.segments, self.visible, strict=True), start=1):
            r, g, b = s.color
            self._lut.SetTableValue(n, r, g, b, self.opacity if on else 0.0)
        self._lut.Modified()

    def set_visible(self, index: int, on: bool) -> None:
        """Show or hide segment ``index`` (in :attr:`segments` order) in every view."""
        self.visible[index] = on
        self._update_lut()
        actor = self._surface_of.get(index)
        if actor is not None:
            actor.SetVisibility(on)

    def set_opacity(self, value: float) -> None:
        """Fill opacity of the 2D layers (0..1)."""
        self.opacity = float(min(max(value, 0.0), 1.0))
        self._update_lut()

    def clear(self) -> None:
        """Remove every layer and surface (the grey images go back to their renderers)."""
        for renderer, stack, _grey in self._stacks:
            renderer.RemoveViewProp(stack)
            stack.GetImages().RemoveAllItems()
        self._stacks = []
        for actor in self._surfaces:
            if self._renderer3d is not None:
                self._renderer3d.RemoveActor(actor)
        self._surfaces = []
        self._surface_of = {}
        self.segments = []
        self.visible = []
        self._lut = None


class SegmentPanel(QtWidgets.QDockWidget):
    """A dock listing the segments (checkbox in the segment's colour) and an opacity slider."""

    changed = QtCore.Signal()

    def __init__(self, layers: SegmentLayers, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Segments", parent)
        self.layers = layers
        self.setObjectName("segments-dock")
        body = QtWidgets.QWidget()
        self._layout = QtWidgets.QVBoxLayout(body)
        self.opacity = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(layers.opacity * 100))
        self.opacity.setToolTip("Fill opacity of the segments on the 2D views")
        self.opacity.valueChanged.connect(self._on_opacity)
        self._layout.addWidget(QtWidgets.QLabel("Opacity"))
        self._layout.addWidget(self.opacity)
        self.boxes: list[QtWidgets.QCheckBox] = []
        self._list = QtWidgets.QVBoxLayout()
        self._layout.addLayout(self._list)
        self._layout.addStretch(1)
        self.setWidget(body)

    def refresh(self, *, anonymize: bool = False) -> None:
        """Rebuild the checkboxes from :attr:`layers`."""
        for box in self.boxes:
            self._list.removeWidget(box)
            box.deleteLater()
        self.boxes = []
        for n, s in enumerate(self.layers.segments):
            box = QtWidgets.QCheckBox(legend_label(s, anonymize=anonymize))
            box.setChecked(self.layers.visible[n])
            r, g, b = (round(c * 255) for c in s.color)
            pix = QtGui.QPixmap(12, 12)
            pix.fill(QtGui.QColor(r, g, b))
            box.setIcon(QtGui.QIcon(pix))
            box.toggled.connect(lambda on, i=n: self._on_toggle(i, on))
            self._list.addWidget(box)
            self.boxes.append(box)
        # room for the slider and every checkbox (up to a dozen; more scroll in the dock)
        self.setMinimumHeight(90 + 26 * min(len(self.boxes), 12))
        self.setVisible(bool(self.boxes))

    def _on_toggle(self, index: int, on: bool) -> None:
        self.layers.set_visible(index, on)
        self.changed.emit()

    def _on_opacity(self, value: int) -> None:
        self.layers.set_opacity(value / 100.0)
        self.changed.emit()
