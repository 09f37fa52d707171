"""A bounded inflate for Deflated Explicit VR Little Endian files (PS3.5 A.5).

pydicom reads a deflated file by inflating everything after the File Meta in one
``zlib.decompress`` call. Deflate reaches about 1000:1 on zeros, so a 4 MB file can make any
reader (discovery, export, ultrasound, highdicom's SEG reader) allocate 4 GB before a single
header value is checked. :func:`install` gives pydicom's file reader a ``zlib`` whose
``decompress`` stops at :func:`limit_for` the compressed size and raises
:class:`DeflateLimitError` (a ``ValueError``), which every reader already turns into its one-line
"cannot be read as DICOM" error naming the file. Everything else of :mod:`zlib` is unchanged.
"""

from __future__ import annotations

import zlib
from types import SimpleNamespace
from typing import Any

__all__ = ["FREE_BYTES", "MAX_BYTES", "MAX_RATIO", "DeflateLimitError", "install", "limit_for"]

#: a dataset may always inflate to this many bytes (a 512x512x2 slice is 0.5 MiB)
FREE_BYTES = 64 * 2**20
#: above FREE_BYTES, at most this many times the compressed bytes (images deflate 2-20:1;
#: a mostly black one maybe 100:1; a zero-filled bomb about 1000:1)
MAX_RATIO = 200
#: and never more than this (the largest image volumeviz reads: 2^30 voxels of 16 bits)
MAX_BYTES = 2**31


class DeflateLimitError(ValueError):
    """A deflated dataset inflates beyond :func:`limit_for` its compressed size."""


def limit_for(compressed: int) -> int:
    """Most bytes a deflated dataset of ``compressed`` bytes may inflate to."""
    return min(MAX_BYTES, max(FREE_BYTES, MAX_RATIO * compressed))


def bounded_decompress(data: bytes, wbits: int = zlib.MAX_WBITS, bufsize: int = 0) -> bytes:
    """``zlib.decompress`` that refuses to produce more than :func:`limit_for` ``len(data)``.

    Raises
    ------
    DeflateLimitError
        The stream inflates beyond the limit (nothing beyond it is allocated).
    """
    limit = limit_for(len(data))
    inflater = zlib.decompressobj(wbits)
    chunks: list[bytes] = []
    total = 0
    pending = data
    while True:  # in 16 MiB steps: a bomb costs at most the limit, not its whole claim
        chunk = inflater.decompress(pending, 16 * 2**20)
        total += len(chunk)
        chunks.append(chunk)
        if total > limit:
            raise DeflateLimitError(
                f"(0002,0010) Transfer Syntax UID is Deflated Explicit VR Little Endian and its "
                f"{len(data)} compressed bytes inflate beyond {limit} bytes (more than "
                f"{MAX_RATIO}x above {FREE_BYTES // 2**20} MiB); refused as a deflate bomb"
            )
        pending = inflater.unconsumed_tail
        if not pending and (not chunk or inflater.eof):
            break
    chunks.append(inflater.flush())
    return b"".join(chunks)


def install() -> None:
    """Make pydicom's file reader inflate through :func:`bounded_decompress` (idempotent)."""
    import pydicom.filereader as reader

    current: Any = getattr(reader, "zlib", None)
    if current is None or getattr(current, "volumeviz_bounded", False):
        return
    shim = SimpleNamespace(**{k: getattr(zlib, k) for k in dir(zlib) if not k.startswith("__")})
    shim.decompress = bounded_decompress
    shim.volumeviz_bounded = True
    reader.zlib = shim  # type: ignore[assignment]
