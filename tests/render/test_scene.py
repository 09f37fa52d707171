"""Scene: a grid of views of one volume, same pixels as the single-view screenshot."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.render.conftest import bright_centroid
from volumeviz.errors import UsageError
from volumeviz.render.scene import Scene
from volumeviz.render.screenshot import ViewState, render_image

pytestmark = pytest.mark.render


def test_grid_layout_and_cells_match_single_renders(ct, tmp_path):
    scene = Scene(ct, columns=2, cell_size=(120, 90), annotations=False)
    scene.add_3d(preset="mip", view="anterior").add_mpr("axial", slice=ct.meta.extra["marker_lps"])
    scene.add_slab("coronal", thickness_mm=20, mode="mip", window="bone")
    fig = scene.render()
    assert fig.shape == (180, 240, 3)  # 3 cells in 2 columns: 2 rows
    single, _ = render_image(ct, ViewState(preset="mip", size=(120, 90), annotations=False))
    np.testing.assert_array_equal(fig[:90, :120], single)
    # the axial cell (top right) shows the marker on the right and at the top
    x, y = bright_centroid(fig[:90, 120:])
    assert x > 60
    assert y < 45
    assert fig[90:, 120:].max() == 0  # the empty cell is background
    out = scene.save(tmp_path / "fig.png")
    meta = json.loads(Image.open(out).text["volumeviz:scene"])
    assert [c["mpr"] for c in meta] == ["3d", "axial", "coronal"]
    assert meta[2]["slab_mm"] == 20
    assert scene._repr_png_().startswith(b"\x89PNG")


def test_scene_errors(ct):
    with pytest.raises(UsageError, match="empty"):
        Scene(ct).render()
    with pytest.raises(UsageError, match="unknown view option"):
        Scene(ct).add(colour="red")
    with pytest.raises(UsageError, match="at least 1 column"):
        Scene(ct, columns=0)
    with pytest.raises(UsageError, match="unknown view mpr="):
        Scene(ct).add_mpr("diagonal")
