"""Annotation layout: text sized from the cell and dpi, less important lines dropped first, and
no two text boxes ever intersect, from 320x240 to 1600x1200, in every kind of picture.

The render tests take the boxes from the VTK text actors themselves (position + bounding box
after rendering) and check them against each other and against the layout model.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from volumeviz.model import phantom
from volumeviz.model.volume import GeometryIssue, Volume
from volumeviz.render.layout import (
    Box,
    CellText,
    Priority,
    Reserved,
    font_px,
    layout_cell,
)

SIZES = [(320, 240), (480, 360), (800, 600), (1024, 768), (1600, 1200)]


def fake_measure(text: str, px: int, bold: bool) -> tuple[int, int]:
    return (int(len(text) * px * (0.62 if bold else 0.55)) + 1, px + 2)


def _crowded(n_lines: int = 6) -> CellText:
    cell = CellText(letters={"top": "A", "bottom": "P", "left": "R", "right": "L"})
    for k in range(n_lines):
        cell.add("upper_left", f"upper left line {k}", 50 - k)
        cell.add("upper_right", f"upper right {k}", 40 - k)
        cell.add("lower_left", f"lower left line {k}", 70 - k)
    cell.reserve(Reserved("scalebar", "lower_right", Priority.SCALE_BAR, (60, 3), "20 mm"))
    return cell


@pytest.mark.parametrize(("w", "h"), [(16, 16), (60, 40), (160, 120), (320, 240), (1600, 1200)])
def test_model_never_overlaps_and_stays_inside(w: int, h: int) -> None:
    lay = layout_cell(_crowded(), (w, h), measure=fake_measure)
    assert lay.overlaps() == []
    for p in lay.placed:
        assert p.box.inside(w, h), p


def test_less_important_lines_go_first() -> None:
    """Shrinking the cell drops lines in rising priority: a kept line outranks every dropped
    line of its corner, and letters and the scale bar stay while any corner line does."""
    cell = _crowded()
    previous = None
    for h in range(400, 60, -20):
        lay = layout_cell(cell, (320, h), measure=fake_measure)
        kept = {p.text: p.priority for p in lay.placed if p.kind == "line"}
        for corner, lines in cell.corners.items():
            dropped = [ln.priority for ln in lines if ln.text not in kept]
            held = [ln.priority for ln in lines if ln.text in kept]
            if dropped and held:
                assert min(held) >= max(dropped), (h, corner, held, dropped)
        if kept:
            assert lay.find("letter:left") is not None
            assert lay.find("scalebar") is not None
        if previous is not None:
            assert set(kept) <= previous  # a smaller cell never shows more
        previous = set(kept)


def test_long_lines_are_cut_short_not_over_the_letters() -> None:
    cell = CellText(letters={"top": "A"}).add("upper_left", "x" * 200, Priority.DESCRIPTION)
    lay = layout_cell(cell, (400, 300), measure=fake_measure)
    line = lay.find("upper_left:0")
    assert line is not None
    assert line.text.endswith("…")
    top = lay.find("letter:top")
    assert top is not None
    assert line.box.x1 <= top.box.x0


def test_text_size_follows_pixels_and_dpi() -> None:
    sizes = [font_px(s) for s in SIZES]
    assert sizes == sorted(sizes)
    assert sizes[0] < sizes[-1]
    # never below 7.5 pt where it is printed or shown
    for dpi in (72, 96, 150, 300, 600):
        assert font_px((320, 240), dpi) >= 7.5 * dpi / 72 - 0.5
    # a report image printed at 300 dpi: 7.5 pt and up (not the 3-5 pt of a screen size)
    assert font_px((1004, 753), 300) * 72 / 300 >= 7.5


def test_box_geometry() -> None:
    assert not Box(0, 0, 10, 10).intersects(Box(10, 0, 20, 10))
    assert Box(0, 0, 10, 10).intersects(Box(5, 5, 6, 6))
    assert Box(0, 0, 10, 10).inside(10, 10)
    assert not Box(-1, 0, 10, 10).inside(10, 10)


# -- rendered pictures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_ct() -> Volume:
    """The phantom with long texts and a loader action: as much text as a picture gets."""
    vol = phantom.asymmetric(64, spacing=(1.0, 1.0, 1.5))
    meta = vol.meta.replace(
        series_description="AX HEAD WITHOUT CONTRAST 0.625 MM STANDARD KERNEL",
        study_date="20240131",
        patient_name="LONGNAME^PATIENT^WITH^MIDDLE",
        patient_id="ID-0123456789",
        institution="A VERY LONG HOSPITAL NAME GENERAL INFIRMARY",
    )
    issues = (
        GeometryIssue("gantry-tilt", "gantry tilt 18.5°", 18.5, "deg", "resampled"),
        GeometryIssue("resampled", "resampled to a regular grid", 1.5, "mm", "resampled"),
    )
    return vol.replace(meta=meta, issues=issues)


def _actor_boxes(pl: Any) -> dict[int, list[tuple[str, Box]]]:
    """Per renderer: every text actor's box as VTK drew it (top-left origin)."""
    out: dict[int, list[tuple[str, Box]]] = {}
    for n, ren in enumerate(pl.renderers):
        _, h = ren.GetSize()
        boxes = []
        props = ren.GetViewProps()
        props.InitTraversal()
        for _ in range(props.GetNumberOfItems()):
            prop = props.GetNextProp()
            if prop.IsA("vtkTextActor"):
                bb = [0.0] * 4
                prop.GetBoundingBox(ren, bb)
                x, y = prop.GetPositionCoordinate().GetValue()[:2]
                if bb[1] <= bb[0]:
                    continue
                boxes.append(
                    (prop.GetInput(), Box(x + bb[0], h - (y + bb[3]), x + bb[1], h - (y + bb[2])))
                )
        out[n] = boxes
    return out


