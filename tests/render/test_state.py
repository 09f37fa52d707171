"""The one ViewState: crosshair, slices, window/level, defaults, without Qt or VTK."""

from __future__ import annotations

import numpy as np
import pytest

from volumeviz.errors import UsageError
from volumeviz.model import phantom
from volumeviz.model.volume import Volume
from volumeviz.render.state import ViewState, plane_index_axes, value_at


def test_plane_axes_identity_and_sagittal_acquisition() -> None:
    assert plane_index_axes(phantom.asymmetric(8)) == {"axial": 2, "coronal": 1, "sagittal": 0}
    # a sagittal MR: i runs P, j runs I, k runs L
    sag = Volume(np.zeros((4, 5, 6), np.int16), direction=[[0, 0, 1], [1, 0, 0], [0, -1, 0]])
    assert plane_index_axes(sag) == {"axial": 1, "coronal": 0, "sagittal": 2}


def test_moving_the_crosshair_sets_every_plane_index() -> None:
    vol = phantom.asymmetric(32, spacing=(0.5, 0.7, 2.0))
    st = ViewState.for_volume(vol).moved_to(vol, vol.index_to_lps([3, 7, 20]))
    assert st.slice_indices(vol) == {"axial": 20, "coronal": 7, "sagittal": 3}
    st2 = st.stepped(vol, "axial", -5)
    assert st2.slice_indices(vol) == {"axial": 15, "coronal": 7, "sagittal": 3}
    # in-plane position is kept exactly; only z moved, by 5 slices of 2 mm
    assert np.allclose(np.subtract(st2.cursor_lps, st.cursor_lps), [0, 0, -10.0])


def test_crosshair_is_clamped_into_the_volume() -> None:
    vol = phantom.asymmetric(16)
    st = ViewState.for_volume(vol).moved_to(vol, (1000.0, -1000.0, 0.0))
    idx = st.slice_indices(vol)
    assert idx["sagittal"] == 15
    assert idx["coronal"] == 0
    assert ViewState.for_volume(vol).stepped(vol, "axial", 99).slice_indices(vol)["axial"] == 15


def test_oblique_volume_maps_planes_by_nearest_axis() -> None:
    rot = phantom.rotation("z", 30) @ phantom.rotation("x", 10)
    vol = phantom.asymmetric(16, direction=rot)
    st = ViewState.for_volume(vol)
    target = vol.index_to_lps([2, 11, 5])
    assert st.moved_to(vol, target).slice_indices(vol) == {
        "axial": 5,
        "coronal": 11,
        "sagittal": 2,
    }


def test_window_presets_and_drag() -> None:
    st = ViewState.for_volume(phantom.asymmetric(8))
    assert (st.window_level.width, st.window_level.center) == (400.0, 40.0)
    assert st.display_range() == (-160.0, 240.0)
    lung = st.with_window(1400, -500, "lung")
    assert lung.display_range() == (-1200.0, 200.0)
    assert lung.window_name == "lung"
    dragged = lung.dragged_window(10, -5)
    assert (dragged.window_level.width, dragged.window_level.center) == (1420.0, -510.0)
    assert dragged.window_name == ""
    assert st.with_window(-50, 0).window_level.width == 1.0  # never a zero or negative width


def test_value_at_reads_the_marker() -> None:
    vol = phantom.asymmetric(32)
    assert value_at(vol, vol.meta.extra["marker_lps"]) == phantom.MARKER_HU
    assert value_at(vol, vol.center_lps) == phantom.TISSUE_HU
    assert value_at(vol, (500.0, 0.0, 0.0)) is None


def test_invalid_state_is_refused() -> None:
    with pytest.raises(UsageError, match="slab mode"):
        ViewState(slab_mode="max")
    with pytest.raises(UsageError, match="mpr"):
        ViewState(mpr="front")
    with pytest.raises(UsageError, match="slab thickness"):
        ViewState(slab_mm=-1)
    with pytest.raises(UsageError, match="window"):
        ViewState(window=(0.0, 40.0))


def test_maximised_view_is_the_mpr_mode() -> None:
    assert ViewState(mpr="quad").maximised is None
    assert ViewState(mpr="sagittal").maximised == "sagittal"
    assert ViewState(mpr=None).maximised == "3d"


def test_unresolved_state_says_so() -> None:
    with pytest.raises(UsageError, match="resolved"):
        _ = ViewState().cursor_lps
    with pytest.raises(UsageError, match="resolved"):
        _ = ViewState(window="brain").window_level


def test_resolved_fills_by_modality_and_keeps_what_was_given() -> None:
    ct = phantom.asymmetric(16)
    mr = phantom.asymmetric(16, modality="MR")
    assert ViewState().resolved(ct).preset == "ct-bone"
    assert ViewState().resolved(mr).preset == "mr-default"
    assert ViewState(preset="lung").resolved(ct).preset == "lung"
    assert ViewState(window="brain").resolved(ct).window_level.name == "brain"
    assert ViewState(window="50/20").resolved(mr).window_level.width == 50.0
    # the slice: a bare index counts along the plane's normal; None is the centre voxel
    assert (
        ViewState(mpr="sagittal", slice=3).resolved(ct).cursor_lps[0]
        == ct.index_to_lps([3, 8, 8])[0]
    )
    assert np.allclose(ViewState().resolved(ct).cursor_lps, ct.index_to_lps([8, 8, 8]))


def test_centre_is_a_voxel_not_a_blend_of_two_slices() -> None:
    vol = phantom.asymmetric(16, spacing=(1.0, 1.0, 2.0))  # even counts: no middle voxel
    st = ViewState(mpr="axial").resolved(vol)
    k = vol.lps_to_index(st.cursor_lps)[2]
    assert k == round(k)
