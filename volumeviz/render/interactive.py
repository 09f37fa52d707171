"""Live views: the VTK content of the window's panels, kept in step with a ViewState.

A :class:`SliceView` fills one 2D plotter (axial, coronal or sagittal) and a :class:`VolumeView`
the 3D plotter; both take any pyvista plotter (the window gives them QtInteractors) and import no
Qt. They only *update* what exists (camera focal point, window, slab, transfer function), so
moving a slice costs one reslice of the visible plane and one render. Nothing here owns the data
beyond the shared ``pv.ImageData``. The offscreen pictures (:mod:`volumeviz.render.screenshot`)
are drawn from the same :class:`~volumeviz.render.state.ViewState`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvista as pv
from vtkmodules.vtkCommonDataModel import vtkPlane
from vtkmodules.vtkRenderingCore import vtkImageProperty, vtkImageSlice
from vtkmodules.vtkRenderingImage import vtkImageResliceMapper

from volumeviz.model.deid import Redactor
from volumeviz.model.volume import Volume
from volumeviz.ops import mpr
from volumeviz.render import annotations as rannotations
from volumeviz.render import cameras, convert
from volumeviz.render import volume as rvolume
from volumeviz.render.layout import CellLayout, CellText
from volumeviz.render.markups import MarkupLabel, add_labels
from volumeviz.render.state import PLANE_LPS_AXIS, ViewState
from volumeviz.transfer import TransferFunction

log = logging.getLogger(__name__)

__all__ = ["PLANE_COLORS", "SliceView", "VolumeView", "image_and_matrix", "view_vectors"]

#: crosshair colours of the planes (the colour of a plane's line in the other views)
PLANE_COLORS: dict[str, tuple[float, float, float]] = {
    "axial": (0.2, 0.6, 1.0),
    "coronal": (0.3, 0.9, 0.3),
    "sagittal": (1.0, 0.4, 0.3),
}
_SLAB_TYPES = {"mip": "SetSlabTypeToMax", "minip": "SetSlabTypeToMin", "mean": "SetSlabTypeToMean"}


def image_and_matrix(vol: Volume) -> tuple[pv.ImageData, npt.NDArray[np.float64]]:
    """Return the volume as ``pv.ImageData`` (no copy) and the actor ``user_matrix`` to LPS."""
    return convert.volume_to_grid(vol), convert.user_matrix(vol)


def view_vectors(
    plane: str, normal: npt.ArrayLike | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the camera direction of projection and view-up (LPS unit vectors) of a 2D view.

    The plane is the patient plane of :func:`volumeviz.ops.mpr.plane_axes` (the same plane and
    image right/down as ``volumeviz screenshot --mpr``): the camera looks so that the image's
    right is ``right`` and its top is ``-down`` (radiological convention).

    Examples
    --------
    >>> dop, up = view_vectors("axial")  # seen from the feet, anterior up
    >>> dop.tolist(), up.tolist()
    ([0.0, 0.0, 1.0], [0.0, -1.0, 0.0])
    """
    if normal is not None:  # an oblique plane: right/down of its nearest cardinal plane
        right, down, _normal, _name = mpr.plane_axes("oblique", normal=normal)
    else:
        right, down, _normal, _name = mpr.plane_axes(plane)
    up = -down + 0.0
    dop = np.cross(up, right) + 0.0
    return dop / np.linalg.norm(dop), up


