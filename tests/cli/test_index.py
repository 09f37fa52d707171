"""``--index NAME=K``: the chosen volume of a 4D series is what is drawn, labelled on the picture
and named in its PNG metadata; bad indices are one line, exit 2, before any pixel is read."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli
from volumeviz.io.synth import write_synthetic_series
from volumeviz.model import phantom

pytestmark = pytest.mark.render

UID = "1.2.826.0.1.3680043.8.498.3131"


def moving_marker(t: int):
    """The asymmetric MR phantom with a bright block that moves along L with time point t."""
    vol = phantom.asymmetric(32, modality="MR")
    arr = np.interp(vol.array, [-1000, 1000], [0, 400]).astype(np.int16)
    arr[14:18, 14:18, 4 + 6 * t : 8 + 6 * t] = 1000  # k, j, i: the block moves along +i (L)
    return vol.replace(array=arr)


@pytest.fixture(scope="module")
def fmri_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fmri")
    for t in range(4):
        write_synthetic_series(
            moving_marker(t),
            out,
            modality="MR",
            series_uid=UID,
            prefix=f"T{t}_",
            first_instance=1 + 32 * t,
            window=None,
            elements={"TemporalPositionIdentifier": t + 1, "RepetitionTime": 2000},
        )
    return out


def _bright_x(path) -> float:
    img = np.asarray(Image.open(path).convert("RGB")).astype(float).mean(axis=-1)
    _, xs = np.nonzero(img >= 250)
    assert xs.size > 4
    return float(xs.mean())


def test_screenshot_index_picks_labels_and_records_the_volume(capsys, tmp_path, fmri_dir):
    xs = []
    for t in (1, 3):
        out = tmp_path / f"t{t}.png"
        code, _, err = run_cli(
            capsys, "screenshot", str(fmri_dir), "--mpr", "axial", "--slice", "16",
            "--window", "1000/500", "--index", f"time={t}", "--size", "200x200", "-o", str(out),
        )  # fmt: skip
        assert code == 0, err
        text = Image.open(out).text
        assert text["volumeviz:index"] == f"time {t}/4 ({2 * (t - 1)} s)"
        (dim,) = json.loads(text["volumeviz:dims"])
        assert dim == {
            "name": "time", "index": t - 1, "size": 4, "value": 2.0 * (t - 1), "unit": "s",
        }  # fmt: skip
        xs.append(_bright_x(out))
    # the block moved 12 voxels toward the patient's left: image right in radiological view
    assert xs[1] - xs[0] > 20


def test_label_is_drawn_through_the_annotation_text(fmri_dir):
    from volumeviz.io.volume import load_series
    from volumeviz.render.screenshot import render_image
    from volumeviz.render.state import ViewState

    vol = load_series(fmri_dir, index={"time": 2})
    _, info = render_image(vol, ViewState(mpr="axial", size=(160, 160)))
    assert info.texts["axial"]["lower_left"].startswith("time 3/4 (4 s)\naxial")
    _, info = render_image(vol, ViewState(mpr="axial", size=(160, 160), annotations=False))
    assert "axial" not in info.texts


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--index", "time=9"), "--index time=9: this series has 4 time value(s)"),
        (("--index", "time=0"), "K counts from 1"),
        (("--index", "echo=1"), "no dimension 'echo'"),
        (("--index", "time"), "--index needs NAME=K"),
    ],
)
def test_bad_index_one_line_exit_2(capsys, tmp_path, fmri_dir, args, message):
    out = tmp_path / "x.png"
    code, _, err = run_cli(capsys, "screenshot", str(fmri_dir), *args, "-o", str(out))
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert message in lines[0]
    assert not out.exists()


def test_report_index_shows_which_volume(capsys, tmp_path, fmri_dir):
    out = tmp_path / "r.html"
    code, _, err = run_cli(
        capsys, "report", str(fmri_dir), "--index", "time=2", "--template", "brief", "-o", str(out)
    )
    assert code == 0, err
    html = out.read_text()
    assert "Volume shown" in html
    assert "time 2/4 (2 s)" in html
    code, _, err = run_cli(
        capsys, "report", str(fmri_dir), "--index", "echo=2", "-o", str(tmp_path / "x.html")
    )
    assert code == 2
    assert "no series has the dimension(s) echo" in err


def test_batch_spec_index(tmp_path, fmri_dir):
    from volumeviz.report.batch import run_batch
    from volumeviz.report.spec import SpecError, load_spec, plan_jobs

    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'output = "out"\nworkers = 1\n[[input]]\npath = "{fmri_dir}"\nindex = {{time = 4}}\n'
        '[[render]]\nkind = "screenshot"\nmpr = "axial"\nsize = [120, 120]\n'
        'output = "{input}.png"\n'
    )
    loaded = load_spec(spec)
    assert loaded.inputs[0].index == (("time", 3),)
    summary = run_batch(plan_jobs(loaded), executor="sequential", progress=False)
    assert all(r.status == "done" for r in summary.results), summary.results
    (png,) = (tmp_path / "out").glob("*.png")
    assert Image.open(png).text["volumeviz:index"] == "time 4/4 (6 s)"
    spec.write_text(spec.read_text().replace("index = {time = 4}", 'index = "time=x"'))
    with pytest.raises(SpecError, match=r"spec.toml:5: input\[0\].index: --index needs NAME=K"):
        load_spec(spec)


def test_stats_index_measures_that_volume_and_names_it(capsys, fmri_dir):
    """A sphere on where the block is at time point 3: the block's value there at --index
    time=3 only (the table and the JSON say which volume was measured)."""
    vol = moving_marker(2)
    centre = vol.index_to_lps([17.5, 15.5, 15.5])  # i, j, k: the middle of the t=2 block
    roi = "sphere:" + ",".join(f"{v:.2f}" for v in centre) + ",1.2"
    code, out, err = run_cli(capsys, "stats", str(fmri_dir), "--roi", roi, "--index", "time=3")
    assert code == 0, err
    assert "volume: time 3/4 (4 s)" in out
    code, out, err = run_cli(
        capsys, "stats", str(fmri_dir), "--roi", roi, "--index", "time=3", "--json"
    )
    assert code == 0, err
    rec = json.loads(out)
    assert rec["volume"] == "time 3/4 (4 s)"
    assert rec["index"] == {"time": 3}
    (region,) = rec["regions"]
    assert region["voxels"] == 8
    assert region["mean"] == pytest.approx(1000.0)
    code, out, _ = run_cli(capsys, "stats", str(fmri_dir), "--roi", roi, "--json")
    first = json.loads(out)  # default: the first volume, where the block is elsewhere
    assert first["volume"] == "time 1/4 (0 s)"
    assert first["regions"][0]["mean"] < 500
    code, _, err = run_cli(capsys, "stats", str(fmri_dir), "--roi", roi, "--index", "echo=2")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
