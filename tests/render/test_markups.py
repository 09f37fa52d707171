"""Measurements drawn on MPR pictures: on the right plane, at the right scale, with values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from volumeviz.model.volume import Volume, VolumeMeta
from volumeviz.ops.measure import Markup
from volumeviz.render.screenshot import ViewState, png_metadata, render_image

pytestmark = pytest.mark.render


def _dark_ct() -> Volume:
    arr = np.full((12, 64, 80), -1000, np.int16)
    arr[:, 40:50, 10:20] = 300  # a bright block whose value the point reads
    meta = VolumeMeta(modality="CT", units="HU")
    return Volume(arr, origin=(-40.0, -30.0, 0.0), spacing=(1.0, 1.0, 3.0), meta=meta)


def _runs(mask: np.ndarray) -> int:
    """Longest horizontal run of True pixels in any row."""
    best = 0
    for row in mask:
        run = 0
        for v in row:
            run = run + 1 if v else 0
            best = max(best, run)
    return best


def test_a_drawn_distance_has_its_length_at_the_picture_scale():
    vol = _dark_ct()
    z = float(vol.index_to_lps([0, 0, 6])[2])
    length = 40.0
    state = ViewState(
        mpr="axial", slice=6, window="400/40", size=(400, 320),
        measurements=(f"distance:-30,-10,{z},{-30 + length},-10,{z}",),
    )  # fmt: skip
    img, info = render_image(vol, state)
    assert info.measurements == {"axial": [f"distance {length:.1f} mm"]}
    yellow = (img[..., 0] > 200) & (img[..., 1] > 150) & (img[..., 2] < 80)
    white = (img[..., 0] > 200) & (img[..., 1] > 200) & (img[..., 2] > 200)
    bar_px = _runs(white[int(0.8 * img.shape[0]) :])  # the scale bar, lower right
    line_px = _runs(yellow)
    mm_per_px = info.scale_bars_mm["axial"] / bar_px
    assert line_px * mm_per_px == pytest.approx(length, rel=0.06)


def test_measurements_only_on_the_plane_they_lie_in_and_in_the_metadata():
    vol = _dark_ct()
    z6 = float(vol.index_to_lps([0, 0, 6])[2])
    point = vol.index_to_lps([15, 45, 6])
    marks = (
        Markup("point", (tuple(point),)),
        Markup("distance", ((-30.0, -10.0, z6 + 9.0), (0.0, -10.0, z6 + 9.0))),  # 3 slices up
    )
    state = ViewState(mpr="quad", slice=6, size=(400, 400), measurements=marks)
    _, info = render_image(vol, state)
    axial = info.measurements["axial"]
    assert len(axial) == 1
    assert axial[0].endswith(": 300 HU")
    # the point lies on the coronal and sagittal planes through it only if they pass there
    meta = png_metadata(vol, state.checked(), info)
    assert json.loads(meta["volumeviz:measurements"]) == info.measurements
    state = ViewState(mpr="axial", slice=9, size=(200, 200), measurements=marks)
    _, info = render_image(vol, state)
    assert info.measurements["axial"] == ["distance 30.0 mm"]
