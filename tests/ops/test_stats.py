"""ops.stats: region statistics against hand computations on phantoms whose truth we built."""

from __future__ import annotations

import math

import numpy as np
import pytest

from volumeviz.errors import UsageError
from volumeviz.model import phantom
from volumeviz.model.volume import Volume, VolumeMeta
from volumeviz.ops.mpr import reslice
from volumeviz.ops.stats import (
    box_mask,
    ellipse_mask,
    parse_roi,
    region_stats,
    roi_mask,
    sphere_mask,
)

OBLIQUE = np.array(
    [[math.cos(0.3), -math.sin(0.3), 0.0], [math.sin(0.3), math.cos(0.3), 0.0], [0.0, 0.0, 1.0]]
)


def _vol(direction: np.ndarray | None = None) -> Volume:
    arr = np.full((8, 10, 12), -1000, np.int16)  # (k, j, i)
    arr[2:6, 3:7, 4:9] = 40  # 4 x 4 x 5 = 80 voxels of 40 HU
    arr[2, 3, 4] = 100  # one of them brighter
    return Volume(
        arr,
        origin=(-10.0, 20.0, 30.0),
        spacing=(0.5, 0.8, 2.5),
        direction=np.eye(3) if direction is None else direction,
        meta=VolumeMeta(modality="CT", units="HU"),
    )


@pytest.mark.parametrize("direction", [None, OBLIQUE], ids=["axial", "oblique"])
def test_box_region_against_hand_values(direction: np.ndarray | None) -> None:
    vol = _vol(direction)
    mask = vol.array > -1000
    s = region_stats(vol, mask, name="block")
    # by hand: 80 voxels, 0.5 * 0.8 * 2.5 = 1 mm^3 each -> 0.08 mL
    assert s.voxels == 80
    assert s.weighted_voxels == 80.0
    assert s.volume_ml == pytest.approx(0.080)
    assert s.area_mm2 is None
    assert s.ndim == 3
    assert s.mean == pytest.approx((79 * 40 + 100) / 80)
    assert s.sd == pytest.approx(math.sqrt((79 * (40 - 40.75) ** 2 + (100 - 40.75) ** 2) / 80))
    assert (s.minimum, s.maximum, s.median) == (40.0, 100.0, 40.0)
    assert s.units == "HU"
    # centroid: index centre (i, j, k) = (6, 4.5, 3.5) -> origin + D @ (spacing * idx)
    want = np.array([-10.0, 20.0, 30.0]) + vol.direction @ (
        np.array([0.5, 0.8, 2.5]) * [6, 4.5, 3.5]
    )
    np.testing.assert_allclose(s.centroid_lps, want, atol=1e-9)


def test_fractional_weights_by_hand() -> None:
    arr = np.zeros((1, 1, 3), np.int16)
    arr[0, 0] = [0, 100, 7]
    vol = Volume(arr, spacing=(2.0, 1.0, 1.0))
    w = np.array([[[0.25, 0.75, 0.0]]])
    s = region_stats(vol, w)
    assert s.voxels == 2
    assert s.weighted_voxels == pytest.approx(1.0)
    assert s.volume_ml == pytest.approx(2.0 / 1000)
    assert s.mean == pytest.approx(75.0)  # (0.25*0 + 0.75*100) / 1
    assert s.sd == pytest.approx(math.sqrt(0.25 * 75**2 + 0.75 * 25**2))
    assert s.median == 100.0  # cumulative weight reaches 0.5 at the 100 HU voxel
    assert (s.minimum, s.maximum) == (0.0, 100.0)  # the 0-weight voxel (7 HU) is not counted
    assert s.centroid_lps[0] == pytest.approx(0.75 * 2.0)
    # the same weights as a boolean mask give the plain statistics
    b = region_stats(vol, w > 0)
    assert b.mean == 50.0
    assert b.median == 50.0


def test_offset_block_equals_full_mask() -> None:
    vol = _vol(OBLIQUE)
    full = np.zeros(vol.array.shape, bool)
    full[1:7, 2:8, 3:10] = vol.array[1:7, 2:8, 3:10] > 0
    a = region_stats(vol, full)
    b = region_stats(vol, full[1:7, 2:8, 3:10], offset=(1, 2, 3))
    assert a == b
    with pytest.raises(UsageError, match="does not fit"):
        region_stats(vol, full[1:7, 2:8, 3:10], offset=(5, 5, 5))


