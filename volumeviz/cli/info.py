"""``volumeviz info PATH [--json]``: list the series under a folder, file or DICOMDIR.

Headers only (no pixels): patient, study, series number, modality, description, files, size,
spacing, orientation ("axial", "oblique 20° (near axial)"), issues; then rejected files with
reasons and skipped files. ``--json`` prints a list with one record per series.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from volumeviz.errors import NoSeriesError


def _orientation(direction: Any) -> str:
    from volumeviz.model.orientation import plane_name

    return plane_name(direction[:, 2])


def _record(s: Any) -> dict[str, Any]:
    rec: dict[str, Any] = s.to_dict()
    rec["orientation"] = (
        _orientation(s.plan.direction) if s.plan is not None and s.plan.has_geometry else ""
    )
    return rec


@click.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one record per series.")
@click.option(
    "--series",
    "series",
    default=None,
    help="Show only this series (number, UID or key as listed).",
)
def info(path: Path, as_json: bool, series: str | None) -> None:
    """List the image series under PATH (folder, file or DICOMDIR), from headers only."""
    from volumeviz.io.dicomdir import is_dicomdir

    if is_dicomdir(path):
        try:
            from volumeviz.cli._dicomdir import dicomdir_info
        except ImportError:
            pass  # DICOMDIR tree view not in this build: list the referenced files' series
        else:
            dicomdir_info(path, as_json)
            return

    result = _scan(path, quiet=as_json)
    chosen = result.series
    if series is not None:
        from volumeviz.io.volume import select_series

        chosen = [select_series(result, series, source=str(path))]
    if as_json:
        out = [_record(s) for s in chosen]
        click.echo(json.dumps(out, indent=2))
        if not chosen:
            _fail_if_nothing(result, path)
        return
    if not chosen:
        _fail_if_nothing(result, path)
    _print_table(result, chosen, path)


def _scan(path: Path, *, quiet: bool) -> Any:
    from volumeviz.io.discover import scan

    if quiet or not sys.stderr.isatty():
        return scan(path)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading headers", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return scan(path, progress=progress)


def _fail_if_nothing(result: Any, path: Path) -> None:
    from volumeviz.io.volume import select_series

    select_series(result, None, source=str(path))  # raises the right one-line error
    raise NoSeriesError(f"{path}: no DICOM image series found")  # pragma: no cover


def _fmt(values: Any, digits: int = 3) -> str:
    return " x ".join(f"{v:.{digits}g}" for v in values)


def _print_table(result: Any, chosen: list[Any], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False, width=max(Console().width, 160))
    table = Table(title=f"{path}: {len(chosen)} series", show_lines=True)
    for col in (
        "patient",
        "study",
        "series",
        "modality",
        "description",
        "files",
        "size",
        "spacing (mm)",
        "orientation",
        "issues",
    ):
        table.add_column(col, overflow="fold")
    for s in chosen:
        h = s.header
        plan = s.plan
        if plan is not None:
            size = _fmt(plan.size, 6)
            spacing = _fmt(plan.spacing, 4)
            orient = _orientation(plan.direction) if plan.has_geometry else "unknown"
            issues = "\n".join(f"{i.code}: {i.message}" for i in plan.issues) or "-"
        else:
            size = spacing = orient = "-"
            issues = f"not reconstructable: {s.refusal}"
        if s.split_reason:
            issues = f"{issues}\nsplit: {s.split_reason}"
        patient = f"{h.get('patient_name', '')} ({h.get('patient_id', '')})"
        study = " ".join(x for x in (h.get("study_date", ""), h.get("study_description", "")) if x)
        number = "-" if s.number is None else str(s.number)
        if s.key != s.uid:
            number += f" [{s.key.rsplit('#', 1)[-1]}]"
        table.add_row(
            patient,
            study,
            number,
            s.modality,
            s.description,
            str(s.n_files),
            size,
            spacing,
            orient,
            issues,
        )
    console.print(table)
    for r in result.rejected:
        console.print(f"rejected: {r.reason}", markup=False, highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
