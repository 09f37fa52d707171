"""Multiplanar reformatting: 2D slices through a Volume along PATIENT axes, in pure numpy.

An axial MPR is the plane perpendicular to S (superior), whatever the acquisition: an oblique
series is resampled (trilinear), never shown along its index axes. Every slice knows the LPS
direction of its image's right and down edges, so orientation letters follow from geometry.

Display convention (radiological, the default): axial seen from the feet and coronal seen from
the front, both with the patient's left on the image's right; sagittal with anterior on the left
and superior up. ``neurological=True`` puts the patient's left on the image's left.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from volumeviz.errors import UsageError
from volumeviz.model.orientation import direction_letters, opposite_letters, plane_name
from volumeviz.model.volume import Volume

PLANES = ("axial", "coronal", "sagittal")
SLAB_MODES = ("mip", "minip", "mean")

#: (right, down) LPS unit vectors of each cardinal plane, radiological convention
_CARDINAL: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),  # patient L right, P down (seen from feet)
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),  # patient L right, I down (seen from front)
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),  # P right, I down (seen from patient's left)
}
_NORMALS = {"axial": (0.0, 0.0, 1.0), "coronal": (0.0, 1.0, 0.0), "sagittal": (1.0, 0.0, 0.0)}
_MAX_PIXELS_PER_SIDE = 1024


@dataclass(frozen=True, eq=False)
class Slice2D:
    """A reformatted 2D image with its place in the patient.

    Attributes
    ----------
    array
        ``(rows, cols)`` float32 values in the volume's units; row 0 is the image's top.
    spacing
        ``(row_mm, col_mm)``: pixel size down and across.
    origin
        LPS mm of pixel ``(0, 0)``'s centre.
    right, down
        LPS unit vectors of increasing column and increasing row.
    normal
        LPS unit normal of the plane (the direction ``slice`` positions are measured along).
    center
        LPS mm of the point the plane was asked to pass through.
    plane
        ``"axial"``, ``"coronal"``, ``"sagittal"`` or ``"oblique 20° (near axial)"``.
    slab_mm, slab_mode
        Slab thickness (0 for a thin slice) and how it was reduced (``mip``, ``minip``, ``mean``).
    inside
        ``(rows, cols)`` bool: True where the pixel lies inside the volume.
    """

    array: npt.NDArray[np.float32]
    spacing: tuple[float, float]
    origin: npt.NDArray[np.float64]
    right: npt.NDArray[np.float64]
    down: npt.NDArray[np.float64]
    normal: npt.NDArray[np.float64]
    center: npt.NDArray[np.float64]
    plane: str
    inside: npt.NDArray[np.bool_]
    slab_mm: float = 0.0
    slab_mode: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        r, c = self.array.shape
        return (int(r), int(c))

    @property
    def position_mm(self) -> float:
        """Signed distance (mm) of the plane from the LPS origin along :attr:`normal`."""
        return float(self.center @ self.normal)

    def pixel_to_lps(self, rows: npt.ArrayLike, cols: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Return the LPS mm of (continuous) pixel positions, shape ``(..., 3)``."""
        r = np.asarray(rows, float)[..., None]
        c = np.asarray(cols, float)[..., None]
        out = self.origin + r * self.spacing[0] * self.down + c * self.spacing[1] * self.right
        return np.asarray(out, float)

    def lps_to_pixel(self, lps: npt.ArrayLike) -> tuple[float, float, float]:
        """Return ``(row, col, mm from the plane)`` of an LPS point."""
        d = np.asarray(lps, float) - self.origin
        return (
            float(d @ self.down / self.spacing[0]),
            float(d @ self.right / self.spacing[1]),
            float((np.asarray(lps, float) - self.center) @ self.normal),
        )

    def edge_letters(self) -> dict[str, str]:
        """Return the orientation letters of the four image edges.

        Examples
        --------
        >>> from volumeviz.model import phantom
        >>> s = reslice(phantom.asymmetric(16), "axial")
        >>> s.edge_letters()
        {'left': 'R', 'right': 'L', 'top': 'A', 'bottom': 'P'}
        """
        r, d = direction_letters(self.right), direction_letters(self.down)
        return {"left": opposite_letters(r), "right": r, "top": opposite_letters(d), "bottom": d}


