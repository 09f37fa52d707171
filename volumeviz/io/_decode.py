"""Pixel decoders fail in many ways on bad data; each failure becomes one DicomReadError.

pydicom's decoders raise ValueError, RuntimeError, struct.error, IndexError ...; the Rust RLE
decoder (pylibjpeg-rle, through pyo3) *panics* on some corrupt streams, which reaches Python as
``pyo3_runtime.PanicException``, a ``BaseException`` that ``except Exception`` does not catch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from volumeviz.errors import DicomReadError, VolumeVizError

__all__ = ["decoding"]

#: never turned into a data error
_PASS = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError, VolumeVizError)


@contextlib.contextmanager
def decoding(
    source: object, what: str = "(7FE0,0010) Pixel Data cannot be decoded"
) -> Iterator[None]:
    """Turn any decoder failure inside the block into ``DicomReadError("{source}: {what}: ...")``.

    Examples
    --------
    >>> with decoding("a.dcm"):
    ...     raise IndexError("index out of bounds: the len is 1024 but the index is 1025")
    Traceback (most recent call last):
    ...
    volumeviz.errors.DicomReadError: a.dcm: (7FE0,0010) Pixel Data cannot be decoded: IndexError: index out of bounds: the len is 1024 but the index is 1025
    """  # noqa: E501
    try:
        yield
    except _PASS:
        raise
    except BaseException as exc:  # a pyo3 panic is a BaseException
        text = " ".join(str(exc).split())[:240]
        raise DicomReadError(f"{source}: {what}: {type(exc).__name__}: {text}") from exc
