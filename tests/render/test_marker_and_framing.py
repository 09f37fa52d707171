"""The 3D view: an orientation marker whose S/I (and every) letter reads upright, and a camera
that frames what the preset shows rather than the whole grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from volumeviz.model.volume import Volume
from volumeviz.render.annotations import LETTER_RADIUS, marker_view
from volumeviz.render.cameras import VIEWS, camera_pose, visible_bounds
from volumeviz.transfer import load_preset

ASSETS = Path(__file__).resolve().parents[2] / "assets"

#: what each anatomical view must show: letter -> expected screen direction (x right, y up)
EXPECTED = {
    "anterior": {"S": (0, 1), "I": (0, -1), "R": (-1, 0), "L": (1, 0), "A": (0, 0)},
    "posterior": {"S": (0, 1), "I": (0, -1), "L": (-1, 0), "R": (1, 0), "P": (0, 0)},
    "left": {"S": (0, 1), "I": (0, -1), "A": (-1, 0), "P": (1, 0), "L": (0, 0)},
    "right": {"S": (0, 1), "I": (0, -1), "P": (-1, 0), "A": (1, 0), "R": (0, 0)},
    # from above, anterior up: the patient's right on the right; from the feet as an axial slice
    "superior": {"A": (0, 1), "P": (0, -1), "L": (-1, 0), "R": (1, 0), "S": (0, 0)},
    "inferior": {"A": (0, 1), "P": (0, -1), "R": (-1, 0), "L": (1, 0), "I": (0, 0)},
}


def _camera(view: str, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
    pos, focal, up = camera_pose((-1, 1, -1, 1, -1, 1), view, **kw)
    return focal - pos, up


@pytest.mark.parametrize("view", list(VIEWS))
def test_marker_letters_point_where_the_patient_is(view: str) -> None:
    mv = marker_view(*_camera(view))
    placed = {t: xy for t, xy, _ in mv.letters}
    assert set(placed) == set(EXPECTED[view])  # the one pointing away is hidden
    for letter, (ex, ey) in EXPECTED[view].items():
        x, y = placed[letter]
        assert (x, y) == pytest.approx((ex * LETTER_RADIUS, ey * LETTER_RADIUS), abs=1e-9)
    # the letters across the view sit beside the cube (outside its unit square), never on an
    # edge-on face where they would read as a bar
    for letter, (ex, ey) in EXPECTED[view].items():
        if (ex, ey) != (0, 0):
            assert max(abs(placed[letter][0]), abs(placed[letter][1])) > 1.0
    # the front face (the only face seen head-on) is drawn, nothing edge-on
    assert len(mv.faces) == 1


def test_oblique_camera_shows_three_faces_and_s_above_i_upright() -> None:
    mv = marker_view(*_camera("anterior", azimuth=-25, elevation=20))
    assert len(mv.faces) == 3
    placed = {t: xy for t, xy, _ in mv.letters}
    assert placed["S"][1] > 0.9  # above the centre
    assert "I" not in placed or placed["I"][1] < placed["S"][1]
    assert placed["R"][0] < 0  # turned towards the patient's right: R on the left, L hidden
    assert "L" not in placed


@pytest.mark.render
def test_rendered_marker_letters_are_upright_text_with_s_above_i(ct: Volume) -> None:
    from volumeviz.render.screenshot import grab_frame, make_plotter, render_scene
    from volumeviz.render.state import ViewState

    state = ViewState(size=(400, 300), preset="bone")
    pl = make_plotter(state)
    try:
        info = render_scene(pl, ct, state)
        img = grab_frame(pl)
        actors = {k: v for k, v in _overlay_actors(pl).items() if k in ("S", "I", "R", "L", "A")}
        pos = {k: a.GetPositionCoordinate().GetValue()[:2] for k, a in actors.items()}
        orient = {k: a.GetOrientation() for k, a in actors.items()}
    finally:
        pl.close()
    assert info.orientation_marker
    assert pos["S"][1] > pos["I"][1] + 20  # viewport y goes up: S above I
    assert pos["R"][0] < pos["L"][0]
    assert all(o == 0.0 for o in orient.values())  # text never turned sideways
    # and the S is really drawn: bright pixels where its actor is
    x, y = pos["S"]
    patch = img[img.shape[0] - int(y) - 6 : img.shape[0] - int(y) + 6, int(x) - 5 : int(x) + 5]
    assert patch.max() > 150


def _overlay_actors(pl: Any) -> dict[str, Any]:
    out = {}
    for ren in pl.renderers:
        props = ren.GetViewProps()
        props.InitTraversal()
        for _ in range(props.GetNumberOfItems()):
            p = props.GetNextProp()
            if p.IsA("vtkTextActor") and len(p.GetInput()) == 1:
                out[p.GetInput()] = p
    return out


# -- framing -----------------------------------------------------------------------------------


def test_visible_bounds_follow_the_preset_not_the_grid() -> None:
    arr = np.full((40, 60, 80), -1000, np.int16)
    arr[10:20, 20:30, 30:50] = 1000  # the only bone
    arr[2, 3, 4] = 1000  # one stray voxel: does not widen the frame
    vol = Volume(arr, origin=(-40.0, -30.0, -20.0), spacing=(0.5, 1.0, 2.0))
    b = visible_bounds(vol, load_preset("bone"))
    # the bone's voxels and the air voxels next to them (the rendered surface lies between)
    lo = vol.index_to_lps([30 - 1, 20 - 1, 10 - 1])
    hi = vol.index_to_lps([49 + 1, 29 + 1, 19 + 1])
    assert b.tolist() == pytest.approx([lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]])
    # a crop box limits it; nothing visible gives the grid
    crop = (-30.0, -20.0, -100.0, 100.0, -100.0, 100.0)
    assert visible_bounds(vol, load_preset("bone"), crop=crop)[:2].tolist() == [-25.5, -20.0]
    empty = Volume(np.full((8, 8, 8), -1000, np.int16))
    assert visible_bounds(empty, load_preset("bone")).tolist() == pytest.approx([0, 7, 0, 7, 0, 7])


def _object_extent(img: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of the non-background pixels as fractions of the image."""
    mask = img.astype(int).sum(axis=-1) > 30
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    return xs.min() / w, (xs.max() + 1) / w, ys.min() / h, (ys.max() + 1) / h


