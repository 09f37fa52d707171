"""``volumeviz export PATH -o OUTDIR``: every image under a folder or DICOMDIR as PNG/JPEG.

Thin: the planning, naming, pseudonyms, pixel policy and confinement are
:func:`volumeviz.io.export.export_images`, whose docstring describes the layout. This command
parses the options, shows progress, prints the summary and sets the exit code (1 if any image
could not be exported). With ``--anonymize`` nothing it prints names an input file or the
patient (:mod:`volumeviz.cli._console`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from volumeviz.cli._pacs import SOURCE, pacs_options


@click.command("export")
@click.argument("path", type=SOURCE)
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (created if missing).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "jpg"]),
    default="png",
    show_default=True,
    help="Image format.",
)
@click.option(
    "--window",
    default="file",
    show_default=True,
    help="file | file:N | file:NAME | auto | W/L (e.g. 400/40) | preset (lung, bone...).",
)
@click.option(
    "--anonymize",
    is_flag=True,
    help="Pseudonymous patient/study folders (key: $VOLUMEVIZ_PSEUDONYM_KEY); pixels that may "
    "show the patient masked (ultrasound) or skipped; no file names printed.",
)
@click.option("--overlays", is_flag=True, help="Burn in overlay planes (60xx).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@pacs_options
def export(
    path: Path | str,
    outdir: Path,
    fmt: str,
    window: str,
    anonymize: bool,
    overlays: bool,
    force: bool,
) -> None:
    """Export every image under PATH (folder, file, DICOMDIR, PACS) as PNG/JPEG into OUTDIR.

    Files go to OUTDIR/{patient}/{study date}/{series number}/{instance number}.png; multi-frame
    images give {instance number}_{frame}.png per frame.
    """  # fmt: skip
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from volumeviz.cli import _console
    from volumeviz.io.export import export_images

    source = path
    if anonymize:  # before anything is fetched: a failed retrieve's error names the study
        _console.protect([source])
    if isinstance(path, str):  # a PACS study or series: retrieve it, then export the files
        from volumeviz.io.pacs import local_folder

        path = local_folder(path)
        _console.add_inputs(path)
    err = Console(stderr=True)
    with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True, disable=not err.is_terminal) as bar:  # fmt: skip
        task = bar.add_task("export", total=None)
        result = export_images(
            path, outdir, fmt=fmt, window=window, anonymize=anonymize, force=force,
            overlays=overlays,
            on_total=lambda n: bar.update(task, total=n),
            on_step=lambda: bar.advance(task),
            on_wait=lambda: click.echo(
                f"volumeviz: another export is writing into {outdir}; waiting for it", err=True
            ),
        )  # fmt: skip
    for line in result.summary(outdir):
        click.echo(line)
    if result.failed:
        sys.exit(1)  # the summary above says which images and why
    if not result.written and not result.kept:
        click.echo(f"volumeviz: error: {source}: no image found to export", err=True)
        sys.exit(1)
