"""Volume rendering: a preset (:class:`TransferFunction`) on a Volume, as a ``vtkVolume`` prop.

Built directly from ``vtkVolume`` + a mapper, not ``pv.Plotter.add_volume`` (which spends 4-5 s
converting cell data at 512x512x300 and renders 256-entry opacity arrays transparent; see
PLATFORM.md). The mapper is chosen for the machine: on software OpenGL (Mesa llvmpipe) the GPU
ray caster takes seconds per frame where the fixed-point CPU ray caster takes a fraction of one.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from vtkmodules.vtkCommonDataModel import vtkPiecewiseFunction, vtkPlane
from vtkmodules.vtkRenderingCore import (
    vtkColorTransferFunction,
    vtkRenderer,
    vtkRenderWindow,
    vtkVolume,
    vtkVolumeProperty,
)
from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper
from vtkmodules.vtkRenderingVolumeOpenGL2 import (
    vtkOpenGLGPUVolumeRayCastMapper,
    vtkSmartVolumeMapper,
)

from volumeviz._face import on_command_line, option
from volumeviz.errors import RenderError, UsageError
from volumeviz.model.volume import Volume
from volumeviz.render.convert import user_matrix, volume_to_grid, vtk_matrix
from volumeviz.transfer import TransferFunction

log = logging.getLogger(__name__)

MAPPERS = ("auto", "fixed", "gpu", "smart")
_SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "software rasterizer", "swiftshader")


_RENDERER: list[str] = []  # the renderer string, once probed (one per process)


def opengl_renderer(window: Any = None) -> str:
    """Return the OpenGL renderer string of an offscreen context (``"llvmpipe (LLVM 15...)"``).

    Probed once per process: from ``window`` when given (an offscreen render window about to
    be used; it is rendered once here so that its context exists), so that no second GL context
    is made for the question; else with a 16x16 offscreen window. ``""`` when it cannot be read.
    """
    if _RENDERER:
        return _RENDERER[0]
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL factories)

    if window is not None:
        window.Render()
        report = window.ReportCapabilities() or ""
    else:
        win = vtkRenderWindow()
        win.SetOffScreenRendering(1)
        win.AddRenderer(vtkRenderer())
        win.SetSize(16, 16)
        try:
            win.Render()
            report = win.ReportCapabilities() or ""
        finally:
            win.Finalize()
    name = ""
    for line in report.splitlines():
        if line.startswith("OpenGL renderer string:"):
            name = line.split(":", 1)[1].strip()
            break
    _RENDERER.append(name)
    return name


def is_software_gl(renderer: str | None = None) -> bool:
    """Return True when OpenGL is a software rasterizer (Mesa llvmpipe and friends)."""
    if os.environ.get("LIBGL_ALWAYS_SOFTWARE") == "1":
        return True
    name = (opengl_renderer() if renderer is None else renderer).lower()
    return any(s in name for s in _SOFTWARE_GL)


def choose_mapper(mapper: str = "auto", *, renderer: str | None = None, window: Any = None) -> str:
    """Resolve ``"auto"`` to ``"fixed"`` on software OpenGL and ``"gpu"`` on real hardware.

    Measured here (Mesa llvmpipe, 2 cores, 512x512x300 int16, 1024x768): fixed-point 0.23 s per
    frame, GPU ray cast 3.65 s, smart mapper (picks GPU) 8.9 s. An unreadable renderer string
    counts as software: the fixed-point mapper is correct everywhere, only slower on a GPU.
    ``window``: the offscreen render window the volume goes into, asked for the renderer string
    (see :func:`opengl_renderer`) instead of a probe window.

    Examples
    --------
    >>> choose_mapper("auto", renderer="llvmpipe (LLVM 15.0.6, 256 bits)")
    'fixed'
    >>> choose_mapper("auto", renderer="NVIDIA GeForce RTX 3060/PCIe/SSE2")
    'gpu'
    """
    if mapper not in MAPPERS:
        raise UsageError(f"unknown mapper {mapper!r}; choose {', '.join(MAPPERS)}")
    if mapper != "auto":
        return mapper
    name = opengl_renderer(window) if renderer is None else renderer
    return "fixed" if not name or is_software_gl(name) else "gpu"


#: Software-GL cost model: CPU seconds (all threads) of ONE frame, per unit. Measured on this
#: 2-core machine (Mesa llvmpipe, vtk 9.7) from 240x180 to 1024x768 on the bundled 28-slice head
#: CT, the real 140-slice head CT and the 512x512x300 bench phantom, bone (shaded), mip and
#: soft-tissue (unshaded) presets (``scripts/bench_render.py --calibrate`` measures them again;
#: ``scripts/bench_mapper_cost.py`` prints estimate / measured per mapper and checks the pick).
#: Fixed-point first frame: scalar range and space-leaping tables (about 8 ns a voxel), a normal
#: encoded per voxel when shaded (atan2 + asin: about 50 ns a voxel on real, noisy CT; 35 on the
#: phantom's flat air), then the cast (about 0.5 ns a ray sample). GPU ray caster on llvmpipe:
#: the texture upload (about 4 ns a voxel), 0.2 s a frame, then about 14 ns a ray sample when
#: shaded (gradients computed in the shader) and 3.3 ns when not.
#: The GPU ray caster's per-sample cost is the figure that moves with the machine: 5.5 / 1.3 ns on
#: a quiet run, 14-30 / 1.7-6 ns with the machine shared (load average 16 on 2 cores; the
#: fixed-point mapper's figures moved far less), and a slower CI machine measured 2.4x the quiet
#: estimate. The constants are the low end of the shared-machine figures: a wrong pick of the
#: fixed-point mapper costs at most about 20% on a quiet machine (512x512x300 at 1024x768, bone),
#: a wrong pick of the GPU ray caster 2-4x on a busy one.
FIXED_NS_PER_VOXEL = 8.0
FIXED_NS_PER_VOXEL_SHADED = 50.0
FIXED_NS_PER_SAMPLE = 0.5
GPU_NS_PER_VOXEL = 4.0
GPU_SETUP_NS = 2.0e8
GPU_NS_PER_SAMPLE_SHADED = 14.0
GPU_NS_PER_SAMPLE_FLAT = 3.3


def ray_samples(vol: Volume, pixels: int) -> float:
    """Ray samples of one frame: every pixel's ray over the volume's diagonal, one a voxel."""
    return pixels * float(np.linalg.norm(vol.extent_mm())) / float(min(vol.spacing))


def mapper_costs(
    vol: Volume, tf: TransferFunction, pixels: int, *, normals_ready: bool = False
) -> dict[str, float]:
    """Estimated CPU seconds of one offscreen frame on software GL, per mapper.

    ``normals_ready``: the fixed-point mapper already holds this volume's per-voxel normals
    (a second picture of it in a :func:`reuse_volumes` block), so only its cast is paid.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> from volumeviz.transfer import load_preset
    >>> costs = mapper_costs(phantom.asymmetric(64), load_preset("bone"), 300 * 300)
    >>> sorted(costs), costs["fixed"] < costs["gpu"]
    (['fixed', 'gpu'], True)
    """
    ni, nj, nk = vol.size
    voxels = float(ni) * nj * nk
    shaded = tf.shading.shade and tf.blend == "composite"
    samples = ray_samples(vol, pixels)
    fixed = samples * FIXED_NS_PER_SAMPLE
    if not normals_ready:
        fixed += voxels * (FIXED_NS_PER_VOXEL + (FIXED_NS_PER_VOXEL_SHADED if shaded else 0.0))
    per_sample = GPU_NS_PER_SAMPLE_SHADED if shaded else GPU_NS_PER_SAMPLE_FLAT
    gpu = voxels * GPU_NS_PER_VOXEL + GPU_SETUP_NS + samples * per_sample
    return {"fixed": fixed * 1e-9, "gpu": gpu * 1e-9}


def one_shot_mapper(
    vol: Volume,
    tf: TransferFunction,
    pixels: int,
    *,
    renderer: str | None = None,
    normals_ready: bool = False,
) -> str:
    """Pick the faster mapper for ONE offscreen frame on software GL (``"fixed"`` or ``"gpu"``).

    For a window (many frames) the fixed-point mapper always wins on llvmpipe (0.1-0.3 s per
    frame against 1-4 s); for a single picture of a large shaded volume its per-voxel normal
    encoding (2-3 s of CPU at 512x512x300) can cost about as much as the GPU ray caster's whole
    frame. :func:`mapper_costs` estimates both; on real GPUs the answer is ``"gpu"``.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> from volumeviz.transfer import load_preset
    >>> one_shot_mapper(phantom.asymmetric(64), load_preset("bone"), 480000, renderer="llvmpipe")
    'fixed'
    """
    if not is_software_gl(opengl_renderer() if renderer is None else renderer):
        return "gpu"
    if tf.blend == "average":
        return "gpu"
    costs = mapper_costs(vol, tf, pixels, normals_ready=normals_ready)
    return "gpu" if costs["gpu"] < costs["fixed"] else "fixed"


def volume_property(tf: TransferFunction, vol: Volume) -> vtkVolumeProperty:
    """Build the ``vtkVolumeProperty`` (colour, opacity, gradient opacity, shading) of a preset."""
    ctf = vtkColorTransferFunction()
    for value, r, g, b in tf.color:
        ctf.AddRGBPoint(value, r, g, b)
    otf = vtkPiecewiseFunction()
    for value, a in tf.scalar_opacity:
        otf.AddPoint(value, a)
    prop = vtkVolumeProperty()
    prop.SetColor(ctf)
    prop.SetScalarOpacity(otf)
    if tf.gradient_opacity and not all(a == 1.0 for _, a in tf.gradient_opacity):
        gtf = vtkPiecewiseFunction()
        for g_value, a in tf.gradient_opacity:
            gtf.AddPoint(g_value, a)
        prop.SetGradientOpacity(gtf)
    if tf.interpolation == "linear":
        prop.SetInterpolationTypeToLinear()
    else:
        prop.SetInterpolationTypeToNearest()
    sh = tf.shading
    prop.SetShade(1 if (sh.shade and tf.blend == "composite") else 0)
    prop.SetAmbient(sh.ambient)
    prop.SetDiffuse(sh.diffuse)
    prop.SetSpecular(sh.specular)
    prop.SetSpecularPower(sh.specular_power)
    unit = tf.opacity_unit_distance or float(min(vol.spacing))
    prop.SetScalarOpacityUnitDistance(unit)
    return prop


def _make_mapper(kind: str, blend: str, sample_mm: float, interactive: bool) -> Any:
    m: Any
    if kind == "fixed":
        m = vtkFixedPointVolumeRayCastMapper()
    elif kind == "gpu":
        m = vtkOpenGLGPUVolumeRayCastMapper()
    else:
        m = vtkSmartVolumeMapper()
    _configure(m, kind, blend, sample_mm, interactive)
    return m


def _configure(m: Any, kind: str, blend: str, sample_mm: float, interactive: bool) -> None:
    """Set ``m``'s sampling and blend mode (a new mapper, or one kept by :func:`reuse_volumes`)."""
    if kind == "fixed":
        m.SetAutoAdjustSampleDistances(1 if interactive else 0)
        m.SetSampleDistance(sample_mm)
        m.SetInteractiveSampleDistance(2 * sample_mm)
        m.SetImageSampleDistance(1.0)
        m.SetLockSampleDistanceToInputSpacing(0)
        if blend == "average":
            raise RenderError(
                "the fixed-point CPU mapper has no average-intensity blend; use "
                + option("mapper", "gpu" if on_command_line() else "'gpu'")
            )
    elif kind == "gpu":
        m.SetAutoAdjustSampleDistances(1 if interactive else 0)
        m.SetSampleDistance(sample_mm)
    else:
        m.SetInteractiveUpdateRate(1e-6 if not interactive else 1.0)
    {
        "composite": m.SetBlendModeToComposite,
        "mip": m.SetBlendModeToMaximumIntensity,
        "minip": m.SetBlendModeToMinimumIntensity,
        "average": m.SetBlendModeToAverageIntensity,
    }[blend]()


