"""One GL context question per process, and one set of per-voxel normals per volume.

``render.volume.reuse_volumes`` keeps a volume's grid and fixed-point mapper (with the normals
it encoded) for the pictures drawn in the block; every picture must stay exactly what a fresh
render gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from vtkmodules.vtkCommonCore import vtkCommand

from volumeviz.model import phantom
from volumeviz.model.volume import Volume
from volumeviz.render import volume as rvolume
from volumeviz.render.screenshot import screenshot


@pytest.fixture
def head() -> Volume:
    return phantom.head((40, 64, 64), spacing=(1.0, 1.0, 1.5))


@pytest.fixture
def normals_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the fixed-point mappers' normal computations."""
    count: list[int] = []
    make = rvolume._make_mapper

    def counting(*args: Any, **kwargs: Any) -> Any:
        m = make(*args, **kwargs)
        if args[0] == "fixed":
            m.AddObserver(
                vtkCommand.VolumeMapperComputeGradientsStartEvent, lambda *_: count.append(1)
            )
        return m

    monkeypatch.setattr(rvolume, "_make_mapper", counting)
    return count


def _shot(vol: Volume, **kw: Any) -> np.ndarray:
    opts = {"preset": "bone", "size": (96, 72), "annotations": False, "mapper": "fixed"}
    opts.update(kw)
    return screenshot(vol, **opts)


def test_reused_normals_give_the_same_pictures(head: Volume, normals_counted: list[int]) -> None:
    fresh = [_shot(head), _shot(head, view="left"), _shot(head, preset="mip")]
    assert len(normals_counted) == 2  # every shaded picture computed its own
    normals_counted.clear()
    with rvolume.reuse_volumes():
        kept = [_shot(head), _shot(head, view="left"), _shot(head, preset="mip")]
        assert len(rvolume._SESSIONS[-1]) == 1
    assert len(normals_counted) == 1  # once for the volume
    assert not rvolume._SESSIONS  # nothing held after the block
    for a, b in zip(fresh, kept, strict=True):
        np.testing.assert_array_equal(a, b)


def test_crop_of_one_picture_does_not_stay(head: Volume) -> None:
    """The kept mapper loses the previous picture's clipping planes."""
    b = head.corners_lps()
    lo, hi = b.min(axis=0), b.max(axis=0)
    box = [lo[0], (lo[0] + hi[0]) / 2, lo[1], hi[1], lo[2], hi[2]]
    with rvolume.reuse_volumes():
        cropped = _shot(head, crop=box)
        whole = _shot(head)
    np.testing.assert_array_equal(whole, _shot(head))
    assert not np.array_equal(cropped, whole)


def test_another_volume_is_not_confused(head: Volume) -> None:
    """Same shape and spacing, other voxels: its own grid and normals."""
    other = head.replace(array=np.ascontiguousarray(head.array[:, :, ::-1]))
    with rvolume.reuse_volumes():
        _shot(head)
        mirrored = _shot(other)
        assert len(rvolume._SESSIONS[-1]) == 2
    np.testing.assert_array_equal(mirrored, _shot(other))


def test_auto_counts_kept_normals_as_free(head: Volume) -> None:
    from volumeviz.transfer import load_preset

    tf = load_preset("bone")
    costs = rvolume.mapper_costs(head, tf, 1024 * 768)
    ready = rvolume.mapper_costs(head, tf, 1024 * 768, normals_ready=True)
    assert ready["fixed"] < costs["fixed"]
    assert ready["gpu"] == costs["gpu"]


def test_renderer_string_asked_of_the_picture_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """No probe window when the plotter's own window can answer."""
    import pyvista as pv

    made: list[int] = []
    real = rvolume.vtkRenderWindow

    def counting() -> Any:
        made.append(1)
        return real()

    monkeypatch.setattr(rvolume, "_RENDERER", [])
    monkeypatch.setattr(rvolume, "vtkRenderWindow", counting)
    pl = pv.Plotter(off_screen=True, window_size=(32, 32))
    try:
        name = rvolume.opengl_renderer(pl.ren_win)
    finally:
        pl.close()
    assert made == []
    assert name  # e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
    assert rvolume.opengl_renderer() == name  # once per process


