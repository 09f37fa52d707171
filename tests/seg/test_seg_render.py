"""Overlays: each segment's colour where the segment is and nowhere else; left is left."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_path
from volumeviz.io.seg import load_segmentation
from volumeviz.io.volume import load_series
from volumeviz.model import phantom
from volumeviz.model.segmentation import Grid, Segmentation
from volumeviz.ops.mpr import Slice2D, reslice
from volumeviz.render.overlay import OverlayStyle, overlay_rgba
from volumeviz.render.planes import slice_extent_mm
from volumeviz.render.screenshot import ViewState, render_image

pytestmark = pytest.mark.render

DCMQI = "seg/ct3slice_liver_seg_dcmqi"
W, H = 640, 480


def _screen_to_plane(s: Slice2D, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the slice pixel under each screen pixel (set_camera_2d's parallel view)."""
    width_mm, height_mm = slice_extent_mm(s)
    scale = 1.04 * max(height_mm / 2, (width_mm / 2) / (w / h))  # half the view height, mm
    mm_per_px = 2 * scale / h
    ys, xs = np.mgrid[0:h, 0:w]
    wx = width_mm / 2 + (xs + 0.5 - w / 2) * mm_per_px
    wy = height_mm / 2 - (ys + 0.5 - h / 2) * mm_per_px
    rows, _ = s.shape
    return (rows - 1) - wy / s.spacing[0], wx / s.spacing[1]


