"""THE view state: one small typed object saying what to show, for every face of volumeviz.

The window holds one (and changes it through ``MainWindow.set_state``); the CLI builds one from
its options; :func:`volumeviz.screenshot`, :class:`volumeviz.Scene` and the report fill one from
their arguments; :func:`volumeviz.render.screenshot.render_scene` draws one. Fields left ``None``
(preset, window, slice) are filled by :meth:`ViewState.resolved` from
:func:`volumeviz.transfer.defaults.defaults_for`, the one place defaults are chosen, so the
window and ``volumeviz screenshot`` show the same picture for the same state by design.

No Qt and no VTK here (pyvista is imported only to check a colour name).

The crosshair of the window is :attr:`ViewState.slice` once resolved: one LPS point (mm) that
every plane passes through. Each 2D view's slice *index* is the index plane of the volume whose
normal is closest to that view's anatomical axis (axial: S, coronal: P, sagittal: L); indices
follow from the point, never the other way round.

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
>>> st.preset, str(st.window)
('ct-bone', 'W 400 / L 40')

Where new fields go: anything that changes the picture and can be said in a command line
(an overlay switch, a time index, a measurement list) is a field here with a default that keeps
today's picture, checked in :meth:`ViewState.__post_init__` (cheap) or :meth:`ViewState.checked`,
filled from the data in :meth:`ViewState.resolved` when it depends on the volume.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz._face import option
from volumeviz.errors import UsageError
from volumeviz.model.volume import Volume
from volumeviz.ops.measure import Markup
from volumeviz.ops.mpr import PLANES, SLAB_MODES, plane_axes, resolve_point
from volumeviz.render.overlay import OverlayStyle
from volumeviz.transfer import (
    TransferFunction,
    WindowLevel,
    fit_to_data,
    load_preset,
    parse_window,
)
from volumeviz.transfer import defaults as _defaults

#: what ``mpr`` may be: one plane, an oblique plane, or the 2x2 quad (None: 3D only)
MPR_MODES = (*PLANES, "oblique", "quad")
#: the four views of the window / a quad, 3D last
VIEWS: tuple[str, ...] = (*PLANES, "3d")
#: quad layout: (row, col) of each viewport; the 3D view is bottom right
QUAD_LAYOUT = {"axial": (0, 0), "coronal": (0, 1), "sagittal": (1, 0), "3d": (1, 1)}
#: LPS axis that is each plane's normal (axial: z = S, coronal: y = P, sagittal: x = L)
PLANE_LPS_AXIS: dict[str, int] = {"axial": 2, "coronal": 1, "sagittal": 0}
#: the six anatomical cameras (letter -> camera name)
CAMERA_KEYS: dict[str, str] = {
    "A": "anterior",
    "P": "posterior",
    "L": "left",
    "R": "right",
    "S": "superior",
    "I": "inferior",
}
MAX_SIDE = 8192
MIN_SIDE = 16

SliceSpec = str | int | float | tuple[float, float, float] | None
WindowSpec = str | WindowLevel | tuple[float, float] | None


@dataclass(frozen=True)
class ViewState:
    """What to show: the one object the CLI, the window, Scene and reports build and render.

    Parameters
    ----------
    preset
        Volume-rendering preset name, ``.json`` path or :class:`TransferFunction`; ``None``: by
        modality (:func:`~volumeviz.transfer.defaults.defaults_for`).
    view
        3D camera by anatomical name: anterior, posterior, left, right, superior, inferior.
    azimuth, elevation, zoom
        Camera adjustments (degrees, degrees, factor) after the named view.
    mpr
        ``None`` for 3D only; ``"axial"``, ``"coronal"``, ``"sagittal"``, ``"oblique"`` (with
        ``normal``) for one 2D plane; ``"quad"`` for axial, coronal, sagittal and 3D in 2x2
        (the window's 2x2 layout; a maximised view is that view's ``mpr``).
    slice
        Where the plane(s) pass: see :func:`volumeviz.ops.mpr.resolve_point`; ``None``: the
        voxel at the centre. Once resolved, an LPS point ``(x, y, z)`` mm (the crosshair).
    normal
        LPS normal of an oblique plane.
    window
        2D window: ``"400/40"``, a name (``"brain"``), ``"file"``, ``"auto"``, ``(width,
        level)`` or a :class:`WindowLevel`; ``None``: by modality. Once resolved, a
        :class:`WindowLevel` whose ``name`` says where it came from.
    slab_mm, slab_mode
        Thick-slab MPR: thickness in mm and ``mip``/``minip``/``mean``.
    neurological
        Patient left on the image's left in axial/coronal views (default: radiological).
    crop
        3D crop box in LPS mm ``(xmin, xmax, ymin, ymax, zmin, zmax)``; None: no cropping.
    clip
        3D clipping plane ``(point, normal)`` in LPS; keeps the side the normal points to.
    tf_shift, tf_scale
        Move the 3D preset along the value axis by ``tf_shift`` (data units, HU for CT) and
        stretch its ramps by ``tf_scale`` from where it starts to show, as 3D Slicer's shift
        slider (:meth:`volumeviz.transfer.TransferFunction.shifted`). Left at 0 and 1, a MIP
        preset is fitted to the data instead (:func:`volumeviz.transfer.fit_to_data`).
    size
        Image ``(width, height)`` in pixels.
    dpi
        Resolution the image is shown or printed at: text is never smaller than 7.5 pt there
        (:func:`volumeviz.render.layout.font_px`); reports pass their print dpi.
    background
        Background colour (any name or hex pyvista understands).
    mapper
        ``"auto"``, ``"fixed"``, ``"gpu"`` or ``"smart"``.
    annotations
        Letters, scale bars, orientation marker and text (off for regression images).
    anonymize
        Leave patient identity (and the study date) out of the text.
    overlay
        How segmentations are drawn (:class:`~volumeviz.render.overlay.OverlayStyle`: fill
        opacity, outline, 3D surfaces and their opacity, hidden segments, legend).
    volume
        Show the volume rendering in 3D views (False: segment surfaces alone).
    measurements
        :class:`~volumeviz.ops.measure.Markup` objects (or their ``"KIND:x,y,z,..."`` text) drawn
        with their values on the MPR views whose plane they lie in (``screenshot --measure``).
    """

    preset: str | TransferFunction | None = None
    view: str = "anterior"
    azimuth: float = 0.0
    elevation: float = 0.0
    zoom: float = 1.0
    mpr: str | None = None
    slice: SliceSpec = None
    normal: tuple[float, float, float] | None = None
    window: WindowSpec = None
    slab_mm: float = 0.0
    slab_mode: str = "mip"
    neurological: bool = False
    crop: tuple[float, ...] | None = None
    clip: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None
    tf_shift: float = 0.0
    tf_scale: float = 1.0
    size: tuple[int, int] = (800, 600)
    dpi: float = 96.0
    background: str = "black"
    mapper: str = "auto"
    annotations: bool = True
    anonymize: bool = False
    overlay: OverlayStyle = field(default_factory=OverlayStyle)
    volume: bool = True
    measurements: tuple[Markup | str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse values no picture can have (cheap: runs on every mouse move in the window)."""
        if self.slab_mode not in SLAB_MODES:
            raise UsageError(f"slab mode {self.slab_mode!r}: choose {', '.join(SLAB_MODES)}")
        if not (math.isfinite(self.slab_mm) and self.slab_mm >= 0):
            raise UsageError(f"slab thickness must be >= 0 mm, got {self.slab_mm}")
        if not (math.isfinite(self.zoom) and self.zoom > 0):
            raise UsageError(f"zoom must be a positive number, got {self.zoom}")
        mpr = _norm_mpr(self.mpr)
        if mpr is not None and mpr not in MPR_MODES:
            raise UsageError(
                f"unknown view {option('mpr', repr(self.mpr))}; choose {', '.join(MPR_MODES)}"
            )
        if not math.isfinite(self.tf_shift):
            raise UsageError(f"{option('tf_shift')} must be a finite number, got {self.tf_shift}")
        if not (math.isfinite(self.tf_scale) and self.tf_scale > 0):
            raise UsageError(f"{option('tf_scale')} must be > 0, got {self.tf_scale}")
        if not (math.isfinite(self.dpi) and 10 <= self.dpi <= 2400):
            raise UsageError(f"dpi must be 10..2400, got {self.dpi}")
        if isinstance(self.window, tuple) and not (
            len(self.window) == 2 and float(self.window[0]) > 0
        ):
            raise UsageError(f"window must be (width > 0, level), got {self.window}")

    # -- checking and resolving --------------------------------------------------------------
    def checked(self) -> ViewState:
        """Return a copy with names normalised; raise :class:`UsageError` on bad values."""
        from volumeviz.render.cameras import parse_view
        from volumeviz.render.volume import MAPPERS

        w, h = (int(v) for v in self.size)
        if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
            raise UsageError(
                f"image size {w}x{h} is out of range: each side must be {MIN_SIDE}..{MAX_SIDE} px"
            )
        mpr = _norm_mpr(self.mpr)
        if mpr == "oblique" and self.normal is None:
            raise UsageError("an oblique MPR needs a plane normal (LPS), e.g. 0,0.34,0.94")
        if self.mapper not in MAPPERS:
            raise UsageError(f"unknown mapper {self.mapper!r}; choose {', '.join(MAPPERS)}")
        _check_colour(self.background)
        marks = tuple(m if isinstance(m, Markup) else Markup.parse(m) for m in self.measurements)
        return dataclasses.replace(
            self, size=(w, h), mpr=mpr, view=parse_view(self.view), measurements=marks
        )

    def resolved(self, vol: Volume) -> ViewState:
        """Fill what depends on the data: preset, window, and the slice as an LPS point.

        ``preset=None`` and ``window=None`` come from
        :func:`~volumeviz.transfer.defaults.defaults_for`; a window spec (``"brain"``,
        ``"file"``, ``"400/40"``) becomes a :class:`WindowLevel`; ``slice`` becomes the LPS
        point every plane passes through (``None``/``"center"``: the centre voxel).

        Raises
        ------
        UsageError
            The slice is outside the volume; the window cannot be read.
        """
        d: _defaults.Defaults | None = None
        preset = self.preset
        if preset is None:
            d = _defaults.defaults_for(vol)  # looked up on the module: one place, patchable
            preset = d.preset
        window = self.window
        if window is None:
            d = d or _defaults.defaults_for(vol)
            window = d.window
        elif not isinstance(window, WindowLevel):
            window = parse_window(window, vol)
        point = self.point(vol)
        return dataclasses.replace(
            self,
            preset=preset,
            window=window,
            slice=(float(point[0]), float(point[1]), float(point[2])),
        )

    def plane_normal(self) -> npt.NDArray[np.float64]:
        """LPS normal along which a bare ``slice`` number counts (axial for 3D and quad)."""
        mpr = _norm_mpr(self.mpr)
        if mpr in PLANES:
            return plane_axes(str(mpr))[2]
        if mpr == "oblique" and self.normal is not None:
            return plane_axes("oblique", normal=self.normal)[2]
        return plane_axes("axial")[2]

    def point(self, vol: Volume) -> npt.NDArray[np.float64]:
        """The LPS point the plane(s) pass through (``slice`` resolved against ``vol``)."""
        spec = self.slice
        if spec is None or (isinstance(spec, str) and spec.strip().lower() in _CENTRE):
            return centre_voxel_lps(vol)
        mpr = _norm_mpr(self.mpr)
        name = "axial" if mpr in (None, "quad") else str(mpr)
        return resolve_point(vol, self.plane_normal(), spec, plane=name)

    def transfer_function(self, vol: Volume) -> tuple[TransferFunction, list[str]]:
        """The 3D transfer function this state draws ``vol`` with, and notes on how it was made.

        The preset (by modality when ``None``), moved by ``tf_shift``/``tf_scale``; with
        neither given, a MIP preset fitted to ``vol``'s bright values (no flat white
        silhouette). The notes say what was done (for the picture's text and metadata).
        """
        preset = self.preset if self.preset is not None else self.resolved(vol).preset
        tf = preset if isinstance(preset, TransferFunction) else load_preset(str(preset))
        notes: list[str] = []
        if self.tf_shift == 0.0 and self.tf_scale == 1.0:
            tf, note = fit_to_data(tf, vol)
            if note:
                notes.append(note)
        else:
            tf = tf.shifted(self.tf_shift, self.tf_scale)
            unit = f" {tf.units}" if tf.units else ""
            parts = [f"shift {self.tf_shift:+g}{unit}"] if self.tf_shift else []
            parts += [f"scale {self.tf_scale:g}"] if self.tf_scale != 1.0 else []
            notes.append(", ".join(parts))
        return tf, notes

    @classmethod
    def for_volume(cls, vol: Volume, **changes: Any) -> ViewState:
        """A resolved state centred on ``vol`` with the defaults for its modality."""
        return cls(**changes).resolved(vol)

    def replace(self, **changes: Any) -> ViewState:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    # -- what the window shows -----------------------------------------------------------------
    @property
    def cursor_lps(self) -> tuple[float, float, float]:
        """The crosshair (LPS mm): ``slice`` of a resolved state."""
        s = self.slice
        if isinstance(s, tuple) and len(s) == 3:
            return (float(s[0]), float(s[1]), float(s[2]))
        raise UsageError(f"slice {s!r} is not an LPS point yet: call resolved(vol) first")

    @property
    def window_level(self) -> WindowLevel:
        """The 2D window of a resolved state."""
        w = self.window
        if isinstance(w, WindowLevel):
            return w
        if isinstance(w, tuple):
            return WindowLevel(width=float(w[0]), center=float(w[1]))
        raise UsageError(f"window {w!r} is not numbers yet: call resolved(vol) first")

    @property
    def window_name(self) -> str:
        """Name of the window in use (``"brain"``, ``"file"``; ``""`` after a manual change)."""
        return self.window.name if isinstance(self.window, WindowLevel) else ""

    @property
    def maximised(self) -> str | None:
        """The window's view filling the layout: None for the quad, else a plane or ``"3d"``."""
        mpr = _norm_mpr(self.mpr)
        if mpr == "quad":
            return None
        return "3d" if mpr is None else mpr

    def slice_indices(self, vol: Volume) -> dict[str, int]:
        """Return the slice index of each plane at the cursor (along its normal index axis)."""
        ijk = np.rint(vol.lps_to_index(self.cursor_lps)).astype(int)
        size = vol.size
        return {
            plane: int(np.clip(ijk[axis], 0, size[axis] - 1))
            for plane, axis in plane_index_axes(vol).items()
        }

    def moved_to(self, vol: Volume, lps: npt.ArrayLike) -> ViewState:
        """Move the crosshair to an LPS point (clamped into the volume)."""
        p = clamp_lps(vol, lps)
        return self.replace(slice=(float(p[0]), float(p[1]), float(p[2])))

    def with_slice(self, vol: Volume, plane: str, index: int) -> ViewState:
        """Move the crosshair so that ``plane`` shows slice ``index`` (others unchanged)."""
        axis = plane_index_axes(vol)[plane]
        ijk = vol.lps_to_index(self.cursor_lps)
        ijk[axis] = float(np.clip(int(index), 0, vol.size[axis] - 1))
        return self.moved_to(vol, vol.index_to_lps(ijk))

    def stepped(self, vol: Volume, plane: str, delta: int) -> ViewState:
        """Move the crosshair ``delta`` slices through ``plane`` (scroll wheel)."""
        return self.with_slice(vol, plane, self.slice_indices(vol)[plane] + int(delta))

    def with_window(self, width: float, level: float, name: str = "") -> ViewState:
        """Set a new display window (width is kept >= 1); ``name`` says which preset, if any."""
        return self.replace(
            window=WindowLevel(width=max(float(width), 1.0), center=float(level), name=name or "")
        )

    def dragged_window(self, dx: float, dy: float, *, scale: float = 2.0) -> ViewState:
        """Change the window by a right-drag of ``(dx, dy)`` px (right: wider, up: higher)."""
        wl = self.window_level
        return self.with_window(wl.width + scale * dx, wl.center + scale * dy)

    def display_range(self) -> tuple[float, float]:
        """Return the ``(low, high)`` values mapped to black and white."""
        wl = self.window_level
        return (wl.low, wl.high)


