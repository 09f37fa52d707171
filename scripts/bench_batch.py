"""Benchmark ``volumeviz batch``: sequential vs local processes vs a Dask LocalCluster.

Writes N synthetic phantom series (default 20 x 64^3 CT) as DICOM, then runs the same spec
(one 3D screenshot per series) three ways through the real command line, each into a fresh
output folder so nothing is skipped:

- ``--sequential`` (one process),
- local processes (``--workers W``),
- a ``dask.distributed.LocalCluster`` (W worker processes, 1 thread each) on loopback,
  via ``--scheduler``.

Reports wall time, series per minute and the peak resident memory of each worker (from the
batch summary, which records ``ru_maxrss`` of the process that rendered each output).

Usage::

    VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow .venv/bin/python scripts/bench_batch.py \
        [--series 20] [--size 64] [--workers 2] [--image 400x300] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SPEC = """\
output = "{output}"

[[input]]
path = "series/*"

[[render]]
kind = "screenshot"
preset = "bone"
view = "anterior"
size = [{w}, {h}]
"""


def make_series(root: Path, n: int, size: int) -> None:
    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.model import phantom

    vol = phantom.asymmetric(size)
    for k in range(n):
        write_synthetic_series(vol, root / "series" / f"p{k:03d}", series_number=k + 1)


def run_cli(args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "volumeviz", *args], capture_output=True, text=True, check=False
    )
    return time.perf_counter() - t0, res


def summarise(mode: str, wall: float, summary_path: Path, n: int) -> dict[str, Any]:
    summary = json.loads(summary_path.read_text())
    done = summary["done"]
    peaks = summary["peak_rss_mb_by_worker"]
    return {
        "mode": mode,
        "workers": len(peaks),
        "done": done,
        "failed": summary["failed"],
        "wall_s": round(wall, 1),
        "batch_s": summary["wall_seconds"],
        "series_per_min": round(n / wall * 60, 1),
        "peak_rss_mb_per_worker": sorted(round(v) for v in peaks.values()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--series", type=int, default=20)
    ap.add_argument("--size", type=int, default=64, help="phantom edge in voxels")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--image", default="400x300")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--modes", default="sequential,processes,dask")
    args = ap.parse_args()
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    w, h = (int(v) for v in args.image.split("x"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        make_series(root, args.series, args.size)
        print(
            f"wrote {args.series} series of {args.size}^3 in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        for mode in args.modes.split(","):
            out = root / f"out-{mode}"
            spec = root / f"{mode}.toml"
            spec.write_text(SPEC.format(output=out.name, w=w, h=h))
            cli = ["batch", str(spec), "--no-progress"]
            if mode == "sequential":
                wall, res = run_cli([*cli, "--sequential"])
            elif mode == "processes":
                wall, res = run_cli([*cli, "--workers", str(args.workers)])
            elif mode == "dask":
                from distributed import LocalCluster

                with LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=":0",
                    silence_logs=40,
                ) as cluster:
                    wall, res = run_cli([*cli, "--scheduler", cluster.scheduler_address])
            else:
                raise SystemExit(f"unknown mode {mode!r}")
            if res.returncode != 0:
                print(res.stdout, res.stderr, file=sys.stderr)
                raise SystemExit(f"{mode}: batch failed ({res.returncode})")
            row = summarise(mode, wall, out / "batch-summary.json", args.series)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    print(
        f"\n{args.series} phantom series ({args.size}^3 int16 CT), one {w}x{h} bone 3D "
        f"screenshot each, {os.cpu_count()} CPUs\n"
    )
    print("| mode | workers | series/min | wall s | peak RSS per worker (MB) |")
    print("|---|---|---|---|---|")
    for r in rows:
        peaks = ", ".join(str(p) for p in r["peak_rss_mb_per_worker"])
        print(
            f"| {r['mode']} | {r['workers']} | {r['series_per_min']} | {r['wall_s']} | {peaks} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