def _render(vol: Volume, **options: Any) -> tuple[Any, Any]:
    from volumeviz.render.screenshot import grab_frame, make_plotter, render_scene
    from volumeviz.render.state import ViewState

    state = ViewState(**options)
    pl = make_plotter(state)
    info = render_scene(pl, vol, state)
    grab_frame(pl)
    return pl, info


@pytest.mark.render
@pytest.mark.slow
@pytest.mark.parametrize(("size", "mpr"), list(itertools.product(SIZES, [None, "axial", "quad"])))
def test_rendered_text_boxes_never_intersect(busy_ct: Volume, size: Any, mpr: Any) -> None:
    pl, info = _render(busy_ct, mpr=mpr, size=size)
    try:
        per_renderer = _actor_boxes(pl)
        sizes = [tuple(r.GetSize()) for r in pl.renderers]
    finally:
        pl.close()
    n_text = 0
    for n, boxes in per_renderer.items():
        w, h = sizes[n]
        n_text += len(boxes)
        for text, box in boxes:
            assert Box(box.x0 + 1, box.y0 + 1, box.x1 - 1, box.y1 - 1).inside(w, h), (text, box)
        for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
            shrunk = Box(a.x0 + 0.5, a.y0 + 0.5, a.x1 - 0.5, a.y1 - 0.5)
            assert not shrunk.intersects(b), f"{size} {mpr}: {ta!r} {a} overlaps {tb!r} {b}"
    assert n_text >= 6
    for name, lay in info.layouts.items():
        assert lay.overlaps() == [], name
        # geometry outranks words: letters and the scale bar (2D) or marker (3D) are always there
        if name == "3d":
            assert lay.find("marker") is not None
        else:
            assert all(lay.find(f"letter:{e}") for e in ("top", "bottom", "left", "right"))
            assert lay.find("scalebar") is not None
    # what the loader did is read whole (wrapped, never cut) on the cell with the series lines
    first = " ".join(next(iter(info.layouts.values())).shown("upper_left").split())
    assert "resampled: gantry tilt 18.5°" in first


@pytest.mark.render
def test_actor_boxes_are_the_layout_boxes(busy_ct: Volume) -> None:
    pl, info = _render(busy_ct, mpr="axial", size=(800, 600))
    try:
        boxes = _actor_boxes(pl)[0]
    finally:
        pl.close()
    lay = info.layouts["axial"]
    for p in lay.placed:
        if p.kind not in ("line", "letter", "label"):
            continue
        found = [b for t, b in boxes if t == p.text]
        assert found, p.text
        best = min(found, key=lambda b: abs(b.x0 - p.box.x0) + abs(b.y0 - p.box.y0))
        # the drawn glyphs sit inside the slot the model gave them (within a pixel)
        slot = Box(p.box.x0 - 1.5, p.box.y0 - 1.5, p.box.x1 + 1.5, p.box.y1 + 1.5)
        assert Box(
            best.x0 - slot.x0, best.y0 - slot.y0, best.x1 - slot.x0, best.y1 - slot.y0
        ).inside(slot.width, slot.height), (p.text, best, p.box)


