"""The 2D display pipeline of PS3.3 C.11 / PS3.4 N.2, as a radiology viewer shows an image.

Grayscale: stored values → Modality LUT (Rescale Slope/Intercept or Modality LUT Sequence) →
VOI LUT (a window with its VOI LUT Function LINEAR / LINEAR_EXACT / SIGMOID, or a VOI LUT
Sequence item) → Presentation LUT (MONOCHROME1 and Presentation LUT Shape INVERSE invert) →
``uint8``. Colour: PALETTE COLOR through its (possibly segmented, possibly 16-bit) palette;
YBR_FULL / YBR_FULL_422 are converted to RGB by the decoder (pydicom's ``as_rgb``), YBR_RCT /
YBR_ICT by the JPEG 2000 codec; planar configuration is undone by the decoder. Overlays
(60xx,3000) are burnt in on request.

Everything after decoding is a pure function of one frame and a :class:`DisplayParams` built once
per file by :meth:`DisplayParams.from_dataset`. Work is per 2D frame (int32 or float32, never a
float64 copy of a volume). The output is 8 bits per channel; a 16-bit palette or 16-bit RGB is
scaled by its declared depth (except a palette declared 16-bit whose entries are all <= 255, a
known writer error, which is used as 8-bit and noted), nothing is clipped silently.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import DicomReadError, UsageError

#: VOI LUT Function values (0028,1056) defined by PS3.3 C.11.2.1.3
VOI_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")

#: ``window=MINMAX`` spans each frame's own value range, ignoring the file's windows and LUTs
MINMAX = "min-max"

_GRAY = ("MONOCHROME1", "MONOCHROME2")
_RGB = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT", "YBR_PARTIAL_420")


@dataclass(frozen=True, slots=True)
class Window:
    """A VOI window: centre and width in modality units, with its name and VOI LUT Function.

    Examples
    --------
    >>> Window(40, 400, "SOFT TISSUE").function
    'LINEAR'
    """

    center: float
    width: float
    explanation: str = ""
    function: str = "LINEAR"

    def __post_init__(self) -> None:
        func = (self.function or "LINEAR").strip().upper()
        if func not in VOI_FUNCTIONS:
            raise UsageError(
                f"unknown (0028,1056) VOI LUT Function {self.function!r}; "
                f"expected one of {', '.join(VOI_FUNCTIONS)}"
            )
        object.__setattr__(self, "function", func)
        if not (math.isfinite(self.center) and math.isfinite(self.width)):
            raise UsageError(f"window centre/width must be finite, got {self.center}/{self.width}")
        if func == "LINEAR" and self.width < 1:
            raise UsageError(f"(0028,1051) Window Width {self.width} must be >= 1 for LINEAR")
        if self.width <= 0:
            raise UsageError(f"(0028,1051) Window Width {self.width} must be > 0 for {func}")


@dataclass(frozen=True, slots=True)
class LookupTable:
    """A LUT from a Modality or VOI LUT Sequence item: ``(0028,3002)`` descriptor and data."""

    first_mapped: int
    bits: int
    data: npt.NDArray[np.uint16]
    explanation: str = ""

    def apply(self, values: npt.NDArray[Any]) -> npt.NDArray[np.uint16]:
        """Map ``values``; inputs below/above the table take its first/last entry (C.11.2.1.1)."""
        index = np.clip(values.astype(np.int64, copy=False) - self.first_mapped, 0,
                        len(self.data) - 1)  # fmt: skip
        return self.data[index]


@dataclass(frozen=True, slots=True)
class Overlay:
    """One overlay plane (60xx): a bitmap placed at its origin, for some frames."""

    group: int
    origin: tuple[int, int]  # (row, column), 1-based as in (60xx,0050)
    bitmap: npt.NDArray[np.uint8]  # (frames, rows, cols) of 0/1
    first_frame: int = 1  # (60xx,0051) Image Frame Origin, 1-based
    kind: str = "G"
    description: str = ""


@dataclass(frozen=True)
class DisplayParams:
    """Everything the display pipeline needs from one image's header.

    Build it with :meth:`from_dataset`; the functions in this module never read files.
    """

    photometric: str
    bits_stored: int = 8
    signed: bool = False
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    modality_lut: LookupTable | None = None
    windows: tuple[Window, ...] = ()
    voi_luts: tuple[LookupTable, ...] = ()
    inverse: bool = False
    palette: npt.NDArray[np.uint8] | None = None  # (n, 3) RGB, 8 bits per entry
    palette_first: int = 0
    overlays: tuple[Overlay, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def is_color(self) -> bool:
        """True for RGB/YBR/PALETTE COLOR images (no VOI applies)."""
        return not self.photometric.startswith("MONOCHROME")

    @classmethod
    def from_dataset(cls, ds: Any, *, frame: int = 0, name: str = "") -> DisplayParams:
        """Read the display attributes of ``ds`` (top level, shared or ``frame``'s groups).

        Parameters
        ----------
        ds
            A pydicom Dataset (pixel data need not be loaded).
        frame
            0-based frame, for per-frame functional groups of enhanced images.
        name
            The file, for messages.
        """
        where = name or str(getattr(ds, "filename", "") or "dataset")
        pi = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
        if not pi:
            raise DicomReadError(f"{where}: no (0028,0004) Photometric Interpretation")
        if pi not in _GRAY and pi not in _RGB and pi != "PALETTE COLOR":
            raise DicomReadError(
                f"{where}: (0028,0004) Photometric Interpretation {pi!r} is not supported"
            )
        notes: list[str] = []
        kwargs: dict[str, Any] = {
            "photometric": pi,
            "bits_stored": int(ds.get("BitsStored", ds.get("BitsAllocated", 8)) or 8),
            "signed": int(ds.get("PixelRepresentation", 0) or 0) == 1,
        }
        if pi in _GRAY:
            kwargs.update(_modality(ds, frame, where, notes))
            windows, voi_luts = _voi(ds, frame, where, notes)
            if _modality_output_signed(kwargs):
                # (0028,3002) first mapped value is SS when the Modality LUT output is signed
                # (C.11.2.1.1); read as US it shows up as 32768..65535
                voi_luts = tuple(
                    LookupTable(t.first_mapped - 65536, t.bits, t.data, t.explanation)
                    if t.first_mapped >= 32768
                    else t
                    for t in voi_luts
                )
            kwargs["windows"] = windows
            kwargs["voi_luts"] = voi_luts
            shape = str(_find(ds, "PresentationLUTShape", frame) or "").strip().upper()
            kwargs["inverse"] = pi == "MONOCHROME1" or shape == "INVERSE"
        elif pi == "PALETTE COLOR":
            kwargs["palette"], kwargs["palette_first"] = _palette(ds, where, notes)
        kwargs["overlays"] = _overlays(ds, where, notes)
        kwargs["notes"] = tuple(notes)
        return cls(**kwargs)


# -- header helpers -------------------------------------------------------------------------------
def _find(ds: Any, keyword: str, frame: int) -> Any:
    """``keyword`` from the frame's functional groups, the shared groups, or the top level."""
    for seq_name in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        seq = ds.get(seq_name)
        if not seq:
            continue
        item = seq[min(frame, len(seq) - 1)] if seq_name.startswith("PerFrame") else seq[0]
        for elem in item:
            if elem.VR == "SQ" and elem.value:
                inner = elem.value[0]
                if keyword in inner:
                    return inner.get(keyword)
    return ds.get(keyword)


def _numbers(value: Any) -> list[float]:
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes | int | float) or not hasattr(value, "__iter__"):
        value = [value]
    return [float(v) for v in value]


