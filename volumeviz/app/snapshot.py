"""Save what the window shows as one PNG: the visible views tiled as they are laid out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

import volumeviz
from volumeviz.errors import OutputError

if TYPE_CHECKING:  # pragma: no cover
    from volumeviz.app.window import MainWindow


def _view_image(plotter: Any) -> npt.NDArray[np.uint8]:
    plotter.render()
    img = plotter.screenshot(None, return_img=True)
    return np.asarray(img[..., :3], dtype=np.uint8)


def layout_image(win: MainWindow) -> npt.NDArray[np.uint8]:
    """Return an RGB image of the visible views: the 2x2 layout or the maximised view.

    Ultrasound shows the cine view's current frame with its overlays.
    """
    if win.ultrasound is not None and win.us_view is not None:
        return _view_image(win.us_view.plotter)
    names = [n for n, p in win.panels.items() if p.isVisible()] or list(win.panels)
    tiles = [_view_image(win.panels[n].interactor) for n in names]
    if len(tiles) == 1:
        return tiles[0]
    h = max(t.shape[0] for t in tiles)
    w = max(t.shape[1] for t in tiles)
    out = np.zeros((2 * h + 2, 2 * w + 2, 3), np.uint8)
    out[:] = 60  # the grid lines between views
    for n, t in enumerate(tiles):
        r, c = divmod(n, 2)
        y, x = r * (h + 2), c * (w + 2)
        out[y : y + t.shape[0], x : x + t.shape[1]] = t
    return out


def metadata(win: MainWindow) -> dict[str, str]:
    """Return the PNG text chunks: what is shown (layout, window, preset, slab, cursor)."""
    meta = {"Software": f"volumeviz {volumeviz.__version__}", "volumeviz:source": "view"}
    st = win.state
    if st is not None:
        meta.update(
            {
                "volumeviz:layout": st.maximised or "quad",
                "volumeviz:preset": st.preset,
                "volumeviz:window": f"{st.window[0]:g}/{st.window[1]:g}",
                "volumeviz:slab": f"{st.slab_mm:g} mm {st.slab_mode}",
                "volumeviz:cursor_lps": ",".join(f"{c:.2f}" for c in st.cursor_lps),
                "volumeviz:camera": st.camera,
            }
        )
    if win.vol is not None:
        meta["volumeviz:issues"] = "; ".join(i.message for i in win.vol.issues)
        meta["Description"] = win.vol.meta.series_description
    return meta


def save_layout_png(win: MainWindow, out: Path) -> Path:
    """Write :func:`layout_image` to ``out`` (PNG with :func:`metadata`) atomically."""
    from PIL import Image, PngImagePlugin

    out = Path(out)
    if not out.parent.is_dir():
        raise OutputError(f"{out}: folder {out.parent} does not exist")
    img = layout_image(win)
    info = PngImagePlugin.PngInfo()
    for k, v in metadata(win).items():
        info.add_text(k, v)
    tmp = out.with_name(f".{out.name}.part")
    Image.fromarray(img).save(tmp, format="PNG", pnginfo=info)
    tmp.replace(out)
    return out
