"""MPR along patient axes: the marker (left, anterior, superior) lands where LPS says."""

from __future__ import annotations

import numpy as np
import pytest

from volumeviz.errors import UsageError
from volumeviz.model import phantom
from volumeviz.model.phantom import MARKER_HU
from volumeviz.ops.mpr import plane_axes, reslice, resolve_point


def _marker_centroid(s):
    rows, cols = np.nonzero(s.array > MARKER_HU / 2)
    assert rows.size > 0, "marker not in slice"
    return rows.mean() / s.shape[0], cols.mean() / s.shape[1]


@pytest.fixture(scope="module")
def vol():
    return phantom.asymmetric(32)


def _through_marker(vol, plane, **kw):
    return reslice(vol, plane, point=vol.meta.extra["marker_lps"], **kw)


def test_axial_marker_right_and_top(vol):
    s = _through_marker(vol, "axial")
    r, c = _marker_centroid(s)
    assert c > 0.5  # patient left on image right (radiological)
    assert r < 0.5  # anterior at the top
    assert s.edge_letters() == {"left": "R", "right": "L", "top": "A", "bottom": "P"}


def test_axial_neurological_flips_left_right(vol):
    s = _through_marker(vol, "axial", neurological=True)
    r, c = _marker_centroid(s)
    assert c < 0.5
    assert r < 0.5
    assert s.edge_letters()["right"] == "R"


def test_coronal_marker_right_and_top(vol):
    s = _through_marker(vol, "coronal")
    r, c = _marker_centroid(s)
    assert c > 0.5  # left on right
    assert r < 0.5  # superior at the top
    assert s.edge_letters() == {"left": "R", "right": "L", "top": "S", "bottom": "I"}


def test_sagittal_marker_left_and_top(vol):
    s = _through_marker(vol, "sagittal")
    r, c = _marker_centroid(s)
    assert c < 0.5  # anterior on the image's left
    assert r < 0.5  # superior at the top
    assert s.edge_letters() == {"left": "A", "right": "P", "top": "S", "bottom": "I"}


def test_values_exact_on_voxel_grid(vol):
    k = vol.meta.extra["marker_box"][4]
    s = reslice(vol, "axial", slice_spec=k)
    # identity direction, axial: image = vol.array[k] (rows = +y = j, cols = +x = i)
    np.testing.assert_array_equal(s.array, vol.array[k].astype(np.float32))
    assert s.spacing == (1.0, 1.0)


def test_oblique_series_axial_is_resampled_along_patient_axes():
    rot = phantom.rotation("x", 25)
    vol = phantom.asymmetric(32, direction=rot)
    marker = np.asarray(vol.meta.extra["marker_lps"])
    s = reslice(vol, "axial", point=marker)
    np.testing.assert_allclose(s.normal, [0, 0, 1])
    row, col, dist = s.lps_to_pixel(marker)
    assert abs(dist) < 1e-9
    r, c = _marker_centroid(s)
    # the marker's centroid in the image is where its LPS position projects
    assert abs(r * s.shape[0] - row) < 2.0
    assert abs(c * s.shape[1] - col) < 2.0
    assert c > 0.5
    assert r < 0.5


def test_oblique_plane_by_normal_passes_through_point(vol):
    normal = (0.0, np.sin(np.radians(20)), np.cos(np.radians(20)))
    marker = vol.meta.extra["marker_lps"]
    s = reslice(vol, "oblique", normal=normal, point=marker)
    assert s.plane.startswith("oblique 20°")
    assert abs(s.right @ s.normal) < 1e-9
    assert abs(s.down @ s.normal) < 1e-9
    row, col, _ = s.lps_to_pixel(marker)
    assert s.array[round(row), round(col)] == pytest.approx(MARKER_HU)
    # pixel_to_lps inverts lps_to_pixel
    np.testing.assert_allclose(s.pixel_to_lps(row, col), marker, atol=1e-9)


def test_oblique_needs_normal(vol):
    with pytest.raises(UsageError, match="needs a normal"):
        reslice(vol, "oblique")


def test_slab_modes():
    vol = phantom.asymmetric(32)
    k0, k1 = vol.meta.extra["marker_box"][4:6]
    # a slice just above the marker (superior): thin slice misses it, a thick MIP slab reaches it
    above = k1 + 1
    thin = reslice(vol, "axial", slice_spec=above)
    assert thin.array.max() < MARKER_HU
    slab = reslice(vol, "axial", slice_spec=above, slab_mm=6, slab_mode="mip")
    assert slab.array.max() == pytest.approx(MARKER_HU)
    assert slab.slab_mm == 6
    assert slab.slab_mode == "mip"
    minip = reslice(vol, "axial", slice_spec=k0 + 2, slab_mm=64, slab_mode="minip")
    # air surrounds the body along z, so MinIP over the whole depth is air everywhere inside
    assert minip.array.max() == pytest.approx(-1000)
    mean = reslice(vol, "axial", slice_spec=16, slab_mm=2, slab_mode="mean")
    centre = vol.array[15:18, 16, 16].astype(float).mean()
    assert mean.array[16, 16] == pytest.approx(centre, abs=1e-3)


def test_slab_mode_unknown(vol):
    with pytest.raises(UsageError, match="slab mode 'max'"):
        reslice(vol, "axial", slab_mm=4, slab_mode="max")


def test_resolve_point_forms(vol):
    n = (0, 0, 1)
    np.testing.assert_allclose(resolve_point(vol, n, None), vol.center_lps)
    np.testing.assert_allclose(resolve_point(vol, n, "center"), vol.center_lps)
    assert resolve_point(vol, n, 0)[2] == pytest.approx(vol.corners_lps()[:, 2].min())
    assert resolve_point(vol, n, "31")[2] == pytest.approx(vol.corners_lps()[:, 2].max())
    assert resolve_point(vol, n, "3.5mm")[2] == pytest.approx(3.5)
    np.testing.assert_allclose(resolve_point(vol, n, "1,2,3"), [1, 2, 3])
    np.testing.assert_allclose(resolve_point(vol, n, "ijk:0,0,0"), vol.origin)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (32, "slice 32 is out of range 0..31"),
        ("-1", "slice -1 is out of range"),
        ("99mm", "outside the volume"),
        ("100,0,0", "outside the volume"),
        ("ijk:0,0,40", "outside the volume"),
        ("top", "expected an index"),
        ("1,2", "needs 3 numbers"),
    ],
)
def test_resolve_point_errors(vol, spec, fragment):
    with pytest.raises(UsageError, match=fragment):
        resolve_point(vol, (0, 0, 1), spec, plane="axial")


def test_plane_axes_unknown():
    with pytest.raises(UsageError, match="unknown plane 'axail'"):
        plane_axes("axail")


def test_reslice_512():
    """One axial slice of a 512x512x64 int16 volume has its shape (speed: the benchmarks)."""
    arr = np.zeros((64, 512, 512), np.int16)
    big = phantom.asymmetric(8).replace(array=arr, spacing=(0.5, 0.5, 2.0))
    s = reslice(big, "axial")
    assert s.shape == (512, 512)
