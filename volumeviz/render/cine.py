"""Write a cine (MP4 or GIF) from RGB frames streamed one at a time (imageio-ffmpeg).

The one cine writer of volumeviz: ultrasound cine export
(:func:`volumeviz.render.ultrasound.write_cine`) and movies of volumes
(:mod:`volumeviz.render.movie`) both stream their frames through :func:`stream_frames`, so only
the frame being encoded is in memory (ffmpeg encodes as frames arrive).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import UsageError

__all__ = ["CINE_SUFFIXES", "cine_writer_params", "stream_frames"]

#: the cine formats: H.264 MP4 and GIF
CINE_SUFFIXES = (".mp4", ".gif")


def cine_writer_params(suffix: str) -> dict[str, Any]:
    """Ffmpeg settings for a streamed MP4 (H.264) or GIF (palette per frame).

    Raises
    ------
    UsageError
        Another suffix.
    """
    if suffix == ".mp4":
        return {
            "codec": "libx264",
            "pix_fmt_out": "yuv420p",
            "quality": 7,
            "output_params": ["-preset", "veryfast", "-movflags", "+faststart"],
        }
    if suffix == ".gif":
        graph = "split[a][b];[a]palettegen=stats_mode=single[p];[b][p]paletteuse=new=1"
        return {
            "codec": "gif",
            "pix_fmt_out": "pal8",
            "quality": None,
            "output_params": ["-vf", graph, "-loop", "0"],
        }
    raise UsageError(f"cine output must end in .mp4 or .gif, not {suffix!r}")


def stream_frames(
    out: str | os.PathLike[str],
    frames: Iterable[npt.NDArray[np.uint8]],
    *,
    size: tuple[int, int],
    fps: float,
    suffix: str | None = None,
) -> int:
    """Encode ``frames`` (each ``(height, width, 3)`` uint8) into ``out`` at ``fps``.

    Parameters
    ----------
    out
        The file to write (the caller makes it atomic).
    frames
        RGB frames, consumed one at a time (a generator keeps memory flat). Odd widths and
        heights are padded by one black row/column (yuv420p needs even sizes), never rescaled.
    size
        ``(width, height)`` of every frame.
    fps
        Frames per second (> 0; fractions such as 0.5 are kept).
    suffix
        ``".mp4"`` or ``".gif"`` (default: ``out``'s suffix).

    Returns
    -------
    int
        The number of frames written.

    Raises
    ------
    UsageError
        A bad suffix or frame rate, or a frame of another size.
    """
    import imageio_ffmpeg

    params = cine_writer_params((suffix or os.path.splitext(os.fspath(out))[1]).lower())
    if not (fps > 0 and math.isfinite(fps)):
        raise UsageError(f"frame rate must be positive, not {fps!r}")
    width, height = size
    pad_w, pad_h = width % 2, height % 2
    writer = imageio_ffmpeg.write_frames(
        os.fspath(out),
        (width + pad_w, height + pad_h),
        fps=fps,
        macro_block_size=1,
        ffmpeg_log_level="error",
        **params,
    )
    writer.send(None)
    n = 0
    try:
        for frame in frames:
            if frame.shape[:2] != (height, width):
                raise UsageError(
                    f"frame {n} is {frame.shape[1]}x{frame.shape[0]}, not {width}x{height}"
                )
            if pad_w or pad_h:
                frame = np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)))
            writer.send(np.ascontiguousarray(frame[..., :3], dtype=np.uint8))
            n += 1
    finally:
        writer.close()
    return n
