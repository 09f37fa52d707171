"""Segmentations in the window: a coloured layer on each 2D view, surfaces in 3D, a panel.

Each 2D view gets resliced label layers over the grey image, stacked with a ``vtkImageStack``
(no depth fighting; the same reslice geometry, so a layer follows the crosshair, slab position
and pan exactly). A layer is a label map on the volume's grid coloured by a lookup table (label
0 transparent). Segments that overlap go to different layers (greedy, in segment order; most
segmentations need one), so where they overlap both translucent colours stay visible, composited
in segment order as in :func:`volumeviz.render.overlay.overlay_rgba`, and hiding one segment
never uncovers a hole in another. Each layer's fill (at the panel's opacity) is topped by its
outline, opaque as in screenshots: the voxels of a segment with an in-plane 4-neighbour outside
it, in-plane meaning the two voxel axes across the view's normal (the voxel axis nearest to it;
for a grid tilted against the view the outline follows the voxel faces). The 3D view gets the
smooth surfaces of :func:`volumeviz.render.overlay.add_segment_surfaces`.
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
from volumeviz.render.state import PLANE_LPS_AXIS

__all__ = ["SegmentLayers", "SegmentPanel"]


class SegmentLayers:
    """The segment overlays of one window: 2D label layers and 3D surfaces."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.visible: list[bool] = []
        self.opacity = 0.4
        self._luts: list[Any] = []  # fill colours of each layer
        self._outline_luts: list[Any] = []  # outline colours of each layer (opaque)
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
        self._luts, self._outline_luts = [], []
        for li in range(len(layers.labels)):
            n_labels = sum(1 for w in layers.where if w[0] == li)
            for luts in (self._luts, self._outline_luts):
                lut = vtkLookupTable()
                lut.SetNumberOfTableValues(n_labels + 1)
                lut.SetTableRange(0, n_labels)
                luts.append(lut)
        self._update_lut()
        grids = [_image_data(vol, lab) for lab in layers.labels]
        outlines: dict[int, list[Any]] = {}  # numpy axis of the view's normal -> per layer
        matrix = convert.vtk_matrix(convert.user_matrix(vol))
        for name, scene in slices.items():
            grey = getattr(scene, "_slice", None)
            if grey is None:
                continue
            normal = _normal_axis(vol, getattr(scene, "plane", name))
            if normal not in outlines:
                outlines[normal] = [
                    _image_data(vol, _outline(lab, normal)) for lab in layers.labels
                ]
            renderer = scene.plotter.renderer
            renderer.RemoveViewProp(grey)
            stack = vtkImageStack()
            stack.AddImage(grey)
            for n, (grid, lut) in enumerate(zip(grids, self._luts, strict=True)):
                stack.AddImage(_label_slice(grid, lut, matrix))
                stack.AddImage(_label_slice(outlines[normal][n], self._outline_luts[n], matrix))
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
        for lut in (*self._luts, *self._outline_luts):
            lut.SetTableValue(0, 0.0, 0.0, 0.0, 0.0)
        for s, on, (li, value) in zip(self.segments, self.visible, self._where, strict=True):
            r, g, b = s.color
            self._luts[li].SetTableValue(value, r, g, b, self.opacity if on else 0.0)
            self._outline_luts[li].SetTableValue(value, r, g, b, 1.0 if on else 0.0)
        for lut in (*self._luts, *self._outline_luts):
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

    def shown(self, segs: Sequence[Segmentation]) -> list[Segmentation]:
        """``segs`` (those given to :meth:`set`) without the segments hidden in the panel."""
        hidden = {id(s) for s, on in zip(self.segments, self.visible, strict=True) if not on}
        out = []
        for seg in segs:
            keep = tuple(s for s in seg.segments if id(s) not in hidden)
            if keep:
                out.append(seg if len(keep) == len(seg.segments) else seg.replace(segments=keep))
        return out

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
        self._outline_luts = []
        self._where = []


def _image_data(vol: Volume, labels: npt.NDArray[Any]) -> Any:
    """``labels`` (k, j, i) as vtkImageData on ``vol``'s index grid (spacing, no origin)."""
    grid = vtkImageData()
    ni, nj, nk = vol.size
    grid.SetDimensions(ni, nj, nk)
    grid.SetSpacing(*vol.spacing)
    arr = numpy_to_vtk(np.ascontiguousarray(labels).reshape(-1), deep=True)
    arr.SetName("labels")
    grid.GetPointData().SetScalars(arr)
    return grid


def _label_slice(grid: Any, lut: Any, matrix: Any) -> Any:
    """A resliced, nearest-neighbour, lookup-table coloured layer for a 2D view's stack."""
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
    return layer


def _normal_axis(vol: Volume, plane: str) -> int:
    """The numpy axis of ``vol.array`` (k, j, i) nearest to the normal of 2D view ``plane``."""
    lps_axis = PLANE_LPS_AXIS.get(plane, 2)
    voxel_axis = int(np.argmax(np.abs(np.asarray(vol.direction)[lps_axis, :])))  # 0 = i
    return 2 - voxel_axis


def _outline(labels: npt.NDArray[Any], normal: int) -> npt.NDArray[Any]:
    """``labels`` kept where an in-plane 4-neighbour (across numpy axis ``normal``) differs.

    Outside the array counts as background, so a segment touching the edge is outlined there.

    >>> lab = np.zeros((1, 5, 5), np.uint8)
    >>> lab[0, 1:4, 1:4] = 2
    >>> _outline(lab, 0)[0]
    array([[0, 0, 0, 0, 0],
           [0, 2, 2, 2, 0],
           [0, 2, 0, 2, 0],
           [0, 2, 2, 2, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """
    edge = np.zeros(labels.shape, bool)
    padded = np.pad(labels, 1)
    core = tuple(slice(1, -1) for _ in range(3))
    for axis in (a for a in range(3) if a != normal):
        for step in (-1, 1):
            shifted = list(core)
            shifted[axis] = slice(1 + step, padded.shape[axis] - 1 + step)
            edge |= padded[tuple(shifted)] != labels
    return np.where(edge, labels, 0).astype(labels.dtype)


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
