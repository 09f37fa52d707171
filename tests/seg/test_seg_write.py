"""Writing DICOM SEG: dciodvfy accepts it, it reads back to the same masks on the same voxels."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.conftest import run_cli, shared_path
from volumeviz.io.nifti import write_image
from volumeviz.io.seg import load_segmentation, place_on, read_labelmap, read_seg
from volumeviz.io.seg_write import write_seg
from volumeviz.io.volume import load_series
from volumeviz.io.write import write_series
from volumeviz.model import phantom
from volumeviz.model.segmentation import Code, Grid, Segment, Segmentation
from volumeviz.model.volume import Volume, VolumeMeta

DCMQI = "seg/ct3slice_liver_seg_dcmqi"


def _dciodvfy_errors(path: Path) -> list[str]:
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.fail("dciodvfy (dicom3tools, scripts/install_system_deps.sh) is not installed")
    r = subprocess.run([exe, str(path)], capture_output=True, text=True, check=False)
    return [ln for ln in (r.stdout + r.stderr).splitlines() if ln.startswith("Error")]


@pytest.fixture
def oblique_ct(tmp_path: Path) -> Volume:
    d = np.array(
        [
            [math.cos(0.35), 0.0, math.sin(0.35)],
            [0.0, 1.0, 0.0],
            [-math.sin(0.35), 0.0, math.cos(0.35)],
        ]
    )
    vol = phantom.asymmetric((24, 20, 12), spacing=(0.8, 0.9, 2.0), direction=d)
    vol = vol.replace(meta=VolumeMeta(modality="CT", units="HU"))
    write_series(vol, tmp_path / "ct", modality="CT")
    return load_series(tmp_path / "ct")


def test_overlapping_segments_round_trip_on_an_oblique_series(
    oblique_ct: Volume, tmp_path: Path
) -> None:
    ct = oblique_ct
    a = np.zeros(ct.array.shape, bool)
    a[2:8, 3:12, 4:15] = True
    b = np.zeros(ct.array.shape, bool)
    b[5:10, 8:16, 10:20] = True  # overlaps a
    seg = Segmentation(
        grid=Grid.of(ct),
        segments=(
            Segment(1, "block A", (1.0, 0.0, 0.0), a, type=Code("10200004", "SCT", "Liver")),
            Segment(2, "block B", (0.0, 0.6, 1.0), b, algorithm="AUTOMATIC"),
        ),
    )
    seg = seg.replace(segments=tuple(s.cropped() for s in seg.segments))
    out = write_seg(seg, ct, tmp_path / "seg.dcm")
    assert _dciodvfy_errors(out) == []
    back = place_on(read_seg(out), ct)
    assert [s.label for s in back.segments] == ["block A", "block B"]
    np.testing.assert_array_equal(back.segments[0].full_mask(ct.array.shape), a)
    np.testing.assert_array_equal(back.segments[1].full_mask(ct.array.shape), b)
    np.testing.assert_allclose(back.segments[1].color, (0.0, 0.6, 1.0), atol=0.01)
    assert back.segments[0].type == Code("10200004", "SCT", "Liver")
    assert not [i for i in back.issues if i.code != "other-series"]
    # each frame sits on the slice of the CT file it names (IPP of that file)
    ds = pydicom.dcmread(out)
    ct_ipp = {}
    for f in ct.meta.source_files:
        h = pydicom.dcmread(f, stop_before_pixels=True)
        ct_ipp[h.SOPInstanceUID] = np.array(h.ImagePositionPatient, float)
    for pf in ds.PerFrameFunctionalGroupsSequence:
        uid = pf.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        ipp = np.array(pf.PlanePositionSequence[0].ImagePositionPatient, float)
        np.testing.assert_allclose(ipp, ct_ipp[uid], atol=1e-3)
    assert ds.FrameOfReferenceUID == ct.meta.frame_of_reference_uid
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == ct.meta.series_uid


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".npy"])
def test_convert_labelmap_to_seg_on_the_real_ct(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    ct_dir = shared_path(shared_data, f"{DCMQI}/ct")
    ct = load_series(ct_dir)
    liver = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/liver.dcm"), ct)
    labels = liver.labelmap().astype(np.uint8)
    lab_path = tmp_path / f"labels{suffix}"
    if suffix == ".npy":
        np.save(lab_path, labels)
    else:
        write_image(ct.replace(array=labels, meta=VolumeMeta()), lab_path)
    out = tmp_path / "liver.dcm"
    code, _, err = run_cli(
        capsys,
        "convert",
        str(ct_dir),
        "--seg",
        str(lab_path),
        "--label-names",
        "1=liver",
        "-o",
        str(out),
    )
    assert code == 0, err
    assert _dciodvfy_errors(out) == []
    back = load_segmentation(out, ct)
    assert back.labels == ["liver"]
    np.testing.assert_array_equal(
        back.segments[0].full_mask(ct.array.shape), liver.segments[0].full_mask(ct.array.shape)
    )
    # and the other way: the SEG as a labelmap on the CT's grid
    code, _, err = run_cli(
        capsys, "convert", str(ct_dir), "--seg", str(out), "-o", str(tmp_path / "back.nii.gz")
    )
    assert code == 0, err
    again = place_on(read_labelmap(tmp_path / "back.nii.gz"), ct)
    np.testing.assert_array_equal(again.labelmap() > 0, labels > 0)


def test_convert_seg_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "convert", str(tmp_path), "-o", str(tmp_path / "x.dcm"))
    assert code == 2
    assert "needs --seg" in err
    code, _, err = run_cli(
        capsys,
        "convert",
        str(tmp_path),
        "--seg",
        "x.nii",
        "--label-names",
        "one=liver",
        "-o",
        str(tmp_path / "x.dcm"),
    )
    assert code == 2
    assert "--label-names" in err


def test_fractional_seg_is_written_fractional_and_reads_back_to_its_fractions(
    shared_data: Path, tmp_path: Path
) -> None:
    hd_set = "seg/highdicom_ct2_seg_set"
    ct = load_series(shared_path(shared_data, f"{hd_set}/ct2"))
    frac = load_segmentation(
        shared_path(shared_data, f"{hd_set}/seg/seg_image_ct_true_fractional.dcm"), ct
    )
    assert frac.segments[0].fractional
    # and a boolean segment beside it: written as fractions 0/1 in the same SEG
    box = np.zeros(ct.array.shape, bool)
    box[:, 2:6, 3:9] = True
    both = frac.replace(segments=(*frac.segments, Segment(2, "box", (0.0, 1.0, 0.0), box)))
    out = write_seg(both, ct, tmp_path / "frac.dcm")
    assert _dciodvfy_errors(out) == []
    ds = pydicom.dcmread(out)
    assert ds.SegmentationType == "FRACTIONAL"
    assert ds.SegmentationFractionalType == "PROBABILITY"
    assert ds.MaximumFractionalValue == 255
    back = load_segmentation(out, ct)
    want = frac.segments[0].full_mask(ct.array.shape)
    got = back.segments[0].full_mask(ct.array.shape)
    assert back.segments[0].fractional
    assert len(np.unique(want)) > 2  # truly fractional input
    np.testing.assert_allclose(got, want, atol=0.5 / 255)
    np.testing.assert_array_equal(back.segments[1].full_mask(ct.array.shape) > 0.5, box)
