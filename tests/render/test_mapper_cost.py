"""The ``auto`` mapper's cost model, held to what the two mappers really cost on the bench volume.

``render.volume.mapper_costs`` estimates the CPU seconds of one offscreen frame for the
fixed-point and the GPU ray caster on software GL; ``auto`` picks the cheaper for a one-shot
picture. Here both mappers render the benchmark's 512x512x300 CT head at 1024x768 (bone:
shaded; mip: not) and each estimate must be within 2x of the CPU time measured (all threads,
so other jobs on the machine move it far less than wall time). Only meaningful on software GL.
"""

from __future__ import annotations

import time

import pytest
from vtkmodules.vtkCommonCore import vtkCommand

from volumeviz.model import phantom
from volumeviz.model.volume import Volume
from volumeviz.render import volume as rvolume
from volumeviz.render.screenshot import ViewState, make_plotter, render_scene
from volumeviz.transfer import load_preset

SIZE = (1024, 768)


@pytest.fixture(scope="module")
def bench_volume() -> Volume:
    return phantom.head()


def _first_frame_cpu(vol: Volume, preset: str, mapper: str) -> tuple[float, float]:
    """CPU seconds of the first frame and of the normals inside it."""
    state = ViewState(preset=preset, size=SIZE, mapper=mapper, annotations=False)
    pl = make_plotter(state)
    try:
        pl.ren_win.Render()  # the GL context exists before the clock starts
        render_scene(pl, vol, state)
        vols = pl.renderer.GetVolumes()
        vols.InitTraversal()
        m = vols.GetNextVolume().GetMapper()
        marks: dict[str, float] = {}
        for event, key in (
            (vtkCommand.VolumeMapperComputeGradientsStartEvent, "start"),
            (vtkCommand.VolumeMapperComputeGradientsEndEvent, "end"),
        ):
            m.AddObserver(event, lambda *_, k=key: marks.__setitem__(k, time.process_time()))
        t0 = time.process_time()
        pl.ren_win.Render()
        total = time.process_time() - t0
    finally:
        pl.close()
    return total, marks.get("end", 0.0) - marks.get("start", 0.0)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["bone", "mip"])
def test_estimates_within_2x_on_the_bench_volume(bench_volume: Volume, preset: str) -> None:
    if not rvolume.is_software_gl():
        pytest.skip("the cost model is for software GL (llvmpipe); a GPU takes 'gpu' always")
    tf = load_preset(preset)
    est = rvolume.mapper_costs(bench_volume, tf, SIZE[0] * SIZE[1])
    for kind in ("fixed", "gpu"):
        measured, _ = _first_frame_cpu(bench_volume, preset, kind)
        ratio = est[kind] / measured
        assert 0.5 <= ratio <= 2.0, (
            kind,
            preset,
            f"estimated {est[kind]:.2f} s, measured {measured:.2f} s",
        )