def plane_axes(
    plane: str = "axial",
    *,
    normal: npt.ArrayLike | None = None,
    neurological: bool = False,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], str]:
    """Return ``(right, down, normal, name)`` LPS unit vectors of a display plane.

    ``plane`` is a cardinal name, or ``"oblique"`` with ``normal`` (any LPS vector): the oblique
    image's right and down are the nearest cardinal plane's, projected into the plane.

    Examples
    --------
    >>> r, d, n, name = plane_axes("coronal")
    >>> r.tolist(), d.tolist(), name
    ([1.0, 0.0, 0.0], [0.0, 0.0, -1.0], 'coronal')
    >>> plane_axes("axial", neurological=True)[0].tolist()
    [-1.0, 0.0, 0.0]
    """
    if normal is None:
        if plane not in PLANES:
            raise UsageError(
                f"unknown plane {plane!r}; choose {', '.join(PLANES)} or give an oblique normal"
            )
        n = np.asarray(_NORMALS[plane], float)
        base = plane
    else:
        n = np.asarray(normal, float).reshape(-1)
        if n.shape != (3,) or not np.all(np.isfinite(n)) or np.linalg.norm(n) < 1e-9:
            raise UsageError(f"oblique plane normal must be 3 finite numbers, not all 0: {normal}")
        n = n / np.linalg.norm(n)
        base = ("sagittal", "coronal", "axial")[int(np.argmax(np.abs(n)))]
    r0 = np.asarray(_CARDINAL[base][0], float)
    d0 = np.asarray(_CARDINAL[base][1], float)
    if neurological and base != "sagittal":
        r0 = -r0
    right = r0 - (r0 @ n) * n
    right /= np.linalg.norm(right)
    down = np.cross(n, right)
    if down @ d0 < 0:
        down = -down
    name = plane if normal is None else plane_name(n)
    return right + 0.0, down + 0.0, n + 0.0, name  # + 0.0: no negative zeros


