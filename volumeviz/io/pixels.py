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

from volumeviz.errors import DicomReadError, HeaderError, UsageError
from volumeviz.io._decode import decoding
from volumeviz.io.header import Header, number_of_frames

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
        h = Header(ds, where)
        pi = h.code("PhotometricInterpretation", None, "")
        if not pi:
            raise DicomReadError(f"{where}: no (0028,0004) Photometric Interpretation")
        if pi not in _GRAY and pi not in _RGB and pi != "PALETTE COLOR":
            raise DicomReadError(
                f"{where}: (0028,0004) Photometric Interpretation {pi!r} is not supported"
            )
        notes = h.notes
        bits_allocated = h.integer("BitsAllocated", 8, low=1, high=64)
        kwargs: dict[str, Any] = {
            "photometric": pi,
            "bits_stored": h.integer("BitsStored", bits_allocated, low=1, high=32),
            "signed": h.integer("PixelRepresentation", 0, low=0, high=1) == 1,
        }
        if pi in _GRAY:
            kwargs.update(_modality(h, frame, kwargs["signed"]))
            windows, voi_luts = _voi(h, frame)
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
            shape = _find(h, "PresentationLUTShape", frame).code(
                "PresentationLUTShape", None, "", lenient=True
            )
            kwargs["inverse"] = pi == "MONOCHROME1" or shape == "INVERSE"
        elif pi == "PALETTE COLOR":
            kwargs["palette"], kwargs["palette_first"] = _palette(h)
        kwargs["overlays"] = _overlays(h)
        kwargs["notes"] = tuple(notes)
        return cls(**kwargs)


# -- header helpers -------------------------------------------------------------------------------
def _find(h: Header, keyword: str, frame: int) -> Header:
    """Where ``keyword`` is: the frame's functional groups, the shared groups, or the top level."""
    for seq_name, index in (
        ("PerFrameFunctionalGroupsSequence", frame),
        ("SharedFunctionalGroupsSequence", 0),
    ):
        groups = h.items(seq_name, lenient=True)
        if not groups:
            continue
        group = groups[min(index, len(groups) - 1)]
        for tag in list(group.ds.keys()):
            if not _is_sequence(group, tag):
                continue
            inner = group.item(tag, lenient=True)
            if inner is not None and keyword in inner:
                return inner
    return h


def _is_sequence(h: Header, tag: int) -> bool:
    from pydicom.datadict import dictionary_VR

    elem = h.element(tag)
    vr = getattr(elem, "VR", None)
    if vr is None:
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            return False
    return vr == "SQ"


def _little_endian(h: Header) -> bool:
    """Byte order of OW values as read (big endian only for Explicit VR Big Endian)."""
    meta = getattr(h.ds, "file_meta", None)
    if meta is None:
        return True
    return Header(meta, h.source).text("TransferSyntaxUID", lenient=True) != (
        "1.2.840.10008.1.2.2"
    )


def _table(h: Header, key: str | int, little: bool) -> npt.NDArray[np.int64]:
    """LUT entries (OW bytes in the file's byte order, or US/SS values) as int64."""
    value = h.raw(key)
    if value is None:
        return np.zeros(0, dtype=np.int64)
    if isinstance(value, bytes | bytearray):
        if len(value) % 2:
            raise h.error(key, value, f"has an odd length ({len(value)} bytes) for 16-bit entries")
        order = "<" if little else ">"
        return np.frombuffer(value, dtype=f"{order}u2").astype(np.int64)
    try:
        return np.asarray(
            [value] if isinstance(value, int | float) else list(value), dtype=np.int64
        )
    except (TypeError, ValueError, OverflowError):
        raise h.error(key, value, "is not a table of integers") from None


def _lut(item: Header, what: str, little: bool = True) -> LookupTable | None:
    desc = item.integers("LUTDescriptor", None, None, low=0, high=65535)
    if not desc or not item.has("LUTData"):
        return None
    if len(desc) != 3:
        raise item.error("LUTDescriptor", desc, f"({what}) must have 3 values")
    n = desc[0] or 65536
    first = desc[1]
    bits = desc[2]
    if not 8 <= bits <= 16:
        raise item.error("LUTDescriptor", desc, f"({what}) bits {bits} not 8-16")
    table = _table(item, "LUTData", little)
    if len(table) < n:
        raise item.error(
            "LUTData",
            f"{len(table)} entries",
            f"({what}): fewer than the {n} its (0028,3002) LUT Descriptor says",
        )
    out = np.asarray(np.clip(table[:n], 0, 65535), dtype=np.uint16)
    return LookupTable(first, bits, out, item.text("LUTExplanation", lenient=True))


