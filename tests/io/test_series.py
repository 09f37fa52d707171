"""Sorting, spacing, splitting and geometry checks on header-only slices (no files, no pixels)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from volumeviz.errors import SeriesGeometryError
from volumeviz.io.series import plan_stack, split_parts, split_series
from volumeviz.model.series import SliceRef
from volumeviz.ops.resample import resample_slices

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def sl(z, *, n=None, iop=AXIAL, rows=4, cols=4, x=0.0, y=0.0, key=(), itype=(), path=None):
    return SliceRef(
        path=path or f"f{z}",
        frame=None,
        rows=rows,
        cols=cols,
        ipp=(x, y, z),
        iop=iop,
        pixel_spacing=(0.5, 0.5),
        instance_number=n,
        split_key=key,
        image_type=itype,
    )


def test_sort_by_position_not_instance_number():
    zs = [4.0, -2.0, 0.0, 2.0, 6.0]
    slices = [sl(z, n=i, path=f"z{z}") for i, z in enumerate(zs)]  # numbers follow file order
    plan = plan_stack(slices)
    assert [slices[i].ipp[2] for i in plan.order] == sorted(zs)
    assert plan.origin == (0.0, 0.0, -2.0)
    assert plan.spacing == (0.5, 0.5, 2.0)
    assert plan.issues == ()
    assert not plan.resample


def test_spacing_from_positions_not_thickness():
    plan = plan_stack([sl(z) for z in (0.0, 3.0, 6.0)], slice_thickness=5.0)
    assert plan.spacing[2] == pytest.approx(3.0)


def test_rounded_positions_are_even():
    zs = [round(k * 0.625, 2) for k in range(20)]  # 0.62 / 0.63 steps
    plan = plan_stack([sl(z) for z in zs])
    assert plan.issues == ()
    assert plan.spacing[2] == pytest.approx(0.625, abs=1e-3)


def test_gap_counted_and_sized():
    zs = [0, 1, 2, 5, 6, 7, 8]  # two missing (3, 4)
    plan = plan_stack([sl(float(z)) for z in zs])
    issue = next(i for i in plan.issues if i.code == "missing-slices")
    assert issue.message.startswith("2 slice(s) missing")
    assert issue.size == pytest.approx(3.0)
    assert plan.resample
    assert plan.size[2] == 9


def test_uneven_spacing_range():
    plan = plan_stack([sl(z) for z in (0.0, 1.0, 2.5, 3.0, 4.0)])
    issue = next(i for i in plan.issues if i.code == "uneven-spacing")
    assert "0.50–1.50 mm" in issue.message
    assert plan.resample


def test_tilt_angle_from_shear():
    t = math.radians(18.5)
    slices = [sl(2.0 * k, y=-2.0 * k * math.tan(t)) for k in range(6)]
    plan = plan_stack(slices, gantry_tilt_tag=18.5)
    issue = next(i for i in plan.issues if i.code == "gantry-tilt")
    assert issue.size == pytest.approx(18.5, abs=1e-3)
    assert "(0018,1120) Gantry/Detector Tilt says 18.5°" in issue.message
    # the output grid holds every slice: j grew by the drift (10 * tan 18.5° mm / 0.5 mm)
    assert plan.size[1] == 4 + round(10 * math.tan(t) / 0.5)


def test_non_parallel_measured():
    c, s = math.cos(math.radians(3)), math.sin(math.radians(3))
    tilted = (1.0, 0.0, 0.0, 0.0, c, s)
    slices = [sl(0.0), sl(2.0, iop=tilted), sl(4.0)]
    plan = plan_stack(slices)
    issue = next(i for i in plan.issues if i.code == "non-parallel")
    assert issue.size == pytest.approx(3.0, abs=1e-3)


def test_duplicates_dropped_and_missing_geometry_refused():
    plan = plan_stack([sl(0.0, path="a"), sl(0.0, path="b"), sl(1.0)])
    issue = next(i for i in plan.issues if i.code == "duplicate-position")
    assert "dropped b" in issue.message
    assert len(plan.order) == 2
    bad = SliceRef("nopos", None, 4, 4, None, AXIAL, (0.5, 0.5))
    with pytest.raises(SeriesGeometryError, match=r"nopos: no \(0020,0032\)"):
        plan_stack([sl(0.0), bad])


def test_splits_say_why():
    sag = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    slices = [sl(float(z)) for z in range(5)]
    slices += [sl(float(z), iop=sag, path=f"s{z}") for z in range(3)]
    slices += [sl(0.0, rows=8, cols=8, path="big")]
    slices += [sl(9.0, itype=("ORIGINAL", "PRIMARY", "LOCALIZER"), path="loc")]
    parts = split_series(slices)
    reasons = sorted(r for _, r in parts)
    assert len(parts) == 4
    assert any(r.startswith("localizer") for r in reasons)
    assert any("orientation sagittal" in r for r in reasons)
    assert any("matrix 8x8" in r for r in reasons)
    assert len(parts[0][0]) == 5  # largest first


def test_repeated_positions_become_an_echo_dimension_not_parts():
    key1 = (("(0018,0086) Echo Numbers", "1"), ("(0018,0081) Echo Time", "7.5"))
    key2 = (("(0018,0086) Echo Numbers", "2"), ("(0018,0081) Echo Time", "15"))
    slices = [sl(float(z), key=key1, path=f"a{z}") for z in range(4)]
    slices += [sl(float(z), key=key2, path=f"b{z}") for z in range(4)]
    parts = split_parts(slices)
    assert len(parts) == 1  # one series: echo is a dimension of it
    part, why, layout = parts[0]
    assert why == ""
    assert layout is not None
    (echo,) = layout.dims
    assert (echo.name, echo.values, echo.unit) == ("echo", (7.5, 15.0), "ms")
    assert "(0018,0086) Echo Numbers" in layout.rule
    assert {part[i].path for i in layout.cells[(1,)]} == {f"b{z}" for z in range(4)}
    assert [len(p) for p, _ in split_series(slices)] == [8]


def test_resample_reproduces_slices_on_grid():
    rng = np.random.default_rng(0)
    stack = rng.integers(-1000, 1000, size=(3, 5, 6)).astype(np.int16)
    pos = np.array([[0, 0, 0], [0, 0, 2], [0, 0, 6]], float)  # a gap between 2 and 6
    rows = np.tile([1.0, 0, 0], (3, 1))
    cols = np.tile([0, 1.0, 0], (3, 1))
    out = resample_slices(
        stack,
        pos,
        rows,
        cols,
        (1.0, 1.0),
        origin=(0, 0, 0),
        spacing=(1, 1, 2),
        direction=np.eye(3),
        size=(6, 5, 4),
        fill=-2000,
    )
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out[0], stack[0])
    np.testing.assert_array_equal(out[1], stack[1])
    np.testing.assert_array_equal(out[3], stack[2])
    np.testing.assert_allclose(out[2], np.rint((stack[1].astype(float) + stack[2]) / 2), atol=1)


def test_resample_shifted_slice_lands_in_world():
    stack = np.zeros((2, 4, 4), np.float32)
    stack[:, 1, 1] = 100  # voxel (i=1, j=1) of each slice
    pos = np.array([[0, 0, 0], [0, 2.0, 1.0]])  # second slice shifted 2 mm along j
    rows = np.tile([1.0, 0, 0], (2, 1))
    cols = np.tile([0, 1.0, 0], (2, 1))
    out = resample_slices(
        stack,
        pos,
        rows,
        cols,
        (1.0, 1.0),
        origin=(0, 0, 0),
        spacing=(1, 1, 1),
        direction=np.eye(3),
        size=(4, 6, 2),
        fill=0,
    )
    assert out[0, 1, 1] == 100
    assert out[1, 3, 1] == 100  # world y = 2 + 1
    assert out[1, 1, 1] == 0


def test_uniform_repeats_without_a_key_are_refused():
    slices = [sl(float(z), path=f"a{z}") for z in range(4)]
    slices += [sl(float(z), path=f"b{z}") for z in range(4)]
    with pytest.raises(SeriesGeometryError, match="each of 4 slice positions holds 2 images"):
        plan_stack(slices)


def test_slice_without_orientation_stays_in_its_stack_unless_another_matrix():
    no_iop = SliceRef("x", None, 4, 4, (0.0, 0.0, 9.0), None, (0.5, 0.5))
    screen = SliceRef("dose", None, 32, 32, None, None, None)
    parts = split_series([sl(float(z)) for z in range(5)] + [no_iop, screen])
    assert sorted(len(p) for p, _ in parts) == [1, 6]
    main = next(p for p, _ in parts if len(p) == 6)
    with pytest.raises(SeriesGeometryError, match=r"x: no \(0020,0037\)"):
        plan_stack(main)


def test_same_scan_as_multi_frame_and_single_frame_files_is_two_series():
    """One Series Instance UID holding a scan twice (an enhanced file and classic files of the
    same positions, Philips exports both): two parts, each one volume of 4 slices, never one
    series whose copies pose as a dimension (dcm2niix converts them apart too)."""
    from dataclasses import replace

    tpi = "(0020,9128) Temporal Position Index"
    multi = [replace(sl(float(z), path="enh"), frame=z, n_frames=4) for z in range(4)]
    single = [sl(float(z), path=f"c{z}") for z in range(4)]
    parts = split_parts(multi + single)
    assert len(parts) == 2
    by_form = {p[0].frame is None: (p, why, lay) for p, why, lay in parts}
    part, why, layout = by_form[False]
    assert {s.path for s in part} == {"enh"}
    assert why == "4 frames of 1 multi-frame file(s), stored also as single-frame"
    assert layout is None  # 4 positions, none repeated: a plain volume
    part, why, layout = by_form[True]
    assert {s.path for s in part} == {f"c{z}" for z in range(4)}
    assert why == "4 single-frame files, stored also as multi-frame"
    assert layout is None
    # each copy keeps its own extra dimension: 2 time points stored both ways
    multi = [
        replace(sl(float(z % 4), path="enh", key=((tpi, str(z // 4 + 1)),)), frame=z, n_frames=8)
        for z in range(8)
    ]
    single = [sl(float(z % 4), path=f"c{z}", key=((tpi, str(z // 4 + 1)),)) for z in range(8)]
    parts = split_parts(multi + single)
    assert len(parts) == 2
    for part, _, layout in parts:
        assert len(part) == 8
        assert layout is not None
        assert [(d.name, d.size) for d in layout.dims] == [("time", 2)]
        assert layout.missing == {}
    # multi-frame and single-frame images at different positions are one volume (no repeat)
    mixed = [replace(sl(float(z), path="enh"), frame=z, n_frames=2) for z in range(2)]
    mixed += [sl(float(z), path=f"c{z}") for z in range(2, 4)]
    ((part, why, layout),) = split_parts(mixed)
    assert (len(part), why, layout) == (4, "", None)
