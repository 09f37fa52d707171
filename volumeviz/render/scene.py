"""A scripted figure: several views of one Volume in a grid, rendered offscreen.

>>> from volumeviz.model import phantom
>>> scene = Scene(phantom.asymmetric(16), columns=2, cell_size=(64, 48), annotations=False)
>>> scene.add_3d(preset="mip").add_mpr("axial").render().shape
(48, 128, 3)

Each cell is a :class:`~volumeviz.render.screenshot.ViewState` rendered by
:func:`~volumeviz.render.screenshot.render_image` (the same pixels as ``volumeviz screenshot``);
cells fill the grid row by row. In Jupyter a Scene on its own line shows the figure.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz import __version__
from volumeviz.errors import UsageError
from volumeviz.model.volume import Volume
from volumeviz.render.screenshot import (
    MIN_SIDE,
    ViewState,
    camera_label,
    render_image,
    write_png,
)


class Scene:
    """A grid of views (3D, MPR, slab, quad) of one volume.

    Parameters
    ----------
    vol
        The volume (LPS).
    columns
        Cells per row.
    cell_size
        ``(width, height)`` of each cell in pixels.
    background
        Background colour of every cell and of empty cells.
    annotations
        Letters, scale bars, orientation marker and text in each cell.
    anonymize
        Leave patient identity and dates out of the text.
    """

    def __init__(
        self,
        vol: Volume,
        *,
        columns: int = 2,
        cell_size: tuple[int, int] = (400, 300),
        background: str = "black",
        annotations: bool = True,
        anonymize: bool = False,
    ) -> None:
        if int(columns) < 1:
            raise UsageError(f"a Scene needs at least 1 column, got {columns}")
        w, h = (int(v) for v in cell_size)
        if w < MIN_SIDE or h < MIN_SIDE:
            raise UsageError(f"cell size {w}x{h} is too small (each side >= {MIN_SIDE} px)")
        self.vol = vol
        self.columns = int(columns)
        self.cell_size = (w, h)
        self._base = ViewState(
            size=(w, h), background=background, annotations=annotations, anonymize=anonymize
        )
        self.cells: list[ViewState] = []
        self._image: npt.NDArray[np.uint8] | None = None
        self._infos: list[Any] = []

    def add(self, **options: Any) -> Scene:
        """Add a cell from :class:`ViewState` fields (``preset=``, ``mpr=``, ``slice=`` ...)."""
        fields = {f.name for f in dataclasses.fields(ViewState)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise UsageError(f"unknown view option(s): {', '.join(unknown)}")
        state = dataclasses.replace(self._base, **options).checked()
        self.cells.append(state)
        self._image = None
        return self

    def add_3d(self, preset: str = "bone", view: str = "anterior", **options: Any) -> Scene:
        """Add a volume rendering with ``preset`` seen from ``view``."""
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
        """Add a quad cell: axial, coronal, sagittal and 3D in 2x2."""
        return self.add(mpr="quad", **options)

    def render(self) -> npt.NDArray[np.uint8]:
        """Render every cell and return the figure, RGB ``(rows*h, columns*w, 3)`` uint8."""
        if not self.cells:
            raise UsageError("the Scene is empty: add a view first (add_3d, add_mpr ...)")
        if self._image is not None:
            return self._image
        w, h = self.cell_size
        cols = min(self.columns, len(self.cells))
        rows = -(-len(self.cells) // cols)
        import pyvista as pv

        bg = np.array(pv.Color(self._base.background).int_rgb, np.uint8)
        fig = np.empty((rows * h, cols * w, 3), np.uint8)
        fig[...] = bg
        self._infos = []
        for n, state in enumerate(self.cells):
            img, info = render_image(self.vol, state)
            r, c = divmod(n, cols)
            fig[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
            self._infos.append(info)
        self._image = fig
        return fig

    def metadata(self) -> dict[str, str]:
        """Return the PNG text chunks describing every cell (no patient identity)."""
        self.render()
        cells = []
        for state, info in zip(self.cells, self._infos, strict=True):
            cells.append(
                {
                    "mpr": state.mpr or "3d",
                    "preset": info.preset,
                    "camera": camera_label(state) if info.preset else "",
                    "window": info.window,
                    "slab_mm": state.slab_mm,
                    "slab_mode": state.slab_mode if state.slab_mm else "",
                    "warnings": info.warnings,
                }
            )
        return {
            "Software": f"volumeviz {__version__}",
            "volumeviz:version": __version__,
            "volumeviz:scene": json.dumps(cells),
            "volumeviz:issues": json.dumps([i.to_dict() for i in self.vol.issues]),
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
        kinds = ", ".join(s.mpr or f"3d {s.preset}" for s in self.cells)
        return f"Scene({len(self.cells)} views in {self.columns} columns: {kinds})"
