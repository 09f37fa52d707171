"""Every real series in ../shared/data/ct and mr against its dcm2niix reference (ref/)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import shared_path
from volumeviz.errors import SeriesGeometryError
from volumeviz.io.volume import load_series

pytestmark = pytest.mark.shared_data


def _ref(root, name: str) -> dict:
    return json.loads(shared_path(root, f"ref/{name}/dcm2niix_geometry.json").read_text())


def _output(ref: dict, file: str) -> dict:
    return next(o for o in ref["outputs"] if o["file"] == file)


def _set_distance(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Largest distance from a point of either set to the nearest point of the other (mm)."""
    d = np.linalg.norm(ours[:, None, :] - theirs[None, :, :], axis=2)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def _axes_match(vol, out: dict) -> None:
    """Our direction columns equal dcm2niix's (as a set, up to sign: it may flip rows)."""
    theirs = np.asarray(out["direction_cosines_LPS_columns"], float)
    for n in range(3):
        ours = vol.direction[:, n]
        best = max(abs(float(ours @ theirs[:, m])) for m in range(3))
        assert best == pytest.approx(1.0, abs=1e-4), (n, ours, theirs)


@pytest.mark.parametrize(
    ("folder", "ref_name", "file", "tol"),
    [
        ("ct/philips_ingenuity_axial_5mm", None, "1A_TRAUMA_PLAIN_HEAD_DM_Head_201.nii", 0.01),
        ("mr/siemens_t1_sag_hfs", None, "t1_fl2d_sag_3.nii", 0.01),
        ("mr/toshiba_galan_oblique20_b0", None, "DTI_ALL_20d_10006.nii", 0.01),
    ],
)
def test_regular_series_match_dcm2niix(shared_data, folder, ref_name, file, tol):
    vol = load_series(shared_path(shared_data, folder))
    out = _output(_ref(shared_data, ref_name or folder.split("/")[1]), file)
    assert sorted(vol.size) == sorted(out["shape"])
    np.testing.assert_allclose(sorted(vol.spacing), sorted(out["voxel_size_mm"]), atol=1e-4)
    assert _set_distance(vol.corners_lps(), np.asarray(out["corner_voxel_centers_LPS"])) < tol
    _axes_match(vol, out)
    assert vol.issues == ()


def test_ct_hu_and_type(shared_data):
    vol = load_series(shared_path(shared_data, "ct/philips_ingenuity_axial_5mm"))
    assert vol.array.dtype == np.int16
    assert vol.units == "HU"
    assert int(vol.array.min()) == -1024  # RescaleIntercept -1024 applied once
    assert len(vol.meta.source_files) == 28  # DIRFILE skipped
    assert all("DIRFILE" not in f for f in vol.meta.source_files)
    assert vol.meta.windows


def test_ge_tilt_resampled_like_dcm2niix(shared_data):
    vol = load_series(shared_path(shared_data, "ct/ge_hispeed_tilt_varspacing"))
    codes = {i.code: i for i in vol.issues}
    assert codes["gantry-tilt"].size == pytest.approx(18.5, abs=0.1)
    assert codes["gantry-tilt"].unit == "deg"
    assert "uneven-spacing" in codes
    assert codes["uneven-spacing"].unit == "mm"
    assert codes["resampled"].action == "resampled"
    assert vol.array.dtype == np.int16
    out = _output(_ref(shared_data, "ge_hispeed_tilt_varspacing"), "_2_Tilt_Eq_1.nii")
    # the same world box as dcm2niix's tilt-corrected, equidistant output
    assert _set_distance(vol.corners_lps(), np.asarray(out["corner_voxel_centers_LPS"])) < 0.01
    _axes_match(vol, out)
    assert vol.size[:2] == tuple(out["shape"][:2])
    with pytest.raises(SeriesGeometryError, match=r"gantry tilt 18\.5°"):
        load_series(shared_path(shared_data, "ct/ge_hispeed_tilt_varspacing"), strict=True)


def test_ge_tilt_voxels_where_the_slices_are(shared_data):
    """A resampled voxel that lies on a source slice holds that slice's value."""
    import pydicom

    folder = shared_path(shared_data, "ct/ge_hispeed_tilt_varspacing")
    vol = load_series(folder)
    ds = pydicom.dcmread(sorted(folder.iterdir())[10])
    ipp = np.array([float(v) for v in ds.ImagePositionPatient])
    row = np.array([float(v) for v in ds.ImageOrientationPatient[:3]])
    col = np.array([float(v) for v in ds.ImageOrientationPatient[3:]])
    ps = [float(v) for v in ds.PixelSpacing]
    pix = ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    diffs = []
    for i, j in ((256, 256), (200, 300), (300, 220)):
        lps = ipp + i * ps[1] * row + j * ps[0] * col
        idx = vol.lps_to_index(lps)
        k0 = int(np.floor(idx[2]))
        w = idx[2] - k0
        ii, jj = round(idx[0]), round(idx[1])
        val = (1 - w) * vol.array[k0, jj, ii] + w * vol.array[min(k0 + 1, vol.size[2] - 1), jj, ii]
        diffs.append(abs(val - pix[j, i]))
    # interpolation along k between resampled slices: values agree to soft-tissue precision
    assert np.median(diffs) < 60
    # the first slice lies on the output grid: its pixels are copied exactly
    first = min(
        (pydicom.dcmread(p) for p in folder.iterdir()),
        key=lambda d: float(np.asarray(d.ImagePositionPatient, float) @ vol.slice_normal),
    )
    i0, j0, k0 = np.rint(vol.lps_to_index(np.asarray(first.ImagePositionPatient, float)))
    assert k0 == 0
    i0, j0 = int(i0), int(j0)
    np.testing.assert_array_equal(vol.array[0, j0 : j0 + 512, i0 : i0 + 512], first.pixel_array)


