"""``volumeviz screenshot PATH -o OUT.png``: a series in 3D, as MPR, as a quad; or ultrasound.

Works with no display and no GPU; the same input and options give the same image.

Options are checked before any data is read, so a typo costs nothing. The PNG records the preset,
view, window, version and the series' geometry issues (never patient identity) and is written
atomically.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import click

from volumeviz.cli._dims import index_option, parse_index
from volumeviz.cli._pacs import SOURCE, pacs_options
from volumeviz.errors import OutputError, UsageError

log = logging.getLogger("volumeviz.cli")

_MAPPERS = ("auto", "fixed", "gpu", "smart")
_MPR = ("axial", "coronal", "sagittal", "oblique", "quad")


def _check_output(out: Path) -> None:
    if out.suffix.lower() != ".png":
        raise OutputError(f"{out}: the output must be a .png file")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{out}: output folder {parent} does not exist")
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give a file name ending in .png")


@click.command("screenshot")
@click.argument("path", type=SOURCE)
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The PNG to write (its folder must exist).",
)
@click.option(
    "--preset",
    default=None,
    help="3D preset: bone, soft-tissue, lung, angio, muscle, mip, mr, mr-angio, mr-mip, "
    "a full name (ct-bone) or a preset .json file [default: bone for CT, mr for MR].",
)
@click.option(
    "--tf-shift",
    type=float,
    default=0.0,
    help="Move the 3D preset along the value axis (HU for CT), as 3D Slicer's shift slider.",
)
@click.option(
    "--tf-scale",
    type=float,
    default=1.0,
    help="Stretch (>1) or narrow (<1) the 3D preset's ramps from where it starts to show.",
)
@click.option(
    "--view",
    default="anterior",
    show_default=True,
    help="3D camera: anterior, posterior, left, right, superior, inferior.",
)
@click.option("--azimuth", type=float, default=0.0, help="Turn the camera about view-up (deg).")
@click.option("--elevation", type=float, default=0.0, help="Raise the camera (deg).")
@click.option("--zoom", type=float, default=1.0, show_default=True, help="Zoom the 3D camera.")
@click.option(
    "--mpr",
    default=None,
    help="2D view instead of 3D: axial, coronal, sagittal, "
    "oblique (with --normal) or quad (3 planes + 3D).",
)
@click.option(
    "--slice",
    "slice_",
    default=None,
    help="Where the plane passes: index (40), mm along the normal (12.5mm), LPS point "
    "x,y,z, ijk:i,j,k, or center (default).",
)
@click.option("--normal", default=None, help="Oblique plane normal in LPS, e.g. 0,0.34,0.94.")
@click.option(
    "--window",
    default=None,
    help="2D window W/L (400/40), a name (brain, abdomen, lung, bone ...), file (the "
    "series' own) or auto (default: the file's, else by modality).",
)
@click.option("--slab", type=float, default=0.0, help="Thick-slab MPR thickness in mm.")
@click.option(
    "--slab-mode",
    type=click.Choice(["mip", "minip", "mean"]),
    default="mip",
    show_default=True,
    help="How a thick slab is reduced.",
)
@click.option(
    "--neurological",
    is_flag=True,
    help="Patient left on the image's left (default: radiological).",
)
@click.option("--crop", default=None, help="3D crop box in LPS mm: xmin,xmax,ymin,ymax,zmin,zmax.")
@click.option(
    "--clip",
    default=None,
    help="3D clip plane px,py,pz,nx,ny,nz (LPS); keeps the side the normal points to.",
)
@click.option(
    "--size",
    default=None,
    help="Image size WxH in pixels [default: 800x600; ultrasound: the frame's own].",
)
@click.option(
    "--series",
    default=None,
    help="Which series under PATH: number, UID, key or @n (as 'volumeviz info' lists).",
)
@index_option
@click.option("--background", default="black", show_default=True, help="Background colour.")
@click.option(
    "--anonymize",
    is_flag=True,
    help="Leave patient identity and dates out of the picture and its metadata.",
)
@click.option("--no-annotations", is_flag=True, help="No letters, scale bar, marker or text.")
@click.option(
    "--mapper",
    type=click.Choice(_MAPPERS),
    default="auto",
    show_default=True,
    help="Volume mapper: auto picks the CPU ray caster on software OpenGL.",
)
@click.option(
    "--measure",
    "measure",
    multiple=True,
    metavar="KIND:x,y,z,...",
    help="Draw a measurement (LPS mm) on the MPR views it lies in, with its value: "
    "distance:2 points, angle:3 (vertex 2nd), point:1 (the value there), "
    "ellipse:centre,axis end,axis end. Repeatable.",
)
@click.option(
    "--single-file",
    is_flag=True,
    help="PATH is one file of a series: show that file alone (default: its whole series, "
    "from the files beside it).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse a series whose geometry would be corrected or assumed (resampled, "
    "dropped slices, unknown spacing or orientation) instead of showing it.",
)
@click.option(
    "--frame",
    type=int,
    default=0,
    show_default=True,
    help="Ultrasound input: which frame (from 0).",
)
@click.option(
    "--seg",
    "segs",
    multiple=True,
    help="Segmentation to draw over the series: a DICOM SEG, RTSTRUCT, .nii/.nii.gz/.nrrd/.npy "
    "labelmap, 'auto' (default: the SEG/RTSTRUCT under PATH that belong to the series) or "
    "'none'. Repeatable.",
)
@click.option(
    "--seg-opacity",
    type=click.FloatRange(0.0, 1.0),
    default=0.4,
    show_default=True,
    help="Fill opacity of segments on MPR views (0: outlines only).",
)
@click.option(
    "--no-volume",
    is_flag=True,
    help="3D: show the segment surfaces without the volume rendering.",
)
@pacs_options
def screenshot(
    path: Path | str,
    out: Path,
    preset: str | None,
    tf_shift: float,
    tf_scale: float,
    view: str,
    azimuth: float,
    elevation: float,
    zoom: float,
    mpr: str | None,
    slice_: str | None,
    normal: str | None,
    window: str | None,
    slab: float,
    slab_mode: str,
    neurological: bool,
    crop: str | None,
    clip: str | None,
    size: str | None,
    series: str | None,
    index: tuple[str, ...],
    background: str,
    anonymize: bool,
    no_annotations: bool,
    mapper: str,
    measure: tuple[str, ...],
    single_file: bool,
    strict: bool,
    frame: int,
    segs: tuple[str, ...],
    seg_opacity: float,
    no_volume: bool,
) -> None:
    """Render PATH (a DICOM folder, file, DICOMDIR or PACS address) to a PNG, no display.

    \b
    volumeviz screenshot assets/ct-head --preset bone -o head.png
    volumeviz screenshot CT/ --mpr quad --window brain --slice 14 -o quad.png
    volumeviz screenshot CT/ --mpr axial --slab 10 --slab-mode mip -o mip.png
    volumeviz screenshot fMRI/ --mpr axial --index time=3 -o t3.png
    """  # noqa: D301 (click needs the real \b to keep the example lines)
    from volumeviz.cli._seg import segmentation_metadata, segmentations_for_cli
    from volumeviz.render.overlay import OverlayStyle
    from volumeviz.render.screenshot import parse_size, parse_vector, prefer_egl
    from volumeviz.render.state import ViewState

    prefer_egl(even_with_display=True)  # this command never opens a window

    _check_output(out)
    chosen = parse_index(index)
    wh = parse_size(size or "800x600")
    if anonymize:  # from here nothing printed names an input file or the patient
        from volumeviz.cli import _console

        _console.protect([path])

    given = _given_fields(click.get_current_context())
    if isinstance(path, Path) and path.is_file() and _is_ultrasound(path):
        _check_ultrasound_options(given)
        _ultrasound(path, out, size=wh if size else None, frame=frame, anonymize=anonymize)
        click.echo(str(out))
        return
    if "frame" in given:
        raise UsageError(
            f"--frame {frame} is for ultrasound cine files; {path} is not one (a volume's "
            "planes are chosen with --mpr and --slice)"
        )

    mpr_mode = mpr.lower() if mpr else None
    if mpr_mode is not None and mpr_mode not in _MPR:
        raise UsageError(f"unknown --mpr {mpr!r}; choose {', '.join(_MPR)}")
    normal_v = parse_vector(normal, 3, "--normal") if normal else None
    if mpr_mode == "oblique" and normal_v is None:
        raise UsageError("--mpr oblique needs --normal nx,ny,nz (LPS)")
    crop_v = parse_vector(crop, 6, "--crop") if crop else None
    clip_v: Any = None
    if clip:
        c = parse_vector(clip, 6, "--clip")
        clip_v = (c[:3], c[3:])
    state = ViewState(
        preset=preset,  # None: by modality, when the series is loaded
        tf_shift=tf_shift,
        tf_scale=tf_scale,
        view=view,
        azimuth=azimuth,
        elevation=elevation,
        zoom=zoom,
        mpr=mpr_mode,
        slice=slice_,
        normal=normal_v,  # type: ignore[arg-type]
        window=window,
        slab_mm=slab,
        slab_mode=slab_mode,
        neurological=neurological,
        crop=crop_v,
        clip=clip_v,
        size=wh,
        background=background,
        mapper=mapper,
        annotations=not no_annotations,
        anonymize=anonymize,
        measurements=measure,
        overlay=OverlayStyle(opacity=seg_opacity),
        volume=not no_volume,
    ).checked()
    if preset is not None:
        _check_names(state)

    from volumeviz.io.volume import load_series

    vol = load_series(
        path,
        series=_series_arg(series),
        strict=strict,
        index=chosen or None,
        single_file=single_file,
    )
    say_geometry(vol)
    placed = segmentations_for_cli(vol, segs, path, anonymize=anonymize)  # before UIDs go
    if anonymize:
        from volumeviz.cli import _console

        _console.add_identity(vol)
        vol = vol.anonymized()
    _check_slice(vol, state)

    from volumeviz.render.screenshot import png_metadata, render_image, write_png
    from volumeviz.render.state import OptionWarning, check_options
    from volumeviz.transfer import PresetWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PresetWarning)
        warnings.simplefilter("always", OptionWarning)
        check_options(state, given, vol)  # ignored options warned about, misleading refused
        img, info = render_image(vol, state, segmentations=placed)
    for w in caught:
        if issubclass(w.category, (PresetWarning, OptionWarning)):
            click.echo(f"volumeviz: warning: {w.message}", err=True)
    metadata = png_metadata(vol, state, info)
    if placed:
        metadata["volumeviz:segmentations"] = segmentation_metadata(placed, anonymize=anonymize)
    write_png(out, img, metadata)
    click.echo(str(out))


#: command-line parameter -> ViewState field (where the names differ)
_PARAM_FIELDS = {"slice_": "slice", "slab": "slab_mm", "measure": "measurements"}
#: options that choose WHAT a volume picture shows: refused for an ultrasound frame
_US_REFUSED = ("mpr", "slice", "normal")
#: options with no meaning for an ultrasound frame: ignored, with a warning
_US_IGNORED = ("preset", "tf_shift", "tf_scale", "view", "azimuth", "elevation", "zoom",
               "window", "slab_mm", "slab_mode", "neurological", "crop", "clip", "mapper",
               "measurements", "strict", "series")  # fmt: skip


def _given_fields(ctx: click.Context) -> set[str]:
    """The options the user typed (not left at their defaults), as ViewState field names."""
    out = set()
    for name in ctx.params:
        source = ctx.get_parameter_source(name)
        if source is not None and source != click.core.ParameterSource.DEFAULT:
            out.add(_PARAM_FIELDS.get(name, name))
    return out


def _check_ultrasound_options(given: set[str]) -> None:
    """Refuse volume options that would pick another picture; warn about ignored ones."""
    flag = {v: k for k, v in _PARAM_FIELDS.items()}
    refused = [f for f in _US_REFUSED if f in given]
    if refused:
        names = ", ".join("--" + flag.get(f, f).rstrip("_").replace("_", "-") for f in refused)
        raise UsageError(
            f"{names}: an ultrasound file is shown frame by frame as acquired (no planes to "
            "reformat); choose the frame with --frame"
        )
    for f in _US_IGNORED:
        if f in given:
            name = "--" + {"slab_mm": "slab", "measurements": "measure"}.get(f, f).replace(
                "_", "-"
            )
            click.echo(
                f"volumeviz: warning: {name} is ignored for an ultrasound file "
                "(it applies to CT/MR volumes)",
                err=True,
            )


def say_geometry(vol: Any) -> None:
    """Tell stderr what the picture cannot show: a warning where geometry was assumed.

    A projection image with known spacing is said at info level (``-v``).
    """
    g = vol.geometry
    if g.assumed:
        log.warning(
            "geometry %s: no orientation letters, no mm scale or positions on the picture",
            g.describe(),
        )
    elif not g.has_patient_frame:
        log.info("geometry %s", g.describe())


def _series_arg(series: str | None) -> int | str | None:
    if series is None:
        return None
    return int(series) if series.strip().isdigit() else series


def _check_names(state: Any) -> None:
    """Resolve preset and window names before reading any data (typos fail fast, exit 2)."""
    from volumeviz.transfer import load_preset, parse_window

    if state.mpr in (None, "quad") and state.preset is not None:
        load_preset(state.preset)
    if state.mpr is not None and isinstance(state.window, str):
        if state.window.strip().lower() not in ("file", "auto"):
            parse_window(state.window)


def _check_slice(vol: Any, state: Any) -> None:
    """Check ``--slice`` against the loaded volume (out of range -> exit 2 before rendering)."""
    from volumeviz.ops.mpr import plane_axes, resolve_point

    if state.slice is None:
        return
    plane = "axial" if state.mpr in (None, "quad") else state.mpr
    _, _, n, name = plane_axes(plane if plane != "oblique" else "axial", normal=state.normal)
    resolve_point(vol, n, state.slice, plane=name)


def _is_ultrasound(path: Path) -> bool:
    try:
        from volumeviz.io.ultrasound import is_ultrasound_file
    except ImportError:  # pragma: no cover - ultrasound support not in this build
        return False
    return bool(is_ultrasound_file(path))


def _ultrasound(
    path: Path, out: Path, *, size: tuple[int, int] | None, frame: int, anonymize: bool
) -> None:
    from volumeviz.cli.us import screenshot_ultrasound

    screenshot_ultrasound(path, out, size=size, frame=frame, anonymize=anonymize)
