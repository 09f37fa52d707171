"""Benchmark rendering (issue #14): screenshot, MPR, window, report and batch, each against the
baseline the issue names, measured in the same run.

    VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow python scripts/bench_render.py \\
        [--repeat 3] [--keep DIR] [--quick] [--skip view,report,batch] [--json F]

Needs ``$VOLUMEVIZ_SHARED_DATA``. Data (written once into ``--keep DIR`` if given):

- ``head300``: the 512x512x300 int16 CT head phantom (:func:`volumeviz.model.phantom.head`,
  150 MB of voxels) as a DICOM series;
- ``study3``: three copies of the real 140-slice head CT (new series UIDs) in one folder, for
  the report row; ``study1`` holds one of them; ``batch4`` four, one folder each (batch row).

Every variant is a whole ``volumeviz`` (or plain-pyvista) process measured from outside
(``scripts/_benchlib.py``: wall, CPU of all threads, peak RSS), ``--repeat`` interleaved
rounds, medians. Rows (the issue's target table):

- ``screenshot --preset bone --size 1024x768`` vs the plain pyvista script (SimpleITK reads
  the series, ``pv.ImageData`` + ``add_volume``, ``pl.screenshot``): >= 3x faster, peak RSS
  <= 3x the volume;
- ``screenshot --mpr axial`` vs ``volumeviz info`` on the same series: <= 2x;
- ``view`` to its first full render (logged by ``volumeviz -v view --screenshot``) vs
  ``screenshot --mpr quad`` of the same layout and size: <= 1.5x (under ``xvfb-run`` when there is
  no display);
- ``report`` of 3 series vs 1 series: each extra series <= 0.5x a standalone screenshot of one;
- ``batch -j 2`` vs ``batch --sequential`` (4 inputs, one 3D screenshot each): >= 1.6x.

Lever variants (before/after, same run): the report with the per-voxel normals recomputed for
every 3D picture (``reuse_volumes`` off), and the screenshot with each mapper forced. With
``--profile`` one in-process screenshot is also broken down (imports, load, plotter, first
frame and its normals, PNG): the floor of the screenshot row. ``--calibrate`` instead measures
one frame of each mapper (CPU seconds) on three volumes at two sizes, next to the estimates of
``volumeviz.render.volume.mapper_costs`` and what ``auto`` picks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

import _benchlib as B  # noqa: E402

SIZE = "1024x768"
VIEW_SIZE = "1100x850"

# what a user writes: SimpleITK reads the series, pyvista holds and renders it
PLAIN_PYVISTA = """
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
pl.add_volume(grid, scalars="HU", cmap="bone", opacity="sigmoid", clim=(-200, 1500))
pl.camera_position = "xz"
pl.screenshot({out!r})
"""

NO_REUSE = """
import contextlib
import volumeviz.render.volume as rv
rv.reuse_volumes = contextlib.nullcontext  # the 'before' of the normals-reuse lever
from volumeviz.cli.main import main
main({args!r})
"""

PROFILE = """
import json, resource, sys, time
from vtkmodules.vtkCommonCore import vtkCommand
T = [(time.perf_counter(), time.process_time())]
marks = {{}}
def mark(name):
    T.append((time.perf_counter(), time.process_time()))
    marks[name] = (T[-1][0] - T[-2][0], T[-1][1] - T[-2][1])
import volumeviz.io.volume as io_volume
mark("import io (numpy, pydicom)")
import volumeviz.render.screenshot as S
mark("import render (vtk, pyvista)")
vol = io_volume.load_series({data!r})
mark("load_series")
state = S.ViewState(preset="bone", size=tuple(int(v) for v in {size!r}.split("x")))
pl = S.make_plotter(state)
mark("plotter (pyvista -> matplotlib)")
info = S.render_scene(pl, vol, state)
mark("scene (GL context, actors)")
vols = pl.renderer.GetVolumes(); vols.InitTraversal(); m = vols.GetNextVolume().GetMapper()
g = {{}}
m.AddObserver(vtkCommand.VolumeMapperComputeGradientsStartEvent,
              lambda *a: g.setdefault("start", (time.perf_counter(), time.process_time())))
m.AddObserver(vtkCommand.VolumeMapperComputeGradientsEndEvent,
              lambda *a: g.setdefault("end", (time.perf_counter(), time.process_time())))