@pytest.mark.parametrize(
    ("part", "file"), [(0, "WIP_B0_NS_801_e1.nii"), (1, "WIP_B0_NS_801_e2_fieldmaphz.nii")]
)
def test_philips_enhanced_b0map_two_maps(shared_data, part, file):
    import SimpleITK as sitk

    from volumeviz.io.discover import scan

    folder = shared_path(shared_data, "mr/philips_enhanced_b0map")
    result = scan(folder)
    (info,) = result.series  # one series: magnitude and field map are a "type" dimension
    assert info.dims is not None
    assert info.dims.summary() == "2 type (magnitude, field map)"
    vol = load_series(folder, index={"type": part})
    out = _output(_ref(shared_data, "philips_enhanced_b0map"), file)
    assert vol.size == tuple(out["shape"])
    assert _set_distance(vol.corners_lps(), np.asarray(out["corner_voxel_centers_LPS"])) < 0.01
    # voxels: dcm2niix's NIfTI resampled into our world grid agrees (Philips scaling may differ
    # by a constant factor, so compare by correlation)
    ref = sitk.ReadImage(str(shared_path(shared_data, f"ref/philips_enhanced_b0map/{file}")))
    theirs = sitk.GetArrayFromImage(
        sitk.Resample(ref, vol.to_sitk(), sitk.Transform(), sitk.sitkNearestNeighbor, 0.0)
    ).astype(float)
    ours = vol.array.astype(float)
    r = np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]
    assert r > 0.999


def test_toshiba_oblique_voxels_match_dcm2niix_in_world(shared_data):
    import SimpleITK as sitk

    vol = load_series(shared_path(shared_data, "mr/toshiba_galan_oblique20_b0"))
    ref = sitk.ReadImage(
        str(shared_path(shared_data, "ref/toshiba_galan_oblique20_b0/DTI_ALL_20d_10006.nii"))
    )
    theirs = sitk.GetArrayFromImage(
        sitk.Resample(ref, vol.to_sitk(), sitk.Transform(), sitk.sitkNearestNeighbor, -1.0)
    )
    assert (theirs >= 0).all()  # every voxel of ours falls inside theirs
    np.testing.assert_array_equal(vol.array, theirs)


def test_legacy_multiframe_without_geometry(shared_data):
    """dwv legacy MR: no IOP/IPP/PixelSpacing; (0028,0009) points at (0018,1063) Frame Time, so
    its 16 frames are 16 time points of one unplaced image (never 16 slices in z)."""
    folder = shared_path(shared_data, "mr/dwv_philips_legacy_multiframe")
    vol = load_series(folder)
    out = _output(_ref(shared_data, "dwv_philips_legacy_multiframe"), "_1.nii")
    assert vol.size == (*out["shape"][:2], 1)  # dcm2niix stacks them as z; we do not
    np.testing.assert_allclose(vol.spacing[:2], out["voxel_size_mm"][:2])  # 1 x 1 assumed
    issue = vol.issues[0]
    assert issue.code == "no-geometry"
    assert issue.action == "assumed"
    assert "(0020,0037)" in issue.message
    from volumeviz.io.discover import scan
    from volumeviz.io.volume import load_multivolume

    info = scan(folder).series[0]
    assert not info.reconstructable
    assert info.dims is not None
    (time,) = info.dims.dims
    assert time.size == 16
    assert time.step == pytest.approx(0.06947)  # (0018,1063) Frame Time 69.47 ms
    mv = load_multivolume(folder)
    import pydicom

    frames = pydicom.dcmread(next(folder.iterdir())).pixel_array
    for idx, v in mv:
        np.testing.assert_array_equal(v.array[0], frames[idx[0]])
    with pytest.raises(SeriesGeometryError, match="strict"):
        load_series(folder, strict=True)


def test_every_syntax_file_loads(shared_data):
    folder = shared_path(shared_data, "syntax")
    files = sorted(p for p in folder.iterdir() if p.suffix == ".dcm")
    assert len(files) == 19
    same = []
    for f in files:
        vol = load_series(f)
        assert vol.array.size > 0
        if f.name.startswith("emri_10f"):
            assert vol.size == (64, 64, 10)
            assert vol.issues[0].code == "no-geometry"
        if f.name.startswith("siemens_mr_"):  # one Siemens EPI mosaic (tests/realworld)
            assert vol.size == (64, 64, 35)
            same.append(vol.array)
        if f.name.startswith("ct_"):
            assert vol.array.dtype == np.int16
            assert vol.units == "HU"
    # the same Siemens slice in 9 transfer syntaxes decodes to identical voxels
    assert len(same) == 9
    for a in same[1:]:
        np.testing.assert_array_equal(a, same[0])


@pytest.mark.parametrize(
    "rel",
    [
        "syntax/ct_j2k_lossy_nema.dcm",
        "syntax/ct_j2k_osirix_cta.dcm",
        "syntax/ct_jpeg_lossless_nema.dcm",
        "bad/pydicom_J2K_pixelrep_mismatch.dcm",
    ],
)
def test_simpleitk_pixels_equal_pydicom_modality_lut(shared_data, rel):
    """The SimpleITK (GDCM) path gives pydicom's decoded values with the rescale applied once."""
    import pydicom
    from pydicom.pixels import apply_rescale

    path = shared_path(shared_data, rel)
    vol = load_series(path)
    ds = pydicom.dcmread(path)
    expect = apply_rescale(ds.pixel_array, ds)
    np.testing.assert_array_equal(vol.array[0], expect)
