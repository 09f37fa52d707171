"""``volumeviz report`` (a PDF/HTML report of a series or study) and ``volumeviz batch`` (a spec).

Both are thin: parse, call :mod:`volumeviz.report`, print. Expected errors are one line and exit
1 (the data) or 2 (the usage, including a malformed spec or an output that already exists).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from volumeviz.cli._dims import index_option, parse_index
from volumeviz.cli._pacs import SOURCE, pacs_options
from volumeviz.errors import OutputError, UsageError

_VIEWS = ("anterior", "posterior", "left", "right", "superior", "inferior")


@click.command("report")
@click.argument("path", type=SOURCE)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The report file: .pdf (print) or .html (self-contained, images embedded).",
)
@click.option(
    "--template",
    default=None,
    help="'standard' (default), 'brief', or a .toml/.yaml template file.",
)
@click.option(
    "--anonymize",
    is_flag=True,
    help="Remove patient identity from the text, the images' annotations and file metadata.",
)
@click.option("--series", default=None, help="Report only this series (number, UID or key).")
@index_option
@click.option(
    "--preset", "presets", multiple=True, help="3D preset (repeat for several; default: template)."
)
@click.option(
    "--view",
    "views",
    multiple=True,
    type=click.Choice(_VIEWS),
    help="3D view (repeat for several; default: anterior).",
)
@click.option("--dpi", type=click.IntRange(36, 1200), default=None, help="Print resolution.")
@click.option("--title", default=None, help="Report title.")
@click.option("--force", is_flag=True, help="Overwrite the output if it exists.")
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse (and name in the report) each series whose geometry would be corrected or "
    "assumed: resampled, dropped slices, unknown spacing or orientation.",
)
@click.option(
    "--seg",
    "segs",
    multiple=True,
    help="Segmentation over each series (SEG, RTSTRUCT, labelmap file), 'auto' (default: the "
    "SEG/RTSTRUCT under PATH that belong to it) or 'none'. Repeatable.",
)
@click.option(
    "--secondary-capture",
    "sc_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write the report's images as a DICOM Secondary Capture series in this folder.",
)
@click.option(
    "--measure",
    "measure",
    multiple=True,
    metavar="KIND:x,y,z,...",
    help="Measure on every series (LPS mm, as screenshot --measure): a table of values and a "
    "picture of each drawn on its plane. distance:2 points, angle:3 (vertex 2nd), point:1, "
    "ellipse:centre,axis end,axis end. Repeatable.",
)
@click.option(
    "--store",
    "store",
    default=None,
    metavar="ADDRESS",
    help="Send the Secondary Capture series to this PACS (STOW-RS or C-STORE); with no "
    "--secondary-capture folder it is written to a temporary one.",
)
@pacs_options
def report(
    path: Path | str,
    output: Path,
    template: str | None,
    anonymize: bool,
    series: str | None,
    index: tuple[str, ...],
    presets: tuple[str, ...],
    views: tuple[str, ...],
    dpi: int | None,
    title: str | None,
    force: bool,
    strict: bool,
    sc_dir: Path | None,
    segs: tuple[str, ...],
    measure: tuple[str, ...],
    store: str | None,
) -> None:
    """Build a PDF or HTML report of the series (or whole study) at PATH (or a PACS address)."""
    from volumeviz.cli import _console
    from volumeviz.report.build import (
        build_report,
        load_study,
        load_template,
        write_report,
        write_secondary_capture_series,
    )
    from volumeviz.report.document import Layout

    if anonymize:  # from here nothing printed names an input file or the patient
        _console.protect([path])
    chosen = parse_index(index)
    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise UsageError(f"{output}: the report is written as .pdf or .html, not {suffix!r}")
    if output.exists() and not force:
        raise OutputError(f"{output}: exists; pass --force to overwrite")
    if not output.parent.is_dir():
        raise OutputError(f"{output}: output folder {output.parent} does not exist")
    if store is not None:
        from volumeviz.io.pacs import parse_address

        parse_address(store)  # a malformed address fails before anything is loaded
    from volumeviz.ops.measure import Markup

    marks = tuple(Markup.parse(m) for m in measure)  # a typo fails before anything is loaded
    if sc_dir is not None and sc_dir.is_dir() and any(sc_dir.glob("SC*.dcm")):
        raise OutputError(f"{sc_dir}: holds a secondary capture series already; use another")
    tpl = load_template(template).with_changes(
        presets=presets or None, views=views or None, dpi=dpi, title=title
    )
    if presets:
        from volumeviz.transfer import load_preset

        for p in presets:
            load_preset(p)  # unknown name: PresetError (exit 2) before anything is loaded
    items, problems = load_study(path, series=series, index=chosen or None, strict=strict)
    _console.add_identity(*items)
    layout = Layout(dpi=tpl.dpi, page=tpl.page)
    from volumeviz.cli._seg import segmentations_for_cli
    from volumeviz.model.volume import Volume

    placed = [
        segmentations_for_cli(it, segs, path, anonymize=anonymize)
        if isinstance(it, Volume)
        else []
        for it in items
    ]
    doc = build_report(
        items,
        template=tpl,
        layout=layout,
        anonymize=anonymize,
        source=str(path),
        problems=problems,
        segmentations=placed,
        measurements=marks,
    )
    out = write_report(doc, output, layout=layout, overwrite=force)
    click.echo(str(out))
    for problem in doc.problems:  # the report is written; what failed is named, exit 1
        click.echo(f"volumeviz: error: {' '.join(problem.split())}", err=True)
    if sc_dir is not None:
        written = write_secondary_capture_series(doc, items, sc_dir, anonymize=anonymize)
        for f in written:
            click.echo(str(f))
    if store is not None:
        from volumeviz.io.pacs import store as store_files

        if sc_dir is None:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="volumeviz-sc-") as tmp:
                written = write_secondary_capture_series(
                    doc, items, Path(tmp), anonymize=anonymize
                )
                n = store_files(store, written)
        else:
            n = store_files(store, written)
        click.echo(f"{store}: stored {n} secondary capture instance(s)")
    if doc.problems:
        raise SystemExit(1)


@click.command("batch")
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path))
@click.option(
    "-j", "--workers", type=click.IntRange(1, 256), default=None, help="Local processes."
)
@click.option("--sequential", is_flag=True, help="Run in this process, one input at a time.")
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run on an existing Dask distributed scheduler (e.g. tcp://10.0.0.5:8786).",
)
@click.option(
    "--scheduler-timeout",
    type=click.FloatRange(0.1, 600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the Dask scheduler.",
)
@click.option("--force", is_flag=True, help="Re-make outputs that already exist.")
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Summary file (.csv or .json; both are written). Default: OUTPUT/batch-summary.csv.",
)
@click.option("--dry-run", is_flag=True, help="Check the spec and list the jobs; render nothing.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@pacs_options
def batch(
    spec_path: Path,
    workers: int | None,
    sequential: bool,
    scheduler: str | None,
    scheduler_timeout: float,
    force: bool,
    summary: Path | None,
    dry_run: bool,
    no_progress: bool,
) -> None:
    """Render every input of a TOML/YAML SPEC; failures are reported, not fatal.

    Exits 1 if any output failed (the summary says which and why), 0 otherwise.
    """
    from volumeviz.cli import _console
    from volumeviz.report.batch import run_batch, write_summary
    from volumeviz.report.spec import load_spec, plan_jobs

    if sequential and scheduler:
        raise UsageError("--sequential and --scheduler exclude each other")
    spec = load_spec(spec_path)
    if spec.anonymize:  # a render anonymises: nothing printed or summarised may identify
        _console.protect(spec.input_paths())
    jobs = plan_jobs(spec)
    if force:
        jobs = [dataclasses.replace(j, overwrite=True) for j in jobs]
    if dry_run:
        for job in jobs:
            for out in job.outputs:
                state = "exists" if Path(out).exists() else "to make"
                click.echo(f"{job.label}\t{out}\t{state}")
        return
    try:
        spec.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{spec.output_dir}: cannot create the output folder: {exc}") from exc
    executor = "dask" if scheduler else ("sequential" if sequential else "processes")
    result = run_batch(
        jobs,
        executor=executor,
        workers=workers or spec.workers,
        scheduler=scheduler,
        progress=not no_progress,
        scheduler_timeout=scheduler_timeout,
    )
    if spec.anonymize:  # the summary passes the console's filter too: one rule for outputs
        result = result.scrubbed(_console.scrub)
    target = summary or spec.summary or spec.output_dir / "batch-summary.csv"
    written = write_summary(result, target)
    click.echo(result.line())
    for r in result.results:
        if r.status == "failed":
            click.echo(f"failed: {r.input} -> {Path(r.output).name}: {r.error}", err=True)
    click.echo(f"summary: {', '.join(str(p) for p in written)}")
    if not result.ok:
        raise SystemExit(1)
