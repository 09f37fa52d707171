"""Every 4D series in ../shared/data/timeseries and the two realworld cases against dcm2niix.

For each series: the extra dimensions (names, sizes, values) are those the data holds, and every
volume k (C order of the index) lands where dcm2niix's volume k is, in world space: the same
corner voxel centres (LPS mm), the same axes, and the same voxels (dcm2niix's volume resampled
into our grid is a linear function of ours, and matches volume k better than any other volume, so
a wrong volume order fails too).

dcm2niix (the PyPI wheel, a test dependency) is run on each folder into a temporary folder; where
the upstream repository's own dcm2niix output is stored with the data, ours is also checked
against that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_path
from volumeviz.io.discover import scan
from volumeviz.io.volume import load_multivolume

pytestmark = pytest.mark.shared_data

#: folder -> (expected dims as (name, size) outermost first, dcm2niix outputs in volume order
#: (file-name endings; a 4D file stands for all its volumes), step of time in s or None,
#: stored upstream reference relative to the folder or None)
CASES = {
    "timeseries/ge_mr750_fmri_classic_15sl_10vol": (
        [("time", 10)],
        [".nii"],
        5.0,
        "upstream_dcm_qa_nih_Ref/DCM2NIIX_regression_test_4.nii",
    ),
    "timeseries/philips_achieva_fmri_classic_9sl_3dyn": (
        [("time", 3)],
        [".nii"],
        2.0,
        "upstream_dcm_qa_philips_Ref/EPI_asc_CLEAR_201.nii",
    ),
    "timeseries/philips_enh_3dpcasl_source_40sl_3dyn_2label/classic": (
        [("time", 3), ("label", 2)],
        [".nii"],
        127.5,
        "../upstream_dcm_qa_philips_enh_Ref/1903_WIP_SOURCE_-_3DpCASL_cl.nii.gz",
    ),
    "timeseries/philips_enh_3dpcasl_source_40sl_3dyn_2label/enhanced": (
        [("label", 2), ("time", 3)],
        [".nii"],
        127.5,
        None,
    ),
    "timeseries/dicom2nifti_philips_enhanced_fmri_tiny": ([("time", 4)], [".nii"], 3.0, None),
    "realworld/ge_fmri_temporal_positions": (
        [("time", 2)],
        [".nii"],
        1.0,
        "ref_dcm2niix/2_Volunteer_Test.nii",
    ),
    "realworld/philips_dual_echo_mag_phase": (
        [("part", 2), ("echo", 2)],
        ["_e1.nii", "_e2.nii", "_e1_ph.nii", "_e2_ph.nii"],
        None,
        None,
    ),
}


def _dcm2niix() -> str:
    exe = shutil.which("dcm2niix") or str(Path(sys.executable).parent / "dcm2niix")
    if not os.access(exe, os.X_OK):
        pytest.fail("dcm2niix (a test dependency: pip install dcm2niix) is not installed")
    return exe


@pytest.fixture(scope="module")
def dcm2niix_out(tmp_path_factory):
    """``run(folder) -> output folder`` of dcm2niix on a shared-data folder (cached per module)."""
    done: dict[Path, Path] = {}

    def run(folder: Path) -> Path:
        if folder not in done:
            out = tmp_path_factory.mktemp("d2n")
            subprocess.run(
                [_dcm2niix(), "-z", "n", "-b", "n", "-f", "%s_%d", "-o", str(out), str(folder)],
                check=True,
                capture_output=True,
            )
            done[folder] = out
        return done[folder]

    return run


def _volumes(nii: Path) -> list:
    import SimpleITK as sitk

    img = sitk.ReadImage(str(nii))
    if img.GetDimension() == 3:
        return [img]
    size = list(img.GetSize())
    n, size[3] = size[3], 0
    return [sitk.Extract(img, size, [0, 0, 0, k]) for k in range(n)]


def _theirs(out: Path, endings: list[str]) -> list:
    vols = []
    for ending in endings:
        (nii,) = [p for p in sorted(out.glob("*.nii")) if p.name.endswith(ending)]
        vols += _volumes(nii)
    return vols


def _corners(img) -> np.ndarray:
    ni, nj, nk = img.GetSize()[:3]
    return np.array(
        [
            img.TransformContinuousIndexToPhysicalPoint((float(i), float(j), float(k)))
            for k in (0, nk - 1)
            for j in (0, nj - 1)
            for i in (0, ni - 1)
        ]
    )


def _set_distance(a: np.ndarray, b: np.ndarray) -> float:
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def _in_our_grid(vol, img) -> np.ndarray:
    import SimpleITK as sitk

    res = sitk.Resample(img, vol.to_sitk(), sitk.Transform(), sitk.sitkNearestNeighbor, np.nan)
    return sitk.GetArrayFromImage(sitk.Cast(res, sitk.sitkFloat64))


def _fit(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    """(relative max residual of theirs = a*ours + b, correlation)."""
    x, y = ours.ravel(), theirs.ravel()
    a, b = np.polyfit(x, y, 1)
    resid = float(np.max(np.abs(y - (a * x + b))))
    span = float(np.ptp(y)) or 1.0
    return resid / span, float(np.corrcoef(x, y)[0, 1])


@pytest.mark.slow
@pytest.mark.parametrize("folder", list(CASES))
def test_dims_and_every_volume_match_dcm2niix(shared_data, dcm2niix_out, folder):
    dims, endings, step, upstream = CASES[folder]
    path = shared_path(shared_data, folder)
    (info,) = [s for s in scan(path).series if s.dims is not None]
    assert [(d.name, d.size) for d in info.dims.dims] == dims
    assert info.dims.missing == {}
    mv = load_multivolume(path)
    if step is not None:
        assert mv.dimension("time").step == pytest.approx(step, rel=1e-3)
        assert mv.dimension("time").unit == "s"
    theirs = _theirs(dcm2niix_out(path), endings)
    indices = mv.indices()
    assert len(indices) == len(theirs)
    if upstream is not None:  # the stored upstream output holds the same volumes
        stored = _volumes(shared_path(shared_data, str(Path(folder) / upstream)))
        assert len(stored) == len(theirs)
        for a, b in zip(stored, theirs, strict=True):
            assert _set_distance(_corners(a), _corners(b)) < 0.01
    for k, idx in enumerate(indices):
        vol = mv.volume(idx)
        assert vol.meta.dims == mv.dim_indices(idx)
        assert _set_distance(vol.corners_lps(), _corners(theirs[k])) < 0.01, mv.label(idx)
        d_theirs = np.array(theirs[k].GetDirection()).reshape(3, 3)
        for n in range(3):  # same axes (dcm2niix may flip the row order)
            best = max(abs(float(vol.direction[:, n] @ d_theirs[:, m])) for m in range(3))
            assert best == pytest.approx(1.0, abs=1e-4)
        ours = vol.array.astype(float)
        mine = _in_our_grid(vol, theirs[k])
        assert not np.isnan(mine).any()  # every voxel of ours lies inside theirs
        resid, r = _fit(ours, mine)
        assert resid < 1e-3, (mv.label(idx), resid)
        others = [_fit(ours, _in_our_grid(vol, t))[1] for j, t in enumerate(theirs) if j != k]
        assert all(r > o for o in others if not np.isnan(o)), (mv.label(idx), r, others)


@pytest.mark.slow
def test_enhanced_and_classic_pcasl_are_the_same_volumes(shared_data):
    """The same scan exported as one enhanced file and as 240 classic files: same dims (in each
    export's storage order), and volume (time t, label l) is the same voxels in both."""
    root = "timeseries/philips_enh_3dpcasl_source_40sl_3dyn_2label"
    classic = load_multivolume(shared_path(shared_data, f"{root}/classic"))
    enhanced = load_multivolume(shared_path(shared_data, f"{root}/enhanced"))
    assert classic.dimension("label").values == ("control", "label")
    assert enhanced.dimension("label").values == ("control", "label")
    for t in range(3):
        for label in range(2):
            a = classic.volume({"time": t, "label": label})
            b = enhanced.volume({"time": t, "label": label})
            assert a.size == b.size
            np.testing.assert_allclose(a.origin, b.origin, atol=1e-3)
            # float32 after the per-frame rescale: the same values to float32 rounding
            np.testing.assert_allclose(a.array, b.array, rtol=1e-6, atol=1e-6)


def test_dual_echo_values_and_rule(shared_data):
    mv = load_multivolume(shared_path(shared_data, "realworld/philips_dual_echo_mag_phase"))
    assert mv.dimension("echo").values == (7.001, 10.0)
    assert mv.dimension("echo").unit == "ms"
    assert mv.dimension("part").values == ("magnitude", "phase")
    assert "(0018,0086) Echo Numbers" in mv.rule
    assert "Image Type" in mv.rule
    assert mv.label((1, 1)) == "part 2/2 (phase) · echo 2/2 (TE 10 ms)"


def test_ge_trigger_time_is_not_a_volume_separator(shared_data):
    """GE writes slice timing into (0018,1060) Trigger Time: the series is 2 volumes of 3 slices
    told apart by (0020,0100), not 6 one-slice series (the old behaviour)."""
    result = scan(shared_path(shared_data, "realworld/ge_fmri_temporal_positions"))
    (info,) = result.series
    assert info.plan is not None
    assert info.plan.size == (64, 64, 3)
    assert "(0020,0100) Temporal Position Identifier" in info.dims.rule
    assert "Trigger Time" not in info.dims.rule
    time = info.dims.dims[0]
    assert time.value_source == "(0018,0080) Repetition Time"  # not GE's slice trigger times


def test_classic_ge_fmri_by_instance_order(shared_data):
    result = scan(shared_path(shared_data, "timeseries/ge_mr750_fmri_classic_15sl_10vol"))
    (info,) = result.series
    assert "(0020,0013) Instance Number order" in info.dims.rule
    assert "(0020,0105) Number of Temporal Positions 10" in info.dims.rule


@pytest.mark.slow
@pytest.mark.parametrize(
    "folder",
    [
        "timeseries/ge_mr750_fmri_classic_15sl_10vol",
        "timeseries/philips_achieva_fmri_classic_9sl_3dyn",
        "timeseries/philips_enh_3dpcasl_source_40sl_3dyn_2label/classic",
        "realworld/ge_fmri_temporal_positions",
    ],
)
def test_4d_nifti_round_trip_has_dcm2niix_geometry(
    shared_data, dcm2niix_out, tmp_path, capsys, folder
):
    """`volumeviz convert` writes the 4D series as dcm2niix does (affine, shape, volume order,
    voxels), and reading it back gives every volume on its grid with its voxels."""
    import nibabel as nib

    from tests.conftest import run_cli
    from volumeviz.io.nifti import read_images

    path = shared_path(shared_data, folder)
    out = tmp_path / "x.nii.gz"
    code, _, err = run_cli(capsys, "convert", str(path), "-o", str(out))
    assert code == 0, err
    ours = nib.load(out)
    (ref,) = [p for p in dcm2niix_out(path).glob("*.nii")]
    theirs = nib.load(ref)
    assert ours.shape == theirs.shape
    assert len(ours.shape) == 4
    np.testing.assert_allclose(ours.affine, theirs.affine, atol=1e-3)
    a = np.asarray(ours.dataobj, float).reshape(-1, ours.shape[3])
    b = np.asarray(theirs.dataobj, float).reshape(-1, theirs.shape[3])
    for k in range(ours.shape[3]):  # volume k is dcm2niix's volume k (Philips: scaled)
        assert _fit(a[:, k], b[:, k])[0] < 1e-3
    mv = load_multivolume(path)
    back = read_images(out)
    assert len(back) == len(mv)
    for vol, (idx, orig) in zip(back, mv, strict=True):
        # the file stores rows bottom-up (dcm2niix's layout): the same grid, traversed otherwise
        assert _set_distance(vol.corners_lps(), orig.corners_lps()) < 1e-3, mv.label(idx)
        np.testing.assert_array_equal(_in_our_grid(orig, vol.to_sitk()), orig.array)
    if mv.names == ("time",):
        assert ours.header.get_zooms()[3] == pytest.approx(mv.dimension("time").step, rel=1e-4)


@pytest.mark.slow
def test_pcasl_parent_folder_is_the_two_copies_apart(shared_data):
    """The folder holding both exports (one Series Instance UID): two series, the enhanced copy
    and the classic copy, each with its own dims and the volumes of its own folder (dcm2niix
    also writes two 96x96x40x6 files here), never one series of 4 bogus dimensions."""
    root = shared_path(shared_data, "timeseries/philips_enh_3dpcasl_source_40sl_3dyn_2label")
    infos = scan(root).series
    assert len(infos) == 2
    assert all(i.dims is not None and i.dims.missing == {} for i in infos)
    forms = {}
    for info in infos:
        assert info.plan is not None
        assert info.plan.size == (96, 96, 40)
        multi = "multi-frame file" in info.split_reason
        forms["enhanced" if multi else "classic"] = info
    assert [(d.name, d.size) for d in forms["enhanced"].dims.dims] == [("label", 2), ("time", 3)]
    assert [(d.name, d.size) for d in forms["classic"].dims.dims] == [("time", 3), ("label", 2)]
    for sub, info in forms.items():
        whole = load_multivolume(root, series=info.key)
        alone = load_multivolume(root / sub)
        assert whole.names == alone.names
        for (idx, a), (_, b) in zip(whole, alone, strict=True):
            np.testing.assert_allclose(a.origin, b.origin, atol=1e-6)
            np.testing.assert_array_equal(a.array, b.array, err_msg=whole.label(idx))