def _trilinear(
    vol: Volume, lps: npt.NDArray[np.float64], fill: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Sample ``vol`` at LPS points ``(n, 3)``: values (float32) and an inside mask."""
    idx = vol.lps_to_index(lps)  # (n, 3) continuous (i, j, k)
    ni, nj, nk = vol.size
    dims = np.array([ni, nj, nk], float)
    inside = np.all((idx >= -0.5) & (idx <= dims - 0.5), axis=1)
    idx = np.clip(idx, 0.0, dims - 1)
    base = np.floor(idx).astype(np.int64)
    base = np.minimum(base, np.maximum(dims.astype(np.int64) - 2, 0))
    frac = (idx - base).astype(np.float32)
    arr = vol.array
    out = np.zeros(len(idx), np.float32)
    for di in (0, 1):
        wi = frac[:, 0] if di else 1 - frac[:, 0]
        ii = np.minimum(base[:, 0] + di, ni - 1)
        for dj in (0, 1):
            wj = frac[:, 1] if dj else 1 - frac[:, 1]
            jj = np.minimum(base[:, 1] + dj, nj - 1)
            for dk in (0, 1):
                wk = frac[:, 2] if dk else 1 - frac[:, 2]
                kk = np.minimum(base[:, 2] + dk, nk - 1)
                out += (wi * wj * wk) * arr[kk, jj, ii].astype(np.float32)
    out[~inside] = np.float32(fill)
    return out, inside


def resolve_point(
    vol: Volume,
    normal: npt.ArrayLike,
    slice_spec: str | int | float | Sequence[float] | None = None,
    *,
    plane: str = "",
) -> npt.NDArray[np.float64]:
    """Turn a slice position into the LPS point a plane passes through.

    ``slice_spec`` may be:

    - ``None`` or ``"center"``: the volume's centre;
    - an ``int`` or ``"40"``: a voxel index along the index axis nearest the plane normal
      (for an axial acquisition's axial plane, slice ``k``), counted from 0;
    - ``"12.5mm"`` (or a float): position in mm along the plane normal (an axial plane's LPS z);
    - ``(x, y, z)`` or ``"x,y,z"``: an LPS point in mm;
    - ``"ijk:i,j,k"``: a voxel index.

    Raises
    ------
    UsageError
        The position is outside the volume or cannot be parsed.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> vol = phantom.asymmetric(16)
    >>> resolve_point(vol, (0, 0, 1), 0).tolist()
    [0.0, 0.0, -7.5]
    >>> resolve_point(vol, (0, 0, 1), "2.5mm").tolist()
    [0.0, 0.0, 2.5]
    """
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    label = f" for the {plane} plane" if plane else ""
    centre = vol.center_lps
    corners = vol.corners_lps()
    spec: object = slice_spec
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text in ("", "center", "centre", "c"):
            return centre
        if text.startswith("ijk:"):
            parts = text[4:].split(",")
            try:
                ijk = np.array([float(p) for p in parts])
            except ValueError:
                raise UsageError(f"slice {slice_spec!r}: ijk: needs 3 numbers") from None
            if ijk.shape != (3,):
                raise UsageError(f"slice {slice_spec!r}: ijk: needs 3 numbers")
            size = np.array(vol.size)
            if np.any(ijk < 0) or np.any(ijk > size - 1):
                raise UsageError(
                    f"slice index {slice_spec!r} is outside the volume (size {vol.size} i,j,k)"
                )
            return vol.index_to_lps(ijk)
        if "," in text:
            try:
                spec = tuple(float(p) for p in text.split(","))
            except ValueError:
                raise UsageError(
                    f"slice {slice_spec!r}: expected x,y,z in LPS mm, N, Nmm or center"
                ) from None
        elif re.fullmatch(r"[+-]?\d+", text):
            spec = int(text)
        elif m := re.fullmatch(r"([+-]?\d+(?:\.\d*)?)\s*mm", text):
            spec = float(m.group(1))
        else:
            raise UsageError(
                f"slice {slice_spec!r}: expected an index (40), mm along the normal (12.5mm), "
                "an LPS point (x,y,z), ijk:i,j,k or center"
            )
    if spec is None:
        return centre
    if isinstance(spec, bool):
        raise UsageError(f"slice {slice_spec!r} is not a position")
    if isinstance(spec, (int, np.integer)):
        axis = int(np.argmax(np.abs(vol.direction.T @ n)))
        count = vol.size[axis]
        if not 0 <= int(spec) < count:
            raise UsageError(
                f"slice {int(spec)} is out of range 0..{count - 1}{label} "
                f"({'ijk'[axis]} axis has {count} slices)"
            )
        ijk = vol.lps_to_index(centre)
        ijk[axis] = int(spec)
        return vol.index_to_lps(ijk)
    if isinstance(spec, (float, np.floating)):
        proj = corners @ n
        lo, hi = float(proj.min()), float(proj.max())
        s = float(spec)
        if not lo - 1e-6 <= s <= hi + 1e-6:
            raise UsageError(
                f"slice at {s:g} mm is outside the volume{label}: {lo:.1f}..{hi:.1f} mm along "
                f"the normal"
            )
        return np.asarray(centre + (s - centre @ n) * n, float)
    p = np.asarray(spec, float).reshape(-1)
    if p.shape != (3,) or not np.all(np.isfinite(p)):
        raise UsageError(f"slice {slice_spec!r}: an LPS point needs 3 numbers")
    ijk = vol.lps_to_index(p)
    size = np.array(vol.size)
    if np.any(ijk < -0.5) or np.any(ijk > size - 0.5):
        raise UsageError(f"point {tuple(p.tolist())} LPS mm is outside the volume")
    return p


def reslice(
    vol: Volume,
    plane: str = "axial",
    *,
    point: npt.ArrayLike | None = None,
    slice_spec: str | int | float | Sequence[float] | None = None,
    normal: npt.ArrayLike | None = None,
    neurological: bool = False,
    slab_mm: float = 0.0,
    slab_mode: str = "mip",
    pixel_mm: float | None = None,
    fill: float | None = None,
) -> Slice2D:
    """Reformat ``vol`` on a patient plane through a point, optionally as a thick slab.

    Parameters
    ----------
    vol
        The volume.
    plane
        ``"axial"``, ``"coronal"``, ``"sagittal"``, or ``"oblique"`` with ``normal``.
    point
        LPS mm the plane passes through (default: from ``slice_spec``, else the centre).
    slice_spec
        A position as :func:`resolve_point` reads it (index, ``"12mm"``, ``"x,y,z"``).
    normal
        LPS normal of an oblique plane.
    neurological
        Put the patient's left on the image's left (axial, coronal).
    slab_mm, slab_mode
        Thickness in mm and reduction over it: ``mip`` (max), ``minip`` (min) or ``mean``.
    pixel_mm
        In-plane pixel size (default: the volume's smallest spacing).
    fill
        Value outside the volume (default: the volume's minimum).

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> vol = phantom.asymmetric(16)
    >>> s = reslice(vol, "axial", slice_spec=13)
    >>> s.shape, s.plane
    ((16, 16), 'axial')
    >>> r, c, _ = s.lps_to_pixel(vol.meta.extra["marker_lps"])
    >>> bool(c > 8 and r < 8)  # marker: patient left = image right, anterior = top
    True
    """
    if plane == "oblique" and normal is None:
        raise UsageError("an oblique plane needs a normal (LPS vector)")
    right, down, n, name = plane_axes(plane, normal=normal, neurological=neurological)
    if slab_mode not in SLAB_MODES:
        raise UsageError(f"slab mode {slab_mode!r}: choose {', '.join(SLAB_MODES)}")
    if not (math.isfinite(slab_mm) and slab_mm >= 0):
        raise UsageError(f"slab thickness must be >= 0 mm, got {slab_mm}")
    if point is None:
        p = resolve_point(vol, n, slice_spec, plane=name)
    else:
        p = np.asarray(point, float).reshape(3)
    step = float(min(vol.spacing)) if pixel_mm is None else float(pixel_mm)
    if not step > 0:
        raise UsageError(f"pixel size must be > 0 mm, got {pixel_mm}")
    corners = vol.corners_lps() - p
    u, v = corners @ right, corners @ down
    extent = max(u.max() - u.min(), v.max() - v.min())
    step = max(step, float(extent) / (_MAX_PIXELS_PER_SIDE - 1))
    u0, v0 = float(u.min()), float(v.min())  # pixels on voxel centres when axis-aligned
    ncols = math.floor((u.max() - u0) / step + 1e-6) + 1
    nrows = math.floor((v.max() - v0) / step + 1e-6) + 1
    origin = p + u0 * right + v0 * down
    rr, cc = np.meshgrid(np.arange(nrows), np.arange(ncols), indexing="ij")
    pts = origin + (rr.reshape(-1, 1) * step) * down + (cc.reshape(-1, 1) * step) * right
    fill_v = float(vol.array.min()) if fill is None else float(fill)

    if slab_mm > 0:
        n_steps = max(2, math.ceil(slab_mm / float(min(vol.spacing))) + 1)
        offsets = np.linspace(-slab_mm / 2, slab_mm / 2, n_steps)
    else:
        offsets = np.zeros(1)
    mode = slab_mode if slab_mm > 0 else "mip"
    start = {"mip": -np.inf, "minip": np.inf, "mean": 0.0}[mode]
    acc = np.full(len(pts), start, np.float32)
    inside_any = np.zeros(len(pts), bool)
    count = np.zeros(len(pts), np.float32)
    for off in offsets:
        vals, inside = _trilinear(vol, pts + off * n, fill_v)
        inside_any |= inside
        if mode == "mip":
            np.maximum(acc, np.where(inside, vals, -np.inf), out=acc)
        elif mode == "minip":
            np.minimum(acc, np.where(inside, vals, np.inf), out=acc)
        else:
            acc += np.where(inside, vals, np.float32(0))
            count += inside
    if mode == "mean":
        acc /= np.maximum(count, 1)
    acc = np.where(inside_any, acc, np.float32(fill_v)).astype(np.float32)
    return Slice2D(
        array=acc.reshape(nrows, ncols),
        spacing=(step, step),
        origin=np.asarray(origin, float),
        right=right,
        down=down,
        normal=n,
        center=np.asarray(p, float),
        plane=name,
        inside=inside_any.reshape(nrows, ncols),
        slab_mm=float(slab_mm),
        slab_mode=slab_mode if slab_mm > 0 else "",
    )
