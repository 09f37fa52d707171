"""Extra dimensions on synthetic series whose truth the test built: which rule, which volume,
what is missing, and where every volume's voxels are."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from volumeviz.errors import SeriesGeometryError, UsageError
from volumeviz.io.discover import scan
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_multivolume, load_series
from volumeviz.model.phantom import rotation

UID = "1.2.826.0.1.3680043.8.498.4242"


def _volume(src, t):
    """Volume t of the series: the source plus t (every volume differs, the marker stays)."""
    return src.replace(array=src.array + np.int16(10 * t))


def write_4d(tmp_path, src, n, *, elements, drop=None, modality="MR", **kw):
    """Write n volumes of ``src`` as one series; ``elements(t)`` gives each volume's tags."""
    nk = src.size[2]
    paths = []
    for t in range(n):
        paths += write_synthetic_series(
            _volume(src, t),
            tmp_path,
            series_uid=UID,
            prefix=f"V{t:02d}_",
            modality=modality,
            first_instance=1 + nk * t,
            elements=elements(t),
            drop_slices=(drop or {}).get(t, ()),
            **kw,
        )
    return paths


def test_temporal_position_identifier_gives_time(tmp_path, make_marker, find_marker):
    d = rotation("x", 20) @ rotation("y", -15)
    src, mark = make_marker(size=(12, 10, 6), direction=d)
    write_4d(
        tmp_path,
        src,
        4,
        elements=lambda t: {"TemporalPositionIdentifier": t + 1, "RepetitionTime": 2500},
    )
    (info,) = scan(tmp_path).series
    assert info.dims.summary() == "4 time (TR 2.5 s)"
    assert info.dims.rule == "time: (0020,0100) Temporal Position Identifier"
    mv = load_multivolume(tmp_path)
    assert mv.frame_rate == pytest.approx(0.4)
    truth = src.index_to_lps(mark)
    for (t,), vol in mv:
        np.testing.assert_array_equal(vol.array, _volume(src, t).array)
        np.testing.assert_allclose(find_marker(vol), truth, atol=1e-3)  # every volume in place
        np.testing.assert_allclose(vol.direction, d, atol=1e-5)
        assert vol.meta.dims[0].label == f"time {t + 1}/4 ({2.5 * t:g} s)"


def test_time_point_missing_a_slice_is_reported_and_the_rest_load(tmp_path, make_marker):
    src, _ = make_marker(size=(8, 8, 5), spacing=(1.0, 1.0, 3.0))
    write_4d(
        tmp_path,
        src,
        4,
        elements=lambda t: {"TemporalPositionIdentifier": t + 1},
        drop={2: (3,)},  # time point 3 lacks its slice k=3
    )
    (info,) = scan(tmp_path).series
    assert info.dims.shape == (3,)  # the incomplete time point is not a volume
    issue = next(i for i in info.plan.issues if i.code == "incomplete-volume")
    z = src.index_to_lps([0, 0, 3]) @ src.slice_normal
    assert f"time 3/4: 1 of 5 slice(s) missing (at {z:.2f} mm along the slice normal)" in (
        issue.message
    )
    assert issue.action == "dropped"
    mv = load_multivolume(tmp_path)
    volumes = [v for _, v in mv]
    assert [int(v.array.max() - src.array.max()) for v in volumes] == [0, 10, 30]
    assert all(any(i.code == "incomplete-volume" for i in v.issues) for v in volumes)
    with pytest.raises(SeriesGeometryError, match="strict"):
        load_series(tmp_path, strict=True)


def test_echo_present_at_some_positions_only(tmp_path, make_marker):
    src, _ = make_marker(size=(8, 8, 6))
    write_4d(
        tmp_path,
        src,
        2,
        elements=lambda t: {"EchoNumbers": t + 1, "EchoTime": 5.0 * (t + 1)},
        drop={1: (0, 1, 2)},  # echo 2 only at the upper three positions
    )
    (info,) = scan(tmp_path).series
    # one echo left: a plain 3D series, saying what was left out
    assert info.dims is None
    assert info.plan.size == src.size
    issue = next(i for i in info.plan.issues if i.code == "incomplete-volume")
    assert issue.message.startswith("echo 2/2 (TE 10 ms): 3 of 6 slice(s) missing")
    vol = load_series(tmp_path)
    np.testing.assert_array_equal(vol.array, src.array)
    assert vol.meta.dims == ()


