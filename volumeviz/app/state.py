"""The window's state as a small typed object that logic and tests build without Qt.

The crosshair is one LPS point (mm). Each 2D view shows the index plane of the volume whose normal
is closest to its anatomical axis (axial: S, coronal: P, sagittal: L), through that point. The
slice indices follow from the point and the volume's geometry, never the other way round, so the
three planes always meet at the crosshair.

Examples
--------
>>> from volumeviz.model import phantom
>>> vol = phantom.asymmetric(32)
>>> st = ViewState.for_volume(vol)
>>> st.slice_indices(vol)
{'axial': 16, 'coronal': 16, 'sagittal': 16}
>>> st = st.moved_to(vol, vol.index_to_lps([3, 7, 20]))
>>> st.slice_indices(vol)
{'axial': 20, 'coronal': 7, 'sagittal': 3}
>>> st.stepped(vol, "axial", -5).slice_indices(vol)["axial"]
15
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.model.volume import Volume

#: the three 2D planes, in the order of the 2x2 layout (3D view last)
PLANES: tuple[str, ...] = ("axial", "coronal", "sagittal")
VIEWS: tuple[str, ...] = ("axial", "coronal", "sagittal", "3d")
#: LPS axis that is each plane's normal (axial: z = S, coronal: y = P, sagittal: x = L)
PLANE_LPS_AXIS: dict[str, int] = {"axial": 2, "coronal": 1, "sagittal": 0}
SLAB_MODES = ("mip", "minip", "mean")
#: the six anatomical cameras the window has buttons for (letter -> camera name)
CAMERA_KEYS: dict[str, str] = {
    "A": "anterior",
    "P": "posterior",
    "L": "left",
    "R": "right",
    "S": "superior",
    "I": "inferior",
}


def plane_axes(vol: Volume) -> dict[str, int]:
    """Map each plane to the index axis (0 = i, 1 = j, 2 = k) that is its normal.

    The assignment is the permutation of index axes that best matches the anatomical axes
    (largest product of direction cosines), so an oblique or sagittally acquired series still
    gets three different planes.

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.volume import Volume
    >>> sag = Volume(np.zeros((4, 4, 4)), direction=[[0, 0, 1], [1, 0, 0], [0, -1, 0]])
    >>> plane_axes(sag)
    {'axial': 1, 'coronal': 0, 'sagittal': 2}
    """
    d = np.abs(np.asarray(vol.direction, float))  # d[lps_axis, index_axis]
    best: tuple[float, tuple[int, ...]] = (-1.0, (0, 1, 2))
    for perm in itertools.permutations(range(3)):
        # perm[lps_axis] = index axis used for that LPS axis
        score = float(np.prod([d[a, perm[a]] for a in range(3)]))
        if score > best[0]:
            best = (score, perm)
    perm = best[1]
    return {plane: int(perm[PLANE_LPS_AXIS[plane]]) for plane in PLANES}


def clamp_lps(vol: Volume, lps: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Move an LPS point inside the volume (voxel-centre box), along index axes."""
    ijk = vol.lps_to_index(lps)
    hi = np.asarray(vol.size, float) - 1
    return vol.index_to_lps(np.clip(ijk, 0.0, hi))


def voxel_at(vol: Volume, lps: npt.ArrayLike) -> tuple[int, int, int] | None:
    """Return the nearest voxel ``(i, j, k)`` to an LPS point, or None outside the volume."""
    ijk = np.rint(vol.lps_to_index(lps)).astype(int)
    if np.any(ijk < 0) or np.any(ijk >= np.asarray(vol.size)):
        return None
    return (int(ijk[0]), int(ijk[1]), int(ijk[2]))


def value_at(vol: Volume, lps: npt.ArrayLike) -> float | None:
    """Return the voxel value (HU for CT) nearest to an LPS point, or None outside the volume."""
    v = voxel_at(vol, lps)
    if v is None:
        return None
    i, j, k = v
    return float(vol.array[k, j, i])


