"""The resampling grid is bounded: one slice placed far away is named, sparse slices still load."""

from __future__ import annotations

import pydicom
import pytest

from volumeviz.errors import SeriesGeometryError
from volumeviz.io import series as series_mod
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_series


def _move(path, axis: int, value: float) -> None:
    ds = pydicom.dcmread(path)
    ipp = [float(v) for v in ds.ImagePositionPatient]
    ipp[axis] = value
    ds.ImagePositionPatient = ipp
    ds.save_as(path)


@pytest.mark.parametrize(("axis", "value"), [(0, -100000.0), (2, 5000.0)])
def test_one_slice_far_away_is_named(tmp_path, make_marker, axis, value):
    vol, _ = make_marker(size=(128, 128, 6))
    files = write_synthetic_series(vol, tmp_path)
    _move(files[3], axis, value)
    with pytest.raises(SeriesGeometryError) as exc:
        load_series(tmp_path)
    message = str(exc.value)
    assert message.startswith(f"{files[3]}: (0020,0032) Image Position (Patient) '")
    assert "is implausible" in message
    assert "refusing to resample beyond 16x" in message


def test_sparse_slices_far_apart_still_load(tmp_path, make_marker):
    """Four 16x16 slices, one 200 mm from the others: a small grid, resampled as before."""
    vol, _ = make_marker(size=(16, 16, 4))
    files = write_synthetic_series(vol, tmp_path)
    _move(files[0], 2, -200.0)
    loaded = load_series(tmp_path)
    assert "resampled" in {i.code for i in loaded.issues}
    assert loaded.size[2] > 16 * 4 / 4  # far more slices than the source: below the free size


def test_growth_bound_applies_above_the_free_size(tmp_path, make_marker, monkeypatch):
    vol, _ = make_marker(size=(16, 16, 4))
    files = write_synthetic_series(vol, tmp_path)
    _move(files[0], 2, -200.0)
    monkeypatch.setattr(series_mod, "GRID_FREE_VOXELS", 1000)
    with pytest.raises(SeriesGeometryError, match=str(files[0].name)):
        load_series(tmp_path)
