"""Benchmark: ``volumeviz screenshot`` vs the plain pyvista script a user would write.

One run, on a synthetic 512x512x300 int16 CT series (a head-like phantom written as DICOM):

- A: ``volumeviz screenshot DIR --preset bone -o a.png`` end to end (new process: imports,
  DICOM read, render, PNG);
- L: ``load_series`` alone (the reader's share of time and memory);
- B: a plain script: SimpleITK reads the series, ``pv.ImageData`` holds it,
  ``pv.Plotter(off_screen=True).add_volume(grid, cmap="bone", opacity="sigmoid")`` with the
  default mapper, ``pl.screenshot``; B2 the same with ``shade=True`` (lit like the presets);
- per additional frame: the camera turns 10 degrees and renders again (volumeviz's fixed-point
  mapper, which ``auto`` picks for windows on software GL, vs pyvista's default smart mapper).
  For a single screenshot ``auto`` may pick the GPU ray caster instead (see
  ``volumeviz.render.volume.one_shot_mapper``); the end-to-end run A uses ``auto``.

Wall time and peak RSS are measured per process (``resource.getrusage`` of the child). Usage::

    VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow .venv/bin/python scripts/bench_render.py \
        [--data DIR] [--size 800x600] [--frames 3] [--json out.json]

Each end-to-end variant runs ``--repeat`` times (default 3), interleaved, and the median is
kept: other jobs on a shared 2-core machine move single runs by seconds. ``--data`` reuses (or
creates) the synthetic series in DIR; by default a temporary folder is used
and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (300, 512, 512)  # (k, j, i)
SPACING = (0.5, 0.5, 0.6)  # mm (i, j, k)

MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    t0 = time.perf_counter()
    {body}
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("BENCH " + json.dumps({{"wall_in_process": wall, "peak_rss_mb": rss_mb,
                                   "extra": globals().get("extra", {{}})}}))
    """
)

VOLUMEVIZ_CLI = """
from volumeviz.cli.main import main
main(["screenshot", {data!r}, "--preset", "bone", "--size", {size!r}, "-o", {out!r}])
"""

# what a user writes: SimpleITK reads the series, pyvista holds and renders it
PLAIN_SETUP = """
import numpy as np
import pyvista as pv
import SimpleITK as sitk
reader = sitk.ImageSeriesReader()
reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames({data!r}))
img = reader.Execute()
arr = sitk.GetArrayFromImage(img)
grid = pv.ImageData(dimensions=img.GetSize(), spacing=img.GetSpacing(), origin=img.GetOrigin())
grid.point_data["HU"] = arr.ravel()
w, h = (int(v) for v in {size!r}.split("x"))
pl = pv.Plotter(off_screen=True, window_size=(w, h))
"""

PLAIN_PYVISTA = (
    PLAIN_SETUP
    + """
pl.add_volume(grid, scalars="HU", cmap="bone", opacity="sigmoid", clim=(-200, 1500))
pl.camera_position = "xz"
pl.screenshot({out!r})
"""
)

PLAIN_PYVISTA_SHADED = PLAIN_PYVISTA.replace(
    "clim=(-200, 1500))", "clim=(-200, 1500), shade=True)"
)

LOAD_ONLY = """
from volumeviz.io.volume import load_series
vol = load_series({data!r})
"""

VOLUMEVIZ_FRAMES = """
import pyvista as pv
from volumeviz.io.volume import load_series
from volumeviz.render.screenshot import ViewState, make_plotter, render_scene
t = time.perf_counter(); vol = load_series({data!r}); load_s = time.perf_counter() - t
w, h = (int(v) for v in {size!r}.split("x"))
state = ViewState(preset="bone", size=(w, h), mapper="fixed")  # what a window uses per frame
pl = make_plotter(state)
info = render_scene(pl, vol, state)
t = time.perf_counter(); pl.ren_win.Render(); first = time.perf_counter() - t
times = []
for _ in range({frames}):
    pl.camera.azimuth += 10
    t = time.perf_counter(); pl.ren_win.Render(); times.append(time.perf_counter() - t)
pl.close()
extra = {{"load_s": load_s, "first_frame_s": first, "per_frame_s": sum(times) / len(times),
          "mapper": info.mapper}}
"""

