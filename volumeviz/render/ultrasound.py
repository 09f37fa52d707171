"""Draw ultrasound frames at physical scale: cm scale bars, time bars, region outlines, 3D planes.

Everything here takes an :class:`~volumeviz.model.ultrasound.UltrasoundImage` (never a path).
Scale bars are drawn only from a usable calibration: a 2D region in cm gets a depth bar with a
tick per cm (and a lateral bar), a region whose x axis is in seconds gets a time bar; a file
with no regions is stamped ``uncalibrated`` (or drawn from its Pixel Spacing, saying so).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import UltrasoundError, UsageError
from volumeviz.model.deid import Redactor, pixel_policy
from volumeviz.model.ultrasound import (
    PhysicalUnits,
    RegionSpatialFormat,
    UltrasoundImage,
    UltrasoundRegion,
    region_mask,
)

#: outline colours by spatial format (RGB)
REGION_COLOURS: dict[RegionSpatialFormat | None, tuple[int, int, int]] = {
    RegionSpatialFormat.TWO_D: (255, 210, 0),
    RegionSpatialFormat.M_MODE: (0, 220, 255),
    RegionSpatialFormat.SPECTRAL: (255, 80, 255),
    RegionSpatialFormat.WAVEFORM: (80, 255, 80),
    RegionSpatialFormat.GRAPHICS: (160, 160, 160),
    RegionSpatialFormat.NONE: (160, 160, 160),
    None: (255, 0, 0),
}
#: colour of scale bars and their labels
BAR_COLOUR = (255, 255, 255)
#: colour of an unusable region's outline
BAD_COLOUR = (255, 0, 0)


@dataclass(frozen=True, slots=True)
class ScaleBar:
    """A bar along one axis: its end points and tick positions in image pixels (col, row).

    ``label`` is what is drawn next to it, e.g. ``"5 cm"`` or ``"1 s"``.
    """

    start: tuple[float, float]
    end: tuple[float, float]
    ticks: tuple[tuple[float, float], ...]
    label: str
    step: float
    units: str


def _nice_step(span: float) -> float:
    """Largest 1-2-5 step that gives at least 2 ticks across ``span``."""
    if span <= 0:
        return 0.0
    for exp in range(3, -5, -1):
        for m in (5.0, 2.0, 1.0):
            step = m * 10.0**exp
            if span / step >= 2:
                return step
    return 1e-4


def _cm_ticks(
    region: UltrasoundRegion, *, axis: int, fraction: float
) -> tuple[float, float, int, str] | None:
    """(px per cm, step cm, number of steps, label) for a cm bar along ``axis`` (0 = x, 1 = y).

    The bar spans a whole number of steps up to ``fraction`` of the region along that axis:
    1 cm steps when it is at least 1 cm long, else the largest 1-2-5 step (labelled in mm).
    """
    if not region.is_spatial_cm:
        return None
    ppc = region.pixels_per_cm[axis]
    assert ppc is not None
    span_cm = (region.width if axis == 0 else region.height) / ppc
    step = 1.0 if span_cm * fraction >= 1.0 else _nice_step(span_cm * fraction)
    if step <= 0:
        return None
    n = max(1, math.floor(span_cm * fraction / step))
    length = n * step
    label = f"{length:g} cm" if step >= 1 else f"{length * 10:g} mm"
    return ppc, step, n, label


def depth_bar(region: UltrasoundRegion, *, fraction: float = 0.8) -> ScaleBar | None:
    """Return a vertical cm bar with a tick per cm inside a 2D region (None if not cm x cm).

    The bar spans a whole number of centimetres, up to ``fraction`` of the region's height,
    along its right edge. Tick spacing is ``pixels_per_cm[1]`` exactly.

    Examples
    --------
    >>> r = UltrasoundRegion(index=0, bounds=(0, 0, 99, 199), delta=(0.05, 0.05))
    >>> bar = depth_bar(r)
    >>> bar.label, [round(t[1]) for t in bar.ticks][:3]
    ('8 cm', [20, 40, 60])
    """
    cm = _cm_ticks(region, axis=1, fraction=fraction)
    if cm is None:
        return None
    ppc, step, n, label = cm
    x = region.bounds[2] - 8.0
    y0 = region.bounds[1] + 0.5 * (region.height - n * step * ppc)
    ticks = tuple((x, y0 + k * step * ppc) for k in range(n + 1))
    return ScaleBar((x, y0), (x, ticks[-1][1]), ticks, label, step, "cm")


def lateral_bar(region: UltrasoundRegion, *, fraction: float = 0.5) -> ScaleBar | None:
    """Return a horizontal cm bar with a tick per cm along the bottom of a 2D region."""
    cm = _cm_ticks(region, axis=0, fraction=fraction)
    if cm is None:
        return None
    ppc, step, n, label = cm
    y = region.bounds[3] - 8.0
    x0 = region.bounds[0] + 8.0
    ticks = tuple((x0 + k * step * ppc, y) for k in range(n + 1))
    return ScaleBar((x0, y), (ticks[-1][0], y), ticks, label, step, "cm")


def time_bar(region: UltrasoundRegion, *, fraction: float = 0.5) -> ScaleBar | None:
    """Return a horizontal time bar (x in seconds) for M-mode, Doppler and waveform regions."""
    if region.axis_problem("x") is not None or region.units[0] is not PhysicalUnits.SECONDS:
        return None
    pps = region.pixels_per_unit("x")
    assert pps is not None
    span = region.width / pps
    step = _nice_step(span * fraction)
    if step <= 0:
        return None
    n = max(1, math.floor(span * fraction / step))
    y = region.bounds[3] - 6.0
    x0 = region.bounds[0] + 6.0
    ticks = tuple((x0 + k * step * pps, y) for k in range(n + 1))
    return ScaleBar((x0, y), (ticks[-1][0], y), ticks, f"{n * step:g} s", step, "s")


def scale_bars(image: UltrasoundImage) -> list[ScaleBar]:
    """Every bar :func:`annotate_frame` draws for ``image``, in image pixels."""
    bars: list[ScaleBar] = []
    for region in image.regions:
        if region.problems:
            continue
        for make in (depth_bar, lateral_bar, time_bar):
            bar = make(region)
            if bar is not None:
                bars.append(bar)
    if not image.regions and image.pixel_spacing_mm is not None:
        row_mm = image.pixel_spacing_mm[0]
        ppc = 10.0 / row_mm
        height_cm = image.rows / ppc
        step = 1.0 if height_cm * 0.8 >= 1 else _nice_step(height_cm * 0.8)
        n = max(1, math.floor(height_cm * 0.8 / step))
        x = image.columns - 10.0
        y0 = 0.5 * (image.rows - n * step * ppc)
        ticks = tuple((x, y0 + k * step * ppc) for k in range(n + 1))
        label = f"{n * step:g} cm ({image.pixel_spacing_source.split(' ', 1)[1]})"
        bars.append(ScaleBar((x, y0), (x, ticks[-1][1]), ticks, label, step, "cm"))
    return bars


def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def annotate_frame(
    frame: npt.NDArray[np.uint8],
    image: UltrasoundImage,
    *,
    scale_bar: bool = True,
    regions: bool = True,
) -> npt.NDArray[np.uint8]:
    """Return an RGB copy of ``frame`` with scale bars and region outlines drawn on it.

    Parameters
    ----------
    frame
        A display-ready frame of ``image`` (``(rows, cols)`` or ``(rows, cols, 3)`` uint8).
    image
        The image the frame belongs to (its regions and calibration).
    scale_bar
        Draw cm bars (a tick per cm) in 2D regions and time bars in s-axis regions; a file
        without regions gets the word ``uncalibrated`` instead (or a Pixel Spacing bar).
    regions
        Outline every region, labelled ``#index format type``; unusable ones in red.
    """
    from PIL import Image, ImageDraw

    if frame.shape[:2] != (image.rows, image.columns):
        raise UsageError(
            f"{image.source}: frame is {frame.shape[1]}x{frame.shape[0]}, the image is "
            f"{image.columns}x{image.rows}"
        )
    rgb = frame if frame.ndim == 3 else np.repeat(frame[..., None], 3, axis=2)
    pil = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    draw = ImageDraw.Draw(pil)
    size = max(10, min(image.rows, image.columns) // 40)
    font = _font(size)
    if regions:
        for region in image.regions:
            x0, y0, x1, y1 = region.bounds
            x1, y1 = min(x1, image.columns - 1), min(y1, image.rows - 1)
            if x1 < x0 or y1 < y0:
                continue
            colour = BAD_COLOUR if region.problems else REGION_COLOURS[region.spatial_format]
            draw.rectangle((x0, y0, x1, y1), outline=colour, width=1)
            text = region.label + ("" if region.usable else " UNUSABLE")
            draw.text((x0 + 3, y0 + 2), text, fill=colour, font=font)
    if scale_bar:
        bars = scale_bars(image)
        for bar in bars:
            draw.line((*bar.start, *bar.end), fill=BAR_COLOUR, width=1)
            vertical = bar.start[0] == bar.end[0]
            for k, (tx, ty) in enumerate(bar.ticks):
                major = bar.step < 1 or k % 5 == 0 or bar.units == "s"
                half = 5 if major else 3
                if vertical:
                    draw.line((tx - half, ty, tx, ty), fill=BAR_COLOUR, width=1)
                else:
                    draw.line((tx, ty - half, tx, ty), fill=BAR_COLOUR, width=1)
            if vertical:
                box = draw.textbbox((0, 0), bar.label, font=font)
                pos = (bar.end[0] - (box[2] - box[0]) - 4, bar.end[1] + 3)
            else:
                pos = (bar.end[0] + 4, bar.end[1] - size - 1)
            draw.text(pos, bar.label, fill=BAR_COLOUR, font=font)
        if not image.calibrated and not bars:
            draw.text((4, 4), "uncalibrated (no ultrasound regions)", fill=BAD_COLOUR, font=font)
    return np.asarray(pil)


def fit_to_size(rgb: npt.NDArray[np.uint8], size: Sequence[int]) -> npt.NDArray[np.uint8]:
    """Scale ``rgb`` to fit ``size = (width, height)`` keeping its aspect, centred on black."""
    from PIL import Image

    width, height = int(size[0]), int(size[1])
    if width <= 0 or height <= 0:
        raise UsageError(f"size must be positive, not {width}x{height}")
    h, w = rgb.shape[:2]
    scale = min(width / w, height / h)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    img = Image.fromarray(rgb).resize(new, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (width, height))
    canvas.paste(img, ((width - new[0]) // 2, (height - new[1]) // 2))
    return np.asarray(canvas)


def plane_region(image: UltrasoundImage, region: int | None = None) -> UltrasoundRegion:
    """Return the 2D cm region a frame is placed by (given index, else the largest usable)."""
    if region is not None:
        if not 0 <= region < len(image.regions):
            raise UsageError(
                f"{image.source}: region {region} does not exist; the file has "
                f"{len(image.regions)} region(s)"
            )
        chosen = image.regions[region]
        if not chosen.is_spatial_cm:
            raise UltrasoundError(
                f"{image.source}: region {region} ({chosen.label}) is not a usable 2D region "
                "in cm; it has no physical size"
            )
        return chosen
    spatial = [r for r in image.regions if r.is_spatial_cm]
    if not spatial:
        raise UltrasoundError(
            f"{image.source}: no usable 2D region in cm in (0018,6011); the frame has no "
            "physical size"
        )
    return max(spatial, key=lambda r: (r.width * r.height, -r.index))


def add_ultrasound_plane(
    pl: Any,
    image: UltrasoundImage,
    frame: int = 0,
    *,
    region: int | None = None,
    origin: Sequence[float] = (0.0, 0.0, 0.0),
    user_matrix: npt.ArrayLike | None = None,
) -> Any:
    """Place frame ``frame`` in a pyvista scene as a textured plane of its true size (mm).

    The plane shows the 2D region's pixels (``region``, default the largest 2D cm region),
    ``width = columns x |delta x|`` and ``height = rows x |delta y|``, converted to mm. Its
    top-left corner is at ``origin``; image columns run along +x and rows along -y (so the
    image is upright seen from +z). ``user_matrix`` (4x4) can then place it in patient space.

    Returns the actor. Without a usable 2D cm region (or Pixel Spacing when the file has no
    regions at all) it raises :class:`UltrasoundError`: a guessed size would be wrong.

    Examples
    --------
    >>> import pyvista as pv  # doctest: +SKIP
    >>> pl = pv.Plotter(off_screen=True)  # doctest: +SKIP
    >>> actor = add_ultrasound_plane(pl, img, 0)  # doctest: +SKIP
    >>> pl.screenshot("us_plane.png")  # doctest: +SKIP
    """
    import pyvista as pv

    rgb = image.frame(frame)
    if not image.regions and image.pixel_spacing_mm is not None:
        x0, y0, x1, y1 = 0, 0, image.columns - 1, image.rows - 1
        dx_mm, dy_mm = image.pixel_spacing_mm[1], image.pixel_spacing_mm[0]
    else:
        reg = plane_region(image, region)
        x0, y0, x1, y1 = reg.bounds
        x1, y1 = min(x1, image.columns - 1), min(y1, image.rows - 1)
        dx_mm = abs(reg.axis_delta("x")) * 10.0
        dy_mm = abs(reg.axis_delta("y")) * 10.0
    crop = np.ascontiguousarray(rgb[y0 : y1 + 1, x0 : x1 + 1])
    if crop.ndim == 2:
        crop = np.repeat(crop[..., None], 3, axis=2)
    width = crop.shape[1] * dx_mm
    height = crop.shape[0] * dy_mm
    ox, oy, oz = (float(v) for v in origin)
    points = np.array(
        [[ox, oy, oz], [ox + width, oy, oz], [ox + width, oy - height, oz], [ox, oy - height, oz]]
    )
    quad = pv.PolyData(points, faces=[4, 0, 1, 2, 3])
    quad.active_texture_coordinates = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], dtype=float)
    texture = pv.Texture(crop)
    kwargs: dict[str, Any] = {"texture": texture, "lighting": False, "name": "ultrasound-plane"}
    if user_matrix is not None:
        kwargs["user_matrix"] = np.asarray(user_matrix, dtype=float)
    return pl.add_mesh(quad, **kwargs)


def mask_outside_regions(rgb: npt.NDArray[np.uint8], image: UltrasoundImage) -> npt.NDArray[Any]:
    """Black out every pixel outside the regions (burned-in patient text lives there).

    Follows :func:`volumeviz.model.deid.pixel_policy`, the rule every anonymised output uses:
    a file with no regions is refused (:class:`UltrasoundError`) unless it declares (0028,0301)
    Burned In Annotation ``NO``: there is then no safe area to keep.
    """
    policy = pixel_policy(
        modality="US",
        burned_in_annotation=image.meta.burned_in_annotation,
        has_regions=bool(image.regions),
    )
    if policy.action == "keep":
        return rgb
    if policy.action == "refuse":
        raise UltrasoundError(f"{image.source}: cannot anonymize: {policy.reason}")
    keep = region_mask(image.regions, rgb.shape[0], rgb.shape[1])
    out = rgb.copy()
    out[~keep] = 0
    return out


def render_frame(
    image: UltrasoundImage,
    frame: int | npt.NDArray[np.uint8],
    *,
    scale_bar: bool = True,
    regions: bool = True,
    anonymize: bool = False,
    size: Sequence[int] | None = None,
) -> npt.NDArray[np.uint8]:
    """Decode (if given an index) and draw one frame: mask, bars, outlines, then fit to size."""
    rgb = image.frame(frame) if isinstance(frame, int | np.integer) else frame
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    if anonymize:
        rgb = mask_outside_regions(rgb, image)
    out = annotate_frame(rgb, image, scale_bar=scale_bar, regions=regions)
    if size is not None:
        out = fit_to_size(out, size)
    return out


def write_cine(
    image: UltrasoundImage,
    out: Any,
    frames: Sequence[int],
    *,
    fps: float,
    scale_bar: bool = False,
    regions: bool = False,
    anonymize: bool = False,
) -> int:
    """Stream ``frames`` to an MP4 or GIF at ``fps``, one decoded frame in memory at a time.

    ``out`` is the final path (its suffix picks the format); the caller makes it atomic.
    Returns the number of frames written.
    """
    from volumeviz.render.cine import stream_frames

    drawn = (
        render_frame(image, rgb, scale_bar=scale_bar, regions=regions, anonymize=anonymize)
        for rgb in image.iter_frames(frames)
    )
    return stream_frames(out, drawn, size=(image.columns, image.rows), fps=fps)


def frame_png_metadata(
    image: UltrasoundImage, *, frame: int | None = None, anonymize: bool = False
) -> dict[str, str]:
    """PNG text chunks of an ultrasound picture: software, frame, calibration.

    Not anonymised, also the source file's name and the patient's name; anonymised, nothing
    that can identify (the file name may carry the name). Values pass through the same
    :class:`~volumeviz.model.deid.Redactor` as every picture's text.
    """
    from volumeviz import __version__

    redact = Redactor.for_items(image, anonymize=anonymize)
    info: dict[str, str] = {"Software": f"volumeviz {__version__}"}
    if not anonymize:
        info["Source"] = Path(image.source).name
    if frame is not None:
        info["Frame"] = str(frame)
    calib = "; ".join(
        f"region {r.index} {r.label.split(' ', 1)[1]}: {r.pixels_per_cm[1]:.4f} px/cm"
        for r in image.regions
        if r.is_spatial_cm and r.pixels_per_cm[1] is not None
    )
    info["Calibration"] = calib or "uncalibrated"
    if not anonymize and image.meta.patient_name:
        info["Patient"] = image.meta.patient_name
    return {k: redact(v) for k, v in info.items()}


def save_frame(
    image: UltrasoundImage,
    out: str | os.PathLike[str],
    *,
    frame: int = 0,
    size: Sequence[int] | None = None,
    anonymize: bool = False,
    scale_bar: bool = True,
    regions: bool = True,
) -> Path:
    """Render one frame with its scale bar and region outlines to a PNG (written atomically).

    What ``volumeviz screenshot`` does for an ultrasound file.

    Parameters
    ----------
    image
        The ultrasound image (:func:`volumeviz.load_ultrasound`).
    out
        The ``.png`` to write.
    frame
        Which frame (from 0).
    size
        ``(width, height)``: fit the frame inside that box (aspect kept, bars scale with it).
    anonymize
        Black out everything outside the regions (refused when there are none and the file does
        not say Burned In Annotation NO) and leave identity out of the PNG text.
    scale_bar, regions
        Draw the cm/time bars and the region outlines.

    Raises
    ------
    UsageError
        ``frame`` out of range.
    UltrasoundError
        ``anonymize`` on a file with nothing safe to keep.
    """
    from volumeviz.render.screenshot import write_png

    image.check_frame(frame)
    rgb = render_frame(
        image, frame, scale_bar=scale_bar, regions=regions, anonymize=anonymize, size=size
    )
    target = Path(os.fspath(out))
    return write_png(target, rgb, frame_png_metadata(image, frame=frame, anonymize=anonymize))


def export_frames(
    image: UltrasoundImage,
    out: str | os.PathLike[str],
    frames: Sequence[int] | str = "all",
    *,
    fps: float | None = None,
    scale_bar: bool = False,
    regions: bool = False,
    anonymize: bool = False,
) -> list[Path]:
    """Export frames as PNGs (``OUT_0005.png`` each when several) or as one MP4/GIF cine.

    What ``volumeviz us export`` does. Every file is written atomically; a cine plays at the
    file's own frame rate unless ``fps`` is given, and is streamed one frame at a time.

    Parameters
    ----------
    image
        The ultrasound image.
    out
        ``OUT.png``, ``OUT.mp4`` or ``OUT.gif``.
    frames
        Frame indices, or a spec such as ``"0,5,10-20"`` / ``"all"``
        (:func:`volumeviz.model.ultrasound.parse_frames`).
    fps
        Cine frame rate (default the file's).
    scale_bar, regions, anonymize
        As :func:`render_frame`.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    UsageError
        Bad frames, an unknown suffix, or a cine without any frame rate.
    """
    from volumeviz._atomic import atomic_path
    from volumeviz.model.ultrasound import parse_frames

    target = Path(os.fspath(out))
    indices = (
        parse_frames(frames, image.n_frames, image.source) if isinstance(frames, str) else frames
    )
    for k in indices:
        image.check_frame(k)
    suffix = target.suffix.lower()
    if suffix in (".mp4", ".gif"):
        rate = fps if fps is not None else image.display_fps
        if rate is None:
            raise UsageError(
                f"{image.source}: no frame rate in the file ((0018,1063) Frame Time, (0018,1065) "
                "Frame Time Vector, (0018,0040) Cine Rate, (0008,2144) Recommended Display Frame "
                "Rate); pass --fps"
            )
        from volumeviz.render.cine import cine_writer_params

        cine_writer_params(suffix)  # unknown suffix -> UsageError before any work
        with atomic_path(target) as tmp:
            write_cine(
                image,
                tmp,
                indices,
                fps=rate,
                scale_bar=scale_bar,
                regions=regions,
                anonymize=anonymize,
            )
        return [target]
    if suffix != ".png":
        raise UsageError(f"-o {target}: use a .png, .mp4 or .gif name")
    from volumeviz.render.screenshot import write_png

    targets = (
        [target]
        if len(indices) == 1
        else [target.with_name(f"{target.stem}_{i:04d}{target.suffix}") for i in indices]
    )
    for path, rgb in zip(targets, image.iter_frames(indices), strict=True):
        drawn = render_frame(image, rgb, scale_bar=scale_bar, regions=regions, anonymize=anonymize)
        write_png(path, drawn, frame_png_metadata(image, anonymize=anonymize))
    return targets
