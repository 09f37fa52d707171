"""Cameras by anatomical name. World coordinates are LPS mm (+x left, +y posterior, +z superior).

``anterior`` looks at the patient's face (so the patient's left is on the image's right),
``posterior`` at the back, ``left``/``right`` at that side, ``superior`` down from above the head
and ``inferior`` up from the feet (both with anterior at the top of the image).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import UsageError

#: view -> (unit vector from the focal point to the camera, view-up), LPS
VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "anterior": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "posterior": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "left": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "right": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "superior": ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0)),
    "inferior": ((0.0, 0.0, -1.0), (0.0, -1.0, 0.0)),
}
_ALIASES = {
    "front": "anterior",
    "ap": "anterior",
    "back": "posterior",
    "pa": "posterior",
    "top": "superior",
    "head": "superior",
    "bottom": "inferior",
    "feet": "inferior",
}
VIEW_ANGLE_DEG = 30.0


def parse_view(view: str) -> str:
    """Return the canonical view name for what a user typed (``"front"`` -> ``"anterior"``).

    Examples
    --------
    >>> parse_view("Anterior"), parse_view("feet")
    ('anterior', 'inferior')
    >>> parse_view("anteror")
    Traceback (most recent call last):
    ...
    volumeviz.errors.UsageError: unknown view 'anteror'; did you mean 'anterior'...
    """
    key = view.strip().lower()
    if key in VIEWS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    names = [*VIEWS, *_ALIASES]
    close = difflib.get_close_matches(key, names, n=2, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise UsageError(f"unknown view {view!r}; {hint}available: {', '.join(VIEWS)}")


def camera_pose(
    bounds: Sequence[float],
    view: str = "anterior",
    *,
    azimuth: float = 0.0,
    elevation: float = 0.0,
    zoom: float = 1.0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return ``(position, focal_point, view_up)`` showing ``bounds`` from an anatomical side.

    ``azimuth`` turns the camera about the view-up axis (right-handed) and ``elevation`` moves it
    towards the view-up, both in degrees. The distance fits the
    bounding sphere in a 30° view angle, divided by ``zoom``.

    Examples
    --------
    >>> pos, focal, up = camera_pose((-10, 10, -10, 10, -10, 10), "anterior")
    >>> bool(pos[1] < 0), up.tolist()
    (True, [0.0, 0.0, 1.0])
    """
    if not zoom > 0:
        raise UsageError(f"zoom must be > 0, got {zoom}")
    name = parse_view(view)
    to_cam, up = (np.asarray(v, float) for v in VIEWS[name])
    b = np.asarray(bounds, float).reshape(3, 2)
    centre = b.mean(axis=1)
    radius = max(float(np.linalg.norm(b[:, 1] - b[:, 0])) / 2, 1e-3)
    dist = radius / math.sin(math.radians(VIEW_ANGLE_DEG / 2)) / zoom
    if azimuth:
        to_cam = _rotate(to_cam, up, azimuth)
    if elevation:
        axis = np.cross(to_cam, up)  # rotating about it moves the camera towards view-up
        axis /= np.linalg.norm(axis)
        to_cam, up = _rotate(to_cam, axis, elevation), _rotate(up, axis, elevation)
    return centre + dist * to_cam, centre, up + 0.0


#: fraction of the view left free around the framed data (each side)
FRAME_MARGIN = 0.06