def _modality_output_signed(kwargs: dict[str, Any]) -> bool:
    """Whether the Modality LUT output can be negative (signed stored values or rescale)."""
    if kwargs.get("modality_lut") is not None:
        return False  # a Modality LUT outputs unsigned values
    if kwargs.get("signed"):
        return True
    return bool(kwargs.get("rescale_intercept", 0.0) < 0 or kwargs.get("rescale_slope", 1.0) < 0)


#: largest |Rescale Slope| / |Intercept| accepted (as volumeviz.io.discover.MAX_RESCALE)
_MAX_RESCALE = 1e20


def _modality(h: Header, frame: int, signed: bool) -> dict[str, Any]:
    seq = h.items("ModalityLUTSequence")
    if seq:
        lut = _lut(seq[0], "Modality LUT Sequence", _little_endian(h))
        if lut is not None:
            if lut.first_mapped >= 32768 and signed:
                lut = LookupTable(lut.first_mapped - 65536, lut.bits, lut.data, lut.explanation)
            return {"modality_lut": lut}
        h.note(f"{h.source}: empty (0028,3000) Modality LUT Sequence ignored")
    where_s = _find(h, "RescaleSlope", frame)
    where_b = _find(h, "RescaleIntercept", frame)
    s = where_s.number("RescaleSlope", 1.0, low=-_MAX_RESCALE, high=_MAX_RESCALE)
    b = where_b.number("RescaleIntercept", 0.0, low=-_MAX_RESCALE, high=_MAX_RESCALE)
    if s == 0:
        raise where_s.error("RescaleSlope", where_s.raw("RescaleSlope"), "is 0")
    return {"rescale_slope": s, "rescale_intercept": b}


def _voi(h: Header, frame: int) -> tuple[tuple[Window, ...], tuple[LookupTable, ...]]:
    notes = h.notes
    at = _find(h, "WindowCenter", frame)
    # windows only suggest a display: a malformed one is noted and left out
    centers = at.numbers("WindowCenter", None, (), finite=False, lenient=True)
    widths = _find(h, "WindowWidth", frame).numbers(
        "WindowWidth", None, (), finite=False, lenient=True
    )
    names = list(
        _find(h, "WindowCenterWidthExplanation", frame).texts(
            "WindowCenterWidthExplanation", lenient=True
        )
    ) or [""]
    func = (
        _find(h, "VOILUTFunction", frame).code("VOILUTFunction", None, "", lenient=True)
        or "LINEAR"
    )
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
    for i, item in enumerate(h.items("VOILUTSequence")):
        lut = _lut(item, f"VOI LUT Sequence item {i + 1}", _little_endian(h))
        if lut is None:
            notes.append(f"empty VOI LUT Sequence item {i + 1} ignored")
        else:
            luts.append(lut)
    return tuple(windows), tuple(luts)


_PALETTE = (
    ("Red", 0x00281101, 0x00281201, 0x00281221),
    ("Green", 0x00281102, 0x00281202, 0x00281222),
    ("Blue", 0x00281103, 0x00281203, 0x00281223),
)


def palette_table(h: Header) -> tuple[npt.NDArray[Any], int, int]:
    """The PALETTE COLOR lookup table of ``h``: ``(table, first mapped value, bits per entry)``.

    ``table`` is ``(n, 3)`` RGB at the declared depth (uint8 for 8 bits, uint16 for 16), read by
    pydicom (normal, segmented (0028,1221..1223) and 8-in-16-bit tables) once every descriptor
    (0028,1101..1103) and table has been checked: 3 values each, the same entry count and first
    value, 8 or 16 bits, and as many entries as the descriptor says (PS3.3 C.7.6.3.1.5).

    Raises
    ------
    HeaderError, DicomReadError
        A descriptor or table that is missing, malformed, or shorter than declared.
    """
    from pydicom.pixels import apply_color_lut

    descriptors = []
    for colour, desc_tag, data_tag, seg_tag in _PALETTE:
        desc = h.integers(desc_tag, 3, None, low=0, high=65535)
        if desc is None:
            raise DicomReadError(
                f"{h.source}: PALETTE COLOR without {h.label(desc_tag)} ({colour} descriptor)"
            )
        if desc[2] not in (8, 16):
            raise h.error(desc_tag, desc, "must give 8 or 16 bits per entry")
        n = desc[0] or 65536
        if h.has(seg_tag):
            _table(h, seg_tag, _little_endian(h))  # readable; pydicom expands the segments
        else:
            table = _table(h, data_tag, _little_endian(h))
            entries = (
                len(table)
                if desc[2] == 16 or not isinstance(h.raw(data_tag), bytes)
                else (2 * len(table))
            )
            if entries < n:
                raise h.error(
                    data_tag,
                    f"{len(table)} 16-bit word(s)",
                    f"holds fewer than the {n} entries its {h.label(desc_tag)} says",
                )
        descriptors.append((n, desc[1], desc[2]))
    if len({d[:2] for d in descriptors}) != 1:
        raise h.error(
            0x00281101, descriptors[0], f"disagrees with the green/blue descriptors {descriptors}"
        )
    n, first, bits = descriptors[0]
    try:
        # pydicom resolves normal, segmented and 8-in-16-bit tables; ask it for every entry once
        table3 = apply_color_lut(np.arange(first, first + n, dtype=np.int64), h.ds)
    except Exception as exc:
        raise DicomReadError(
            f"{h.source}: PALETTE COLOR lookup table (0028,1101..1223) unusable: "
            f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        ) from exc
    return np.ascontiguousarray(table3[..., :3]), first, bits


