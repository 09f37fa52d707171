"""Transfer functions and windows as data: presets in ``presets/*.json``, no VTK.

>>> from volumeviz.transfer import load_preset, window_preset
>>> load_preset("bone").name, str(window_preset("brain"))
('ct-bone', 'W 100 / L 50')
"""

from volumeviz.transfer.functions import (
    BLEND_MODES,
    PresetWarning,
    Shading,
    TransferFunction,
    WindowLevel,
    transfer_function_from_dict,
)
from volumeviz.transfer.library import (
    default_window,
    fit_to_data,
    list_presets,
    list_window_presets,
    load_preset,
    load_preset_file,
    parse_window,
    preset_aliases,
    preset_warnings,
    window_preset,
)

__all__ = [
    "BLEND_MODES",
    "PresetWarning",
    "Shading",
    "TransferFunction",
    "WindowLevel",
    "default_window",
    "fit_to_data",
    "list_presets",
    "list_window_presets",
    "load_preset",
    "load_preset_file",
    "parse_window",
    "preset_aliases",
    "preset_warnings",
    "transfer_function_from_dict",
    "window_preset",
]
