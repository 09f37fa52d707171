"""Scene.add_ultrasound: a frame letterboxed at physical scale, bars drawn at the cell's scale."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import shared_path
from volumeviz.errors import UsageError
from volumeviz.model import phantom
from volumeviz.model.ultrasound import ArrayFrames, UltrasoundImage, UltrasoundRegion
from volumeviz.render import scene as scene_module
from volumeviz.render.scene import Scene

pytestmark = pytest.mark.render

BG = (32, 64, 96)
BG_HEX = "#204060"


def synthetic(delta=(0.05, 0.05), rows=240, cols=320, n=2):
    reg = UltrasoundRegion(index=0, bounds=(10, 10, cols - 11, rows - 11), delta=delta,
                           reference_pixel=(0, 0), reference_value=(0.0, 0.0))  # fmt: skip
    yy, xx = np.mgrid[:rows, :cols]
    frame = ((xx * 3 + yy) % 200 + 20).astype(np.uint8)
    return UltrasoundImage("syn.dcm", rows, cols, n, False, (reg,),
                           frames=ArrayFrames(np.stack([frame] * n)))  # fmt: skip


def panel_box(cell):
    """(x0, y0, x1, y1) exclusive of the non-background part of a cell."""
    inside = ~(cell == BG).all(axis=2)
    ys, xs = np.nonzero(inside)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def depth_tick_rows(with_bar, without_bar):
    """Rows of the depth bar's ticks, measured from what the bar added to the image."""
    added = (with_bar != without_bar).any(axis=2)
    bar_col = int(np.argmax(added.sum(axis=0)))  # the long vertical line
    col = added[:, bar_col - 2]  # left of the line only the ticks are drawn
    rows = np.nonzero(col)[0]
    runs = np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1)
    return np.array([r.mean() for r in runs])


def cell_pair(us, frame, cell_size):
    cells = []
    for bar in (True, False):
        s = Scene(None, columns=1, cell_size=cell_size, background=BG_HEX)
        cells.append(s.add_ultrasound(us, frame, scale_bar=bar, regions=False).render())
    return cells


def test_synthetic_letterbox_keeps_aspect_and_tick_spacing(tmp_path):
    us = synthetic()
    with_bar, without_bar = cell_pair(us, 1, (300, 300))
    x0, y0, x1, y1 = panel_box(without_bar)
    assert (x0, x1) == (0, 300)  # width-limited: bands above and below
    assert abs((y1 - y0) - 300 * 240 / 320) <= 1
    assert abs(y0 - (300 - (y1 - y0)) // 2) <= 1
    scale = (x1 - x0) / us.columns
    ticks = depth_tick_rows(with_bar, without_bar)
    assert len(ticks) >= 3
    np.testing.assert_allclose(np.diff(ticks), 20.0 * scale, atol=1.0)  # 20 px/cm in the file
    scene = Scene(None, columns=1, cell_size=(300, 300)).add_ultrasound(us, title="syn")
    out = scene.save(tmp_path / "us.png")
    meta = json.loads(Image.open(out).text["volumeviz:scene"])
    assert meta[0]["mpr"] == "ultrasound"
    assert meta[0]["pixels_per_cm"][0] == pytest.approx(
        20.0 * scene.cells[0].layout((300, 300)).scale[0]
    )
    assert np.asarray(Image.open(out)).shape == (300, 300, 3)


def test_non_square_pixels_are_shown_with_a_square_cm():
    us = synthetic(delta=(0.04, 0.02))  # 25 px/cm across, 50 px/cm down
    scene = Scene(None, columns=1, cell_size=(400, 400)).add_ultrasound(us)
    lay = scene.cells[0].layout(scene.cell_size)
    ppc_x, ppc_y = 25 * lay.scale[0], 50 * lay.scale[1]
    assert ppc_x == pytest.approx(ppc_y, rel=0.01)
    meta = json.loads(scene.metadata()["volumeviz:scene"])[0]
    assert meta["pixels_per_cm"][0] == pytest.approx(meta["pixels_per_cm"][1], rel=0.01)


def test_real_philips_frame_next_to_a_volume(shared_data, tmp_path):
    from volumeviz.io.ultrasound import load_ultrasound

    us = load_ultrasound(shared_path(shared_data, "us/philips_cx50_palette_2f_ecg.dcm"))
    ppc = us.regions[0].pixels_per_cm[1]
    with_bar, without_bar = cell_pair(us, 1, (360, 360))
    x0, y0, x1, y1 = panel_box(without_bar)
    assert x1 - x0 == 360
    assert abs((y1 - y0) - 360 * us.rows / us.columns) <= 1
    ticks = depth_tick_rows(with_bar, without_bar)
    assert len(ticks) >= 5
    np.testing.assert_allclose(np.diff(ticks), ppc * (x1 - x0) / us.columns, atol=1.0)
    scene = Scene(phantom.asymmetric(16), columns=2, cell_size=(360, 360), background=BG_HEX)
    scene.add_mpr("axial").add_ultrasound(us, 1, title="CX50")
    fig = np.asarray(Image.open(scene.save(tmp_path / "mixed.png")))
    assert fig.shape == (360, 720, 3)
    assert not (fig[:, 360:] == BG).all(axis=2).all()  # the panel is there
    meta = json.loads(Image.open(tmp_path / "mixed.png").text["volumeviz:scene"])
    assert [c["mpr"] for c in meta] == ["axial", "ultrasound"]
    assert "9 cm" in meta[1]["scale_bars"]


def test_frame_out_of_range_is_one_clear_line():
    with pytest.raises(UsageError) as exc:
        Scene(None).add_ultrasound(synthetic(n=2), 2)
    msg = str(exc.value)
    assert "\n" not in msg
    assert "frame 2 out of range" in msg
    assert "2 frame(s)" in msg


def test_ultrasound_only_scene_refuses_volume_views_and_non_images():
    with pytest.raises(UsageError, match="no volume"):
        Scene(None).add_3d()
    with pytest.raises(UsageError, match="needs an UltrasoundImage"):
        Scene(None).add_ultrasound("us.dcm")  # type: ignore[arg-type]
    assert "ultrasound frame 0" in repr(Scene(None).add_ultrasound(synthetic()))


def test_add_ultrasound_docstring_example_runs():
    finder = doctest.DocTestFinder()
    tests = [t for t in finder.find(scene_module) if t.name.endswith("add_ultrasound")]
    assert tests
    assert tests[0].examples
    runner = doctest.DocTestRunner()
    for t in tests:
        runner.run(t)
    assert runner.failures == 0