def _check_slice(ct, seg, k: int, counts: dict[int, int]) -> None:
    style = OverlayStyle(opacity=1.0, outline=False, legend=False)  # opaque fill, last wins
    state = ViewState(
        mpr="axial", slice=k, size=(W, H), window="abdomen", annotations=False, overlay=style
    )
    img, info = render_image(ct, state, segmentations=[seg])
    plain, _ = render_image(
        ct, ViewState(mpr="axial", slice=k, size=(W, H), window="abdomen", annotations=False)
    )
    s = info.planes["axial"]
    # the truth, independent of the renderer: segment number on each slice pixel, last wins
    truth = np.zeros(s.shape, int)
    rows_cols = np.mgrid[0 : s.shape[0], 0 : s.shape[1]]
    idx = np.rint(seg.grid.lps_to_index(s.pixel_to_lps(*rows_cols))).astype(int)
    ok = np.all((idx >= 0) & (idx < np.array(seg.grid.shape[::-1])), axis=-1)
    for n, sg in enumerate(seg.segments, start=1):
        full = sg.full_mask(seg.grid.shape)
        hit = np.zeros(s.shape, bool)
        hit[ok] = full[idx[ok][:, 2], idx[ok][:, 1], idx[ok][:, 0]]
        truth[hit] = n
    r, c = _screen_to_plane(s, W, H)
    ri, ci = np.rint(r).astype(int), np.rint(c).astype(int)
    on = (ri >= 0) & (ri < s.shape[0]) & (ci >= 0) & (ci < s.shape[1])
    # only screen pixels well inside one label (all 3x3 slice neighbours agree): no edge blur
    pad = np.pad(truth, 1, constant_values=-1)
    same = np.ones(truth.shape, bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            same &= (
                pad[1 + dr : 1 + dr + truth.shape[0], 1 + dc : 1 + dc + truth.shape[1]] == truth
            )
    label = np.full((H, W), -1)
    interior = np.zeros((H, W), bool)
    label[on] = truth[ri[on], ci[on]]
    interior[on] = same[ri[on], ci[on]]
    colours = {n: np.array(sg.color) * 255 for n, sg in enumerate(seg.segments, start=1)}
    for n, rgb in colours.items():
        where = interior & (label == n)
        counts[n] = max(counts.get(n, 0), int(where.sum()))
        if where.sum():
            err = np.abs(img[where].astype(float) - rgb).max(axis=1)
            assert (err <= 3).mean() > 0.99, f"k={k} segment {n}: colour missing where it is"
        # nowhere else: no segment colour outside its own region
        elsewhere = interior & (label != n) & (label >= 0)
        close = np.abs(img[elsewhere].astype(float) - rgb).max(axis=1) <= 3
        assert close.mean() < 0.002, f"k={k} segment {n}'s colour appears outside it"
    # pixels of no segment keep the plain picture exactly
    none = interior & (label == 0)
    assert none.sum() > 1000
    assert np.array_equal(img[none], plain[none])


@pytest.mark.slow
def test_five_segment_seg_colours_where_each_segment_is(shared_data: Path) -> None:
    ct = load_series(shared_path(shared_data, f"{DCMQI}/ct"))
    seg = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/partial_overlaps.dcm"), ct)
    assert len(seg) == 5
    counts: dict[int, int] = {}
    for k in range(ct.size[2]):
        _check_slice(ct, seg, k, counts)
    assert all(counts[n] > 200 for n in range(1, 6)), counts


def _left_segment() -> tuple:
    vol = phantom.asymmetric(32)
    lab = (vol.array > 500).astype(np.uint8)  # the marker block: patient's left, anterior, sup.
    return vol, Segmentation.from_labelmap(lab, Grid.of(vol), colors={1: (0.0, 1.0, 0.0)})


def _green_x(img: np.ndarray) -> float:
    g = (img[..., 1] > 150) & (img[..., 0] < 100) & (img[..., 2] < 100)
    assert g.sum() > 20
    return float(np.nonzero(g)[1].mean())


@pytest.mark.parametrize(
    ("neurological", "side"), [(False, "right"), (True, "left")], ids=["radiological", "neuro"]
)
def test_overlay_left_is_left_on_mpr(neurological: bool, side: str) -> None:
    vol, seg = _left_segment()
    for plane in ("axial", "coronal"):
        state = ViewState(
            mpr=plane,
            slice=tuple(vol.meta.extra["marker_lps"]),
            size=(W, H),
            annotations=False,
            neurological=neurological,
            overlay=OverlayStyle(opacity=1.0, legend=False),
        )
        img, _ = render_image(vol, state, segmentations=[seg])
        x = _green_x(img)
        assert (x > W / 2) == (side == "right"), f"{plane}: the patient's left segment at x={x}"
    # sagittal: anterior on the image's left
    img, _ = render_image(
        vol,
        ViewState(
            mpr="sagittal",
            slice=tuple(vol.meta.extra["marker_lps"]),
            size=(W, H),
            annotations=False,
            overlay=OverlayStyle(opacity=1.0, legend=False),
        ),
        segmentations=[seg],
    )
    assert _green_x(img) < W / 2


@pytest.mark.slow
def test_overlay_left_is_left_in_3d() -> None:
    vol, seg = _left_segment()
    for view, right_side in (("anterior", True), ("posterior", False)):
        state = ViewState(view=view, size=(W, H), annotations=False, volume=False)
        img, _ = render_image(vol, state, segmentations=[seg])
        assert (_green_x(img) > W / 2) == right_side, view


def test_overlay_rgba_fill_outline_and_fractions() -> None:
    vol = phantom.asymmetric(16)
    lab = np.zeros(vol.array.shape, np.uint8)
    lab[:, 4:12, 4:12] = 1
    seg = Segmentation.from_labelmap(lab, Grid.of(vol), colors={1: (1.0, 0.0, 0.0)})
    s = reslice(vol, "axial")
    rgba = overlay_rgba(s, [seg], OverlayStyle(opacity=0.5))
    inside = rgba[8, 8]
    edge = rgba[4, 8]
    assert tuple(inside) == (255, 0, 0, 128)
    assert tuple(edge) == (255, 0, 0, 255)  # outline opaque
    assert rgba[1, 1, 3] == 0
    hidden = overlay_rgba(s, [seg], OverlayStyle(hidden=frozenset({"label 1"})))
    assert hidden[..., 3].max() == 0
    frac = seg.replace(segments=(seg.segments[0].replace(mask=seg.segments[0].mask * 0.5),))
    rgba = overlay_rgba(s, [frac], OverlayStyle(opacity=1.0, outline=False))
    assert rgba[8, 8, 3] == 128  # alpha follows the fraction


@pytest.mark.slow
def test_3d_surfaces_with_the_volume_rendering_or_alone() -> None:
    """3D: the segment's surface shows over the volume rendering, and alone without it."""
    vol, seg = _left_segment()
    with_volume, _ = render_image(
        vol, ViewState(preset="ct-bone", size=(W, H), annotations=False), segmentations=[seg]
    )
    volume_only, _ = render_image(vol, ViewState(preset="ct-bone", size=(W, H), annotations=False))
    alone, _ = render_image(
        vol, ViewState(size=(W, H), annotations=False, volume=False), segmentations=[seg]
    )
    assert _green_x(with_volume) > W / 2  # the patient's left, on the image's right (anterior)
    assert _green_x(alone) > W / 2

    def lit(img: np.ndarray) -> np.ndarray:
        return img.max(axis=2) > 8

    def green(img: np.ndarray) -> np.ndarray:  # the shaded green surface, lit or not
        r, g, b = (img[..., c].astype(int) for c in range(3))
        return (g > 30) & (g > r + 20) & (g > b + 20)

    assert green(volume_only).sum() == 0
    # with the volume: beside the surface, the volume rendering as drawn without the segment
    beside = lit(volume_only) & ~green(with_volume)
    assert beside.sum() > 5000
    diff = np.abs(with_volume[beside].astype(int) - volume_only[beside].astype(int))
    assert np.median(diff.max(axis=1)) <= 3
    # alone: nothing but the surface is drawn
    assert (lit(alone) & ~green(alone)).sum() < 0.05 * green(alone).sum()
