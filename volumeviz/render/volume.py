"""Volume rendering: a preset (:class:`TransferFunction`) on a Volume, as a ``vtkVolume`` prop.

Built directly from ``vtkVolume`` + a mapper, not ``pv.Plotter.add_volume`` (which spends 4-5 s
converting cell data at 512x512x300 and renders 256-entry opacity arrays transparent; see
PLATFORM.md). The mapper is chosen for the machine: on software OpenGL (Mesa llvmpipe) the GPU
ray caster takes seconds per frame where the fixed-point CPU ray caster takes a fraction of one.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
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


@functools.lru_cache(maxsize=1)
def opengl_renderer() -> str:
    """Return the OpenGL renderer string of an offscreen context (``"llvmpipe (LLVM 15...)"``).

    Probed once per process with a 16x16 offscreen window; ``""`` when it cannot be read.
    """
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL factories)

    win = vtkRenderWindow()
    win.SetOffScreenRendering(1)
    win.AddRenderer(vtkRenderer())
    win.SetSize(16, 16)
    try:
        win.Render()
        report = win.ReportCapabilities() or ""
    finally:
        win.Finalize()
    for line in report.splitlines():
        if line.startswith("OpenGL renderer string:"):
            return line.split(":", 1)[1].strip()
    return ""


def is_software_gl(renderer: str | None = None) -> bool:
    """Return True when OpenGL is a software rasterizer (Mesa llvmpipe and friends)."""
    if os.environ.get("LIBGL_ALWAYS_SOFTWARE") == "1":
        return True
    name = (opengl_renderer() if renderer is None else renderer).lower()
    return any(s in name for s in _SOFTWARE_GL)


def choose_mapper(mapper: str = "auto", *, renderer: str | None = None) -> str:
    """Resolve ``"auto"`` to ``"fixed"`` on software OpenGL and ``"gpu"`` on real hardware.

    Measured here (Mesa llvmpipe, 2 cores, 512x512x300 int16, 1024x768): fixed-point 0.23 s per
    frame, GPU ray cast 3.65 s, smart mapper (picks GPU) 8.9 s. An unreadable renderer string
    counts as software: the fixed-point mapper is correct everywhere, only slower on a GPU.

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
    name = opengl_renderer() if renderer is None else renderer
    return "fixed" if not name or is_software_gl(name) else "gpu"


#: Software-GL cost constants (CPU time), measured on this 2-core machine (Mesa llvmpipe,
#: vtk 9.7) with a noisy 512x512x300 int16 CT at 800x600. The fixed-point mapper's first frame
#: encodes a normal per voxel (about 45 ns a voxel shaded, 20 ns unshaded) and then casts
#: (about 1 ns per ray sample); the GPU ray caster on llvmpipe costs about 5 ns per ray sample
#: (plus ~0.1 s to set up) and computes gradients as it goes. Only the ratios matter for the
#: choice, and both run on the same CPU. Wall-clock checks here: 64^3 at 300x300 fixed 0.10 s / GPU
#: 0.16 s; 512x512x28 head CT at 800x600 fixed 0.43 s / GPU 2.4 s; noisy 512x512x300 at
#: 800x600 fixed 4.1-6.3 s / GPU 2.1-2.6 s (other jobs shared the CPU).
FIXED_NS_PER_VOXEL_SHADED = 45.0
FIXED_NS_PER_VOXEL_FLAT = 20.0
FIXED_NS_PER_SAMPLE = 1.0
GPU_NS_PER_SAMPLE = 5.0
GPU_SETUP_NS = 1e8


def one_shot_mapper(
    vol: Volume, tf: TransferFunction, pixels: int, *, renderer: str | None = None
) -> str:
    """Pick the faster mapper for ONE offscreen frame on software GL (``"fixed"`` or ``"gpu"``).

    For a window (many frames) the fixed-point mapper always wins on llvmpipe (0.3-0.5 s per
    frame against 2-3.7 s); for a single screenshot of a large shaded volume its per-voxel
    normal encoding (about 4 s at 512x512x300) can cost more than the GPU ray caster's whole
    frame (about 2 s). The estimate uses the constants above; on real GPUs the answer is
    ``"gpu"``.

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
    ni, nj, nk = vol.size
    shaded = tf.shading.shade and tf.blend == "composite"
    per_voxel = FIXED_NS_PER_VOXEL_SHADED if shaded else FIXED_NS_PER_VOXEL_FLAT
    samples = pixels * float(np.linalg.norm(vol.extent_mm())) / float(min(vol.spacing))
    fixed_ns = ni * nj * nk * per_voxel + samples * FIXED_NS_PER_SAMPLE
    gpu_ns = GPU_SETUP_NS + samples * GPU_NS_PER_SAMPLE
    return "gpu" if gpu_ns < fixed_ns else "fixed"


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
        m = vtkOpenGLGPUVolumeRayCastMapper()
        m.SetAutoAdjustSampleDistances(1 if interactive else 0)
        m.SetSampleDistance(sample_mm)
    else:
        m = vtkSmartVolumeMapper()
        m.SetInteractiveUpdateRate(1e-6 if not interactive else 1.0)
    {
        "composite": m.SetBlendModeToComposite,
        "mip": m.SetBlendModeToMaximumIntensity,
        "minip": m.SetBlendModeToMinimumIntensity,
        "average": m.SetBlendModeToAverageIntensity,
    }[blend]()
    return m


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
    kind = choose_mapper(mapper)
    if tf.blend == "average" and kind == "fixed" and mapper == "auto":
        kind = "gpu"
        log.info("average-intensity blend needs the GPU mapper; using it (slow on llvmpipe)")
    if mapper == "auto" and kind == "fixed" and not interactive:
        kind = one_shot_mapper(vol, tf, _viewport_pixels(pl))
    grid = volume_to_grid(vol)
    m = _make_mapper(kind, tf.blend, float(min(vol.spacing)), interactive)
    m.SetInputData(grid)
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