_CENTRE = ("", "center", "centre", "c")


def _norm_mpr(mpr: str | None) -> str | None:
    return None if mpr in (None, "", "none", "3d") else str(mpr).lower()


def _check_colour(colour: str) -> None:
    import pyvista as pv

    try:
        pv.Color(colour)
    except ValueError:
        raise UsageError(
            f"unknown background colour {colour!r} (a name like black or #202020)"
        ) from None


def centre_voxel_lps(vol: Volume) -> npt.NDArray[np.float64]:
    """LPS of the voxel at the centre of ``vol`` (index ``round((size - 1) / 2)``, half to even).

    A real slice, not a blend of the two middle ones when a count is even.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> centre_voxel_lps(phantom.asymmetric(4)).tolist()  # indices (2, 2, 2) of 0..3
    [0.5, 0.5, 0.5]
    """
    return np.asarray(vol.index_to_lps(np.round((np.asarray(vol.size) - 1) / 2)), float)


def plane_index_axes(vol: Volume) -> dict[str, int]:
    """Map each plane to the index axis (0 = i, 1 = j, 2 = k) that is its normal.

    The assignment is the permutation of index axes that best matches the anatomical axes
    (largest product of direction cosines), so an oblique or sagittally acquired series still
    gets three different planes.

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.volume import Volume
    >>> sag = Volume(np.zeros((4, 4, 4)), direction=[[0, 0, 1], [1, 0, 0], [0, -1, 0]])
    >>> plane_index_axes(sag)
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
    return np.asarray(vol.index_to_lps(np.clip(ijk, 0.0, hi)), float)


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


def camera_label(state: ViewState) -> str:
    """Describe the 3D camera: ``"anterior"``, ``"anterior, azimuth -25°, elevation 20°"``.

    Examples
    --------
    >>> camera_label(ViewState(view="left", elevation=15))
    'left, elevation 15°'
    """
    from volumeviz.render.cameras import parse_view

    parts = [parse_view(state.view)]
    if state.azimuth:
        parts.append(f"azimuth {state.azimuth:g}°")
    if state.elevation:
        parts.append(f"elevation {state.elevation:g}°")
    if state.zoom != 1.0:
        parts.append(f"zoom {state.zoom:g}")
    return ", ".join(parts)


def state_fields() -> frozenset[str]:
    """Names of the :class:`ViewState` fields (for ``**options`` checks)."""
    return frozenset(f.name for f in dataclasses.fields(ViewState))


# -- options that do not apply -----------------------------------------------------------------


class OptionWarning(UserWarning):
    """An option that does not apply to the picture asked for: it is ignored."""


@dataclass(frozen=True, slots=True)
class Misfit:
    """An option the picture cannot honour: ``refuse`` when ignoring it would mislead."""

    field: str
    message: str
    refuse: bool = False


#: the command line's name of a field where it differs (``slab_mm`` is ``--slab``)
CLI_NAMES = {"slab_mm": "slab", "measurements": "measure"}
#: fields that only change a 3D view / only a 2D view
THREE_D_FIELDS = ("preset", "view", "azimuth", "elevation", "zoom", "crop", "clip", "tf_shift",
                  "tf_scale", "mapper")  # fmt: skip


def _opt(name: str) -> str:
    """How the user spelt a field: ``--slab`` on the command line, ``slab_mm=`` in Python."""
    from volumeviz._face import on_command_line

    if on_command_line():
        return "--" + CLI_NAMES.get(name, name).replace("_", "-")
    return f"{name}="


def misfits(state: ViewState, given: Iterable[str], vol: Volume | None = None) -> list[Misfit]:
    """The options in ``given`` (field names the caller set) that ``state``'s picture ignores.

    A 3D view has no slab, slice, oblique normal, neurological mirroring or 2D window; a
    single 2D plane has no preset, camera, crop, clip or transfer-function shift. With the
    volume: a named CT window (HU) on a series whose values are not HU is refused (its name
    would claim a tissue contrast the picture does not have). Ignored options are warned
    about; none of them changes the picture.

    Examples
    --------
    >>> [m.message for m in misfits(ViewState(slab_mm=10), {"slab_mm"})]
    ['slab_mm= 10 mm is ignored: a slab is a 2D (MPR) option and this is a 3D view; \
add mpr= axial, coronal, sagittal or oblique']
    """
    given = set(given)
    mpr = _norm_mpr(state.mpr)
    two_d = mpr is not None
    three_d = mpr in (None, "quad")
    out: list[Misfit] = []
    if "slab_mm" in given and state.slab_mm > 0 and not two_d:
        out.append(Misfit("slab_mm", f"{_opt('slab_mm')} {state.slab_mm:g} mm is ignored: a "
                           "slab is a 2D (MPR) option and this is a 3D view; add "
                           f"{_opt('mpr')} axial, coronal, sagittal or oblique"))  # fmt: skip
    if "slab_mode" in given and state.slab_mm == 0:
        out.append(Misfit("slab_mode", f"{_opt('slab_mode')} {state.slab_mode} is ignored "
                           f"without {_opt('slab_mm')} (one thin slice is shown)"))  # fmt: skip
    if "normal" in given and mpr != "oblique":
        out.append(Misfit("normal", f"{_opt('normal')} is ignored: it sets the plane of "
                           f"{_opt('mpr')} oblique"))  # fmt: skip
    if not two_d:
        why = "this is a 3D view"
        for name, what in (("neurological", "mirrors 2D views (3D views are anatomical cameras)"),
                           ("window", "sets the grey levels of 2D views; a 3D view uses "
                            f"{_opt('preset')} (move it with {_opt('tf_shift')} and "
                            f"{_opt('tf_scale')})"),
                           ("slice", "places 2D planes")):  # fmt: skip
            if name in given:
                out.append(Misfit(name, f"{_opt(name)} is ignored: it {what}; {why}"))
    if not three_d:
        for name in THREE_D_FIELDS:
            if name in given:
                out.append(Misfit(name, f"{_opt(name)} is ignored: it applies to 3D views and "
                                  f"{_opt('mpr')} {mpr} shows a 2D plane"))  # fmt: skip
    if vol is not None and two_d and isinstance(state.window, str):
        from volumeviz.transfer.defaults import is_ct_window, is_hu

        if is_ct_window(state.window) and not is_hu(vol):
            modality = vol.modality or "this series"
            out.append(Misfit("window", f"{_opt('window')} {state.window} is a CT window (HU) "
                               f"and {modality} values are not HU: its grey levels would "
                               f"mislead; use {_opt('window')} auto, file or W/L",
                               refuse=True))  # fmt: skip
    return out


def given_fields(options: dict[str, Any]) -> set[str]:
    """The keyword arguments a Python caller set to something other than the default."""
    default = ViewState()
    return {k for k, v in options.items() if k in state_fields() and v != getattr(default, k)}


def check_options(state: ViewState, given: Iterable[str], vol: Volume | None = None) -> None:
    """Warn (:class:`OptionWarning`) about ignored options; refuse misleading ones.

    Raises
    ------
    UsageError
        An option whose result would mislead (see :func:`misfits`).
    """
    import warnings

    found = misfits(state, given, vol)
    for m in found:
        if m.refuse:
            raise UsageError(m.message)
    for m in found:
        warnings.warn(m.message, OptionWarning, stacklevel=3)
