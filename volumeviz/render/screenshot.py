"""Render a Volume to pixels: 3D with a preset, 2D MPR planes, or a quad (three planes + 3D).

:class:`ViewState` is the small typed description of what to show; the CLI, the Qt window and the
report builder all build one and call :func:`render_scene` on a plotter they own (render never
calls ``show()``). :func:`screenshot` is the one-call offscreen form: a fixed window size and a
fixed camera give the same image every run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvista as pv

from volumeviz import __version__
from volumeviz._atomic import atomic_path
from volumeviz.errors import OutputError, RenderError, UsageError
from volumeviz.model.volume import Volume
from volumeviz.ops.mpr import PLANES, SLAB_MODES, Slice2D, reslice, resolve_point
from volumeviz.render.annotations import (
    add_corner_text,
    add_edge_letters,
    add_orientation_marker,
    add_scale_bar,
    info_lines,
    redactor_for,
)
from volumeviz.render.cameras import parse_view, set_camera, set_camera_2d
from volumeviz.render.convert import grid_bounds_lps
from volumeviz.render.planes import add_slice, slice_extent_mm
from volumeviz.render.volume import MAPPERS, add_volume
from volumeviz.transfer import (
    PresetWarning,
    TransferFunction,
    WindowLevel,
    load_preset,
    parse_window,
    preset_warnings,
)

MPR_MODES = (*PLANES, "oblique", "quad")
#: quad layout: (row, col) of each viewport; the 3D view is bottom right
QUAD_LAYOUT = {"axial": (0, 0), "coronal": (0, 1), "sagittal": (1, 0), "3d": (1, 1)}
MAX_SIDE = 8192
MIN_SIDE = 16


@dataclass(frozen=True)
class ViewState:
    """What to show: one object the CLI, the Qt window and reports build and render.

    Parameters
    ----------
    preset
        Volume-rendering preset name, ``.json`` path or :class:`TransferFunction`.
    view
        3D camera by anatomical name: anterior, posterior, left, right, superior, inferior.
    azimuth, elevation, zoom
        Camera adjustments (degrees, degrees, factor) after the named view.
    mpr
        ``None`` for 3D only; ``"axial"``, ``"coronal"``, ``"sagittal"``, ``"oblique"`` (with
        ``normal``) for one 2D plane; ``"quad"`` for axial, coronal, sagittal and 3D in 2x2.
    slice
        Where the plane(s) pass: see :func:`volumeviz.ops.mpr.resolve_point`.
    normal
        LPS normal of an oblique plane.
    window
        2D window: ``"400/40"``, a name (``"brain"``), ``"file"``, ``"auto"``/``None``.
    slab_mm, slab_mode
        Thick-slab MPR: thickness in mm and ``mip``/``minip``/``mean``.
    neurological
        Patient left on the image's left in axial/coronal views (default: radiological).
    crop
        3D crop box in LPS mm ``(xmin, xmax, ymin, ymax, zmin, zmax)``.
    clip
        3D clipping plane ``(point, normal)`` in LPS; keeps the side the normal points to.
    size
        Image ``(width, height)`` in pixels.
    background
        Background colour (any name or hex pyvista understands).
    mapper
        ``"auto"``, ``"fixed"``, ``"gpu"`` or ``"smart"``.
    annotations
        Letters, scale bars, orientation marker and text (off for regression images).
    anonymize
        Leave patient identity (and the study date) out of the text.
    """

    preset: str | TransferFunction = "bone"
    view: str = "anterior"
    azimuth: float = 0.0
    elevation: float = 0.0
    zoom: float = 1.0
    mpr: str | None = None
    slice: str | int | float | tuple[float, float, float] | None = None
    normal: tuple[float, float, float] | None = None
    window: str | WindowLevel | tuple[float, float] | None = None
    slab_mm: float = 0.0
    slab_mode: str = "mip"
    neurological: bool = False
    crop: tuple[float, ...] | None = None
    clip: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    size: tuple[int, int] = (800, 600)
    background: str = "black"
    mapper: str = "auto"
    annotations: bool = True
    anonymize: bool = False

    def checked(self) -> ViewState:
        """Return a copy with names normalised; raise :class:`UsageError` on bad values."""
        w, h = (int(v) for v in self.size)
        if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
            raise UsageError(
                f"image size {w}x{h} is out of range: each side must be {MIN_SIDE}..{MAX_SIDE} px"
            )
        mpr = None if self.mpr in (None, "", "none", "3d") else str(self.mpr).lower()
        if mpr is not None and mpr not in MPR_MODES:
            raise UsageError(f"unknown --mpr {self.mpr!r}; choose {', '.join(MPR_MODES)}")
        if mpr == "oblique" and self.normal is None:
            raise UsageError("an oblique MPR needs a plane normal (LPS), e.g. 0,0.34,0.94")
        if self.slab_mode not in SLAB_MODES:
            raise UsageError(f"slab mode {self.slab_mode!r}: choose {', '.join(SLAB_MODES)}")
        if not (math.isfinite(self.slab_mm) and self.slab_mm >= 0):
            raise UsageError(f"slab thickness must be >= 0 mm, got {self.slab_mm}")
        if self.mapper not in MAPPERS:
            raise UsageError(f"unknown mapper {self.mapper!r}; choose {', '.join(MAPPERS)}")
        if not (self.zoom > 0 and math.isfinite(self.zoom)):
            raise UsageError(f"zoom must be a positive number, got {self.zoom}")
        try:
            pv.Color(self.background)
        except ValueError:
            raise UsageError(
                f"unknown background colour {self.background!r} (a name like black or #202020)"
            ) from None
        return dataclasses.replace(self, size=(w, h), mpr=mpr, view=parse_view(self.view))


@dataclass
class SceneInfo:
    """What :func:`render_scene` drew: for metadata, tests and the window's status bar."""

    preset: str = ""
    view: str = ""
    mapper: str = ""
    window: str = ""
    planes: dict[str, Slice2D] = field(default_factory=dict)
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    scale_bars_mm: dict[str, float] = field(default_factory=dict)
    texts: dict[str, Mapping[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def camera_label(state: ViewState) -> str:
    """Describe the 3D camera: ``"anterior"``, ``"anterior, azimuth -25°, elevation 20°"``.

    Examples
    --------
    >>> camera_label(ViewState(view="left", elevation=15))
    'left, elevation 15°'
    """
    parts = [parse_view(state.view)]
    if state.azimuth:
        parts.append(f"azimuth {state.azimuth:g}°")
    if state.elevation:
        parts.append(f"elevation {state.elevation:g}°")
    if state.zoom != 1.0:
        parts.append(f"zoom {state.zoom:g}")
    return ", ".join(parts)


def _tf(preset: str | TransferFunction) -> TransferFunction:
    return preset if isinstance(preset, TransferFunction) else load_preset(preset)


def render_scene(pl: Any, vol: Volume, state: ViewState) -> SceneInfo:
    """Fill plotter ``pl`` (made with ``shape=(2, 2)`` for ``mpr="quad"``) from ``state``.

    Never calls ``show()``: the caller decides between a window, a screenshot or a report.
    Preset misfits are warned about with :class:`~volumeviz.transfer.PresetWarning`.
    """
    state = state.checked()
    info = SceneInfo(view=state.view)
    # every text drawn goes through this redactor; anonymised, the meta shown is scrubbed too
    redact = redactor_for(vol.meta, anonymize=state.anonymize)
    shown_meta = vol.meta.anonymized(identity=redact.identity) if state.anonymize else vol.meta
    pl.set_background(state.background)
    w, h = state.size
    show_3d = state.mpr in (None, "quad")
    planes: list[str] = []
    if state.mpr == "quad":
        planes = ["axial", "coronal", "sagittal"]
    elif state.mpr is not None:
        planes = [state.mpr]
    if planes:
        wl = parse_window(state.window if state.window is not None else "auto", vol)
        info.window = str(wl) + (f" ({wl.name})" if wl.name else "")
        # all planes of a quad pass through one point; a bare index/mm is an axial position
        if state.mpr == "quad":
            point = resolve_point(vol, (0.0, 0.0, 1.0), state.slice, plane="axial")
        else:
            point = None
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
                slice_spec=state.slice,
                normal=state.normal if plane == "oblique" else None,
                neurological=state.neurological,
                slab_mm=state.slab_mm,
                slab_mode=state.slab_mode,
            )
            info.planes[plane] = s
            add_slice(pl, s, wl)
            width_mm, height_mm = slice_extent_mm(s)
            set_camera_2d(pl.renderer, width_mm, height_mm, aspect)
            if state.annotations:
                info.letters[plane] = add_edge_letters(pl, s, tag=plane)
                info.scale_bars_mm[plane] = add_scale_bar(pl, s, tag=plane)
                lines = [s.plane, f"at {s.position_mm:+.1f} mm", info.window]
                if s.slab_mm:
                    lines.insert(2, f"slab {s.slab_mm:g} mm {s.slab_mode.upper()}")
                texts = {"lower_left": redact.lines(lines)}
                if plane == planes[0]:
                    texts.update(info_lines(shown_meta, redact=redact))
                add_corner_text(pl, texts, tag=plane)
                info.texts[plane] = texts
    if show_3d:
        if state.mpr == "quad":
            pl.subplot(*QUAD_LAYOUT["3d"])
        tf = _tf(state.preset)
        info.preset = tf.name
        for msg in preset_warnings(tf, vol):
            info.warnings.append(msg)
            warnings.warn(msg, PresetWarning, stacklevel=2)
        actor = add_volume(pl, vol, tf, mapper=state.mapper, crop=state.crop, clip=state.clip)
        info.mapper = str(getattr(actor, "_volumeviz_mapper_kind", ""))
        set_camera(
            pl.renderer,
            [float(b) for b in grid_bounds_lps(vol)],
            state.view,
            azimuth=state.azimuth,
            elevation=state.elevation,
            zoom=state.zoom,
        )
        if state.annotations:
            add_orientation_marker(pl)
            texts = {"lower_left": redact(f"preset {tf.name}\nview {camera_label(state)}")}
            if not planes:
                texts.update(info_lines(shown_meta, redact=redact))
            add_corner_text(pl, texts, tag="3d")
            info.texts["3d"] = texts
    return info


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


def render_image(vol: Volume, state: ViewState) -> tuple[npt.NDArray[np.uint8], SceneInfo]:
    """Render ``state`` offscreen; return the RGB image ``(height, width, 3)`` and its info."""
    state = state.checked()
    t0 = time.perf_counter()
    pl = make_plotter(state)
    try:
        info = render_scene(pl, vol, state)
        img = grab_frame(pl)
    except (RuntimeError, MemoryError) as exc:
        raise RenderError(f"rendering failed: {exc}") from exc
    finally:
        pl.close()
    if img is None:  # pragma: no cover - pyvista returns an array with return_img=True
        raise RenderError("rendering produced no image (no OpenGL context?)")
    info.seconds = time.perf_counter() - t0
    out = np.ascontiguousarray(np.asarray(img)[..., :3], dtype=np.uint8)
    return out, info


def screenshot(
    vol: Volume,
    *,
    preset: str | TransferFunction = "bone",
    view: str = "anterior",
    size: tuple[int, int] = (800, 600),
    mpr: str | None = None,
    state: ViewState | None = None,
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
    state
        A ready :class:`ViewState` (then the other arguments must not be given).

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> img = screenshot(phantom.asymmetric(16), preset="mip", size=(64, 48), annotations=False)
    >>> img.shape, img.dtype.name
    ((48, 64, 3), 'uint8')
    """
    if state is None:
        fields = {f.name for f in dataclasses.fields(ViewState)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise UsageError(f"screenshot() got unknown option(s): {', '.join(unknown)}")
        state = ViewState(preset=preset, view=view, size=size, mpr=mpr, **options)
    elif options:
        raise UsageError("give either state= or options, not both")
    img, _ = render_image(vol, state)
    return img


def png_metadata(vol: Volume, state: ViewState, info: SceneInfo) -> dict[str, str]:
    """Return the PNG text chunks: version, preset, view, window, issues (no patient identity)."""
    meta = {
        "Software": f"volumeviz {__version__}",
        "volumeviz:version": __version__,
        "volumeviz:view": "3d " + info.view if state.mpr is None else str(state.mpr),
        "volumeviz:camera": camera_label(state) if info.preset else "",
        "volumeviz:preset": info.preset,
        "volumeviz:window": info.window,
        "volumeviz:mapper": info.mapper,
        "volumeviz:convention": "neurological" if state.neurological else "radiological",
        "volumeviz:modality": vol.modality,
        "volumeviz:issues": json.dumps([i.to_dict() for i in vol.issues]),
        "volumeviz:warnings": json.dumps(info.warnings),
    }
    if state.mpr is not None:
        meta["volumeviz:planes"] = json.dumps(
            {
                name: {
                    "plane": s.plane,
                    "position_mm": round(s.position_mm, 3),
                    "slab_mm": s.slab_mm,
                    "slab_mode": s.slab_mode,
                }
                for name, s in info.planes.items()
            }
        )
    redact = redactor_for(vol.meta, anonymize=state.anonymize)
    return {k: redact(v) for k, v in meta.items() if v != ""}


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
