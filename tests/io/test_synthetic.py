"""Synthetic series whose truth the test built: the marker voxel must land at its LPS position."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from volumeviz.errors import NoSeriesError, SeriesGeometryError, UsageError
from volumeviz.io.synth import slice_positions, write_synthetic_series
from volumeviz.io.volume import load_series
from volumeviz.model.phantom import rotation


def _truth(vol, mark, **geo):
    """True LPS of voxel `mark` as written by the synthetic writer with these options."""
    i, j, k = mark
    pos = slice_positions(vol, **geo)[k]
    d, sp = vol.direction, vol.spacing
    return pos + i * sp[0] * d[:, 0] + j * sp[1] * d[:, 1]


def _half_voxel(vol) -> float:
    return 0.5 * float(np.linalg.norm(vol.spacing))


def test_plain_series_roundtrip(tmp_path, make_marker, find_marker):
    src, _mark = make_marker()
    write_synthetic_series(src, tmp_path)
    vol = load_series(tmp_path)
    assert vol.size == src.size
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, src.array)
    np.testing.assert_allclose(vol.origin, src.origin, atol=1e-4)
    np.testing.assert_allclose(vol.spacing, src.spacing, atol=1e-6)
    np.testing.assert_allclose(vol.direction, src.direction, atol=1e-6)
    assert vol.issues == ()
    assert vol.units == "HU"
    assert vol.modality == "CT"
    assert vol.meta.windows
    assert vol.meta.windows[0].width == 400


def test_oblique_25deg(tmp_path, make_marker, find_marker):
    d = rotation("x", 25) @ rotation("z", 10)
    src, mark = make_marker(direction=d)
    write_synthetic_series(src, tmp_path)
    vol = load_series(tmp_path)
    np.testing.assert_allclose(find_marker(vol), _truth(src, mark), atol=1e-3)
    np.testing.assert_allclose(vol.direction, d, atol=1e-5)
    assert vol.issues == ()


def test_shuffled_names_reversed_instance_numbers_misleading_location(
    tmp_path, make_marker, find_marker
):
    src, mark = make_marker()
    write_synthetic_series(
        src,
        tmp_path,
        shuffle_names=True,
        instance_numbers="reversed",
        misleading_slice_location=True,
        seed=3,
    )
    vol = load_series(tmp_path)
    np.testing.assert_array_equal(vol.array, src.array)
    np.testing.assert_allclose(find_marker(vol), _truth(src, mark), atol=1e-3)


def test_random_instance_numbers_left_handed_stack(tmp_path, make_marker, find_marker):
    # k runs against row x col: the loader must flip the stack order, not the world
    d = np.column_stack([[1, 0, 0], [0, 1, 0], [0, 0, -1]]).astype(float)
    src, mark = make_marker(direction=d)
    write_synthetic_series(src, tmp_path, instance_numbers="random", seed=5)
    vol = load_series(tmp_path)
    np.testing.assert_allclose(find_marker(vol), _truth(src, mark), atol=1e-3)


def test_gap_is_detected_and_filled(tmp_path, make_marker, find_marker):
    src, mark = make_marker()
    write_synthetic_series(src, tmp_path, drop_slices=(5,))
    vol = load_series(tmp_path)
    codes = {i.code: i for i in vol.issues}
    assert "missing-slices" in codes
    assert codes["missing-slices"].size == pytest.approx(4.0, abs=1e-3)  # 2 x 2 mm
    assert "1 slice(s) missing" in codes["missing-slices"].message
    assert "resampled" in codes
    assert vol.size == src.size  # the hole is filled on the regular grid
    np.testing.assert_allclose(vol.spacing[2], 2.0, atol=1e-6)
    np.testing.assert_allclose(find_marker(vol), _truth(src, mark), atol=_half_voxel(vol))
    # the filled slice is the mean of its neighbours
    expect = (src.array[4].astype(float) + src.array[6]) / 2
    np.testing.assert_allclose(vol.array[5], np.rint(expect), atol=1)
    with pytest.raises(SeriesGeometryError, match="missing"):
        load_series(tmp_path, strict=True)


def test_gantry_tilt_is_corrected(tmp_path, make_marker, find_marker):
    src, mark = make_marker(size=(24, 20, 16))
    write_synthetic_series(src, tmp_path, tilt_deg=20.0)
    vol = load_series(tmp_path)
    codes = {i.code: i for i in vol.issues}
    assert codes["gantry-tilt"].size == pytest.approx(20.0, abs=0.05)
    assert codes["gantry-tilt"].unit == "deg"
    assert codes["resampled"].action == "resampled"
    truth = _truth(src, mark, tilt_deg=20.0)
    assert np.linalg.norm(find_marker(vol) - truth) <= _half_voxel(vol)
    # the grid grew along j to hold the sheared stack: tan(20°) * 30 mm ≈ 11 mm more
    assert vol.size[1] > src.size[1] + 9
    with pytest.raises(SeriesGeometryError, match=r"gantry tilt 20\.0°"):
        load_series(tmp_path, strict=True)


def test_tilt_seen_only_from_iop_and_positions(tmp_path, make_marker):
    # GE style: tilted IOP, positions straight along z, no (0018,1120) value
    t = np.radians(15)
    d = np.column_stack([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    src, _ = make_marker(direction=d)
    write_synthetic_series(src, tmp_path, tilt_deg=15.0)
    import pydicom

    for p in tmp_path.iterdir():  # remove the tilt tag: only IOP + IPP show it
        ds = pydicom.dcmread(p)
        del ds.GantryDetectorTilt
        ds.save_as(p)
    vol = load_series(tmp_path)
    tilt = next(i for i in vol.issues if i.code == "gantry-tilt")
    assert tilt.size == pytest.approx(15.0, abs=0.05)
    assert "says none" in tilt.message


def test_uneven_spacing(tmp_path, make_marker, find_marker):
    src, mark = make_marker()
    offs = np.cumsum([0] + [2.0, 2.0, 3.0, 1.5, 2.5] + [2.0] * 10)
    write_synthetic_series(src, tmp_path, k_offsets_mm=offs)
    vol = load_series(tmp_path)
    uneven = next(i for i in vol.issues if i.code == "uneven-spacing")
    assert "1.50–3.00 mm" in uneven.message
    truth = _truth(src, mark, k_offsets_mm=offs)
    assert np.linalg.norm(find_marker(vol) - truth) <= _half_voxel(vol)


def test_two_series_and_localizer(tmp_path, make_marker, find_marker, caplog):
    small, _ = make_marker(size=(16, 16, 8))
    big, mark = make_marker(size=(24, 20, 16))
    study = "1.2.826.0.1.3680043.8.498.1"
    write_synthetic_series(small, tmp_path, series_number=2, prefix="A", study_uid=study)
    write_synthetic_series(
        big, tmp_path, series_number=3, prefix="B", study_uid=study, localizer=True
    )
    with caplog.at_level(logging.WARNING, logger="volumeviz"):
        vol = load_series(tmp_path)
    assert vol.meta.series_number == 3
    assert vol.size == big.size
    assert "largest reconstructable" in caplog.text
    np.testing.assert_allclose(find_marker(vol), _truth(big, mark), atol=1e-3)
    assert load_series(tmp_path, series=2).size == small.size
    assert load_series(tmp_path, series="2").size == small.size
    with pytest.raises(NoSeriesError, match="no series '7'"):
        load_series(tmp_path, series=7)
    from volumeviz.io.discover import scan

    result = scan(tmp_path)
    parts = [s for s in result.series if s.number == 3]
    assert len(parts) == 2
    loc = next(s for s in parts if all(x.is_localizer for x in s.slices))
    assert "localizer" in loc.split_reason


def test_two_echoes_are_one_series_with_an_echo_dimension(tmp_path, make_marker):
    src, _ = make_marker(size=(16, 16, 6))
    uid = "1.2.826.0.1.3680043.8.498.77"
    for echo, te in ((1, 7.5), (2, 15.0)):
        second = src.replace(array=src.array + np.int16(echo))  # tells the volumes apart
        write_synthetic_series(
            second,
            tmp_path,
            series_uid=uid,
            prefix=f"E{echo}",
            modality="MR",
            first_instance=1 + 6 * (echo - 1),
            elements={"EchoNumbers": echo, "EchoTime": te},
        )
    from volumeviz.io.discover import scan

    result = scan(tmp_path)
    assert len(result.series) == 1
    info = result.series[0]
    assert info.split_reason == ""
    assert info.dims is not None
    assert info.dims.summary() == "2 echo (TE 7.5, 15 ms)"
    first = load_series(tmp_path)
    assert first.meta.dims[0].label == "echo 1/2 (TE 7.5 ms)"
    vol = load_series(tmp_path, index={"echo": 1})
    assert vol.size == src.size
    np.testing.assert_array_equal(vol.array, src.array + 2)
    np.testing.assert_allclose(vol.origin, src.origin, atol=1e-4)
    with pytest.raises(UsageError, match="no dimension 'time'; this series has: echo"):
        load_series(tmp_path, index={"time": 0})
    with pytest.raises(UsageError, match=r"echo index 2 is outside 0\.\.1"):
        load_series(tmp_path, index={"echo": 2})


def test_duplicate_position_dropped(tmp_path, make_marker):
    import shutil

    import pydicom

    src, _ = make_marker(size=(16, 16, 6))
    files = write_synthetic_series(src, tmp_path)
    dup = tmp_path / "dup.dcm"
    shutil.copy(files[2], dup)
    ds = pydicom.dcmread(dup)
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(dup)
    vol = load_series(tmp_path)
    issue = next(i for i in vol.issues if i.code == "duplicate-position")
    assert issue.action == "dropped"
    assert vol.size == src.size
    with pytest.raises(SeriesGeometryError, match="repeat a position"):
        load_series(tmp_path, strict=True)


def test_non_parallel_slice_measured(tmp_path, make_marker):
    import pydicom

    src, _ = make_marker(size=(16, 16, 6))
    files = write_synthetic_series(src, tmp_path)
    ds = pydicom.dcmread(files[3])
    r = rotation("x", 2.0)
    row, col = r[:, 0], r[:, 1]
    ds.ImageOrientationPatient = [f"{v:.6f}" for v in (*row, *col)]
    ds.save_as(files[3])
    vol = load_series(tmp_path)
    issue = next(i for i in vol.issues if i.code == "non-parallel")
    assert issue.size == pytest.approx(2.0, abs=0.01)
    assert issue.unit == "deg"
    assert vol.size[2] == 6


def test_float_rescale_gives_float32(tmp_path, make_marker):
    src, _ = make_marker(size=(8, 8, 3))
    write_synthetic_series(src, tmp_path, rescale_slope=0.5, rescale_intercept=-1000)
    vol = load_series(tmp_path)
    assert vol.array.dtype == np.float32
    np.testing.assert_allclose(vol.array, src.array, atol=0.5)


def test_mr_without_rescale(tmp_path, make_marker):
    src, _ = make_marker(size=(8, 8, 3))
    src = src.replace(array=(src.array + 1000).astype(np.int16))
    write_synthetic_series(src, tmp_path, modality="MR")
    vol = load_series(tmp_path)
    assert vol.modality == "MR"
    assert vol.units == ""
    np.testing.assert_array_equal(vol.array, src.array)


def test_file_list_input(tmp_path, make_marker):
    src, _ = make_marker(size=(8, 8, 4))
    files = write_synthetic_series(src, tmp_path, shuffle_names=True)
    vol = load_series(list(reversed(files)))
    np.testing.assert_array_equal(vol.array, src.array)


def test_writer_refuses_bad_arguments(tmp_path, make_marker):
    src, _ = make_marker(size=(8, 8, 3))
    with pytest.raises(ValueError, match="k_offsets_mm needs 3"):
        write_synthetic_series(src, tmp_path, k_offsets_mm=[0, 1])
    with pytest.raises(ValueError, match="modality"):
        write_synthetic_series(src, tmp_path, modality="US")
    with pytest.raises(ValueError, match="no slice"):
        write_synthetic_series(src, tmp_path, drop_slices=(0, 1, 2))
    with pytest.raises(ValueError, match="instance_numbers"):
        write_synthetic_series(src, tmp_path, instance_numbers="sideways")


def test_rescale_per_file_applied_once(tmp_path):
    import pydicom

    from volumeviz.model.volume import Volume

    arr = (np.arange(3 * 4 * 4, dtype=np.int16).reshape(3, 4, 4) * 10) - 200
    files = write_synthetic_series(Volume(arr), tmp_path, modality="CT")
    ds = pydicom.dcmread(files[1])  # slice 1 stored with its own slope / intercept
    ds.RescaleSlope, ds.RescaleIntercept = "2", "-500"
    ds.PixelData = ((arr[1].astype(float) + 500) / 2).astype(np.uint16).tobytes()
    ds.save_as(files[1])
    vol = load_series(tmp_path)
    assert vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, arr)