def test_kept_windows_draw_what_new_windows_draw(head: Volume) -> None:
    """A varied sequence through one kept window per layout: every picture as a new window's."""
    from volumeviz.model.segmentation import Grid, Segment, Segmentation
    from volumeviz.render.screenshot import ViewState, keep_windows, render_image

    marker = head.center_lps
    a, b = head.corners_lps()[0], head.center_lps
    blob = np.zeros(head.array.shape, bool)
    blob[10:30, 20:40, 20:44] = True
    seg = Segmentation(Grid.of(head), (Segment(1, "blob", (1.0, 0.2, 0.2), blob),))
    states = [
        ViewState(preset="bone", size=(120, 90), view="left", elevation=20),
        ViewState(mpr="axial", size=(100, 100), window="400/40"),
        ViewState(mpr="quad", size=(160, 120), preset="mip", slice=marker),
        ViewState(mpr="coronal", size=(90, 120), neurological=True, slab_mm=6),
        ViewState(preset="soft-tissue", size=(96, 72), annotations=False, zoom=1.5),
        ViewState(mpr="quad", size=(120, 120), preset="bone", annotations=False),
        ViewState(mpr="sagittal", size=(80, 64), anonymize=True),
        ViewState(preset="mip", size=(120, 90), view="superior", mapper="fixed"),
        ViewState(
            mpr="axial",
            size=(100, 100),
            measurements=(
                f"distance:{a[0]:.1f},{a[1]:.1f},{b[2]:.1f},{b[0]:.1f},{b[1]:.1f},{b[2]:.1f}",
            ),
        ),
    ]
    segs = [(), (seg,), (seg,), (), (seg,), (), (), (), ()]
    fresh = [render_image(head, s, segmentations=g)[0] for s, g in zip(states, segs, strict=True)]
    with keep_windows():
        kept = [
            render_image(head, s, segmentations=g)[0] for s, g in zip(states, segs, strict=True)
        ]
    for n, (a, b) in enumerate(zip(fresh, kept, strict=True)):
        assert a.shape == b.shape, n
        np.testing.assert_array_equal(a, b, err_msg=f"picture {n}: {states[n]}")


_REPORT_LIKE = """
import numpy as np
from volumeviz.model import phantom
from volumeviz.render.screenshot import ViewState, keep_windows, render_image
from volumeviz.render.volume import reuse_volumes

head = phantom.head((40, 64, 64), spacing=(1.0, 1.0, 1.5))
states = [
    ViewState(preset="bone", size=(120, 90), mapper="fixed"),
    ViewState(preset="bone", size=(120, 90), view="left", mapper="fixed"),
    ViewState(mpr="quad", size=(600, 600), preset="bone", mapper="fixed"),
    ViewState(preset="bone", size=(120, 90), mapper="fixed"),
]
with keep_windows(), reuse_volumes():
    kept = [render_image(head, s)[0] for s in states]
fresh = [render_image(head, s)[0] for s in states]
assert fresh[2][300:-80, 300:].mean() > 5, "the skull is drawn in the lower right panel"
for n, (a, b) in enumerate(zip(fresh, kept, strict=True)):
    assert (a == b).all(), f"picture {n} differs: 3D panel mean {b[300:-80, 300:].mean()}"
print("same")
"""


def test_kept_windows_and_kept_normals_together_as_a_report_draws() -> None:
    """A report keeps windows AND normals: the quad's 3D panel, drawn in the quad's own window
    with the mapper the 3D views used in theirs, must not come out black. It did, with no
    display (EGL on the device, as the CLI runs on a server): the mapper's image texture stayed
    in the other window's GL context. pytest-xvfb gives this process a display, under which it
    did not show, so the pictures are drawn in a child process without one."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["VTK_DEFAULT_OPENGL_WINDOW"] = "vtkEGLRenderWindow"
    proc = subprocess.run(
        [sys.executable, "-c", _REPORT_LIKE], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "same"


def test_kept_window_closed_after_a_failure(head: Volume, monkeypatch: pytest.MonkeyPatch) -> None:
    """A picture that fails is not kept: the next one gets a new window."""
    from volumeviz.errors import RenderError
    from volumeviz.render import screenshot as shot

    with shot.keep_windows():
        shot.render_image(head, shot.ViewState(mpr="axial", size=(64, 64)))
        assert len(shot._KEPT[-1]) == 1
        real = shot.render_scene

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("simulated")

        monkeypatch.setattr(shot, "render_scene", broken)
        with pytest.raises(RenderError):
            shot.render_image(head, shot.ViewState(mpr="axial", size=(64, 64)))
        assert shot._KEPT[-1] == {}
        monkeypatch.setattr(shot, "render_scene", real)
    assert not shot._KEPT


def test_an_inner_block_shares_the_outer_windows(head: Volume) -> None:
    """A batch worker's block spans its jobs; each job's own block uses the same windows."""
    from volumeviz.render import screenshot as shot

    with shot.keep_windows():
        with shot.keep_windows():
            shot.render_image(head, shot.ViewState(mpr="axial", size=(64, 64)))
        assert len(shot._KEPT) == 1
        (kept,) = shot._KEPT[-1].values()
        with shot.keep_windows():
            shot.render_image(head, shot.ViewState(mpr="sagittal", size=(48, 64)))
        assert list(shot._KEPT[-1].values()) == [kept]  # the same window drew the next job
    assert not shot._KEPT


def test_batch_workers_keep_their_windows() -> None:
    from volumeviz.report import batch

    batch._worker_start()
    try:
        from volumeviz.render import screenshot as shot

        assert len(shot._KEPT) == 1
    finally:
        batch._WORKER.close()
    assert not shot._KEPT
