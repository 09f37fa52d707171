"""``--seg auto`` end to end on folders holding a CT and its DICOM SEG side by side.

A SEG has pixel data, so it is a series of its own in the folder; it must never be taken for
the image (io.discover: derived objects are listed, never chosen), and the SEG must then be
found with its series and drawn, measured and reported with no option given.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import volumeviz
from tests.conftest import run_cli, shared_path
from volumeviz.io.seg import load_segmentation, load_segmentations

DCMQI = "seg/ct3slice_liver_seg_dcmqi"  # ct/ + seg/liver.dcm + seg/partial_overlaps.dcm
SAME = "realworld/ct_and_seg_same_size"  # three CT files and label_seg.dcm in one folder
OVERLAPS = ("GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE")


@pytest.mark.parametrize(
    ("folder", "seg_files", "segments"),
    [
        (DCMQI, ("seg/liver.dcm", "seg/partial_overlaps.dcm"), {"Liver", *OVERLAPS}),
        (SAME, ("label_seg.dcm",), {"Liver"}),
    ],
)
def test_python_api_loads_the_ct_and_finds_its_seg(
    shared_data: Path, folder: str, seg_files: tuple[str, ...], segments: set[str]
) -> None:
    root = shared_path(shared_data, folder)
    ct = volumeviz.load_series(root)
    assert ct.meta.modality == "CT"
    placed, notes = load_segmentations(ct, ["auto"], search=root)
    assert notes == []
    assert {s.label for seg in placed for s in seg.segments} == segments
    assert sorted(Path(s.source).name for s in placed) == sorted(Path(f).name for f in seg_files)
    # the same masks as naming each file
    for f in seg_files:
        named = load_segmentation(root / f, ct)
        (found,) = [s for s in placed if Path(s.source).name == Path(f).name]
        for a, b in zip(named.segments, found.segments, strict=True):
            np.testing.assert_array_equal(a.full_mask(ct.array.shape), b.full_mask(ct.array.shape))


@pytest.mark.render
@pytest.mark.parametrize(
    ("folder", "segments"), [(DCMQI, ["Liver", *OVERLAPS]), (SAME, ["Liver"])]
)
def test_screenshot_of_the_folder_draws_the_ct_with_its_seg(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    folder: str,
    segments: list[str],
) -> None:
    root = shared_path(shared_data, folder)
    out = tmp_path / "auto.png"
    code, _, err = run_cli(capsys, "screenshot", str(root), "--mpr", "axial", "-o", str(out))
    assert code == 0, err
    png = Image.open(out)
    assert png.text["volumeviz:modality"] == "CT"
    meta = json.loads(png.text["volumeviz:segmentations"])
    assert {m["kind"] for m in meta} == {"SEG"}
    assert sorted(x for m in meta for x in m["segments"]) == sorted(segments)
    none = tmp_path / "none.png"
    code, _, err = run_cli(
        capsys, "screenshot", str(root), "--mpr", "axial", "--seg", "none", "-o", str(none)
    )
    assert code == 0, err
    diff = np.abs(
        np.asarray(png.convert("RGB"), int) - np.asarray(Image.open(none).convert("RGB"), int)
    )
    assert (diff.max(axis=2) > 30).sum() > 500  # the segments are drawn


def test_stats_of_the_folder_measures_its_seg(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_path(shared_data, DCMQI)
    code, out, err = run_cli(capsys, "stats", str(root), "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["units"] == "HU"
    names = [r["name"] for r in got["regions"]]
    assert sorted(names) == sorted(["Liver", *OVERLAPS])
    ct = volumeviz.load_series(shared_path(shared_data, f"{DCMQI}/ct"))
    liver = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/liver.dcm"), ct)
    mask = liver.segments[0].full_mask(ct.array.shape)
    (rec,) = [r for r in got["regions"] if r["name"] == "Liver"]
    assert rec["voxels"] == int(mask.sum())
    assert rec["mean"] == pytest.approx(float(ct.array[mask].mean()))


@pytest.mark.slow
@pytest.mark.render
def test_report_of_the_folder_has_its_seg_legend_and_statistics(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    code, _, err = run_cli(
        capsys,
        "report",
        str(shared_path(shared_data, DCMQI)),
        "--template",
        "brief",
        "-o",
        str(out),
    )
    assert code == 0, err
    html = out.read_text()
    for label in ("Liver", *OVERLAPS):
        assert label in html
    assert "Volume mL" in html
