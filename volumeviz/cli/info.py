"""``volumeviz info PATH [--json]``: list the series under a folder, file or DICOMDIR.

Headers only (no pixels). One table per study (patient, date, description in its title), as wide
as the terminal: the series' label (what ``--series`` accepts: ``801``, ``801 [2]`` for part 2 of
a split series), modality, description, grid size, spacing, plane ("axial", "oblique 20° (near
axial)") and how many issues; then each issue on its own entry, rejected files with reasons and
skipped files (counted; ``-v`` lists them). ``--json`` prints one record per series.

A series of several volumes on one grid shows its extra dimensions after the grid size
(``64x64x10 × 5 time (TR 2 s)``); its issues say which rule told the volumes apart and which
volume is missing with what is missing. ``--json`` adds ``"dims": {NAME: SIZE}`` (``{}`` for
plain 3D), ``"dimensions"`` (values, unit, source of each), ``"dimension_rule"`` and
``"missing_volumes"``.

PATH may be a PACS address: without a study it lists the PACS' studies (patient, date,
description, modalities, number of series); with ``/studies/UID`` it lists that study's series
as for a folder, planned from metadata (no pixel data is retrieved). ``--patient``, ``--date``
and ``--modality`` filter the studies (or the series).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from volumeviz.cli._pacs import SOURCE, pacs_options, print_studies
from volumeviz.errors import NoSeriesError
from volumeviz.io.pacs.address import is_address


def _orientation(direction: Any) -> str:
    from volumeviz.model.orientation import plane_name

    return plane_name(direction[:, 2])


def _record(s: Any, label: str, derived: list[Any]) -> dict[str, Any]:
    rec: dict[str, Any] = {"label": label, **s.to_dict()}
    # the derived objects (SEG, RTSTRUCT, SR ...) found that say they were made from this series
    rec["derived_objects"] = [d.to_dict() for d in derived if s.uid in d.referenced_series_uids]
    rec["orientation"] = (
        _orientation(s.plan.direction) if s.plan is not None and s.plan.has_geometry else ""
    )
    return rec


def _orientation_cell(plan: Any) -> str:
    """The orientation column: the plane, or what the image is when it has no patient frame."""
    g = plan.geometry
    if g.has_patient_frame:
        return str(_orientation(plan.direction))
    po = " (" + "\\".join(g.patient_orientation) + ")" if g.patient_orientation else ""
    if g.kind.value == "projection":
        return f"projection{po}"
    return f"unknown{po} (assumed)"


@click.command("info")
@click.argument("path", type=SOURCE)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one record per series.")
@click.option(
    "--series",
    "series",
    default=None,
    help="Show only this series: its label as listed (801, '801 [2]'), number, UID or key.",
)
@click.option(
    "--patient",
    default=None,
    help="Only this Patient ID or Patient's Name (wildcards * ?; else matched anywhere).",
)
@click.option(
    "--date", default=None, help="Only this Study Date: YYYYMMDD or a range FROM-TO (open ends)."
)
@click.option("--modality", default=None, help="Only studies/series of this modality (CT, MR).")
@pacs_options
def info(
    path: Path | str,
    as_json: bool,
    series: str | None,
    patient: str | None,
    date: str | None,
    modality: str | None,
) -> None:
    """List the image series under PATH (folder, file, DICOMDIR or PACS), from headers only."""
    if is_address(path):
        from volumeviz.io.pacs import parse_address, query_studies, scan_metadata

        addr = parse_address(str(path))
        if addr.study_uid is None:
            records = query_studies(addr, patient=patient, date=date, modality=modality)
            if as_json:
                click.echo(json.dumps([r.to_dict() for r in records], indent=2))
            else:
                print_studies(str(addr), records)
            return
        result = scan_metadata(addr)
    else:
        from volumeviz.io.dicomdir import is_dicomdir

        assert isinstance(path, Path)
        if is_dicomdir(path):
            try:
                from volumeviz.cli._dicomdir import dicomdir_info
            except ImportError:
                pass  # DICOMDIR tree view not in this build: list the referenced files' series
            else:
                dicomdir_info(path, as_json)
                return
        result = _scan(path, quiet=as_json)
    chosen = _filtered(result.series, patient, date, modality)
    if series is not None:
        from volumeviz.io.volume import select_series

        chosen = [select_series(result, series, source=str(path))]
    if as_json:
        labels = result.labels()
        out = [_record(s, labels[s.key], result.derived) for s in chosen]
        click.echo(json.dumps(out, indent=2))
        if not chosen:
            _fail_if_nothing(result, path)
        return
    if not chosen:
        _fail_if_nothing(result, path)
    _print_table(result, chosen, path)
    # derived objects without pixels (RTSTRUCT, SR, PR, KOS ...) are listed after the series
    if series is None:
        _print_derived([d for d in result.derived if not d.has_pixels])


def _print_derived(objects: list[Any]) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    for d in objects:
        made_from = (
            " from series " + ", ".join(d.referenced_series_uids)
            if d.referenced_series_uids
            else ""
        )
        desc = f" '{d.description}'" if d.description else ""
        console.print(
            f"derived: {d.kind}{desc} ({d.sop_class}, {d.path}){made_from}", markup=False
        )


def _filtered(
    series: list[Any], patient: str | None, date: str | None, modality: str | None
) -> list[Any]:
    """The series whose patient, study date and modality match the filters."""
    if not (patient or date or modality):
        return series
    import fnmatch

    from volumeviz.io.pacs import date_range

    lo, hi = date_range(date) if date else ("", "")
    out = []
    for s in series:
        h = s.header
        if modality and s.modality.upper() != modality.strip().upper():
            continue
        if patient:
            p = patient.strip()
            pattern = p if any(c in p for c in "*?") else f"*{p}*"
            name = str(h.get("patient_name", ""))
            if h.get("patient_id", "") != p and not fnmatch.fnmatch(name.lower(), pattern.lower()):
                continue
        if date:
            d = str(h.get("study_date", ""))
            if not d or (lo and d < lo) or (hi and d > hi):
                continue
        out.append(s)
    return out


def _scan(path: Path, *, quiet: bool) -> Any:
    from volumeviz.io.discover import scan

    if quiet or not sys.stderr.isatty():
        return scan(path)
    from rich.console import Console
    from rich.progress import Progress

    # refreshed from here, not by rich's own thread: a single-threaded process may read the
    # headers of a large folder on a second (forked) process, see io.discover
    with Progress(console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
        task = bar.add_task("reading headers", total=None)
        shown = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            refresh = done == total or now - shown[0] > 0.1
            if refresh:
                shown[0] = now
            bar.update(task, completed=done, total=total, refresh=refresh)

        return scan(path, progress=progress)


def _fail_if_nothing(result: Any, path: Path | str) -> None:
    from volumeviz.io.volume import select_series

    select_series(result, None, source=str(path))  # raises the right one-line error
    raise NoSeriesError(f"{path}: no DICOM image series found")  # pragma: no cover


def _fmt(values: Any, digits: int = 3) -> str:
    return "x".join(f"{v:.{digits}g}" for v in values)


def _issue_lines(s: Any) -> list[tuple[str, str]]:
    """``(code, text)`` of each thing the loader found for series ``s``: one entry per issue."""
    from volumeviz.model.series import representative_window

    out: list[tuple[str, str]] = []
    if s.plan is None:
        out.append(("refused", f"not reconstructable: {s.refusal}"))
    else:
        out += [(i.code, f"{i.code}: {i.message}") for i in s.plan.issues]
    if s.split_reason:
        out.append(("split", f"split: {s.split_reason}"))
    if s.dims is not None and s.dims.dims:
        what = "; ".join(f"{d.summary()} by {d.source}" for d in s.dims.dims)
        out.append(("dims", f"dims: {what}"))
        for idx, why in sorted(s.dims.missing.items()):
            label = " · ".join(d.label(k) for d, k in zip(s.dims.dims, idx, strict=True))
            out.append(("missing-volume", f"missing: {label}: {why}"))
    if s.derived:
        refs = s.header.get("referenced_series_uids", ())
        made_from = f" made from series {', '.join(refs)}" if refs else ""
        out.append(("derived", f"derived: {s.derived}{made_from}; loaded only when asked for"))
    win = representative_window(s.slices)
    if win is not None and not win.agree:
        out.append(("window", f"window: C {win.center:g} / W {win.width:g}, {win.explanation}"))
    return out


def _study_title(h: dict[str, Any]) -> str:
    from volumeviz.model.dates import format_date

    patient = h.get("patient_name", "") or "(no name)"
    if h.get("patient_id"):
        patient += f" ({h['patient_id']})"
    parts = [patient, format_date(h.get("study_date", "")), h.get("study_description", "")]
    return " · ".join(p for p in parts if p)


def _verbosity() -> int:
    ctx = click.get_current_context(silent=True)
    return int(ctx.find_root().meta.get("volumeviz.verbose", 0)) if ctx is not None else 0


def _print_table(result: Any, chosen: list[Any], path: Path | str) -> None:
    """Print one table per study (as wide as the terminal), then one entry per issue."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)  # the terminal's width ($COLUMNS; 80 when piped)
    labels = result.labels()
    studies: dict[tuple[str, str], list[Any]] = {}
    for s in chosen:
        h = s.header
        studies.setdefault((h.get("study_uid", ""), _study_title(h)), []).append(s)
    console.print(f"{path}: {len(chosen)} series", markup=False)
    for (_, title), members in studies.items():
        table = Table(
            title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
            collapse_padding=True,
        )  # fmt: skip
        for col, kw in (
            ("series", {"no_wrap": True}),
            ("modality", {"no_wrap": True}),
            ("description", {"overflow": "fold", "ratio": 1, "min_width": 11}),
            ("size", {"no_wrap": True}),
            ("spacing mm", {"no_wrap": True}),
            ("plane", {"overflow": "fold", "ratio": 1, "min_width": 8}),
            ("issues", {"justify": "right", "no_wrap": True}),
        ):
            table.add_column(col, **kw)
        for s in members:
            plan = s.plan
            if plan is not None:
                size, spacing = _fmt(plan.size, 6), _fmt(plan.spacing, 3)
                if s.dims is not None and s.dims.dims:
                    size = " × ".join([size, *(d.short() for d in s.dims.dims)])
                orient = _orientation_cell(plan)
            else:
                size = spacing = orient = "-"
            n_issues = sum(1 for code, _ in _issue_lines(s) if code != "dims")  # dims inform
            table.add_row(
                labels[s.key], s.modality, s.description, size, spacing, orient,
                str(n_issues) if n_issues else "-",
            )  # fmt: skip
        console.print(table)
        found = [(labels[s.key], text) for s in members for _, text in _issue_lines(s)]
        if found:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
            for label, text in found:
                grid.add_row(label, text)
            console.print(grid)
    for r in result.rejected:
        console.print(f"rejected: {r.reason}", markup=False)
    _print_notes(console, result.notes)
    _print_ignored(console, result.ignored)


def _print_ignored(console: Any, ignored: list[str]) -> None:
    """Header values left out (file used): each one under -v or when few, else the first."""
    if _verbosity() > 0 or len(ignored) <= 3:
        for line in ignored:
            console.print(f"ignored: {line}", markup=False)
    elif ignored:
        console.print(
            f"ignored {len(ignored)} malformed header values (first: {ignored[0]}); -v lists them",
            markup=False,
        )


def _print_notes(console: Any, notes: list[str]) -> None:
    """Files that were skipped (not images): each one under -v, else how many and the first."""
    if _verbosity() > 0 or len(notes) == 1:
        for note in notes:
            console.print(f"skipped: {note}", markup=False)
    elif notes:
        console.print(
            f"skipped {len(notes)} files that are not images (first: {notes[0]}); -v lists them",
            markup=False,
        )
