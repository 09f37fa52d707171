"""Segmentations in the window: a coloured layer on each 2D view, surfaces in 3D, a panel.

Each 2D view gets resliced label layers over the grey image, stacked with a ``vtkImageStack``
(no depth fighting; the same reslice geometry, so a layer follows the crosshair, slab position
and pan exactly). A layer is a label map on the volume's grid coloured by a lookup table (label
0 transparent). Segments that overlap go to different layers (greedy, in segment order; most
segmentations need one), so where they overlap both translucent colours stay visible, composited
in segment order as in :func:`volumeviz.render.overlay.overlay_rgba`, and hiding one segment
never uncovers a hole in another. The 3D view gets the smooth surfaces of
:func:`volumeviz.render.overlay.add_segment_surfaces`.
:class:`SegmentPanel` toggles each segment and sets the opacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
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
        self._luts: list[Any] = []
        self._where: list[tuple[int, int]] = []  # per segment: (layer, label value)
        self._stacks: list[tuple[Any, Any, Any]] = []  # (2D scene, stack, grey slice)
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
        layers = _layered_labels(vol.array.shape, self.segments)
        self._where = list(layers.where)
        self._luts = []
        grids = []
        for li, labels in enumerate(layers.labels):
            grid = vtkImageData()
            ni, nj, nk = vol.size
            grid.SetDimensions(ni, nj, nk)
            grid.SetSpacing(*vol.spacing)
            arr = numpy_to_vtk(labels.reshape(-1), deep=True)
            arr.SetName(f"labels{li}")
            grid.GetPointData().SetScalars(arr)
            lut = vtkLookupTable()
            n_labels = sum(1 for w in layers.where if w[0] == li)
            lut.SetNumberOfTableValues(n_labels + 1)
            lut.SetTableRange(0, n_labels)
            self._luts.append(lut)
            grids.append(grid)
        self._update_lut()
        matrix = convert.vtk_matrix(convert.user_matrix(vol))
        for scene in slices.values():
            grey = getattr(scene, "_slice", None)
            if grey is None:
                continue
            renderer = scene.plotter.renderer
            renderer.RemoveViewProp(grey)
            stack = vtkImageStack()
            stack.AddImage(grey)
            for grid, lut in zip(grids, self._luts, strict=True):
                mapper = vtkImageResliceMapper()
                mapper.SetInputData(grid)
                mapper.SliceFacesCameraOn()
                mapper.SliceAtFocalPointOn()
                mapper.ResampleToScreenPixelsOn()
                prop = vtkImageProperty()
                prop.SetLookupTable(lut)
                prop.UseLookupTableScalarRangeOn()
                prop.SetInterpolationTypeToNearest()
                layer = vtkImageSlice()
                layer.SetMapper(mapper)
                layer.SetProperty(prop)
                layer.SetUserMatrix(matrix)
                stack.AddImage(layer)
            stack.SetActiveLayer(0)
            renderer.AddViewProp(stack)
            self._stacks.append((scene, stack, grey))
        self._renderer3d = plotter3d.renderer
        self._surfaces = add_segment_surfaces(
            plotter3d, list(segs), OverlayStyle(surface_opacity=1.0)
        )
        # one surface per non-empty segment, in the same order as self.segments
        self._surface_of = dict(enumerate(self._surfaces))

    @property
    def n_layers(self) -> int:
        """How many label layers each 2D view stacks (1 unless segments overlap)."""
        return len(self._luts)

    def _update_lut(self) -> None:
        for lut in self._luts:
            lut.SetTableValue(0, 0.0, 0.0, 0.0, 0.0)
        for s, on, (li, value) in zip(self.segments, self.visible, self._where, strict=True):
            r, g, b = s.color
            self._luts[li].SetTableValue(value, r, g, b, self.opacity if on else 0.0)
        for lut in self._luts:
            lut.Modified()

    def set_visible(self, index: int, on: bool) -> None:
        """Show or hide segment ``index`` (in :attr:`segments` order) in every view."""
        self.visible[index] = on
        self._update_lut()
        actor = self._surface_of.get(index)
        if actor is not None:
            actor.SetVisibility(on)
            lines = getattr(actor, "_volumeviz_contours", None)
            if lines is not None:
                lines.SetVisibility(on)

    def set_opacity(self, value: float) -> None:
        """Fill opacity of the 2D layers (0..1)."""
        self.opacity = float(min(max(value, 0.0), 1.0))
        self._update_lut()

    def clear(self) -> None:
        """Remove every layer and surface (the grey images go back to their renderers)."""
        for scene, stack, grey in self._stacks:
            renderer = scene.plotter.renderer
            renderer.RemoveViewProp(stack)
            # RemoveImage, not GetImages().RemoveAllItems(): AddImage made the stack a consumer
            # of each image, and a consumer left behind dangles once the stack is freed (the
            # next render of the grey image crashed)
            images = stack.GetImages()
            for image in [images.GetItemAsObject(n) for n in range(images.GetNumberOfItems())]:
                stack.RemoveImage(image)
            if getattr(scene, "_slice", None) is grey:  # still that view's image: put it back
                renderer.AddViewProp(grey)
        self._stacks = []
        for actor in self._surfaces:
            if self._renderer3d is not None:
                self._renderer3d.RemoveActor(actor)
                lines = getattr(actor, "_volumeviz_contours", None)
                if lines is not None:
                    self._renderer3d.RemoveActor(lines)
        self._surfaces = []
        self._surface_of = {}
        self.segments = []
        self.visible = []
        self._luts = []
        self._where = []


@dataclass(frozen=True)
class _Layers:
    labels: list[npt.NDArray[np.uint16]]  # one label map per layer, (k, j, i)
    where: list[tuple[int, int]]  # per segment: (layer index, label value in that layer)


def _layered_labels(shape: tuple[int, ...], segments: Sequence[Segment]) -> _Layers:
    """Label layers for ``segments`` such that no two segments of one layer share a voxel.

    Greedy in segment order: a segment goes to the first layer where none of its voxels is
    taken (fractional segments count where their fraction is >= 0.5, as drawn).
    """
    labels: list[npt.NDArray[np.uint16]] = []
    counts: list[int] = []
    where: list[tuple[int, int]] = []
    for s in segments:
        inside = s.mask if s.mask.dtype == bool else s.mask >= 0.5
        for li, lab in enumerate(labels):
            if counts[li] < 65535 and not lab[s.block][inside].any():
                break
        else:
            labels.append(np.zeros(shape, np.uint16))
            counts.append(0)
            li = len(labels) - 1
        counts[li] += 1
        view = labels[li][s.block]
        view[inside] = counts[li]
        where.append((li, counts[li]))
    return _Layers(labels, where)


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
