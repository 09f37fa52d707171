"""What the loader did is stamped on the picture and printed under -v (never silent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli, shared_path
from volumeviz.model import phantom
from volumeviz.model.stamps import loader_actions
from volumeviz.model.volume import GeometryIssue

pytestmark = pytest.mark.render


@pytest.fixture(scope="module")
def tilted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from volumeviz.io.synth import write_synthetic_series

    folder = tmp_path_factory.mktemp("tilted")
    write_synthetic_series(phantom.asymmetric(24, spacing=(1.0, 1.0, 2.0)), folder, tilt_deg=15.0)
    return folder


def test_every_action_kind_has_its_short_line() -> None:
    issues = [
        GeometryIssue("no-pixel-spacing", "...", action="assumed"),
        GeometryIssue("colour-to-grey", "...", action="converted"),
        GeometryIssue("rejected-files", "...", 3.0, action="ignored"),
        GeometryIssue("missing-slices", "...", 7.4, "mm", "resampled"),
        GeometryIssue("resampled", "...", 2.0, "mm", "resampled"),
        GeometryIssue("single-slice", "one slice only"),  # nothing done: no line
    ]
    assert loader_actions(issues) == [
        "resampled: missing slices",
        "assumed: pixel spacing 1 mm",
        "converted: colour to grey",
        "ignored: 3 rejected files",
    ]


@pytest.mark.slow
def test_tilted_series_is_stamped_and_said_under_verbose(tilted: Path, tmp_path: Path, capsys):
    import subprocess
    import sys

    from PIL import Image

    out = tmp_path / "q.png"
    res = subprocess.run(
        [sys.executable, "-m", "volumeviz", "-v", "screenshot", str(tilted), "--mpr", "axial",
         "--size", "48x36", "-o", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    said = [ln for ln in res.stderr.splitlines() if "resampled: gantry tilt 15.0°" in ln]
    assert said == ["volumeviz: INFO: series 1: resampled: gantry tilt 15.0°"], res.stderr
    # without -v nothing is printed, but the picture still carries it (and its metadata)
    code, _, err = run_cli(capsys, "screenshot", str(tilted), "--size", "48x36", "-o", str(out))
    assert code == 0, err
    assert "resampled" not in err
    with Image.open(out) as im:
        assert "gantry-tilt" in im.info["volumeviz:issues"]

    from volumeviz.io.volume import load_series
    from volumeviz.render.screenshot import render_image
    from volumeviz.render.state import ViewState

    vol = load_series(tilted)
    for mpr in ("axial", "quad", None):
        _, info = render_image(vol, ViewState(mpr=mpr, size=(480, 360)))
        first = next(iter(info.layouts.values()))
        assert "resampled: gantry tilt 15.0°" in " ".join(first.shown("upper_left").split())


@pytest.mark.slow
def test_real_tilted_ct_says_what_was_done(shared_data: Path) -> None:
    from volumeviz.io.volume import load_series
    from volumeviz.render.screenshot import render_image
    from volumeviz.render.state import ViewState

    vol = load_series(shared_path(shared_data, "ct/ge_hispeed_tilt_varspacing"))
    assert loader_actions(vol.issues) == [
        "resampled: gantry tilt 18.5°, uneven spacing 1.08–7.00 mm"
    ]
    _, info = render_image(vol, ViewState(mpr="axial", size=(320, 240)))
    shown = " ".join(info.layouts["axial"].shown("upper_left").split())
    assert "resampled: gantry tilt 18.5°, uneven spacing 1.08–7.00 mm" in shown
