"""Benchmark: export a 120-frame ultrasound cine (MP4 and GIF) with scale bar and regions.

Reports frames/s and peak memory: the Python process's peak RSS (ru_maxrss), its peak traced
numpy/Python allocations (tracemalloc), and the ffmpeg child's peak RSS, next to the size all
decoded frames would take. Each format runs in a fresh subprocess so peaks do not mix.

Usage::

    VOLUMEVIZ_SHARED_DATA=../shared/data python scripts/bench_us_export.py [FILE] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = "us/sonosite_jpeg422_120f_regions.dcm"


def _one(path: Path, suffix: str) -> dict[str, float | int | str]:
    """Run one export in this process (called in a child) and return its figures."""
    import tracemalloc

    import imageio_ffmpeg  # noqa: F401  (imported before the baseline, like pydicom)
    import pydicom.pixels  # noqa: F401
    from PIL import Image  # noqa: F401

    from volumeviz.io.ultrasound import load_ultrasound
    from volumeviz.render.ultrasound import write_cine

    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    img = load_ultrasound(path)
    fps = img.display_fps or 30.0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"bench{suffix}"
        tracemalloc.start()
        t0 = time.perf_counter()
        n = write_cine(img, out, list(range(img.n_frames)), fps=fps, scale_bar=True, regions=True)
        elapsed = time.perf_counter() - t0
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = out.stat().st_size
    return {
        "format": suffix,
        "frames": n,
        "seconds": round(elapsed, 2),
        "frames_per_s": round(n / elapsed, 1),
        "file_fps": round(fps, 3),
        "output_bytes": size,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_after_imports_mb": round(baseline_rss, 1),
        "peak_traced_python_mb": round(traced_peak / 1e6, 1),
        "ffmpeg_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "all_frames_decoded_mb": round(img.n_frames * img.rows * img.columns * 3 / 1e6, 1),
    }


def main() -> None:
    """Run each format in a child process and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help=f"default: $VOLUMEVIZ_SHARED_DATA/{DEFAULT}")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.file:
        path = Path(args.file)
    else:
        root = os.environ.get("VOLUMEVIZ_SHARED_DATA")
        if not root:
            sys.exit("give FILE or set VOLUMEVIZ_SHARED_DATA to ../shared/data")
        path = Path(root) / DEFAULT
    if args.child:
        print(json.dumps(_one(path, args.child)))
        return
    results = []
    for suffix in (".mp4", ".gif"):
        res = subprocess.run(
            [sys.executable, __file__, str(path), "--child", suffix],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(res.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{path.name}: {results[0]['frames']} frames")
    for r in results:
        print(
            f"  {r['format']}: {r['frames_per_s']} frames/s ({r['seconds']} s), "
            f"peak RSS {r['peak_rss_mb']} MB (after imports {r['rss_after_imports_mb']} MB), "
            f"peak traced {r['peak_traced_python_mb']} MB, ffmpeg peak RSS "
            f"{r['ffmpeg_peak_rss_mb']} MB; all frames decoded would be "
            f"{r['all_frames_decoded_mb']} MB"
        )


if __name__ == "__main__":
    main()