img = S.grab_frame(pl)
mark("first frame ({{}} mapper)".format(info.mapper))
pl.close()
S.write_png({out!r}, img, S.png_metadata(vol, state, info))
mark("close + PNG")
if "end" in g:
    gs, ge = g["start"], g["end"]
    marks["  of which per-voxel normals"] = (ge[0] - gs[0], ge[1] - gs[1])
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("BENCH " + json.dumps({{"marks": marks, "rss_mb": rss, "mapper": info.mapper}}))
"""


CALIBRATE = """
import json, sys, time
from vtkmodules.vtkCommonCore import vtkCommand
from volumeviz.io.volume import load_series
import volumeviz.render.screenshot as S
from volumeviz.render import volume as RV
from volumeviz.transfer import load_preset
vol = load_series({data!r})
out = []
for size in {sizes!r}:
    for preset in {presets!r}:
        tf = load_preset(preset)
        row = {{"size": size, "preset": preset, "voxels": int(vol.array.size),
                "estimate": RV.mapper_costs(vol, tf, size[0] * size[1]),
                "auto": RV.one_shot_mapper(vol, tf, size[0] * size[1])}}
        for kind in ("fixed", "gpu"):
            st = S.ViewState(preset=preset, size=tuple(size), mapper=kind, annotations=False)
            pl = S.make_plotter(st)
            pl.ren_win.Render()
            S.render_scene(pl, vol, st)
            c = time.process_time()
            pl.ren_win.Render()
            row[kind] = time.process_time() - c
            pl.close()
        out.append(row)
