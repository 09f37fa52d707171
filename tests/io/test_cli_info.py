"""``volumeviz info``: the table, ``--json`` keys and values, ``--series``, DICOMDIR branch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import run_cli
from volumeviz.io.synth import write_synthetic_series
from volumeviz.model.phantom import rotation

KEYS = {
    "series_uid",
    "series_number",
    "modality",
    "description",
    "n_files",
    "size",
    "spacing",
    "origin",
    "direction",
    "issues",
    "reconstructable",
}


@pytest.fixture
def two_series(tmp_path, make_marker):
    axial, _ = make_marker(size=(16, 12, 6))
    oblique, _ = make_marker(size=(8, 8, 4), direction=rotation("x", 20))
    study = "1.2.826.0.1.3680043.8.498.5"
    write_synthetic_series(
        axial, tmp_path, series_number=4, prefix="AX", description="axial", study_uid=study
    )
    write_synthetic_series(
        oblique,
        tmp_path,
        series_number=5,
        prefix="OB",
        description="tilted",
        study_uid=study,
        tilt_deg=12,
        modality="MR",
    )
    return tmp_path, axial, oblique


def test_json_records(capsys, two_series):
    folder, axial, _ = two_series
    code, out, err = run_cli(capsys, "info", str(folder), "--json")
    assert code == 0, err
    records = json.loads(out)
    assert len(records) == 2
    for rec in records:
        assert KEYS <= set(rec)
        assert len(rec["direction"]) == 9
        assert all({"code", "message"} <= set(i) for i in rec["issues"])
    ax = next(r for r in records if r["series_number"] == 4)
    assert ax["modality"] == "CT"
    assert ax["description"] == "axial"
    assert ax["n_files"] == 6
    assert ax["size"] == [16, 12, 6]
    assert ax["spacing"] == [1.0, 1.0, 2.0]
    np.testing.assert_allclose(ax["origin"], axial.origin, atol=1e-4)
    np.testing.assert_allclose(ax["direction"], np.eye(3).reshape(-1), atol=1e-6)
    assert ax["issues"] == []
    assert ax["reconstructable"] is True
    assert ax["orientation"] == "axial"
    ob = next(r for r in records if r["series_number"] == 5)
    assert {i["code"] for i in ob["issues"]} >= {"gantry-tilt", "resampled"}
    assert ob["orientation"] == "oblique 20° (near axial)"
    # direction is row-major as SimpleITK gives it: element [1] is direction[0, 1]
    d = np.asarray(ob["direction"]).reshape(3, 3)
    np.testing.assert_allclose(d, rotation("x", 20), atol=1e-5)


def test_table(capsys, two_series):
    folder, _, _ = two_series
    code, out, err = run_cli(capsys, "info", str(folder))
    assert code == 0, err
    for text in ("SYNTHETIC^PHANTOM", "axial", "tilted", "16x12x6", "gantry-tilt", "MR"):
        assert text in out, text
    assert "oblique 20°" in out


def test_series_option(capsys, two_series):
    folder, _, _ = two_series
    code, out, _ = run_cli(capsys, "info", str(folder), "--json", "--series", "5")
    assert code == 0
    records = json.loads(out)
    assert [r["series_number"] for r in records] == [5]
    code, _, err = run_cli(capsys, "info", str(folder), "--series", "9")
    assert code == 1
    assert "no series '9'" in err


def test_json_lists_unreconstructable(capsys, tmp_path, make_marker):
    import pydicom

    vol, _ = make_marker(size=(8, 8, 4))
    files = write_synthetic_series(vol, tmp_path)
    ds = pydicom.dcmread(files[1])
    del ds.ImagePositionPatient
    ds.save_as(files[1])
    code, out, err = run_cli(capsys, "info", str(tmp_path), "--json")
    assert code == 0, err
    (rec,) = json.loads(out)
    assert rec["reconstructable"] is False
    assert "(0020,0032)" in rec["refusal"]


@pytest.mark.shared_data
def test_dicomdir_goes_to_the_tree_view(capsys, shared_data):
    path = shared_data / "dicomdir" / "pydicom_dcmtk_3patients" / "DICOMDIR"
    if not path.exists():
        pytest.fail(f"shared data item missing: {path}")
    code, out, err = run_cli(capsys, "info", str(path))
    assert code == 0, err
    assert "Doe^Archibald" in out


@pytest.mark.shared_data
def test_real_folder_table_mentions_skipped_dirfile(capsys, shared_data):
    code, out, err = run_cli(
        capsys, "info", str(shared_data / "ct" / "philips_ingenuity_axial_5mm")
    )
    assert code == 0, err
    assert "DIRFILE" in out
    assert "512x512x28" in out


@pytest.mark.parametrize("drop", [False, True])
def test_info_shows_extra_dimensions(capsys, tmp_path, make_marker, drop):
    src, _ = make_marker(size=(16, 12, 6))
    for t in range(5):
        write_synthetic_series(
            src,
            tmp_path,
            series_uid="1.2.826.0.1.3680043.8.498.91",
            prefix=f"T{t}_",
            modality="MR",
            first_instance=1 + 6 * t,
            elements={"TemporalPositionIdentifier": t + 1, "RepetitionTime": 2000},
            drop_slices=(2,) if drop and t == 3 else (),
        )
    code, out, err = run_cli(capsys, "info", str(tmp_path))
    assert code == 0, err
    lines = out.splitlines()
    if drop:
        assert any("16x12x6 × 4 time" in ln for ln in lines)
        flat = " ".join(out.split())
        assert "dims: 4 time (0, 2, 4, 8 s) by (0020,0100)" in flat  # time 4 of 5 is no volume
        assert any("incomplete-volume:" in ln for ln in lines)
    else:
        assert any("16x12x6 × 5 time" in ln for ln in lines)
        assert "(TR 2 s)" in " ".join(out.replace("│", " ").split())
    assert any("dims: " in ln for ln in lines)
    code, out, err = run_cli(capsys, "info", str(tmp_path), "--json")
    (rec,) = json.loads(out)
    assert rec["size"] == [16, 12, 6]
    (time,) = rec["dimensions"]
    assert time["unit"] == "s"
    assert time["source"] == "(0020,0100) Temporal Position Identifier"
    assert rec["dimension_rule"] == "time: (0020,0100) Temporal Position Identifier"
    if drop:
        assert rec["dims"] == {"time": 4}
        assert time["values"] == [0.0, 2.0, 4.0, 8.0]
        (issue,) = rec["issues"]
        assert issue["code"] == "incomplete-volume"
        assert issue["message"].startswith("time 4/5 (6 s): 1 of 6 slice(s) missing")
    else:
        assert rec["dims"] == {"time": 5}
        assert time["step"] == 2.0
        assert rec["issues"] == []


def test_info_json_dims_empty_for_3d(capsys, two_series):
    folder, _, _ = two_series
    code, out, _ = run_cli(capsys, "info", str(folder), "--json")
    assert code == 0
    assert all(rec["dims"] == {} for rec in json.loads(out))