class SliceView:
    """One 2D MPR view: a resliced image facing the camera at the crosshair, crosshair lines.

    Parameters
    ----------
    plotter
        The QtInteractor (any pyvista plotter) to fill.
    plane
        ``"axial"``, ``"coronal"`` or ``"sagittal"``: the panel's own plane. The view can be
        tilted to an oblique plane (:meth:`set_normal`) and back.
    """

    #: resolution the panel is seen at (the window sets 96 x its device pixel ratio)
    dpi: float = 96.0

    def __init__(self, plotter: Any, plane: str) -> None:
        self.plotter = plotter
        self.plane = plane
        self.vol: Volume | None = None
        self._slice: Any = None
        self._mapper: Any = None
        self._lines: dict[str, pv.PolyData] = {}
        #: LPS normal of the oblique plane shown instead of ``plane`` (None: ``plane`` itself)
        self.oblique_normal: tuple[float, float, float] | None = None
        self._dop, self._up = view_vectors(plane)
        self.overlay = rannotations.Overlay(plotter.renderer)
        self.layout: CellLayout | None = None
        self.cell: CellText | None = None
        #: the series' own lines (description, patient, loader actions) show in this view
        self.show_meta = plane == "axial"
        self._text_state: tuple[Any, ...] | None = None
        self._drawn_key: tuple[Any, ...] | None = None
        self._observer: int | None = None
        #: measurement values shown beside their points, laid out with the rest of the text
        self.labels: tuple[MarkupLabel, ...] = ()

    # -- build ---------------------------------------------------------------------------------
    def set_volume(self, vol: Volume, grid: pv.ImageData, matrix: npt.NDArray[np.float64]) -> None:
        """Put ``vol`` in the view (replacing what was there)."""
        self.clear()
        self.vol = vol
        pl = self.plotter
        pl.set_background("black")
        mapper = vtkImageResliceMapper()
        mapper.SetInputData(grid)
        mapper.SliceFacesCameraOn()
        mapper.SliceAtFocalPointOn()
        mapper.ResampleToScreenPixelsOn()
        prop = vtkImageProperty()
        prop.SetInterpolationTypeToLinear()
        image = vtkImageSlice()
        image.SetMapper(mapper)
        image.SetProperty(prop)
        image.SetUserMatrix(convert.vtk_matrix(matrix))
        pl.renderer.AddViewProp(image)
        self._slice, self._mapper = image, mapper
        self._dop, self._up = view_vectors(self.plane, self.oblique_normal)
        ext = float(np.linalg.norm(np.asarray(vol.size) * np.asarray(vol.spacing)))
        for other in PLANE_LPS_AXIS:
            if other == self.plane:
                continue
            line = pv.Line((0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
            pl.add_mesh(
                line,
                color=PLANE_COLORS[other],
                line_width=1,
                pickable=False,
                reset_camera=False,
                render=False,
            )
            self._lines[other] = line
        self._extent = ext
        self._observer = pl.renderer.AddObserver("StartEvent", self._relayout)
        self.reset_camera()

    def replace_volume(self, vol: Volume, grid: pv.ImageData) -> None:
        """Show ``vol`` (another volume on the same grid: a time point, an echo) instead.

        Only the voxels change: camera, crosshair lines, letters and slab stay.

        Raises
        ------
        ValueError
            Nothing shown yet, or ``vol`` has another size.
        """
        if self.vol is None or self._mapper is None:
            raise ValueError("no volume shown: set_volume() first")
        if vol.size != self.vol.size:
            raise ValueError(f"a {vol.size} volume cannot replace a {self.vol.size} one")
        self.vol = vol
        self._mapper.SetInputData(grid)
        self._drawn_key = None  # its text (the volume's label) is drawn again

    def axes(
        self,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], str]:
        """``(right, down, normal, name)`` (LPS) of the plane shown: its own or the oblique one.

        The same vectors :func:`volumeviz.ops.mpr.plane_axes` gives ``volumeviz screenshot``.
        """
        if self.oblique_normal is not None:
            return mpr.plane_axes("oblique", normal=self.oblique_normal)
        return mpr.plane_axes(self.plane)

    def set_normal(self, normal: npt.ArrayLike | None) -> bool:
        """Show the oblique plane with this LPS ``normal`` (None: the panel's own plane again).

        The camera turns to face it (fitted, as :meth:`reset_camera`); the slice passes through
        the crosshair at the next :meth:`update`. Returns True when the orientation changed.
        """
        new = None if normal is None else tuple(float(v) for v in np.asarray(normal, float))
        if new is not None:
            mpr.plane_axes("oblique", normal=new)  # refuses a zero or non-finite normal
        if new == self.oblique_normal:
            return False
        self.oblique_normal = new  # type: ignore[assignment]
        self._dop, self._up = view_vectors(self.plane, self.oblique_normal)
        self._drawn_key = None
        if self.vol is not None:
            self.reset_camera()
        return True

    def _probe(self, cursor: npt.NDArray[np.float64], slab_mm: float, slab_mode: str) -> Any:
        """A 1-pixel Slice2D of this view's plane through ``cursor``: letters and position."""
        right, down, normal, name = self.axes()
        return mpr.Slice2D(
            array=np.zeros((1, 1), np.float32),
            spacing=(1.0, 1.0),
            origin=cursor,
            right=right,
            down=down,
            normal=normal,
            center=cursor,
            plane=name,
            inside=np.ones((1, 1), bool),
            slab_mm=float(slab_mm),
            slab_mode=slab_mode if slab_mm > 0 else "",
        )

    def _relayout(self, *_: Any) -> None:
        """Lay out and draw the text for the current size, zoom and state (before a render)."""
        if self.vol is None or self._text_state is None:
            return
        ren = self.plotter.renderer
        size = tuple(int(v) for v in ren.GetSize())
        if size[0] < 2 or size[1] < 2:
            return
        px_mm = rannotations.px_per_mm_2d(ren, size[1])
        # labels sit beside points: a pan moves them (the focal point is part of the key)
        pan = tuple(round(float(v), 3) for v in ren.GetActiveCamera().GetFocalPoint())
        key: tuple[Any, ...] = (size, round(px_mm, 6), self.dpi, self.show_meta)
        key += (self._text_state, self.labels, pan if self.labels else None)
        if key == self._drawn_key:
            return
        cursor, wl, slab_mm, slab_mode = self._text_state
        redact = Redactor.off()
        cell = rannotations.plane_text(
            self.vol,
            self._probe(np.asarray(cursor, float), slab_mm, slab_mode),
            wl,
            redact=redact,
            meta=self.vol.meta if self.show_meta else None,
            issues=self.vol.issues if self.show_meta else (),
            px_per_mm=px_mm,
            cell_width=size[0],
        )[0]
        add_labels(cell, ren, (size[0], size[1]), self.labels)
        window_dpi = float(self.plotter.render_window.GetDPI()) or 72.0
        self.layout = rannotations.draw_cell(
            ren,
            cell,
            (size[0], size[1]),
            dpi=self.dpi,
            window_dpi=window_dpi,
            overlay=self.overlay,
        )[0]
        self.cell = cell
        self._drawn_key = key

    def set_labels(self, labels: Any) -> None:
        """Show measurement values beside their (LPS) points, laid out at the next render.

        ``labels``: :class:`~volumeviz.render.markups.MarkupLabel` items.
        """
        self.labels = tuple(labels)
        self._drawn_key = None

    def letters(self) -> dict[str, str]:
        """Return the orientation letters shown at the left, right, top and bottom edges."""
        if self.layout is None:
            return {}
        return {p.name.split(":")[1]: p.text for p in self.layout.placed if p.kind == "letter"}

    def clear(self) -> None:
        """Remove everything this view added."""
        if self._slice is not None:
            self.plotter.renderer.RemoveViewProp(self._slice)
            self._mapper.RemoveAllInputs()
        if self._observer is not None:
            self.plotter.renderer.RemoveObserver(self._observer)
            self._observer = None
        self.overlay.clear()
        self.plotter.clear_actors()
        self._slice = self._mapper = None
        self._lines.clear()
        self.layout = self.cell = None
        self._text_state = self._drawn_key = None
        self.labels = ()
        self.vol = None

    # -- update --------------------------------------------------------------------------------
    def reset_camera(self) -> None:
        """Fit the whole plane in the view, keeping the slice at the crosshair."""
        if self.vol is None:
            return
        cam = self.plotter.renderer.GetActiveCamera()
        cam.SetParallelProjection(True)
        centre = self.vol.center_lps
        cam.SetFocalPoint(*centre)
        cam.SetPosition(*(centre - self._dop * self._extent * 2))
        cam.SetViewUp(*self._up)
        half = 0.5 * max(np.asarray(self.vol.size) * np.asarray(self.vol.spacing))
        cam.SetParallelScale(half * 1.05)
        self.plotter.renderer.ResetCameraClippingRange()

    def update(self, state: ViewState) -> None:
        """Show the slice through ``state.cursor_lps`` with the state's window and slab."""
        if self.vol is None or self._slice is None:
            return
        cam = self.plotter.renderer.GetActiveCamera()
        cursor = np.asarray(state.cursor_lps, float)
        fp = np.asarray(cam.GetFocalPoint(), float)
        pos = np.asarray(cam.GetPosition(), float)
        # move the focal point along the normal onto the cursor, keep the in-plane pan
        shift = float((cursor - fp) @ self._dop)
        cam.SetFocalPoint(*(fp + shift * self._dop))
        cam.SetPosition(*(pos + shift * self._dop))
        prop = self._slice.GetProperty()
        wl = state.window_level
        prop.SetColorWindow(wl.width)
        prop.SetColorLevel(wl.center)
        if state.slab_mm > 0:
            self._mapper.SetSlabThickness(state.slab_mm)
            getattr(self._mapper, _SLAB_TYPES[state.slab_mode])()
        else:
            self._mapper.SetSlabThickness(0.0)
        self._update_lines(cursor)
        self.plotter.renderer.ResetCameraClippingRange()
        self._text_state = (
            tuple(float(c) for c in cursor),
            wl,
            float(state.slab_mm),
            state.slab_mode,
        )

    def _update_lines(self, cursor: npt.NDArray[np.float64]) -> None:
        assert self.vol is not None
        for other, line in self._lines.items():
            # the other plane cuts this one along (its normal x this normal)
            dop_other, _ = view_vectors(other)
            along = np.cross(dop_other, self._dop)
            if np.linalg.norm(along) < 1e-6:  # an oblique plane parallel to it: no line
                line.points = np.array([cursor, cursor])
                continue
            along /= np.linalg.norm(along)
            # draw just in front of the slice (towards the camera) so it is never hidden
            base = cursor - self._dop * 0.5
            pts = np.array([base - along * self._extent, base + along * self._extent])
            line.points = pts

    # -- picking -------------------------------------------------------------------------------
    def display_to_lps(self, x: float, y: float, state: ViewState) -> npt.NDArray[np.float64]:
        """Return the LPS point on the slice under display pixel ``(x, y)`` (y up)."""
        ren = self.plotter.renderer
        ren.SetDisplayPoint(float(x), float(y), 0.0)
        ren.DisplayToWorld()
        w = np.asarray(ren.GetWorldPoint(), float)
        p = w[:3] / w[3]
        cursor = np.asarray(state.cursor_lps, float)
        return p - float((p - cursor) @ self._dop) * self._dop

    def lps_to_display(self, lps: npt.ArrayLike) -> tuple[float, float]:
        """Return the display pixel (VTK origin: bottom left) of an LPS point."""
        ren = self.plotter.renderer
        p = np.asarray(lps, float)
        ren.SetWorldPoint(float(p[0]), float(p[1]), float(p[2]), 1.0)
        ren.WorldToDisplay()
        x, y, _ = ren.GetDisplayPoint()
        return float(x), float(y)

    def zoom(self, factor: float) -> None:
        """Zoom the 2D view by ``factor`` (> 1 magnifies)."""
        cam = self.plotter.renderer.GetActiveCamera()
        cam.SetParallelScale(cam.GetParallelScale() / factor)


class VolumeView:
    """The 3D view: the volume, plane outlines, cropping box, cameras and level of detail.

    The volume is drawn by :func:`volumeviz.render.volume.add_volume`, the cameras by
    :mod:`volumeviz.render.cameras`.

    While the user rotates, the ray-cast mapper casts one ray per ``interactive_image_sample``
    pixels (and samples rays more coarsely); the full-quality frame is rendered when the
    interaction ends.
    """

    interactive_image_sample = 3.0
    still_image_sample = 1.0

    def __init__(self, plotter: Any) -> None:
        self.plotter = plotter
        self.vol: Volume | None = None
        self.rendered: Volume | None = None  # what is volume-rendered: vol or its preview
        self.volume: Any = None
        self.tf: TransferFunction | None = None
        self._outlines: dict[str, pv.PolyData] = {}
        self._observers: list[int] = []
        self._crop_bounds: tuple[float, ...] | None = None
        self._box: Any = None
        self.on_crop_changed: Any = None  # callback(bounds) set by the window
        self._mapper_kind: str | None = None
        self.interacting = False
        self.overlay = rannotations.Overlay(plotter.renderer)
        self.layout: CellLayout | None = None
        self.dpi = 96.0
        self._ren_observer: int | None = None
        self._drawn_key: tuple[Any, ...] | None = None
        self._camera_name = "anterior"
        self._camera_dop: npt.NDArray[np.float64] | None = None

    def mapper_kind(self) -> str:
        """Pick the volume mapper from this window's own OpenGL renderer string.

        :func:`volumeviz.render.volume.choose_mapper` decides (fixed-point on software GL); the
        string is read from the Qt window's context rather than from a throwaway offscreen one.
        """
        if self._mapper_kind is None:
            self.plotter.render_window.Render()
            report = self.plotter.render_window.ReportCapabilities() or ""
            name = ""
            for line in report.splitlines():
                if line.startswith("OpenGL renderer string:"):
                    name = line.split(":", 1)[1].strip()
            self._mapper_kind = rvolume.choose_mapper("auto", renderer=name)
        return self._mapper_kind

    @property
    def mapper(self) -> Any:
        """The volume's mapper (None when empty)."""
        return None if self.volume is None else self.volume.GetMapper()

    def set_volume(self, vol: Volume, tf: TransferFunction, preview: Volume | None = None) -> None:
        """Put ``vol`` in the 3D view with transfer function ``tf``.

        ``preview`` (a smaller copy, see :func:`volumeviz.app.lod.preview_volume`), when given,
        is what is volume-rendered.
        """
        self.clear()
        self.vol = vol
        self.rendered = preview if preview is not None else vol
        pl = self.plotter
        pl.set_background("black")
        self.volume = rvolume.add_volume(
            pl, self.rendered, tf, mapper=self.mapper_kind(), interactive=True
        )
        self.tf = tf
        for plane in PLANE_LPS_AXIS:
            poly = pv.PolyData(np.zeros((4, 3)), lines=[5, 0, 1, 2, 3, 0])
            pl.add_mesh(
                poly,
                color=PLANE_COLORS[plane],
                line_width=2,
                pickable=False,
                reset_camera=False,
                render=False,
            )
            self._outlines[plane] = poly
        self._ren_observer = pl.renderer.AddObserver("StartEvent", self._relayout)
        iren = pl.iren.interactor
        self._observers = [
            iren.AddObserver("StartInteractionEvent", self._start_interaction),
            iren.AddObserver("EndInteractionEvent", self._end_interaction),
        ]
        self.set_camera("anterior")

    def replace_volume(self, vol: Volume, preview: Volume | None = None) -> None:
        """Render ``vol`` (or its ``preview``) instead: another volume on the same grid.

        Only the voxels change: camera, transfer function, crop box and outlines stay.

        Raises
        ------
        ValueError
            Nothing shown yet, or ``vol`` has another size.
        """
        if self.volume is None or self.vol is None:
            raise ValueError("no volume shown: set_volume() first")
        if vol.size != self.vol.size:
            raise ValueError(f"a {vol.size} volume cannot replace a {self.vol.size} one")
        self.vol = vol
        self.rendered = preview if preview is not None else vol
        grid = convert.volume_to_grid(self.rendered)
        self.volume.GetMapper().SetInputData(grid)
        self.volume._volumeviz_grid = grid  # keep the data alive with the prop
        self._drawn_key = None  # its text (the volume's label) is drawn again

    def clear(self) -> None:
        """Remove the volume, outlines, box widget and the interaction observers."""
        pl = self.plotter
        if self._observers and pl.iren is not None:
            for tag in self._observers:
                pl.iren.interactor.RemoveObserver(tag)
        self._observers = []
        if self._box is not None:
            pl.clear_box_widgets()
            self._box = None
        if self.volume is not None:
            pl.renderer.RemoveVolume(self.volume)
            self.volume.GetMapper().RemoveAllInputs()
        if getattr(pl, "renderer", None) is not None:
            if self._ren_observer is not None:
                pl.renderer.RemoveObserver(self._ren_observer)
            pl.clear_actors()
        self._ren_observer = None
        self.overlay.clear()
        self.layout = None
        self._drawn_key = None
        self.volume = None
        self._crop_bounds = None
        self._outlines.clear()
        self.vol = None
        self.rendered = None

    # -- level of detail -------------------------------------------------------------------------
    def _start_interaction(self, *_: Any) -> None:
        self.interacting = True
        m = self.mapper
        if m is not None and hasattr(m, "SetImageSampleDistance"):
            m.SetImageSampleDistance(self.interactive_image_sample)

    def _end_interaction(self, *_: Any) -> None:
        self.interacting = False
        m = self.mapper
        if m is not None and hasattr(m, "SetImageSampleDistance"):
            m.SetImageSampleDistance(self.still_image_sample)
            self.plotter.render()

    def set_interactive(self, on: bool) -> None:
        """Switch the low-detail interactive mode on or off (as a mouse drag does)."""
        if on:
            self._start_interaction()
        else:
            self.interacting = False
            m = self.mapper
            if m is not None and hasattr(m, "SetImageSampleDistance"):
                m.SetImageSampleDistance(self.still_image_sample)

    # -- transfer function -----------------------------------------------------------------------
    def set_transfer_function(self, tf: TransferFunction) -> None:
        """Switch preset: a new volume property, or a new prop when the blend mode changes."""
        if self.volume is None or self.rendered is None:
            return
        if self.tf is not None and self.tf.blend == tf.blend:
            self.volume.SetProperty(rvolume.volume_property(tf, self.rendered))
        else:
            pl = self.plotter
            pl.renderer.RemoveVolume(self.volume)
            self.volume.GetMapper().RemoveAllInputs()
            self.volume = rvolume.add_volume(
                pl, self.rendered, tf, mapper=self.mapper_kind(), interactive=True
            )
            self._apply_crop(self._crop_bounds)
        self.tf = tf

    # -- planes and cropping ---------------------------------------------------------------------
    def update(self, state: ViewState) -> None:
        """Move the plane outlines to the crosshair and apply the cropping box."""
        if self.vol is None:
            return
        b = convert.grid_bounds_lps(self.vol)
        lo, hi = b[0::2], b[1::2]
        cursor = np.asarray(state.cursor_lps, float)
        for plane, axis in PLANE_LPS_AXIS.items():
            u, v = (a for a in range(3) if a != axis)
            pts = np.empty((4, 3))
            pts[:, axis] = cursor[axis]
            pts[:, u] = [lo[u], hi[u], hi[u], lo[u]]
            pts[:, v] = [lo[v], lo[v], hi[v], hi[v]]
            self._outlines[plane].points = pts
        bounds = None if state.crop is None else tuple(float(b) for b in state.crop)
        self._show_box(bounds is not None, bounds)
        if bounds != self._crop_bounds:
            self._apply_crop(bounds)

    def _apply_crop(self, bounds: tuple[float, ...] | None) -> None:
        """Cut the volume to an LPS box with six clipping planes (None: no cropping)."""
        self._crop_bounds = bounds
        m = self.mapper
        if m is None:
            return
        m.RemoveAllClippingPlanes()
        if bounds is None:
            return
        for axis in range(3):
            for value, sign in ((bounds[2 * axis], 1.0), (bounds[2 * axis + 1], -1.0)):
                plane = vtkPlane()
                origin = [0.0, 0.0, 0.0]
                normal = [0.0, 0.0, 0.0]
                origin[axis] = float(value)
                normal[axis] = sign
                plane.SetOrigin(*origin)
                plane.SetNormal(*normal)
                m.AddClippingPlane(plane)

    def _show_box(self, on: bool, bounds: tuple[float, ...] | None) -> None:
        if self.vol is None:
            return
        if on and self._box is None:
            start = bounds or tuple(float(x) for x in convert.grid_bounds_lps(self.vol))
            self._box = True  # pyvista calls back once while creating the widget: ignore it
            self._box = self.plotter.add_box_widget(
                self._box_moved,
                bounds=start,
                factor=1.0,
                rotation_enabled=False,
                outline_translation=True,
                color="yellow",
                interaction_event="end",
            )
        elif not on and self._box is not None:
            self.plotter.clear_box_widgets()
            self._box = None

    def _box_moved(self, box: Any) -> None:
        if self._box is True:  # the call made while the widget is being created
            return
        bounds = tuple(float(x) for x in box.bounds)
        if self.on_crop_changed is not None:
            self.on_crop_changed(bounds)

    # -- camera --------------------------------------------------------------------------------
    def set_camera(self, name: str) -> None:
        """Look at the volume from an anatomical direction (anterior, left, superior ...)."""
        if self.vol is None:
            return
        ren = self.plotter.renderer
        if self.tf is not None and self.rendered is not None:
            box = cameras.visible_bounds(self.rendered, self.tf, crop=self._crop_bounds)
        else:
            box = convert.grid_bounds_lps(self.vol)
        w, h = (int(v) for v in ren.GetSize())
        aspect = w / h if w > 1 and h > 1 else 1.0
        cameras.set_camera(ren, [float(x) for x in box], name, aspect=aspect)
        self._camera_name = cameras.parse_view(name)
        self._camera_dop = rannotations.camera_vectors(self.plotter.renderer)[0]

    def camera_label(self) -> str:
        """The camera's name, ``"anterior"``, or ``"anterior, rotated"`` after a free rotation."""
        dop = rannotations.camera_vectors(self.plotter.renderer)[0]
        if self._camera_dop is not None and float(dop @ self._camera_dop) < 0.9999:
            return f"{self._camera_name}, rotated"
        return self._camera_name

    def _relayout(self, *_: Any) -> None:
        """Draw the preset/camera text and the orientation marker for the current camera."""
        if self.vol is None or self.tf is None:
            return
        ren = self.plotter.renderer
        size = tuple(int(v) for v in ren.GetSize())
        if size[0] < 2 or size[1] < 2:
            return
        dop, up = rannotations.camera_vectors(ren)
        label = self.camera_label()
        pose = (tuple(np.round(dop, 4)), tuple(np.round(up, 4)))
        key = (size, self.dpi, self.tf.name, label, pose)
        if key == self._drawn_key:
            return
        cell = rannotations.volume_text(self.vol, self.tf.name, label, redact=Redactor.off())
        window_dpi = float(self.plotter.render_window.GetDPI()) or 72.0
        self.layout = rannotations.draw_cell(
            ren,
            cell,
            (size[0], size[1]),
            dpi=self.dpi,
            window_dpi=window_dpi,
            camera=(dop, up),
            overlay=self.overlay,
        )[0]
        self._drawn_key = key
