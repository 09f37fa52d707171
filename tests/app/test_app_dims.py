"""The window on a series with extra dimensions: a slider per dimension and play/pause; moving
the time slider shows that time point in every view (the three MPR planes and 3D), under Xvfb."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from volumeviz.io.synth import write_synthetic_series
from volumeviz.model import phantom

pytestmark = pytest.mark.gui

UID = "1.2.826.0.1.3680043.8.498.6161"
N = 4


def _time_point(t: int) -> Any:
    """An MR phantom whose bright block sits further toward the patient's left at each t."""
    base = phantom.asymmetric(32, modality="MR")
    arr = np.interp(base.array, [-1000, 1000], [0, 300]).astype(np.int16)
    arr[12:20, 12:20, 3 + 7 * t : 7 + 7 * t] = 1000
    return base.replace(array=arr)


@pytest.fixture(scope="module")
def fmri(tmp_path_factory: Any) -> Path:
    folder = tmp_path_factory.mktemp("fmri4d")
    for t in range(N):
        write_synthetic_series(
            _time_point(t),
            folder,
            modality="MR",
            series_uid=UID,
            prefix=f"T{t}_",
            first_instance=1 + 32 * t,
            window=None,
            elements={"TemporalPositionIdentifier": t + 1, "RepetitionTime": 500},
        )
    return folder


def _open(win: Any, qtbot: Any, folder: Path) -> None:
    with qtbot.waitSignal(win.volume_loaded, timeout=60_000):
        win.open_path(folder)


def _picture(win: Any, view: str) -> np.ndarray:
    pl = win.panels[view].interactor
    pl.render()
    return np.asarray(pl.screenshot(None, return_img=True))[..., :3].astype(int)


