"""scripts/bench_pacs.py still runs end to end (a few slices; its figures are not checked here).

The script is the issue's evidence for retrieval speed; it broke once unnoticed when a helper it
imported moved (bench_load -> _benchlib). Times are never asserted (performance lives in the
script's own table).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pacs.conftest import _require_orthanc

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

ROOT = Path(__file__).resolve().parents[2]


def test_bench_pacs_runs_and_prints_its_table(shared_data: Path) -> None:
    _require_orthanc()
    env = dict(os.environ, VOLUMEVIZ_SHARED_DATA=str(shared_data))
    args = ["--slices", "3", "--repeat", "1", "--workers", "2"]
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_pacs.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    table = [ln for ln in r.stdout.splitlines() if ln.startswith("| ")]
    assert table[0].startswith("| method |")
    methods = [ln.split("|")[1].strip() for ln in table[1:] if not ln.startswith("|---")]
    assert "plain dicomweb-client loop" in methods
    assert any(m.startswith("volumeviz fetch") and "warm" in m for m in methods)
    assert any("C-GET" in m for m in methods)