def test_hole_in_time_by_echo(tmp_path, make_marker):
    src, _ = make_marker(size=(8, 8, 4))
    nk = 4

    def elements(n):
        t, e = divmod(n, 2)
        return {"TemporalPositionIdentifier": t + 1, "EchoNumbers": e + 1, "EchoTime": 4 + 4 * e}

    write_4d(tmp_path, src, 6, elements=elements, drop={3: tuple(range(nk - 1))})
    mv = load_multivolume(tmp_path)
    assert mv.names == ("time", "echo")
    assert mv.shape == (3, 2)
    assert list(mv.missing) == [(1, 1)]
    assert "3 of 4 slice(s) missing" in mv.missing[(1, 1)]
    assert len(mv) == 5
    assert (1, 1) not in mv.indices()
    with pytest.raises(SeriesGeometryError, match=r"time 2/3 · echo 2/2 \(TE 8 ms\) cannot"):
        mv.volume({"time": 1, "echo": 1})
    n = 4  # volume 4 (time 3, echo 1) in write order
    np.testing.assert_array_equal(mv.volume((2, 0)).array, _volume(src, n).array)


def test_dimension_order_follows_storage_order(tmp_path, make_marker):
    """Instance numbers run echo-fastest here, so time is the outer dimension."""
    src, _ = make_marker(size=(6, 6, 3))

    def elements(n):
        t, e = divmod(n, 2)
        return {"TemporalPositionIdentifier": t + 1, "EchoNumbers": e + 1}

    write_4d(tmp_path, src, 4, elements=elements)
    assert load_multivolume(tmp_path).names == ("time", "echo")


def test_dimension_order_echo_outer(tmp_path, make_marker):
    src, _ = make_marker(size=(6, 6, 3))

    def elements(n):
        e, t = divmod(n, 2)
        return {"TemporalPositionIdentifier": t + 1, "EchoNumbers": e + 1}

    write_4d(tmp_path, src, 4, elements=elements)
    mv = load_multivolume(tmp_path)
    assert mv.names == ("echo", "time")
    # C order of the index = write (instance) order
    for n, (_, vol) in enumerate(mv):
        np.testing.assert_array_equal(vol.array, _volume(src, n).array)


@pytest.mark.parametrize(
    ("manufacturer", "name"), [("GE MEDICAL SYSTEMS", "time"), ("ACME", "phase")]
)
def test_trigger_time_ranked_within_each_position(tmp_path, make_marker, manufacturer, name):
    """Trigger Time that varies from slice to slice (GE slice timing) is ranked within each
    position: the n-th time at a position is volume n. No TPI, no other separator."""
    src, _ = make_marker(size=(6, 6, 5))
    paths = write_4d(tmp_path, src, 3, elements=lambda t: {"Manufacturer": manufacturer})
    for n, p in enumerate(paths):  # 5 slices per volume, interleaved slice timing
        t, k = divmod(n, 5)
        ds = pydicom.dcmread(p)
        ds.TriggerTime = str(1000 * t + 200 * ((2 * k) % 5))
        ds.InstanceNumber = 1  # instance order must not be what tells them apart
        ds.save_as(p)
    (info,) = scan(tmp_path).series
    (dim,) = info.dims.dims
    assert (dim.name, dim.size) == (name, 3)
    assert "ranked within each position" in dim.source
    mv = load_multivolume(tmp_path)
    for (t,), vol in mv:
        np.testing.assert_array_equal(vol.array, _volume(src, t).array)


