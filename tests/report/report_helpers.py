"""Helpers shared by the report and batch tests (imported by name: no clash with conftest)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from volumeviz.model.volume import Volume


class StandInRenderer:
    """Draws a recognisable picture of the requested size and records what it was asked.

    Used where a test checks the document's layout, not the pictures; the end-to-end tests
    use the real renderer.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, dict]] = []

    def _img(self, size: tuple[int, int], seed: int) -> np.ndarray:
        w, h = size
        y, x = np.mgrid[0:h, 0:w]
        img = np.zeros((h, w, 3), np.uint8)
        img[..., 0] = (x * 255 // max(1, w - 1)).astype(np.uint8)
        img[..., 1] = (y * 255 // max(1, h - 1)).astype(np.uint8)
        img[..., 2] = (seed * 37) % 256
        return img

    def view3d(self, vol: Volume, *, preset: str, view: str, size: tuple[int, int]) -> np.ndarray:
        self.calls.append(("view3d", vol, {"preset": preset, "view": view, "size": size}))
        return self._img(size, len(self.calls))

    def quad(self, vol: Volume, *, preset: str, size: tuple[int, int]) -> np.ndarray:
        self.calls.append(("quad", vol, {"preset": preset, "size": size}))
        return self._img(size, len(self.calls))

    def mpr(self, vol: Volume, *, plane: str, point, size: tuple[int, int]) -> np.ndarray:
        self.calls.append(("mpr", vol, {"plane": plane, "point": point, "size": size}))
        return self._img(size, len(self.calls))

    def ultrasound_frame(
        self, image, *, frame: int, size: tuple[int, int], anonymize: bool
    ) -> np.ndarray:
        self.calls.append(("us", image, {"frame": frame, "size": size, "anonymize": anonymize}))
        return self._img(size, len(self.calls))


def run(*args: str) -> str:
    """Run a command, return its stdout (raises on failure)."""
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=120).stdout


def write_series(vol: Volume, folder: Path, **kwargs) -> Path:
    """Write ``vol`` as a synthetic DICOM series (the real io writer) into ``folder``."""
    from volumeviz.io.synth import write_synthetic_series

    write_synthetic_series(vol, folder, **kwargs)
    return folder


def crash_or_succeed(job):
    """A batch worker function for tests: kills its process for inputs named 'crash*'."""
    import os

    from volumeviz.report.batch import JobResult

    if job.name.startswith("crash"):
        os._exit(3)  # a native crash, as far as the pool can tell
    return [
        JobResult(job.index, job.path, out, r.kind, "done", 0.0, worker=str(os.getpid()))
        for r, out in zip(job.renders, job.outputs, strict=True)
    ]
