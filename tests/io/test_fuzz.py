"""A seeded fuzz run in CI: mutated real inputs through load_series, info, us info and export.

The generator and the runner are ``scripts/fuzz.py`` (its large run is 10,000 cases); here a
few hundred cases of the same seeded generator run on two worker processes, each limited to
2 GiB of address space, with a time limit per case. No case may end in an exception other
than a VolumeVizError (for the CLI: 'internal error' or a traceback), a hang, a run over the
memory limit or a changed input.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.shared_data

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz.py"
SEED = 20260531
CASES = 300


def _fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("volumeviz_fuzz_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_seeded_fuzz_run(shared_data, tree_hash):
    fuzz = _fuzz()
    seeds = {shared_data / rel for _, rel, _ in fuzz.SEEDS}
    before = {p: tree_hash(p if p.is_dir() else p.parent) for p in seeds}
    cases = [fuzz.make_case(SEED, i) for i in range(CASES)]
    results = fuzz.run_cases(cases, shared_data, workers=2, timeout=60, memory=2 * 2**30)
    failures = [line for line in fuzz.summary(results, 0) if line.startswith("FAIL")]
    assert not failures, "\n".join(failures)
    # the mutations reach the readers: every command both succeeds and refuses on some cases
    seen = Counter((r["command"], r["outcome"]) for r in results)
    for command in ("load", "info", "us", "export", "stats"):
        assert seen[(command, "ok")] > 0, seen
        assert seen[(command, "clean")] > 0, seen
    assert {p: tree_hash(p if p.is_dir() else p.parent) for p in seeds} == before


def test_cases_are_reproducible():
    fuzz = _fuzz()
    assert [fuzz.make_case(7, i) for i in range(20)] == [fuzz.make_case(7, i) for i in range(20)]
    assert fuzz.make_case(7, 3) != fuzz.make_case(8, 3)


@pytest.mark.slow
def test_the_runner_reports_what_it_must(shared_data, monkeypatch):
    """Hangs, memory exhaustion and internal errors are counted, not missed."""
    fuzz = _fuzz()
    cases = [fuzz.make_case(SEED, i) for i in range(2)]
    hung = fuzz.run_cases(cases, shared_data, timeout=0.01)
    assert [r["outcome"] for r in hung] == ["hang", "hang"]
    starved = fuzz.run_cases(cases[:1], shared_data, memory=64 * 2**20)
    assert starved[0]["outcome"] in fuzz.FAILURES  # it cannot even import numpy in 64 MiB

    import volumeviz.io.volume

    def broken(path):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(volumeviz.io.volume, "load_series", broken)
    out = fuzz._run_command("load", shared_data / "syntax/emri_10f_rle.dcm", Path("/nonexistent"))
    assert out["outcome"] == "internal"
    assert "ZeroDivisionError: a bug" in out["detail"]