@dataclass(frozen=True)
class ViewState:
    """What the window shows; plain data, no Qt and no VTK.

    Parameters
    ----------
    cursor_lps
        The crosshair, LPS mm. All three planes pass through it.
    window
        Display window ``(width, level)`` in the volume's units (HU for CT).
    window_preset
        Name of the window preset in use, or None after a manual change (right-drag).
    preset
        Name of the 3D transfer-function preset.
    slab_mm
        Slab thickness of the 2D views in mm; 0 shows a single slice.
    slab_mode
        ``"mip"``, ``"minip"`` or ``"mean"``.
    maximised
        The view filling the window, or None for the 2x2 layout.
    camera
        Anatomical camera name of the 3D view.
    crop
        Whether the 3D cropping box is on; ``crop_bounds`` is the box in LPS mm
        ``(xmin, xmax, ymin, ymax, zmin, zmax)`` or None for the whole volume.
    """

    cursor_lps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    window: tuple[float, float] = (400.0, 40.0)
    window_preset: str | None = "soft-tissue"
    preset: str = "ct-bone"
    slab_mm: float = 0.0
    slab_mode: str = "mip"
    maximised: str | None = None
    camera: str = "anterior"
    crop: bool = False
    crop_bounds: tuple[float, float, float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.slab_mode not in SLAB_MODES:
            raise ValueError(f"slab_mode must be one of {SLAB_MODES}, got {self.slab_mode!r}")
        if self.slab_mm < 0:
            raise ValueError(f"slab_mm must be >= 0, got {self.slab_mm}")
        if self.window[0] <= 0:
            raise ValueError(f"window width must be > 0, got {self.window[0]}")
        if self.maximised is not None and self.maximised not in VIEWS:
            raise ValueError(f"maximised must be one of {VIEWS} or None, got {self.maximised!r}")

    @classmethod
    def for_volume(cls, vol: Volume, **changes: Any) -> ViewState:
        """Make a state centred on ``vol`` with a window and 3D preset suited to its modality."""
        if vol.modality == "CT" or vol.units == "HU":
            defaults: dict[str, Any] = {
                "window": (400.0, 40.0),
                "window_preset": "soft-tissue",
                "preset": "ct-bone",
            }
        else:
            lo, hi = _robust_range(vol)
            defaults = {
                "window": (max(hi - lo, 1.0), (hi + lo) / 2),
                "window_preset": None,
                "preset": "mr-default",
            }
        centre = tuple(float(c) for c in vol.index_to_lps(np.round((np.array(vol.size) - 1) / 2)))
        defaults["cursor_lps"] = centre
        defaults.update(changes)
        return cls(**defaults)

    def replace(self, **changes: Any) -> ViewState:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    # -- crosshair -------------------------------------------------------------------------
    def slice_indices(self, vol: Volume) -> dict[str, int]:
        """Return the slice index of each plane at the cursor (along its normal index axis)."""
        ijk = np.rint(vol.lps_to_index(self.cursor_lps)).astype(int)
        size = vol.size
        out = {}
        for plane, axis in plane_axes(vol).items():
            out[plane] = int(np.clip(ijk[axis], 0, size[axis] - 1))
        return out

    def moved_to(self, vol: Volume, lps: npt.ArrayLike) -> ViewState:
        """Move the crosshair to an LPS point (clamped into the volume)."""
        p = clamp_lps(vol, lps)
        return self.replace(cursor_lps=(float(p[0]), float(p[1]), float(p[2])))

    def with_slice(self, vol: Volume, plane: str, index: int) -> ViewState:
        """Move the crosshair so that ``plane`` shows slice ``index`` (others unchanged)."""
        axis = plane_axes(vol)[plane]
        ijk = vol.lps_to_index(self.cursor_lps)
        ijk[axis] = float(np.clip(int(index), 0, vol.size[axis] - 1))
        return self.moved_to(vol, vol.index_to_lps(ijk))

    def stepped(self, vol: Volume, plane: str, delta: int) -> ViewState:
        """Move the crosshair ``delta`` slices through ``plane`` (scroll wheel)."""
        return self.with_slice(vol, plane, self.slice_indices(vol)[plane] + int(delta))

    # -- window / level --------------------------------------------------------------------
    def with_window(self, width: float, level: float, preset: str | None = None) -> ViewState:
        """Set a new display window (width is kept >= 1)."""
        return self.replace(window=(max(float(width), 1.0), float(level)), window_preset=preset)

    def dragged_window(self, dx: float, dy: float, *, scale: float = 2.0) -> ViewState:
        """Change the window by a right-drag of ``(dx, dy)`` px (right: wider, up: higher)."""
        width, level = self.window
        return self.with_window(width + scale * dx, level + scale * dy)

    def display_range(self) -> tuple[float, float]:
        """Return the ``(low, high)`` values mapped to black and white."""
        width, level = self.window
        return (level - width / 2, level + width / 2)


def _robust_range(vol: Volume) -> tuple[float, float]:
    """1st and 99th percentile of a subsample (cheap for big volumes)."""
    arr = vol.array
    step = max(1, round((arr.size / 2e5) ** (1 / 3)))
    sample = np.asarray(arr[::step, ::step, ::step], dtype=np.float32)
    lo, hi = np.percentile(sample, [1, 99])
    return float(lo), float(hi)
