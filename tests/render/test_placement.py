"""The marker (patient's left, anterior, superior) lands where anatomy says, in 3D and in MPR."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv

from tests.render.conftest import SIZE, bright_centroid
from volumeviz.render.screenshot import ViewState, render_image, render_scene

pytestmark = pytest.mark.render

W, H = SIZE

# view -> (marker on the image's right?, marker in the image's top half?)
EXPECTED_3D = {
    "anterior": (True, True),  # facing the patient: their left is on our right
    "posterior": (False, True),
    "left": (False, True),  # from the patient's left: anterior is on our left
    "right": (True, True),
    "superior": (False, True),  # from above the head, anterior up: their left on our left
    "inferior": (True, True),  # from the feet, anterior up: like an axial slice
}


@pytest.mark.parametrize("view", list(EXPECTED_3D))
def test_3d_views_place_marker(ct, view):
    img, info = render_image(ct, ViewState(preset="mip", view=view, size=SIZE, annotations=False))
    x, y = bright_centroid(img)
    right, top = EXPECTED_3D[view]
    assert (x > W / 2) == right, f"{view}: marker x={x:.0f} of {W}"
    assert (y < H / 2) == top, f"{view}: marker y={y:.0f} of {H}"
    assert info.view == view


@pytest.mark.parametrize(
    ("plane", "right", "top"),
    [("axial", True, True), ("coronal", True, True), ("sagittal", False, True)],
)
def test_mpr_places_marker(ct, plane, right, top):
    marker = ct.meta.extra["marker_lps"]
    state = ViewState(mpr=plane, slice=marker, size=SIZE, window="bone", annotations=False)
    img, info = render_image(ct, state)
    x, y = bright_centroid(img)
    assert (x > W / 2) == right
    assert (y < H / 2) == top
    assert info.planes[plane].plane == plane


def test_neurological_flips_axial(ct):
    marker = ct.meta.extra["marker_lps"]
    state = ViewState(
        mpr="axial", slice=marker, size=SIZE, window="bone", annotations=False, neurological=True
    )
    x, y = bright_centroid(render_image(ct, state)[0])
    assert x < W / 2
    assert y < H / 2


def _world_to_display(pl, point):
    ren = pl.renderer
    ren.SetWorldPoint(*point, 1.0)
    ren.WorldToDisplay()
    dx, dy, _ = ren.GetDisplayPoint()
    return dx, pl.window_size[1] - dy  # image rows go down


@pytest.mark.parametrize("view", ["anterior", "left", "superior"])
def test_oblique_series_marker_where_lps_projects(ct_rotated, view):
    """An oblique acquisition (25° about x) renders its marker at its LPS position."""
    pl = pv.Plotter(off_screen=True, window_size=list(SIZE))
    try:
        render_scene(
            pl, ct_rotated, ViewState(preset="mip", view=view, size=SIZE, annotations=False)
        )
        pl.render()
        img = pl.screenshot(return_img=True)
        expect = _world_to_display(pl, ct_rotated.meta.extra["marker_lps"])
    finally:
        pl.close()
    x, y = bright_centroid(img)
    assert abs(x - expect[0]) < 8, (x, expect)
    assert abs(y - expect[1]) < 8, (y, expect)


def test_oblique_series_axial_mpr_marker(ct_rotated):
    marker = ct_rotated.meta.extra["marker_lps"]
    img, info = render_image(
        ct_rotated,
        ViewState(mpr="axial", slice=marker, size=SIZE, window="bone", annotations=False),
    )
    s = info.planes["axial"]
    np.testing.assert_allclose(s.normal, [0, 0, 1])  # patient axial, not the index plane
    x, y = bright_centroid(img)
    assert x > W / 2
    assert y < H / 2


def test_gpu_mapper_places_marker_too(ct):
    """The user matrix carries orientation for every mapper (fixed-point ignores direction)."""
    img, info = render_image(
        ct,
        ViewState(preset="mip", view="anterior", size=(120, 120), mapper="gpu", annotations=False),
    )
    assert info.mapper == "gpu"
    x, y = bright_centroid(img)
    assert x > 60
    assert y < 60


def test_crop_box_removes_marker(ct):
    # keep only the patient's right half (x < 0): the marker is on the left
    crop = (-40.0, 0.0, -40.0, 40.0, -40.0, 40.0)
    img, info = render_image(ct, ViewState(preset="mip", size=SIZE, crop=crop, annotations=False))
    grey = img.astype(float).mean(axis=-1)
    assert grey.max() < 230  # marker gone
    assert grey.max() > 60  # the body is still there
    # all that is left is the patient's right half (x < 0 LPS), and the camera frames just it
    assert info.framed_bounds[1] <= 0.0


@pytest.mark.parametrize(("normal_x", "marker_kept"), [(1.0, True), (-1.0, False)])
def test_clip_plane_keeps_side_normal_points_to(ct, normal_x, marker_kept):
    clip = ((0.0, 0.0, 0.0), (normal_x, 0.0, 0.0))
    img, _ = render_image(ct, ViewState(preset="mip", size=SIZE, clip=clip, annotations=False))
    grey = img.astype(float).mean(axis=-1)
    assert (grey.max() >= 230) == marker_kept


def test_crop_on_oblique_volume_is_in_lps(ct_rotated):
    """Crop planes are in LPS: cutting x > 0 removes the marker even for a rotated series."""
    crop = (-60.0, 0.0, -60.0, 60.0, -60.0, 60.0)
    img, _ = render_image(
        ct_rotated, ViewState(preset="mip", size=SIZE, crop=crop, annotations=False)
    )
    assert img.astype(float).mean(axis=-1).max() < 230


def test_same_image_every_run(ct):
    state = ViewState(preset="bone", view="anterior", size=(160, 160))
    a, _ = render_image(ct, state)
    b, _ = render_image(ct, state)
    np.testing.assert_array_equal(a, b)
