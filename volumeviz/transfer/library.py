"""The preset library: named transfer functions and windows shipped as JSON, and users' own files.

Names are typed the way users type them: ``bone`` finds ``ct-bone``; an unknown name gets a
"did you mean" and the list.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from volumeviz.errors import PresetError, UsageError
from volumeviz.model.volume import Volume
from volumeviz.transfer.functions import TransferFunction, WindowLevel, transfer_function_from_dict

_PRESET_DIR = "presets"
_WINDOWS_FILE = "windows.json"


def _preset_files() -> dict[str, Any]:
    root = resources.files("volumeviz.transfer").joinpath(_PRESET_DIR)
    return {
        p.name[: -len(".json")]: p
        for p in root.iterdir()
        if p.name.endswith(".json") and p.name != _WINDOWS_FILE
    }


@functools.lru_cache(maxsize=1)
def _builtin_presets() -> dict[str, TransferFunction]:
    out = {}
    for stem, path in sorted(_preset_files().items()):
        tf = transfer_function_from_dict(json.loads(path.read_text("utf-8")), origin=path.name)
        if tf.name != stem:
            raise PresetError(f"{path.name}: name {tf.name!r} differs from the file name")
        out[stem] = tf
    return out


@functools.lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    table: dict[str, str] = {}
    for name, tf in _builtin_presets().items():
        for key in (name, *tf.aliases):
            key = _norm(key)
            if key in table and table[key] != name:
                raise PresetError(f"preset alias {key!r} names both {table[key]} and {name}")
            table[key] = name
    return table


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def list_presets() -> list[str]:
    """Return the names of the built-in volume-rendering presets (file names without ``.json``).

    Examples
    --------
    >>> "ct-bone" in list_presets()
    True
    """
    return sorted(_builtin_presets())


def preset_aliases() -> dict[str, str]:
    """Return every accepted short name -> the preset it selects (``{"bone": "ct-bone", ...}``)."""
    return dict(_aliases())


def _did_you_mean(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""


def load_preset(name_or_path: str | Path) -> TransferFunction:
    """Load a volume-rendering preset by name (``"bone"``, ``"ct-bone"``) or from a JSON file.

    Raises
    ------
    PresetError
        The name is unknown (with suggestions and the list), or the file is missing or malformed.

    Examples
    --------
    >>> load_preset("bone").name
    'ct-bone'
    >>> load_preset("mr-mip").blend
    'mip'
    >>> load_preset("bnoe")
    Traceback (most recent call last):
    ...
    volumeviz.errors.PresetError: no preset 'bnoe'; did you mean 'bone'? ...
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.lower().endswith(".json") or "/" in text:
        return load_preset_file(text)
    key = _norm(text)
    table = _aliases()
    if key in table:
        return _builtin_presets()[table[key]]
    choices = sorted(table)
    raise PresetError(
        f"no preset {text!r}; {_did_you_mean(key, choices)}"
        f"available: {', '.join(choices)} (or a preset .json file)"
    )


