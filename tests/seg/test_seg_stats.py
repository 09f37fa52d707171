"""stats on the real liver SEG + CT against a hand computation with pydicom alone, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.conftest import run_cli, shared_path
from volumeviz.io.seg import load_segmentation
from volumeviz.io.volume import load_series
from volumeviz.ops.stats import segment_stats

DCMQI = "seg/ct3slice_liver_seg_dcmqi"


def _hand_liver(root: Path) -> dict[str, float | np.ndarray]:
    """HU under the liver frames, each from the CT slice its frame names (pydicom only)."""
    seg = pydicom.dcmread(shared_path(root, f"{DCMQI}/seg/liver.dcm"))
    cts = {}
    for f in sorted(shared_path(root, f"{DCMQI}/ct").iterdir()):
        ds = pydicom.dcmread(f)
        cts[ds.SOPInstanceUID] = ds
    frames = seg.pixel_array.reshape(int(seg.NumberOfFrames), seg.Rows, seg.Columns)
    values, points = [], []
    for n, frame in enumerate(frames):
        pf = seg.PerFrameFunctionalGroupsSequence[n]
        uid = pf.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        ct = cts[uid]
        hu = ct.pixel_array * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
        rr, cc = np.nonzero(frame)
        values.append(hu[rr, cc])
        ipp = np.array(ct.ImagePositionPatient, float)
        iop = np.array(ct.ImageOrientationPatient, float)
        dr, dc = (float(v) for v in ct.PixelSpacing)
        points.append(ipp + cc[:, None] * dc * iop[:3] + rr[:, None] * dr * iop[3:])
    v = np.concatenate(values)
    z = sorted(float(d.ImagePositionPatient[2]) for d in cts.values())
    dr, dc = (float(x) for x in next(iter(cts.values())).PixelSpacing)
    voxel_mm3 = dr * dc * (z[1] - z[0])  # axial CT: slice step from the positions
    return {
        "n": len(v),
        "ml": len(v) * voxel_mm3 / 1000,
        "mean": float(v.mean()),
        "sd": float(v.std()),
        "min": float(v.min()),
        "max": float(v.max()),
        "median": float(np.median(v)),
        "centroid": np.concatenate(points).mean(axis=0),
    }


def test_liver_stats_equal_the_hand_computation(shared_data: Path) -> None:
    ct = load_series(shared_path(shared_data, f"{DCMQI}/ct"))
    seg = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/liver.dcm"), ct)
    (st,) = segment_stats(ct, seg)
    hand = _hand_liver(shared_data)
    assert st.units == "HU"
    assert st.voxels == hand["n"]
    assert st.volume_ml == pytest.approx(hand["ml"], rel=1e-6)
    assert st.mean == pytest.approx(hand["mean"], abs=1e-6)
    assert st.sd == pytest.approx(hand["sd"], abs=1e-6)
    assert (st.minimum, st.maximum, st.median) == (hand["min"], hand["max"], hand["median"])
    np.testing.assert_allclose(st.centroid_lps, hand["centroid"], atol=1e-3)


def test_stats_cli_json_and_table(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ct_dir = shared_path(shared_data, f"{DCMQI}/ct")
    seg = shared_path(shared_data, f"{DCMQI}/seg/partial_overlaps.dcm")
    code, out, err = run_cli(
        capsys, "stats", str(ct_dir), "--seg", str(seg), "--roi", "sphere:0,0,-127.7,20", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["units"] == "HU"
    names = [r["name"] for r in doc["regions"]]
    assert names[:5] == ["GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"]
    assert names[5].startswith("sphere r=20 mm")
    for r in doc["regions"]:
        assert r["voxels"] > 0
        assert r["volume_ml"] > 0
    code, out, err = run_cli(capsys, "stats", str(ct_dir), "--seg", str(seg))
    assert code == 0, err
    assert "GREEN" in out
    assert "mean HU" in out
    code, _, err = run_cli(capsys, "stats", str(ct_dir))
    assert code == 2  # no segmentation next to the CT and no ROI
    assert "no segmentation found" in err
    code, _, err = run_cli(capsys, "stats", str(ct_dir), "--roi", "ball:1,2,3,4")
    assert code == 2
    assert "ROI 'ball:1,2,3,4'" in err