def _little_endian(ds: Any) -> bool:
    """Byte order of OW values as read (big endian only for Explicit VR Big Endian)."""
    ts = getattr(getattr(ds, "file_meta", None), "get", lambda *_: None)("TransferSyntaxUID")
    return str(ts or "") != "1.2.840.10008.1.2.2"


def _lut(item: Any, where: str, what: str, little: bool = True) -> LookupTable | None:
    desc = item.get("LUTDescriptor")
    data = item.get("LUTData")
    if not desc or data is None or (hasattr(data, "__len__") and len(data) == 0):
        return None
    desc = [int(v) for v in desc]
    if len(desc) != 3:
        raise DicomReadError(f"{where}: {what} (0028,3002) LUT Descriptor must have 3 values")
    n = desc[0] or 65536
    first = desc[1]
    bits = desc[2]
    if not 8 <= bits <= 16:
        raise DicomReadError(f"{where}: {what} (0028,3002) LUT Descriptor bits {bits} not 8-16")
    raw = item["LUTData"]
    if isinstance(raw.value, bytes):
        order = "<" if little else ">"
        table = np.frombuffer(raw.value, dtype=f"{order}u2")
    else:
        table = np.asarray(list(data) if not isinstance(data, int) else [data], dtype=np.int64)
    if len(table) < n:
        raise DicomReadError(
            f"{where}: {what} has {len(table)} (0028,3006) LUT Data entries, descriptor says {n}"
        )
    out = np.asarray(table[:n], dtype=np.uint16)
    return LookupTable(first, bits, out, str(item.get("LUTExplanation", "") or ""))


