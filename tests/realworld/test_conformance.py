"""scripts/conformance.py: volumeviz against dcm2niix in world space, over ALL of shared/data.

The whole-corpus run fails on any disagreement the allow-list (scripts/conformance_allow.toml)
does not name with a reason and a citation. The comparator itself is tested on a phantom: it
agrees with dcm2niix on a clean synthetic series and catches a flipped or shifted volume.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from volumeviz.io.synth import write_synthetic_series
from volumeviz.model import phantom

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "conformance.py"
ALLOW = ROOT / "scripts" / "conformance_allow.toml"
#: the run may use this much memory at most (a blow-up fails the test, not the machine)
MEMORY_LIMIT = 6 * 2**30


def _module():
    spec = importlib.util.spec_from_file_location("conformance", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["conformance"] = mod
    spec.loader.exec_module(mod)
    return mod


def _limit_memory() -> None:  # runs in the child, before the script
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _run(*args: str, timeout: int = 1500) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        preexec_fn=_limit_memory,
        check=False,
    )


@pytest.mark.slow
def test_all_of_the_shared_data_agrees_with_dcm2niix_or_is_allow_listed(shared_data) -> None:
    proc = _run(str(shared_data), "--json")
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    records = report["series"]
    bad = [r for r in records if r["status"] in ("disagree", "error")]
    assert not bad, "\n".join(
        f"{r['folder']} {r['series']}: {r['failed']} {r['reason']} ours {r['ours_shape']} "
        f"dcm2niix {r['d2n_shape']} corners {r['corner_mm']} equal {r['equal_fraction']}"
        for r in bad
    )
    assert proc.returncode == 0
    compared = [r for r in records if r["status"] in ("agree", "allowed")]
    assert len(compared) >= 100  # the corpus really was compared, not skipped
    for r in records:
        if r["status"] == "allowed":
            assert r["allowed"], r
    # the kinds this issue fixed are compared and agree outright
    by_folder = {Path(r["folder"]).relative_to(shared_data).as_posix(): r for r in records}
    for folder in (
        "realworld/siemens_mosaic_dwi_b0",
        "realworld/ct_and_seg_same_size",
        "realworld/philips_dual_echo_mag_phase/series",
        "realworld/ge_fmri_temporal_positions/series",
        "mr/toshiba_galan_oblique20_b0",
        # time series: every volume where dcm2niix's 4D output has it, in its order
        "timeseries/ge_mr750_fmri_classic_15sl_10vol/series",
        "timeseries/philips_achieva_fmri_classic_9sl_3dyn/series",
        "timeseries/dicom2nifti_philips_enhanced_fmri_tiny/series",
        "timeseries/philips_enh_3dpcasl_source_40sl_3dyn_2label/classic",
        "timeseries/philips_enh_3dpcasl_source_40sl_3dyn_2label/enhanced",
    ):
        rec = [r for r in records if r["folder"].endswith(folder) and r["modality"] != "SEG"]
        assert rec, folder
        assert all(r["status"] == "agree" for r in rec), rec
    assert by_folder["realworld/siemens_mosaic_dwi_b0"]["ours_shape"] == [82, 82, 48, 1]
    ge = by_folder["timeseries/ge_mr750_fmri_classic_15sl_10vol/series"]
    assert ge["ours_shape"] == ge["d2n_shape"] == [64, 64, 15, 10]
    assert "agree" in report["summary"]


def test_allow_list_entries_have_reason_and_citation() -> None:
    mod = _module()
    entries = mod.load_allow(ALLOW)
    assert entries
    for e in entries:
        assert e["reason"].strip()
        assert e["cite"].strip()
        assert set(e["checks"]) <= {"shape", "corners", "grid", "voxels", "correlation", "order"}


def _args(mod) -> Namespace:
    return Namespace(
        corner_tol=mod.CORNER_TOL_MM,
        equal_fraction=mod.EQUAL_FRACTION,
        samples=mod.SAMPLES,
        min_correlation=mod.MIN_CORRELATION,
    )


def _as_nifti(mod, vol, array=None):
    return mod.NiftiGrid(vol.array if array is None else array, vol.affine)


def test_comparator_agrees_with_itself_and_catches_a_flip_and_a_shift() -> None:
    mod = _module()
    vol = phantom.asymmetric(24, spacing=(1.0, 1.5, 2.0))
    same = mod.Record("x", "1", "uid", "CT", "")
    mod.compare(same, [vol], [_as_nifti(mod, vol)], _args(mod))
    assert same.failed == []
    assert same.equal_fraction == 1.0
    flipped = mod.Record("x", "1", "uid", "CT", "")
    mod.compare(flipped, [vol], [_as_nifti(mod, vol, vol.array[:, :, ::-1].copy())], _args(mod))
    assert flipped.failed == ["voxels"]
    shifted = mod.Record("x", "1", "uid", "CT", "")
    moved = mod.NiftiGrid(vol.array, vol.affine + np.array([[0, 0, 0, 3.0]] + [[0] * 4] * 3))
    mod.compare(shifted, [vol], [moved], _args(mod))
    assert "corners" in shifted.failed


def test_comparator_catches_volumes_out_of_dcm2niix_order() -> None:
    """One 4D file: volume k must be our volume k; several files: pairs must be one-to-one."""
    mod = _module()
    a = phantom.asymmetric(16, spacing=(1.0, 1.5, 2.0))
    b = a.replace(array=a.array * 2 + 5)
    c = a.replace(array=a.array * 3 - 1)
    theirs = [_as_nifti(mod, v) for v in (a, b, c)]
    in_order = mod.Record("x", "1", "uid", "MR", "", dcm2niix_files=["s.nii"])
    mod.compare(in_order, [a, b, c], theirs, _args(mod))
    assert in_order.failed == []
    swapped = mod.Record("x", "1", "uid", "MR", "", dcm2niix_files=["s.nii"])
    mod.compare(swapped, [a, c, b], theirs, _args(mod))
    assert swapped.failed == ["order"]
    assert "dcm2niix volume 1 is our volume 2" in swapped.reason
    # echoes/parts in separate files: any order, but one of ours per file
    files = ["s_e1.nii", "s_e2.nii", "s_e2_ph.nii"]
    separate = mod.Record("x", "1", "uid", "MR", "", dcm2niix_files=files)
    mod.compare(separate, [c, a, b], theirs, _args(mod))
    assert separate.failed == []
    twice = mod.Record("x", "1", "uid", "MR", "", dcm2niix_files=files)
    mod.compare(twice, [a, a, c], theirs, _args(mod))
    assert "order" in twice.failed


def test_synthetic_series_agrees_with_dcm2niix(tmp_path) -> None:
    write_synthetic_series(
        phantom.asymmetric((20, 16, 12), direction=phantom.rotation("x", 25)), tmp_path
    )
    proc = _run(str(tmp_path), "--json", timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    (rec,) = json.loads(proc.stdout)["series"]
    assert rec["status"] == "agree"
    assert rec["ours_shape"] == rec["d2n_shape"] == [20, 16, 12, 1]
    assert rec["equal_fraction"] == 1.0