@dataclass
class _Kept:
    """A volume's grid and fixed-point mapper kept by :func:`reuse_volumes`."""

    array: Any  # the voxels: held, so that the key's id() stays theirs
    grid: Any
    mapper: Any
    normals: bool = False  # a shaded picture was drawn: the mapper holds per-voxel normals
    window: Any = None  # the render window whose GL context holds the mapper's textures


_SESSIONS: list[dict[tuple[Any, ...], _Kept]] = []


@contextlib.contextmanager
def reuse_volumes() -> Iterator[None]:
    """Keep each volume's VTK grid and fixed-point mapper for every picture drawn in the block.

    The fixed-point mapper encodes a normal per voxel on its first shaded frame (2-3 s of CPU
    at 512x512x300) and keeps them while its input stays the same grid; a report draws several
    pictures of one series (3D views, the quad's 3D panel), a batch several outputs of one
    input. Inside the block the second picture of a volume pays only its cast (and ``auto``
    knows it); outside, every picture builds its own and nothing is held after it. Leaving the
    block frees what it kept (the grid, the mapper and its normals: 3 bytes a voxel).

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> from volumeviz.render.screenshot import screenshot
    >>> vol = phantom.asymmetric(16)
    >>> with reuse_volumes():
    ...     a = screenshot(vol, preset="bone", size=(64, 48), annotations=False)
    ...     b = screenshot(vol, preset="bone", size=(64, 48), annotations=False)
    >>> bool((a == b).all())
    True
    """
    _SESSIONS.append({})
    try:
        yield
    finally:
        _SESSIONS.pop().clear()


