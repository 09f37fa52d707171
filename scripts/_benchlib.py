"""Shared by the benchmark scripts: child processes measured from outside, interleaved repeats.

Every figure is a whole child process (interpreter start and imports included), measured by
``os.wait4``: wall time, CPU time (user + system, all its threads) and peak RSS. Variants run
interleaved (A B C, A B C, ...), so load from other jobs on a shared machine falls on all of them;
medians are reported, with ratios against a baseline measured in the same run. The load average
at the start and the end is printed with every table.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
#: ``volumeviz`` in this interpreter's environment
VOLUMEVIZ = [PY, "-m", "volumeviz"]


@dataclass
class Run:
    """One child process: wall and CPU seconds, peak RSS (MB), what it printed."""

    wall: float
    cpu: float
    rss_mb: float
    out: str = ""
    err: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def run(cmd: Sequence[str], *, env: Mapping[str, str] | None = None) -> Run:
    """Run ``cmd`` to the end and measure it from outside. Raises when it fails.

    A line ``BENCH {json}`` on its stdout becomes :attr:`Run.data` (in-process figures).
    """
    full_env = dict(os.environ)
    full_env.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    full_env.update(env or {})
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        import subprocess

        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=fo, stderr=fe, env=full_env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out = fo.read().decode(errors="replace")
        err = fe.read().decode(errors="replace")
    if proc.returncode != 0:
        shown = " ".join(str(c) for c in cmd[:6])
        raise RuntimeError(f"{shown} ... failed ({proc.returncode}):\n{err[-3000:]}")
    data: dict[str, Any] = {}
    for line in reversed(out.splitlines()):
        if line.startswith("BENCH "):
            data = json.loads(line[6:])
            break
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss / 1024, out, err, data)


def interleaved(
    variants: Mapping[str, Callable[[], Run]], repeats: int, *, quiet: bool = False
) -> dict[str, list[Run]]:
    """Run every variant once per round, ``repeats`` rounds; return the runs by variant."""
    runs: dict[str, list[Run]] = {name: [] for name in variants}
    for r in range(repeats):
        for name, make in variants.items():
            runs[name].append(make())
            if not quiet:
                last = runs[name][-1]
                print(
                    f"  round {r + 1}/{repeats} {name:28s} wall {last.wall:6.2f} s  "
                    f"cpu {last.cpu:6.2f} s  rss {last.rss_mb:5.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
    return runs


def median(runs: Sequence[Run], what: str = "wall") -> float:
    """Median of ``wall``, ``cpu``, ``rss_mb`` or an in-process figure ``data[what]``."""
    if what in ("wall", "cpu", "rss_mb"):
        return float(statistics.median(getattr(r, what) for r in runs))
    return float(statistics.median(float(r.data[what]) for r in runs))


def load_average() -> str:
    """The 1-minute load average and the CPU count, for the record."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def busy_note(start: str, end: str) -> str | None:
    """A warning for the table when the machine was shared (1-minute load average above 2).

    The targets are wall-time ratios; when other jobs hold the cores, a whole process waits for
    them, so its wall time says more about the others than about it. CPU seconds (all threads)
    are what the process itself did: each table gives their ratio next to the wall ratio.
    """
    loads = [float(x.split()[2]) for x in (start, end)]
    if max(loads) <= 2.0:
        return None
    return (
        f"machine shared (load average {loads[0]:.1f} -> {loads[1]:.1f} on {os.cpu_count()} "
        "CPUs): wall ratios (the targets) are inflated by waiting for the cores; the CPU "
        "ratios next to them are what the processes themselves cost"
    )


@dataclass
class Row:
    """One line of the issue's target table."""

    work: str
    baseline: str
    target: str
    figure: str
    met: bool | None  # None: not measured here

    def cells(self) -> list[str]:
        met = "n/a" if self.met is None else ("MET" if self.met else "MISSED")
        return [self.work, self.baseline, self.target, self.figure, met]


def print_table(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> None:
    """Print ``rows`` as a Markdown table (work | baseline | target | figure | met)."""
    header = ["work", "baseline (same run)", "target", "figure", "met"]
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    for note in notes:
        print(f"- {note}")


def write_replicated_series(
    outdir: Path, source: Path, n: int, *, step_mm: float = 1.0, seed: int = 0
) -> Path:
    """Write ``n`` copies of the DICOM ``source`` slice at new positions/UIDs (shuffled names)."""
    import random

    import pydicom
    from pydicom.uid import generate_uid

    outdir.mkdir(parents=True, exist_ok=True)
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
        z = f"{z0 + k * step_mm:.2f}"
        ds.ImagePositionPatient = [ds.ImagePositionPatient[0], ds.ImagePositionPatient[1], z]
        if "SliceLocation" in ds:
            ds.SliceLocation = z
        ds.save_as(outdir / names[k])
    return outdir


def copy_series(src: Path, dst: Path, *, series_number: int) -> Path:
    """Copy the DICOM series in ``src`` to ``dst`` with a new Series Instance UID and number."""
    import pydicom
    from pydicom.uid import generate_uid

    dst.mkdir(parents=True, exist_ok=True)
    uid = generate_uid()
    for p in sorted(src.iterdir()):
        try:
            ds = pydicom.dcmread(p)
        except Exception:  # the Philips DIRFILE and the like
            continue
        if "PixelData" not in ds:
            continue
        ds.SeriesInstanceUID = uid
        ds.SeriesNumber = series_number
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(dst / p.name)
    return dst


def warm(folder: Path) -> None:
    """Read every file once (the page cache), as a second open of the data would find it."""
    for p in folder.rglob("*"):
        if p.is_file():
            p.read_bytes()


def shared_data() -> Path:
    """``$VOLUMEVIZ_SHARED_DATA`` (the real data), or exit with a message."""
    root = os.environ.get("VOLUMEVIZ_SHARED_DATA")
    if not root or not Path(root).is_dir():
        sys.exit("set VOLUMEVIZ_SHARED_DATA to the shared real data (../shared/data)")
    return Path(root)


def dcm2niix() -> str:
    """The dcm2niix executable (the PyPI wheel in this environment, else PATH)."""
    import shutil

    exe = shutil.which(
        "dcm2niix", path=os.pathsep.join([str(Path(PY).parent), os.environ.get("PATH", "")])
    )
    if exe is None:
        sys.exit("dcm2niix not found: pip install dcm2niix")
    return exe