def visible_bounds(
    vol: Any,
    tf: Any,
    *,
    crop: Sequence[float] | None = None,
    max_voxels: int = 2_000_000,
    min_opacity: float = 0.02,
) -> npt.NDArray[np.float64]:
    """LPS bounds ``(xmin, xmax, ymin, ymax, zmin, zmax)`` of what ``tf`` makes visible in ``vol``.

    A voxel counts where the preset's scalar opacity is above ``min_opacity`` (for a MIP or
    MinIP: where it is above zero) for its value or any value between it and a neighbour (the
    renderer interpolates: the boundary between air and tissue passes through every value in
    between). Big volumes are subsampled (at most ``max_voxels``). An index plane holding fewer
    than 8 visible voxels, or 1% of the fullest parallel plane's, does not widen the bounds
    (stray noisy voxels do not). The bounds are those of the visible voxels' centres (with
    the neighbours the surface passes between), mapped to LPS; ``crop`` (an LPS box) limits
    them. The whole grid when nothing is visible.

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.volume import Volume
    >>> from volumeviz.transfer import load_preset
    >>> arr = np.full((20, 20, 20), -1000, np.int16)
    >>> arr[5:10, 2:6, 12:18] = 1000  # k 5..9, j 2..5, i 12..17
    >>> visible_bounds(Volume(arr), load_preset("bone")).tolist()  # the surface lies between
    [11.0, 18.0, 1.0, 6.0, 4.0, 10.0]
    """
    from volumeviz.render.convert import grid_bounds_lps

    arr = vol.array
    step = max(1, math.ceil((arr.size / max_voxels) ** (1 / 3)))
    sample = np.asarray(arr[::step, ::step, ::step], dtype=np.float32)
    thr = 0.0 if tf.blend in ("mip", "minip") else min_opacity
    vmin, vmax = float(sample.min()), float(sample.max())
    # which values show: a table over the data range (1 unit per bin for integer data)
    nbins = int(min(max(vmax - vmin, 1.0) + 1, 1 << 16))
    width = max(vmax - vmin, 1.0) / (nbins - 1)
    shown = tf.opacity_at(vmin + width * np.arange(nbins)) > thr
    cum = np.concatenate([[0], np.cumsum(shown)])
    # the renderer interpolates between voxels: a voxel shows when any value between it and a
    # neighbour does (the surface between air and tissue crosses every value in between)
    lo, hi = sample.copy(), sample.copy()
    for axis in range(3):
        a = [slice(None)] * 3
        b = [slice(None)] * 3
        a[axis], b[axis] = slice(None, -1), slice(1, None)
        ta, tb = tuple(a), tuple(b)
        np.minimum(lo[ta], sample[tb], out=lo[ta])
        np.maximum(hi[ta], sample[tb], out=hi[ta])
        np.minimum(lo[tb], sample[ta], out=lo[tb])
        np.maximum(hi[tb], sample[ta], out=hi[tb])
    i0 = np.clip(np.floor((lo - vmin) / width), 0, nbins - 1).astype(np.int64)
    i1 = np.clip(np.ceil((hi - vmin) / width), 0, nbins - 1).astype(np.int64)
    mask = cum[i1 + 1] - cum[i0] > 0
    if not mask.any():
        return np.asarray(grid_bounds_lps(vol), float)
    box = []
    for axis in (2, 1, 0):  # i, j, k -> numpy axes 2, 1, 0
        other = tuple(a for a in range(3) if a != axis)
        counts = mask.sum(axis=other)
        keep = np.nonzero(counts >= max(8, 0.01 * counts.max()))[0]
        if keep.size == 0:
            keep = np.nonzero(counts)[0]
        n = arr.shape[axis]
        first = int(keep[0]) * step
        last = min(n - 1, int(keep[-1]) * step + step - 1)
        box.append((float(first), float(last)))
    corners = np.array([[i, j, k] for i in box[0] for j in box[1] for k in box[2]], float)
    lps = vol.index_to_lps(corners)
    out = np.empty(6)
    out[0::2], out[1::2] = lps.min(axis=0), lps.max(axis=0)
    if crop is not None:
        c = np.asarray(crop, float).reshape(6)
        out[0::2] = np.maximum(out[0::2], c[0::2])
        out[1::2] = np.minimum(out[1::2], c[1::2])
        if np.any(out[1::2] <= out[0::2]):
            return np.asarray(grid_bounds_lps(vol), float)
    return out


