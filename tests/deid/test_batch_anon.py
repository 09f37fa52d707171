"""``volumeviz batch`` with ``anonymize`` in the spec: one rule for every output.

The same real series under two identities (name, ID, birth date typed into descriptions, folder
and file names; tests/deid/conftest.py), next to a folder named after the patient that holds no
DICOM (a failing input whose error names its path), run by the same spec from the same place:
the console output, the summary CSV/JSON, the output names and the pictures hold no identity
string and are identical apart from timing fields (seconds, wall time, rate, memory, worker
process ids).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.deid.conftest import A, B, Ident

pytestmark = [pytest.mark.render, pytest.mark.slow]

#: fields of a run that differ between any two runs
_TIMING = ("seconds", "wall_seconds", "peak_rss_mb", "peak_rss_mb_by_worker", "worker")


def _leaks(text: str, ident: Ident) -> list[str]:
    low = text.lower()
    return [s for s in (*ident.strings(), ident.name) if s.lower() in low]


def _run(capsys, work: Path, series: Path, ident: Ident, *args: str) -> tuple[str, dict, str]:
    """Run the spec on ``series`` (copied under ``work``); return console, JSON and CSV."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    src = work / ident.folder
    shutil.copytree(series, src)
    (src / f"{ident.name.split('^')[0]} notes.txt").write_text(f"{ident.name} {ident.pid}")
    empty = work / f"{ident.folder} letters"
    empty.mkdir()
    (empty / "letter.txt").write_text(f"not DICOM: {ident.name}")
    spec = work / "spec.toml"
    spec.write_text(
        'output = "out"\n'
        f'[[input]]\npath = "{src.name}"\n'
        f'[[input]]\npath = "{empty.name}"\n'
        '[[render]]\nkind = "screenshot"\nmpr = "axial"\nsize = [120, 90]\nanonymize = true\n'
        '[[render]]\nkind = "report"\ntemplate = "brief"\ndpi = 36\nanonymize = true\n'
    )
    code, out, err = run_cli(capsys, "batch", str(spec), "--no-progress", *args)
    assert code == 1, (out, err)  # the folder without DICOM fails, the series is made
    console = out + err
    summary = json.loads((work / "out" / "batch-summary.json").read_text())
    csv = (work / "out" / "batch-summary.csv").read_text()
    return console, summary, csv


def _untimed(summary: dict) -> dict:
    rows = [{k: v for k, v in r.items() if k not in _TIMING} for r in summary["results"]]
    return {**{k: v for k, v in summary.items() if k not in _TIMING}, "results": rows}


def _untimed_console(text: str) -> str:
    return re.sub(r"in [\d.]+ s \([\d.]+ inputs/min", "in T s (R inputs/min", text)


def _untimed_csv(text: str) -> list[list[str]]:
    lines = [ln.split(",") for ln in text.strip().splitlines()]
    keep = [n for n, name in enumerate(lines[0]) if name not in _TIMING]
    return [[row[n] for n in keep] for row in lines]


@pytest.mark.parametrize(
    "executor", [("--sequential",), ("-j", "2")], ids=["sequential", "processes"]
)
def test_batch_anonymised_under_two_identities(two_identities, tmp_path, capsys, executor):
    a, b = two_identities
    work = tmp_path / "run"
    console_a, summary_a, csv_a = _run(capsys, work, a, A, *executor)
    pictures_a = {p.name: p.read_bytes() for p in (work / "out").glob("*.png")}
    console_b, summary_b, csv_b = _run(capsys, work, b, B, *executor)
    pictures_b = {p.name: p.read_bytes() for p in (work / "out").glob("*.png")}

    for ident, console, csv in ((A, console_a, csv_a), (B, console_b, csv_b)):
        assert not _leaks(console, ident), console
        assert not _leaks(csv, ident), csv
    assert not _leaks(json.dumps(summary_a), A)
    assert not _leaks(json.dumps(summary_b), B)
    statuses = sorted((r["input"], r["kind"], r["status"]) for r in summary_a["results"])
    assert statuses == [
        ("input-1", "report", "done"),
        ("input-1", "screenshot", "done"),
        ("input-2", "report", "failed"),
        ("input-2", "screenshot", "failed"),
    ]
    failed = [r for r in summary_a["results"] if r["status"] == "failed"]
    assert all("<input>" in r["error"] for r in failed), failed  # its path, as a token
    assert _untimed(summary_a) == _untimed(summary_b)
    assert _untimed_csv(csv_a) == _untimed_csv(csv_b)
    assert _untimed_console(console_a) == _untimed_console(console_b)
    assert sorted(pictures_a) == ["input-1-axial.png"]
    assert pictures_a == pictures_b


def test_an_anonymised_spec_names_outputs_input_n(tmp_path, capsys):
    """Planning alone (a dry run): the folder named after the patient names no output."""
    src = tmp_path / A.folder
    src.mkdir()
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'[[input]]\npath = "{A.folder}"\n[[render]]\nkind = "screenshot"\n'
        '[[render]]\nkind = "report"\nanonymize = true\n'
    )
    code, out, err = run_cli(capsys, "batch", str(spec), "--dry-run")
    assert code == 0, err
    assert not _leaks(out + err, A), out
    assert [ln.split("\t")[0] for ln in out.splitlines()] == ["input-1", "input-1"]
    assert [Path(ln.split("\t")[1]).name for ln in out.splitlines()] == [
        "input-1-auto-anterior.png",
        "input-1.pdf",
    ]
