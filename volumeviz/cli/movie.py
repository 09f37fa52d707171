"""``volumeviz movie PATH -o OUT.mp4|.gif``: along time (echo ...), a sweep, or a 3D rotation.

A series with extra dimensions is played along one of them; any series can have a plane swept
through it or be turned around in 3D.

Thin: parse, load, call :mod:`volumeviz.render.movie`, print. Options are checked before any
pixel is read; frames are rendered and encoded one at a time (memory stays flat), and the file
is written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from volumeviz.cli._dims import index_option, parse_index
from volumeviz.errors import OutputError, UsageError

_PLANES = ("axial", "coronal", "sagittal")
_LAYOUTS = ("axial", "coronal", "sagittal", "quad", "3d")


def _check_output(out: Path) -> None:
    if out.suffix.lower() not in (".mp4", ".gif"):
        raise OutputError(f"{out}: a movie is written as .mp4 or .gif")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{out}: output folder {parent} does not exist")
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name ending in .mp4 or .gif")


@click.command("movie")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The movie to write: .mp4 (H.264) or .gif (its folder must exist).",
)
@click.option(
    "--along",
    default=None,
    metavar="DIM",
    help="Play this extra dimension (time, echo, ... as 'volumeviz info' lists) "
    "[default for a series with extra dimensions: time, else its first].",
)
@click.option(
    "--sweep",
    type=click.Choice(_PLANES),
    default=None,
    help="Sweep this MPR plane through the volume, one slice per frame.",
)
@click.option("--rotate", is_flag=True, help="Turn the 3D view once around (azimuth 0-360°).")
@click.option(
    "--frames", type=click.IntRange(2, 3600), default=72, show_default=True,
    help="Frames of a --rotate movie.",
)  # fmt: skip
@click.option(
    "--step", type=click.IntRange(1, 1000), default=1, show_default=True,
    help="Slices between frames of a --sweep movie.",
)  # fmt: skip
@click.option(
    "--fps",
    type=float,
    default=None,
    help="Frames per second [default: the series' own along time (1/TR), else 4 along a "
    "dimension, 10 for a sweep, 24 for a rotation].",
)
@index_option
@click.option(
    "--layout",
    type=click.Choice(_LAYOUTS),
    default=None,
    help="What each frame shows along a dimension: one plane, the 2x2 quad or the 3D view "
    "[default: quad].",
)
@click.option("--preset", default=None, help="3D preset [default: by modality].")
@click.option("--view", default="anterior", show_default=True, help="3D camera (start).")
@click.option(
    "--window", default=None, help="2D window W/L or a name [default: the file's / modality]."
)
@click.option("--slice", "slice_", default=None, help="Where the planes pass (as screenshot).")
@click.option("--size", default="640x480", show_default=True, help="Frame size WxH in pixels.")
@click.option(
    "--series",
    default=None,
    help="Which series under PATH: its label as 'volumeviz info' lists, number, UID or key.",
)
@click.option(
    "--anonymize", is_flag=True, help="Leave patient identity and dates out of the frames."
)
@click.option("--no-annotations", is_flag=True, help="No letters, scale bar, marker or text.")
def movie(
    path: Path,
    out: Path,
    along: str | None,
    sweep: str | None,
    rotate: bool,
    frames: int,
    step: int,
    fps: float | None,
    index: tuple[str, ...],
    layout: str | None,
    preset: str | None,
    view: str,
    window: str | None,
    slice_: str | None,
    size: str,
    series: str | None,
    anonymize: bool,
    no_annotations: bool,
) -> None:
    """Write a movie of the series at PATH, frames rendered one at a time.

    \b
    volumeviz movie fMRI/ -o bold.mp4                    (along time, at 1/TR)
    volumeviz movie fMRI/ --layout axial --slice 12 -o bold.gif
    volumeviz movie ME/ --along echo --index part=2 -o echoes.mp4
    volumeviz movie CT/ --sweep axial -o sweep.mp4
    volumeviz movie CT/ --rotate --preset bone -o turn.mp4
    """  # noqa: D301 (click needs the real \b to keep the example lines)
    from volumeviz.render.screenshot import parse_size, prefer_egl
    from volumeviz.render.state import ViewState

    prefer_egl(even_with_display=True)  # never opens a window
    _check_output(out)
    chosen = parse_index(index)
    modes = [m for m, on in (("--along", along), ("--sweep", sweep), ("--rotate", rotate)) if on]
    if len(modes) > 1:
        raise UsageError(f"choose one of --along, --sweep and --rotate, not {' and '.join(modes)}")
    if layout is not None and (sweep or rotate):
        raise UsageError("--layout is for a movie along a dimension (--sweep and --rotate "
                         "choose their own)")  # fmt: skip
    if fps is not None and not fps > 0:
        raise UsageError(f"--fps must be positive, not {fps:g}")
    wh = parse_size(size)
    mpr = {None: "quad", "3d": None}.get(layout, layout)
    state = ViewState(
        preset=preset,
        view=view,
        window=window,
        slice=slice_,
        size=wh,
        mpr=mpr,
        annotations=not no_annotations,
        anonymize=anonymize,
    ).checked()
    if anonymize:  # from here nothing printed names an input file or the patient
        from volumeviz.cli import _console

        _console.protect([path])

    from volumeviz.render import movie as mv_render

    key = _series_arg(series)
    if sweep or rotate:
        from volumeviz.io.volume import load_series

        vol = load_series(path, series=key, index=chosen or None)
        if anonymize:
            from volumeviz.cli import _console

            _console.add_identity(vol)
            vol = vol.anonymized()
        if sweep:
            info = mv_render.movie_sweep(vol, out, plane=sweep, state=state, fps=fps, step=step)
        else:
            info = mv_render.movie_rotation(vol, out, frames=frames, state=state, fps=fps)
    else:
        from volumeviz.io.volume import load_multivolume

        try:
            series_nd = load_multivolume(path, series=key)
        except UsageError as exc:
            raise UsageError(f"{exc}; use --sweep PLANE or --rotate for a 3D series") from None
        if anonymize:  # the frames are scrubbed by render_scene; the console too
            from volumeviz.cli import _console

            _console.add_identity(series_nd.meta)
        info = mv_render.movie_along(series_nd, out, dim=along, index=chosen, state=state, fps=fps)
    _report(info)


def _report(info: Any) -> None:
    for note in info.notes:
        click.echo(f"volumeviz: note: {note}", err=True)
    click.echo(
        f"{info.path}: {info.frames} frames at {info.fps:g} frames/s ({info.fps_source}), "
        f"{info.seconds:.3g} s"
    )


def _series_arg(series: str | None) -> int | str | None:
    if series is None:
        return None
    return int(series) if series.strip().isdigit() else series
