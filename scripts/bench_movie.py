"""Benchmark ``volumeviz movie`` along time: frames/s and peak memory against a naive baseline.

A synthetic 4D MR series (``--volumes`` time points of ``--size``^2 x ``--slices`` int16, written
as classic DICOM into a temporary folder) is made into an MP4 two ways, each in its own process:

- ``volumeviz``: :func:`volumeviz.render.movie.movie_along` on
  :func:`volumeviz.io.volume.load_multivolume` (one volume read per frame, one plotter reused,
  frames streamed to ffmpeg);
- ``naive``: every volume loaded first into a list (``load_series(index=...)``), then each frame
  rendered with :func:`volumeviz.render.screenshot.render_image` (a new plotter per frame), the
  frames kept and written at the end with ``imageio.mimwrite``.

Printed per method: wall seconds (whole process), frames/s, peak RSS (MB) and the ratios to the
naive baseline measured in the same run. Also a 3D rotation of a 128^3 phantom (``--rotate``).

    python scripts/bench_movie.py --volumes 30 --size 128 --slices 32
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
method, folder, out = sys.argv[1], sys.argv[2], sys.argv[3]
n, rotate = int(sys.argv[4]), sys.argv[5] == "1"
from volumeviz.render.state import ViewState
state = ViewState(mpr="axial", size=(320, 240), window="1000/500")
if rotate:
    from volumeviz.model import phantom
    vol = phantom.asymmetric(128)
    if method == "volumeviz":
        from volumeviz.render.movie import movie_rotation
        info = movie_rotation(vol, out, frames=n, state=ViewState(size=(320, 240)), fps=24)
        frames = info.frames
    else:
        import imageio.v2 as imageio
        from volumeviz.render.screenshot import render_image
        imgs = [
            render_image(vol, ViewState(size=(320, 240), azimuth=360 * k / n))[0]
            for k in range(n)
        ]
        imageio.mimwrite(out, imgs, fps=24)
        frames = len(imgs)
elif method == "volumeviz":
    from volumeviz.io.volume import load_multivolume
    from volumeviz.render.movie import movie_along
    info = movie_along(load_multivolume(folder), out, state=state)
    frames = info.frames
else:
    import imageio.v2 as imageio
    from volumeviz.io.volume import load_series
    from volumeviz.render.screenshot import render_image
    vols = [load_series(folder, index={"time": k}) for k in range(n)]
    imgs = [render_image(v, state)[0] for v in vols]
    imageio.mimwrite(out, imgs, fps=2)
    frames = len(imgs)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall_s": time.perf_counter() - t0, "frames": frames, "peak_mb": peak}))
"""


def write_series(folder: Path, n: int, size: int, slices: int) -> None:
    import numpy as np

    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.model.volume import Volume

    rng = np.random.default_rng(0)
    base = rng.integers(0, 800, (slices, size, size)).astype(np.int16)
    for t in range(n):
        arr = base.copy()
        arr[:, size // 3 : size // 3 + 8, (t * 7) % (size - 8) : (t * 7) % (size - 8) + 8] = 1000
        write_synthetic_series(
            Volume(arr, spacing=(1.5, 1.5, 3.0)),
            folder,
            modality="MR",
            series_uid="1.2.826.0.1.3680043.8.498.777",
            prefix=f"T{t:03d}_",
            first_instance=1 + slices * t,
            window=None,
            elements={"TemporalPositionIdentifier": t + 1, "RepetitionTime": 2000},
        )


def run(method: str, folder: Path, out: Path, n: int, rotate: bool) -> dict[str, float]:
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            method,
            str(folder),
            str(out),
            str(n),
            "1" if rotate else "0",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--volumes", type=int, default=30)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--slices", type=int, default=32)
    ap.add_argument("--rotate-frames", type=int, default=36)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "series"
        t0 = time.perf_counter()
        write_series(folder, args.volumes, args.size, args.slices)
        vol_mb = args.size * args.size * args.slices * 2 / 2**20
        print(
            f"series: {args.volumes} volumes of {args.size}x{args.size}x{args.slices} int16 "
            f"({vol_mb:.1f} MB each, {vol_mb * args.volumes:.0f} MB in all); written in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        for title, rotate, n in (
            ("along time", False, args.volumes),
            ("3D rotation 128^3", True, args.rotate_frames),
        ):
            results = {
                m: run(m, folder, Path(tmp) / f"{m}.mp4", n, rotate)
                for m in ("naive", "volumeviz")
            }
            base = results["naive"]
            print(f"\n{title}: {n} frames")
            print(
                f"{'method':<10} {'wall s':>7} {'frames/s':>9} {'peak MB':>8} "
                f"{'x naive time':>13} {'x naive MB':>11}"
            )
            for m, r in results.items():
                print(
                    f"{m:<10} {r['wall_s']:7.1f} {r['frames'] / r['wall_s']:9.2f} "
                    f"{r['peak_mb']:8.0f} "
                    f"{r['wall_s'] / base['wall_s']:13.2f} {r['peak_mb'] / base['peak_mb']:11.2f}"
                )


if __name__ == "__main__":
    main()
