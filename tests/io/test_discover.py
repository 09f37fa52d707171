"""Discovery: walk, header-only reading, skipped and rejected files, DICOMDIR input."""

from __future__ import annotations

import pydicom
import pytest

from volumeviz.errors import NoSeriesError
from volumeviz.io.discover import read_slices, scan
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_series


def test_recursive_walk_and_progress(tmp_path, make_marker):
    vol, _ = make_marker(size=(8, 8, 4))
    write_synthetic_series(vol, tmp_path / "a" / "b", series_number=1)
    write_synthetic_series(vol, tmp_path / "c", series_number=2)
    (tmp_path / "README.txt").write_text("not dicom")
    calls = []
    result = scan(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert [s.number for s in result.series] == [1, 2]
    assert calls[-1] == (9, 9)
    assert result.n_files == 9
    assert any("README.txt" in n for n in result.notes)
    assert result.rejected == []


def test_headers_only_no_pixels_read(tmp_path, make_marker, monkeypatch):
    vol, _ = make_marker(size=(8, 8, 4))
    write_synthetic_series(vol, tmp_path)

    def boom(self):  # any pixel decoding during discovery is a bug
        raise AssertionError("pixel data decoded during discovery")

    monkeypatch.setattr(pydicom.dataset.Dataset, "pixel_array", property(boom))
    result = scan(tmp_path)
    assert result.series[0].plan is not None
    assert result.series[0].plan.size == (8, 8, 4)


def test_slice_ref_fields(tmp_path, make_marker):
    vol, _ = make_marker(size=(8, 6, 3), spacing=(0.5, 0.75, 2.0))
    files = write_synthetic_series(vol, tmp_path, rescale_intercept=-1024)
    (s,), header = read_slices(files[1])
    assert (s.rows, s.cols) == (6, 8)
    assert s.pixel_spacing == (0.75, 0.5)  # DICOM order: row spacing, column spacing
    assert s.intercept == -1024
    assert s.frame is None
    assert header["modality"] == "CT"
    assert header["windows"] == [(40.0, 400.0, "")]


def test_non_image_dicom_is_a_note(tmp_path, make_marker):
    vol, _ = make_marker(size=(8, 8, 3))
    write_synthetic_series(vol, tmp_path)
    sr = pydicom.Dataset()
    sr.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.22"  # Enhanced SR
    sr.SOPInstanceUID = pydicom.uid.generate_uid()
    sr.Modality = "SR"
    sr.file_meta = pydicom.dataset.FileMetaDataset()
    sr.file_meta.MediaStorageSOPClassUID = sr.SOPClassUID
    sr.file_meta.MediaStorageSOPInstanceUID = sr.SOPInstanceUID
    sr.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    sr.save_as(tmp_path / "report.dcm", enforce_file_format=True)
    result = scan(tmp_path)
    # an SR is a derived object: listed (with its kind), never a series
    assert [(d.kind, d.path.endswith("report.dcm")) for d in result.derived] == [("SR", True)]
    assert len(result.series) == 1


def test_empty_file_list():
    with pytest.raises(NoSeriesError, match="empty file list"):
        scan([])


def test_missing_file_in_list_is_rejected(tmp_path, make_marker):
    vol, _ = make_marker(size=(8, 8, 3))
    files = write_synthetic_series(vol, tmp_path)
    result = scan([*files, tmp_path / "gone.dcm"])
    assert [r.path for r in result.rejected] == [str(tmp_path / "gone.dcm")]
    assert len(result.series) == 1


@pytest.mark.shared_data
def test_dicomdir_input_uses_its_references(shared_data):
    dicomdir = shared_data / "dicomdir" / "pydicom_dcmtk_3patients" / "DICOMDIR"
    if not dicomdir.exists():
        pytest.fail(f"shared data item missing: {dicomdir}")
    result = scan(dicomdir)
    assert any("DICOMDIR lists" in n for n in result.notes)
    # the variant DICOMDIR files next to it are not images and are not walked
    files = {f for s in result.series for f in s.files}
    assert not any("DICOMDIR" in f for f in files)
    vol = load_series(dicomdir, series="@0")
    assert vol.array.size > 0