PLAIN_FRAMES = (
    PLAIN_SETUP
    + """
t = time.perf_counter()
pl.add_volume(grid, scalars="HU", cmap="bone", opacity="sigmoid", clim=(-200, 1500))
add_volume_s = time.perf_counter() - t
pl.camera_position = "xz"
t = time.perf_counter(); pl.ren_win.Render(); first = time.perf_counter() - t
times = []
for _ in range({frames}):
    pl.camera.azimuth += 10
    t = time.perf_counter(); pl.ren_win.Render(); times.append(time.perf_counter() - t)
pl.close()
extra = {{"add_volume_s": add_volume_s, "first_frame_s": first,
          "per_frame_s": sum(times) / len(times)}}
"""
)


def make_series(folder: Path) -> None:
    """Write a head-like 512x512x300 int16 CT phantom as a synthetic DICOM series."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.model.volume import Volume, VolumeMeta

    nk, nj, ni = SHAPE
    arr = np.full(SHAPE, -1000, np.int16)
    j, i = np.ogrid[:nj, :ni]
    for k in range(nk):
        z = (k - nk / 2) / (nk / 2)  # -1..1
        scale = np.sqrt(max(0.0, 1 - (z * 0.9) ** 2))
        r2 = ((i - ni / 2) / (0.42 * ni * scale + 1e-6)) ** 2 + (
            (j - nj / 2) / (0.46 * nj * scale + 1e-6)
        ) ** 2
        sl = arr[k]
        sl[r2 < 1.0] = 900  # skull
        sl[r2 < 0.86] = 35  # brain
        rng = np.random.default_rng(k)
        noise = rng.normal(0, 12, sl.shape).astype(np.int16)
        sl += np.where(r2 < 1.0, noise, 0).astype(np.int16)
    vol = Volume(arr, spacing=SPACING, meta=VolumeMeta(modality="CT", units="HU"))
    write_synthetic_series(vol, folder, description="bench head phantom 512x512x300")


def run_child(code: str) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; return its wall time (outside) and peak RSS."""
    env = dict(os.environ)
    env.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", MEASURE.format(body=textwrap.indent(code, "").strip())],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    wall = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"child failed ({res.returncode}):\n{res.stderr[-2000:]}")
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("BENCH "))
    out = json.loads(line[6:])
    out["wall_s"] = wall
    return out


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Return the run with the median wall time (its peak RSS comes with it)."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    return ordered[len(ordered) // 2]


