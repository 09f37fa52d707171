"""A scripted figure: views of a Volume and ultrasound frames in a grid, rendered offscreen.

>>> from volumeviz.model import phantom
>>> scene = Scene(phantom.asymmetric(16), columns=2, cell_size=(64, 48), annotations=False)
>>> scene.add_3d(preset="mip").add_mpr("axial").render().shape
(48, 128, 3)

Each volume cell is a :class:`~volumeviz.render.state.ViewState` rendered by
:func:`~volumeviz.render.screenshot.render_image` (the same pixels as ``volumeviz screenshot``);
an ultrasound cell is an :class:`UltrasoundPanel`, one frame drawn by
:func:`~volumeviz.render.ultrasound.render_frame` at the cell's scale. Cells fill the grid row
by row. In Jupyter a Scene on its own line shows the figure.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz import __version__
from volumeviz.errors import UsageError
from volumeviz.model.deid import Redactor
from volumeviz.model.segmentation import Segmentation
from volumeviz.model.ultrasound import UltrasoundImage, UltrasoundRegion
from volumeviz.model.volume import Volume
from volumeviz.render.screenshot import render_image, write_png
from volumeviz.render.state import (
    MIN_SIDE,
    ViewState,
    camera_label,
    check_options,
    given_fields,
    state_fields,
)
from volumeviz.render.ultrasound import mask_outside_regions, render_frame, scale_bars

#: colour of an ultrasound panel's title (RGB), drawn with a black outline
TITLE_COLOUR = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class PanelLayout:
    """Where an ultrasound frame sits in its cell.

    ``scale`` is cell pixels per frame pixel along x and y (equal unless the frame's pixels are
    not square in cm), ``offset`` the ``(x, y)`` of the frame's top-left corner in the cell and
    ``size`` its ``(width, height)`` there.
    """

    scale: tuple[float, float]
    offset: tuple[int, int]
    size: tuple[int, int]


def _pixel_aspect(image: UltrasoundImage) -> tuple[float, float]:
    """Physical width and height of one pixel, relative (the smaller is 1).

    From the largest usable 2D region in cm (what distances are measured in), else from Pixel
    Spacing when the file has no regions, else square.
    """
    dx = dy = 1.0
    spatial = [r for r in image.regions if r.is_spatial_cm]
    if spatial:
        reg = max(spatial, key=lambda r: (r.width * r.height, -r.index))
        dx, dy = abs(reg.axis_delta("x")), abs(reg.axis_delta("y"))
    elif not image.regions and image.pixel_spacing_mm is not None:
        dy, dx = (abs(float(v)) for v in image.pixel_spacing_mm)
    if not (math.isfinite(dx) and math.isfinite(dy) and dx > 0 and dy > 0):
        return 1.0, 1.0
    m = min(dx, dy)
    return dx / m, dy / m


def _scaled_region(r: UltrasoundRegion, fx: float, fy: float) -> UltrasoundRegion:
    x0, y0, x1, y1 = r.bounds
    nx0, ny0 = round(x0 * fx), round(y0 * fy)
    bounds = (nx0, ny0, max(nx0, round((x1 + 1) * fx) - 1), max(ny0, round((y1 + 1) * fy) - 1))
    ddx, ddy = r.delta
    delta = (None if ddx is None else ddx / fx, None if ddy is None else ddy / fy)
    ref = r.reference_pixel
    ref = None if ref is None else (ref[0] * fx, ref[1] * fy)
    return dataclasses.replace(r, bounds=bounds, delta=delta, reference_pixel=ref)


def scaled_image(image: UltrasoundImage, size: tuple[int, int]) -> UltrasoundImage:
    """``image`` as seen resized to ``size = (width, height)``: regions and calibration follow.

    Region bounds are scaled, and physical deltas divided by the scale, so pixels per cm (and
    the scale bars drawn from them) are those of the resized frame. It holds no frames.
    """
    w, h = int(size[0]), int(size[1])
    fx, fy = w / image.columns, h / image.rows
    spacing = image.pixel_spacing_mm
    if spacing is not None:
        spacing = (spacing[0] / fy, spacing[1] / fx)
    return dataclasses.replace(
        image,
        rows=h,
        columns=w,
        regions=tuple(_scaled_region(r, fx, fy) for r in image.regions),
        frames=None,
        pixel_spacing_mm=spacing,
    )


def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class UltrasoundPanel:
    """One ultrasound frame shown in a Scene cell (what :meth:`Scene.add_ultrasound` stores).

    Parameters
    ----------
    image
        The ultrasound image (never a path).
    frame
        Frame index, checked against ``image.n_frames``.
    scale_bar
        Draw cm bars (a tick per cm) and time bars from the regions' calibration.
    regions
        Outline and label the regions of (0018,6011).
    title
        Text above the frame, or None.
    """

    image: UltrasoundImage
    frame: int = 0
    scale_bar: bool = True
    regions: bool = True
    title: str | None = None

    def title_height(self, cell_size: tuple[int, int]) -> int:
        """Rows kept above the frame for the title (0 without one)."""
        return 0 if not self.title else self.font_size(cell_size) + 6

    @staticmethod
    def font_size(cell_size: tuple[int, int]) -> int:
        """Title font size for a cell."""
        return max(10, min(cell_size) // 20)

    def layout(self, cell_size: tuple[int, int]) -> PanelLayout:
        """Letterbox the frame into ``cell_size`` (below the title) keeping a cm square."""
        w, h = (int(v) for v in cell_size)
        top = self.title_height((w, h))
        avail = max(1, h - top)
        ax, ay = _pixel_aspect(self.image)
        cols, rows = self.image.columns * ax, self.image.rows * ay
        s = min(w / cols, avail / rows)
        nw = min(w, max(1, round(cols * s)))
        nh = min(avail, max(1, round(rows * s)))
        scale = (nw / self.image.columns, nh / self.image.rows)
        return PanelLayout(scale, ((w - nw) // 2, top + (avail - nh) // 2), (nw, nh))

    def render(
        self,
        cell_size: tuple[int, int],
        background: tuple[int, int, int] = (0, 0, 0),
        *,
        anonymize: bool = False,
    ) -> tuple[npt.NDArray[np.uint8], dict[str, Any]]:
        """Draw the panel: RGB ``(height, width, 3)`` uint8 and its description for metadata.

        The frame is resized first, then its bars and outlines are drawn at the new scale by
        :func:`~volumeviz.render.ultrasound.render_frame`, so lines stay one pixel wide.
        ``anonymize`` blacks out everything outside the regions (burned-in text).
        """
        from PIL import Image, ImageDraw

        w, h = (int(v) for v in cell_size)
        image = self.image
        rgb = image.frame(self.frame)
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[..., None], 3, axis=2)
        if anonymize:
            rgb = mask_outside_regions(rgb, image)
        lay = self.layout((w, h))
        resized = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB").resize(
            lay.size, Image.Resampling.LANCZOS
        )
        shown = scaled_image(image, lay.size)
        drawn = render_frame(
            shown, np.asarray(resized), scale_bar=self.scale_bar, regions=self.regions
        )
        canvas = Image.new("RGB", (w, h), tuple(int(v) for v in background))
        canvas.paste(Image.fromarray(drawn, "RGB"), lay.offset)
        title = Redactor.for_items(image, anonymize=anonymize)(self.title or "")
        if title:
            draw = ImageDraw.Draw(canvas)
            draw.text(
                (w / 2, 2),
                title,
                fill=TITLE_COLOUR,
                font=_font(self.font_size((w, h))),
                anchor="ma",
                stroke_width=1,
                stroke_fill=(0, 0, 0),
            )
        spatial = [r for r in shown.regions if r.is_spatial_cm]
        ppc = None
        if spatial:
            reg = max(spatial, key=lambda r: (r.width * r.height, -r.index))
            ppc = [round(float(v), 3) for v in reg.pixels_per_cm if v is not None]
        info: dict[str, Any] = {
            "mpr": "ultrasound",
            "frame": int(self.frame),
            "frames": image.n_frames,
            "title": title,
            "calibrated": image.calibrated,
            "scale": [round(v, 6) for v in lay.scale],
            "pixels_per_cm": ppc,
            "scale_bars": [b.label for b in scale_bars(shown)] if self.scale_bar else [],
            "warnings": [p for r in image.regions for p in r.problems],
        }
        if not anonymize:
            info["source"] = Path(image.source).name
        return np.asarray(canvas), info


class Scene:
    """A grid of views: 3D, MPR, slab and quad cells of one volume, and ultrasound frames.

    Parameters
    ----------
    vol
        The volume (LPS), or None for a figure of ultrasound frames only.
    columns
        Cells per row.
    cell_size
        ``(width, height)`` of each cell in pixels.
    background
        Background colour of every cell and of empty cells.
    annotations
        Letters, scale bars, orientation marker and text in each volume cell (ultrasound
        cells have their own ``scale_bar`` and ``regions`` switches).
    anonymize
        Leave patient identity and dates out of the text; black out ultrasound pixels
        outside the regions (burned-in text).
    segmentations
        Segmentations placed on ``vol`` (``volumeviz.io.seg.load_segmentation``), drawn in
        every volume cell (fill and outline on MPR, surfaces in 3D); a cell's ``overlay=``
        (:class:`~volumeviz.render.overlay.OverlayStyle`) styles them.
    """

    def __init__(
        self,
        vol: Volume | None = None,
        *,
        columns: int = 2,
        cell_size: tuple[int, int] = (400, 300),
        background: str = "black",
        annotations: bool = True,
        anonymize: bool = False,
        segmentations: Sequence[Segmentation] = (),
    ) -> None:
        if int(columns) < 1:
            raise UsageError(f"a Scene needs at least 1 column, got {columns}")
        w, h = (int(v) for v in cell_size)
        if w < MIN_SIDE or h < MIN_SIDE:
            raise UsageError(f"cell size {w}x{h} is too small (each side >= {MIN_SIDE} px)")
        self.vol = vol
        self.segmentations = tuple(segmentations)
        self.columns = int(columns)
        self.cell_size = (w, h)
        self._base = ViewState(
            size=(w, h), background=background, annotations=annotations, anonymize=anonymize
        )
        self.cells: list[ViewState | UltrasoundPanel] = []
        self._image: npt.NDArray[np.uint8] | None = None
        self._infos: list[Any] = []

    def add(self, **options: Any) -> Scene:
        """Add a cell from :class:`ViewState` fields (``preset=``, ``mpr=``, ``slice=`` ...)."""
        if self.vol is None:
            raise UsageError(
                "this Scene has no volume: give one, Scene(vol), to add 3D, MPR or slab views"
            )
        unknown = sorted(set(options) - state_fields())
        if unknown:
            raise UsageError(f"unknown view option(s): {', '.join(unknown)}")
        state = dataclasses.replace(self._base, **options).checked()
        check_options(state, given_fields(options), self.vol)  # ignored: warned; misleading: no
        self.cells.append(state)
        self._image = None
        return self

    def add_3d(self, preset: str | None = None, view: str = "anterior", **options: Any) -> Scene:
        """Add a volume rendering with ``preset`` (None: by modality) seen from ``view``."""
        return self.add(preset=preset, view=view, mpr=None, **options)

    def add_mpr(self, plane: str = "axial", slice: Any = None, **options: Any) -> Scene:
        """Add a 2D plane (``axial``, ``coronal``, ``sagittal``; ``oblique`` with ``normal=``)."""
        return self.add(mpr=plane, slice=slice, **options)

    def add_slab(
        self,
        plane: str = "axial",
        *,
        thickness_mm: float = 10.0,
        mode: str = "mip",
        **options: Any,
    ) -> Scene:
        """Add a thick slab (``mode``: ``mip``, ``minip`` or ``mean`` over ``thickness_mm``)."""
        return self.add(mpr=plane, slab_mm=float(thickness_mm), slab_mode=mode, **options)

    def add_quad(self, **options: Any) -> Scene:
        """Add a quad cell: axial, coronal, sagittal and 3D in 2x2 (3D preset by modality)."""
        return self.add(mpr="quad", **options)

    def add_ultrasound(
        self,
        us: UltrasoundImage,
        frame: int = 0,
        *,
        scale_bar: bool = True,
        regions: bool = True,
        title: str | None = None,
    ) -> Scene:
        """Add a cell showing one ultrasound frame at physical scale.

        The frame is letterboxed into the cell (on the Scene's background) without distorting
        it: a cm stays a square, so scale bars keep their meaning. Bars and region outlines are
        drawn after resizing, with the spacing of the resized frame (pixels per cm times the
        letterbox scale).

        Parameters
        ----------
        us
            The ultrasound image, e.g. from :func:`volumeviz.load_ultrasound`.
        frame
            Frame index, ``0 .. us.n_frames - 1``.
        scale_bar
            Draw cm bars with a tick per cm in 2D regions and time bars in regions whose x
            axis is in seconds; a file without regions is stamped ``uncalibrated``.
        regions
            Outline every region of (0018,6011) with its label (unusable ones in red).
        title
            Text above the frame (the frame is fitted below it), or None.

        Returns
        -------
        Scene
            This scene, to chain calls.

        Raises
        ------
        UsageError
            If ``us`` is not an :class:`~volumeviz.model.ultrasound.UltrasoundImage`, has no
            frames, or ``frame`` is out of range.

        Examples
        --------
        A 200 x 150 frame at 50 px/cm in a 400 x 300 cell is drawn twice as large, at 100
        px/cm; a Scene without a volume holds ultrasound cells only.

        >>> import numpy as np
        >>> from volumeviz.model.ultrasound import ArrayFrames, UltrasoundImage, UltrasoundRegion
        >>> region = UltrasoundRegion(index=0, bounds=(0, 0, 199, 149), delta=(0.02, 0.02))
        >>> frames = ArrayFrames(np.full((1, 150, 200), 80, np.uint8))
        >>> us = UltrasoundImage("demo", 150, 200, 1, False, (region,), frames=frames)
        >>> scene = Scene(None, columns=1, cell_size=(400, 300)).add_ultrasound(us)
        >>> scene.render().shape
        (300, 400, 3)
        >>> scene.cells[0].layout(scene.cell_size)
        PanelLayout(scale=(2.0, 2.0), offset=(0, 0), size=(400, 300))
        >>> json.loads(scene.metadata()["volumeviz:scene"])[0]["pixels_per_cm"]
        [100.0, 100.0]
        """
        if not isinstance(us, UltrasoundImage):
            raise UsageError(
                "add_ultrasound needs an UltrasoundImage (volumeviz.load_ultrasound), "
                f"not {type(us).__name__}"
            )
        index = us.check_frame(frame)
        if us.frames is None:
            raise UsageError(f"{us.source}: this UltrasoundImage was built without frames")
        self.cells.append(
            UltrasoundPanel(us, index, bool(scale_bar), bool(regions), title or None)
        )
        self._image = None
        return self

    def _background_rgb(self) -> npt.NDArray[np.uint8]:
        import pyvista as pv

        try:
            colour = pv.Color(self._base.background)
        except ValueError as exc:
            raise UsageError(f"unknown background colour {self._base.background!r}") from exc
        return np.array(colour.int_rgb, np.uint8)

    def render(self) -> npt.NDArray[np.uint8]:
        """Render every cell and return the figure, RGB ``(rows*h, columns*w, 3)`` uint8."""
        if not self.cells:
            raise UsageError(
                "the Scene is empty: add a view first (add_3d, add_mpr, add_ultrasound ...)"
            )
        if self._image is not None:
            return self._image
        w, h = self.cell_size
        cols = min(self.columns, len(self.cells))
        rows = -(-len(self.cells) // cols)
        bg = self._background_rgb()
        fig = np.empty((rows * h, cols * w, 3), np.uint8)
        fig[...] = bg
        infos: list[Any] = []
        for n, cell in enumerate(self.cells):
            info: Any
            if isinstance(cell, UltrasoundPanel):
                rgb = (int(bg[0]), int(bg[1]), int(bg[2]))
                img, info = cell.render(self.cell_size, rgb, anonymize=self._base.anonymize)
            else:
                assert self.vol is not None  # add() refuses volume cells without one
                img, info = render_image(self.vol, cell, segmentations=self.segmentations)
            r, c = divmod(n, cols)
            fig[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
            infos.append(info)
        self._infos = infos
        self._image = fig
        return fig

    def metadata(self) -> dict[str, str]:
        """Return the PNG text chunks describing every cell (no patient identity)."""
        self.render()
        cells = []
        for cell, info in zip(self.cells, self._infos, strict=True):
            if isinstance(cell, UltrasoundPanel):
                cells.append(info)
                continue
            cells.append(
                {
                    "mpr": cell.mpr or "3d",
                    "preset": info.preset,
                    "camera": camera_label(cell) if info.preset else "",
                    "window": info.window,
                    "slab_mm": cell.slab_mm,
                    "slab_mode": cell.slab_mode if cell.slab_mm else "",
                    "warnings": info.warnings,
                }
            )
        # issue messages may quote a file's path: scrubbed like every text of the picture
        redact = Redactor.for_items(
            *([self.vol] if self.vol is not None else []), anonymize=self._base.anonymize
        )
        issues = (
            []
            if self.vol is None
            else [{**i.to_dict(), "message": redact(i.message)} for i in self.vol.issues]
        )
        return {
            "Software": f"volumeviz {__version__}",
            "volumeviz:version": __version__,
            "volumeviz:scene": json.dumps(cells),
            "volumeviz:issues": json.dumps(issues),
        }

    def save(self, path: str | Path) -> Path:
        """Write the figure as a PNG (atomically, with metadata); return the path."""
        return write_png(path, self.render(), self.metadata())

    def _repr_png_(self) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(self.render(), "RGB").save(buf, format="PNG")
        return buf.getvalue()

    def __repr__(self) -> str:
        kinds = ", ".join(
            f"ultrasound frame {c.frame}"
            if isinstance(c, UltrasoundPanel)
            else c.mpr or f"3d {c.preset if c.preset is not None else '(by modality)'}"
            for c in self.cells
        )
        return f"Scene({len(self.cells)} views in {self.columns} columns: {kinds})"
