r"""Run a batch: every job of a spec, sequentially, on local processes or on a Dask cluster.

Each :class:`~volumeviz.report.spec.Job` loads one input once and makes all its outputs. A job
never raises: whatever goes wrong (a broken series, a bad preset for this data, a crash in a
worker process) becomes a ``failed`` row with a one-line error, and the batch goes on. Outputs are
written atomically, so a file that exists is complete: it is ``skipped`` unless the spec or the
command says ``overwrite``. At the end a summary (CSV and JSON, one row per output: input,
output, status, seconds, error, worker, peak memory) is written.

Executors
---------
``sequential``
    In this process, one job after the other.
``processes``
    A local process pool (``spawn``: no VTK state is forked). A worker that dies (a crash in
    native code) breaks the pool; the unfinished jobs are then re-run one per fresh process, so
    only the job that crashes fails.
``dask``
    An existing ``dask.distributed`` scheduler at ``ADDRESS`` (``tcp://host:8786``); the workers
    need volumeviz installed and must see the input and output paths.

Examples
--------
>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> (d / "empty").mkdir()
>>> from volumeviz.report.spec import parse_spec, plan_jobs
>>> spec = parse_spec('input = ["empty"]\n[[render]]\nkind = "screenshot"\n', fmt="toml",
...                   base_dir=d)
>>> summary = run_batch(plan_jobs(spec), executor="sequential", progress=False)
>>> [(r.status, r.error.split(":")[0]) for r in summary.results]
[('failed', 'NoSeriesError')]
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import io
import json
import logging
import multiprocessing
import os
import socket
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from volumeviz._atomic import atomic_path
from volumeviz._face import option
from volumeviz.errors import OutputError, UsageError
from volumeviz.report.spec import Job, RenderSpec

log = logging.getLogger(__name__)

__all__ = [
    "EXECUTORS",
    "BatchSummary",
    "JobResult",
    "peak_rss_mb",
    "process_job",
    "run_batch",
    "write_summary",
]

EXECUTORS = ("sequential", "processes", "dask")
STATUSES = ("done", "skipped", "failed")


@dataclass(frozen=True)
class JobResult:
    """One output of one job: what happened, how long it took, where, and the worker's memory.

    ``seconds`` is the time spent on this output (its share of the load included);
    ``peak_rss_mb`` is the peak resident memory of the process that ran it, so far;
    ``warnings`` the warnings raised while making it (e.g. a CT preset on an MR series).
    """

    index: int
    input: str
    output: str
    kind: str
    status: str
    seconds: float
    error: str = ""
    worker: str = ""
    peak_rss_mb: float = 0.0
    warnings: str = ""


@dataclass
class BatchSummary:
    """All results of a run, with its totals."""

    results: list[JobResult]
    executor: str
    workers: int
    wall_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def count(self, status: str) -> int:
        """Return how many outputs ended with ``status``."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def n_inputs(self) -> int:
        """Number of inputs (jobs) in the run."""
        return len({r.index for r in self.results})

    @property
    def ok(self) -> bool:
        """True when no output failed."""
        return self.count("failed") == 0

    def line(self) -> str:
        """One line for a person: counts and rate."""
        rate = self.n_inputs / self.wall_seconds * 60 if self.wall_seconds > 0 else 0.0
        return (
            f"{self.n_inputs} inputs, {len(self.results)} outputs: {self.count('done')} done, "
            f"{self.count('skipped')} skipped, {self.count('failed')} failed in "
            f"{self.wall_seconds:.1f} s ({rate:.1f} inputs/min, {self.executor}, "
            f"{self.workers} worker{'s' if self.workers != 1 else ''})"
        )

    def peak_by_worker(self) -> dict[str, float]:
        """Largest peak RSS (MB) seen per worker."""
        out: dict[str, float] = {}
        for r in self.results:
            if r.worker:
                out[r.worker] = max(out.get(r.worker, 0.0), r.peak_rss_mb)
        return out

    def scrubbed(self, scrub: Callable[[str], str]) -> BatchSummary:
        """Return the summary with every row's texts passed through ``scrub``.

        Input, output, error and warnings: an anonymised run's console filter.
        """
        rows = [
            replace(
                r,
                input=scrub(r.input),
                output=scrub(r.output),
                error=scrub(r.error),
                warnings=scrub(r.warnings),
            )
            for r in self.results
        ]
        return replace(self, results=rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: totals and one row per output."""
        return {
            "executor": self.executor,
            "workers": self.workers,
            "wall_seconds": round(self.wall_seconds, 3),
            "inputs": self.n_inputs,
            "outputs": len(self.results),
            **{status: self.count(status) for status in STATUSES},
            "peak_rss_mb_by_worker": self.peak_by_worker(),
            **self.extra,
            "results": [asdict(r) for r in self.results],
        }


# -- one job -----------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (0.0 where unknown)."""
    try:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return float(kb) / (1024.0 * 1024.0) if sys.platform == "darwin" else kb / 1024.0
    except (ImportError, OSError):  # pragma: no cover - not Unix
        try:
            import psutil

            info = psutil.Process().memory_info()
            return float(getattr(info, "peak_wset", info.rss)) / 2**20
        except Exception:
            return 0.0


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Source:
    """The input of a job, loaded at most once and only if some output needs it."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._volume: Any = None
        self._error: BaseException | None = None
        self._study: tuple[list[Any], list[str]] | None = None
        self.load_seconds = 0.0

    def volume(self) -> Any:
        if self._error is not None:
            raise self._error
        if self._volume is None:
            from volumeviz.report.build import load_input

            t0 = time.perf_counter()
            try:
                self._volume = load_input(
                    self.job.path, series=self.job.series, index=dict(self.job.dims_index)
                )
            except BaseException as exc:
                self._error = exc
                raise
            finally:
                self.load_seconds = time.perf_counter() - t0
        return self._volume

    def study(self) -> tuple[list[Any], list[str]]:
        """Every series under the input (for a report of a whole study), loaded once."""
        if self._study is None:
            from volumeviz.report.build import load_study

            self._study = load_study(self.job.path, index=dict(self.job.dims_index) or None)
        return self._study


def _make_output(render: RenderSpec, output: Path, source: _Source, overwrite: bool) -> None:
    from volumeviz.report.build import make_render

    make_render(
        render,
        source.job.path,
        output,
        source.volume,
        load_study=source.study if source.job.series is None else None,
        overwrite=overwrite,
    )


class _Collected(logging.Handler):
    """Log records of an anonymised job: kept (to be scrubbed into its result), not printed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _job_scrubber(job: Job, source: _Source) -> Callable[[str], str]:
    """What may be reported of an anonymised job: the one console filter, with its identity."""
    from volumeviz.io.deid import TextScrubber, pseudonym_key

    scrub = TextScrubber([job.path], pseudonym_key())
    loaded = [source._volume] if source._volume is not None else []
    if source._study is not None:
        loaded.extend(source._study[0])
    scrub.add_items(*loaded)
    return lambda text: "\n".join(scrub(x) for x in text.split("\n"))


def process_job(job: Job) -> list[JobResult]:
    """Make every output of ``job``; never raises (failures become ``failed`` results).

    Outputs that exist are skipped (unless ``job.overwrite``); the input is loaded only if
    some output is to be made, and only once. An anonymised job (``job.anonymize``) prints
    nothing: its log records join its warnings, and its input, errors and warnings pass
    through :class:`volumeviz.io.deid.TextScrubber` with the identity of what it loaded.
    """
    with contextlib.ExitStack() as keep:
        return _process_outputs(job, keep)


def _process_outputs(job: Job, keep: contextlib.ExitStack) -> list[JobResult]:
    """:func:`process_job`'s loop; ``keep`` holds the shared VTK data once an output is made."""
    shared = False
    source = _Source(job)
    results = []
    worker = _worker_id()
    root = logging.getLogger()
    collected = _Collected()
    saved = root.handlers[:]
    if job.anonymize:  # nothing of this job reaches a stream unfiltered (a worker's own stderr)
        root.handlers = [collected]
    try:
        for render, out in zip(job.renders, job.outputs, strict=True):
            t0 = time.perf_counter()
            path = Path(out)
            status, error = "done", ""
            caught: list[warnings.WarningMessage] = []
            if path.exists() and not job.overwrite:
                status = "skipped"
            else:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        if not shared:  # the job's outputs share its VTK data and GL windows
                            from volumeviz.render.screenshot import keep_windows
                            from volumeviz.render.volume import reuse_volumes

                            keep.enter_context(keep_windows())
                            keep.enter_context(reuse_volumes())
                            shared = True
                        _make_output(render, path, source, job.overwrite)
                    except Exception as exc:
                        status, error = "failed", _one_line(exc)
                        log.debug("job %s output %s failed", job.label, out, exc_info=True)
            notes = [" ".join(str(w.message).split()) for w in caught]
            notes += [" ".join(m.split()) for m in collected.messages]
            collected.messages.clear()
            results.append(
                JobResult(
                    index=job.index,
                    input=job.label,
                    output=out,
                    kind=render.kind,
                    status=status,
                    seconds=round(time.perf_counter() - t0, 4),
                    error=error,
                    worker=worker,
                    peak_rss_mb=round(peak_rss_mb(), 1),
                    warnings="; ".join(dict.fromkeys(notes)),
                )
            )
    finally:
        if job.anonymize:
            root.handlers = saved
    if job.anonymize:
        scrub = _job_scrubber(job, source)
        results = [replace(r, error=scrub(r.error), warnings=scrub(r.warnings)) for r in results]
    return results


def _crashed(job: Job, reason: str) -> list[JobResult]:
    return [
        JobResult(
            index=job.index,
            input=job.label,
            output=out,
            kind=render.kind,
            status="failed",
            seconds=0.0,
            error=reason,
        )
        for render, out in zip(job.renders, job.outputs, strict=True)
    ]


# -- executors -------------------------------------------------------------------------------


def _sequential(jobs: Sequence[Job], done: Callable[[Job, list[JobResult]], None]) -> None:
    for job in jobs:
        done(job, process_job(job))


_WORKER = contextlib.ExitStack()  # what a pool worker keeps from job to job


def _worker_start() -> None:
    """A pool worker keeps its offscreen windows (GL contexts) for all the jobs it runs.

    Its imports stay anyway (the worker process lives on from job to job); the render stack is
    imported here, once, as every job renders.
    """
    from volumeviz.render.screenshot import keep_windows

    _WORKER.enter_context(keep_windows())


def _processes(
    jobs: Sequence[Job],
    workers: int,
    done: Callable[[Job, list[JobResult]], None],
    work: Callable[[Job], list[JobResult]] = process_job,
) -> None:
    """Run ``work`` on each job in a spawn process pool; survive workers that die."""
    ctx = multiprocessing.get_context("spawn")
    unfinished: list[Job] = []
    with cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_worker_start
    ) as pool:
        futures = {pool.submit(work, job): job for job in jobs}
        for fut in cf.as_completed(futures):
            job = futures[fut]
            try:
                done(job, fut.result())
            except cf.process.BrokenProcessPool:
                unfinished.append(job)
            except Exception as exc:  # pickling and the like: this job only
                done(job, _crashed(job, f"worker error: {_one_line(exc)}"))
    if unfinished:
        log.warning(
            "a worker process died; re-running %d unfinished job(s) one per process",
            len(unfinished),
        )
    for job in sorted(unfinished, key=lambda j: j.index):
        with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            try:
                done(job, pool.submit(work, job).result())
            except cf.process.BrokenProcessPool:
                done(job, _crashed(job, "worker process died (crash in native code?)"))
            except Exception as exc:
                done(job, _crashed(job, f"worker error: {_one_line(exc)}"))


