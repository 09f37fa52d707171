"""Load a study in a background thread so the window never freezes.

A :class:`LoadJob` runs one callable (by default :func:`load_path`) in a ``QThread`` and reports
back through Qt signals, which Qt delivers in the GUI thread: ``progress(int, str)``,
``loaded(object)`` or ``failed(str, str)`` (message, exception class name), then ``done()``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtpy import QtCore

from volumeviz.app.lod import preview_volume
from volumeviz.model.multivolume import MultiVolume
from volumeviz.model.volume import Volume

log = logging.getLogger(__name__)

#: signature of a loader: (path, series, report(percent, text)) -> Volume | UltrasoundImage
Loader = Callable[[Path, "str | None", Callable[[int, str], None]], Any]


def is_ultrasound_path(path: Path) -> bool:
    """Tell whether ``path`` is a single file that the ultrasound reader accepts."""
    if not path.is_file() or path.name.upper() == "DICOMDIR":
        return False
    try:
        from volumeviz.io.ultrasound import is_ultrasound_file
    except ImportError:  # pragma: no cover - ultrasound reader not in this build
        return False
    return bool(is_ultrasound_file(path))


def load_path(path: Path, series: str | None, report: Callable[[int, str], None]) -> Any:
    """Load ``path`` as an ultrasound image (single US file) or a volume series.

    Runs in the worker thread; ``report`` posts progress to the window.
    """
    report(5, f"reading {path.name}")
    if is_ultrasound_path(path):
        from volumeviz.io.ultrasound import load_ultrasound

        report(20, "reading ultrasound frames")
        result: Any = load_ultrasound(path)
    else:
        from volumeviz.io.volume import load_series_dims

        def headers(done: int, total: int) -> None:
            report(5 + int(75 * done / max(total, 1)), f"headers {done}/{total}")

        vol, series_nd = load_series_dims(path, series=series, progress=headers)
        report(85, "preparing the 3D view")
        result = PreparedVolume(vol, preview_volume(vol), series_nd)
    report(100, "loaded")
    return result


@dataclass(frozen=True)
class PreparedVolume:
    """A loaded volume and the block-averaged copy the 3D view renders (None when small).

    ``series`` is the :class:`~volumeviz.model.multivolume.MultiVolume` the volume belongs to
    when its series has extra dimensions (time, echo ...), else None.
    """

    volume: Volume
    preview: Volume | None
    series: MultiVolume | None = None


class _Worker(QtCore.QObject):
    progress = QtCore.Signal(int, str)
    loaded = QtCore.Signal(object)
    failed = QtCore.Signal(str, str)
    finished = QtCore.Signal()

    def __init__(self, loader: Loader, path: Path, series: str | None) -> None:
        super().__init__()
        self._loader = loader
        self._path = path
        self._series = series

    @QtCore.Slot()
    def run(self) -> None:
        try:
            result = self._loader(self._path, self._series, self.progress.emit)
        except Exception as exc:  # every failure goes to the dialog, never kills the window
            log.debug("loading %s failed:\n%s", self._path, traceback.format_exc())
            msg = " ".join(str(exc).split()) or type(exc).__name__
            self.failed.emit(msg, type(exc).__name__)
        else:
            self.loaded.emit(result)
        finally:
            self.finished.emit()


class LoadJob(QtCore.QObject):
    """One background load. Keep a reference until ``done`` fires.

    Parameters
    ----------
    path
        Folder, file or DICOMDIR.
    series
        Series number or UID to pick, or None for the loader's default.
    loader
        The function run in the thread (default :func:`load_path`).
    """

    progress = QtCore.Signal(int, str)
    loaded = QtCore.Signal(object)
    failed = QtCore.Signal(str, str)
    done = QtCore.Signal()

    def __init__(
        self,
        path: str | Path,
        series: str | None = None,
        loader: Loader | None = None,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.series = series
        self._thread = QtCore.QThread()
        self._worker = _Worker(loader or load_path, self.path, series)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        self._worker.loaded.connect(self.loaded)
        self._worker.failed.connect(self.failed)
        # direct: QThread.quit is thread-safe, and a queued call would wait for the GUI thread,
        # which may itself be waiting for this thread to end (closing the window while loading)
        self._worker.finished.connect(self._thread.quit, QtCore.Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        #: what the job ended with, once it has: ("loaded", obj) or ("failed", (message, kind))
        self.outcome: tuple[str, Any] | None = None
        self.finished_ = False
        self.loaded.connect(lambda obj: self._keep("loaded", obj))
        self.failed.connect(lambda msg, kind: self._keep("failed", (msg, kind)))

    def start(self) -> None:
        """Start loading in the background."""
        self._thread.start()

    def is_running(self) -> bool:
        """Whether the thread is still working."""
        return bool(self._thread.isRunning())

    def wait(self, ms: int = 60_000) -> bool:
        """Block until the thread ends (used on close); True if it did."""
        return bool(self._thread.wait(ms))

    def _keep(self, what: str, value: Any) -> None:
        self.outcome = (what, value)

    def _on_thread_finished(self) -> None:
        self.finished_ = True
        self.done.emit()
