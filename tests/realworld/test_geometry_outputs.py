"""No invented geometry in files written either: NIfTI/NRRD of an image without a patient frame.

A projection radiograph or an image whose geometry the loader assumed has no voxel -> patient
mapping. ``convert`` writes it as NIfTI-1 "method 1" (qform_code = sform_code = 0: pixdim only,
NIfTI-1 header documentation, "METHOD 1") and as NRRD without ``space`` (``spacings`` only; none
when the spacing itself was assumed), says so on stderr, and ``--strict`` refuses. A volume with
a patient frame still gets code 1 and dcm2niix's affine (tests/io/test_nifti*).
"""

from __future__ import annotations

import nibabel as nib
import nrrd
import numpy as np
import pytest

from tests.conftest import run_cli, shared_path
from tests.realworld.test_geometry_kind import LEGACY, MG, _dx
from volumeviz.io.nifti import ImageFormatError, read_image, write_image
from volumeviz.io.volume import load_series
from volumeviz.model import phantom


def test_projection_nifti_has_its_spacing_and_no_patient_frame(tmp_path, capsys) -> None:
    src = _dx(
        tmp_path,
        ImagerPixelSpacing=[0.2, 0.25],
        EstimatedRadiographicMagnificationFactor=1.25,
        PatientOrientation=["A", "F"],
    )
    out = tmp_path / "dx.nii.gz"
    code, _, err = run_cli(capsys, "convert", str(src), "-o", str(out))
    assert code == 0, err
    assert "without a patient frame" in err
    img = nib.load(str(out))
    assert int(img.header["qform_code"]) == 0
    assert int(img.header["sform_code"]) == 0
    assert img.header.get_zooms()[:2] == pytest.approx((0.25 / 1.25, 0.2 / 1.25))
    assert img.header.get_xyzt_units()[0] == "mm"
    # the voxels are as stored (rows bottom-up, as every NIfTI written here)
    data = np.asarray(img.dataobj)[:, ::-1, 0].T
    assert data[4:7, 50:53].min() == 4000
    assert data[0, 0] == 100
    with pytest.raises(ImageFormatError, match="no patient geometry"):
        read_image(out)


def test_projection_nrrd_has_spacings_and_no_space(tmp_path) -> None:
    vol = load_series(_dx(tmp_path, ImagerPixelSpacing=[0.3, 0.4]))
    out = write_image(vol, tmp_path / "dx.nrrd")
    _, header = nrrd.read(str(out))
    assert "space" not in header
    assert "space directions" not in header
    assert list(header["spacings"][:2]) == pytest.approx([0.4, 0.3])


def test_real_unknown_geometry_is_written_without_one_and_strict_refuses(
    shared_data, tmp_path, capsys
) -> None:
    path = str(shared_path(shared_data, LEGACY))
    out = tmp_path / "legacy.nii"
    code, _, err = run_cli(capsys, "convert", path, "-o", str(out))
    assert code == 0, err
    assert "geometry unknown" in err
    img = nib.load(str(out))
    assert (int(img.header["qform_code"]), int(img.header["sform_code"])) == (0, 0)
    assert img.header.get_xyzt_units()[0] == "unknown"  # the 1 mm was assumed, not given
    out_nrrd = tmp_path / "legacy.nrrd"
    code, _, err = run_cli(capsys, "convert", path, "--index", "time=1", "-o", str(out_nrrd))
    assert code == 0, err
    _, header = nrrd.read(str(out_nrrd))
    assert not {"space", "space directions", "spacings"} & set(header)
    strict_out = tmp_path / "strict.nii"
    code, _, err = run_cli(capsys, "convert", path, "--strict", "-o", str(strict_out))
    assert code == 1
    assert "strict" in err
    assert not strict_out.exists()


def test_real_mammogram_nifti_keeps_its_detector_spacing(shared_data, tmp_path, capsys) -> None:
    out = tmp_path / "mg.nii"
    code, _, err = run_cli(capsys, "convert", str(shared_path(shared_data, MG)), "-o", str(out))
    assert code == 0, err
    img = nib.load(str(out))
    assert (int(img.header["qform_code"]), int(img.header["sform_code"])) == (0, 0)
    assert img.header.get_zooms()[:2] == pytest.approx((0.7527, 0.7527), abs=1e-4)


def test_patient_frame_still_written_with_code_1(tmp_path) -> None:
    vol = phantom.asymmetric(12, spacing=(1.0, 1.5, 2.0))
    img = nib.load(str(write_image(vol, tmp_path / "p.nii")))
    assert (int(img.header["qform_code"]), int(img.header["sform_code"])) == (1, 1)
    back = read_image(tmp_path / "p.nii")
    # the same 8 corner voxel centres (rows are stored bottom-up, so in another order)
    a, b = back.corners_lps(), vol.corners_lps()
    assert np.linalg.norm(a[:, None] - b[None], axis=2).min(axis=1).max() < 1e-4
