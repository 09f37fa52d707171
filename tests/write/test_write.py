"""Writing DICOM: valid per dciodvfy; a round trip through load_series keeps geometry, values."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from volumeviz.errors import OutputError, WriteError
from volumeviz.io.volume import load_series
from volumeviz.io.write import rescale_for_int16, write_secondary_capture, write_series
from volumeviz.model import phantom
from volumeviz.model.volume import Volume, VolumeMeta, WindowPreset


def dciodvfy_errors(path: Path) -> list[str]:
    """The 'Error' lines dciodvfy (dicom3tools) prints for ``path``."""
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.fail("dciodvfy not found: run scripts/install_system_deps.sh (Debian dicom3tools)")
    res = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    lines = (res.stdout + res.stderr).splitlines()
    assert any(line.strip().endswith("Image") for line in lines), lines  # it recognised the IOD
    return [line for line in lines if line.startswith("Error")]


def oblique_volume(dtype: type = np.float32) -> Volume:
    """A 6x5x4 volume, rotated about all three axes, uneven spacing, distinct values."""
    a, b = np.deg2rad(20), np.deg2rad(-35)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    rng = np.random.default_rng(5)
    arr = (rng.normal(0, 300, size=(4, 5, 6))).astype(dtype)
    return Volume(
        arr,
        origin=(-120.25, 33.5, 71.125),
        spacing=(0.7, 0.9, 2.5),
        direction=rz @ rx,
        meta=VolumeMeta(
            modality="MR",
            series_uid="1.2.3.4",
            study_uid="1.2.826.0.1.3680043.8.498.1",
            frame_of_reference_uid="1.2.826.0.1.3680043.8.498.2",
            series_number=7,
            series_description="t1 oblique",
            patient_name="Müller^Jürgen",
            patient_id="P1",
            windows=(WindowPreset(100, 600, "MR soft"),),
        ),
    )


def assert_same_geometry(a: Volume, b: Volume) -> None:
    assert a.size == b.size
    np.testing.assert_allclose(a.origin, b.origin, atol=1e-4)
    np.testing.assert_allclose(a.spacing, b.spacing, rtol=1e-5)
    np.testing.assert_allclose(a.direction, b.direction, atol=1e-5)


def test_ct_phantom_round_trip_is_exact(tmp_path: Path) -> None:
    vol = phantom.asymmetric(12)
    files = write_series(vol, tmp_path / "out", modality="CT")
    assert [f.name for f in files[:2]] == ["IM00001.dcm", "IM00002.dcm"]
    for f in (files[0], files[-1]):
        assert dciodvfy_errors(f) == []
    back = load_series(tmp_path / "out")
    assert_same_geometry(vol, back)
    assert back.units == "HU"
    assert back.array.dtype == np.int16
    assert np.array_equal(back.array, vol.array)
    ds = pydicom.dcmread(files[3])
    assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (1.0, 0.0)
    assert [float(v) for v in ds.ImagePositionPatient] == pytest.approx(
        vol.index_to_lps([0, 0, 3]).tolist()
    )
    assert ds.Modality == "CT"
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"


def test_oblique_float_mr_round_trip(tmp_path: Path) -> None:
    vol = oblique_volume()
    files = write_series(vol, tmp_path / "mr")
    assert dciodvfy_errors(files[0]) == []
    ds = pydicom.dcmread(files[0])
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert str(ds.PatientName) == "Müller^Jürgen"
    assert ds.StudyInstanceUID == vol.meta.study_uid
    assert ds.FrameOfReferenceUID == vol.meta.frame_of_reference_uid
    assert ds.SeriesInstanceUID != vol.meta.series_uid
    assert ds.SeriesNumber == 1007
    assert [float(v) for v in ds.ImageOrientationPatient] == pytest.approx(
        [*vol.direction[:, 0], *vol.direction[:, 1]], abs=1e-6
    )
    assert [float(v) for v in ds.PixelSpacing] == [0.9, 0.7]  # row spacing (dj) first
    assert float(ds.WindowCenter) == 100.0
    slope = float(ds.RescaleSlope)
    back = load_series(tmp_path / "mr")
    assert_same_geometry(vol, back)
    assert np.max(np.abs(back.array.astype(np.float64) - vol.array)) <= slope / 2 + 1e-3
    assert len({pydicom.dcmread(f).SOPInstanceUID for f in files}) == len(files)


def test_values_beyond_int16_get_a_slope(tmp_path: Path) -> None:
    arr = np.linspace(-50000, 90000, 2 * 3 * 4).reshape(2, 3, 4).astype(np.int32)
    vol = Volume(arr, meta=VolumeMeta(modality="CT", units="HU"))
    slope, intercept = rescale_for_int16(arr)
    assert slope > 1
    stored_range = ((arr.min() - intercept) / slope, (arr.max() - intercept) / slope)
    assert stored_range[0] >= -32768
    assert stored_range[1] <= 32767
    write_series(vol, tmp_path / "big")
    back = load_series(tmp_path / "big")
    assert np.max(np.abs(back.array.astype(np.float64) - arr)) <= slope / 2 + 1e-6


@pytest.mark.shared_data
def test_real_ct_with_like_keeps_study_and_frame_of_reference(
    shared_data: Path, tmp_path: Path
) -> None:
    src_dir = shared_data / "dicomdir/pydicom_dcmtk_3patients/98892001/CT5N"
    vol = load_series(src_dir)
    files = write_series(vol, tmp_path / "ct", like=sorted(src_dir.iterdir())[0])
    assert dciodvfy_errors(files[0]) == []
    src = pydicom.dcmread(sorted(src_dir.iterdir())[0], stop_before_pixels=True)
    out = pydicom.dcmread(files[0])
    assert out.StudyInstanceUID == src.StudyInstanceUID
    assert out.FrameOfReferenceUID == src.FrameOfReferenceUID
    assert out.PatientID == src.PatientID
    assert out.SeriesInstanceUID != src.SeriesInstanceUID
    back = load_series(tmp_path / "ct")
    assert_same_geometry(vol, back)
    assert np.array_equal(back.array, vol.array)  # HU identical


def test_secondary_capture_references_its_source(tmp_path: Path) -> None:
    vol = phantom.asymmetric(6)
    files = write_series(vol, tmp_path / "src", modality="CT", series_description="src")
    source = load_series(tmp_path / "src")
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[5:10, 3:9] = (255, 40, 7)
    sc = write_secondary_capture(rgb, tmp_path / "shot.dcm", like=source)
    assert dciodvfy_errors(sc) == []
    ds = pydicom.dcmread(sc)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    assert ds.StudyInstanceUID == source.meta.study_uid
    assert ds.SeriesInstanceUID != source.meta.series_uid
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == source.meta.series_uid
    wanted = {str(pydicom.dcmread(f).SOPInstanceUID) for f in files}
    assert {str(i.ReferencedSOPInstanceUID) for i in ds.SourceImageSequence} == wanted
    assert ds.PhotometricInterpretation == "RGB"
    assert np.array_equal(ds.pixel_array, rgb)


def test_grey_secondary_capture_from_a_file(tmp_path: Path) -> None:
    files = write_series(phantom.asymmetric(4), tmp_path / "src", modality="CT")
    grey = np.arange(35, dtype=np.uint8).reshape(5, 7)  # odd length: padded
    sc = write_secondary_capture(grey, tmp_path / "g.dcm", like=files[0])
    assert dciodvfy_errors(sc) == []
    ds = pydicom.dcmread(sc)
    assert np.array_equal(ds.pixel_array, grey)
    assert (
        ds.SourceImageSequence[0].ReferencedSOPInstanceUID
        == pydicom.dcmread(files[0]).SOPInstanceUID
    )


def test_refusals(tmp_path: Path) -> None:
    vol = phantom.asymmetric(4)
    with pytest.raises(WriteError, match="modality 'US'"):
        write_series(vol, tmp_path / "x", modality="US")
    nan = vol.replace(array=np.full((2, 2, 2), np.nan, np.float32))
    with pytest.raises(WriteError, match="NaN"):
        write_series(nan, tmp_path / "y", modality="CT")
    write_series(vol, tmp_path / "z", modality="CT")
    before = (tmp_path / "z" / "IM00001.dcm").read_bytes()
    with pytest.raises(OutputError, match=r"IM00001\.dcm: exists"):
        write_series(vol, tmp_path / "z", modality="CT")
    assert (tmp_path / "z" / "IM00001.dcm").read_bytes() == before
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match=r"output folder cannot be created|not a folder"):
        write_series(vol, tmp_path / "file" / "sub", modality="CT")
    with pytest.raises(OutputError, match="exists"):
        write_secondary_capture(np.zeros((2, 2, 3), np.uint8), tmp_path / "file")
    assert (tmp_path / "file").read_text() == "x"
    with pytest.raises(WriteError, match="uint8"):
        write_secondary_capture(np.zeros((2, 2, 3), np.float32), tmp_path / "f.dcm")
    assert not list(tmp_path.glob("**/.*"))  # no temporary files left behind


def test_source_file_is_never_overwritten(tmp_path: Path) -> None:
    vol = phantom.asymmetric(4)
    files = write_series(vol, tmp_path / "s", modality="CT")
    source = load_series(tmp_path / "s")
    before = files[0].read_bytes()
    with pytest.raises(OutputError, match="input files"):
        write_secondary_capture(
            np.zeros((2, 2, 3), np.uint8), files[0], like=source, overwrite=True
        )
    assert files[0].read_bytes() == before


def test_left_handed_volume_lands_at_the_same_patient_positions(tmp_path: Path) -> None:
    # k runs against row x column: valid DICOM; the loader may order slices the other way,
    # but every voxel must come back at the same LPS position with the same value
    d = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, -1]])
    arr = np.arange(3 * 4 * 5, dtype=np.int16).reshape(3, 4, 5)
    vol = Volume(arr, origin=(1, 2, 3), spacing=(0.5, 0.75, 2), direction=d,
                 meta=VolumeMeta(modality="CT", units="HU"))  # fmt: skip
    write_series(vol, tmp_path / "lh")
    back = load_series(tmp_path / "lh")
    assert back.size == vol.size
    for k, j, i in np.ndindex(arr.shape):
        ijk = np.rint(back.lps_to_index(vol.index_to_lps([i, j, k]))).astype(int)
        assert back.array[ijk[2], ijk[1], ijk[0]] == arr[k, j, i]


def test_invalid_dates_are_written_empty(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    meta = VolumeMeta(modality="CT", units="HU", study_date="2020-01-01", study_time="noon",
                      patient_birth_date="19700101")  # fmt: skip
    (first, *_) = write_series(phantom.asymmetric(2).replace(meta=meta), tmp_path / "d")
    ds = pydicom.dcmread(first)
    assert (ds.StudyDate, ds.StudyTime, ds.PatientBirthDate) == ("", "", "19700101")
    assert "(0008,0020) Study Date '2020-01-01' is not a valid DICOM value" in caplog.text
    assert dciodvfy_errors(first) == []