def test_instance_order_with_number_of_temporal_positions(tmp_path, make_marker):
    """Classic GE fMRI: nothing but Instance Number order tells the volumes apart."""
    src, _ = make_marker(size=(6, 6, 4))
    write_4d(
        tmp_path,
        src,
        3,
        elements=lambda t: {"NumberOfTemporalPositions": 3, "RepetitionTime": 3000},
        shuffle_names=True,
    )
    mv = load_multivolume(tmp_path)
    assert mv.rule == (
        "time: (0020,0013) Instance Number order with (0020,0105) Number of Temporal Positions 3"
    )
    assert mv.dimension("time").values == (0.0, 3.0, 6.0)
    for (t,), vol in mv:
        np.testing.assert_array_equal(vol.array, _volume(src, t).array)


def test_instance_order_missing_slice(tmp_path, make_marker):
    src, _ = make_marker(size=(6, 6, 4))
    write_4d(
        tmp_path,
        src,
        4,
        elements=lambda t: {"NumberOfTemporalPositions": 4},
        drop={1: (2,)},
    )
    mv = load_multivolume(tmp_path)
    assert mv.shape == (3,)
    assert any("time 2/4: 1 of 4 slice(s) missing" in i.message for i in mv.issues)
    assert [int(v.array.max() - src.array.max()) for _, v in mv] == [0, 20, 30]


def test_repeats_with_nothing_to_tell_them_apart_are_still_refused(tmp_path, make_marker):
    src, _ = make_marker(size=(6, 6, 4))
    write_4d(tmp_path, src, 2, elements=lambda t: {"InstanceNumber": 1})
    (info,) = scan(tmp_path).series
    assert info.dims is None
    assert "each of 4 slice positions holds 2 images" in info.refusal


def test_volumes_on_other_positions_are_a_separate_series(tmp_path, make_marker):
    """A moved slab: time points 3-4 at other positions are not stacked with 1-2."""
    src, _ = make_marker(size=(6, 6, 4))
    moved = src.replace(origin=tuple(np.add(src.origin, (0.0, 0.0, 50.0))))
    for t in range(4):
        write_synthetic_series(
            _volume(src if t < 2 else moved, t),
            tmp_path,
            series_uid=UID,
            prefix=f"V{t}_",
            modality="MR",
            first_instance=1 + 4 * t,
            elements={"TemporalPositionIdentifier": t + 1},
        )
    result = scan(tmp_path)
    assert len(result.series) == 2
    for info in result.series:
        assert info.dims.shape == (2,)
    reasons = sorted(s.split_reason for s in result.series)
    assert reasons[0].startswith("geometry differs (other slice positions or orientation)")
    assert reasons[1] == "one of 2 parts (8 slice(s), 8 slice(s))"


def test_volume_reads_are_lazy(tmp_path, make_marker, monkeypatch):
    src, _ = make_marker(size=(6, 6, 3))
    write_4d(tmp_path, src, 5, elements=lambda t: {"TemporalPositionIdentifier": t + 1})
    import volumeviz.io.volume as iov

    reads = []
    real = iov._read_pixels

    def counting(slices, dtype):
        reads.append(len(slices))
        return real(slices, dtype)

    monkeypatch.setattr(iov, "_read_pixels", counting)
    mv = load_multivolume(tmp_path)
    assert reads == []  # opening reads headers only
    mv.volume({"time": 3})
    mv.volume({"time": 3})  # cached
    assert reads == [3]
    mv.volume({"time": 1})
    assert reads == [3, 3]
    assert len(mv._cached) == 1  # only the last volume is kept


def test_iterating_keeps_memory_near_one_volume(tmp_path):
    """Peak Python allocation while iterating 30 volumes stays near one volume, not 30."""
    import tracemalloc

    from volumeviz.model.volume import Volume

    rng = np.random.default_rng(1)
    n, shape = 30, (8, 64, 64)
    base = Volume(rng.integers(0, 1000, shape).astype(np.int16), spacing=(1, 1, 2))
    write_4d(
        tmp_path,
        base,
        n,
        elements=lambda t: {"TemporalPositionIdentifier": t + 1},
        modality="MR",
        window=None,
    )
    one = base.array.nbytes
    mv = load_multivolume(tmp_path)
    tracemalloc.start()
    try:
        total = 0.0
        for _, vol in mv:
            total += float(vol.array.mean())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 0
    assert peak < 6 * one, f"peak {peak / one:.1f} volumes while iterating {n}"  # not ~n volumes


