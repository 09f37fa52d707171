"""Start the window: ``volumeviz view PATH [--screenshot OUT.png]``."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from volumeviz.errors import VolumeVizError

log = logging.getLogger("volumeviz.app")


def _process_start() -> float:
    """Return when this process started (epoch seconds)."""
    import psutil

    return float(psutil.Process().create_time())


def _application() -> object:
    from qtpy import QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(sys.argv[:1])
        app.setOrganizationName("volumeviz")
        app.setApplicationName("volumeviz-view")
    return app


def run_view(
    path: str | Path | None,
    *,
    series: str | None = None,
    screenshot: str | Path | None = None,
    whole_window: bool = False,
    size: tuple[int, int] = (1100, 850),
    timeout_s: float = 300.0,
    seg: tuple[str, ...] | list[str] = (),
    index: dict[str, int] | None = None,
) -> int:
    """Open the window on ``path``; with ``screenshot`` render, save the PNG and exit.

    The PNG is the current layout rendered as ``volumeviz screenshot`` renders it, or with
    ``whole_window`` the window itself (menus, toolbar, views, status bar). The time from the
    process start to the first full render is logged at INFO level (``volumeviz -v view``).
    ``index`` (0-based, ``{"time": 2}``) picks the volume of a series with extra dimensions.
    Returns the process exit code (0, or 1 when ``--screenshot`` could not load the data).
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        if sys.platform.startswith("linux"):
            raise VolumeVizError(
                "no display: the window needs an X server (run it under xvfb-run, or use "
                "'volumeviz screenshot' for offscreen images)"
            )
    if os.environ.get("VTK_DEFAULT_OPENGL_WINDOW") == "vtkEGLRenderWindow":
        # The window draws through Qt's GLX context; an EGL default for VTK's own offscreen
        # windows (the PNG of the layout) then fails eglMakeCurrent on every frame (noisy, though
        # the image is right). This process has a display: let VTK use X for those too.
        log.debug("ignoring VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow in the window process")
        del os.environ["VTK_DEFAULT_OPENGL_WINDOW"]
    from qtpy import QtCore

    app = _application()
    job = None
    if path is not None:
        # start reading before the window's heavy imports (VTK, pyvista): they overlap
        from volumeviz.app.loader import LoadJob

        job = LoadJob(path, series=series)
        job.start()
    from volumeviz.app.window import MainWindow

    win = MainWindow()
    win.seg_specs = list(seg) or ["auto"]
    win.initial_index = dict(index or {})  # which volume of a series with extra dimensions
    win.resize(*size)
    result: dict[str, object] = {"code": 0}
    if screenshot is not None:
        out = Path(screenshot)
        win.show_error_dialogs = False

        def _shoot(_obj: object) -> None:
            win.flush_render()
            try:
                if whole_window:
                    from volumeviz.app.snapshot import grab_window

                    grab_window(win, out)
                else:
                    win.save_screenshot(out)
            except VolumeVizError as exc:
                result["error"] = exc
                result["code"] = 1
            win.close()

        def _fail(message: str) -> None:
            result["error"] = VolumeVizError(message)
            result["code"] = 1
            win.close()

        # take the picture after Qt has laid the window out and painted once
        win.volume_loaded.connect(lambda obj: QtCore.QTimer.singleShot(200, lambda: _shoot(obj)))
        win.load_failed.connect(_fail)
        QtCore.QTimer.singleShot(int(timeout_s * 1000), lambda: _fail("timed out"))

    def _first_render(_obj: object) -> None:
        for panel in win.panels.values():
            panel.interactor.render()
        if win.us_view is not None:
            win.us_view.plotter.render()
        since = time.time() - _process_start()
        log.info("first full render %.2f s after launch", since)
        win.launch_to_first_render_s = since

    win.volume_loaded.connect(_first_render)
    win.show()
    if path is not None:
        win.open_path(path, series=series, job=job)
    app.exec()  # type: ignore[attr-defined]
    err = result.get("error")
    if isinstance(err, VolumeVizError):
        raise err
    return int(result["code"])  # type: ignore[call-overload]