def load_preset_file(path: str | Path) -> TransferFunction:
    """Load a user's own preset from a JSON file (same keys as the built-in ``presets/*.json``)."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError:
        raise PresetError(f"{p}: preset file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PresetError(f"{p}: cannot read preset file: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return transfer_function_from_dict(data, origin=str(p))


# -- windows ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _WindowEntry:
    window: WindowLevel
    modality: str
    aliases: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def _windows() -> dict[str, _WindowEntry]:
    path = resources.files("volumeviz.transfer").joinpath(_PRESET_DIR, _WINDOWS_FILE)
    data = json.loads(path.read_text("utf-8"))
    out = {}
    for w in data["windows"]:
        wl = WindowLevel(width=float(w["width"]), center=float(w["center"]), name=w["name"])
        out[w["name"]] = _WindowEntry(wl, w.get("modality", ""), tuple(w.get("aliases", ())))
    return out


def list_window_presets() -> dict[str, WindowLevel]:
    """Return the named windows (``{"brain": W 100 / L 50, ...}``).

    Examples
    --------
    >>> str(list_window_presets()["lung"])
    'W 1400 / L -500'
    """
    return {name: e.window for name, e in _windows().items()}


def window_preset(name: str) -> WindowLevel:
    """Return a named window (``"brain"``, ``"abdomen"``, ``"lung"``, ``"bone"`` ...).

    Examples
    --------
    >>> window_preset("bone")
    WindowLevel(width=1000.0, center=400.0, name='bone')
    """
    key = _norm(name)
    table = {}
    for n, e in _windows().items():
        table[n] = n
        for a in e.aliases:
            table[a] = n
    if key in table:
        return _windows()[table[key]].window
    choices = sorted(table)
    raise PresetError(
        f"no window preset {name!r}; {_did_you_mean(key, choices)}"
        f"available: {', '.join(choices)}, file, auto, or W/L such as 400/40"
    )


_WL_RE = re.compile(r"^\s*([+-]?\d+(?:\.\d*)?)\s*[/,:]\s*([+-]?\d+(?:\.\d*)?)\s*$")


def parse_window(
    spec: str | WindowLevel | tuple[float, float], vol: Volume | None = None
) -> WindowLevel:
    """Turn what a user typed into a window: ``"400/40"`` (W/L), a name, ``"file"``, ``"auto"``.

    ``"file"`` takes the series' own WindowWidth/WindowCenter (the first pair) and fails if the
    file has none; ``"auto"`` takes the file's window when there is one, else a default for the
    modality (:func:`default_window`). A tuple is ``(width, center)``.

    Examples
    --------
    >>> parse_window("1400/-500")
    WindowLevel(width=1400.0, center=-500.0, name='')
    >>> parse_window("brain").center
    50.0
    """
    if isinstance(spec, WindowLevel):
        return spec
    if isinstance(spec, tuple):
        return WindowLevel(width=float(spec[0]), center=float(spec[1]))
    m = _WL_RE.match(spec)
    if m:
        width, center = float(m.group(1)), float(m.group(2))
        if width <= 0:
            raise UsageError(f"window {spec!r}: width must be > 0 (the form is WIDTH/LEVEL)")
        return WindowLevel(width=width, center=center)
    key = _norm(spec)
    if key in ("file", "auto"):
        if vol is None:
            raise UsageError(f"window {spec!r} needs a volume to read the file's window from")
        if vol.meta.windows:
            w = vol.meta.windows[0]
            return WindowLevel(
                width=float(w.width), center=float(w.center), name=_file_window_name(w.explanation)
            )
        if key == "file":
            raise PresetError(
                "the series has no (0028,1050) Window Center / (0028,1051) Window Width; "
                "give --window W/L or a preset name"
            )
        return default_window(vol)
    return window_preset(spec)


def _file_window_name(explanation: str) -> str:
    """Name a file window: ``file: BRAIN`` from a short (0028,1055) explanation, else ``file``."""
    text = " ".join(explanation.split())
    if not text or len(text) > 24 or text.lower().startswith("from "):
        return "file"
    return f"file: {text}"


def default_window(vol: Volume) -> WindowLevel:
    """Choose a window when none is given: soft tissue 400/40 for CT, else 1st-99th percentile."""
    if vol.modality == "CT" or vol.units == "HU":
        w = window_preset("soft-tissue")
        return WindowLevel(width=w.width, center=w.center, name="soft-tissue")
    sample = vol.array[:: max(1, vol.array.shape[0] // 16)]
    lo, hi = (float(x) for x in np.percentile(sample, [1, 99]))
    if not hi > lo:
        hi = lo + 1.0
    return WindowLevel(width=hi - lo, center=(hi + lo) / 2, name="auto 1-99%")


# -- fitness checks ---------------------------------------------------------------------------
def preset_warnings(tf: TransferFunction, vol: Volume) -> list[str]:
    """Return why this preset may show nothing useful on this volume (empty when it fits).

    - a preset meant for one modality (``CT``) used on another (``MR``);
    - data whose value range does not reach the preset's visible range.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> preset_warnings(load_preset("bone"), phantom.asymmetric(16))
    []
    >>> mr = phantom.asymmetric(16, modality="MR")
    >>> preset_warnings(load_preset("bone"), mr)[0]
    "preset 'ct-bone' is meant for CT, but the series is MR"
    """
    out = []
    if tf.modality and vol.modality and tf.modality != vol.modality.upper():
        out.append(
            f"preset {tf.name!r} is meant for {tf.modality}, but the series is {vol.modality}"
        )
    lo, hi = tf.visible_range()
    if math.isnan(lo):
        out.append(f"preset {tf.name!r} is fully transparent: every opacity point is 0")
        return out
    dmin, dmax = float(vol.array.min()), float(vol.array.max())
    if tf.blend in ("composite", "average") and (dmax <= lo or dmin >= hi):
        unit = f" {tf.units}" if tf.units else ""
        out.append(
            f"data range {dmin:g}..{dmax:g}{unit} misses preset {tf.name!r}, which shows "
            f"{lo:g}..{hi:g}{unit}: the rendering will be empty"
        )
    return out


def fit_to_data(tf: TransferFunction, vol: Volume) -> tuple[TransferFunction, str]:
    """Stretch a MIP preset over the data it will show; return it and a note (``""``: kept).

    A maximum intensity projection shows the brightest voxel on each ray: if the preset's
    brightness saturates (:meth:`TransferFunction.saturation`) below the data's bright values,
    every ray through bone (CT) or fat/vessels (MR) comes out the same white: a flat
    silhouette. When the 99.9th percentile of the voxels the preset shows lies more than 10%
    of the ramp above the saturation, the preset is scaled about its onset
    (:meth:`TransferFunction.shifted`) so that it saturates at that percentile. Other blend
    modes are returned unchanged.

    Examples
    --------
    >>> from volumeviz.model.volume import Volume, VolumeMeta
    >>> ramp = np.linspace(0, 400, 16**3).reshape(16, 16, 16)
    >>> fit_to_data(load_preset("mr-mip"), Volume(ramp, meta=VolumeMeta(modality="MR")))[1]
    ''
    >>> bright = Volume(ramp * 5, meta=VolumeMeta(modality="MR"))  # up to 2000: flat white
    >>> tf, note = fit_to_data(load_preset("mr-mip"), bright)
    >>> note, round(tf.saturation())
    ('fitted to the data: white at 1998', 1998)
    """
    if tf.blend != "mip":
        return tf, ""
    onset, sat = tf.onset(), tf.saturation()
    if not sat > onset:
        return tf, ""
    arr = vol.array
    step = max(1, round((arr.size / 2e6) ** (1 / 3)))
    sample = np.asarray(arr[::step, ::step, ::step]).ravel()
    shown = sample[sample > onset]
    if shown.size < 16:
        return tf, ""
    top = float(np.percentile(shown, 99.9))
    if top <= sat + 0.1 * (sat - onset):
        return tf, ""
    scale = (top - onset) / (sat - onset)
    unit = f" {tf.units}" if tf.units else ""
    return tf.shifted(scale=scale), f"fitted to the data: white at {top:.0f}{unit}"
