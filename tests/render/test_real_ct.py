"""Real CT from ../shared/data: the bone preset shows a skull, MPR planes come out right."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import shared_path
from volumeviz.render.screenshot import ViewState, render_image

pytestmark = [pytest.mark.render, pytest.mark.shared_data]


@pytest.fixture(scope="module")
def head(shared_data):
    from volumeviz.io.volume import load_series

    return load_series(shared_path(shared_data, "ct/philips_ingenuity_axial_5mm"))


def test_bone_preset_shows_a_skull(head):
    img, info = render_image(head, ViewState(preset="bone", size=(240, 180), annotations=False))
    assert info.warnings == []
    grey = img.astype(float).mean(axis=-1)
    h, w = grey.shape
    middle = grey[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3]
    assert middle.mean() > 60  # bone fills the middle of the anterior view
    assert grey[: h // 10, : w // 10].max() < 10  # black background in the corner
    # the bone preset colours bone warm/ivory: red >= blue where it is bright
    bright = img[grey > 120].astype(float)
    assert bright[:, 0].mean() >= bright[:, 2].mean()


def test_axial_bone_window_has_a_closed_skull_ring(head):
    img, info = render_image(
        head, ViewState(mpr="axial", window="bone", size=(200, 200), annotations=False)
    )
    assert info.planes["axial"].plane == "axial"
    grey = img.astype(float).mean(axis=-1)
    row = grey[100]
    # along the middle row: bone (bright) at both sides of the skull, darker inside
    bright = np.nonzero(row > 150)[0]
    assert bright.size > 0
    assert bright.min() < 70
    assert bright.max() > 130
    assert row[90:110].mean() < 150
