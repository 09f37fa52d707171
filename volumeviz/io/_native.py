"""Native (uncompressed, little-endian) pixel data read straight from the file.

The header scan (:mod:`volumeviz.io.discover`) already walked every file up to (7FE0,0010) Pixel
Data and kept its byte offset (:attr:`SliceRef.pixel_offset`). For plain single-frame greyscale
images this module reads those bytes with ``numpy.fromfile`` and applies the modality LUT
(rescale slope and intercept) itself, instead of SimpleITK's ``ImageSeriesReader``, whose GDCM
opens and parses each file again several times (about 1,000 seeks a file). On the 300-file
512x512 CT of ``scripts/bench_load.py`` this takes the pixel step from 0.6 s of CPU to about
0.1 s, and the process never imports SimpleITK (0.2 s, 90 MB).

SimpleITK stays the reader of record: this path is taken only for the cases
``tests/io/test_native_read.py`` proves voxel-identical to SimpleITK on every real series in
the shared data (and on synthetic edge cases):

- transfer syntax Implicit or Explicit VR Little Endian (PS3.5 A.1, A.2), a single frame,
  (0028,0002) Samples per Pixel 1, (0028,0004) MONOCHROME2;
- (0028,0100) Bits Allocated 8 or 16 and (0028,0102) High Bit = (0028,0101) Bits Stored - 1;
- every stored value inside the Bits Stored range. A file with other bits set (overlay planes
  in unused bits, garbage) makes the whole series go to SimpleITK, which decides what they
  mean; nothing is masked here.

Output type and values are SimpleITK's: ``int16`` when every rescaled value fits (``"int32"``
asked for: int16 if all fit, else int32), ``float32`` of ``stored * slope + intercept`` computed
in float64 otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.model.series import SliceRef

__all__ = ["NATIVE_LE_SYNTAXES", "eligible", "read_native"]

#: Implicit VR Little Endian, Explicit VR Little Endian: pixel bytes stored as they are in memory
NATIVE_LE_SYNTAXES = frozenset({"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"})
#: reader threads (numpy releases the GIL while it reads a file and while it converts)
THREADS = max(1, min(2, os.cpu_count() or 1))
_INT16 = np.iinfo(np.int16)


class _Unclean(Exception):
    """A stored value outside Bits Stored: leave the series to SimpleITK."""


class _Widen(Exception):
    """A rescaled value outside int16 (``"int32"`` asked for): read again into int32."""


def eligible(slices: Sequence[SliceRef]) -> bool:
    """Whether every slice is plain native greyscale this module may read (see the module notes).

    Examples
    --------
    >>> ct = SliceRef("a", None, 2, 2, None, None, None, bits_stored=12, high_bit=11,
    ...               bits_allocated=16, transfer_syntax="1.2.840.10008.1.2.1", pixel_offset=900)
    >>> eligible([ct])
    True
    >>> from dataclasses import replace
    >>> eligible([replace(ct, photometric="MONOCHROME1")]), eligible([replace(ct, high_bit=15)])
    (False, False)
    >>> eligible([replace(ct, mosaic=(0, 7))])  # one tile of a mosaic is not the file's plane
    False
    """
    if not slices:
        return False
    rows, cols = slices[0].rows, slices[0].cols
    for s in slices:
        if (
            s.pixel_offset is None
            or s.frame is not None
            or s.mosaic is not None  # a tile of a Siemens mosaic, not the file's whole plane
            or s.n_frames != 1
            or s.samples != 1
            or s.photometric != "MONOCHROME2"
            or s.transfer_syntax not in NATIVE_LE_SYNTAXES
            or s.bits_allocated not in (8, 16)
            or not 1 <= s.bits_stored <= s.bits_allocated
            or s.high_bit != s.bits_stored - 1
            or (s.rows, s.cols) != (rows, cols)
        ):
            return False
    return True


def _raw_dtype(s: SliceRef) -> np.dtype[Any]:
    kind = "i" if s.signed else "u"
    return np.dtype(f"<{kind}{s.bits_allocated // 8}")


def _stored(s: SliceRef) -> npt.NDArray[Any]:
    """The stored values of one file, checked against Bits Stored."""
    count = s.rows * s.cols
    raw = np.fromfile(s.path, dtype=_raw_dtype(s), count=count, offset=int(s.pixel_offset or 0))
    if raw.size != count:
        raise OSError(f"{s.path}: {raw.size} of {count} pixels read")
    if s.bits_stored < s.bits_allocated and raw.size:
        if s.signed:
            half = 1 << (s.bits_stored - 1)
            if int(raw.min()) < -half or int(raw.max()) > half - 1:
                raise _Unclean
        elif int(raw.max()) >= 1 << s.bits_stored:
            raise _Unclean
    return raw.reshape(s.rows, s.cols)


def _integral(x: float) -> bool:
    return float(x).is_integer()


def _fill(s: SliceRef, out: npt.NDArray[Any], k: int, exact: bool) -> None:
    """Rescale slice ``s`` into ``out[k]`` (the modality LUT, PS3.3 C.11.1).

    ``exact``: the caller knows every stored value rescaled fits ``out``'s type (int16).
    """
    if exact and s.bits_allocated == 16 and s.slope == 1 and (s.signed or s.bits_stored < 16):
        _fill_in_place(s, out[k])
        return
    raw = _stored(s)
    if out.dtype == np.float32:
        out[k] = raw.astype(np.float64) * float(s.slope) + float(s.intercept)
        return
    # choose_dtype gave int16/int32 only when stored * slope + intercept fits int32
    slope, intercept = int(s.slope), int(s.intercept)
    if slope == 1:
        values = np.add(raw, np.int32(intercept), dtype=np.int32)
    else:
        values = np.multiply(raw, np.int32(slope), dtype=np.int32)
        values += np.int32(intercept)
    if out.dtype == np.int16 and values.size:
        if int(values.min()) < _INT16.min or int(values.max()) > _INT16.max:
            raise _Widen
    out[k] = values


def _fill_in_place(s: SliceRef, plane: npt.NDArray[np.int16]) -> None:
    """16-bit stored values that are their own int16 value: read into ``plane``, add in place."""
    with open(s.path, "rb") as fh:
        fh.seek(int(s.pixel_offset or 0))
        got = fh.readinto(plane.data.cast("B"))
    if got != plane.nbytes:
        raise OSError(f"{s.path}: {got} of {plane.nbytes} pixel bytes read")
    if s.bits_stored < 16 and plane.size:
        if s.signed:
            half = 1 << (s.bits_stored - 1)
            if int(plane.min()) < -half or int(plane.max()) > half - 1:
                raise _Unclean
        elif int(plane.view(np.uint16).max()) >= 1 << s.bits_stored:
            raise _Unclean
    if s.intercept:
        np.add(plane, np.int16(int(s.intercept)), out=plane)


def _read_into(slices: Sequence[SliceRef], out: npt.NDArray[Any], exact: bool) -> None:
    if THREADS > 1 and len(slices) > 1:
        with ThreadPoolExecutor(THREADS, thread_name_prefix="volumeviz-native") as ex:
            jobs = [ex.submit(_fill, s, out, k, exact) for k, s in enumerate(slices)]
            try:
                for job in jobs:
                    job.result()
            except BaseException:
                for job in jobs:
                    job.cancel()
                raise
    else:
        for k, s in enumerate(slices):
            _fill(s, out, k, exact)


def read_native(slices: Sequence[SliceRef], dtype: str) -> npt.NDArray[Any] | None:
    """Read the sorted ``slices`` as one read-only ``(k, j, i)`` array, or None.

    ``dtype`` is :func:`volumeviz.io.volume.choose_dtype`'s answer (``"int16"``, ``"int32"`` or
    ``"float32"``). None when the series is not :func:`eligible`, a stored value lies outside
    Bits Stored, the rescale does not fit the type, or a file cannot be read as the header
    scan found it: the caller then reads with SimpleITK (which reports real errors).
    """
    if dtype not in ("int16", "int32", "float32") or not eligible(slices):
        return None
    if dtype != "float32" and not all(
        _integral(s.slope) and _integral(s.intercept) for s in slices
    ):
        return None
    shape = (len(slices), slices[0].rows, slices[0].cols)
    target = np.dtype(np.float32 if dtype == "float32" else np.int16)
    try:
        out = np.empty(shape, target)
        try:
            _read_into(slices, out, exact=dtype == "int16")
        except _Widen:
            if dtype != "int32":
                return None  # choose_dtype promised int16: let SimpleITK have the last word
            out = np.empty(shape, np.int32)
            _read_into(slices, out, exact=False)
    except (_Unclean, _Widen, OSError, ValueError):
        return None
    out.setflags(write=False)
    return out
