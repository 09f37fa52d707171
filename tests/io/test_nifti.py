"""io.nifti: NIfTI/NRRD images in and out, RAS <-> LPS, and dcm2niix's affine on real series."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import nrrd
import numpy as np
import pytest

from tests.conftest import run_cli, shared_path
from volumeviz.errors import UsageError, WriteError
from volumeviz.io.nifti import (
    ImageFormatError,
    nifti_affine_ras,
    read_image,
    read_images,
    write_image,
)
from volumeviz.io.volume import load_series
from volumeviz.model import phantom
from volumeviz.model.volume import Volume, VolumeMeta

ROT = np.array(
    [[math.cos(0.4), 0.0, math.sin(0.4)], [0.0, 1.0, 0.0], [-math.sin(0.4), 0.0, math.cos(0.4)]]
)


def _oblique() -> Volume:
    vol = phantom.asymmetric((20, 16, 12), spacing=(0.7, 0.9, 2.5), direction=ROT)
    return vol.replace(meta=VolumeMeta(modality="CT", units="HU"))


def _same_world(a: Volume, b: Volume) -> None:
    """Every voxel of ``b`` holds the value ``a`` has at the same LPS position."""
    nk, nj, ni = b.array.shape
    k, j, i = np.meshgrid(np.arange(nk), np.arange(nj), np.arange(ni), indexing="ij")
    ijk_b = np.stack([i.ravel(), j.ravel(), k.ravel()], axis=1)
    ijk_a = a.lps_to_index(b.index_to_lps(ijk_b))
    np.testing.assert_allclose(ijk_a, np.round(ijk_a), atol=1e-4)  # on a's voxel centres
    r = np.round(ijk_a).astype(int)
    np.testing.assert_array_equal(b.array.ravel(), a.array[r[:, 2], r[:, 1], r[:, 0]])


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd"])
def test_round_trip_keeps_every_voxel_in_world_space(tmp_path: Path, suffix: str) -> None:
    vol = _oblique()
    out = write_image(vol, tmp_path / f"x{suffix}")
    back = read_image(out)
    _same_world(vol, back)
    assert back.array.dtype == vol.array.dtype
    assert (back.modality, back.units) == ("CT", "HU")
    assert not list(tmp_path.glob(".*"))  # no temp files left


def test_nifti_stores_rows_bottom_up_with_the_ras_affine(tmp_path: Path) -> None:
    vol = _oblique()
    img = nib.load(write_image(vol, tmp_path / "x.nii.gz"))
    a = img.affine
    np.testing.assert_allclose(a, nifti_affine_ras(vol))
    assert int(img.header["sform_code"]) == 1
    assert int(img.header["qform_code"]) == 1
    np.testing.assert_allclose(img.get_qform(), a, atol=1e-4)
    data = np.asarray(img.dataobj)  # (i, j, k)
    nj = vol.size[1]
    # stored voxel (i, j', k) is the Volume's (i, nj-1-j', k); its RAS position is the LPS one
    # with x and y negated
    for i, jp, k in [(0, 0, 0), (3, 5, 7), (19, 15, 11)]:
        assert data[i, jp, k] == vol.array[k, nj - 1 - jp, i]
        lps = vol.index_to_lps([i, nj - 1 - jp, k])
        np.testing.assert_allclose(a @ [i, jp, k, 1], [-lps[0], -lps[1], lps[2], 1], atol=1e-6)


def test_hand_built_nifti_ras_becomes_lps(tmp_path: Path) -> None:
    """Voxel i=3 of a RAS-identity NIfTI is 3 mm to the patient's RIGHT: LPS x = -3."""
    data = np.zeros((5, 4, 3), np.int16)
    data[3, 1, 2] = 7
    img = nib.Nifti1Image(data, np.eye(4))
    img.set_sform(np.eye(4), code=1)
    nib.save(img, tmp_path / "ras.nii")
    vol = read_image(tmp_path / "ras.nii")
    k, j, i = np.argwhere(vol.array == 7)[0]
    np.testing.assert_allclose(vol.index_to_lps([i, j, k]), [-3.0, -1.0, 2.0])


