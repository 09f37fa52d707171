"""Benchmark: load a 512x512x300 CT series four ways, each in its own process.

    python scripts/bench_load.py [--slices 300] [--source FILE] [--keep DIR] [--repeat 1]

The series is written into a temporary folder from one real CT slice (``--source``, default the
first image of ``$VOLUMEVIZ_SHARED_DATA/ct/philips_ingenuity_axial_5mm``; without shared data a
synthetic phantom slice is used), replicated at new positions with new UIDs, file names shuffled.
Then, each in a fresh subprocess (peak RSS from ``os.wait4`` of that child):

- ``volumeviz``: ``volumeviz.load_series(folder)``
- ``naive pydicom``: ``dcmread`` every file, sort by position, stack ``pixel_array`` with rescale
- ``plain SimpleITK``: ``ImageSeriesReader`` with GDCM's file ordering, default pixel type
- ``dcm2niix -z n``: the C converter (PyPI ``dcm2niix``) writing an uncompressed NIfTI

Wall time is the whole process (interpreter start and imports included, as for dcm2niix); for the
Python methods the in-process load time is shown too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()


def _checksum(arr) -> int:
    """Sum of all voxels, slice by slice (no whole-volume int64 copy to inflate peak RSS)."""
    return int(sum(int(np.rint(s).sum(dtype=np.int64)) for s in arr))


# -- workers (run in a child process) -----------------------------------------------------------


def _rss_mb() -> float:
    """Peak RSS of this process so far (MB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _result(t0: float, t1: float, t2: float, base: float, arr) -> dict:
    return {
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "baseline_mb": base,
        "shape": list(arr.shape),
        "dtype": str(arr.dtype),
        "checksum": _checksum(arr),
    }


def _work_volumeviz(folder: str) -> dict:
    t0 = time.perf_counter()
    import volumeviz.io.volume  # SimpleITK is imported only if a series needs it

    t1 = time.perf_counter()
    base = _rss_mb()
    vol = volumeviz.io.volume.load_series(folder)
    t2 = time.perf_counter()
    return _result(t0, t1, t2, base, vol.array)


def _work_naive(folder: str) -> dict:
    t0 = time.perf_counter()
    import pydicom

    t1 = time.perf_counter()
    base = _rss_mb()
    datasets = [pydicom.dcmread(os.path.join(folder, f)) for f in os.listdir(folder)]
    datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    arr = np.stack(
        [ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for ds in datasets]
    )
    t2 = time.perf_counter()
    return _result(t0, t1, t2, base, arr)


def _work_sitk(folder: str) -> dict:
    t0 = time.perf_counter()
    import SimpleITK as sitk

    t1 = time.perf_counter()
    base = _rss_mb()
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder))
    img = reader.Execute()
    arr = sitk.GetArrayFromImage(img)
    t2 = time.perf_counter()
    return _result(t0, t1, t2, base, arr)


WORKERS = {"volumeviz": _work_volumeviz, "naive": _work_naive, "sitk": _work_sitk}


# -- the series ---------------------------------------------------------------------------------


def _source_file(arg: str | None) -> Path | None:
    if arg:
        return Path(arg)
    root = os.environ.get("VOLUMEVIZ_SHARED_DATA")
    if root:
        folder = Path(root) / "ct" / "philips_ingenuity_axial_5mm"
        files = sorted(p for p in folder.iterdir() if p.name.startswith("I"))
        if files:
            return files[0]
    return None


def write_series(outdir: Path, n: int, source: Path | None, seed: int = 0) -> Path:
    """Write ``n`` CT slices (512x512) into ``outdir``; return the folder."""
    import pydicom
    from pydicom.uid import generate_uid

    outdir.mkdir(parents=True, exist_ok=True)
    if source is None:
        from volumeviz.io.synth import write_synthetic_series
        from volumeviz.model import phantom

        vol = phantom.asymmetric((512, 512, 1), spacing=(0.5, 0.5, 1.0))
        source = write_synthetic_series(vol, outdir / "_src")[0]
    ds = pydicom.dcmread(source)
    z0 = float(ds.ImagePositionPatient[2])
    series_uid = generate_uid()
    rng = random.Random(seed)
    names = [f"{rng.getrandbits(48):012x}.dcm" for _ in range(n)]
    for k in range(n):
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesInstanceUID = series_uid
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [
            ds.ImagePositionPatient[0],
            ds.ImagePositionPatient[1],
            f"{z0 + k * 1.0:.2f}",
        ]
        if "SliceLocation" in ds:
            ds.SliceLocation = f"{z0 + k * 1.0:.2f}"
        ds.save_as(outdir / names[k])
    shutil.rmtree(outdir / "_src", ignore_errors=True)
    return outdir