def _kept_key(vol: Volume) -> tuple[Any, ...]:
    a = vol.array
    return (id(a), a.__array_interface__["data"][0], a.shape, a.dtype.str, tuple(vol.spacing))


def add_volume(
    pl: Any,
    vol: Volume,
    tf: TransferFunction,
    *,
    mapper: str = "auto",
    crop: Sequence[float] | None = None,
    clip: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    interactive: bool = False,
) -> vtkVolume:
    """Add ``vol`` rendered with ``tf`` to plotter ``pl`` (its active renderer); return the prop.

    Parameters
    ----------
    pl
        A ``pv.Plotter`` (or ``QtInteractor``); its active renderer receives the volume.
    vol
        The volume; world coordinates are LPS mm.
    tf
        The preset.
    mapper
        ``"auto"`` (fixed-point on software GL, else GPU), ``"fixed"``, ``"gpu"``, ``"smart"``.
    crop
        LPS box ``(xmin, xmax, ymin, ymax, zmin, zmax)`` in mm; everything outside is cut away
        (six clipping planes, exact for oblique volumes too).
    clip
        ``(point, normal)`` in LPS: keep the half-space the normal points into.
    interactive
        Let the mapper lower its sampling while the user drags (the Qt window); offscreen
        renders keep it fixed so the same input gives the same image.
    """
    kind = choose_mapper(mapper, window=None if interactive else pl.ren_win)
    if tf.blend == "average" and kind == "fixed" and mapper == "auto":
        kind = "gpu"
        log.info("average-intensity blend needs the GPU mapper; using it (slow on llvmpipe)")
    session = _SESSIONS[-1] if _SESSIONS and not interactive else None
    kept = session.get(_kept_key(vol)) if session is not None else None
    if mapper == "auto" and kind == "fixed" and not interactive:
        ready = kept is not None and kept.normals
        kind = one_shot_mapper(vol, tf, _viewport_pixels(pl), normals_ready=ready)
    sample_mm = float(min(vol.spacing))
    if kind == "fixed" and kept is not None:
        grid, m = kept.grid, kept.mapper
        if kept.window is not None and kept.window is not pl.ren_win:
            # its image texture lives in the other window's GL context (a kept window of
            # another layout is still open): drawn here as it is, the picture stays black
            m.ReleaseGraphicsResources(kept.window)
        m.RemoveAllClippingPlanes()
        _configure(m, kind, tf.blend, sample_mm, interactive)
    else:
        grid = volume_to_grid(vol)
        m = _make_mapper(kind, tf.blend, sample_mm, interactive)
        m.SetInputData(grid)
        if kind == "fixed" and session is not None:
            kept = session[_kept_key(vol)] = _Kept(vol.array, grid, m)
    if kept is not None and kind == "fixed":
        kept.normals = kept.normals or (tf.shading.shade and tf.blend == "composite")
        kept.window = pl.ren_win
    for plane in _clip_planes(vol, crop, clip):
        m.AddClippingPlane(plane)
    actor = vtkVolume()
    actor.SetMapper(m)
    actor.SetProperty(volume_property(tf, vol))
    actor.SetUserMatrix(vtk_matrix(user_matrix(vol)))
    actor._volumeviz_grid = grid  # type: ignore[attr-defined]  # keep the data alive
    actor._volumeviz_mapper_kind = kind  # type: ignore[attr-defined]
    pl.renderer.AddVolume(actor)
    return actor