@pytest.mark.render
@pytest.mark.parametrize("view", ["anterior", "left", "superior"])
def test_small_object_in_a_big_grid_fills_the_view(view: str) -> None:
    from volumeviz.render.screenshot import render_image
    from volumeviz.render.state import ViewState

    arr = np.full((80, 80, 80), -1000, np.int16)
    arr[30:50, 35:45, 25:55] = 1000  # 30 x 10 x 20 mm of bone in a 80 mm cube of air
    vol = Volume(arr)
    img, info = render_image(vol, ViewState(preset="bone", view=view, size=(400, 300),
                                             annotations=False))  # fmt: skip
    x0, x1, y0, y1 = _object_extent(img)
    assert max(x1 - x0, y1 - y0) > 0.75  # the limiting side fills the view (was ~0.3)
    assert (x0 > 0.0, y0 > 0.0, x1 < 1.0, y1 < 1.0) == (True,) * 4  # nothing is cut off
    assert abs((x0 + x1) / 2 - 0.5) < 0.08
    assert abs((y0 + y1) / 2 - 0.5) < 0.08
    assert info.framed_bounds == pytest.approx([24, 55, 34, 45, 29, 50])


@pytest.mark.render
def test_bundled_head_ct_is_framed_tightly() -> None:
    from volumeviz.io.volume import load_series
    from volumeviz.render.screenshot import render_image
    from volumeviz.render.state import ViewState

    vol = load_series(ASSETS / "ct-head")
    img, _ = render_image(vol, ViewState(size=(800, 600), annotations=False))
    x0, x1, y0, y1 = _object_extent(img)
    assert x1 - x0 > 0.7  # head and head rest span most of the width (0.46 before)
    assert (x0 > 0.0, y0 > 0.0, x1 < 1.0, y1 < 1.0) == (True,) * 4
