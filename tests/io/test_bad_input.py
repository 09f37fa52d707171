"""Bad input: one clear line naming the file and the problem, exit 1, no traceback."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pydicom
import pytest

from tests.conftest import run_cli
from volumeviz.errors import DicomReadError, NoSeriesError, SeriesGeometryError, VolumeVizError
from volumeviz.io.discover import scan
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_series


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("volumeviz: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture
def series_dir(tmp_path, make_marker):
    vol, _ = make_marker(size=(16, 16, 6))
    folder = tmp_path / "series"
    files = write_synthetic_series(vol, folder)
    return folder, files


def _edit(path, **changes):
    ds = pydicom.dcmread(path)
    for key, value in changes.items():
        if value is None:
            delattr(ds, key)
        else:
            setattr(ds, key, value)
    ds.save_as(path)


# -- defects in one file ------------------------------------------------------------------------


def test_truncated_file(capsys, series_dir, tree_hash):
    folder, files = series_dir
    bad = files[0]
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) - 300])
    before = tree_hash(folder)
    code, _, err = run_cli(capsys, "info", str(bad))
    assert_one_line_error(code, err, str(bad), "truncated", "(7FE0,0010)")
    with pytest.raises(DicomReadError, match="truncated"):
        load_series(bad)
    assert tree_hash(folder) == before


def test_no_pixel_data(capsys, series_dir):
    _, files = series_dir
    _edit(files[1], PixelData=None)
    code, _, err = run_cli(capsys, "info", str(files[1]))
    assert_one_line_error(code, err, str(files[1]), "no (7FE0,0010) Pixel Data")


@pytest.mark.parametrize(
    ("keyword", "tag"),
    [("ImagePositionPatient", "(0020,0032)"), ("ImageOrientationPatient", "(0020,0037)")],
)
def test_missing_position_or_orientation_in_a_series(capsys, series_dir, keyword, tag):
    folder, files = series_dir
    _edit(files[2], **{keyword: None})
    with pytest.raises(SeriesGeometryError, match=tag.replace("(", r"\(").replace(")", r"\)")):
        load_series(folder)
    from volumeviz.io.volume import select_series

    result = scan(folder)
    assert not result.series[0].reconstructable
    assert files[2].name in result.series[0].refusal
    with pytest.raises(SeriesGeometryError, match=files[2].name):
        select_series(result, None)


def test_rows_columns_disagree_with_pixel_length(capsys, series_dir):
    _, files = series_dir
    _edit(files[0], Rows=32)
    code, _, err = run_cli(capsys, "info", str(files[0]))
    assert_one_line_error(code, err, str(files[0]), "Rows=32", "needs")
    _edit(files[1], Columns=8)  # fewer than the data: also a disagreement
    with pytest.raises(DicomReadError, match="Columns=8"):
        load_series(files[1])


def test_header_claims_a_huge_image(capsys, series_dir):
    _, files = series_dir
    _edit(files[0], Rows=65535, Columns=65535, NumberOfFrames=30)
    code, _, err = run_cli(capsys, "info", str(files[0]))
    assert_one_line_error(code, err, str(files[0]), "65535x65535", "refusing")


def test_folder_without_dicom(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    code, _, err = run_cli(capsys, "info", str(tmp_path))
    assert_one_line_error(code, err, str(tmp_path), "no DICOM image series")
    with pytest.raises(NoSeriesError):
        load_series(tmp_path)


def test_empty_folder(capsys, tmp_path):
    code, _, err = run_cli(capsys, "info", str(tmp_path))
    assert_one_line_error(code, err, "0 file(s)")


def test_path_does_not_exist(capsys, tmp_path):
    missing = tmp_path / "nope"
    code, _, err = run_cli(capsys, "info", str(missing))
    assert_one_line_error(code, err, str(missing), "no such file or folder")


def test_unreadable_file(capsys, series_dir, tmp_path):
    folder, files = series_dir
    # a dangling link is unreadable for everyone (root included)
    link = folder / "dangling.dcm"
    link.symlink_to(tmp_path / "gone.dcm")
    result = scan(folder)
    assert any("dangling.dcm" in r.path and "cannot read" in r.reason for r in result.rejected)
    assert load_series(folder).size == (16, 16, 6)  # the good series still loads
    if os.geteuid() != 0:  # permissions do not stop root
        files[0].chmod(0)
        try:
            code, _, err = run_cli(capsys, "info", str(files[0]))
            assert_one_line_error(code, err, str(files[0]), "permission denied")
        finally:
            files[0].chmod(0o644)


def test_rescale_slope_zero(capsys, series_dir):
    _, files = series_dir
    _edit(files[0], RescaleSlope="0")
    code, _, err = run_cli(capsys, "info", str(files[0]))
    assert_one_line_error(code, err, "(0028,1053) Rescale Slope is 0")


def test_non_numeric_position(capsys, series_dir):
    _, files = series_dir
    from pydicom.dataelem import DataElement

    ds = pydicom.dcmread(files[0])
    ds[0x00200032] = DataElement(0x00200032, "LO", "1\\x\\3")  # not a DS: bypass validation
    ds.save_as(files[0])
    code, _, err = run_cli(capsys, "info", str(files[0]))
    assert_one_line_error(code, err, "(0020,0032)", "not numeric")


# -- a folder with broken files still loads the good series --------------------------------------


def test_some_files_broken_good_series_loads(capsys, tmp_path, make_marker, tree_hash):
    good, _ = make_marker(size=(16, 16, 6))
    other, _ = make_marker(size=(8, 8, 4))
    write_synthetic_series(good, tmp_path, series_number=1, prefix="G")
    bad_files = write_synthetic_series(other, tmp_path, series_number=2, prefix="B")
    bad_files[0].write_bytes(bad_files[0].read_bytes()[:500])
    (tmp_path / "junk.bin").write_bytes(os.urandom(2000))
    before = tree_hash(tmp_path)
    vol = load_series(tmp_path, series=1)
    assert vol.size == good.size
    rejected = vol.meta.extra["rejected_files"]
    assert any(bad_files[0].name in r for r in rejected)
    result = scan(tmp_path)
    assert [r.path for r in result.rejected] == [str(bad_files[0])]
    assert any("junk.bin" in n and "not DICOM" in n for n in result.notes)
    code, out, err = run_cli(capsys, "info", str(tmp_path))
    assert code == 0, err
    assert "rejected:" in out
    assert bad_files[0].name in out
    assert tree_hash(tmp_path) == before


def test_rejected_file_of_the_loaded_series_is_an_issue(tmp_path, make_marker):
    vol, _ = make_marker(size=(16, 16, 6))
    files = write_synthetic_series(vol, tmp_path)
    data = files[3].read_bytes()
    files[3].write_bytes(data[:-100])
    loaded = load_series(tmp_path)
    codes = {i.code for i in loaded.issues}
    assert "rejected-files" in codes
    assert "missing-slices" in codes  # the hole it leaves is measured and filled


# -- the shared bad/ folder ----------------------------------------------------------------------

BROKEN = [
    ("not_dicom_icc_profile.icc", "not DICOM"),
    ("pydicom_DICOMDIR-empty.dcm", "DICOMDIR"),
    ("pydicom_DICOMDIR-nopatient", "DICOMDIR"),
    ("pydicom_MR_truncated.dcm", "truncated"),
    ("pydicom_emri_j2k_too_short.dcm", "truncated or corrupt"),
    ("pydicom_meta_missing_tsyntax.dcm", "(0028,0010) Rows"),
    ("pydicom_no_meta_no_preamble.dcm", "not DICOM"),
    ("pydicom_rtplan_truncated.dcm", "not an image"),
    ("pydicom_badVR.dcm", "(0028,0008) Number of Frames '1A'"),
]


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "needle"), BROKEN)
def test_shared_bad_files(capsys, shared_data, tmp_path, name, needle, tree_hash):
    src = shared_data / "bad" / name
    if not src.exists():
        pytest.fail(f"shared data item missing: {src}")
    before = tree_hash(shared_data / "bad")
    code, _, err = run_cli(capsys, "info", str(src))
    assert_one_line_error(code, err, name, needle)
    with pytest.raises(VolumeVizError):
        load_series(src)
    assert tree_hash(shared_data / "bad") == before


@pytest.mark.shared_data
def test_shared_bad_files_that_are_readable(shared_data):
    """The two 'bad' files whose pixels do decode load as honest 1-slice volumes."""
    for name in ("pydicom_J2K_pixelrep_mismatch.dcm", "pydicom_bad_sequence.dcm"):
        vol = load_series(shared_data / "bad" / name)
        assert vol.size[2] == 1
        assert vol.array.dtype == np.int16
        assert vol.issues[0].code == "single-slice"


@pytest.mark.shared_data
def test_shared_bad_folder_lists_every_file(capsys, shared_data):
    result = scan(shared_data / "bad")
    listed = {r.path for r in result.rejected} | {n.split(":")[0] for n in result.notes}
    listed |= {f for s in result.series for f in s.files} | {d.path for d in result.derived}
    on_disk = {str(p) for p in (shared_data / "bad").iterdir() if p.is_file()}
    assert on_disk <= listed


def test_input_files_never_modified_by_load(tmp_path, make_marker, tree_hash):
    vol, _ = make_marker(size=(16, 16, 6))
    write_synthetic_series(vol, tmp_path, tilt_deg=10, drop_slices=(2,))
    before = tree_hash(tmp_path)
    load_series(tmp_path)
    scan(tmp_path)
    assert tree_hash(tmp_path) == before


def test_copy_of_folder_is_not_needed(tmp_path, make_marker):
    """Loading from a read-only folder works (nothing is written next to the input)."""
    vol, _ = make_marker(size=(8, 8, 3))
    folder = tmp_path / "ro"
    write_synthetic_series(vol, folder)
    folder.chmod(0o555)
    try:
        assert load_series(folder).size == (8, 8, 3)
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def test_refused_stack_is_not_replaced_by_a_stray_image(tmp_path, make_marker):
    """A refused CT stack must not make the loader fall back to an unplaced screen capture."""
    vol, _ = make_marker(size=(16, 16, 6))
    files = write_synthetic_series(vol, tmp_path, series_uid="1.2.826.0.1.3680043.8.498.9")
    _edit(files[2], ImagePositionPatient=None)
    from volumeviz.model.volume import Volume

    screen = Volume(np.zeros((1, 24, 32), np.int16))
    (shot,) = write_synthetic_series(
        screen, tmp_path, series_uid="1.2.826.0.1.3680043.8.498.10", prefix="SC"
    )
    _edit(shot, ImagePositionPatient=None, ImageOrientationPatient=None, PixelSpacing=None)
    with pytest.raises(SeriesGeometryError, match=files[2].name):
        load_series(tmp_path)
