"""Benchmark the interactive window (``volumeviz view``) on a 512x512x300 CT, CPU-only.

Measured in the real Qt window (pyvistaqt under X; run it with ``xvfb-run -a`` on a machine
without a display), through the same event paths a user drives:

- **slice move**: a scroll-wheel event sent to a 2D view, until that view and the two other 2D
  views (their crosshair lines) have re-rendered; target < 50 ms. The 3D view follows ~120 ms
  after the last move (it never delays a slice move), so it is not part of this number;
- **3D while interacting**: mouse-drag events on the 3D view (VTK trackball), each one re-renders
  at the lower interactive level of detail; target < 200 ms; and the full-quality frame at the
  end of the drag;
- **launch to first full render**: ``volumeviz -v view DIR --screenshot`` in a new process on the
  same volume written as 300 DICOM files (imports, Qt, DICOM read, first render of all views);
- **reopen leak**: RSS after each of 20 close + reopen cycles (a fresh 157 MB array each time, and
  the bundled ``assets/ct-head`` through the real loader), growth after the first cycle; and 10
  whole windows (four QtInteractors each) opened and closed, for pyvistaqt's reference cycle.

Usage::

    xvfb-run -a .venv/bin/python scripts/bench_view.py [--no-launch] [--reopen 20] [--json F]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHAPE = (300, 512, 512)  # (k, j, i)
SPACING = (0.45, 0.45, 0.6)  # mm (i, j, k)
WINDOW = (1100, 850)


def head_phantom() -> Any:
    """A head-like int16 CT: skull shell (900 HU), brain (35 HU) with noise, air; 157 MB."""
    from volumeviz.model.volume import Volume, VolumeMeta

    nk, nj, ni = SHAPE
    arr = np.full(SHAPE, -1000, np.int16)
    j, i = np.ogrid[:nj, :ni]
    rng = np.random.default_rng(0)
    for k in range(nk):
        z = (k - nk / 2) / (nk / 2)
        scale = np.sqrt(max(0.0, 1 - (0.9 * z) ** 2)) + 1e-6
        r2 = ((i - ni / 2) / (0.42 * ni * scale)) ** 2 + ((j - nj / 2) / (0.46 * nj * scale)) ** 2
        sl = arr[k]
        sl[r2 < 1.0] = 900
        sl[r2 < 0.85] = 35
        sl += np.where(r2 < 1.0, rng.normal(0, 12, sl.shape), 0).astype(np.int16)
    meta = VolumeMeta(modality="CT", units="HU", series_description="bench head 512x512x300")
    return Volume(arr, spacing=SPACING, meta=meta)


def rss_mb() -> float:
    """Resident memory in MB, after giving freed heap pages back to the OS (glibc)."""
    import ctypes

    import psutil

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # pragma: no cover - not glibc
        pass
    return float(psutil.Process().memory_info().rss) / 2**20


def stats(ms: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(ms), 1),
        "p90_ms": round(float(np.percentile(ms, 90)), 1),
        "max_ms": round(max(ms), 1),
        "n": len(ms),
    }


def wheel(widget: Any, steps: int = 1) -> None:
    from qtpy import QtCore, QtGui, QtWidgets

    c = QtCore.QPointF(widget.width() / 2, widget.height() / 2)
    ev = QtGui.QWheelEvent(
        c,
        widget.mapToGlobal(c),
        QtCore.QPoint(0, 0),
        QtCore.QPoint(0, 120 * steps),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
        QtCore.Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QtWidgets.QApplication.sendEvent(widget, ev)


def mouse(widget: Any, kind: str, x: float, y: float, pressed: bool) -> None:
    from qtpy import QtCore, QtGui, QtWidgets

    types = {
        "press": QtCore.QEvent.Type.MouseButtonPress,
        "move": QtCore.QEvent.Type.MouseMove,
        "release": QtCore.QEvent.Type.MouseButtonRelease,
    }
    left = QtCore.Qt.MouseButton.LeftButton
    none = QtCore.Qt.MouseButton.NoButton
    p = QtCore.QPointF(x, y)
    button = none if kind == "move" else left
    buttons = left if pressed else none
    ev = QtGui.QMouseEvent(
        types[kind],
        p,
        widget.mapToGlobal(p),
        button,
        buttons,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(widget, ev)


def bench_interaction(win: Any, app: Any, vol: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    t = time.perf_counter()
    win.set_volume(vol)
    win.flush_render()
    app.processEvents()
    out["set_volume_s"] = round(time.perf_counter() - t, 2)
    # warm up each view once (first-frame costs: shader build, gradient encoding)
    for panel in win.panels.values():
        panel.interactor.render()
    for plane in ("axial", "coronal", "sagittal"):
        widget = win.panels[plane].interactor
        times = []
        for n in range(24):
            t = time.perf_counter()
            wheel(widget, 1 if n % 12 < 6 else -1)
            times.append((time.perf_counter() - t) * 1000)
        out[f"slice_move_{plane}"] = stats(times)
        app.processEvents()
    # a slab (10 mm MIP) on the axial view
    win.slab_spin.setValue(10.0)
    times = []
    widget = win.panels["axial"].interactor
    for n in range(12):
        t = time.perf_counter()
        wheel(widget, 1 if n < 6 else -1)
        times.append((time.perf_counter() - t) * 1000)
    out["slice_move_axial_slab10_mip"] = stats(times)
    win.slab_spin.setValue(0.0)
    win.flush_render()
    # 3D drag: real mouse events through VTK's trackball style
    w3 = win.panels["3d"].interactor
    cx, cy = w3.width() / 2, w3.height() / 2
    mouse(w3, "press", cx, cy, True)
    times = []
    for n in range(1, 13):
        t = time.perf_counter()
        mouse(w3, "move", cx + 6 * n, cy + 2 * n, True)
        times.append((time.perf_counter() - t) * 1000)
    assert win.scene3d.interacting, "the drag did not start a VTK interaction"
    t = time.perf_counter()
    mouse(w3, "release", cx + 72, cy + 24, False)  # ends the interaction: full-quality frame
    still = (time.perf_counter() - t) * 1000
    out["render_3d_interacting"] = stats(times)
    out["render_3d_still_ms"] = round(still, 1)
    out["mapper"] = type(win.scene3d.mapper).__name__
    out["view_3d_px"] = [w3.width(), w3.height()]
    return out


def bench_reopen(win: Any, app: Any, make: Any, n: int) -> dict[str, Any]:
    rss = []
    for _ in range(n):
        vol = make()
        win.set_volume(vol)
        win.flush_render()
        app.processEvents()
        del vol
        win.close_series()
        app.processEvents()
        gc.collect()
        rss.append(round(rss_mb(), 1))
    return {
        "cycles": n,
        "rss_mb": rss,
        "growth_after_first_mb": round(rss[-1] - rss[0], 1),
        "growth_after_second_mb": round(rss[-1] - rss[1], 1) if len(rss) > 1 else 0.0,
        "max_step_mb": round(max(np.diff(rss)) if len(rss) > 1 else 0.0, 1),
    }


def bench_reopen_loader(win: Any, app: Any, path: Path, n: int) -> dict[str, Any]:
    rss = []
    for _ in range(n):
        done: list[Any] = []
        win.volume_loaded.connect(done.append)
        win.load_failed.connect(done.append)
        win.open_path(path)
        while not done:
            app.processEvents()
            time.sleep(0.01)
        win.volume_loaded.disconnect(done.append)
        win.load_failed.disconnect(done.append)
        if not win.vol:
            raise RuntimeError(f"could not open {path}: {done[0]}")
        win.flush_render()
        app.processEvents()
        win.close_series()
        app.processEvents()
        gc.collect()
        rss.append(round(rss_mb(), 1))
    return {
        "path": str(path),
        "cycles": n,
        "rss_mb": rss,
        "growth_after_first_mb": round(rss[-1] - rss[0], 1),
        "growth_after_second_mb": round(rss[-1] - rss[1], 1) if len(rss) > 1 else 0.0,
    }


def bench_windows(app: Any, settings: Path, n: int) -> dict[str, Any]:
    """Open and close whole windows (four QtInteractors each): pyvistaqt's reference cycle."""
    from qtpy import QtCore

    from volumeviz.app.window import MainWindow
    from volumeviz.model import phantom

    rss = []
    small = phantom.asymmetric(64)
    for _ in range(n):
        w = MainWindow(settings_path=settings)
        w.resize(*WINDOW)
        w.show()
        w.set_volume(small)
        w.flush_render()
        app.processEvents()
        w.close()
        w.deleteLater()
        del w
        app.processEvents()
        # what returning to the event loop does: run the deferred deletes (deleteLater)
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        gc.collect()
        rss.append(round(rss_mb(), 1))
    return {
        "windows": n,
        "rss_mb": rss,
        "growth_after_second_mb": round(rss[-1] - rss[1], 1) if len(rss) > 1 else 0.0,
        "per_window_mb": round((rss[-1] - rss[1]) / max(len(rss) - 2, 1), 2),
    }