def _palette(h: Header) -> tuple[npt.NDArray[np.uint8], int]:
    table, first, _ = palette_table(h)
    if table.dtype == np.uint8:
        return np.ascontiguousarray(table), first
    if int(table.max()) <= 255:
        # declared 16 bits per entry but holding 8-bit values (a known writer error): scaling
        # by 65535 would show a black image, so the values are taken as they are
        h.notes.append("palette declared 16-bit holds only 8-bit values; used as 8-bit")
        return np.ascontiguousarray(table.astype(np.uint8)), first
    # 16 bits per entry (PS3.3 C.7.6.3.1.5): scale the full 16-bit range onto 8 bits
    scaled = (table.astype(np.uint32) * 255 + 32767) // 65535
    return np.ascontiguousarray(scaled.astype(np.uint8)), first


def _overlays(h: Header) -> tuple[Overlay, ...]:
    out = []
    for group in range(0x6000, 0x6020, 2):
        if (group, 0x3000) not in h:
            if (group, 0x0010) in h and h.has((group, 0x0102)):
                h.notes.append(f"overlay {group:04X} embedded in pixel data bits: not drawn")
            continue
        try:
            rows = h.integer((group, 0x0010), low=1, high=65535)
            cols = h.integer((group, 0x0011), low=1, high=65535)
            origin = h.integers((group, 0x0050), 2, (1, 1), low=-65535, high=65535)
            nframes = h.integer((group, 0x0015), 1, low=1, high=65535)
            first = h.integer((group, 0x0051), 1, low=1)
            data = h.raw((group, 0x3000))
            if not isinstance(data, bytes | bytearray):
                raise h.error((group, 0x3000), data, "is not a bit map (OB/OW bytes)")
            needed = rows * cols * nframes
            if len(data) * 8 < needed:
                raise h.error(
                    (group, 0x3000), data, f"holds {len(data) * 8} bits; {needed} needed"
                )
            bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
            bitmap = bits[:needed].reshape(nframes, rows, cols)
        except HeaderError as exc:
            h.notes.append(f"overlay {group:04X} not drawn: {exc}")
            continue
        kind = h.code((group, 0x0040), None, "G", lenient=True) or "G"
        desc = h.text((group, 0x0022), lenient=True)
        out.append(Overlay(group, (origin[0], origin[1]), bitmap, first, kind, desc))
    return tuple(out)


# -- pure pipeline -----------------------------------------------------------------------------
def modality_values(stored: npt.NDArray[Any], params: DisplayParams) -> npt.NDArray[Any]:
    """Apply the Modality LUT to one grayscale frame.

    Returns integers when the rescale is integral (CT HU): int32 for stored words of up to 16
    bits, int64 for 32-bit words (whose values int32 cannot hold once rescaled); float32
    otherwise and for (7FE0,0008) Float Pixel Data, float64 for (7FE0,0009) Double Float Pixel
    Data; or the LUT's uint16 output. One frame at a time.

    Examples
    --------
    >>> p = DisplayParams("MONOCHROME2", bits_stored=32)
    >>> modality_values(np.array([4294967295], np.uint32), p).tolist()
    [4294967295]
    """
    if params.modality_lut is not None:
        return params.modality_lut.apply(stored)
    s, b = params.rescale_slope, params.rescale_intercept
    if stored.dtype.kind == "f" and stored.dtype.itemsize > 4:  # (7FE0,0009) Double Float
        return stored * np.float64(s) + np.float64(b)
    if _int32_fits(stored, s, b):
        if s == 1.0:
            return stored.astype(np.int32) + np.int32(b)
        return stored.astype(np.int32) * np.int32(s) + np.int32(b)
    if _int64_fits(stored, s, b):  # 32-bit words: int32 cannot hold them, float32 rounds them
        return stored.astype(np.int64) * np.int64(s) + np.int64(b)
    return stored.astype(np.float32) * np.float32(s) + np.float32(b)