def _modality_output_signed(kwargs: dict[str, Any]) -> bool:
    """Whether the Modality LUT output can be negative (signed stored values or rescale)."""
    if kwargs.get("modality_lut") is not None:
        return False  # a Modality LUT outputs unsigned values
    if kwargs.get("signed"):
        return True
    return bool(kwargs.get("rescale_intercept", 0.0) < 0 or kwargs.get("rescale_slope", 1.0) < 0)


def _modality(ds: Any, frame: int, where: str, notes: list[str]) -> dict[str, Any]:
    seq = ds.get("ModalityLUTSequence")
    if seq:
        lut = _lut(seq[0], where, "Modality LUT Sequence", _little_endian(ds))
        if lut is not None:
            if lut.first_mapped >= 32768 and int(ds.get("PixelRepresentation", 0) or 0) == 1:
                lut = LookupTable(lut.first_mapped - 65536, lut.bits, lut.data, lut.explanation)
            return {"modality_lut": lut}
        notes.append("empty (0028,3000) Modality LUT Sequence ignored")
    slope = _numbers(_find(ds, "RescaleSlope", frame))
    intercept = _numbers(_find(ds, "RescaleIntercept", frame))
    s = slope[0] if slope else 1.0
    b = intercept[0] if intercept else 0.0
    if not (math.isfinite(s) and math.isfinite(b)) or s == 0:
        raise DicomReadError(f"{where}: (0028,1053) Rescale Slope {s} / Intercept {b} invalid")
    return {"rescale_slope": s, "rescale_intercept": b}


def _voi(
    ds: Any, frame: int, where: str, notes: list[str]
) -> tuple[tuple[Window, ...], tuple[LookupTable, ...]]:
    centers = _numbers(_find(ds, "WindowCenter", frame))
    widths = _numbers(_find(ds, "WindowWidth", frame))
    names = _find(ds, "WindowCenterWidthExplanation", frame)
    if isinstance(names, str) or names is None:
        names = [names or ""]
    names = [str(n) for n in names]
    func = str(_find(ds, "VOILUTFunction", frame) or "LINEAR").strip().upper() or "LINEAR"
    if func not in VOI_FUNCTIONS:
        notes.append(f"unknown (0028,1056) VOI LUT Function {func!r}; LINEAR used")
        func = "LINEAR"
    if len(centers) != len(widths):
        notes.append(
            f"(0028,1050) has {len(centers)} Window Center(s) but (0028,1051) "
            f"{len(widths)} Width(s); the unmatched ones are ignored"
        )
    windows = []
    for i, (c, w) in enumerate(zip(centers, widths, strict=False)):
        name = names[i] if i < len(names) else ""
        try:
            windows.append(Window(c, w, name, func))
        except UsageError as exc:
            notes.append(f"window {i + 1} ignored: {exc}")
    luts = []
    for i, item in enumerate(ds.get("VOILUTSequence") or []):
        lut = _lut(item, where, f"VOI LUT Sequence item {i + 1}", _little_endian(ds))
        if lut is None:
            notes.append(f"empty VOI LUT Sequence item {i + 1} ignored")
        else:
            luts.append(lut)
    return tuple(windows), tuple(luts)


