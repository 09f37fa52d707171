"""Presets as data: every built-in loads, short names resolve, bad names and files fail clearly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from volumeviz.errors import PresetError, UsageError
from volumeviz.model import phantom
from volumeviz.model.volume import VolumeMeta, WindowPreset
from volumeviz.transfer import (
    BLEND_MODES,
    WindowLevel,
    list_presets,
    load_preset,
    parse_window,
    preset_aliases,
    preset_warnings,
    window_preset,
)

REQUIRED = {
    "ct-bone", "ct-soft-tissue", "ct-lung", "ct-angio", "ct-muscle", "ct-mip",
    "mr-default", "mr-angio", "mr-mip",
}  # fmt: skip


def test_required_presets_exist_with_source_and_sane_points():
    names = set(list_presets())
    assert REQUIRED <= names
    for name in names:
        tf = load_preset(name)
        assert tf.name == name
        assert tf.blend in BLEND_MODES
        assert "Slicer" in tf.source
        assert tf.modality in ("CT", "MR")
        lo, hi = tf.visible_range()
        assert lo < hi, name


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("bone", "ct-bone"),
        ("soft-tissue", "ct-soft-tissue"),
        ("lung", "ct-lung"),
        ("angio", "ct-angio"),
        ("muscle", "ct-muscle"),
        ("mip", "ct-mip"),
        ("mr", "mr-default"),
        ("mr-angio", "mr-angio"),
        ("mr-mip", "mr-mip"),
        ("CT-Bone", "ct-bone"),
        ("soft tissue", "ct-soft-tissue"),
    ],
)
def test_short_names(typed, expected):
    assert load_preset(typed).name == expected


def test_aliases_are_unique_and_cover_files():
    table = preset_aliases()
    assert set(table.values()) == set(list_presets())


def test_bone_values_match_slicer_ct_bone():
    tf = load_preset("bone")
    # Slicer CT-Bone: scalarOpacity -3024 0 -16.4458 0 641.385 0.715686 3071 0.705882
    assert tf.opacity_at([-1000, -16.4458, 641.385]).tolist() == pytest.approx(
        [0.0, 0.0, 0.715686]
    )
    assert tf.color_at(3071).tolist() == [1.0, 1.0, 1.0]
    assert tf.shading.shade
    assert tf.shading.specular_power == 10


def test_mip_presets_blend_mode():
    assert load_preset("mip").blend == "mip"
    assert load_preset("mr-mip").blend == "mip"
    assert load_preset("bone").blend == "composite"


def test_unknown_name_suggests_and_lists():
    with pytest.raises(PresetError) as exc:
        load_preset("bones")
    msg = str(exc.value)
    assert "no preset 'bones'" in msg
    assert "did you mean 'bone'" in msg
    assert "ct-lung" in msg
    assert "mr-mip" in msg
    assert "\n" not in msg


def test_unknown_name_without_close_match_still_lists():
    with pytest.raises(PresetError, match=r"available: .*bone"):
        load_preset("zzzzzz")


def test_user_preset_file_round_trip(tmp_path):
    data = load_preset("bone").to_dict()
    data["name"] = "my-bone"
    data["scalar_opacity"] = [[0, 0.0], [500, 0.5], [501, 0.0]]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    tf = load_preset(str(path))
    assert tf.name == "my-bone"
    assert tf.opacity_at(250) == pytest.approx(0.25)
    assert tf.visible_range() == (0.0, 501.0)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON (line 1"),
        ("[1, 2]", "must be a JSON object"),
        ('{"name": "x", "color": [[0, 0, 0, 0]]}', "missing required key 'scalar_opacity'"),
        ('{"name": "x", "color": [[0, 0, 0]], "scalar_opacity": [[0, 1]]}', "4 numbers"),
        ('{"name": "x", "color": [[0, 0, 0, 2]], "scalar_opacity": [[0, 1]]}', "within 0..1"),
        (
            '{"name": "x", "color": [[0, 0, 0, 0]], "scalar_opacity": [[5, 1], [0, 1]]}',
            "values must increase",
        ),
        (
            '{"name": "x", "color": [[0, 0, 0, 0]], "scalar_opacity": [[0, 1]], "blend": "max"}',
            "blend 'max' is not one of",
        ),
        (
            '{"name": "x", "color": [[0, 0, 0, 0]], "scalar_opacity": [[0, "a"]]}',
            "not a number",
        ),
        (
            '{"name": "x", "color": [[0, 0, 0, 0]], "scalar_opacity": [[0, 1]], "colour": 1}',
            "unknown key(s) colour",
        ),
    ],
)
def test_malformed_preset_file(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PresetError) as exc:
        load_preset(path)
    msg = str(exc.value)
    assert fragment in msg
    assert str(path) in msg


def test_missing_preset_file(tmp_path):
    with pytest.raises(PresetError, match="preset file not found"):
        load_preset(str(tmp_path / "nope.json"))


def test_window_presets_from_issue():
    assert (window_preset("brain").width, window_preset("brain").center) == (100, 50)
    assert (window_preset("abdomen").width, window_preset("abdomen").center) == (350, 40)
    assert (window_preset("lung").width, window_preset("lung").center) == (1400, -500)
    assert (window_preset("bone").width, window_preset("bone").center) == (1000, 400)


def test_window_unknown_suggests():
    with pytest.raises(PresetError, match="did you mean 'brain'"):
        window_preset("brian")


@pytest.mark.parametrize(
    ("spec", "wc"),
    [
        ("400/40", (400, 40)),
        ("1400/-500", (1400, -500)),
        ("80,40", (80, 40)),
        ("lung", (1400, -500)),
    ],
)
def test_parse_window(spec, wc):
    wl = parse_window(spec)
    assert (wl.width, wl.center) == wc


def test_parse_window_rejects_zero_width():
    with pytest.raises(UsageError, match="width must be > 0"):
        parse_window("0/40")


def test_file_window_and_auto():
    vol = phantom.asymmetric(16)
    with pytest.raises(PresetError, match=r"\(0028,1050\)"):
        parse_window("file", vol)
    assert parse_window("auto", vol).name == "soft-tissue"
    vol2 = vol.replace(meta=vol.meta.replace(windows=(WindowPreset(35, 80, "BRAIN"),)))
    wl = parse_window("file", vol2)
    assert (wl.width, wl.center, wl.name) == (80, 35, "file: BRAIN")
    long = WindowPreset(40, 400, "from (0028,1050)/(0028,1051) Window Center/Width")
    vol3 = vol.replace(meta=vol.meta.replace(windows=(long,)))
    assert parse_window("file", vol3).name == "file"
    assert parse_window("auto", vol2).center == 35


def test_default_window_mr_uses_percentiles():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 1000, size=(8, 8, 8)).astype(np.int16)
    vol = phantom.asymmetric(8).replace(array=arr, meta=VolumeMeta(modality="MR"))
    wl = parse_window("auto", vol)
    assert 0 <= wl.low < 50
    assert 950 < wl.high <= 1000


def test_window_apply_is_clamped_linear():
    wl = WindowLevel(width=100, center=50)
    assert wl.apply([-5, 0, 50, 100, 500]).tolist() == [0, 0, 128, 255, 255]


def test_warning_ct_preset_on_mr():
    mr = phantom.asymmetric(16, modality="MR")
    msgs = preset_warnings(load_preset("bone"), mr)
    assert any("meant for CT, but the series is MR" in m for m in msgs)
    assert preset_warnings(load_preset("mr"), mr) == []


def test_warning_data_range_misses_preset():
    vol = phantom.asymmetric(16)
    air_only = vol.replace(array=np.full_like(vol.array, -1000))
    msgs = preset_warnings(load_preset("bone"), air_only)
    assert len(msgs) == 1
    assert "misses preset 'ct-bone'" in msgs[0]
    assert preset_warnings(load_preset("bone"), vol) == []


def test_visible_range_open_ends():
    tf = load_preset("lung")
    lo, hi = tf.visible_range()
    assert (lo, hi) == (-600.0, -399.0)
    assert math.isinf(load_preset("bone").visible_range()[1])
