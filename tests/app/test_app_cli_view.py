"""``volumeviz view PATH --screenshot OUT.png``: the real window in a new process, then exit."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _volumeviz(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "volumeviz", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.model import phantom

    folder = tmp_path_factory.mktemp("series")
    write_synthetic_series(phantom.asymmetric(32, spacing=(1.0, 1.0, 2.0)), folder)
    return folder


def test_view_screenshot_is_what_the_cli_renders(series: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "view.png"
    res = _volumeviz("view", str(series), "--screenshot", str(shot), "--size", "700x560")
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith(str(shot))
    with Image.open(shot) as im:
        view_img = np.asarray(im.convert("RGB"), int)
        cli_opts = im.info["volumeviz:cli"]
    assert "--mpr quad" in cli_opts
    # the same view through `volumeviz screenshot` gives the same picture
    ref = tmp_path / "cli.png"
    res = _volumeviz("screenshot", str(series), *shlex.split(cli_opts), "-o", str(ref))
    assert res.returncode == 0, res.stderr[-3000:]
    with Image.open(ref) as im:
        cli_img = np.asarray(im.convert("RGB"), int)
    assert view_img.shape == cli_img.shape
    assert np.abs(view_img - cli_img).mean() < 1.0


def test_view_screenshot_equals_screenshot_with_the_same_defaults(
    series: Path, tmp_path: Path
) -> None:
    """No options on either side: the same window/level, slice positions and preset by design."""
    from PIL import Image

    shot = tmp_path / "view.png"
    res = _volumeviz("view", str(series), "--screenshot", str(shot), "--size", "700x560")
    assert res.returncode == 0, res.stderr[-3000:]
    with Image.open(shot) as im:
        view_img = np.asarray(im.convert("RGB"), int)
        view_meta = dict(im.info)
    w, h = view_img.shape[1], view_img.shape[0]
    ref = tmp_path / "cli.png"
    res = _volumeviz(
        "screenshot", str(series), "--mpr", "quad", "--size", f"{w}x{h}", "-o", str(ref)
    )
    assert res.returncode == 0, res.stderr[-3000:]
    with Image.open(ref) as im:
        cli_img = np.asarray(im.convert("RGB"), int)
        cli_meta = dict(im.info)
    for key in ("volumeviz:window", "volumeviz:planes", "volumeviz:preset", "volumeviz:camera"):
        assert view_meta[key] == cli_meta[key], key
    assert np.abs(view_img - cli_img).mean() < 1.0


def test_view_whole_window_screenshot(series: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "window.png"
    res = _volumeviz(
        "view", str(series), "--screenshot", str(shot), "--whole-window", "--size", "640x520"
    )
    assert res.returncode == 0, res.stderr[-3000:]
    with Image.open(shot) as im:
        assert im.size == (640, 520)
        img = np.asarray(im.convert("RGB"), int)
    # menus and toolbar (light grey) above dark views: not a blank or black picture
    assert img[:20].mean() > 150
    assert img[200:400, 20:300].mean() < 150


def test_view_of_a_broken_folder_fails_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.dcm").write_bytes(b"not dicom at all")
    res = _volumeviz("view", str(broken), "--screenshot", str(tmp_path / "o.png"))
    assert res.returncode == 1
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("volumeviz: error:")]
    assert len(lines) == 1, res.stderr
    assert str(broken) in lines[0]
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o.png").exists()


def test_view_missing_path_and_bad_size(tmp_path: Path) -> None:
    res = _volumeviz("view", str(tmp_path / "nope"))
    assert res.returncode == 1
    assert "does not exist" in res.stderr
    res = _volumeviz("view", str(tmp_path), "--size", "10x10")
    assert res.returncode == 2
    assert "200x200" in res.stderr
