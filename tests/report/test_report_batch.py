"""Batch executors without rendering: a worker that dies, summaries, option checks."""

from __future__ import annotations

import csv
import json

import pytest
from report_helpers import crash_or_succeed

from volumeviz.errors import UsageError
from volumeviz.report.batch import BatchSummary, JobResult, _processes, run_batch, write_summary
from volumeviz.report.spec import Job, RenderSpec

RENDER = RenderSpec("screenshot", "{input}.png", (("preset", "bone"),))


def _job(i: int, name: str) -> Job:
    return Job(i, name, f"/data/{name}", None, (RENDER,), (f"/out/{name}.png",))


def test_a_worker_that_dies_fails_only_its_job():
    jobs = [_job(1, "a"), _job(2, "crash"), _job(3, "b"), _job(4, "c")]
    got: dict[int, list[JobResult]] = {}
    _processes(jobs, 2, lambda job, res: got.__setitem__(job.index, res), crash_or_succeed)
    assert sorted(got) == [1, 2, 3, 4]
    assert [got[i][0].status for i in (1, 3, 4)] == ["done"] * 3
    assert got[2][0].status == "failed"
    assert "worker process died" in got[2][0].error


def test_summary_files(tmp_path):
    results = [
        JobResult(1, "/in/a", "/out/a.png", "screenshot", "done", 1.5, "", "h:1", 400.0),
        JobResult(
            2, "/in/b", "/out/b.png", "screenshot", "failed", 0.1, "NoSeriesError: x", "h:2"
        ),
        JobResult(3, "/in/c", "/out/c.png", "screenshot", "skipped", 0.0, "", "h:1", 420.0),
    ]
    summary = BatchSummary(results, "processes", 2, 3.0)
    assert summary.line().startswith("3 inputs, 3 outputs: 1 done, 1 skipped, 1 failed in 3.0 s")
    assert summary.peak_by_worker() == {"h:1": 420.0, "h:2": 0.0}
    csv_path, json_path = write_summary(summary, tmp_path / "s.json")
    assert csv_path.name == "s.csv"
    with csv_path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["status"] for r in rows] == ["done", "failed", "skipped"]
    assert rows[1]["error"] == "NoSeriesError: x"
    data = json.loads(json_path.read_text())
    assert (data["done"], data["failed"], data["skipped"], data["inputs"]) == (1, 1, 1, 3)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"executor": "threads"}, "executor"),
        ({"executor": "dask"}, "scheduler"),
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_options(kwargs, words):
    with pytest.raises(UsageError, match=words):
        run_batch([_job(1, "a")], progress=False, **kwargs)
