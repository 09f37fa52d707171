"""Volume geometry: index <-> LPS, and the SimpleITK round trip keeps geometry exactly."""

from __future__ import annotations

import numpy as np
import pytest

from volumeviz.model.phantom import rotation
from volumeviz.model.volume import GeometryIssue, Volume, VolumeMeta


def _oblique() -> Volume:
    d = rotation("x", 25) @ rotation("y", -10) @ rotation("z", 33)
    arr = np.arange(5 * 4 * 3, dtype=np.int16).reshape(5, 4, 3)
    return Volume(arr, origin=(-12.5, 40.25, 7.0), spacing=(0.7, 0.9, 2.5), direction=d)


def test_index_lps_inverse():
    vol = _oblique()
    ijk = np.array([[0, 0, 0], [2, 3, 4], [1.5, 0.25, 3.75]])
    lps = vol.index_to_lps(ijk)
    np.testing.assert_allclose(vol.lps_to_index(lps), ijk, atol=1e-12)
    # step along k moves spacing[2] mm along the third direction column
    step = vol.index_to_lps([0, 0, 1]) - vol.index_to_lps([0, 0, 0])
    np.testing.assert_allclose(step, 2.5 * vol.direction[:, 2], atol=1e-12)


def test_affine_matches_index_to_lps():
    vol = _oblique()
    p = np.array([2.0, 1.0, 3.0, 1.0])
    np.testing.assert_allclose((vol.affine @ p)[:3], vol.index_to_lps(p[:3]), atol=1e-12)


def test_sitk_roundtrip_exact():
    import SimpleITK as sitk

    vol = _oblique()
    img = vol.to_sitk()
    assert img.GetSize() == vol.size
    assert img.GetOrigin() == vol.origin
    assert img.GetSpacing() == vol.spacing
    # SimpleITK's own index->point agrees with ours
    p = img.TransformContinuousIndexToPhysicalPoint((1.5, 2.0, 3.25))
    np.testing.assert_allclose(p, vol.index_to_lps([1.5, 2.0, 3.25]), atol=1e-12)
    back = Volume.from_sitk(img, issues=(GeometryIssue("x", "y"),), meta=VolumeMeta(modality="CT"))
    assert back.origin == vol.origin
    assert back.spacing == vol.spacing
    np.testing.assert_array_equal(back.direction, vol.direction)
    np.testing.assert_array_equal(back.array, vol.array)
    assert back.array.dtype == np.int16
    assert back.modality == "CT"
    assert sitk.GetArrayViewFromImage(img).shape == vol.array.shape


def test_invalid_volumes_refused():
    arr = np.zeros((2, 2, 2), np.int16)
    with pytest.raises(ValueError, match="3D"):
        Volume(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="positive"):
        Volume(arr, spacing=(1, 0, 1))
    with pytest.raises(ValueError, match="orthonormal"):
        Volume(arr, direction=np.diag([1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="finite"):
        Volume(arr, origin=(0, np.nan, 0))


def test_corners_and_issue_dict():
    vol = Volume(np.zeros((3, 2, 4), np.int16), spacing=(1, 2, 3))
    corners = vol.corners_lps()
    assert corners.shape == (8, 3)
    np.testing.assert_allclose(corners.max(axis=0), [3, 2, 6])
    issue = GeometryIssue("gantry-tilt", "tilt 18.5°", 18.5, "deg", "resampled")
    assert issue.to_dict() == {
        "code": "gantry-tilt",
        "message": "tilt 18.5°",
        "size": 18.5,
        "unit": "deg",
        "action": "resampled",
    }
