"""Transfer functions and windows as plain data: no VTK here, only numbers.

A :class:`TransferFunction` maps voxel values (HU for CT, the scanner's units for MR) to colour and
opacity for volume rendering; a :class:`WindowLevel` maps them to grey for 2D slices.
Only :mod:`volumeviz.render` turns these into VTK objects.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import PresetError


class PresetWarning(UserWarning):
    """A preset that does not fit the data (CT preset on MR, data range misses the preset)."""


#: blend modes a preset may ask for (VTK: composite, maximum, minimum, average intensity)
BLEND_MODES = ("composite", "mip", "minip", "average")


@dataclass(frozen=True, slots=True)
class Shading:
    """Phong shading of a volume: ``shade`` on/off and its four coefficients."""

    shade: bool = True
    ambient: float = 0.1
    diffuse: float = 0.9
    specular: float = 0.2
    specular_power: float = 10.0


@dataclass(frozen=True)
class TransferFunction:
    """Colour, opacity, shading and blend mode of a volume rendering, in the data's units.

    Parameters
    ----------
    name
        Preset name (``"ct-bone"``).
    color
        ``(value, r, g, b)`` points, values increasing, r/g/b in 0..1.
    scalar_opacity
        ``(value, opacity)`` points, values increasing, opacity in 0..1 (per
        ``opacity_unit_distance`` mm of ray).
    gradient_opacity
        ``(gradient magnitude, opacity)`` points; ``()`` for none.
    shading
        :class:`Shading` coefficients.
    blend
        One of :data:`BLEND_MODES`.
    modality
        What the preset is meant for: ``"CT"``, ``"MR"`` or ``""`` (any).
    units
        Units of the values (``"HU"`` for CT).
    opacity_unit_distance
        mm of ray over which ``scalar_opacity`` applies; ``None`` = the volume's smallest spacing
        (what 3D Slicer does).
    source
        Where the numbers come from.

    Examples
    --------
    >>> tf = TransferFunction("demo", color=((0, 0, 0, 0), (100, 1, 1, 1)),
    ...                       scalar_opacity=((0, 0.0), (100, 1.0)))
    >>> tf.opacity_at([50, 200]).tolist()
    [0.5, 1.0]
    >>> tf.visible_range()  # opacity stays 1 above the last point
    (0.0, inf)
    """

    name: str
    color: tuple[tuple[float, float, float, float], ...]
    scalar_opacity: tuple[tuple[float, float], ...]
    gradient_opacity: tuple[tuple[float, float], ...] = ()
    shading: Shading = field(default_factory=Shading)
    blend: str = "composite"
    interpolation: str = "linear"
    modality: str = ""
    units: str = ""
    opacity_unit_distance: float | None = None
    description: str = ""
    aliases: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        where = f"preset {self.name!r}"
        _check_points(self.color, 4, f"{where}: color", unit_cols=(1, 2, 3))
        _check_points(self.scalar_opacity, 2, f"{where}: scalar_opacity", unit_cols=(1,))
        if self.gradient_opacity:
            _check_points(self.gradient_opacity, 2, f"{where}: gradient_opacity", unit_cols=(1,))
        if self.blend not in BLEND_MODES:
            raise PresetError(
                f"{where}: blend {self.blend!r} is not one of {', '.join(BLEND_MODES)}"
            )
        if self.interpolation not in ("linear", "nearest"):
            raise PresetError(f"{where}: interpolation must be 'linear' or 'nearest'")
        if self.opacity_unit_distance is not None and not self.opacity_unit_distance > 0:
            raise PresetError(f"{where}: opacity_unit_distance must be > 0 mm")

    # -- sampling ------------------------------------------------------------------------------
    def opacity_at(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Scalar opacity at ``values`` (piecewise linear, clamped at the ends)."""
        pts = np.asarray(self.scalar_opacity, float)
        return np.interp(np.asarray(values, float), pts[:, 0], pts[:, 1])

    def color_at(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """RGB (0..1) at ``values``, shape ``(..., 3)``."""
        pts = np.asarray(self.color, float)
        v = np.asarray(values, float)
        return np.stack([np.interp(v, pts[:, 0], pts[:, c]) for c in (1, 2, 3)], axis=-1)

    def visible_range(self) -> tuple[float, float]:
        """Return the value interval where opacity is above zero (the preset's working range).

        Beyond the last point opacity is clamped, so a last point above zero makes the range open
        upwards (``inf``), and a first point above zero makes it open downwards.
        """
        pts = np.asarray(self.scalar_opacity, float)
        nz = np.nonzero(pts[:, 1] > 0)[0]
        if nz.size == 0:
            return (math.nan, math.nan)
        first, last = int(nz[0]), int(nz[-1])
        lo = -math.inf if first == 0 else float(pts[first - 1, 0])
        hi = math.inf if last == len(pts) - 1 else float(pts[last + 1, 0])
        return (lo, hi)

    def onset(self) -> float:
        """The value where the preset starts to show (opacity rises above 0).

        The first point's value when the preset is visible from its first point on (or not at
        all): the pivot of :meth:`shifted`'s ``scale``.

        Examples
        --------
        >>> from volumeviz.transfer import load_preset
        >>> round(load_preset("bone").onset(), 2)
        -16.45
        """
        lo, _ = self.visible_range()
        return float(self.scalar_opacity[0][0]) if not math.isfinite(lo) else float(lo)

    def shifted(self, shift: float = 0.0, scale: float = 1.0) -> TransferFunction:
        """The preset moved along the value axis, as 3D Slicer's shift slider does.

        Every colour and scalar-opacity point's value ``v`` becomes
        ``onset + (v - onset) * scale + shift``, with :meth:`onset` the value where the
        preset starts to show: ``shift`` (in the data's units, HU for CT) moves the whole
        function, ``scale`` (> 0) stretches or narrows its ramps from where it starts.
        Opacities and colours are unchanged, and so are the gradient-opacity points (a
        gradient is a difference of values, which a shift does not change).

        Raises
        ------
        PresetError
            ``scale`` is not a positive number or ``shift`` is not finite.

        Examples
        --------
        >>> tf = TransferFunction("demo", color=((0, 0, 0, 0), (100, 1, 1, 1)),
        ...                       scalar_opacity=((0, 0.0), (100, 1.0)))
        >>> [p[0] for p in tf.shifted(50).scalar_opacity]
        [50.0, 150.0]
        >>> [p[0] for p in tf.shifted(scale=2).scalar_opacity]
        [0.0, 200.0]
        """
        if not (math.isfinite(shift) and math.isfinite(scale) and scale > 0):
            raise PresetError(
                f"transfer function shift must be finite and scale > 0, got {shift}, {scale}"
            )
        if shift == 0.0 and scale == 1.0:
            return self
        pivot = self.onset()

        def move(v: float) -> float:
            return float(pivot + (v - pivot) * scale + shift)

        return dataclasses.replace(
            self,
            color=tuple((move(v), r, g, b) for v, r, g, b in self.color),
            scalar_opacity=tuple((move(v), a) for v, a in self.scalar_opacity),
        )

    def saturation(self) -> float:
        """The lowest value at which the picture is as bright as it gets (colour x opacity).

        For a MIP preset, voxels above it are all drawn alike (the flat white of a MIP whose
        ramp ends below the data's bright values).
        """
        values = np.array([p[0] for p in self.scalar_opacity] + [p[0] for p in self.color])
        values = np.unique(values)
        rgb = self.color_at(values)
        bright = (0.2126 * rgb[:, 0] + 0.7152 * rgb[:, 1] + 0.0722 * rgb[:, 2]) * self.opacity_at(
            values
        )
        top = float(bright.max())
        return float(values[np.nonzero(bright >= top - 1e-3)[0][0]])

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form that :func:`transfer_function_from_dict` reads back."""
        return {
            "name": self.name,
            "description": self.description,
            "aliases": list(self.aliases),
            "modality": self.modality,
            "units": self.units,
            "blend": self.blend,
            "color": [list(p) for p in self.color],
            "scalar_opacity": [list(p) for p in self.scalar_opacity],
            "gradient_opacity": [list(p) for p in self.gradient_opacity],
            "shading": {
                "shade": self.shading.shade,
                "ambient": self.shading.ambient,
                "diffuse": self.shading.diffuse,
                "specular": self.shading.specular,
                "specular_power": self.shading.specular_power,
            },
            "interpolation": self.interpolation,
            "opacity_unit_distance": self.opacity_unit_distance,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class WindowLevel:
    """A display window: values ``center ± width/2`` map to black..white.

    Examples
    --------
    >>> wl = WindowLevel(width=400, center=40)
    >>> wl.low, wl.high
    (-160.0, 240.0)
    >>> wl.apply([-1000, 40, 1000]).tolist()
    [0, 128, 255]
    >>> str(wl)
    'W 400 / L 40'
    """

    width: float
    center: float
    name: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.width) and math.isfinite(self.center)) or self.width <= 0:
            raise PresetError(
                f"window width must be a positive number and level finite, "
                f"got W {self.width} / L {self.center}"
            )

    @property
    def low(self) -> float:
        """The value shown black."""
        return float(self.center - self.width / 2)

    @property
    def high(self) -> float:
        """The value shown white."""
        return float(self.center + self.width / 2)

    def apply(self, values: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """Map values to grey 0..255 (linear between :attr:`low` and :attr:`high`, clamped)."""
        v = np.asarray(values, dtype=np.float32)
        scaled = (v - np.float32(self.low)) * np.float32(255.0 / self.width)
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)

    def __str__(self) -> str:
        return f"W {self.width:g} / L {self.center:g}"


def _check_points(
    points: Sequence[Sequence[float]], ncols: int, where: str, *, unit_cols: tuple[int, ...]
) -> None:
    if len(points) < 1:
        raise PresetError(f"{where}: needs at least one point")
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != ncols:
        raise PresetError(f"{where}: every point must have {ncols} numbers")
    if not np.all(np.isfinite(arr)):
        raise PresetError(f"{where}: points must be finite numbers")
    if np.any(np.diff(arr[:, 0]) < 0):
        raise PresetError(f"{where}: values must increase, got {arr[:, 0].tolist()}")
    for col in unit_cols:
        if np.any(arr[:, col] < 0) or np.any(arr[:, col] > 1):
            raise PresetError(f"{where}: colour and opacity must be within 0..1")


def _points(raw: Any, ncols: int, where: str) -> tuple[tuple[float, ...], ...]:
    if not isinstance(raw, list):
        raise PresetError(f"{where}: must be a list of [value, ...] points")
    out = []
    for p in raw:
        if not isinstance(p, list) or len(p) != ncols:
            raise PresetError(f"{where}: every point must be a list of {ncols} numbers, got {p!r}")
        try:
            out.append(tuple(float(x) for x in p))
        except (TypeError, ValueError):
            raise PresetError(
                f"{where}: point {p!r} holds something that is not a number"
            ) from None
    return tuple(out)


def transfer_function_from_dict(data: Mapping[str, Any], *, origin: str) -> TransferFunction:
    """Build a :class:`TransferFunction` from its JSON form; ``origin`` names it in errors.

    Required keys: ``name``, ``color``, ``scalar_opacity``. Optional: ``gradient_opacity``,
    ``shading`` (``shade``, ``ambient``, ``diffuse``, ``specular``, ``specular_power``),
    ``blend``, ``interpolation``, ``modality``, ``units``, ``opacity_unit_distance``,
    ``description``, ``aliases``, ``source``.
    """
    if not isinstance(data, Mapping):
        raise PresetError(f"{origin}: a preset must be a JSON object")
    known = {
        "name",
        "color",
        "scalar_opacity",
        "gradient_opacity",
        "shading",
        "blend",
        "interpolation",
        "modality",
        "units",
        "opacity_unit_distance",
        "description",
        "aliases",
        "source",
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise PresetError(f"{origin}: unknown key(s) {', '.join(unknown)}; known: {sorted(known)}")
    for key in ("name", "color", "scalar_opacity"):
        if key not in data:
            raise PresetError(f"{origin}: missing required key {key!r}")
    shading_raw = data.get("shading", {})
    if not isinstance(shading_raw, Mapping):
        raise PresetError(f"{origin}: 'shading' must be an object")
    bad = sorted(set(shading_raw) - {"shade", "ambient", "diffuse", "specular", "specular_power"})
    if bad:
        raise PresetError(f"{origin}: unknown shading key(s) {', '.join(bad)}")
    try:
        shading = Shading(
            shade=bool(shading_raw.get("shade", True)),
            ambient=float(shading_raw.get("ambient", 0.1)),
            diffuse=float(shading_raw.get("diffuse", 0.9)),
            specular=float(shading_raw.get("specular", 0.2)),
            specular_power=float(shading_raw.get("specular_power", 10.0)),
        )
        unit = data.get("opacity_unit_distance")
        unit_f = None if unit is None else float(unit)
    except (TypeError, ValueError):
        raise PresetError(f"{origin}: shading and opacity_unit_distance must be numbers") from None
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise PresetError(f"{origin}: 'aliases' must be a list of names")
    try:
        return TransferFunction(
            name=str(data["name"]),
            color=_points(data["color"], 4, f"{origin}: color"),  # type: ignore[arg-type]
            scalar_opacity=_points(data["scalar_opacity"], 2, f"{origin}: scalar_opacity"),  # type: ignore[arg-type]
            gradient_opacity=_points(  # type: ignore[arg-type]
                data.get("gradient_opacity", []), 2, f"{origin}: gradient_opacity"
            ),
            shading=shading,
            blend=str(data.get("blend", "composite")).lower(),
            interpolation=str(data.get("interpolation", "linear")).lower(),
            modality=str(data.get("modality", "")).upper(),
            units=str(data.get("units", "")),
            opacity_unit_distance=unit_f,
            description=str(data.get("description", "")),
            aliases=tuple(aliases),
            source=str(data.get("source", "")),
        )
    except PresetError as exc:
        msg = str(exc)
        raise PresetError(msg if msg.startswith(origin) else f"{origin}: {msg}") from None
