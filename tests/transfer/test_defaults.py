"""One function picks the defaults by modality and body part (no VTK)."""

from __future__ import annotations

import pytest

from volumeviz.model import phantom
from volumeviz.model.volume import Volume, WindowPreset
from volumeviz.transfer import load_preset
from volumeviz.transfer.defaults import defaults_for


def _with(vol: Volume, **meta: object) -> Volume:
    return vol.replace(meta=vol.meta.replace(**meta))


def test_ct_defaults_and_body_parts() -> None:
    ct = phantom.asymmetric(16)
    d = defaults_for(ct)
    assert (d.family, d.preset, d.window.name) == ("CT", "ct-bone", "soft-tissue")
    assert (d.window.width, d.window.center) == (400.0, 40.0)
    assert d.report_presets == ("ct-bone", "ct-soft-tissue")
    assert "lung" in d.window_presets
    head = defaults_for(_with(ct, body_part="head"))
    assert (head.window.name, head.window.width, head.window.center) == ("brain", 100.0, 50.0)
    chest = defaults_for(_with(ct, body_part="CHEST"))
    assert chest.window.name == "mediastinum"
    assert chest.report_presets == ("ct-bone", "ct-lung")
    assert chest.reason == "CT, body part CHEST"


def test_the_files_own_window_wins_over_the_body_part() -> None:
    ct = _with(phantom.asymmetric(16), body_part="HEAD", windows=(WindowPreset(35.0, 80.0, "X"),))
    d = defaults_for(ct)
    assert (d.window.width, d.window.center, d.window.name) == (80.0, 35.0, "file: X")


@pytest.mark.parametrize("modality", ["MR", "PT", ""])
def test_anything_not_hu_never_gets_a_ct_preset_or_window(modality: str) -> None:
    vol = phantom.asymmetric(16, modality=modality) if modality else phantom.asymmetric(16)
    if not modality:
        vol = _with(vol, modality="", units="")
    d = defaults_for(vol)
    assert d.family == "MR"
    for name in (d.preset, *d.report_presets):
        assert load_preset(name).modality != "CT", name
    assert d.window_presets == ()
    assert d.window.name == "auto 1-99%"  # from the data, not a HU window
    lo, hi = d.window.low, d.window.high
    assert float(vol.array.min()) <= lo < hi <= float(vol.array.max())


def test_mr_with_a_file_window_uses_it() -> None:
    mr = _with(phantom.asymmetric(16, modality="MR"), windows=(WindowPreset(300.0, 500.0),))
    d = defaults_for(mr)
    assert (d.window.width, d.window.center, d.window.name) == (500.0, 300.0, "file")
