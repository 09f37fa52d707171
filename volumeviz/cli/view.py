"""``volumeviz view PATH``: the interactive window (Qt is imported only when the command runs)."""

from __future__ import annotations

from pathlib import Path

import click

from volumeviz.cli._dims import index_option, parse_index
from volumeviz.cli._pacs import SOURCE, pacs_options
from volumeviz.errors import NoSeriesError, UsageError


def _size(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give WIDTHxHEIGHT, e.g. 1100x850") from None
    if w < 200 or h < 200:
        raise click.BadParameter(f"{value!r}: the window needs at least 200x200 pixels")
    return (w, h)


@click.command("view", short_help="Open the interactive 3D window.")
@click.argument("path", required=False, type=SOURCE)
@click.option("--series", help="Series number or UID to open (default: the largest).")
@click.option(
    "--screenshot",
    "screenshot",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Open the real window, render, save the layout to this PNG and exit.",
)
@click.option(
    "--whole-window",
    is_flag=True,
    help="With --screenshot: save the window itself (menus, toolbar) instead of the layout.",
)
@click.option(
    "--size", default="1100x850", callback=_size, show_default=True, help="Window size WxH."
)
@click.option(
    "--seg",
    "segs",
    multiple=True,
    help="Segmentation to show (SEG, RTSTRUCT, .nii/.nii.gz/.nrrd/.npy labelmap), 'auto' "
    "(default: the SEG/RTSTRUCT under PATH that belong to the series) or 'none'. Repeatable.",
)
@index_option
@pacs_options
def view(
    path: Path | str | None,
    series: str | None,
    screenshot: Path | None,
    whole_window: bool,
    size: tuple[int, int],
    segs: tuple[str, ...],
    index: tuple[str, ...],
) -> None:
    """Open PATH (a DICOM folder, DICOMDIR, ultrasound file or PACS address) in the window.

    Axial, coronal and sagittal MPR and the 3D view in a 2x2 layout with a linked crosshair.
    With --screenshot the window opens, renders, saves OUT.png and exits (for docs and tests):
    the layout as `volumeviz screenshot` renders the same view, or with --whole-window the
    window itself.
    """
    chosen = parse_index(index)
    if chosen and path is None:
        raise UsageError("--index needs a PATH to open")
    if isinstance(path, str):  # a PACS study or series: retrieve it first (progress shown)
        from volumeviz.io.pacs import local_folder, narrow

        addr, key = narrow(path, series)
        series = None if key is None else str(key)
        path = local_folder(addr)
    if path is not None and not path.exists():
        raise NoSeriesError(f"{path}: no such file or folder (it does not exist)")
    if screenshot is not None:
        if path is None:
            raise UsageError("--screenshot needs a PATH to open")
        if not screenshot.parent.is_dir():
            raise UsageError(f"{screenshot}: folder {screenshot.parent} does not exist")
    from volumeviz._optional import import_optional

    import_optional("pyvistaqt", feature="the interactive window", extra="gui")
    from volumeviz.app.run import run_view

    code = run_view(
        path,
        series=series,
        screenshot=screenshot,
        whole_window=whole_window,
        size=size,
        seg=segs,
        index=chosen,
    )
    if screenshot is not None and code == 0:
        click.echo(str(screenshot))
    if code:
        raise SystemExit(code)
