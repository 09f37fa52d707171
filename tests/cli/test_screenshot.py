"""``volumeviz screenshot``: real files in, PNG out; bad input is one line, exit 2, no file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import shared_path
from volumeviz import __version__
from volumeviz.cli.main import main
from volumeviz.io.synth import write_synthetic_series
from volumeviz.model import phantom

pytestmark = pytest.mark.render


@pytest.fixture(scope="module")
def series_dir(tmp_path_factory):
    """The asymmetric phantom written as a synthetic CT DICOM series (shuffled names)."""
    out = tmp_path_factory.mktemp("phantom_ct")
    write_synthetic_series(phantom.asymmetric(48), out, shuffle_names=True, seed=3)
    return out


@pytest.fixture(scope="module")
def mr_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom_mr")
    vol = phantom.asymmetric(32, modality="MR")
    vol = vol.replace(array=np.interp(vol.array, [-1000, 1000], [0, 600]).astype(np.int16))
    write_synthetic_series(vol, out, modality="MR", window=None)
    return out


def run(capsys, *args):
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _centroid(path, threshold=230):
    img = np.asarray(Image.open(path).convert("RGB")).astype(float).mean(axis=-1)
    ys, xs = np.nonzero(img >= threshold)
    assert xs.size > 10
    return xs.mean() / img.shape[1], ys.mean() / img.shape[0]


def test_bone_anterior_marker_on_right_with_metadata(series_dir, tmp_path, capsys):
    out = tmp_path / "bone.png"
    code, stdout, err = run(capsys, "screenshot", series_dir, "--preset", "mip", "--size",
                            "200x160", "--no-annotations", "-o", out)  # fmt: skip
    assert code == 0, err
    assert stdout.strip() == str(out)
    img = Image.open(out)
    assert img.size == (200, 160)
    assert img.text["volumeviz:preset"] == "ct-mip"
    assert img.text["volumeviz:view"] == "3d anterior"
    assert img.text["volumeviz:version"] == __version__
    assert img.text["volumeviz:mapper"] == "fixed"
    assert json.loads(img.text["volumeviz:issues"]) == []
    x, y = _centroid(out)
    assert x > 0.5  # patient's left on the image's right
    assert y < 0.5


def test_posterior_marker_on_left(series_dir, tmp_path, capsys):
    out = tmp_path / "post.png"
    code, _, err = run(capsys, "screenshot", series_dir, "--preset", "mip", "--view", "posterior",
                       "--size", "160x160", "--no-annotations", "-o", out)  # fmt: skip
    assert code == 0, err
    assert _centroid(out)[0] < 0.5


def test_axial_mpr_by_index(series_dir, tmp_path, capsys):
    vol = phantom.asymmetric(48)
    k = vol.meta.extra["marker_box"][4] + 1
    out = tmp_path / "axial.png"
    code, _, err = run(capsys, "screenshot", series_dir, "--mpr", "axial", "--slice", k,
                       "--window", "bone", "--size", "160x160", "--no-annotations",
                       "-o", out)  # fmt: skip
    assert code == 0, err
    x, y = _centroid(out)
    assert x > 0.5
    assert y < 0.5
    meta = Image.open(out).text
    assert meta["volumeviz:view"] == "axial"
    assert meta["volumeviz:window"].startswith("W 1000 / L 400")
    planes = json.loads(meta["volumeviz:planes"])
    assert planes["axial"]["plane"] == "axial"


def test_quad_same_image_every_run(series_dir, tmp_path, capsys):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for out in (a, b):
        code, _, err = run(capsys, "screenshot", series_dir, "--mpr", "quad", "--size", "240x240",
                           "--window", "brain", "-o", out)  # fmt: skip
        assert code == 0, err
    ia, ib = np.asarray(Image.open(a)), np.asarray(Image.open(b))
    assert ia.shape == (240, 240, 3)
    np.testing.assert_array_equal(ia, ib)


def test_thick_slab_option(series_dir, tmp_path, capsys):
    out = tmp_path / "slab.png"
    code, _, err = run(capsys, "screenshot", series_dir, "--mpr", "coronal", "--slab", "20",
                       "--slab-mode", "minip", "--size", "120x120", "-o", out)  # fmt: skip
    assert code == 0, err
    planes = json.loads(Image.open(out).text["volumeviz:planes"])
    assert planes["coronal"]["slab_mm"] == 20
    assert planes["coronal"]["slab_mode"] == "minip"


def test_ct_preset_on_mr_warns(mr_dir, tmp_path, capsys):
    out = tmp_path / "mr.png"
    code, _, err = run(capsys, "screenshot", mr_dir, "--preset", "bone", "--size", "100x100",
                       "-o", out)  # fmt: skip
    assert code == 0
    assert "warning: preset 'ct-bone' is meant for CT, but the series is MR" in err
    assert "meant for CT" in Image.open(out).text["volumeviz:warnings"]


def test_anonymize_keeps_identity_out(series_dir, tmp_path, capsys):
    out = tmp_path / "anon.png"
    code, _, err = run(capsys, "screenshot", series_dir, "--anonymize", "--size", "120x120",
                       "-o", out)  # fmt: skip
    assert code == 0, err
    text = " ".join(Image.open(out).text.values())
    assert "SYNTHETIC" not in text
    assert "SYNTH0001" not in text


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--preset", "bones"], "did you mean 'bone'"),
        (["--view", "sideways"], "unknown view 'sideways'"),
        (["--mpr", "axial", "--slice", "480"], "slice 480 is out of range 0..47"),
        (["--size", "0x0"], "size '0x0'"),
        (["--mpr", "axial", "--window", "brian"], "did you mean 'brain'"),
        (["--mpr", "diagonal"], "unknown --mpr 'diagonal'"),
        (["--mpr", "oblique"], "needs --normal"),
        (["--slab", "-3", "--mpr", "axial"], "slab thickness must be >= 0"),
        (["--background", "notacolour"], "unknown background colour"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(series_dir, tmp_path, capsys, args, fragment):
    out = tmp_path / "x.png"
    code, _stdout, err = run(capsys, "screenshot", series_dir, *args, "-o", out)
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert fragment in lines[0]
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_malformed_preset_file(series_dir, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "color": [[0, 0, 0, 0]], "scalar_opacity": [[0, 2]]}')
    out = tmp_path / "x.png"
    code, _, err = run(capsys, "screenshot", series_dir, "--preset", bad, "-o", out)
    assert code == 2
    assert "bad.json" in err
    assert "within 0..1" in err
    assert not out.exists()


def test_user_preset_file_renders(series_dir, tmp_path, capsys):
    from volumeviz.transfer import load_preset

    data = load_preset("mip").to_dict()
    data["name"] = "my-mip"
    f = tmp_path / "mine.json"
    f.write_text(json.dumps(data))
    out = tmp_path / "mine.png"
    code, _, err = run(capsys, "screenshot", series_dir, "--preset", f, "--size", "100x100",
                       "-o", out)  # fmt: skip
    assert code == 0, err
    assert Image.open(out).text["volumeviz:preset"] == "my-mip"


def test_output_in_missing_folder(series_dir, tmp_path, capsys):
    out = tmp_path / "no" / "such" / "x.png"
    code, _, err = run(capsys, "screenshot", series_dir, "-o", out)
    assert code == 2
    assert "does not exist" in err
    assert not (tmp_path / "no").exists()


def test_output_not_png(series_dir, tmp_path, capsys):
    code, _, err = run(capsys, "screenshot", series_dir, "-o", tmp_path / "x.jpg")
    assert code == 2
    assert ".png" in err


def test_missing_input_is_data_error(tmp_path, capsys):
    code, _, err = run(capsys, "screenshot", tmp_path / "nope", "-o", tmp_path / "x.png")
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_bundled_ct_head_bone(tmp_path, capsys):
    """The README command on the bundled real CT: a skull, bright bone in the middle."""
    from pathlib import Path

    head = Path(__file__).parents[2] / "assets" / "ct-head"
    out = tmp_path / "head.png"
    code, _, err = run(capsys, "screenshot", head, "--preset", "bone", "--size", "200x150",
                       "--no-annotations", "-o", out)  # fmt: skip
    assert code == 0, err
    img = np.asarray(Image.open(out).convert("RGB")).astype(float)
    grey = img.mean(axis=-1)
    centre = grey[40:110, 60:140]
    assert centre.mean() > 60  # the skull fills the middle
    assert grey[:10, :10].max() < 10  # black background in the corner


@pytest.mark.shared_data
def test_shared_ultrasound_dispatches(shared_data, tmp_path, capsys):
    src = shared_path(shared_data, "us/philips_cx50_palette_2f_ecg.dcm")
    out = tmp_path / "us.png"
    code, _, err = run(capsys, "screenshot", src, "--anonymize", "--frame", "1", "-o", out)
    assert code == 0, err
    assert out.is_file()
    assert Image.open(out).size[0] > 16


@pytest.mark.shared_data
def test_shared_oblique_mr_axial_mpr(shared_data, tmp_path, capsys):
    src = shared_path(shared_data, "mr/toshiba_galan_oblique20_b0")
    out = tmp_path / "mr_axial.png"
    code, _, err = run(capsys, "screenshot", src, "--mpr", "axial", "--size", "160x160",
                       "-o", out)  # fmt: skip
    assert code == 0, err
    assert Image.open(out).text["volumeviz:modality"] == "MR"


def test_default_preset_follows_modality(mr_dir, series_dir, tmp_path, capsys):
    out = tmp_path / "mr_default.png"
    code, _, err = run(capsys, "screenshot", mr_dir, "--size", "100x100", "-o", out)
    assert code == 0, err
    assert "warning" not in err
    assert Image.open(out).text["volumeviz:preset"] == "mr-default"
    out_ct = tmp_path / "ct_default.png"
    code, _, err = run(capsys, "screenshot", series_dir, "--size", "100x100", "-o", out_ct)
    assert code == 0, err
    assert Image.open(out_ct).text["volumeviz:preset"] == "ct-bone"
