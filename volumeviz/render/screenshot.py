"""Render a Volume to pixels: 3D with a preset, 2D MPR planes, or a quad (three planes + 3D).

:class:`~volumeviz.render.state.ViewState` (in :mod:`volumeviz.render.state`) is the one typed
description of what to show; the CLI, the Qt window, Scene and the report builder all fill one
and call :func:`render_scene` on a plotter they own (render never calls ``show()``).
:func:`screenshot` is the one-call offscreen form: a fixed window size and a fixed camera give
the same image every run.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvista as pv

from volumeviz import __version__
from volumeviz._atomic import atomic_path
from volumeviz.errors import OutputError, RenderError, UsageError
from volumeviz.model.deid import SafeText
from volumeviz.model.segmentation import Segmentation
from volumeviz.model.volume import Volume
from volumeviz.ops.measure import Markup
from volumeviz.ops.mpr import Slice2D, reslice
from volumeviz.render.annotations import (
    camera_vectors,
    draw_cell,
    plane_text,
    px_per_mm_2d,
    redactor_for,
    rule_for,
    texts_of,
    volume_text,
)
from volumeviz.render.cameras import set_camera, set_camera_2d, visible_bounds
from volumeviz.render.convert import grid_bounds_lps
from volumeviz.render.layout import CellLayout, CellText
from volumeviz.render.markups import MarkupLabel, add_labels, add_markups
from volumeviz.render.overlay import (
    add_overlay_2d,
    add_segment_surfaces,
    legend_entries,
    overlay_rgba,
)
from volumeviz.render.planes import add_slice, slice_extent_mm
from volumeviz.render.state import (
    MAX_SIDE,
    MIN_SIDE,
    MPR_MODES,
    QUAD_LAYOUT,
    ViewState,
    camera_label,
    check_options,
    given_fields,
    state_fields,
)
from volumeviz.render.volume import add_volume
from volumeviz.transfer import (
    PresetWarning,
    TransferFunction,
    preset_warnings,
)

__all__ = [
    "MAX_SIDE",
    "MIN_SIDE",
    "MPR_MODES",
    "QUAD_LAYOUT",
    "SceneInfo",
    "ViewState",
    "camera_label",
    "keep_windows",
    "make_plotter",
    "png_metadata",
    "render_image",
    "render_scene",
    "screenshot",
    "write_png",
]


@dataclass
class SceneInfo:
    """What :func:`render_scene` drew: for metadata, tests and the window's status bar.

    ``texts`` holds every line each view carries (``{"axial": {"lower_left": ...}}``), and
    ``layouts`` where they went (:class:`~volumeviz.render.layout.CellLayout`: the placed boxes,
    what was dropped for space); ``shown`` is the text that made it onto the picture.
    """

    preset: str = ""
    view: str = ""
    mapper: str = ""
    window: str = ""
    planes: dict[str, Slice2D] = field(default_factory=dict)
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    scale_bars_mm: dict[str, float] = field(default_factory=dict)
    texts: dict[str, Mapping[str, str]] = field(default_factory=dict)
    layouts: dict[str, CellLayout] = field(default_factory=dict)
    legend: list[tuple[SafeText, tuple[float, float, float]]] = field(default_factory=list)
    measurements: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    #: how the 3D transfer function differs from the preset (shifted, fitted to the data)
    tf_notes: list[str] = field(default_factory=list)
    #: the LPS box the 3D camera frames: what the preset makes visible
    framed_bounds: tuple[float, ...] = ()
    orientation_marker: bool = False
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def shown(self) -> dict[str, Mapping[str, str]]:
        """The text of each view that fitted (``texts`` minus what was dropped for space)."""
        return {name: texts_of(lay) for name, lay in self.layouts.items()}


def single_slice_state(vol: Volume, state: ViewState) -> ViewState:
    """The 2D view of a one-slice volume: its own plane, as the slice's normal gives it.

    An axial, coronal or sagittal slice is shown as that plane; an oblique one in its own
    (oblique) plane; a slice without a patient frame (identity direction) as the stored image,
    columns to the right and rows down.
    """
    n = vol.slice_normal
    normal = (float(n[0]), float(n[1]), float(n[2]))
    return state.replace(mpr="oblique", normal=normal).checked()


def render_scene(
    pl: Any,
    vol: Volume,
    state: ViewState,
    *,
    segmentations: tuple[Segmentation, ...] | list[Segmentation] = (),
) -> SceneInfo:
    """Fill plotter ``pl`` (made with ``shape=(2, 2)`` for ``mpr="quad"``) from ``state``.

    ``state`` is resolved against ``vol`` first (:meth:`ViewState.resolved`: preset and window
    by modality, the slice point), so every caller draws the same picture for the same state.
    Never calls ``show()``: the caller decides between a window, a screenshot or a report.
    Preset misfits are warned about with :class:`~volumeviz.transfer.PresetWarning`.
    ``segmentations`` (already placed on ``vol``'s grid by ``volumeviz.io.seg.place_on``) are
    drawn over every MPR plane and as surfaces in 3D, styled by ``state.overlay``; their legend
    is laid out with the other text.
    """
    state = state.checked().resolved(vol)
    info = SceneInfo(view=state.view)
    # every text drawn goes through this redactor; anonymised, the meta shown is scrubbed too
    redact = redactor_for(vol.meta, anonymize=state.anonymize)
    shown_meta = vol.meta.anonymized(identity=redact.identity) if state.anonymize else vol.meta
    if state.mpr is None and vol.size[2] == 1:
        state = single_slice_state(vol, state)
        info.view = "2d (one slice)"
        info.warnings.append(
            "one slice: shown as a 2D image in its own plane (a 3D rendering of a single slice "
            "shows nothing)"
        )

    def legend_for(here: bool) -> list[tuple[SafeText, tuple[float, float, float]]]:
        """The segment legend, on the one cell that carries the series' lines."""
        if not (here and segmentations and state.overlay.legend):
            return []
        info.legend = legend_entries(
            segmentations, state.overlay, redact=redact, anonymize=state.anonymize
        )
        return info.legend

    pl.set_background(state.background)
    w, h = state.size
    show_3d = state.mpr in (None, "quad")
    planes: list[str] = []
    if state.mpr == "quad":
        planes = ["axial", "coronal", "sagittal"]
    elif state.mpr is not None:
        planes = [state.mpr]
    if planes:
        wl = state.window_level
        info.window = str(wl) + (f" ({wl.name})" if wl.name else "")
        point = state.cursor_lps  # every plane passes through the one resolved point
        for plane in planes:
            if state.mpr == "quad":
                r, c = QUAD_LAYOUT[plane]
                pl.subplot(r, c)
                aspect = (w / 2) / (h / 2)
            else:
                aspect = w / h
            s = reslice(
                vol,
                plane,
                point=point,
                normal=state.normal if plane == "oblique" else None,
                neurological=state.neurological,
                slab_mm=state.slab_mm,
                slab_mode=state.slab_mode,
            )
            info.planes[plane] = s
            add_slice(pl, s, wl)
            if segmentations:
                add_overlay_2d(pl, s, overlay_rgba(s, segmentations, state.overlay))
            width_mm, height_mm = slice_extent_mm(s)
            set_camera_2d(pl.renderer, width_mm, height_mm, aspect)
            size = _viewport_size(pl, (w, h))
            labels: list[MarkupLabel] = []
            if state.measurements:
                marks = [m for m in state.measurements if isinstance(m, Markup)]
                info.measurements[plane], labels = add_markups(
                    pl, s, vol, marks, redact=redact, tag=plane
                )
            if not state.annotations and labels:
                # measurement values still go through the layout: nothing else to avoid
                cell = CellText()
                add_labels(cell, pl.renderer, size, labels)
                layout, _ = draw_cell(
                    pl.renderer, cell, size, dpi=state.dpi, window_dpi=_window_dpi(pl)
                )
                info.layouts[plane] = layout
            if state.annotations:
                legend = legend_for(plane == planes[0])
                cell, bar_mm = plane_text(
                    vol,
                    s,
                    wl,
                    redact=redact,
                    meta=shown_meta if plane == planes[0] else None,
                    issues=vol.issues if plane == planes[0] else (),
                    px_per_mm=px_per_mm_2d(pl.renderer, size[1]),
                    cell_width=size[0],
                    legend=legend,
                )
                add_labels(cell, pl.renderer, size, labels)  # never over the other text
                layout, _ = draw_cell(
                    pl.renderer, cell, size, dpi=state.dpi, window_dpi=_window_dpi(pl)
                )
                info.letters[plane] = dict(cell.letters)
                if layout.find("scalebar") is not None:
                    info.scale_bars_mm[plane] = bar_mm
                info.texts[plane] = cell.texts()
                info.layouts[plane] = layout
                note = rule_for(vol).note
                if note:
                    info.notes[plane] = note
    if show_3d:
        if state.mpr == "quad":
            pl.subplot(*QUAD_LAYOUT["3d"])
        tf, tf_notes = state.transfer_function(vol)
        info.preset = tf.name
        info.tf_notes = tf_notes
        for msg in preset_warnings(tf, vol):
            info.warnings.append(msg)
            warnings.warn(msg, PresetWarning, stacklevel=2)
        if state.volume:
            actor = add_volume(pl, vol, tf, mapper=state.mapper, crop=state.crop, clip=state.clip)
            info.mapper = str(getattr(actor, "_volumeviz_mapper_kind", ""))
        if segmentations and state.overlay.surfaces:
            add_segment_surfaces(pl, segmentations, state.overlay)
        size = _viewport_size(pl, (w, h))
        # frame what the preset shows (not the whole grid with its air): the data fill the view
        bounds = visible_bounds(vol, tf, crop=state.crop) if state.volume else grid_bounds_lps(vol)
        info.framed_bounds = tuple(float(b) for b in bounds)
        set_camera(
            pl.renderer,
            [float(b) for b in bounds],
            state.view,
            azimuth=state.azimuth,
            elevation=state.elevation,
            zoom=state.zoom,
            aspect=size[0] / size[1],
        )
        if state.annotations:
            cell = volume_text(
                vol,
                ", ".join([tf.name, *tf_notes]),
                camera_label(state),
                redact=redact,
                meta=None if planes else shown_meta,
                issues=() if planes else vol.issues,
                legend=legend_for(not planes),
            )
            layout, _ = draw_cell(
                pl.renderer,
                cell,
                size,
                dpi=state.dpi,
                window_dpi=_window_dpi(pl),
                camera=camera_vectors(pl.renderer),
            )
            info.texts["3d"] = cell.texts()
            info.layouts["3d"] = layout
            info.orientation_marker = layout.find("marker") is not None
            note = rule_for(vol).note
            if note:
                info.notes["3d"] = note
    return info


def _viewport_size(pl: Any, window: tuple[int, int]) -> tuple[int, int]:
    """Pixel size of ``pl``'s active viewport: its share of a ``window``-sized picture.

    Computed from the state's size and the viewport fractions, not asked of VTK: before the
    first render a render window may still report another size.
    """
    x0, y0, x1, y1 = (float(v) for v in pl.renderer.GetViewport())
    return (max(1, round(window[0] * (x1 - x0))), max(1, round(window[1] * (y1 - y0))))


def _window_dpi(pl: Any) -> float:
    """The render window's DPI (VTK sizes fonts in points at it)."""
    try:
        return float(pl.ren_win.GetDPI()) or 72.0
    except AttributeError:  # pragma: no cover - not a pyvista plotter
        return 72.0


def prefer_egl(*, even_with_display: bool = False) -> None:
    """Make offscreen VTK windows use EGL (no X server needed) when libEGL is installed.

    Only sets the default: a ``VTK_DEFAULT_OPENGL_WINDOW`` the user chose wins. Without
    ``even_with_display`` nothing changes while ``DISPLAY`` is set (a Qt window may share the
    process). Qt windows use their own render window class and are never affected.
    """
    import ctypes.util

    if "VTK_DEFAULT_OPENGL_WINDOW" in os.environ:
        return
    if os.environ.get("DISPLAY") and not even_with_display:
        return
    if ctypes.util.find_library("EGL"):
        os.environ["VTK_DEFAULT_OPENGL_WINDOW"] = "vtkEGLRenderWindow"


def make_plotter(state: ViewState, *, off_screen: bool = True) -> pv.Plotter:
    """Return the plotter :func:`render_scene` expects for ``state`` (size, 2x2 for quad)."""
    state = state.checked()
    if off_screen:
        prefer_egl()
    return pv.Plotter(
        off_screen=off_screen,
        window_size=list(state.size),
        shape=(2, 2) if state.mpr == "quad" else (1, 1),
        border=state.mpr == "quad",
        border_color="gray",
        border_width=1.0,
        lighting="light kit",
    )


def grab_frame(pl: Any) -> npt.NDArray[np.uint8]:
    """Render ``pl``'s window exactly once and return its pixels ``(height, width, 3)``.

    ``pl.screenshot`` renders twice offscreen (a first-render request, then the image filter's
    re-render); with the GPU mapper on llvmpipe each frame costs seconds.
    """
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    win = pl.ren_win
    win.Render()
    grab = vtkWindowToImageFilter()
    grab.SetInput(win)
    grab.SetInputBufferTypeToRGB()
    grab.ReadFrontBufferOff()
    grab.ShouldRerenderOff()
    grab.Update()
    image = grab.GetOutput()
    w, h, _ = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(h, w, -1)
    return np.ascontiguousarray(pixels[::-1, :, :3], dtype=np.uint8)  # VTK's rows go up


_KEPT: list[dict[bool, Any]] = []  # windows kept by keep_windows(): quad layout or not -> plotter


@contextlib.contextmanager
def keep_windows() -> Iterator[None]:
    """Within the block, :func:`render_image` draws in one kept offscreen window per layout.

    Every new offscreen window makes a GL context (about 0.12 s of CPU on llvmpipe); a report
    draws some eight pictures per series and a batch job one per output. Inside the block the
    window of the previous picture is emptied (every prop removed, a default camera) and
    resized instead, so each picture is exactly what a new window draws
    (tests/render/test_reuse.py). A block inside another shares the outer block's windows
    (a batch worker keeps its windows from job to job); leaving the outermost closes them.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> vol = phantom.asymmetric(16)
    >>> with keep_windows():
    ...     a = screenshot(vol, preset="mip", size=(64, 48), annotations=False)
    ...     b = screenshot(vol, mpr="axial", size=(48, 48), annotations=False)
    >>> a.shape, b.shape
    ((48, 64, 3), (48, 48, 3))
    """
    if _KEPT:  # the outer block owns the windows
        yield
        return
    _KEPT.append({})
    try:
        yield
    finally:
        for pl in _KEPT.pop().values():
            pl.close()


def _emptied(pl: Any, state: ViewState) -> Any:
    """``pl`` as a new plotter for ``state`` would be: no props, default cameras, its size."""
    from vtkmodules.vtkRenderingCore import vtkCamera

    for renderer in pl.renderers:
        renderer.clear_actors()
        renderer.RemoveAllViewProps()
        renderer.GetActiveCamera().DeepCopy(vtkCamera())
        if hasattr(renderer, "camera_set"):
            renderer.camera_set = False
    pl.scalar_bars.clear()
    pl.mesh = None
    pl.mapper = None
    if state.mpr == "quad":
        pl.subplot(0, 0)
    pl.window_size = list(state.size)
    return pl


def render_image(
    vol: Volume,
    state: ViewState,
    *,
    segmentations: tuple[Segmentation, ...] | list[Segmentation] = (),
) -> tuple[npt.NDArray[np.uint8], SceneInfo]:
    """Render ``state`` offscreen; return the RGB image ``(height, width, 3)`` and its info.

    Inside a :func:`keep_windows` block the offscreen window (and its GL context) of the
    previous picture is reused.
    """
    state = state.checked()
    t0 = time.perf_counter()
    kept = _KEPT[-1] if _KEPT else None
    quad = state.mpr == "quad"
    old = kept.pop(quad, None) if kept is not None else None
    pl = _emptied(old, state) if old is not None else make_plotter(state)
    done = False
    try:
        info = render_scene(pl, vol, state, segmentations=segmentations)
        img = grab_frame(pl)
        done = True
    except (RuntimeError, MemoryError) as exc:
        raise RenderError(f"rendering failed: {exc}") from exc
    finally:
        if done and kept is not None and quad not in kept:
            kept[quad] = pl
        else:
            pl.close()
    if img is None:  # pragma: no cover - pyvista returns an array with return_img=True
        raise RenderError("rendering produced no image (no OpenGL context?)")
    info.seconds = time.perf_counter() - t0
    out = np.ascontiguousarray(np.asarray(img)[..., :3], dtype=np.uint8)
    return out, info


def screenshot(
    vol: Volume,
    *,
    preset: str | TransferFunction | None = None,
    view: str = "anterior",
    size: tuple[int, int] = (800, 600),
    mpr: str | None = None,
    state: ViewState | None = None,
    segmentations: tuple[Segmentation, ...] | list[Segmentation] = (),
    **options: Any,
) -> npt.NDArray[np.uint8]:
    """Render ``vol`` offscreen and return the RGB image ``(height, width, 3)`` uint8.

    Parameters
    ----------
    vol
        The volume (LPS); nothing is read from disk.
    preset, view, size, mpr
        As in :class:`ViewState`; any other :class:`ViewState` field may be given as a keyword
        (``window="brain"``, ``slice=40``, ``slab_mm=10``, ``annotations=False`` ...).
        ``preset=None`` (and no ``window``) take the defaults for the series' modality
        (:func:`volumeviz.transfer.defaults.defaults_for`): MR never gets a CT preset.
    state
        A ready :class:`ViewState` (then the other arguments must not be given).
    segmentations
        Segmentations placed on ``vol`` (``volumeviz.io.seg.load_segmentation``), drawn over
        the MPR planes and as 3D surfaces.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> img = screenshot(phantom.asymmetric(16), preset="mip", size=(64, 48), annotations=False)
    >>> img.shape, img.dtype.name
    ((48, 64, 3), 'uint8')
    """
    if state is None:
        unknown = sorted(set(options) - state_fields())
        if unknown:
            raise UsageError(f"screenshot() got unknown option(s): {', '.join(unknown)}")
        asked = {"preset": preset, "view": view, "size": size, "mpr": mpr, **options}
        state = ViewState(**asked)
        check_options(state, given_fields(asked), vol)  # warn: ignored; refuse: misleading
    elif options:
        raise UsageError("give either state= or options, not both")
    img, _ = render_image(vol, state, segmentations=segmentations)
    return img


def png_metadata(vol: Volume, state: ViewState, info: SceneInfo) -> dict[str, str]:
    """Return the PNG text chunks: version, preset, view, window, issues (no patient identity).

    For one volume of a series with extra dimensions, ``volumeviz:index`` says which
    (``"time 3/10 (4 s)"``, 1-based) and ``volumeviz:dims`` gives it as JSON (0-based indices).
    """
    meta = {
        "Software": f"volumeviz {__version__}",
        "volumeviz:version": __version__,
        "volumeviz:view": (
            "3d " + info.view if state.mpr is None and not info.planes else str(state.mpr or "2d")
        ),
        "volumeviz:camera": camera_label(state) if info.preset else "",
        "volumeviz:preset": info.preset,
        "volumeviz:transfer": "; ".join(info.tf_notes),
        "volumeviz:window": info.window,
        "volumeviz:mapper": info.mapper,
        "volumeviz:convention": "neurological" if state.neurological else "radiological",
        "volumeviz:modality": vol.modality,
        "volumeviz:geometry": json.dumps(vol.geometry.to_dict()),
        "volumeviz:issues": json.dumps([i.to_dict() for i in vol.issues]),
        "volumeviz:warnings": json.dumps(info.warnings),
    }
    if info.planes:
        meta["volumeviz:planes"] = json.dumps(
            {name: _plane_record(vol, s) for name, s in info.planes.items()}
        )
    redact = redactor_for(vol.meta, anonymize=state.anonymize)
    if vol.meta.dims:  # which volume of a series with extra dimensions (time 3/10 ...)
        meta["volumeviz:index"] = " · ".join(d.label for d in vol.meta.dims)
        meta["volumeviz:dims"] = json.dumps([d.to_dict() for d in vol.meta.dims])
    if info.measurements:
        meta["volumeviz:measurements"] = json.dumps(info.measurements)
    return {k: redact(v) for k, v in meta.items() if v != ""}


def _plane_record(vol: Volume, s: Slice2D) -> dict[str, Any]:
    rule = rule_for(vol)
    rec: dict[str, Any] = {"plane": s.plane if rule.plane_names else rule.label}
    if rule.position_mm:
        rec["position_mm"] = round(s.position_mm, 3)
    rec.update(slab_mm=s.slab_mm, slab_mode=s.slab_mode)
    return rec


def write_png(
    path: str | Path, img: npt.NDArray[np.uint8], metadata: Mapping[str, str] | None = None
) -> Path:
    """Write ``img`` as a PNG with text ``metadata``, atomically (nothing half-written)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    target = Path(path)
    if target.suffix.lower() != ".png":
        raise OutputError(f"{target}: the output must be a .png file")
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; give a file name ending in .png")
    info = PngInfo()
    for key, value in (metadata or {}).items():
        info.add_itxt(key, value)
    with atomic_path(target) as tmp:
        try:
            Image.fromarray(np.asarray(img, np.uint8), "RGB").save(tmp, format="PNG", pnginfo=info)
        except OSError as exc:
            raise OutputError(f"{target}: cannot write PNG: {exc}") from exc
    return target


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"800x600"`` into ``(800, 600)``; raise :class:`UsageError` when it is not one.

    Examples
    --------
    >>> parse_size("640x480")
    (640, 480)
    """
    parts = text.lower().replace("*", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 800x600") from None
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise UsageError(f"size {text!r}: each side must be {MIN_SIDE}..{MAX_SIDE} px")
    return (w, h)


def parse_vector(text: str, n: int, what: str) -> tuple[float, ...]:
    """Parse ``n`` comma-separated numbers (``"0,0.34,0.94"``) for option ``what``."""
    try:
        values = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise UsageError(f"{what} {text!r}: expected {n} comma-separated numbers") from None
    if len(values) != n or not all(math.isfinite(v) for v in values):
        raise UsageError(f"{what} {text!r}: expected {n} comma-separated numbers")
    return values