def test_index_must_name_a_dimension(tmp_path, make_marker):
    src, _ = make_marker(size=(6, 6, 3))
    write_4d(tmp_path, src, 2, elements=lambda t: {"TemporalPositionIdentifier": t + 1})
    with pytest.raises(UsageError, match="no dimension 'tme'; did you mean 'time'"):
        load_series(tmp_path, index={"tme": 1})
    three_d = tmp_path / "plain"
    write_synthetic_series(src, three_d)
    with pytest.raises(UsageError, match="has no extra dimensions"):
        load_series(three_d, index={"time": 1})
    with pytest.raises(UsageError, match="one 3D volume"):
        load_multivolume(three_d)


def test_one_slice_over_time_is_one_series_of_single_slice_volumes(tmp_path):
    """A single slice acquired 19 times (a dynamic 2D series): 19 time points, not 19 series."""
    from volumeviz.model.volume import Volume

    src = Volume(np.arange(80, dtype=np.int16).reshape(1, 8, 10), spacing=(1.0, 1.0, 5.0))
    write_4d(
        tmp_path,
        src,
        19,
        elements=lambda t: {"TemporalPositionIdentifier": t + 1, "RepetitionTime": 250},
    )
    result = scan(tmp_path)
    (info,) = result.series
    assert info.dims.summary() == "19 time (TR 0.25 s)"
    mv = load_multivolume(tmp_path)
    assert mv.size == (10, 8, 1)
    assert [int(v.array.max() - src.array.max()) for _, v in mv] == [10 * t for t in range(19)]


def test_diffusion_b_value_gives_a_b_value_dimension(tmp_path, make_marker, find_marker):
    """DWI: (0018,9087) Diffusion b-value tells the volumes apart (b 0, 500, 1000 s/mm²), in
    storage order, each volume in place."""
    src, mark = make_marker(size=(8, 6, 4), direction=rotation("z", 30))
    bvals = (0, 500, 1000)
    write_4d(tmp_path, src, 3, elements=lambda t: {"DiffusionBValue": bvals[t]})
    (info,) = scan(tmp_path).series
    assert info.dims.rule == "b-value: (0018,9087) Diffusion b-value"
    mv = load_multivolume(tmp_path)
    (dim,) = mv.dims
    assert (dim.name, dim.values, dim.unit) == ("b-value", (0.0, 500.0, 1000.0), "s/mm²")
    assert mv.frame_rate is None  # b-values are no time
    for (b,), vol in mv:
        np.testing.assert_array_equal(vol.array, _volume(src, b).array)
        np.testing.assert_allclose(find_marker(vol), src.index_to_lps(mark), atol=1e-3)
    assert load_series(tmp_path, index={"b-value": 2}).meta.dims[0].value == 1000.0


def test_magnitude_and_phase_by_image_type(tmp_path, make_marker):
    """(0008,0008) Image Type ORIGINAL\\PRIMARY\\M vs ...\\P: a ``part`` dimension (magnitude,
    phase), as dcm2niix writes the phase image apart (``_ph``)."""
    src, _ = make_marker(size=(6, 6, 3))
    kinds = (["ORIGINAL", "PRIMARY", "M", "ND"], ["ORIGINAL", "PRIMARY", "P", "ND"])
    write_4d(tmp_path, src, 2, elements=lambda t: {"ImageType": kinds[t]})
    (info,) = scan(tmp_path).series
    (dim,) = info.dims.dims
    assert (dim.name, dim.values) == ("part", ("magnitude", "phase"))
    assert "(0008,0008) Image Type" in info.dims.rule
    mv = load_multivolume(tmp_path)
    for (p,), vol in mv:
        np.testing.assert_array_equal(vol.array, _volume(src, p).array)