# -- measuring ----------------------------------------------------------------------------------


def _run(cmd: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{cmd[0]} failed ({code}): {err.strip()[-500:]}")
    result = {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}
    line = out.strip().splitlines()[-1] if out.strip() else ""
    if line.startswith("{"):
        result.update(json.loads(line))
    return result


def _dcm2niix() -> str:
    exe = shutil.which(
        "dcm2niix",
        path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    if exe is None:
        raise SystemExit("dcm2niix not found: pip install dcm2niix")
    return exe


def main(argv: list[str] | None = None) -> int:
    fmt = argparse.RawTextHelpFormatter
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--source", help="a single-frame 512x512 CT DICOM file to replicate")
    ap.add_argument("--keep", help="write the series here (kept) instead of a temp folder")
    ap.add_argument("--repeat", type=int, default=1, help="runs per method (best is shown)")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("folder", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.folder)))
        return 0

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_load_"))
    try:
        folder = write_series(tmp / "series", args.slices, _source_file(args.source))
        nbytes = sum(p.stat().st_size for p in folder.iterdir())
        for p in folder.iterdir():  # warm the page cache, as a second open would be
            p.read_bytes()
        vol_mb = 512 * 512 * args.slices * 2 / 2**20
        methods = {
            "volumeviz": [sys.executable, str(HERE), "--worker", "volumeviz", str(folder)],
            "naive pydicom": [sys.executable, str(HERE), "--worker", "naive", str(folder)],
            "plain SimpleITK": [sys.executable, str(HERE), "--worker", "sitk", str(folder)],
            "dcm2niix -z n": [_dcm2niix(), "-z", "n", "-b", "n", "-o", str(tmp), str(folder)],
        }
        results: dict[str, dict] = {}
        for name, cmd in methods.items():
            runs = [_run(cmd) for _ in range(max(1, args.repeat))]
            results[name] = min(runs, key=lambda r: r["wall_s"])
        print(
            f"series: {args.slices} x 512 x 512 CT, {nbytes / 2**20:.0f} MB on disk, "
            f"int16 volume {vol_mb:.0f} MB"
        )
        ref_wall = results["dcm2niix -z n"]["wall_s"]
        naive_wall = results["naive pydicom"]["wall_s"]
        header = (
            f"{'method':18} {'wall s':>7} {'load s':>7} {'peak RSS MB':>12} {'load RSS MB':>12} "
            f"{'x dcm2niix':>10} {'x naive':>8} {'RSS/int16':>9}  output"
        )
        print(header)
        print("-" * len(header))
        for name, r in results.items():
            load = f"{r['load_s']:.2f}" if "load_s" in r else "-"
            added = r["peak_rss_mb"] - r.get("baseline_mb", 0.0)
            out = f"{r.get('dtype', 'nifti')} {r.get('shape', '')}"
            print(
                f"{name:18} {r['wall_s']:7.2f} {load:>7} {r['peak_rss_mb']:12.0f} {added:12.0f} "
                f"{r['wall_s'] / ref_wall:10.2f} {r['wall_s'] / naive_wall:8.2f} "
                f"{r['peak_rss_mb'] / vol_mb:9.2f}  {out}"
            )
        v = results["volumeviz"]
        print(
            "wall = whole process (interpreter + imports + load); load = in-process load only;"
            " load RSS = peak minus RSS after imports"
        )
        checks = {
            "faster than naive (whole process)": v["wall_s"] < naive_wall,
            "faster than naive (load only)": v["load_s"] < results["naive pydicom"]["load_s"],
            "within 1.5x dcm2niix (whole process)": v["wall_s"] <= 1.5 * ref_wall,
            "within 1.5x dcm2niix (load only)": v["load_s"] <= 1.5 * ref_wall,
            "peak RSS < 2x int16 volume (whole process)": v["peak_rss_mb"] < 2 * vol_mb,
            "RSS added by the load < 2x int16 volume": v["peak_rss_mb"] - v["baseline_mb"]
            < 2 * vol_mb,
            "same voxels as naive": v.get("checksum") == results["naive pydicom"].get("checksum"),
        }
        for what, ok in checks.items():
            print(f"{'PASS' if ok else 'MISS'}  {what}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