@pytest.mark.parametrize(
    ("space", "sign"),
    [
        ("left-posterior-superior", (1, 1, 1)),
        ("right-anterior-superior", (-1, -1, 1)),
        ("left-anterior-superior", (1, -1, 1)),
    ],
)
def test_hand_built_nrrd_spaces(tmp_path: Path, space: str, sign: tuple[int, int, int]) -> None:
    data = np.zeros((5, 4, 3), np.uint8)
    data[3, 1, 2] = 1
    hdr = {
        "space": space,
        "space directions": np.diag([0.5, 2.0, 3.0]),
        "space origin": np.array([10.0, 20.0, 30.0]),
    }
    nrrd.write(str(tmp_path / "m.nrrd"), data, hdr)
    vol = read_image(tmp_path / "m.nrrd")
    k, j, i = np.argwhere(vol.array == 1)[0]
    file_xyz = np.array([10.0 + 3 * 0.5, 20.0 + 1 * 2.0, 30.0 + 2 * 3.0])
    np.testing.assert_allclose(vol.index_to_lps([i, j, k]), file_xyz * np.array(sign))


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd"])
def test_4d_round_trip(tmp_path: Path, suffix: str) -> None:
    base = _oblique()
    vols = [base.replace(array=(base.array + 10 * t).astype(np.int16)) for t in range(3)]
    out = write_image(vols, tmp_path / f"t{suffix}", time_step_s=2.0)
    back = read_images(out)
    assert len(back) == 3
    for a, b in zip(vols, back, strict=True):
        _same_world(a, b)
    if suffix == ".nii.gz":
        img = nib.load(out)
        assert img.shape == (20, 16, 12, 3)
        assert img.header.get_zooms()[3] == pytest.approx(2.0)
    with pytest.raises(ImageFormatError, match="4D"):
        read_image(out)


def test_4d_refuses_different_grids(tmp_path: Path) -> None:
    a = _oblique()
    b = a.replace(origin=(a.origin[0] + 1.0, a.origin[1], a.origin[2]))
    with pytest.raises(WriteError, match="another grid"):
        write_image([a, b], tmp_path / "t.nii.gz")
    assert not list(tmp_path.iterdir())


def test_bad_files_give_one_line_naming_the_file(tmp_path: Path) -> None:
    data = np.zeros((3, 3, 3), np.int16)
    sheared = np.eye(4)
    sheared[0, 1] = 0.5
    img = nib.Nifti1Image(data, sheared)
    img.set_sform(sheared, code=1)
    nib.save(img, tmp_path / "shear.nii")
    with pytest.raises(ImageFormatError, match=r"shear\.nii: the affine is sheared"):
        read_image(tmp_path / "shear.nii")
    img = nib.Nifti1Image(data, np.eye(4))
    img.set_sform(np.eye(4), code=0)
    img.set_qform(np.eye(4), code=0)
    nib.save(img, tmp_path / "nogeo.nii")
    with pytest.raises(ImageFormatError, match="qform_code 0"):
        read_image(tmp_path / "nogeo.nii")
    (tmp_path / "junk.nii.gz").write_bytes(b"not a nifti")
    with pytest.raises(ImageFormatError, match=r"junk\.nii\.gz: not a readable NIfTI"):
        read_image(tmp_path / "junk.nii.gz")
    nrrd.write(str(tmp_path / "nospace.nrrd"), data)
    with pytest.raises(ImageFormatError, match="'space'"):
        read_image(tmp_path / "nospace.nrrd")
    with pytest.raises(UsageError, match="unknown image format"):
        read_image(tmp_path / "x.mha")


def _dcm2niix() -> str:
    exe = shutil.which("dcm2niix") or str(Path(sys.executable).parent / "dcm2niix")
    if not Path(exe).exists():
        pytest.fail("dcm2niix (the test extra) is not installed")
    return exe


@pytest.mark.slow
@pytest.mark.parametrize(
    "folder",
    ["ct/philips_ingenuity_axial_5mm", "mr/siemens_t1_sag_hfs", "mr/toshiba_galan_oblique20_b0"],
)
def test_convert_has_dcm2niix_affine_and_voxels(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str
) -> None:
    src = shared_path(shared_data, folder)
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    subprocess.run(
        [_dcm2niix(), "-z", "n", "-f", "ref", "-o", str(ref_dir), str(src)],
        check=True,
        capture_output=True,
    )
    refs = sorted(ref_dir.glob("ref*.nii"))
    assert len(refs) == 1, refs
    ref = nib.load(refs[0])
    code, _, err = run_cli(capsys, "convert", str(src), "-o", str(tmp_path / "ours.nii.gz"))
    assert code == 0, err
    ours = nib.load(tmp_path / "ours.nii.gz")
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours.affine, ref.affine, atol=1e-3)  # float32 header rounding
    np.testing.assert_array_equal(np.asarray(ours.dataobj), np.asarray(ref.dataobj))
    # NRRD of the same series: the same voxels in world space as the DICOM volume
    code, _, err = run_cli(capsys, "convert", str(src), "-o", str(tmp_path / "ours.nrrd"))
    assert code == 0, err
    _same_world(load_series(src), read_image(tmp_path / "ours.nrrd"))


def test_convert_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "convert", str(tmp_path), "-o", str(tmp_path / "x.png"))
    assert code == 2
    assert "unknown image format" in err
    (tmp_path / "x.nii").write_bytes(b"")
    code, _, err = run_cli(capsys, "convert", str(tmp_path), "-o", str(tmp_path / "x.nii"))
    assert code == 2
    assert "exists" in err
