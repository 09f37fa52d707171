"""Reader details on derived files: grey models, planar configuration, timing elements."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from tests.conftest import shared_path
from volumeviz.io.ultrasound import load_ultrasound

PALETTE = [
    f"{c}PaletteColorLookupTable{part}"
    for c in ("Red", "Green", "Blue")
    for part in ("Descriptor", "Data")
]


def _grey(derive, name, photometric):
    return load_ultrasound(
        derive(name, None, PhotometricInterpretation=photometric, **dict.fromkeys(PALETTE))
    )


def test_monochrome2_and_monochrome1_are_grey_and_inverted(derive, philips_path):
    indices = pydicom.pixels.pixel_array(str(philips_path), index=1)  # palette indices
    mono2 = _grey(derive, "mono2", "MONOCHROME2")
    mono1 = _grey(derive, "mono1", "MONOCHROME1")
    assert not mono2.color
    f2, f1 = mono2.frame(1), mono1.frame(1)
    assert f2.shape == (600, 800)
    assert np.array_equal(f2, indices)
    assert np.array_equal(f1, 255 - indices)  # MONOCHROME1: 0 is white


def test_timing_elements(derive):
    img = load_ultrasound(
        derive(
            "timing",
            None,
            FrameTimeVector=[0.0, 40.0],
            HeartRate=72,
            RWaveTimeVector=[0.0, 833.0],
            RecommendedDisplayFrameRate=25,
        )
    )
    assert img.frame_time_vector_ms == (0.0, 40.0)
    assert img.frame_time_ms == pytest.approx(40.0)
    assert img.frame_time_source == "(0018,1065) Frame Time Vector (mean)"
    assert img.display_fps == 25
    assert img.display_fps_source == "(0008,2144) Recommended Display Frame Rate"
    assert img.heart_rate_bpm == 72
    assert img.r_wave_times_ms == (0.0, 833.0)
    cine = load_ultrasound(derive("cine", None, CineRate=20))
    assert cine.frame_time_ms == pytest.approx(50.0)
    assert cine.display_fps == 20
    ft = load_ultrasound(derive("ft", None, FrameTime=25.0, CineRate=20))
    assert ft.frame_time_ms == 25.0  # Frame Time wins for timing; Cine Rate for display
    assert ft.display_fps == 20


@pytest.mark.shared_data
def test_planar_configuration_1_equals_interleaved(shared_data, tmp_path):
    src = shared_path(shared_data, "us/noreg_ge_rgb_small.dcm")
    ds = pydicom.dcmread(src)
    assert ds.PlanarConfiguration == 0
    rgb = ds.pixel_array
    ds.PlanarConfiguration = 1
    ds.PixelData = np.ascontiguousarray(rgb.transpose(2, 0, 1)).tobytes()  # R plane, G, B
    out = tmp_path / "planar1.dcm"
    ds.save_as(out)
    assert np.array_equal(load_ultrasound(out).frame(0), load_ultrasound(src).frame(0))
