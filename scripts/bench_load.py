"""Benchmark loading (issue #14): ``load_series`` against ``dcm2niix -z n``, and the header scan.

    python scripts/bench_load.py [--repeat 5] [--keep DIR] [--files 1000] [--quick]

Needs ``$VOLUMEVIZ_SHARED_DATA``. Writes, in a temporary folder (or ``--keep DIR``, reused):

- a 512x512x300 CT series: the first slice of ``ct/philips_ingenuity_axial_5mm`` replicated at
  new positions with new UIDs, file names shuffled (150 MB of int16 voxels);
- a 1,000-file folder the same way (the header-scan row).

The real 140-slice CT ``ct/philips_ingenuity_head_1mm_140sl`` is read where it is. Then every
variant runs ``--repeat`` times, interleaved, each in a fresh process measured from outside
(``scripts/_benchlib.py``: wall, CPU of all threads, peak RSS); medians are printed, ratios are
against ``dcm2niix -z n`` measured in the same rounds. Variants that switch one lever off show
what each lever is worth (before/after, same run):

- pixels through SimpleITK's ImageSeriesReader instead of the direct native read;
- the header scan in one process instead of two.

The table at the end is the issue's target table with the figures filled in.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))

import _benchlib as B  # noqa: E402

# -- in the child ---------------------------------------------------------------------------


def _checksum(arr) -> int:  # type: ignore[no-untyped-def]
    import numpy as np

    return int(sum(int(np.rint(s).sum(dtype=np.int64)) for s in arr))


def _levers(sitk: bool, one_process: bool) -> None:
    """Switch levers off (the 'before' variants)."""
    if sitk:
        from volumeviz.io import _native

        _native.read_native = lambda slices, dtype: None  # type: ignore[assignment]
    if one_process:
        from volumeviz.io import discover

        discover.PARALLEL_MIN_FILES = 1 << 60


def worker_load(folder: str, sitk: bool, one_process: bool) -> dict[str, object]:
    t0 = time.perf_counter()
    import volumeviz.io.volume as v
    from volumeviz.io.discover import scan

    _levers(sitk, one_process)
    t1 = time.perf_counter()
    result = scan(folder)
    t2 = time.perf_counter()
    vol = v.load_scanned(v.select_series(result, None), rejected=result.rejected)
    t3 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "scan_s": t2 - t1,
        "pixels_s": t3 - t2,
        "shape": list(vol.array.shape),
        "dtype": str(vol.array.dtype),
        "checksum": _checksum(vol.array),
        "simpleitk_imported": "SimpleITK" in sys.modules,
    }


def worker_scan(folder: str, one_process: bool) -> dict[str, object]:
    from volumeviz.io.discover import scan

    _levers(False, one_process)
    c, t = _cpu(), time.perf_counter()
    result = scan(folder)
    seconds, cpu_s = time.perf_counter() - t, _cpu() - c
    return {
        "scan_s": seconds,
        "scan_cpu_s": cpu_s,
        "files": result.n_files,
        "files_per_s": result.n_files / seconds,
        "files_per_cpu_s": result.n_files / cpu_s,
    }


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (the scan's forked helper)."""
    import resource

    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# -- the run ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    fmt = argparse.RawTextHelpFormatter
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    ap.add_argument("--repeat", type=int, default=5, help="interleaved rounds (median kept)")
    ap.add_argument("--keep", type=Path, help="write the series here (reused next time)")
    ap.add_argument("--files", type=int, default=1000, help="files in the header-scan folder")
    ap.add_argument("--quick", action="store_true", help="skip the lever (before) variants")
    ap.add_argument("--json", type=Path, help="also write the medians here")
    ap.add_argument("--worker", choices=["load", "scan"], help=argparse.SUPPRESS)
    ap.add_argument("--sitk", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--one-process", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("folder", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker == "load":
        print("BENCH " + json.dumps(worker_load(args.folder, args.sitk, args.one_process)))
        return 0
    if args.worker == "scan":
        print("BENCH " + json.dumps(worker_scan(args.folder, args.one_process)))
        return 0

    data = B.shared_data()
    real = data / "ct" / "philips_ingenuity_head_1mm_140sl" / "series"
    source = sorted((data / "ct" / "philips_ingenuity_axial_5mm").glob("I*"))[0]
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="bench_load_"))
    try:
        ct300, many = tmp / "ct300", tmp / f"files{args.files}"
        t = time.perf_counter()
        if not ct300.is_dir():
            B.write_replicated_series(ct300, source, 300)
        if not many.is_dir():
            B.write_replicated_series(many, source, args.files, step_mm=0.5, seed=1)
        print(f"series ready in {time.perf_counter() - t:.1f} s: {tmp}", file=sys.stderr)
        for folder in (ct300, many, real):
            B.warm(folder)
        rounds = [0]

        def nifti_out() -> str:
            rounds[0] += 1
            out = tmp / "nifti" / str(rounds[0])
            out.mkdir(parents=True, exist_ok=True)
            return str(out)

        me = [B.PY, str(HERE), "--worker"]
        dcm = B.dcm2niix()
        variants = {
            "load300": lambda: B.run([*me, "load", str(ct300)]),
            "dcm300": lambda: B.run([dcm, "-z", "n", "-b", "n", "-o", nifti_out(), str(ct300)]),
            "load140": lambda: B.run([*me, "load", str(real)]),
            "dcm140": lambda: B.run([dcm, "-z", "n", "-b", "n", "-o", nifti_out(), str(real)]),
            "scan1000": lambda: B.run([*me, "scan", str(many)]),
            "info1000": lambda: B.run([*B.VOLUMEVIZ, "info", str(many)]),
        }
        if not args.quick:
            variants.update(
                {
                    "load300 sitk": lambda: B.run([*me, "load", "--sitk", str(ct300)]),
                    "load300 1proc": lambda: B.run([*me, "load", "--one-process", str(ct300)]),
                    "scan1000 1proc": lambda: B.run([*me, "scan", "--one-process", str(many)]),
                }
            )
        start = B.load_average()
        runs = B.interleaved(variants, args.repeat)
        end = B.load_average()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    m = {n: {k: B.median(rs, k) for k in ("wall", "cpu", "rss_mb")} for n, rs in runs.items()}
    vol_mb = 512 * 512 * 300 * 2 / 2**20
    v300, d300, v140, d140 = m["load300"], m["dcm300"], m["load140"], m["dcm140"]
    r300 = v300["wall"] / d300["wall"]
    r140 = v140["wall"] / d140["wall"]
    c300 = v300["cpu"] / d300["cpu"]
    c140 = v140["cpu"] / d140["cpu"]
    rss300 = v300["rss_mb"] / vol_mb
    rate = B.median(runs["scan1000"], "files_per_s")
    cpu_rate = B.median(runs["scan1000"], "files_per_cpu_s")
    info_rate = args.files / m["info1000"]["wall"]
    sums = {r.data["checksum"] for n in ("load300", "load300 sitk") for r in runs.get(n, [])}
    rows = [
        B.Row(
            "`load_series` 512x512x300, whole process",
            f"`dcm2niix -z n` {d300['wall']:.2f} s",
            "<= 1.5x its time; peak RSS <= 2x the int16 volume",
            f"{v300['wall']:.2f} s = {r300:.2f}x (CPU {c300:.2f}x); peak RSS "
            f"{v300['rss_mb']:.0f} MB = {rss300:.2f}x {vol_mb:.0f} MB",
            r300 <= 1.5 and rss300 <= 2.0,
        ),
        B.Row(
            "same on the real 140-slice 1 mm CT",
            f"`dcm2niix -z n` {d140['wall']:.2f} s",
            "<= 1.5x",
            f"{v140['wall']:.2f} s = {r140:.2f}x (CPU {c140:.2f}x); peak RSS "
            f"{v140['rss_mb']:.0f} MB",
            r140 <= 1.5,
        ),
        B.Row(
            f"header scan of a {args.files}-file folder (`info`)",
            "-",
            ">= 1,000 files/s on 2 cores",
            f"scan {rate:.0f} files/s in process ({cpu_rate:.0f} files per CPU second, both "
            f"processes); whole `volumeviz info` "
            f"{m['info1000']['wall']:.2f} s = {info_rate:.0f} files/s",
            rate >= 1000,
        ),
    ]
    busy = B.busy_note(start, end)
    notes = [
        f"{args.repeat} interleaved rounds, medians; {start} at the start, {end} at the end",
        *([busy] if busy else []),
        f"CPU seconds (all threads): load300 {v300['cpu']:.2f}, dcm2niix {d300['cpu']:.2f}; "
        f"load140 {v140['cpu']:.2f}, dcm2niix {d140['cpu']:.2f}",
        "load300 in process (median): imports {:.2f} s, header scan {:.2f} s, pixels {:.2f} s"
        "; SimpleITK imported: {}".format(
            B.median(runs["load300"], "import_s"),
            B.median(runs["load300"], "scan_s"),
            B.median(runs["load300"], "pixels_s"),
            runs["load300"][0].data["simpleitk_imported"],
        ),
    ]
    if not args.quick:
        s, p = m["load300 sitk"], m["load300 1proc"]
        notes += [
            "lever 'direct native read': pixels through SimpleITK instead -> load300 "
            f"{s['wall']:.2f} s wall / {s['cpu']:.2f} s CPU / {s['rss_mb']:.0f} MB (now "
            f"{v300['wall']:.2f} / {v300['cpu']:.2f} / {v300['rss_mb']:.0f}); pixels "
            f"{B.median(runs['load300 sitk'], 'pixels_s'):.2f} s in process (now "
            f"{B.median(runs['load300'], 'pixels_s'):.2f}); same voxels: {len(sums) == 1}",
            "lever 'header scan on two processes': one process instead -> load300 "
            f"{p['wall']:.2f} s (scan {B.median(runs['load300 1proc'], 'scan_s'):.2f} s, now "
            f"{B.median(runs['load300'], 'scan_s'):.2f}); {args.files} files "
            f"{B.median(runs['scan1000 1proc'], 'files_per_s'):.0f} files/s (now {rate:.0f})",
        ]
    B.print_table("Loading (scripts/bench_load.py)", rows, notes)
    if args.json:
        table = {"medians": m, "rows": [r.cells() for r in rows], "notes": notes}
        args.json.write_text(json.dumps(table, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
