"""Image regression: each preset family and the quad MPR layout against committed references.

References live in tests/image_cache/ (made with Mesa llvmpipe through EGL, the fixed-point mapper,
300x300 or 400x400, no text: fonts vary between machines). Create missing ones with
``pytest tests/render --add_missing_images`` and LOOK at them before committing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvista as pv

from tests.render.conftest import SIZE
from volumeviz.render.screenshot import ViewState, make_plotter, render_image, render_scene

pytestmark = pytest.mark.render

CACHE = Path(__file__).parents[1] / "image_cache"

CT_PRESETS = ["ct-bone", "ct-soft-tissue", "ct-angio", "ct-muscle", "ct-mip"]
MR_PRESETS = ["mr-default", "mr-angio", "mr-mip"]


def _show(pl):
    pl.show(auto_close=True)


@pytest.mark.parametrize("preset", CT_PRESETS)
def test_render_preset(ct, preset, verify_image_cache):
    verify_image_cache.high_variance_test = True
    pl = pv.Plotter(off_screen=True, window_size=list(SIZE))
    info = render_scene(pl, ct, ViewState(preset=preset, view="anterior", elevation=20,
                                          azimuth=-30, size=SIZE, annotations=False))  # fmt: skip
    assert info.preset == preset
    assert info.mapper == "fixed"
    _show(pl)


def test_render_preset_lung(ct_lung, verify_image_cache):
    verify_image_cache.high_variance_test = True
    pl = pv.Plotter(off_screen=True, window_size=list(SIZE))
    render_scene(pl, ct_lung, ViewState(preset="lung", view="anterior", size=SIZE,
                                        annotations=False))  # fmt: skip
    _show(pl)


@pytest.mark.parametrize("preset", MR_PRESETS)
def test_render_preset_mr(mr, preset, verify_image_cache):
    verify_image_cache.high_variance_test = True
    pl = pv.Plotter(off_screen=True, window_size=list(SIZE))
    info = render_scene(pl, mr, ViewState(preset=preset, view="anterior", elevation=20,
                                          azimuth=-30, size=SIZE, annotations=False))  # fmt: skip
    assert info.warnings == []
    _show(pl)


def test_render_quad_mpr(ct, verify_image_cache):
    verify_image_cache.high_variance_test = True
    size = (400, 400)
    state = ViewState(mpr="quad", slice=ct.meta.extra["marker_lps"], window="400/200",
                      preset="mip", size=size, annotations=False)  # fmt: skip
    pl = make_plotter(state)
    info = render_scene(pl, ct, state)
    assert set(info.planes) == {"axial", "coronal", "sagittal"}
    _show(pl)


def test_render_thick_slab_sagittal(ct, verify_image_cache):
    pl = pv.Plotter(off_screen=True, window_size=list(SIZE))
    state = ViewState(mpr="sagittal", slab_mm=40, slab_mode="mip", window="bone", size=SIZE,
                      annotations=False)  # fmt: skip
    render_scene(pl, ct, state)
    _show(pl)


@pytest.mark.parametrize(
    ("reference", "state"),
    [
        ("render_preset[ct-mip].png", ViewState(preset="ct-mip", view="anterior", elevation=20,
                                                azimuth=-30, size=SIZE, annotations=False)),
        ("render_quad_mpr.png", None),
    ],
)  # fmt: skip
def test_tolerance_catches_a_left_right_flip(ct, reference, state):
    """A mirrored picture must fail the comparison, or the references prove nothing."""
    ref = CACHE / reference
    if not ref.is_file():
        pytest.fail(f"reference {ref} missing: run with --add_missing_images first")
    if state is None:
        state = ViewState(mpr="quad", slice=ct.meta.extra["marker_lps"], window="400/200",
                          preset="mip", size=(400, 400), annotations=False)  # fmt: skip
    img, _ = render_image(ct, state)
    same = pv.compare_images(np.ascontiguousarray(img), str(ref))
    flipped = pv.compare_images(np.ascontiguousarray(img[:, ::-1]), str(ref))
    assert same < 200  # rendering through render_image matches the plotter-made reference
    assert flipped > 1000  # above the high-variance error threshold the references use