print("BENCH " + json.dumps({{"rows": out}}))
"""


def calibrate(paths: dict[str, Path]) -> None:
    """Measure one frame of each mapper (CPU, all threads) against :func:`mapper_costs`."""
    cases = [
        ("bundled 28-slice CT", B.ROOT / "assets" / "ct-head", [(240, 180), (800, 600)]),
        ("real 140-slice CT", paths["one"], [(320, 240), (1024, 768)]),
        ("512x512x300 phantom", paths["head300"], [(512, 384), (1024, 768)]),
    ]
    print("\n| volume | size | preset | fixed s (est) | gpu s (est) | faster | auto |")
    print("|---|---|---|---|---|---|---|")
    for name, data, sizes in cases:
        code = CALIBRATE.format(data=str(data), sizes=sizes, presets=["bone", "mip"])
        for row in B.run(py(code)).data["rows"]:
            est = row["estimate"]
            faster = "fixed" if row["fixed"] < row["gpu"] else "gpu"
            print(
                f"| {name} | {row['size'][0]}x{row['size'][1]} | {row['preset']} | "
                f"{row['fixed']:.2f} ({est['fixed']:.2f}) | {row['gpu']:.2f} ({est['gpu']:.2f}) | "
                f"{faster} | {row['auto']} |"
            )


def py(code: str) -> list[str]:
    return [B.PY, "-c", textwrap.dedent(code)]


def vv(*args: str) -> list[str]:
    return [*B.VOLUMEVIZ, *args]


def make_data(root: Path) -> dict[str, Path]:
    """Write what is missing under ``root``; return the folders."""
    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.model import phantom

    real = B.shared_data() / "ct" / "philips_ingenuity_head_1mm_140sl" / "series"
    paths = {
        "head300": root / "head300",
        "study1": root / "study1",
        "study3": root / "study3",
        "one": root / "study3" / "s1",
        "batch4": root / "batch4",
    }
    if not paths["head300"].is_dir():
        t = time.perf_counter()
        vol = phantom.head()
        write_synthetic_series(vol, paths["head300"], description="bench head phantom 512x512x300")
        print(f"wrote head300 in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if not paths["study3"].is_dir():
        for n in (1, 2, 3):
            B.copy_series(real, paths["study3"] / f"s{n}", series_number=n)
    if not paths["study1"].is_dir():
        B.copy_series(paths["one"], paths["study1"] / "s1", series_number=1)
    if not paths["batch4"].is_dir():
        for n in (1, 2, 3, 4):
            B.copy_series(real, paths["batch4"] / f"s{n}", series_number=n)
    for p in paths.values():
        B.warm(p)
    return paths


def batch_spec(root: Path, inputs: Path, out: Path) -> Path:
    spec = root / f"{out.name}.toml"
    spec.write_text(
        f'output = "{out}"\n\n[[input]]\npath = "{inputs}/*"\n\n'
        '[[render]]\nkind = "screenshot"\npreset = "bone"\nview = "anterior"\nsize = [800, 600]\n'
    )
    return spec


def view_cmd(data: Path, out: Path) -> list[str]:
    cmd = vv("-v", "view", str(data), "--screenshot", str(out), "--size", VIEW_SIZE)
    if not os.environ.get("DISPLAY"):
        if not shutil.which("xvfb-run"):
            sys.exit("the view row needs a display or xvfb-run (or --skip view)")
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", *cmd]
    return cmd


def first_render_s(run: B.Run) -> float:
    m = re.search(r"first full render ([\d.]+) s after launch", run.err)
    if m is None:
        raise RuntimeError(f"no first-render line in the view's log:\n{run.err[-2000:]}")
    return float(m.group(1))


def main(argv: list[str] | None = None) -> int:
    fmt = argparse.RawTextHelpFormatter
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds (median kept)")
    ap.add_argument("--keep", type=Path, help="write the data here (reused next time)")
    ap.add_argument("--quick", action="store_true", help="skip the lever (before) variants")
    ap.add_argument("--skip", default="", help="rows to skip: view,report,batch,mpr")
    ap.add_argument("--profile", action="store_true", help="break one screenshot down")
    ap.add_argument(
        "--calibrate", action="store_true", help="only: each mapper's frame against the model"
    )
    ap.add_argument("--json", type=Path, help="also write the medians here")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench_render_"))
    out = Path(tempfile.mkdtemp(prefix="bench_render_out_"))
    counter = [0]

    def fresh(suffix: str) -> str:
        counter[0] += 1
        return str(out / f"{counter[0]}{suffix}")

    try:
        d = make_data(tmp)
        if args.calibrate:
            calibrate(d)
            return 0
        head, one, study1, study3 = (str(d[k]) for k in ("head300", "one", "study1", "study3"))
        variants: dict[str, Any] = {
            "screenshot": lambda: B.run(
                vv("screenshot", head, "--preset", "bone", "--size", SIZE, "-o", fresh(".png"))
            ),
            "plain pyvista": lambda: B.run(
                py(PLAIN_PYVISTA.format(data=head, size=SIZE, out=fresh(".png")))
            ),
        }
        if "mpr" not in skip:
            variants["mpr axial"] = lambda: B.run(
                vv("screenshot", head, "--mpr", "axial", "-o", fresh(".png"))
            )
            variants["info"] = lambda: B.run(vv("info", head))
        if "view" not in skip:
            variants["view"] = lambda: B.run(view_cmd(d["head300"], Path(fresh(".png"))))
            variants["quad"] = lambda: B.run(
                vv("screenshot", head, "--mpr", "quad", "--size", VIEW_SIZE, "-o", fresh(".png"))
            )
        if "report" not in skip:
            variants["report 1 series"] = lambda: B.run(vv("report", study1, "-o", fresh(".pdf")))
            variants["report 3 series"] = lambda: B.run(vv("report", study3, "-o", fresh(".pdf")))
            variants["screenshot of 1"] = lambda: B.run(
                vv("screenshot", one, "--preset", "bone", "-o", fresh(".png"))
            )
        if "batch" not in skip:

            def batch(*how: str) -> B.Run:
                spec = batch_spec(out, d["batch4"], Path(fresh("")))
                return B.run(vv("batch", str(spec), *how, "--no-progress"))

            variants["batch sequential"] = lambda: batch("--sequential")
            variants["batch -j 2"] = lambda: batch("-j", "2")
        if not args.quick:
            for mapper in ("fixed", "gpu"):
                shot = ("screenshot", head, "--preset", "bone", "--size", SIZE)
                variants[f"screenshot --mapper {mapper}"] = lambda m=mapper, a=shot: B.run(
                    vv(*a, "--mapper", m, "-o", fresh(".png"))
                )
            if "report" not in skip:
                variants["report 3 series, no reuse"] = lambda: B.run(
                    py(NO_REUSE.format(args=["report", study3, "-o", fresh(".pdf")]))
                )
        start = B.load_average()
        runs = B.interleaved(variants, args.repeat)
        profile = None
        if args.profile:
            profile = B.run(py(PROFILE.format(data=head, size=SIZE, out=fresh(".png"))))
        end = B.load_average()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    m = {n: {k: B.median(rs, k) for k in ("wall", "cpu", "rss_mb")} for n, rs in runs.items()}
    vol_mb = 512 * 512 * 300 * 2 / 2**20
    shot, plain = m["screenshot"], m["plain pyvista"]
    speedup = plain["wall"] / shot["wall"]
    rss_x = shot["rss_mb"] / vol_mb
    rows = [
        B.Row(
            f"`screenshot --preset bone --size {SIZE}`, 300-slice CT",
            f"plain pyvista script {plain['wall']:.2f} s, {plain['rss_mb']:.0f} MB",
            ">= 3x faster, peak RSS <= 3x the volume, image references unchanged",
            f"{shot['wall']:.2f} s = {speedup:.2f}x faster (CPU "
            f"{plain['cpu'] / shot['cpu']:.2f}x); peak RSS {shot['rss_mb']:.0f} MB = "
            f"{rss_x:.2f}x {vol_mb:.0f} MB",
            speedup >= 3.0 and rss_x <= 3.0,
        )
    ]
    notes = [f"{args.repeat} interleaved rounds, medians; {start} at the start, {end} at the end"]
    busy = B.busy_note(start, end)
    if busy:
        notes.append(
            busy + "; the view and batch rows have no CPU ratio (a first frame on the screen, "
            "two workers against one)"
        )
    notes.append(
        f"CPU seconds (all threads): screenshot {shot['cpu']:.2f}, plain {plain['cpu']:.2f} "
        f"({plain['cpu'] / shot['cpu']:.2f}x)"
    )
    if "mpr axial" in m:
        mpr, info = m["mpr axial"], m["info"]
        r = mpr["wall"] / info["wall"]
        rows.append(
            B.Row(
                "`screenshot --mpr axial`",
                f"`volumeviz info` on the same series {info['wall']:.2f} s",
                "<= 2x its time",
                f"{mpr['wall']:.2f} s = {r:.2f}x (CPU {mpr['cpu'] / info['cpu']:.2f}x); "
                f"peak RSS {mpr['rss_mb']:.0f} MB",
                r <= 2.0,
            )
        )
    if "view" in runs:
        first = sorted(first_render_s(x) for x in runs["view"])
        first_s = first[len(first) // 2]
        quad = m["quad"]
        r = first_s / quad["wall"]
        rows.append(
            B.Row(
                "`view` to first full render",
                f"`screenshot --mpr quad --size {VIEW_SIZE}` {quad['wall']:.2f} s",
                "<= 1.5x",
                f"{first_s:.2f} s = {r:.2f}x (the window's 3D shows a 2x2x2 preview above "
                "16 M voxels)",
                r <= 1.5,
            )
        )
    if "report 3 series" in m:
        r1, r3, s1 = m["report 1 series"], m["report 3 series"], m["screenshot of 1"]
        extra = (r3["wall"] - r1["wall"]) / 2
        extra_cpu = (r3["cpu"] - r1["cpu"]) / 2
        rows.append(
            B.Row(
                "`report` of N series (N = 3, real 140-slice CT)",
                f"standalone screenshot {s1['wall']:.2f} s; report of 1 series {r1['wall']:.2f} s",
                "each extra series <= 0.5x a standalone screenshot",
                f"report of 3 {r3['wall']:.2f} s: {extra:.2f} s an extra series = "
                f"{extra / s1['wall']:.2f}x (CPU {extra_cpu / s1['cpu']:.2f}x); peak RSS "
                f"{r3['rss_mb']:.0f} MB",
                extra <= 0.5 * s1["wall"],
            )
        )
    if "batch -j 2" in m:
        seq, par = m["batch sequential"], m["batch -j 2"]
        r = seq["wall"] / par["wall"]
        rows.append(
            B.Row(
                "`batch -j 2` (4 inputs, a 3D screenshot each)",
                f"`batch --sequential` {seq['wall']:.2f} s",
                ">= 1.6x sequential",
                f"{par['wall']:.2f} s = {r:.2f}x; CPU {par['cpu']:.2f} s against "
                f"{seq['cpu']:.2f} s",
                r >= 1.6,
            )
        )
    if not args.quick:
        for mapper in ("fixed", "gpu"):
            f = m[f"screenshot --mapper {mapper}"]
            notes.append(
                f"lever 'auto mapper': --mapper {mapper} {f['wall']:.2f} s wall / {f['cpu']:.2f} "
                f"s CPU (auto: {shot['wall']:.2f} / {shot['cpu']:.2f})"
            )
        if "report 3 series, no reuse" in m:
            nr = m["report 3 series, no reuse"]
            notes.append(
                f"lever 'normals once per series': report of 3 without it {nr['wall']:.2f} s wall "
                f"/ {nr['cpu']:.2f} s CPU (with: {m['report 3 series']['wall']:.2f} / "
                f"{m['report 3 series']['cpu']:.2f})"
            )
    B.print_table("Rendering (scripts/bench_render.py)", rows, notes)
    if profile is not None:
        print(f"\nOne screenshot in process ({SIZE}, bone, mapper {profile.data['mapper']}):\n")
        print("| step | wall s | CPU s |\n|---|---|---|")
        for name, (wall, cpu) in profile.data["marks"].items():
            print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
        print(f"peak RSS {profile.data['rss_mb']:.0f} MB")
    if args.json:
        table = {"medians": m, "rows": [r.cells() for r in rows], "notes": notes}
        if profile is not None:
            table["profile"] = profile.data
        args.json.write_text(json.dumps(table, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