def test_empty_region_and_bad_weights() -> None:
    vol = _vol()
    s = region_stats(vol, np.zeros(vol.array.shape, bool))
    assert s.empty
    assert math.isnan(s.mean)
    assert s.volume_ml == 0.0
    assert s.to_dict()["mean"] is None
    assert s.to_dict()["centroid_lps"] == [None] * 3
    with pytest.raises(UsageError, match="shape"):
        region_stats(vol, np.zeros((2, 2, 2), bool))
    with pytest.raises(UsageError, match=r"\[0, 1\]"):
        region_stats(vol, np.full(vol.array.shape, 2.0))


@pytest.mark.parametrize("direction", [None, OBLIQUE], ids=["axial", "oblique"])
def test_sphere_mask_is_brute_force_distance(direction: np.ndarray | None) -> None:
    vol = _vol(direction)
    centre, r = vol.index_to_lps([6, 5, 3]) + np.array([0.3, -0.2, 0.4]), 3.1
    got = sphere_mask(vol, centre, r)
    want = np.zeros_like(got)
    for k in range(vol.array.shape[0]):
        for j in range(vol.array.shape[1]):
            for i in range(vol.array.shape[2]):
                want[k, j, i] = np.linalg.norm(vol.index_to_lps([i, j, k]) - centre) <= r + 1e-9
    assert want.sum() > 10
    np.testing.assert_array_equal(got, want)
    # a sphere outside the image selects nothing
    assert not sphere_mask(vol, (1000.0, 0.0, 0.0), 5.0).any()


def test_box_mask_and_roi_spec() -> None:
    vol = _vol()
    lo, hi = vol.index_to_lps([4, 3, 2]), vol.index_to_lps([8, 6, 5])
    m = box_mask(vol, hi, lo)  # corners in any order
    assert m.sum() == 80
    assert np.array_equal(m, vol.array > -1000)
    name, m2 = roi_mask(vol, "box:{},{},{},{},{},{}".format(*lo, *hi))
    assert np.array_equal(m, m2)
    assert name.startswith("box")
    assert parse_roi("SPHERE: 1, 2, 3, 4") == ("sphere", (1.0, 2.0, 3.0, 4.0))
    for bad in ("ball:1,2,3,4", "sphere:1,2,3", "sphere:1,2,3,0", "box:1,2,3,4,5,x"):
        with pytest.raises(UsageError, match="ROI"):
            parse_roi(bad)


def test_2d_ellipse_on_oblique_reslice_area_in_mm2() -> None:
    vol = phantom.asymmetric(32, spacing=(0.7, 0.7, 1.3))
    s = reslice(vol, "oblique", normal=(0.2, 0.1, 1.0), pixel_mm=0.5)
    c = s.pixel_to_lps(30, 31)
    m = ellipse_mask(s, c, 4.0, 2.5)
    st = region_stats(s, m, name="ellipse")
    # by hand: count pixel centres with (du/4)^2 + (dv/2.5)^2 <= 1, each 0.5 x 0.5 mm
    rr, cc = np.mgrid[0 : s.shape[0], 0 : s.shape[1]]
    du, dv = (cc - 31) * 0.5, (rr - 30) * 0.5
    n = int(((du / 4.0) ** 2 + (dv / 2.5) ** 2 <= 1).sum())
    assert st.ndim == 2
    assert st.voxels == n
    assert st.volume_ml is None
    assert st.area_mm2 == pytest.approx(n * 0.25)
    assert st.area_mm2 == pytest.approx(math.pi * 4.0 * 2.5, rel=0.05)
    np.testing.assert_allclose(st.centroid_lps, c, atol=1e-6)  # symmetric about its centre
    assert st.mean == pytest.approx(float(s.array[m].mean()))
    # pixels outside the volume never count
    corner = s.pixel_to_lps(0, 0)
    outside = region_stats(s, sphere_mask(s, corner, 3.0))
    assert outside.voxels == int((sphere_mask(s, corner, 3.0) & s.inside).sum())
