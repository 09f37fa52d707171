"""The window follows the one annotation rule (model.geometry): no invented geometry on screen.

A volume whose geometry the loader assumed (the real dwv legacy multi-frame MR: no positions, no
orientation, no spacing) shows no orientation letters and the visible "geometry unknown" note in
every 2D view, and the status line gives pixel indices, never LPS millimetres. A synthetic
phantom with a patient frame keeps its letters (the rule does not simply switch text off).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.conftest import shared_path
from volumeviz.model import phantom

pytestmark = pytest.mark.gui

LEGACY = "mr/dwv_philips_legacy_multiframe"


def _all_text(view: Any) -> str:
    return " ".join(view.cell.texts().values())


def test_window_shows_no_letters_and_says_geometry_unknown(win: Any, shared_data: Any) -> None:
    from volumeviz.io.volume import load_series

    vol = load_series(shared_path(shared_data, LEGACY))
    assert vol.geometry.assumed
    win.set_volume(vol)
    for name in ("axial", "coronal", "sagittal"):
        view = win.slices[name]
        win.panels[name].interactor.render()
        assert view.letters() == {}, name
        assert "geometry unknown" in _all_text(view).lower(), name
    win._show_position(vol.index_to_lps(np.array([10.0, 20.0, 0.0])), "cursor")
    text = win.position_label.text()
    assert "column 10" in text
    assert "row 20" in text
    assert " mm" not in text


def test_window_keeps_letters_for_a_patient_frame(win: Any) -> None:
    vol = phantom.asymmetric(24)
    win.set_volume(vol)
    win.panels["axial"].interactor.render()
    assert win.slices["axial"].letters() == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert "geometry unknown" not in _all_text(win.slices["axial"]).lower()
    win._show_position(vol.index_to_lps(np.array([3.0, 4.0, 5.0])), "cursor")
    assert " mm" in win.position_label.text()
