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
) -> None:
    """Point ``renderer``'s camera at ``bounds`` from an anatomical view (perspective, 30°)."""
    pos, focal, up = camera_pose(bounds, view, azimuth=azimuth, elevation=elevation, zoom=zoom)
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
