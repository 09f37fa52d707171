"""Transfer-function shift/scale along the value axis, and MIP presets fitted to the data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli
from volumeviz.errors import PresetError
from volumeviz.model import phantom
from volumeviz.model.volume import Volume, VolumeMeta
from volumeviz.render.screenshot import render_image
from volumeviz.render.state import ViewState
from volumeviz.transfer import fit_to_data, load_preset

HU = np.linspace(-1500, 3500, 501)


@pytest.mark.parametrize("name", ["ct-bone", "ct-soft-tissue", "ct-mip", "mr-default"])
def test_shift_moves_every_point_and_scale_stretches_from_the_onset(name: str) -> None:
    tf = load_preset(name)
    moved = tf.shifted(250.0)
    assert np.allclose(moved.opacity_at(HU + 250.0), tf.opacity_at(HU))
    assert np.allclose(moved.color_at(HU + 250.0), tf.color_at(HU))
    assert moved.gradient_opacity == tf.gradient_opacity
    onset = tf.onset()
    wide = tf.shifted(scale=2.0)
    assert wide.onset() == pytest.approx(onset)
    assert np.allclose(wide.opacity_at(onset + 2 * (HU - onset)), tf.opacity_at(HU))
    assert tf.shifted() is tf
    with pytest.raises(PresetError):
        tf.shifted(scale=0)
    with pytest.raises(PresetError):
        tf.shifted(float("nan"))


@pytest.mark.render
def test_shift_changes_what_the_3d_view_shows(ct: Volume) -> None:
    from volumeviz.render.convert import grid_bounds_lps
    from volumeviz.transfer import PresetWarning

    def shot(**kw: float) -> tuple:
        return render_image(ct, ViewState(preset="bone", size=(96, 96), annotations=False, **kw))

    plain, info = shot()
    # +1500 HU: the 1000 HU marker and the 40 HU body fall below the preset: nothing shows
    with pytest.warns(PresetWarning, match="misses preset 'ct-bone'"):
        up, info_up = shot(tf_shift=1500.0)
    assert up.max() < 10 < plain.max()
    assert info_up.tf_notes == ["shift +1500 HU"]
    # -1200 HU: air (-1000 HU) becomes visible, the camera frames the whole box, not the body
    _, info_down = shot(tf_shift=-1200.0)
    grid = np.asarray(grid_bounds_lps(ct))
    body = np.asarray(info.framed_bounds)
    assert np.all(np.asarray(info_down.framed_bounds)[0::2] < body[0::2])
    assert np.allclose(info_down.framed_bounds, grid, atol=1e-6)


@pytest.mark.render
def test_cli_and_scene_take_the_shift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.render.scene import Scene
    from volumeviz.transfer import PresetWarning

    write_synthetic_series(phantom.asymmetric(16), tmp_path / "ct")
    out = tmp_path / "o.png"
    code, _, err = run_cli(capsys, "screenshot", str(tmp_path / "ct"), "--tf-shift", "200",
                           "--tf-scale", "1.5", "--size", "48x36", "-o", str(out))  # fmt: skip
    assert code == 0, err
    with Image.open(out) as im:
        assert im.info["volumeviz:transfer"] == "shift +200 HU, scale 1.5"
    code, _, err = run_cli(capsys, "screenshot", str(tmp_path / "ct"), "--tf-scale", "0",
                           "-o", str(out))  # fmt: skip
    assert code == 2
    assert "--tf-scale must be > 0" in err
    vol = phantom.asymmetric(16)
    a = Scene(vol, cell_size=(48, 48), annotations=False).add_3d(preset="bone").render()
    b = Scene(vol, cell_size=(48, 48), annotations=False).add_3d(preset="bone", tf_shift=1500)
    with pytest.warns(PresetWarning, match="misses preset"):
        dark = b.render()
    assert a.mean() > dark.mean() * 3


def _skull(bright: float) -> Volume:
    """A head-like phantom: 40 HU brain in a shell whose bone runs 700..``bright`` HU."""
    n = 48
    k, j, i = np.mgrid[:n, :n, :n].astype(float) - (n - 1) / 2
    r = np.sqrt(i**2 + j**2 + (k * 1.2) ** 2)
    arr = np.full((n, n, n), -1000.0)
    arr[r < 20] = 40.0
    shell = (r >= 17) & (r < 20)
    arr[shell] = 700 + (bright - 700) * (0.5 + 0.5 * np.sin(i[shell] / 3 + k[shell] / 5))
    return Volume(arr.astype(np.int16), meta=VolumeMeta(modality="CT", units="HU"))


def _mip_spread(vol: Volume, **kw: float) -> tuple[float, list[str]]:
    """Spread (90th - 10th percentile) of the grey inside the rendered MIP silhouette."""
    img, info = render_image(vol, ViewState(preset="ct-mip", size=(160, 160), annotations=False,
                                            **kw))  # fmt: skip
    grey = img.mean(axis=-1)
    inside = grey[grey > 20]
    return float(np.percentile(inside, 90) - np.percentile(inside, 10)), info.tf_notes


@pytest.mark.render
def test_mip_of_bright_bone_is_not_a_flat_white_silhouette() -> None:
    vol = _skull(bright=2500.0)
    preset = load_preset("ct-mip")
    fitted, note = fit_to_data(preset, vol)
    assert note == "fitted to the data: white at 2499 HU"
    assert fitted.saturation() == pytest.approx(2499.0)
    # the preset as published (a user's shift replaces the fit): every ray hits bone above
    # 700 HU, so the whole head is one white
    spread, notes = _mip_spread(vol, tf_shift=1.0)
    assert spread < 15
    assert notes == ["shift +1 HU"]
    # by default the preset is fitted: the bone's own range shows
    spread, notes = _mip_spread(vol)
    assert spread > 60
    assert notes == [note]
    # where the data stay within the preset's ramp, the preset is left alone
    assert fit_to_data(preset, _skull(bright=750.0)) == (preset, "")