def _int64_fits(stored: npt.NDArray[Any], s: float, b: float) -> bool:
    """Whether an integral rescale of a (up to 32-bit) integer type stays inside int64."""
    if not (float(s).is_integer() and float(b).is_integer()) or stored.dtype.kind not in "iu":
        return False
    info = np.iinfo(stored.dtype)
    if info.bits > 32:
        return False
    reach = abs(s) * max(abs(int(info.min)), abs(int(info.max))) + abs(b)
    return reach < 2**63


def _int32_fits(stored: npt.NDArray[Any], s: float, b: float) -> bool:
    """Whether an integral rescale of ``stored``'s whole type range stays inside int32."""
    if not (float(s).is_integer() and float(b).is_integer()) or stored.dtype.kind not in "iub":
        return False
    info = np.iinfo(stored.dtype) if stored.dtype.kind != "b" else np.iinfo(np.uint8)
    if info.bits > 32:
        return False
    reach = abs(s) * max(abs(int(info.min)), abs(int(info.max))) + abs(b)
    return reach < 2**31


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
        if frame.dtype == np.uint8 and params.bits_stored >= 8:
            out = frame
        else:
            # scale each sample from its Bits Stored to 8 bits; uint64 holds 255 x a 32-bit
            # sample (uint32 overflowed: a 32-bit RGB image came out black)
            bits = max(1, min(params.bits_stored, 32))
            top = np.uint64((1 << bits) - 1)
            values = np.minimum(frame.astype(np.uint64), top)
            out = ((values * np.uint64(255) + top // np.uint64(2)) // top).astype(np.uint8)
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
    except Exception as exc:  # pydicom raises many kinds on a corrupt file
        raise DicomReadError(
            f"{p}: not a readable DICOM file: {type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]}"
        ) from exc
    meta = ds.file_meta
    if "TransferSyntaxUID" not in meta:
        implicit, little = ds.original_encoding
        meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian
            if implicit
            else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
        )
    return ds


def read_header(path: str | os.PathLike[str]) -> Any:
    """Read a DICOM file's header for planning: every element, the pixel data located not read.

    (7FE0,0010) is kept deferred (its length and offset known), so :func:`check_frames` can
    measure it without loading it.

    Raises
    ------
    DicomReadError
        Not DICOM, or unreadable; the message names the file.
    """
    from pydicom import dcmread

    p = Path(path)
    try:
        return dcmread(p, defer_size=4096, force=True)
    except Exception as exc:  # pydicom raises many kinds on a corrupt file
        raise DicomReadError(
            f"{p}: {type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
        ) from exc


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
    h = Header(ds, path)
    enhanced = "PerFrameFunctionalGroupsSequence" in h
    params = DisplayParams.from_dataset(ds, name=str(path))
    check_frames(h)  # before pydicom enumerates (0028,0008) frames
    frames = iter_pixels(ds, as_rgb=True)
    k = 0
    while True:
        with decoding(path, f"(7FE0,0010) Pixel Data cannot be decoded (frame {k + 1})"):
            frame = next(frames, None)
        if frame is None:
            return
        p = DisplayParams.from_dataset(ds, frame=k, name=str(path)) if enhanced else params
        try:
            shown = to_display(
                frame, p, window=window, voi_lut=voi_lut, overlays=overlays, frame_index=k
            )
        except UsageError as exc:  # the decoded frame does not match its header
            raise DicomReadError(f"{path}: frame {k + 1}: {exc}") from exc
        yield shown
        k += 1


def check_frames(h: Header) -> int:
    """Rows, Columns and (0028,0008) Number of Frames checked against the pixel data.

    Returns the number of frames; call it before anything is allocated or listed per frame.

    Raises
    ------
    HeaderError
        Rows/Columns/Samples/Bits missing or out of range, or more frames than the pixel data
        can hold (see :func:`volumeviz.io.header.number_of_frames`).
    """
    rows = h.integer("Rows", low=1, high=65535)
    cols = h.integer("Columns", low=1, high=65535)
    samples = h.integer("SamplesPerPixel", 1, low=1, high=4)
    bits = h.integer("BitsAllocated", 8, low=1, high=64)
    photometric = h.code("PhotometricInterpretation", None, "", lenient=True)
    return number_of_frames(
        h, rows=rows, cols=cols, samples=samples, bits_allocated=bits, photometric=photometric
    )
