"""`volumeviz screenshot` works on a machine with no display: no DISPLAY, no GPU, no VTK env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.render


def test_screenshot_without_display(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "VTK_DEFAULT_OPENGL_WINDOW")
    }
    out = tmp_path / "bone.png"
    res = subprocess.run(
        [sys.executable, "-m", "volumeviz", "screenshot", str(ROOT / "assets" / "ct-head"),
         "--preset", "bone", "--size", "240x180", "-o", str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (180, 240, 3)
    # a skull, not a blank frame: a good share of bright bone-coloured pixels in the middle
    centre = img[45:135, 60:180].astype(int)
    assert (centre.sum(axis=2) > 300).mean() > 0.2
