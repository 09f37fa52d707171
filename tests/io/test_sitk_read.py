"""SimpleITK pixel reading: int16 without an int32 copy of the volume, exact values either way."""

from __future__ import annotations

import numpy as np
import pytest

from volumeviz.io import _native, _sitk
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_series
from volumeviz.model.volume import Volume, VolumeMeta


def _ct(values: np.ndarray) -> Volume:
    return Volume(values, spacing=(0.5, 0.5, 1.0), meta=VolumeMeta(modality="CT", units="HU"))


@pytest.fixture(params=["native", "sitk"])
def small_chunks(request, monkeypatch):
    """Chunks of 3 slices (16x12 int32 slices), so a short series spans several reads.

    Run once with the native reader (taken first for plain native files) and once with it
    off, so that SimpleITK's chunked reading is what ``load_series`` uses.
    """
    monkeypatch.setattr(_sitk, "CHUNK_BYTES", 3 * 4 * 16 * 12)
    if request.param == "sitk":
        monkeypatch.setattr(_native, "read_native", lambda slices, dtype: None)


def test_uint16_with_intercept_reads_as_int16(tmp_path, small_chunks):
    """16-bit unsigned + intercept -1024 could overflow int16 on paper; real HU fit: int16."""
    arr = np.full((10, 16, 12), -1000, np.int16)
    arr[:, 4:12, 3:9] = 1200
    arr[7, 8, 5] = 3071
    write_synthetic_series(_ct(arr), tmp_path)  # stored uint16 (>= 0), intercept -1024
    vol = load_series(tmp_path)
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, arr)
    assert not vol.array.flags.writeable


def test_values_beyond_int16_widen_to_int32(tmp_path, small_chunks):
    """A value past 32767 in a late chunk: the result widens and every voxel stays exact."""
    arr = np.zeros((10, 16, 12), np.int32)
    arr[:, 2:14, 2:10] = 500
    arr[8, 5, 5] = 60000  # slice 8: the third chunk
    vol_in = Volume(arr, spacing=(1.0, 1.0, 1.0), meta=VolumeMeta(modality="MR"))
    write_synthetic_series(vol_in, tmp_path, rescale_intercept=0.0, window=None)
    vol = load_series(tmp_path)
    assert vol.array.dtype == np.int32
    np.testing.assert_array_equal(vol.array, arr)


def test_read_files_chunks_match_one_read(tmp_path, small_chunks):
    """Chunked reading (int16 or int32, on threads) gives what one ImageSeriesReader gives."""
    arr = np.arange(7 * 16 * 12, dtype=np.int32).reshape(7, 16, 12) % 3000 - 1024
    paths = [str(p) for p in write_synthetic_series(_ct(arr.astype(np.int16)), tmp_path)]
    whole = np.array(_sitk.read_files(paths, "int16"))  # one reader, no plane given
    for dtype in ("int32", "int16"):
        chunked = _sitk.read_files(paths, dtype, plane=(16, 12))
        assert chunked.dtype == np.int16
        assert not chunked.flags.writeable
        np.testing.assert_array_equal(chunked, whole)
        np.testing.assert_array_equal(chunked, arr)
    np.testing.assert_array_equal(_sitk.read_files(paths, "int32"), arr)  # plane learnt


def test_read_files_wrong_plane_is_an_error(tmp_path):
    """Headers saying another slice size than the pixels: RuntimeError (pydicom then decides)."""
    arr = np.zeros((3, 16, 12), np.int16)
    paths = [str(p) for p in write_synthetic_series(_ct(arr), tmp_path)]
    with pytest.raises(RuntimeError, match="shape"):
        _sitk.read_files(paths, "int16", plane=(12, 16))


@pytest.mark.parametrize("peak", [3071, 60000])
def test_pydicom_fallback_int16_unless_needed(tmp_path, monkeypatch, peak):
    """The pydicom decoder (when SimpleITK cannot read) also fills int16 unless it must widen."""
    asked: list[str] = []

    def refuse(paths, dtype, plane=None):
        asked.append(dtype)
        raise RuntimeError("simulated: SimpleITK cannot read this")

    monkeypatch.setattr(_sitk, "read_files", refuse)
    monkeypatch.setattr(_native, "read_native", lambda slices, dtype: None)
    arr = np.zeros((6, 16, 12), np.int32)
    arr[:, 2:14, 2:10] = 700
    arr[4, 5, 5] = peak
    vol_in = Volume(arr, spacing=(1.0, 1.0, 1.0), meta=VolumeMeta(modality="MR"))
    write_synthetic_series(vol_in, tmp_path, rescale_intercept=0.0, window=None)
    vol = load_series(tmp_path)
    assert asked == ["int32"]  # the stored range could overflow int16; pydicom decoded it
    assert vol.array.dtype == (np.int16 if peak <= 32767 else np.int32)
    np.testing.assert_array_equal(vol.array, arr)