def bench_launch(vol: Any, folder: Path) -> dict[str, Any]:
    from volumeviz.io.synth import write_synthetic_series

    t = time.perf_counter()
    write_synthetic_series(vol, folder, description="bench head 512x512x300")
    written = time.perf_counter() - t
    out_png = folder.parent / "launch.png"
    cmd = [sys.executable, "-m", "volumeviz", "-v", "view", str(folder), "--screenshot",
           str(out_png), "--whole-window", "--size", f"{WINDOW[0]}x{WINDOW[1]}"]  # fmt: skip
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    wall = time.perf_counter() - t
    m = re.search(r"first full render ([\d.]+) s after launch", res.stderr)
    if res.returncode != 0 or m is None:
        raise RuntimeError(f"view failed ({res.returncode}):\n{res.stderr[-2000:]}")
    return {
        "series_files": len(list(folder.iterdir())),
        "write_series_s": round(written, 1),
        "launch_to_first_full_render_s": float(m.group(1)),
        "process_wall_s_incl_screenshot_and_exit": round(wall, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--no-launch", action="store_true", help="skip the launch-to-render run")
    ap.add_argument("--reopen", type=int, default=20, help="close/reopen cycles (default 20)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--only-leaks", action="store_true", help="skip the speed measurements")
    args = ap.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("bench_view: needs an X display; run it under xvfb-run -a")

    from qtpy import QtWidgets

    from volumeviz.app.window import MainWindow

    results: dict[str, Any] = {"shape_kji": list(SHAPE), "spacing_ijk_mm": list(SPACING)}
    t = time.perf_counter()
    vol = head_phantom()
    results["phantom_build_s"] = round(time.perf_counter() - t, 1)
    tmp = Path(tempfile.mkdtemp(prefix="bench_view_"))
    try:
        if not args.no_launch:
            results["launch"] = bench_launch(vol, tmp / "series")
            print(json.dumps(results["launch"]), flush=True)
        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
        win = MainWindow(settings_path=tmp / "settings.ini")
        win.resize(*WINDOW)
        win.show()
        app.processEvents()
        if not args.only_leaks:
            results["interaction"] = bench_interaction(win, app, vol)
            print(json.dumps(results["interaction"]), flush=True)
        win.close_series()
        gc.collect()
        results["rss_with_volume_in_memory_mb"] = round(rss_mb(), 1)
        results["reopen_in_memory_512x512x300"] = bench_reopen(
            win, app, lambda: vol.replace(array=vol.array.copy()), args.reopen
        )
        print(json.dumps(results["reopen_in_memory_512x512x300"]), flush=True)
        results["reopen_loader_ct_head"] = bench_reopen_loader(
            win, app, ROOT / "assets" / "ct-head", args.reopen
        )
        print(json.dumps(results["reopen_loader_ct_head"]), flush=True)
        win.close()
        results["open_close_whole_windows"] = bench_windows(app, tmp / "settings.ini", 10)
        print(json.dumps(results["open_close_whole_windows"]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
