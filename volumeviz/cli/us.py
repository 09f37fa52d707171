"""``volumeviz us``: ultrasound calibration regions, measurements in cm, and export.

- ``us info FILE [--json]``: frames, size, frame time, one row per (0018,6011) region.
- ``us measure FILE --from X,Y --to X,Y [--axis x|y] [--frame N] [--json]``: a distance
  (or a time / velocity difference along one axis), or the refusal (exit 1, one line).
- ``us export FILE -o OUT [--frames 0,5,10-20|all] [--scale-bar] [--regions]``: PNG frames, or
  an MP4/GIF cine at the file's frame rate, streamed one frame at a time.

Thin: the rendering and export are :func:`volumeviz.render.ultrasound.save_frame` and
:func:`volumeviz.render.ultrasound.export_frames` (``volumeviz screenshot`` of an ultrasound file
calls :func:`screenshot_ultrasound`, which loads and calls ``save_frame``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from volumeviz.errors import UsageError
from volumeviz.model.ultrasound import parse_frames


def _point(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    parts = value.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected COLUMN,ROW, e.g. 320,240") from None


def _polygon(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    pts = [_point(ctx, param, p) for p in value.replace(";", " ").split()]
    if len(pts) < 3:
        raise click.BadParameter(f"{value!r}: a polygon needs at least 3 points 'X,Y X,Y X,Y'")
    return pts


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


@click.group("us", context_settings={"help_option_names": ["-h", "--help"]})
def us() -> None:
    """Ultrasound: calibration regions (0018,6011), measurements in cm, export with scale bar."""


@us.command("info", short_help="Frames, timing and every calibration region.")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def info(file: Path, as_json: bool) -> None:
    """Show frames, size, frame time and one row per ultrasound region of FILE."""
    from volumeviz.io.ultrasound import load_ultrasound

    img = load_ultrasound(file)
    if as_json:
        click.echo(json.dumps(img.to_dict(), indent=2, ensure_ascii=False))
        return
    colour = "RGB" if img.color else "grey"
    click.echo(f"{file}")
    click.echo(
        f"  {img.n_frames} frame(s), {img.columns} x {img.rows} (columns x rows), {colour}, "
        f"{img.meta.manufacturer} {img.meta.model}".rstrip(", ")
    )
    if img.frame_time_ms is not None:
        click.echo(f"  frame time {img.frame_time_ms:.4g} ms ({img.frame_time_source})")
    else:
        click.echo("  frame time: not given")
    if img.display_fps is not None:
        click.echo(f"  display rate {img.display_fps:.4g} frames/s ({img.display_fps_source})")
    if img.heart_rate_bpm is not None:
        click.echo(f"  heart rate {img.heart_rate_bpm:g} bpm")
    if img.r_wave_times_ms is not None:
        click.echo(f"  R-wave times (ms): {', '.join(f'{t:g}' for t in img.r_wave_times_ms)}")
    if not img.regions:
        if img.pixel_spacing_mm is not None:
            click.echo(
                f"  no ultrasound regions; {img.pixel_spacing_source} "
                f"{img.pixel_spacing_mm[0]:g} x {img.pixel_spacing_mm[1]:g} mm used for scale"
            )
        else:
            click.echo("  no ultrasound regions (0018,6011): uncalibrated, measurements in pixels")
    else:
        header = (
            f"  {'#':>2} {'format':<9} {'type':<12} {'bounds x0,y0,x1,y1':<20} {'units':<9} "
            f"{'delta x,y':<19} {'ref px':<11} {'ref value':<11} {'px/cm':<13} {'px/cm2':<8}"
        )
        click.echo(header)
        for r in img.regions:
            d = r.to_dict()
            ppc = r.pixels_per_cm
            row = (
                f"  {r.index:>2} {d['spatial_format']:<9.9} {d['data_type']:<12.12} "
                f"{','.join(str(b) for b in r.bounds):<20} "
                f"{'/'.join(u or 'none' for u in d['units']):<9} "
                f"{_fmt(r.delta[0]) + ',' + _fmt(r.delta[1]):<19} "
                f"{'-' if r.reference_pixel is None else ','.join(_fmt(v) for v in r.reference_pixel):<11} "  # noqa: E501
                f"{_fmt(r.reference_value[0]) + ',' + _fmt(r.reference_value[1]):<11} "
                f"{_fmt(ppc[0]) + ',' + _fmt(ppc[1]) if ppc != (None, None) else '-':<13} "
                f"{_fmt(r.pixels_per_cm2):<8}"
            )
            click.echo(row)
            for problem in r.problems:
                click.echo(f"     UNUSABLE: {problem}")
            for n, axis in enumerate(("x", "y")):
                why = r.axis_problem(axis)
                if why and not r.problems and r.unit_codes[n] != 0:
                    click.echo(f"     {axis} axis unusable: {why}")
            for note in r.notes:
                click.echo(f"     note: {note}")
    for note in img.notes:
        click.echo(f"  note: {note}")


@us.command("measure", short_help="Distance (or time/velocity) between two points, in cm.")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--from", "p0", callback=_point, metavar="X,Y", help="First point (column,row).")
@click.option("--to", "p1", callback=_point, metavar="X,Y", help="Second point (column,row).")
@click.option(
    "--axis",
    type=click.Choice(["x", "y"]),
    default=None,
    help="Signed difference along one axis only (x: time in M-mode/Doppler; y: depth/velocity).",
)
@click.option(
    "--polygon",
    callback=_polygon,
    metavar="'X,Y X,Y X,Y ...'",
    help="Measure the enclosed area instead (cm²).",
)
@click.option(
    "--at",
    "at",
    callback=_point,
    metavar="X,Y",
    help="Absolute value at one point along --axis (default y): e.g. a Doppler velocity.",
)
@click.option("--frame", type=int, default=0, show_default=True, help="Frame the points are on.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def measure(
    file: Path,
    p0: tuple[float, float] | None,
    p1: tuple[float, float] | None,
    axis: str | None,
    polygon: list[tuple[float, float]] | None,
    at: tuple[float, float] | None,
    frame: int,
    as_json: bool,
) -> None:
    """Measure on FILE through its calibration region; refuse (exit 1) when it cannot."""
    from volumeviz.io.ultrasound import load_ultrasound
    from volumeviz.ops import measure as m

    img = load_ultrasound(file)
    img.check_frame(frame)
    modes = sum(x is not None for x in (polygon, at)) + (p0 is not None or p1 is not None)
    if modes > 1:
        raise UsageError("give one of --from/--to, --polygon or --at")
    if polygon is not None:
        result = m.area(img, polygon)
    elif at is not None:
        result = m.value_at(img, at, axis or "y")
    else:
        if p0 is None or p1 is None:
            raise UsageError("give both --from X,Y and --to X,Y (or --polygon, or --at)")
        result = m.distance(img, p0, p1) if axis is None else m.axis_difference(img, p0, p1, axis)
    if as_json:
        payload: dict[str, Any] = {"file": str(file), "frame": frame, **result.to_dict()}
        if polygon is not None:
            payload["area"] = result.value
            payload["polygon"] = [list(p) for p in polygon]
        elif at is not None:
            payload["at"] = list(at)
        else:
            payload["from"], payload["to"] = list(p0 or ()), list(p1 or ())
            if result.kind == "distance":
                payload["distance"] = result.value
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    label = "" if result.calibrated else "  UNCALIBRATED (pixels)"
    where = f"region {result.region}" if result.region is not None else "no region"
    click.echo(
        f"{result.kind}: {result.value:.4f} {result.units}{label}  [{result.basis}; {where}]"
    )


@us.command("export", short_help="PNG frames or an MP4/GIF cine with scale bar and regions.")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="OUT.png (one file per frame: OUT_0005.png when several), OUT.mp4 or OUT.gif.",
)
@click.option("--frames", "frames_spec", default="all", show_default=True, help="0,5,10-20 or all")
@click.option("--scale-bar", is_flag=True, help="Draw cm bars (a tick per cm) and time bars.")
@click.option("--regions", "draw_regions", is_flag=True, help="Outline the regions.")
@click.option("--fps", type=float, default=None, help="Override the file's frame rate.")
@click.option("--anonymize", is_flag=True, help="Black out everything outside the regions.")
def export(
    file: Path,
    out: Path,
    frames_spec: str,
    scale_bar: bool,
    draw_regions: bool,
    fps: float | None,
    anonymize: bool,
) -> None:
    """Export frames of FILE; a cine plays at the file's own frame rate."""
    from volumeviz.cli import _console
    from volumeviz.io.ultrasound import load_ultrasound
    from volumeviz.render.ultrasound import export_frames

    if anonymize:
        _console.protect([file])
    img = load_ultrasound(file)
    _console.add_identity(img)
    written = export_frames(
        img,
        out,
        frames_spec,
        fps=fps,
        scale_bar=scale_bar,
        regions=draw_regions,
        anonymize=anonymize,
    )
    if out.suffix.lower() in (".mp4", ".gif"):
        rate = fps if fps is not None else img.display_fps
        n = len(parse_frames(frames_spec, img.n_frames, str(file)))
        click.echo(f"{out}: {n} frame(s) at {rate:.4g} frames/s")
        return
    click.echo(
        f"{written[0]}" + (f" ... {written[-1]} ({len(written)} files)" * (len(written) > 1))
    )


def screenshot_ultrasound(
    path: Path,
    out: Path,
    *,
    size: tuple[int, int] | None = None,
    frame: int = 0,
    anonymize: bool = False,
) -> None:
    """Load ``path`` and :func:`volumeviz.render.ultrasound.save_frame` it (the screenshot)."""
    from volumeviz.cli import _console
    from volumeviz.io.ultrasound import load_ultrasound
    from volumeviz.render.ultrasound import save_frame

    img = load_ultrasound(path)
    _console.add_identity(img)
    save_frame(img, out, frame=frame, size=size, anonymize=anonymize)