def main() -> None:
    """Run the benchmark and print a table (and optionally JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="series folder (made if missing)")
    ap.add_argument("--size", default="800x600")
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each end-to-end variant (median kept)"
    )
    args = ap.parse_args()

    tmp = None
    data = args.data
    if data is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench_render_"))
        data = tmp / "ct"
    try:
        if not data.is_dir() or not any(data.iterdir()):
            data.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            make_series(data)
            print(f"wrote the 512x512x300 series in {time.perf_counter() - t:.1f} s: {data}")
        outdir = Path(tempfile.mkdtemp(prefix="bench_out_"))
        fmt = {"data": str(data), "size": args.size, "frames": args.frames}
        runs: dict[str, list[dict[str, float]]] = {"a": [], "b": [], "b2": []}
        for _ in range(max(1, args.repeat)):  # interleaved, so load from other jobs hits all
            runs["a"].append(run_child(VOLUMEVIZ_CLI.format(out=str(outdir / "v.png"), **fmt)))
            runs["b"].append(run_child(PLAIN_PYVISTA.format(out=str(outdir / "p.png"), **fmt)))
            runs["b2"].append(
                run_child(PLAIN_PYVISTA_SHADED.format(out=str(outdir / "p2.png"), **fmt))
            )
        a, b, b2 = (median_run(runs[k]) for k in ("a", "b", "b2"))
        load = run_child(LOAD_ONLY.format(**fmt))
        fa = run_child(VOLUMEVIZ_FRAMES.format(**fmt))
        fb = run_child(PLAIN_FRAMES.format(**fmt))
        shutil.rmtree(outdir, ignore_errors=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    vol_mb = SHAPE[0] * SHAPE[1] * SHAPE[2] * 2 / 2**20
    result = {
        "volume": "512x512x300 int16",
        "volume_mb": vol_mb,
        "size": args.size,
        "volumeviz_wall_s": a["wall_s"],
        "plain_wall_s": b["wall_s"],
        "speedup": b["wall_s"] / a["wall_s"],
        "plain_shaded_wall_s": b2["wall_s"],
        "speedup_vs_shaded": b2["wall_s"] / a["wall_s"],
        "load_only_wall_s": load["wall_s"],
        "load_only_peak_rss_mb": load["peak_rss_mb"],
        "plain_shaded_peak_rss_mb": b2["peak_rss_mb"],
        "volumeviz_peak_rss_mb": a["peak_rss_mb"],
        "plain_peak_rss_mb": b["peak_rss_mb"],
        "rss_ratio_plain_over_volumeviz": b["peak_rss_mb"] / a["peak_rss_mb"],
        "volumeviz_rss_over_volume": a["peak_rss_mb"] / vol_mb,
        "volumeviz_mapper": fa["extra"]["mapper"],
        "volumeviz_load_s": fa["extra"]["load_s"],
        "volumeviz_first_frame_s": fa["extra"]["first_frame_s"],
        "volumeviz_per_frame_s": fa["extra"]["per_frame_s"],
        "plain_add_volume_s": fb["extra"]["add_volume_s"],
        "plain_first_frame_s": fb["extra"]["first_frame_s"],
        "plain_per_frame_s": fb["extra"]["per_frame_s"],
        "per_frame_speedup": fb["extra"]["per_frame_s"] / fa["extra"]["per_frame_s"],
    }
    print(f"volume 512x512x300 int16 = {vol_mb:.0f} MB, image {args.size}")
    print(f"{'':28s}{'volumeviz':>12s}{'plain pyvista':>15s}{'ratio':>9s}")
    print(f"{'end-to-end wall (s)':28s}{a['wall_s']:12.2f}{b['wall_s']:15.2f}"
          f"{result['speedup']:8.1f}x")  # fmt: skip
    print(f"{'  plain with shade=True':28s}{'':12s}{b2['wall_s']:15.2f}"
          f"{result['speedup_vs_shaded']:8.1f}x")  # fmt: skip
    print(f"{'peak RSS (MB)':28s}{a['peak_rss_mb']:12.0f}{b['peak_rss_mb']:15.0f}"
          f"{result['rss_ratio_plain_over_volumeviz']:8.2f}x")  # fmt: skip
    print(f"{'peak RSS / int16 volume':28s}{result['volumeviz_rss_over_volume']:12.2f}"
          f"{b['peak_rss_mb'] / vol_mb:15.2f}")  # fmt: skip
    print(f"{'  load_series alone':28s}{load['wall_s']:12.2f} s, peak RSS "
          f"{load['peak_rss_mb']:.0f} MB "
          f"({load['peak_rss_mb'] / vol_mb:.2f}x the volume)")  # fmt: skip
    print(f"{'first frame (s)':28s}{result['volumeviz_first_frame_s']:12.2f}"
          f"{result['plain_first_frame_s']:15.2f}")  # fmt: skip
    print(f"{'per additional frame (s)':28s}{result['volumeviz_per_frame_s']:12.2f}"
          f"{result['plain_per_frame_s']:15.2f}{result['per_frame_speedup']:8.1f}x")  # fmt: skip
    print(f"volumeviz mapper: {result['volumeviz_mapper']}; volumeviz load_series: "
          f"{result['volumeviz_load_s']:.2f} s; plain add_volume() alone: "
          f"{result['plain_add_volume_s']:.2f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