def _palette(ds: Any, where: str, notes: list[str]) -> tuple[npt.NDArray[np.uint8], int]:
    from pydicom.pixels import apply_color_lut

    desc = ds.get("RedPaletteColorLookupTableDescriptor")
    if not desc:
        raise DicomReadError(
            f"{where}: PALETTE COLOR without (0028,1101) Red Palette Color LUT Descriptor"
        )
    n = int(desc[0]) or 65536
    first = int(desc[1])
    try:
        # pydicom resolves normal, segmented and 8-in-16-bit tables; ask it for every entry once
        table = apply_color_lut(np.arange(first, first + n, dtype=np.int64), ds)
    except (ValueError, AttributeError, KeyError) as exc:
        raise DicomReadError(f"{where}: palette colour LUT unusable: {exc}") from exc
    table = table[..., :3]
    if table.dtype == np.uint8:
        return np.ascontiguousarray(table), first
    if int(table.max()) <= 255:
        # declared 16 bits per entry but holding 8-bit values (a known writer error): scaling
        # by 65535 would show a black image, so the values are taken as they are
        notes.append("palette declared 16-bit holds only 8-bit values; used as 8-bit")
        return np.ascontiguousarray(table.astype(np.uint8)), first
    # 16 bits per entry (PS3.3 C.7.6.3.1.5): scale the full 16-bit range onto 8 bits
    scaled = (table.astype(np.uint32) * 255 + 32767) // 65535
    return np.ascontiguousarray(scaled.astype(np.uint8)), first


def _overlays(ds: Any, where: str, notes: list[str]) -> tuple[Overlay, ...]:
    out = []
    for group in range(0x6000, 0x6020, 2):
        if (group, 0x3000) not in ds:
            if (group, 0x0010) in ds and ds.get((group, 0x0102)) not in (None, ""):
                notes.append(f"overlay {group:04X} embedded in pixel data bits: not drawn")
            continue
        try:
            if ds.get((group, 0x0010)) is None or ds[group, 0x0010].value in (None, ""):
                raise ValueError(f"no ({group:04X},0010) Overlay Rows")
            rows = int(ds[group, 0x0010].value)
            cols = int(ds[group, 0x0011].value)
            origin_raw = ds.get((group, 0x0050))
            origin = (1, 1) if origin_raw is None else tuple(int(v) for v in origin_raw.value)
            nframes = int(ds.get((group, 0x0015)).value) if (group, 0x0015) in ds else 1
            first = int(ds.get((group, 0x0051)).value) if (group, 0x0051) in ds else 1
            data = ds[group, 0x3000].value
            bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
            needed = rows * cols * nframes
            if bits.size < needed:
                raise ValueError(f"{bits.size} bits of overlay data, {needed} needed")
            bitmap = bits[:needed].reshape(nframes, rows, cols)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            notes.append(f"overlay {group:04X} not drawn: {exc}")
            continue
        kind = str(ds.get((group, 0x0040)).value or "G") if (group, 0x0040) in ds else "G"
        desc = str(ds.get((group, 0x0022)).value or "") if (group, 0x0022) in ds else ""
        out.append(Overlay(group, (origin[0], origin[1]), bitmap, first, kind, desc))
    return tuple(out)


# -- pure pipeline -----------------------------------------------------------------------------
def modality_values(stored: npt.NDArray[Any], params: DisplayParams) -> npt.NDArray[Any]:
    """Apply the Modality LUT to one grayscale frame.

    Returns int32 when the rescale is integral (CT HU), float32 otherwise, or the LUT's uint16
    output; never float64.
    """
    if params.modality_lut is not None:
        return params.modality_lut.apply(stored)
    s, b = params.rescale_slope, params.rescale_intercept
    if s == 1.0 and float(b).is_integer():
        return stored.astype(np.int32) + np.int32(b)
    if float(s).is_integer() and float(b).is_integer():
        return stored.astype(np.int32) * np.int32(s) + np.int32(b)
    return stored.astype(np.float32) * np.float32(s) + np.float32(b)


