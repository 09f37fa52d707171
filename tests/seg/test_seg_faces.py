"""--seg on screenshot and report, and Scene(segmentations=...)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli, shared_path
from volumeviz.io.seg import load_segmentation
from volumeviz.io.volume import load_series
from volumeviz.model import phantom
from volumeviz.model.segmentation import Grid, Segmentation

DCMQI = "seg/ct3slice_liver_seg_dcmqi"
RT = "seg/rtutils_ge_discoverymi_phantom_rtstruct"
GREEN = (0.0, 1.0, 0.0)


def _green_pixels(img: np.ndarray) -> int:
    return int(((img[..., 1] > 200) & (img[..., 0] < 60) & (img[..., 2] < 60)).sum())


@pytest.mark.render
def test_screenshot_seg_auto_file_and_none(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shared_path(shared_data, RT)  # CT + RTSTRUCT in one folder: found by itself
    out = tmp_path / "auto.png"
    code, _, err = run_cli(
        capsys, "screenshot", str(folder / "ct"), "--mpr", "axial", "--slice", "0", "-o", str(out)
    )
    assert code == 0, err  # the CT folder alone holds no RTSTRUCT: nothing drawn, no warning
    plain = np.asarray(Image.open(out).convert("RGB"))
    out2 = tmp_path / "file.png"
    code, _, err = run_cli(
        capsys,
        "screenshot",
        str(folder / "ct"),
        "--mpr",
        "axial",
        "--slice",
        "0",
        "--seg",
        str(folder / "rtstruct" / "rt.dcm"),
        "--seg-opacity",
        "1",
        "-o",
        str(out2),
    )
    assert code == 0, err
    assert "Frame of Reference UID" in err  # the file's own contradiction is reported
    with_seg = np.asarray(Image.open(out2).convert("RGB"))
    assert (np.abs(with_seg.astype(int) - plain).max(axis=2) > 30).sum() > 500
    meta = json.loads(Image.open(out2).text["volumeviz:segmentations"])
    assert meta[0]["kind"] == "RTSTRUCT"
    assert meta[0]["segments"] == ["ROI-1"]
    # the folder holding both: the RTSTRUCT is found by itself (--seg auto, the default)
    out4 = tmp_path / "found.png"
    code, _, err = run_cli(
        capsys,
        "screenshot",
        str(folder),
        "--mpr",
        "axial",
        "--slice",
        "0",
        "--seg-opacity",
        "1",
        "-o",
        str(out4),
    )
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(out4).convert("RGB")), with_seg)
    out3 = tmp_path / "none.png"
    code, _, err = run_cli(
        capsys,
        "screenshot",
        str(folder / "ct"),
        "--mpr",
        "axial",
        "--slice",
        "0",
        "--seg",
        "none",
        "-o",
        str(out3),
    )
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(out3).convert("RGB")), plain)


@pytest.mark.render
def test_screenshot_seg_refused_is_a_warning_not_a_failure(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other_ct = shared_path(shared_data, f"{RT}/ct")
    liver = shared_path(shared_data, f"{DCMQI}/seg/liver.dcm")
    code, _, err = run_cli(
        capsys,
        "screenshot",
        str(other_ct),
        "--mpr",
        "axial",
        "--seg",
        str(liver),
        "-o",
        str(tmp_path / "x.png"),
    )
    assert code == 0, err
    assert "segmentation not shown" in err
    assert "Frame of Reference UID" in err
    code, _, err = run_cli(capsys, "stats", str(other_ct), "--seg", str(liver))
    assert code == 1  # stats refuses: numbers over the wrong image would be wrong numbers
    assert "liver.dcm" in err


@pytest.mark.render
def test_scene_draws_segmentations_in_every_volume_cell() -> None:
    from volumeviz.render.scene import Scene

    vol = phantom.asymmetric(32)
    seg = Segmentation.from_labelmap(
        (vol.array > 500).astype(np.uint8), Grid.of(vol), colors={1: GREEN}
    )
    point = tuple(vol.meta.extra["marker_lps"])
    fig = Scene(vol, columns=2, cell_size=(240, 200), annotations=False, segmentations=[seg])
    fig.add_mpr("axial", slice=point).add_3d("bone", volume=False).render()
    img = fig.render()
    assert _green_pixels(img[:, :240]) > 20  # the MPR cell
    assert _green_pixels(img[:, 240:]) > 20  # the 3D cell: the surface alone
    bare = Scene(vol, columns=1, cell_size=(240, 200), annotations=False).add_mpr(
        "axial", slice=point
    )
    assert _green_pixels(bare.render()) == 0


@pytest.mark.slow
@pytest.mark.render
def test_report_has_legend_and_statistics(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ct_dir = shared_path(shared_data, f"{DCMQI}/ct")
    out = tmp_path / "r.html"
    code, _, err = run_cli(
        capsys,
        "report",
        str(ct_dir),
        "--template",
        "brief",
        "--seg",
        str(shared_path(shared_data, f"{DCMQI}/seg/partial_overlaps.dcm")),
        "-o",
        str(out),
    )
    assert code == 0, err
    html = out.read_text()
    for label in ("GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"):
        assert label in html
    assert "Volume mL" in html
    assert "Mean ± SD HU" in html
    # the table's numbers are segment_stats' numbers
    from volumeviz.ops.stats import segment_stats

    ct = load_series(ct_dir)
    seg = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/partial_overlaps.dcm"), ct)
    first = segment_stats(ct, seg)[0]
    assert f"{first.mean:.1f} ± {first.sd:.1f}" in html
    # anonymised: free-text labels give way to the coded type
    out2 = tmp_path / "anon.html"
    code, _, err = run_cli(
        capsys,
        "report",
        str(ct_dir),
        "--template",
        "brief",
        "--anonymize",
        "--seg",
        str(shared_path(shared_data, f"{DCMQI}/seg/partial_overlaps.dcm")),
        "-o",
        str(out2),
    )
    assert code == 0, err
    anon = out2.read_text()
    assert "LIGHT_BLUE" not in anon
    assert "Edema" in anon