@pytest.mark.render
def test_scene_cells_and_report_images_lay_out_without_overlap(busy_ct: Volume) -> None:
    from volumeviz.render.scene import Scene
    from volumeviz.render.screenshot import render_image
    from volumeviz.render.state import ViewState
    from volumeviz.report.document import Layout

    scene = Scene(busy_ct, columns=2, cell_size=(320, 240))
    scene.add_3d().add_mpr("axial").add_slab("coronal", thickness_mm=20).add_quad()
    scene.render()
    for info in scene._infos:
        for name, lay in info.layouts.items():
            assert lay.overlaps() == [], name
    # a report figure: printed at 300 dpi, its text is at least 7.5 pt
    page = Layout(dpi=300)
    size = page.cell_px(2, 0.75)
    _, info = render_image(busy_ct, ViewState(mpr="axial", size=size, dpi=300))
    lay = info.layouts["axial"]
    assert lay.overlaps() == []
    assert lay.font_px * 72 / 300 >= 7.4
    assert np.isfinite(lay.font_px)


# -- labels at points (measurement values) ---------------------------------------------------


def test_labels_beside_their_points_never_over_other_text() -> None:
    cell = _crowded()
    # three values crowded into the upper-left corner, where the series lines are, and one on
    # the top letter; one outside the cell (its point is not in the picture)
    for k, anchor in enumerate([(12.0, 14.0), (16.0, 18.0), (20.0, 16.0), (160.0, 10.0)]):
        cell.add_label(f"distance {10 + k}.0 mm", anchor)
    cell.add_label("off the picture", (-5.0, 30.0))
    lay = layout_cell(cell, (320, 240), measure=fake_measure)
    assert lay.overlaps() == []
    shown = {p.text: p for p in lay.point_labels()}
    # a measurement outranks the patient and series lines: those make room, the values stay
    assert sorted(shown) == [f"distance {10 + k}.0 mm" for k in range(4)]
    assert "off the picture" in lay.dropped
    for p in lay.point_labels():
        assert p.box.inside(320, 240)
        lab = next(lab for lab in cell.labels if lab.text == p.text)
        ax, ay = lab.anchor
        # near its point: the box is within a few text heights of it
        dx = max(p.box.x0 - ax, ax - p.box.x1, 0.0)
        dy = max(p.box.y0 - ay, ay - p.box.y1, 0.0)
        assert max(dx, dy) <= 4 * lay.font_px, (p.text, p.box, lab.anchor)
    # a free point keeps the first place (above right of it)
    lone = layout_cell(
        CellText().add_label("12.0 mm", (100.0, 100.0)), (320, 240), measure=fake_measure
    )
    (p,) = lone.point_labels()
    assert p.box.x0 > 100
    assert p.box.y1 < 100


@pytest.mark.render
@pytest.mark.parametrize(("size", "mpr"), [((320, 240), "axial"), ((1600, 1200), "axial"),
                                           ((800, 600), "quad")])  # fmt: skip
def test_rendered_measurement_values_never_overlap_other_text(
    busy_ct: Volume, size: Any, mpr: str
) -> None:
    """Measurement values go through the same layout: drawn where it put them, nothing over
    anything, each value on the picture (the window builds the same cell: test_app_measure)."""
    from volumeviz.ops.measure import Markup

    k = busy_ct.size[2] // 2

    def at(i: float, j: float) -> tuple[float, float, float]:
        x, y, z = busy_ct.index_to_lps([i, j, k])
        return (float(x), float(y), float(z))

    marks = (
        Markup("distance", (at(2, 2), at(20, 4))),  # under the upper-left lines
        Markup("distance", (at(3, 5), at(22, 6))),  # its neighbour
        Markup("point", (at(32, 1),)),  # under the top letter
        Markup("angle", (at(60, 60), at(50, 62), at(60, 62))),  # lower right: the scale bar
    )
    pl, info = _render(busy_ct, mpr=mpr, size=size, measurements=marks)
    try:
        per_renderer = _actor_boxes(pl)
    finally:
        pl.close()
    lay = info.layouts["axial"]
    assert lay.overlaps() == []
    assert len(info.measurements["axial"]) == 4
    placed = lay.point_labels()
    assert len(placed) == 4, lay.dropped
    boxes = per_renderer[0]
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        shrunk = Box(a.x0 + 0.5, a.y0 + 0.5, a.x1 - 0.5, a.y1 - 0.5)
        assert not shrunk.intersects(b), f"{size} {mpr}: {ta!r} {a} overlaps {tb!r} {b}"
    drawn = {t for t, _ in boxes}
    assert {p.text for p in placed} <= drawn
