"""Header scans on two processes give exactly what one pass gives (series, notes, rejections)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from volumeviz.io import discover
from volumeviz.io.synth import write_synthetic_series
from volumeviz.model import phantom
from volumeviz.model.series import ScanResult


def _summary(r: ScanResult) -> Any:
    return (
        [(s.key, s.slices, s.header, s.split_reason, s.dims is not None) for s in r.series],
        r.notes,
        r.ignored,
        [(x.path, x.reason, x.series_uid) for x in r.rejected],
        r.n_files,
    )


def _both(monkeypatch: pytest.MonkeyPatch, path: Path) -> tuple[ScanResult, ScanResult, int]:
    """Scan ``path`` in one pass and on two processes; also count the files read here."""
    monkeypatch.setattr(discover, "PARALLEL_MIN_FILES", 10**9)
    one = discover.scan(path)
    monkeypatch.setattr(discover, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(discover, "SCAN_PROCESSES", 2)
    forks = []
    real = discover._read_outcomes

    def counting(files: Any, tick: Any = None) -> Any:
        forks.append(len(files))
        return real(files, tick)

    monkeypatch.setattr(discover, "_read_outcomes", counting)
    monkeypatch.setattr(discover, "_may_fork", lambda n: n >= 2)  # pytest's threads aside
    two = discover.scan(path)
    return one, two, sum(forks)


@pytest.mark.parametrize("folder", ["fuzz", "timeseries", "ct", "realworld", "dicomdir"])
def test_two_processes_equal_one_pass_on_real_data(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch, folder: str
) -> None:
    """Mixed series, rejected and skipped files, lenient notes, 4D series: all the same."""
    one, two, read_here = _both(monkeypatch, shared_data / folder)
    assert read_here == (one.n_files + 1) // 2  # the other half was read by the helper
    assert _summary(two) == _summary(one)


def test_two_processes_equal_one_pass_interleaved_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two series whose files alternate, one with a bad lenient field in every file."""
    vol = phantom.asymmetric(8)
    write_synthetic_series(vol, tmp_path, prefix="A", shuffle_names=True, seed=1)
    write_synthetic_series(
        vol, tmp_path, prefix="B", shuffle_names=True, seed=2, elements={"GantryDetectorTilt": 95}
    )
    one, two, _ = _both(monkeypatch, tmp_path)
    assert len(one.series) == 2
    assert any("Gantry" in n for n in one.ignored)
    assert _summary(two) == _summary(one)
    np.testing.assert_array_equal(one.series[0].plan.size, two.series[0].plan.size)  # type: ignore[union-attr]


def test_no_fork_with_other_threads_alive() -> None:
    """A process with other threads (the window, a worker pool) reads headers in one pass."""
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        assert not discover._may_fork(10_000)
    finally:
        stop.set()
        t.join()


def test_a_fresh_process_forks_for_a_large_folder(tmp_path: Path) -> None:
    """In a plain single-threaded process (the CLI) a large folder is read on two processes."""
    write_synthetic_series(phantom.asymmetric((4, 4, 12)), tmp_path)
    code = (
        "import json\n"
        "from volumeviz.io import discover as d\n"
        "d.PARALLEL_MIN_FILES, d.SCAN_PROCESSES = 4, 2\n"
        "calls = []\n"
        "real = d._read_outcomes\n"
        "d._read_outcomes = lambda f, t=None: calls.append(len(f)) or real(f, t)\n"
        f"r = d.scan({str(tmp_path)!r})\n"
        "print(json.dumps([d._may_fork(10), calls, len(r.series[0].slices)]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    may, calls, n = json.loads(out.stdout.splitlines()[-1])
    assert may is True
    assert calls == [6]  # this process read its half; the helper's call ran in the fork
    assert n == 12


@pytest.mark.parametrize("folder", ["fuzz", "realworld", "ct", "mr"])
def test_shared_header_values_change_nothing(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch, folder: str
) -> None:
    """The scan's cache of converted header values gives what converting every file gives."""
    from volumeviz.io import header

    monkeypatch.setattr(discover, "PARALLEL_MIN_FILES", 10**9)
    cached = discover.scan(shared_data / folder)
    real_init = header.Header.__init__

    def uncached(self: header.Header, *args: Any, **kwargs: Any) -> None:
        kwargs["cache"] = None
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(header.Header, "__init__", uncached)
    plain = discover.scan(shared_data / folder)
    assert _summary(cached) == _summary(plain)
