"""What to show when the user did not say: ONE function, :func:`defaults_for`, by modality.

Every face of volumeviz asks it: the CLI (``screenshot``, ``view``), the Python API
(:func:`volumeviz.screenshot`, :class:`volumeviz.Scene`), the report and the window, through
:meth:`volumeviz.render.state.ViewState.resolved`. MR (and any series whose values are not HU)
never gets a CT preset or a CT window by default.

>>> from volumeviz.model import phantom
>>> d = defaults_for(phantom.asymmetric(8))
>>> d.preset, str(d.window), d.report_presets
('ct-bone', 'W 400 / L 40', ('ct-bone', 'ct-soft-tissue'))
>>> defaults_for(phantom.asymmetric(8, modality="MR")).preset
'mr-default'
"""

from __future__ import annotations

from dataclasses import dataclass

from volumeviz.errors import PresetError
from volumeviz.model.volume import Volume
from volumeviz.transfer.functions import WindowLevel
from volumeviz.transfer.library import (
    default_window,
    list_window_presets,
    parse_window,
    window_preset,
)

#: CT body part (0018,0015) -> the window shown when the file suggests none
CT_BODY_PART_WINDOWS: dict[str, str] = {
    "HEAD": "brain",
    "BRAIN": "brain",
    "SKULL": "brain",
    "CHEST": "mediastinum",
    "THORAX": "mediastinum",
    "LUNG": "mediastinum",
    "ABDOMEN": "abdomen",
    "PELVIS": "abdomen",
    "LIVER": "liver",
}
#: CT body part -> the 3D presets of a report (else bone and soft tissue)
CT_BODY_PART_REPORT_PRESETS: dict[str, tuple[str, ...]] = {
    "CHEST": ("ct-bone", "ct-lung"),
    "THORAX": ("ct-bone", "ct-lung"),
    "LUNG": ("ct-bone", "ct-lung"),
}


@dataclass(frozen=True, slots=True)
class Defaults:
    """The defaults chosen for one series.

    Attributes
    ----------
    family
        ``"CT"`` (values are HU) or ``"MR"`` (anything else: arbitrary units).
    preset
        3D preset name (``ct-bone``; ``mr-default``).
    window
        2D window: the file's own (0028,1050)/(0028,1051) when it has one, else by modality and
        body part; its ``name`` says which.
    report_presets
        3D presets a report shows for this series.
    window_presets
        Names of the window presets that make sense for the series (the CT windows for CT,
        none for MR: HU windows mean nothing there).
    reason
        One line saying why (``"CT, body part HEAD"``).
    """

    family: str
    preset: str
    window: WindowLevel
    report_presets: tuple[str, ...]
    window_presets: tuple[str, ...]
    reason: str


def is_hu(vol: Volume) -> bool:
    """Return True when the values are Hounsfield units (CT after the modality LUT)."""
    return vol.modality.upper() == "CT" or vol.units == "HU"


def defaults_for(vol: Volume) -> Defaults:
    """Choose preset, window and report presets for ``vol`` by modality and body part.

    - CT (values in HU): ``ct-bone`` in 3D; the file's window, else the window for the body part
      (0018,0015) (HEAD: brain, CHEST: mediastinum, ABDOMEN: abdomen ...), else soft tissue;
      a report shows bone and soft tissue (bone and lung for a chest).
    - everything else (MR, and any series without HU): ``mr-default`` in 3D; the file's window,
      else the 1st-99th percentile of the data; a report shows ``mr-default`` and ``mr-mip``.

    Examples
    --------
    >>> from volumeviz.model import phantom
    >>> head = phantom.asymmetric(8)
    >>> head = head.replace(meta=head.meta.replace(body_part="HEAD"))
    >>> d = defaults_for(head)
    >>> d.window.name, d.reason
    ('brain', 'CT, body part HEAD')
    """
    body = vol.meta.body_part.strip().upper()
    where = f", body part {body}" if body else ""
    if is_hu(vol):
        if vol.meta.windows:
            window = parse_window("file", vol)
        elif body in CT_BODY_PART_WINDOWS:
            name = CT_BODY_PART_WINDOWS[body]
            w = list_window_presets()[name]
            window = WindowLevel(width=w.width, center=w.center, name=name)
        else:
            window = default_window(vol)
        ct_windows = tuple(list_window_presets())
        return Defaults(
            family="CT",
            preset="ct-bone",
            window=window,
            report_presets=CT_BODY_PART_REPORT_PRESETS.get(body, ("ct-bone", "ct-soft-tissue")),
            window_presets=ct_windows,
            reason=f"CT{where}",
        )
    window = parse_window("file", vol) if vol.meta.windows else default_window(vol)
    modality = vol.modality.upper() or "unknown modality"
    return Defaults(
        family="MR",
        preset="mr-default",
        window=window,
        report_presets=("mr-default", "mr-mip"),
        window_presets=(),
        reason=f"{modality}{where}",
    )


def is_ct_window(name: str) -> bool:
    """Return True when ``name`` is one of the built-in CT (HU) window presets or an alias.

    Examples
    --------
    >>> is_ct_window("brain"), is_ct_window("Lungs"), is_ct_window("400/40")
    (True, True, False)
    """
    try:
        window_preset(name)
    except PresetError:
        return False
    return True
