"""Movies of volumes: along an extra dimension, a slice sweep through an MPR plane, a 3D rotation.

Every frame is drawn by :func:`volumeviz.render.screenshot.render_scene` (so it carries the same
annotations as a screenshot: the volume's ``time 3/10 (4 s)`` label, the plane and its position
in mm, the camera's azimuth) on one offscreen plotter, grabbed, and streamed to ffmpeg by
:func:`volumeviz.render.cine.stream_frames` before the next is drawn: one frame, and for a
series with extra dimensions one volume (:class:`~volumeviz.model.multivolume.MultiVolume`
reads them one at a time), is in memory at a time, whatever the number of frames.

Frame rates: along ``time`` the series' own (1 / its even step, e.g. 0.5 frames/s for a TR of
2 s) unless one is given; elsewhere the caller's (defaults: :data:`DEFAULT_FPS`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz._atomic import atomic_path
from volumeviz.errors import RenderError, UsageError
from volumeviz.model.multivolume import MultiVolume
from volumeviz.model.volume import Volume
from volumeviz.ops.mpr import PLANES, plane_axes
from volumeviz.render.cine import cine_writer_params, stream_frames
from volumeviz.render.screenshot import grab_frame, make_plotter, render_scene
from volumeviz.render.state import ViewState

__all__ = [
    "DEFAULT_FPS",
    "MovieInfo",
    "movie_along",
    "movie_rotation",
    "movie_sweep",
    "sweep_positions",
]

#: frames per second when the movie has no rate of its own
DEFAULT_FPS = {"along": 4.0, "sweep": 10.0, "rotate": 24.0}


@dataclass
class MovieInfo:
    """What a movie holds: its file, kind, frame count and rate, and each frame's stamp."""

    path: Path
    kind: str
    fps: float
    frames: int = 0
    #: per frame, the text drawn on it (time, position, azimuth, series and patient lines)
    stamps: list[str] = field(default_factory=list)
    #: what the frame rate is based on ("(0018,0080) Repetition Time", "--fps", ...)
    fps_source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Playing time in seconds."""
        return self.frames / self.fps


def _check_out(out: str | os.PathLike[str]) -> Path:
    path = Path(os.fspath(out))
    cine_writer_params(path.suffix.lower())  # .mp4 / .gif, else UsageError
    return path


def _frames(
    items: Iterator[tuple[Volume, ViewState]],
    info: MovieInfo,
    size: tuple[int, int],
    on_frame: Callable[[int], None] | None,
) -> Iterator[npt.NDArray[np.uint8]]:
    """Render each (volume, state) on one reused plotter and yield its pixels."""
    first_state: ViewState | None = None
    pl: Any = None
    try:
        for vol, state in items:
            if first_state is None:
                first_state = state
                pl = make_plotter(state)
            elif state.mpr != first_state.mpr or state.size != first_state.size:
                raise UsageError("every frame of a movie has the same layout and size")
            for renderer in pl.renderers:  # actors go, the plotter's lights stay
                renderer.clear_actors()
            scene = render_scene(pl, vol, state)
            info.stamps.append(_stamp(scene, state))
            frame = grab_frame(pl)
            if frame.shape[:2] != (size[1], size[0]):
                raise RenderError(f"frame is {frame.shape[1]}x{frame.shape[0]}, not {size}")
            yield frame
            info.frames += 1
            if on_frame is not None:
                on_frame(info.frames)
    except (RuntimeError, MemoryError) as exc:
        raise RenderError(f"rendering a movie frame failed: {exc}") from exc
    finally:
        if pl is not None:
            pl.close()


def _stamp(scene: Any, state: ViewState) -> str:
    """Every text drawn on a frame, corner by corner, joined (what tells the frames apart)."""
    parts = []
    for view in scene.texts.values():
        for key in ("upper_left", "upper_right", "lower_left", "lower_right"):
            if key in view:
                parts.append(str(view[key]).replace("\n", " | "))
    return " || ".join(parts) if state.annotations else ""


def _write(
    out: Path,
    items: Iterator[tuple[Volume, ViewState]],
    info: MovieInfo,
    size: tuple[int, int],
    on_frame: Callable[[int], None] | None,
) -> MovieInfo:
    with atomic_path(out) as tmp:
        n = stream_frames(
            tmp, _frames(items, info, size, on_frame), size=size, fps=info.fps, suffix=out.suffix
        )
    if n == 0:  # pragma: no cover - callers check for frames first
        raise UsageError(f"{out}: no frames to write")
    return info


def movie_along(
    mv: MultiVolume,
    out: str | os.PathLike[str],
    *,
    dim: str | None = None,
    index: Mapping[str, int] | None = None,
    state: ViewState | None = None,
    fps: float | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> MovieInfo:
    """A movie through the volumes of ``mv`` along one extra dimension.

    Parameters
    ----------
    mv
        The series (its volumes are read one per frame).
    out
        ``.mp4`` or ``.gif`` (written atomically).
    dim
        The dimension to play (default: ``time`` if the series has it, else its first).
    index
        The other dimensions' indices (0-based; default 0), e.g. ``{"echo": 1}``.
    state
        What to draw (layout, window, preset ...); default a 2x2 MPR quad, 800x600.
    fps
        Frames per second; default the series' own along ``time`` (1 / the step of its time
        values, e.g. 1/TR), else :data:`DEFAULT_FPS` ``["along"]``.
    on_frame
        Called with the number of frames written so far, after each frame.

    Returns
    -------
    MovieInfo
        Frames, rate (and what it is based on), each frame's stamp. Volumes that are missing
        are skipped (listed in ``notes``).

    Raises
    ------
    UsageError
        An unknown dimension, a bad index or frame rate, an output that is not .mp4/.gif.
    """
    path = _check_out(out)
    name = dim or ("time" if "time" in mv.names else mv.names[0])
    d = mv.dimension(name)
    fixed = dict(index or {})
    if name in fixed:
        raise UsageError(f"the movie plays {name}; do not also fix it with an index")
    base = mv.index(fixed)  # checks names and ranges of the fixed ones
    axis = mv.names.index(name)
    state = (state or ViewState(mpr="quad")).checked()
    info = MovieInfo(path, "along", 0.0)
    if fps is not None:
        info.fps, info.fps_source = float(fps), "given"
    elif d.frame_rate is not None:
        info.fps = d.frame_rate
        step = f"{d.step:g} {d.unit}"
        info.fps_source = f"1 / {step} between {name} points ({d.value_source or d.source})"
    else:
        info.fps, info.fps_source = DEFAULT_FPS["along"], "default (the series has no frame rate)"
        if name == "time" and d.unit == "s" and d.size > 1:
            info.notes.append(f"{name} points are not evenly spaced: played at an even rate")
    indices = []
    for k in range(d.size):
        idx = list(base)
        idx[axis] = k
        if tuple(idx) in mv.missing:
            info.notes.append(f"skipped {mv.label(tuple(idx))}: {mv.missing[tuple(idx)]}")
            continue
        indices.append(tuple(idx))
    if not indices:
        raise UsageError(f"no volume along {name} can be loaded")

    def items() -> Iterator[tuple[Volume, ViewState]]:
        for idx in indices:
            yield mv.volume(idx), state

    return _write(path, items(), info, state.size, on_frame)


def sweep_positions(vol: Volume, plane: str, *, step: int = 1) -> list[int]:
    """The slice indices a sweep through ``plane`` passes, first to last (every ``step``-th)."""
    if plane not in PLANES:
        raise UsageError(f"a sweep goes through {', '.join(PLANES)}, not {plane!r}")
    if step < 1:
        raise UsageError(f"sweep step must be at least 1, not {step}")
    _, _, normal, _ = plane_axes(plane)
    axis = int(np.argmax(np.abs(vol.direction.T @ normal)))  # the index axis along the normal
    return list(range(0, vol.size[axis], step))


def movie_sweep(
    vol: Volume,
    out: str | os.PathLike[str],
    *,
    plane: str = "axial",
    state: ViewState | None = None,
    fps: float | None = None,
    step: int = 1,
    on_frame: Callable[[int], None] | None = None,
) -> MovieInfo:
    """A movie sweeping ``plane`` through ``vol``, one slice index per frame.

    Each frame is the MPR at the next slice (its position in mm is written on it). ``state``
    gives the rest (window, size ...); its ``mpr`` is set to ``plane``. Default 10 frames/s.
    """
    path = _check_out(out)
    state = dataclasses.replace(state or ViewState(), mpr=plane).checked()
    positions = sweep_positions(vol, plane, step=step)
    info = MovieInfo(path, "sweep", float(fps or DEFAULT_FPS["sweep"]))
    info.fps_source = "given" if fps else "default"

    def items() -> Iterator[tuple[Volume, ViewState]]:
        for k in positions:
            yield vol, dataclasses.replace(state, slice=k)

    return _write(path, items(), info, state.size, on_frame)


def movie_rotation(
    vol: Volume,
    out: str | os.PathLike[str],
    *,
    frames: int = 72,
    state: ViewState | None = None,
    fps: float | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> MovieInfo:
    """A movie turning the 3D view once around (azimuth 0..360°, ``frames`` steps).

    The camera starts at ``state``'s view (default anterior) and turns about its view-up axis;
    the azimuth is written on each frame. Default 24 frames/s.
    """
    path = _check_out(out)
    if frames < 2:
        raise UsageError(f"a rotation needs at least 2 frames, not {frames}")
    state = dataclasses.replace(state or ViewState(), mpr=None).checked()
    info = MovieInfo(path, "rotate", float(fps or DEFAULT_FPS["rotate"]))
    info.fps_source = "given" if fps else "default"
    step = 360.0 / frames

    def items() -> Iterator[tuple[Volume, ViewState]]:
        for k in range(frames):
            yield vol, dataclasses.replace(state, azimuth=state.azimuth + k * step)

    return _write(path, items(), info, state.size, on_frame)