def _bright_columns(img: np.ndarray) -> float:
    """Mean x of the brightest pixels (the block) in the middle of a view's picture.

    The margins (letters, text, the orientation marker) are left out.
    """
    h, w = img.shape[:2]
    grey = img[h // 6 : h - h // 6, w // 6 : w - w // 6].mean(axis=-1)
    _, xs = np.nonzero(grey >= grey.max() - 8)
    return float(xs.mean()) + w // 6


def test_time_slider_updates_every_view(win: Any, qtbot: Any, fmri: Path) -> None:
    _open(win, qtbot, fmri)
    assert win.multivolume is not None
    panel = win.dims_panel
    assert panel.isVisible()
    assert set(panel.sliders) == {"time"}
    slider = panel.sliders["time"]
    assert (slider.minimum(), slider.maximum()) == (0, N - 1)
    assert panel.labels["time"].text() == "time 1/4 (0 s)"
    # the crosshair through the block at time 1 (i = 5): every plane shows it then
    lps = win.vol.index_to_lps([5, 16, 16])
    win.set_state(win.state.moved_to(win.vol, lps).replace(preset="mr-mip"))  # block brightest
    before = {v: _picture(win, v) for v in ("axial", "coronal", "sagittal", "3d")}
    state = win.state
    with qtbot.waitSignal(win.index_changed, timeout=30_000):
        slider.setValue(3)
    assert win.vol.meta.dims[0].index == 3
    assert panel.labels["time"].text() == "time 4/4 (1.5 s)"
    assert "time 4/4 (1.5 s)" in win.windowTitle()
    assert win.state == state  # crosshair, window, preset, layout kept
    for plane, scene in win.slices.items():  # every MPR view holds the new voxels
        assert scene.vol is win.vol, plane
    assert win.scene3d.vol is win.vol
    after = {v: _picture(win, v) for v in ("axial", "coronal", "sagittal", "3d")}
    for view in ("axial", "coronal", "3d"):  # the block moved toward L: image right
        assert _bright_columns(after[view]) > _bright_columns(before[view]) + 10, view

    # the sagittal plane through i = 5 cuts the block at time 1, not at time 4
    def bright(img: np.ndarray) -> int:
        return int((img.mean(axis=-1) >= 250).sum())

    assert bright(before["sagittal"]) > 20
    assert bright(after["sagittal"]) < bright(before["sagittal"]) / 4


def test_play_steps_along_time_and_wraps(win: Any, qtbot: Any, fmri: Path) -> None:
    _open(win, qtbot, fmri)
    panel = win.dims_panel
    assert panel.play_rate() == pytest.approx(2.0)  # 1 / TR of 0.5 s
    seen: list[int] = []
    win.index_changed.connect(lambda idx: seen.append(idx[0]))
    panel.set_playing(True)
    assert panel.playing
    qtbot.waitUntil(lambda: len(seen) >= N + 1, timeout=60_000)
    panel.set_playing(False)
    assert not panel.playing
    assert seen[: N + 1] == [1, 2, 3, 0, 1]
    assert win.vol.meta.dims[0].index == seen[-1]


def test_view_index_opens_that_volume(win: Any, qtbot: Any, fmri: Path) -> None:
    win.initial_index = {"time": 2}
    _open(win, qtbot, fmri)
    assert win.vol.meta.dims[0].index == 2
    assert win.dims_panel.sliders["time"].value() == 2
    win.close_series()
    assert win.multivolume is None
    assert not win.dims_panel.isVisible()


def test_plain_series_has_no_dimension_panel(win: Any, qtbot: Any, tmp_path: Path) -> None:
    write_synthetic_series(phantom.asymmetric(16), tmp_path)
    _open(win, qtbot, tmp_path)
    assert win.multivolume is None
    assert not win.dims_panel.isVisible()


def test_series_browser_shows_the_dimensions(fmri: Path) -> None:
    from volumeviz.app.browser import series_rows
    from volumeviz.io.discover import scan

    (row,) = series_rows(scan(fmri))
    assert row["Size"] == "32x32x32 × 4 time (TR 0.5 s)"


def test_two_dimensions_two_sliders(win: Any, qtbot: Any, tmp_path: Path) -> None:
    """Two echoes x magnitude/phase (Echo Numbers with Image Type): a slider for each; each
    moves only its own index, and the window then holds exactly that volume's voxels."""
    from volumeviz.io.volume import load_multivolume

    kinds = (["ORIGINAL", "PRIMARY", "M", "ND"], ["ORIGINAL", "PRIMARY", "P", "ND"])
    for n in range(4):
        part, echo = divmod(n, 2)
        write_synthetic_series(
            _time_point(n),
            tmp_path,
            modality="MR",
            series_uid=UID,
            prefix=f"V{n}_",
            first_instance=1 + 32 * n,
            window=None,
            elements={"EchoNumbers": echo + 1, "EchoTime": 5 + 5 * echo, "ImageType": kinds[part]},
        )
    _open(win, qtbot, tmp_path)
    panel = win.dims_panel
    assert list(panel.sliders) == ["part", "echo"]
    assert panel.labels["echo"].text() == "echo 1/2 (TE 5 ms)"
    mv = load_multivolume(tmp_path)
    with qtbot.waitSignal(win.index_changed, timeout=30_000):
        panel.sliders["echo"].setValue(1)
    assert panel.index == (0, 1)
    assert [d.label for d in win.vol.meta.dims] == ["part 1/2 (magnitude)", "echo 2/2 (TE 10 ms)"]
    np.testing.assert_array_equal(win.vol.array, mv.volume((0, 1)).array)
    with qtbot.waitSignal(win.index_changed, timeout=30_000):
        panel.sliders["part"].setValue(1)
    assert panel.index == (1, 1)  # the echo stays
    assert panel.labels["part"].text() == "part 2/2 (phase)"
    np.testing.assert_array_equal(win.vol.array, _time_point(3).array)
    for scene in (*win.slices.values(), win.scene3d):
        assert scene.vol is win.vol