def apply_window(values: npt.NDArray[Any], window: Window) -> npt.NDArray[np.uint8]:
    """Map modality values through a window to 0..255 per PS3.3 C.11.2.1.2 / C.11.2.1.3.

    Examples
    --------
    >>> apply_window(np.array([-1000, 40, 1000]), Window(40, 400)).tolist()
    [0, 128, 255]
    """
    x = values.astype(np.float32, copy=False)
    c = np.float32(window.center)
    w = np.float32(window.width)
    if window.function == "LINEAR":
        y = ((x - (c - np.float32(0.5))) / (w - 1) + np.float32(0.5)) * 255
    elif window.function == "LINEAR_EXACT":
        y = ((x - c) / w + np.float32(0.5)) * 255
    else:  # SIGMOID
        y = np.float32(255) / (1 + np.exp(np.float32(-4) * (x - c) / w))
    # the LINEAR(_EXACT) branches are exactly 0 / 255 outside the window, as the standard says
    return np.floor(np.clip(y, 0, 255) + np.float32(0.5)).astype(np.uint8)


def apply_lut_to_display(values: npt.NDArray[Any], lut: LookupTable) -> npt.NDArray[np.uint8]:
    """Map modality values through a VOI LUT Sequence item, scaled from its bits to 0..255."""
    out = lut.apply(values).astype(np.uint32)
    top = (1 << lut.bits) - 1
    return ((np.minimum(out, top) * 255 + top // 2) // top).astype(np.uint8)


def auto_window(values: npt.NDArray[Any]) -> Window:
    """Make a LINEAR_EXACT window spanning the frame's full range (when the file has none)."""
    lo = float(np.min(values))
    hi = float(np.max(values))
    return Window((lo + hi) / 2, max(hi - lo, 1.0), "min-max", "LINEAR_EXACT")


def choose_window(params: DisplayParams, window: Window | int | str | None) -> Window | None:
    """Resolve a window choice: a :class:`Window`, a 0-based index, or an explanation name.

    ``None`` picks the file's first window, if any.
    """
    if isinstance(window, Window):
        return window
    if window is None:
        return params.windows[0] if params.windows else None
    if isinstance(window, int):
        if not 0 <= window < len(params.windows):
            raise UsageError(
                f"window {window} does not exist; the file has {len(params.windows)} "
                f"window(s): {_window_list(params)}"
            )
        return params.windows[window]
    for w in params.windows:
        if w.explanation.strip().lower() == window.strip().lower():
            return w
    raise UsageError(f"no window named {window!r}; the file has: {_window_list(params)}")


def _window_list(params: DisplayParams) -> str:
    if not params.windows:
        return "none"
    return ", ".join(
        f"{i}: {w.explanation or 'unnamed'} C{w.center:g}/W{w.width:g}"
        for i, w in enumerate(params.windows)
    )


def to_display(
    frame: npt.NDArray[Any],
    params: DisplayParams,
    *,
    window: Window | int | str | None = None,
    voi_lut: int | None = None,
    overlays: bool = False,
    frame_index: int = 0,
) -> npt.NDArray[np.uint8]:
    """Turn one decoded frame into display pixels.

    Parameters
    ----------
    frame
        Stored values ``(rows, cols)``, or ``(rows, cols, 3)`` RGB as the decoder gives it (YBR
        already converted by pydicom's ``as_rgb``).
    params
        From :meth:`DisplayParams.from_dataset`.
    window
        Grayscale only: a :class:`Window`, the index or the explanation of one of the file's
        windows, or :data:`MINMAX`; ``None`` takes the file's first window, or its first VOI
        LUT, or the frame's min-max.
    voi_lut
        Grayscale only: use the file's VOI LUT Sequence item with this 0-based index instead.
    overlays
        Burn in the overlay planes (white) that apply to this frame.
    frame_index
        0-based frame number (for multi-frame overlays).

    Returns
    -------
    numpy.ndarray
        ``uint8`` ``(rows, cols)`` for grayscale, ``(rows, cols, 3)`` for colour.
    """
    if params.photometric in _GRAY:
        if frame.ndim != 2:
            raise UsageError(f"a grayscale frame must be 2D, got shape {frame.shape}")
        values = modality_values(frame, params)
        if voi_lut is not None:
            if not 0 <= voi_lut < len(params.voi_luts):
                raise UsageError(
                    f"VOI LUT {voi_lut} does not exist; the file has {len(params.voi_luts)}"
                )
            out = apply_lut_to_display(values, params.voi_luts[voi_lut])
        elif isinstance(window, str) and window == MINMAX:
            out = apply_window(values, auto_window(values))
        else:
            chosen = choose_window(params, window)
            if chosen is None and params.voi_luts:
                out = apply_lut_to_display(values, params.voi_luts[0])
            else:
                out = apply_window(values, chosen or auto_window(values))
        if params.inverse:
            out = np.uint8(255) - out
    elif params.photometric == "PALETTE COLOR":
        assert params.palette is not None
        index = np.clip(frame.astype(np.int64) - params.palette_first, 0, len(params.palette) - 1)
        out = params.palette[index]
    else:
        if frame.ndim != 3 or frame.shape[-1] != 3:
            raise UsageError(f"a colour frame must be (rows, cols, 3), got shape {frame.shape}")
        if frame.dtype == np.uint8:
            out = frame
        else:
            top = (1 << params.bits_stored) - 1
            out = ((frame.astype(np.uint32) * 255 + top // 2) // top).astype(np.uint8)
    if overlays and params.overlays:
        out = burn_overlays(out, params.overlays, frame_index)
    return np.ascontiguousarray(out)


def burn_overlays(
    image: npt.NDArray[np.uint8], planes: Sequence[Overlay], frame_index: int = 0
) -> npt.NDArray[np.uint8]:
    """Draw overlay bitmaps in white onto a copy of ``image`` (clipped to the image)."""
    out = image.copy()
    rows, cols = out.shape[:2]
    for plane in planes:
        k = frame_index + 1 - plane.first_frame
        if not 0 <= k < plane.bitmap.shape[0]:
            continue
        bitmap = plane.bitmap[k]
        r0, c0 = plane.origin[0] - 1, plane.origin[1] - 1
        rs, cs = max(r0, 0), max(c0, 0)
        re, ce = min(r0 + bitmap.shape[0], rows), min(c0 + bitmap.shape[1], cols)
        if rs >= re or cs >= ce:
            continue
        mask = bitmap[rs - r0 : re - r0, cs - c0 : ce - c0].astype(bool)
        out[rs:re, cs:ce][mask] = 255
    return out


# -- files -------------------------------------------------------------------------------------
def read_dataset(path: str | os.PathLike[str]) -> Any:
    """Read a DICOM file for display (a missing Transfer Syntax is taken from how it was read).

    Raises
    ------
    DicomReadError
        Not DICOM, or unreadable; the message names the file.
    """
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError
    from pydicom.uid import (
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
    )

    p = Path(path)
    try:
        try:
            ds = dcmread(p)
        except InvalidDicomError:
            ds = dcmread(p, force=True)
            if "PixelData" not in ds and "SOPClassUID" not in ds:
                raise
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError) as exc:
        raise DicomReadError(f"{p}: not a readable DICOM file: {exc}") from exc
    meta = ds.file_meta
    if "TransferSyntaxUID" not in meta:
        implicit, little = ds.original_encoding
        meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian
            if implicit
            else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
        )
    return ds


def iter_display_frames(
    path: str | os.PathLike[str],
    *,
    window: Window | int | str | None = None,
    voi_lut: int | None = None,
    overlays: bool = False,
    ds: Any = None,
) -> Iterator[npt.NDArray[np.uint8]]:
    """Decode and display every frame of an image file, one frame at a time.

    Parameters
    ----------
    path
        The DICOM file.
    window, voi_lut, overlays
        As :func:`to_display`.
    ds
        The already-read dataset, to avoid reading the header twice.

    Yields
    ------
    numpy.ndarray
        ``uint8`` frames, ``(rows, cols)`` or ``(rows, cols, 3)``.
    """
    from pydicom.pixels import iter_pixels

    if ds is None:
        ds = read_dataset(path)
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise DicomReadError(f"{path}: no (7FE0,0010) Pixel Data; not an image")
    enhanced = "PerFrameFunctionalGroupsSequence" in ds
    params = DisplayParams.from_dataset(ds, name=str(path))
    try:
        for k, frame in enumerate(iter_pixels(ds, as_rgb=True)):
            p = DisplayParams.from_dataset(ds, frame=k, name=str(path)) if enhanced else params
            yield to_display(
                frame, p, window=window, voi_lut=voi_lut, overlays=overlays, frame_index=k
            )
    except (ValueError, AttributeError, NotImplementedError, RuntimeError, KeyError) as exc:
        raise DicomReadError(f"{path}: pixel data cannot be decoded: {exc}") from exc
