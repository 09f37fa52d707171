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
    from volumeviz.app.snapshot import layout_image

    def green_in_saved() -> int:  # File > Save screenshot draws what the panel shows
        img = layout_image(win)[0].astype(int)
        return int(((img[..., 1] > 150) & (img[..., 0] < 80) & (img[..., 2] < 80)).sum())

    base = green_in_saved()  # the orientation marker's green face
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
    assert green_in_saved() > base + 50
    win.seg_panel.boxes[0].setChecked(False)
    for view in ("axial", "coronal"):
        assert pixel(view).tolist() == [255, 255, 255], view  # hidden: the bone again
    assert green_in_saved() == base
    win.seg_panel.boxes[0].setChecked(True)
    win.seg_panel.opacity.setValue(50)
    r, g, b = pixel("axial")
    assert 100 < r < 160  # half green over white
    assert g > 200
    win.close_series()
    assert not win.seg_panel.isVisible()


RED = (1.0, 0.0, 0.0)
BLUE = (0.0, 0.0, 1.0)


@pytest.mark.gui
def test_window_overlapping_segments_both_show_and_toggle_alone(win: Any, qtbot: Any) -> None:
    """Segments sharing voxels: both colours where they overlap; hiding one leaves the other."""
    from volumeviz.model.segmentation import Segment

    vol = phantom.asymmetric(48, spacing=(1.0, 1.0, 1.5))
    k, j, i = (np.asarray(vol.array.shape) // 2).tolist()
    a = np.zeros(vol.array.shape, bool)
    a[k - 6 : k + 6, j - 10 : j + 4, i - 10 : i + 4] = True
    b = np.zeros(vol.array.shape, bool)
    b[k - 6 : k + 6, j - 4 : j + 10, i - 4 : i + 10] = True
    seg = Segmentation(
        grid=Grid.of(vol),
        segments=(Segment(1, "red", RED, a), Segment(2, "blue", BLUE, b)),
    )
    centre = vol.index_to_lps([i, j, k])
    both = vol.index_to_lps([i + 2, j - 2, k])  # in both, off the crosshair through the centre
    only_a = vol.index_to_lps([i - 8, j - 8, k])
    only_b = vol.index_to_lps([i + 8, j + 8, k])

    def pixel(at: Any) -> list[int]:
        pos = win.lps_to_widget("axial", at)
        pl = win.panels["axial"].interactor
        pl.render()
        return np.asarray(pl.screenshot(None, return_img=True)[pos.y(), pos.x(), :3], int).tolist()

    win.set_volume(vol)
    win.set_state(win.state.moved_to(vol, centre))
    plain = pixel(both)
    assert plain[0] == plain[1] == plain[2] > 0
    plain_a = pixel(only_a)
    edge_a = vol.index_to_lps([i - 10, j - 5, k])  # a's first column: on its outline
    win.set_segmentations([seg])
    assert win.seg_layers.n_layers == 2  # overlapping segments are not in one label map
    win.seg_panel.opacity.setValue(50)
    r, g, bl = pixel(both)
    assert r > 40, (r, g, bl)  # both colours (blue over red over the grey)
    assert bl > 80, (r, g, bl)
    assert pixel(only_a)[0] > pixel(only_a)[2] + 40
    assert pixel(only_b)[2] > pixel(only_b)[0] + 40
    # opacity 0: outlines only, opaque, in the segment's colour; inside, the grey image
    win.seg_panel.opacity.setValue(0)
    assert pixel(only_a) == plain_a
    r, g, bl = pixel(edge_a)
    assert r > 200, (r, g, bl)
    assert max(g, bl) < 60, (r, g, bl)
    win.seg_panel.opacity.setValue(50)
    win.seg_panel.boxes[1].setChecked(False)  # hide blue: red is still there where they overlap
    r, g, bl = pixel(both)
    assert r > bl + 40, (r, g, bl)
    win.seg_panel.boxes[0].setChecked(False)  # both hidden: the grey image
    assert pixel(both) == plain
    win.seg_panel.boxes[1].setChecked(True)  # blue alone
    r, g, bl = pixel(both)
    assert bl > r + 40, (r, g, bl)
    # segments that do not overlap share one layer
    c = np.zeros(vol.array.shape, bool)
    c[:4, :4, :4] = True
    win.set_segmentations(
        [
            Segmentation(
                grid=Grid.of(vol), segments=(Segment(1, "a", RED, a), Segment(2, "c", BLUE, c))
            )
        ]
    )
    assert win.seg_layers.n_layers == 1
    win.set_segmentations([])  # the grey image is back, not an empty view
    assert pixel(both) == plain


@pytest.mark.gui
def test_window_rtstruct_contours_toggle_and_go_with_their_segment(
    win: Any, qtbot: Any, shared_data: Any
) -> None:
    from tests.conftest import shared_path
    from volumeviz.io.rtstruct import read_rtstruct
    from volumeviz.io.seg import place_on
    from volumeviz.io.volume import load_series

    rt_dir = "seg/rtutils_ge_discoverymi_phantom_rtstruct"
    ct = load_series(shared_path(shared_data, f"{rt_dir}/ct"))
    rt = place_on(read_rtstruct(shared_path(shared_data, f"{rt_dir}/rtstruct/rt.dcm"), ct), ct)
    win.set_volume(ct)
    win.set_segmentations([rt])
    renderer = win.panels["3d"].interactor.renderer

    def contour_actors() -> list[Any]:
        return [
            a
            for a in renderer.GetActors()
            if a.GetMapper() is not None
            and a.GetMapper().GetInput() is not None
            and a.GetMapper().GetInput().GetNumberOfLines() > 0
            and getattr(a, "_volumeviz_segment", None) == "ROI-1"
        ]

    lines = contour_actors()
    assert len(lines) == 1
    assert lines[0].GetVisibility()
    win.seg_panel.boxes[0].setChecked(False)
    assert not lines[0].GetVisibility()  # hidden with its segment
    win.set_segmentations([])
    assert contour_actors() == []  # removed with it


@pytest.mark.gui
def test_window_opening_a_folder_of_ct_and_seg_shows_the_ct_with_its_segs(
    win: Any, qtbot: Any, shared_data: Any
) -> None:
    """--seg auto in the window: the CT is shown (never the SEG), its SEGs found with it."""
    from tests.conftest import shared_path

    with qtbot.waitSignal(win.volume_loaded, timeout=60_000):
        win.open_path(shared_path(shared_data, "seg/ct3slice_liver_seg_dcmqi"))
    qtbot.waitUntil(lambda: bool(win.segmentations), timeout=30_000)
    assert win.vol.meta.modality == "CT"
    labels = ["Liver", "GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"]
    assert sorted(b.text() for b in win.seg_panel.boxes) == sorted(labels)