def _viewport_pixels(pl: Any) -> int:
    """Return the pixel count of ``pl``'s active viewport (its share of the window)."""
    w, h = (int(v) for v in pl.window_size)
    x0, y0, x1, y1 = pl.renderer.GetViewport()
    return max(1, round(w * (x1 - x0)) * round(h * (y1 - y0)))


def _clip_planes(
    vol: Volume,
    crop: Sequence[float] | None,
    clip: tuple[npt.ArrayLike, npt.ArrayLike] | None,
) -> list[vtkPlane]:
    planes = []
    if crop is not None:
        box = np.asarray(crop, float).reshape(-1)
        if box.shape != (6,) or not np.all(np.isfinite(box)):
            raise UsageError(f"crop box must be 6 numbers xmin,xmax,ymin,ymax,zmin,zmax: {crop}")
        lo, hi = box[0::2], box[1::2]
        if np.any(hi <= lo):
            raise UsageError(f"crop box is empty (a max is not above its min): {crop}")
        for axis in range(3):
            for value, sign in ((lo[axis], 1.0), (hi[axis], -1.0)):
                origin = np.zeros(3)
                origin[axis] = value
                normal = np.zeros(3)
                normal[axis] = sign
                planes.append(_plane(origin, normal))
    if clip is not None:
        point = np.asarray(clip[0], float).reshape(-1)
        normal = np.asarray(clip[1], float).reshape(-1)
        if point.shape != (3,) or normal.shape != (3,) or not np.linalg.norm(normal) > 0:
            raise UsageError(
                "clip plane needs an LPS point and a non-zero normal (3 numbers each)"
            )
        planes.append(_plane(point, normal / np.linalg.norm(normal)))
    return planes


def _plane(origin: npt.ArrayLike, normal: npt.ArrayLike) -> vtkPlane:
    p = vtkPlane()
    p.SetOrigin(*(float(x) for x in np.asarray(origin)))
    p.SetNormal(*(float(x) for x in np.asarray(normal)))
    return p
