"""Save the current layout as a PNG: the same image ``volumeviz screenshot`` makes for that view.

The window holds a :class:`~volumeviz.render.state.ViewState`, the same object the CLI fills
(quad or the maximised plane as ``mpr``, the crosshair as ``slice``, window/level, preset,
anatomical camera, slab, crop); only the size is the layout's. It is rendered offscreen by
:func:`volumeviz.render.screenshot.render_image`, exactly as the CLI renders it.
:func:`cli_args` gives the equivalent command line, stamped into the PNG. A free 3D rotation is
not part of the view state: the 3D view is saved from the last anatomical camera.

:func:`grab_window` instead saves the window itself (menus, toolbar, status bar), for docs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from volumeviz.render import screenshot as rshot
from volumeviz.render.state import ViewState
from volumeviz.transfer import WindowLevel

if TYPE_CHECKING:  # pragma: no cover
    from volumeviz.app.window import MainWindow


def render_options(win: MainWindow) -> ViewState:
    """Return the window's view state at the size of its layout (what the PNG shows)."""
    st = win.state
    if st is None or win.vol is None:
        raise ValueError("no series is open")
    size = win.grid_widget.size()
    return st.replace(
        size=(max(size.width(), rshot.MIN_SIDE), max(size.height(), rshot.MIN_SIDE)),
        measurements=tuple(win.measure.markups),
    ).checked()


def cli_args(opts: ViewState) -> list[str]:
    """Return the ``volumeviz screenshot`` options that render ``opts`` (a resolved state).

    Only the options that apply to the layout are given (3D options for the quad or the 3D
    view, 2D ones for planes), so replaying them draws no "ignored option" warning.
    """
    three_d = opts.mpr in (None, "quad")
    args: list[str] = []
    if three_d:
        args += ["--preset", str(opts.preset), "--view", opts.view]
        if opts.tf_shift:
            args += ["--tf-shift", f"{opts.tf_shift:g}"]
        if opts.tf_scale != 1.0:
            args += ["--tf-scale", f"{opts.tf_scale:g}"]
        if opts.crop is not None:
            args += ["--crop", ",".join(f"{b:.6g}" for b in opts.crop)]
    if opts.mpr is not None:
        args += ["--mpr", opts.mpr]
        if opts.mpr == "oblique" and opts.normal is not None:
            args += ["--normal", ",".join(f"{c:.6g}" for c in opts.normal)]
        if isinstance(opts.slice, tuple):
            args += ["--slice", ",".join(f"{c:.6g}" for c in opts.slice)]
        elif opts.slice is not None:
            args += ["--slice", str(opts.slice)]
        if opts.window is not None:
            args += ["--window", _window_arg(opts.window_level)]
        if opts.slab_mm:
            args += ["--slab", f"{opts.slab_mm:g}", "--slab-mode", opts.slab_mode]
    args += ["--size", f"{opts.size[0]}x{opts.size[1]}"]
    for m in opts.measurements:
        args += ["--measure", m if isinstance(m, str) else m.spec()]
    return args


def _window_arg(wl: WindowLevel) -> str:
    """The ``--window`` text that gives ``wl`` back, name included (``brain``, ``file``)."""
    from volumeviz.errors import PresetError
    from volumeviz.transfer import window_preset

    numbers = f"{wl.width:.6g}/{wl.center:.6g}"
    if wl.name.startswith("file"):
        return "file"
    if wl.name:
        try:
            named = window_preset(wl.name)
        except PresetError:
            return numbers
        if (named.width, named.center) == (wl.width, wl.center):
            return wl.name
    return numbers


def layout_image(win: MainWindow) -> tuple[npt.NDArray[np.uint8], dict[str, str]]:
    """Render the current layout as the CLI would; return the RGB image and PNG metadata."""
    if win.ultrasound is not None and win.us_view is not None:
        from volumeviz.render.ultrasound import render_frame

        frame = max(win.us_view.index, 0)
        img = render_frame(win.ultrasound, frame, scale_bar=True, regions=True)
        meta = {
            "Software": f"volumeviz {rshot.__version__}",
            "volumeviz:frame": str(frame),
            "volumeviz:cli": f"--frame {frame}",
        }
        return img, meta
    assert win.vol is not None
    opts = render_options(win)
    segs: list[Any] = list(getattr(win, "segmentations", ()))
    layers = getattr(win, "seg_layers", None)
    if layers is not None and segs:  # as the panel shows them: hidden ones left out, its opacity
        segs = layers.shown(segs)
        opts = opts.replace(overlay=dataclasses.replace(opts.overlay, opacity=layers.opacity))
    img, info = rshot.render_image(win.vol, opts, segmentations=segs)
    meta = rshot.png_metadata(win.vol, opts, info)
    meta["volumeviz:cli"] = " ".join(cli_args(opts))
    return img, meta


def save_layout_png(win: MainWindow, out: Path) -> Path:
    """Write :func:`layout_image` to ``out`` (PNG with metadata, written atomically)."""
    img, meta = layout_image(win)
    return rshot.write_png(out, img, meta)


def grab_window(win: Any, out: Path) -> Path:
    """Save the whole window as it is on screen (menus, toolbar, views, status bar)."""
    pixmap = win.grab()
    image = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_RGB888)
    w, h = image.width(), image.height()
    buf = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rgb = buf.reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3).copy()
    return rshot.write_png(out, rgb, {"Software": f"volumeviz {rshot.__version__}"})
