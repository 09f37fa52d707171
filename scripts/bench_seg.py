"""Benchmark: segmentations in (SEG vs the same labelmap as NIfTI), placed, measured, drawn.

A synthetic CT (write_series of the asymmetric phantom, 256x256xN) and a labelmap of S spheres
("organs") on it are written as a DICOM SEG (volumeviz.io.seg_write) and as NIfTI. Reported
(median of R runs, seconds, and the ratio to reading the NIfTI labelmap, the baseline in the same
run), plus the peak RSS of the process:

- read: read_seg (SEG) vs read_labelmap (NIfTI)
- place: place_on the CT grid (same grid: no resampling)
- stats: segment_stats over all segments
- overlay: overlay_rgba of one axial MPR plane

    python scripts/bench_seg.py [--slices 120] [--segments 12] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from volumeviz.io.nifti import write_image
from volumeviz.io.seg import place_on, read_labelmap, read_seg
from volumeviz.io.seg_write import write_seg
from volumeviz.io.volume import load_series
from volumeviz.io.write import write_series
from volumeviz.model import phantom
from volumeviz.model.segmentation import Grid, Segmentation
from volumeviz.model.volume import VolumeMeta
from volumeviz.ops.mpr import reslice
from volumeviz.ops.stats import segment_stats
from volumeviz.render.overlay import overlay_rgba


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slices", type=int, default=120)
    ap.add_argument("--segments", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        vol = phantom.asymmetric((256, 256, args.slices), spacing=(0.8, 0.8, 1.5))
        write_series(vol.replace(meta=VolumeMeta(modality="CT", units="HU")), root / "ct")
        ct = load_series(root / "ct")
        nk, nj, ni = ct.array.shape
        k, j, i = np.ogrid[:nk, :nj, :ni]
        lab = np.zeros(ct.array.shape, np.uint8)
        for n in range(1, args.segments + 1):
            c = rng.uniform([nk * 0.2, nj * 0.2, ni * 0.2], [nk * 0.8, nj * 0.8, ni * 0.8])
            r = rng.uniform(8, 25)
            lab[
                ((k - c[0]) * 1.5) ** 2 + ((j - c[1]) * 0.8) ** 2 + ((i - c[2]) * 0.8) ** 2 < r**2
            ] = n
        seg = Segmentation.from_labelmap(lab, Grid.of(ct))
        write_seg(seg, ct, root / "seg.dcm")
        write_image(ct.replace(array=lab, meta=VolumeMeta()), root / "lab.nii.gz")
        base = _median(lambda: read_labelmap(root / "lab.nii.gz"), args.repeat)
        t_seg = _median(lambda: read_seg(root / "seg.dcm"), args.repeat)
        s_seg = read_seg(root / "seg.dcm")
        t_place = _median(lambda: place_on(s_seg, ct), args.repeat)
        placed = place_on(s_seg, ct)
        t_stats = _median(lambda: segment_stats(ct, placed), args.repeat)
        plane = reslice(ct, "axial")
        t_overlay = _median(lambda: overlay_rgba(plane, [placed]), args.repeat)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
        size = (root / "seg.dcm").stat().st_size / 2**20
    print(
        f"CT {ni}x{nj}x{nk}, {args.segments} segments, SEG {size:.1f} MB, median of {args.repeat}"
    )
    print("| step | s | x NIfTI labelmap read |")
    print("|---|---|---|")
    for name, t in (
        ("read NIfTI labelmap (baseline)", base),
        ("read SEG (highdicom)", t_seg),
        ("place on CT grid", t_place),
        ("segment_stats (all)", t_stats),
        ("overlay_rgba one axial plane", t_overlay),
    ):
        print(f"| {name} | {t:.3f} | {t / base:.2f} |")
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