def framed_pose(
    bounds: Sequence[float],
    view: str = "anterior",
    *,
    aspect: float = 1.0,
    azimuth: float = 0.0,
    elevation: float = 0.0,
    zoom: float = 1.0,
    margin: float = FRAME_MARGIN,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(position, focal_point, view_up)`` that fills the view with the box ``bounds``.

    The perspective camera (30° vertical view angle) looks at the box centre from the named
    view; its distance is the smallest at which every box corner lies inside the view, less
    ``margin`` of the half-width (half-height) on each side, for a viewport of width/height
    ``aspect``; then divided by ``zoom``.
    """
    if not zoom > 0:
        raise UsageError(f"zoom must be > 0, got {zoom}")
    pos0, focal, up = camera_pose(bounds, view, azimuth=azimuth, elevation=elevation)
    to_cam = (pos0 - focal) / np.linalg.norm(pos0 - focal)
    right = np.cross(-to_cam, up)
    b = np.asarray(bounds, float).reshape(3, 2)
    corners = np.array([[x, y, z] for x in b[0] for y in b[1] for z in b[2]]) - focal
    tan_y = math.tan(math.radians(VIEW_ANGLE_DEG / 2)) * (1 - margin)
    tan_x = math.tan(math.radians(VIEW_ANGLE_DEG / 2)) * max(aspect, 1e-6) * (1 - margin)
    x, y, z = corners @ right, corners @ up, corners @ to_cam
    dist = float(np.max(np.maximum(np.abs(x) / tan_x, np.abs(y) / tan_y) + z))
    dist = max(dist, 1e-3)
    return focal + to_cam * dist / zoom, focal, up


def _rotate(v: npt.NDArray[np.float64], axis: npt.NDArray[np.float64], deg: float) -> Any:
    """Rodrigues rotation of ``v`` about unit ``axis`` by ``deg`` degrees (right-handed)."""
    k = axis / np.linalg.norm(axis)
    t = math.radians(deg)
    return v * math.cos(t) + np.cross(k, v) * math.sin(t) + k * (k @ v) * (1 - math.cos(t))


def set_camera(
    renderer: Any,
    bounds: Sequence[float],
    view: str = "anterior",
    *,
    azimuth: float = 0.0,
    elevation: float = 0.0,
    zoom: float = 1.0,
    aspect: float | None = None,
) -> None:
    """Point ``renderer``'s camera at ``bounds`` from an anatomical view (perspective, 30°).

    With the viewport's ``aspect`` (width / height) the box fills the view
    (:func:`framed_pose`); without it the box's bounding sphere fits (:func:`camera_pose`).
    """
    if aspect is None:
        pos, focal, up = camera_pose(bounds, view, azimuth=azimuth, elevation=elevation, zoom=zoom)
    else:
        pos, focal, up = framed_pose(
            bounds, view, aspect=aspect, azimuth=azimuth, elevation=elevation, zoom=zoom
        )
    cam = renderer.GetActiveCamera()
    cam.SetParallelProjection(0)
    cam.SetViewAngle(VIEW_ANGLE_DEG)
    cam.SetFocalPoint(*focal)
    cam.SetPosition(*pos)
    cam.SetViewUp(*up)
    cam.OrthogonalizeViewUp()
    renderer.ResetCameraClippingRange()
    _mark_set(renderer)


def set_camera_2d(renderer: Any, width_mm: float, height_mm: float, aspect: float) -> None:
    """Look straight down at a 2D image lying in z=0 from x=0..width, y=0..height (parallel)."""
    cam = renderer.GetActiveCamera()
    cam.SetParallelProjection(1)
    cx, cy = width_mm / 2, height_mm / 2
    cam.SetFocalPoint(cx, cy, 0.0)
    cam.SetPosition(cx, cy, 1000.0)
    cam.SetViewUp(0.0, 1.0, 0.0)
    cam.SetParallelScale(1.04 * max(height_mm / 2, (width_mm / 2) / max(aspect, 1e-6)))
    renderer.ResetCameraClippingRange()
    _mark_set(renderer)


def _mark_set(renderer: Any) -> None:
    """Tell pyvista the camera is deliberate, so its first render does not reset it."""
    if hasattr(renderer, "camera_set"):
        renderer.camera_set = True
