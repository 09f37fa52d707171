"""The window's Segments panel: segment layers in the 2D views, toggles and opacity."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from volumeviz.model import phantom
from volumeviz.model.segmentation import Grid, Segmentation

GREEN = (0.0, 1.0, 0.0)


@pytest.mark.gui
def test_window_segments_panel_toggles_and_opacity(win: Any, qtbot: Any) -> None:
    vol = phantom.asymmetric(64, spacing=(1.0, 1.0, 1.5))
    seg = Segmentation.from_labelmap(
        (vol.array > 500).astype(np.uint8), Grid.of(vol), colors={1: GREEN}
    )
    win.set_volume(vol)
    win.set_state(win.state.moved_to(vol, vol.meta.extra["marker_lps"]))
    win.set_segmentations([seg])
    assert win.seg_panel.isVisible()
    assert [b.text() for b in win.seg_panel.boxes] == ["label 1"]
    near = np.asarray(vol.meta.extra["marker_lps"]) + 3.0

    def pixel(view: str) -> np.ndarray:
        pos = win.lps_to_widget(view, near)
        pl = win.panels[view].interactor
        pl.render()
        return np.asarray(pl.screenshot(None, return_img=True)[pos.y(), pos.x(), :3], int)

    win.seg_panel.opacity.setValue(100)
    for view in ("axial", "coronal", "sagittal"):
        r, g, b = pixel(view)
        assert g > 200, (view, r, g, b)  # opaque green over the white bone
        assert max(r, b) < 60, (view, r, g, b)
    win.seg_panel.boxes[0].setChecked(False)
    for view in ("axial", "coronal"):
        assert pixel(view).tolist() == [255, 255, 255], view  # hidden: the bone again
    win.seg_panel.boxes[0].setChecked(True)
    win.seg_panel.opacity.setValue(50)
    r, g, b = pixel("axial")
    assert 100 < r < 160  # half green over white
    assert g > 200
    win.close_series()
    assert not win.seg_panel.isVisible()
