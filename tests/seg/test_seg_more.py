"""Missing referenced images are reported; RTSTRUCT contours are drawn as lines in 3D."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_path
from volumeviz.io.rtstruct import read_rtstruct
from volumeviz.io.seg import load_segmentation, place_on
from volumeviz.io.volume import load_series

DCMQI = "seg/ct3slice_liver_seg_dcmqi"
RT = "seg/rtutils_ge_discoverymi_phantom_rtstruct"


def test_missing_referenced_images_are_reported(shared_data: Path, tmp_path: Path) -> None:
    src = shared_path(shared_data, f"{DCMQI}/ct")
    ct_dir = tmp_path / "ct"
    ct_dir.mkdir()
    for name in ("01.dcm", "03.dcm"):  # the middle slice is missing
        shutil.copy(src / name, ct_dir / name)
    ct = load_series(ct_dir)
    seg = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/liver.dcm"), ct)
    missing = [i for i in seg.issues if i.code == "missing-references"]
    assert len(missing) == 1
    assert "1 of the 3 image(s)" in missing[0].message
    full = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/liver.dcm"), load_series(src))
    assert "missing-references" not in [i.code for i in full.issues]


@pytest.mark.render
def test_rtstruct_contours_drawn_as_lines_in_3d(shared_data: Path) -> None:
    import pyvista as pv

    from volumeviz.render.overlay import add_segment_surfaces

    ct = load_series(shared_path(shared_data, f"{RT}/ct"))
    rt = place_on(read_rtstruct(shared_path(shared_data, f"{RT}/rtstruct/rt.dcm"), ct), ct)
    pl = pv.Plotter(off_screen=True, window_size=(200, 200))
    try:
        add_segment_surfaces(pl, [rt])
        lines = [
            a for a in pl.renderer.GetActors() if a.GetMapper().GetInput().GetNumberOfLines() > 0
        ]
        assert len(lines) == 1
        poly = lines[0].GetMapper().GetInput()
        assert poly.GetNumberOfLines() == 2  # the outer contour and the hole
        pts = np.array([poly.GetPoint(i) for i in range(poly.GetNumberOfPoints())])
        np.testing.assert_allclose(pts, np.concatenate(rt.segments[0].contours))  # LPS as given
    finally:
        pl.close()