def _dask(
    jobs: Sequence[Job],
    address: str,
    done: Callable[[Job, list[JobResult]], None],
    info: dict[str, Any],
    timeout: float = 10.0,
) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - dependency
        raise UsageError(
            f"--scheduler needs dask.distributed: pip install distributed ({exc})"
        ) from exc
    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: {' '.join(str(exc).split())}"
        ) from exc
    try:
        info["dask_workers"] = len(client.scheduler_info().get("workers", {}))
        keys = [f"volumeviz-batch-{job.index}-{time.time_ns()}" for job in jobs]
        futures = client.map(process_job, list(jobs), key=keys, pure=False, retries=0)
        by_key = {f.key: job for f, job in zip(futures, jobs, strict=True)}
        for fut in as_completed(futures, loop=client.loop):
            job = by_key[fut.key]
            try:
                done(job, fut.result())
            except Exception as exc:  # KilledWorker, lost connection ...
                done(job, _crashed(job, f"dask: {_one_line(exc)}"))
    finally:
        client.close()


def run_batch(
    jobs: Sequence[Job],
    *,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    on_result: Callable[[JobResult], None] | None = None,
    scheduler_timeout: float = 10.0,
) -> BatchSummary:
    """Run ``jobs`` and return their results in job order.

    Parameters
    ----------
    jobs
        From :func:`~volumeviz.report.spec.plan_jobs`.
    executor
        ``"sequential"``, ``"processes"`` or ``"dask"`` (needs ``scheduler``).
    workers
        Local processes (default: the CPU count, at most the number of jobs).
    scheduler
        Address of a running Dask scheduler, e.g. ``tcp://127.0.0.1:8786``.
    progress
        Show a progress bar on stderr.
    on_result
        Called with every result as it arrives (in completion order).
    scheduler_timeout
        Seconds to wait for the Dask scheduler to answer.
    """
    if executor not in EXECUTORS:
        raise UsageError(f"executor {executor!r}: use one of {', '.join(EXECUTORS)}")
    if executor == "dask" and not scheduler:
        raise UsageError(
            f"the dask executor needs a scheduler address ({option('scheduler', 'ADDRESS')})"
        )
    if workers is not None and workers < 1:
        raise UsageError(f"workers must be >= 1, got {workers}")
    n_workers = 1
    if executor == "processes":
        n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    collected: dict[int, list[JobResult]] = {}
    info: dict[str, Any] = {}
    t0 = time.perf_counter()
    with _progress_bar(len(jobs), enabled=progress) as advance:

        def done(job: Job, results: list[JobResult]) -> None:
            collected[job.index] = results
            for r in results:
                if on_result is not None:
                    on_result(r)
            failed = sum(1 for r in results if r.status == "failed")
            name = job.name if job.anonymize else Path(job.path).name
            advance(name + (" (failed)" if failed else ""))

        if executor == "sequential" or not jobs:
            _sequential(jobs, done)
        elif executor == "processes":
            _processes(jobs, n_workers, done)
        else:
            assert scheduler is not None
            _dask(jobs, scheduler, done, info, scheduler_timeout)
    wall = time.perf_counter() - t0
    if executor == "dask":
        n_workers = int(info.get("dask_workers", 0))
    results = [r for job in jobs for r in collected.get(job.index, _crashed(job, "not run"))]
    return BatchSummary(results, executor, n_workers, wall, extra=info)


class _progress_bar:
    """A rich progress bar on stderr (or nothing), advanced with a description."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled and total > 0
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Callable[[str], None]:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=self.total)
        return self.advance

    def advance(self, description: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=description)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


# -- summary ---------------------------------------------------------------------------------

_COLUMNS = (
    "input",
    "output",
    "kind",
    "status",
    "seconds",
    "error",
    "warnings",
    "worker",
    "peak_rss_mb",
)


def write_summary(summary: BatchSummary, path: str | os.PathLike[str]) -> list[Path]:
    """Write the summary as CSV and JSON next to each other; return both paths.

    ``path`` may end in ``.csv`` or ``.json``; the other one is written beside it with the same
    stem. A summary is a log of this run, so an old one is replaced.
    """
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".json"):
        raise OutputError(f"{p}: a summary is .csv or .json")
    csv_path, json_path = p.with_suffix(".csv"), p.with_suffix(".json")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in summary.results:
        row = asdict(r)
        writer.writerow({k: row[k] for k in _COLUMNS})
    with atomic_path(csv_path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    return [csv_path, json_path]


def iter_failed(summary: BatchSummary) -> Iterable[JobResult]:
    """Return the failed results, in job order."""
    return (r for r in summary.results if r.status == "failed")
