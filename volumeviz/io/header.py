r"""The one checked header accessor: every DICOM header value volumeviz uses is read through here.

A reader wraps a pydicom dataset (or a sequence item) in a :class:`Header` and asks it for a value
with the type and range it needs; it gets that value, or a :class:`~volumeviz.errors.HeaderError`
naming the file, the element (tag and name) and the value found::

    h = Header(ds, path)
    rows = h.integer("Rows", low=1, high=65535)
    slope = h.number("RescaleSlope", 1.0, nonzero=True)         # default when absent
    ipp = h.numbers("ImagePositionPatient", 3, None)            # None when absent
    spacing = h.numbers("PixelSpacing", 2, None, positive=True)
    kind = h.code("PhotometricInterpretation", {"MONOCHROME2", "RGB"})
    for item in h.items("SequenceOfUltrasoundRegions"):         # Headers, labelled per item
        item.integer("RegionSpatialFormat")

    # a.dcm: (0028,0030) Pixel Spacing '0\0.5' must be positive

Whatever pydicom raises while converting an element (an unknown VR, a value whose length is not
a multiple of its VR's size, text where a number belongs, ``inf`` in an integer, two values where
one belongs) becomes that one error, so no header value reaches ``int()`` or ``float()``
unchecked. An element that is absent or empty gives the ``default`` if one is passed, else a
``HeaderError`` saying it is missing. With ``lenient=True`` a value that is present but unusable
also gives the default, and a note saying so is kept in :attr:`Header.notes` (for elements that
only inform, e.g. a window or a description: the image stays usable without them).

:func:`number_of_frames` reads (0028,0008) and checks it against what the (7FE0,0010) Pixel Data
can hold *before* anything is allocated or enumerated per frame.

Standard: PS3.5 §6.2 (VRs, value multiplicity), §7.5 and A.4 (encapsulated pixel data: at least
one fragment per frame), PS3.3 C.7.6.3 (Image Pixel module).
"""

from __future__ import annotations

import functools
import math
import os
import struct
from collections import abc
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any, TypeVar, overload

from volumeviz.errors import HeaderError
from volumeviz.io import _deflate

# every DICOM reader imports this module: from here on pydicom inflates deflated files bounded
_deflate.install()

__all__ = [
    "REQUIRED",
    "SHAREABLE_VRS",
    "Header",
    "HeaderError",
    "check_codestream",
    "check_value_in_file",
    "frame_capacity",
    "number_of_frames",
]

#: value representations whose converted value depends on the element's bytes and byte order
#: alone (no character set): a :class:`Header` ``cache`` shares them between files
SHAREABLE_VRS = frozenset("AE AS AT CS DA DS DT FD FL IS SL SS TM UI UL US".split())

_T = TypeVar("_T")

#: the key of an element: a keyword (``"Rows"``), an int tag (``0x00280010``) or (group, element)
Key = str | int | tuple[int, int]


class _Required:
    """Marker: no default was given, the element must be present."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: pass as ``default`` to say the element must be present (what omitting ``default`` means)
REQUIRED: Any = _Required()

_SHOWN_MAX = 48


@functools.lru_cache(maxsize=4096)
def _resolve(key: Key) -> tuple[int, str]:
    """``(tag, "(gggg,eeee) Name")`` for a keyword or tag."""
    from pydicom.datadict import dictionary_description, tag_for_keyword

    if isinstance(key, str):
        tag = tag_for_keyword(key)
        if tag is None:
            raise KeyError(f"{key!r} is not a DICOM keyword")
    elif isinstance(key, tuple):
        tag = (int(key[0]) << 16) | int(key[1])
    else:
        tag = int(key)
    try:
        name = str(dictionary_description(tag))
    except KeyError:
        name = ""
    text = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return tag, f"{text} {name}" if name else text


def _shown(value: Any) -> str:
    """A value as found in the file, short enough for one line."""
    if isinstance(value, bytes | bytearray):
        head = bytes(value[:12]).hex(" ")
        text = f"{len(value)} byte(s) {head}" + (" ..." if len(value) > 12 else "")
        return text
    if isinstance(value, str):
        text = value
    elif isinstance(value, list | tuple) or _is_multi(value):
        text = "\\".join(_shown(v) for v in value)
    else:
        text = str(value)
    text = text.replace("\n", " ").replace("\r", " ")
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."


def _is_multi(value: Any) -> bool:
    """A multi-valued element (MultiValue) or a sequence's items, not text or bytes."""
    return isinstance(value, abc.Sequence) and not isinstance(value, str | bytes | bytearray)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple) or _is_multi(value):
        return list(value)
    return [value]


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return len(value.strip(" \x00")) == 0
    if isinstance(value, bytes | bytearray):
        return len(value) == 0  # binary: zero bytes are a value
    if isinstance(value, list | tuple) or _is_multi(value):
        return len(value) == 0
    return False


class _Bad(Exception):
    """A value that is not of the wanted kind: the problem, for the message."""


#: no DICOM integer VR holds more (UV, SV are 64-bit); beyond it a value is not an integer
_INT_LIMIT = 2**64


def _to_int(v: Any) -> int:
    out = _parse_int(v)
    if abs(out) >= _INT_LIMIT:
        raise _Bad("is out of range for a DICOM integer")
    return out


def _parse_int(v: Any) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _Bad("is not a finite integer")
        if not v.is_integer():
            raise _Bad("is not an integer")
        return int(v)
    if isinstance(v, bytes | bytearray):
        raise _Bad("is raw bytes, not an integer")
    text = str(v).strip(" \x00")
    try:
        return int(text)
    except ValueError:
        pass
    try:
        f = float(text)
    except ValueError:
        raise _Bad("is not an integer") from None
    if not math.isfinite(f):
        raise _Bad("is not a finite integer")
    if not f.is_integer():
        raise _Bad("is not an integer")
    return int(f)


def _to_float(v: Any) -> float:
    if isinstance(v, bytes | bytearray):
        raise _Bad("is raw bytes, not numeric")
    if isinstance(v, int | float):
        try:
            return float(v)
        except OverflowError:
            raise _Bad("is too large") from None
    text = str(v).strip(" \x00")
    try:
        return float(text)
    except ValueError:
        raise _Bad("is not numeric") from None


class Header:
    """Checked, typed access to one DICOM dataset or sequence item.

    Parameters
    ----------
    ds
        A pydicom ``Dataset`` (or ``FileMetaDataset``, or a sequence item).
    source
        The file the dataset was read from: named in every message (and used to measure the
        pixel data of a dataset read with deferred values).
    context
        For a sequence item, the path to it (``"(0018,6011) Sequence of Ultrasound Regions item
        2 > "``); set by :meth:`items`.
    notes
        Where lenient reads record what they ignored (shared with the items).
    cache
        Shared by the Headers of one scan: converted values of elements whose bytes were seen
        before (same tag, VR, bytes and byte order; only VRs whose value does not depend on the
        character set, see :data:`SHAREABLE_VRS`). The files of one series repeat most of their
        header, and pydicom's conversion costs more than reading the file; checks still run on
        every value.

    Notes
    -----
    Every getter takes the element by keyword, int tag or ``(group, element)``. ``default``
    (positional, after the key) is returned when the element is absent or empty; without it the
    element is required. Bounds ``low``/``high`` are inclusive.
    """

    __slots__ = ("cache", "context", "ds", "notes", "path", "source")

    def __init__(
        self,
        ds: Any,
        source: str | os.PathLike[str],
        *,
        context: str = "",
        notes: list[str] | None = None,
        cache: dict[tuple[Any, ...], Any] | None = None,
    ) -> None:
        self.ds = ds
        self.source = str(source)
        self.path = Path(source) if source else None
        self.context = context
        self.notes: list[str] = [] if notes is None else notes
        self.cache = cache

    def __repr__(self) -> str:
        return f"Header({self.source!r}{', ' + repr(self.context) if self.context else ''})"

    def note(self, text: str) -> None:
        """Keep ``text`` in :attr:`notes` (once)."""
        if text not in self.notes:
            self.notes.append(text)

    # -- the element ------------------------------------------------------------------------
    def label(self, key: Key) -> str:
        """``"(0028,0008) Number of Frames"`` for ``key``."""
        return _resolve(key)[1]

    def where(self, key: Key) -> str:
        """The file, the sequence path and the element, for a message."""
        return f"{self.source}: {self.context}{self.label(key)}"

    def error(self, key: Key, value: Any, problem: str) -> HeaderError:
        """A :class:`HeaderError` for ``key`` holding ``value``, saying ``problem``.

        Examples
        --------
        >>> from pydicom import Dataset
        >>> str(Header(Dataset(), "a.dcm").error("Rows", 0, "is empty"))
        "a.dcm: (0028,0010) Rows '0' is empty"
        """
        return HeaderError(f"{self.where(key)} '{_shown(value)}' {problem}")

    def __contains__(self, key: Key) -> bool:
        """Whether the element is in the dataset (it is not converted)."""
        try:
            store = getattr(self.ds, "_dict", None)
            return _resolve(key)[0] in (store if isinstance(store, dict) else self.ds)
        except Exception:  # a dataset that cannot be asked has nothing
            return False

    def raw(self, key: Key) -> Any:
        """The element's value as pydicom converts it, ``None`` if absent or empty.

        Raises
        ------
        HeaderError
            pydicom cannot convert the element (unknown VR, wrong length, ...).
        """
        tag = _resolve(key)[0]
        # the element store (pydicom's Dataset._dict) answers "present?" without a Tag()
        # conversion per call: discovery asks ~60 elements of every file
        store = getattr(self.ds, "_dict", None)
        try:
            if tag not in (store if isinstance(store, dict) else self.ds):
                return None
            value = self.ds[tag].value if self.cache is None else self._shared(tag)
        except Exception as exc:  # pydicom raises many kinds here
            raise HeaderError(
                f"{self.where(key)} cannot be read: {type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:160]}"
            ) from exc
        return None if _empty(value) else value

    def _shared(self, tag: int) -> Any:
        """``ds[tag].value``, from :attr:`cache` when another file had the same bytes."""
        from pydicom.dataelem import RawDataElement

        elem = self.ds.get_item(tag, keep_deferred=True)  # unconverted while still raw
        raw = getattr(elem, "value", None)
        if not isinstance(elem, RawDataElement) or not isinstance(raw, bytes) or len(raw) > 256:
            return self.ds[tag].value
        assert self.cache is not None
        key = (tag, elem.VR, raw, elem.is_little_endian)
        try:
            return self.cache[key]
        except KeyError:
            pass
        converted = self.ds[tag]
        if converted.VR in SHAREABLE_VRS:
            self.cache[key] = converted.value
        return converted.value

    def has(self, key: Key) -> bool:
        """Whether the element is present with a readable, non-empty value."""
        try:
            return self.raw(key) is not None
        except HeaderError:
            return False

    def element(self, key: Key) -> Any:
        """The element *without* converting its value (pydicom ``get_item``), or ``None``.

        For measuring a deferred (7FE0,0010) Pixel Data: the result may be a
        ``RawDataElement`` with ``length`` and ``value_tell``.
        """
        tag = _resolve(key)[0]
        try:
            return self.ds.get_item(tag, keep_deferred=True)
        except Exception:
            return None

    def _fallback(self, key: Key, value: Any, problem: str, default: Any, lenient: bool) -> Any:
        if lenient and default is not REQUIRED:
            self.note(f"{self.where(key)} '{_shown(value)}' {problem}; ignored")
            return default
        raise self.error(key, value, problem)

    def _get(self, key: Key, default: Any, lenient: bool) -> tuple[Any, bool]:
        """(value, found): the default with found=False when absent or unreadable-and-lenient."""
        try:
            value = self.raw(key)
        except HeaderError as exc:
            if lenient and default is not REQUIRED:
                self.note(f"{exc}; ignored")
                return default, False
            raise
        if value is None:
            if default is REQUIRED:
                raise HeaderError(f"{self.source}: {self.context}no {self.label(key)}")
            return default, False
        return value, True

    # -- numbers ----------------------------------------------------------------------------
    @overload
    def integer(
        self, key: Key, *, low: int | None = ..., high: int | None = ..., lenient: bool = ...
    ) -> int: ...
    @overload
    def integer(
        self,
        key: Key,
        default: _T,
        *,
        low: int | None = ...,
        high: int | None = ...,
        lenient: bool = ...,
    ) -> int | _T: ...
    def integer(
        self,
        key: Key,
        default: Any = REQUIRED,
        *,
        low: int | None = None,
        high: int | None = None,
        lenient: bool = False,
    ) -> Any:
        """One integer (IS, US, SS, UL, SL, ..., or an integral number in another VR).

        Raises
        ------
        HeaderError
            Missing (without ``default``), several values, not an integer, or out of range.

        Examples
        --------
        >>> from pydicom import Dataset
        >>> ds = Dataset()
        >>> ds.Rows, ds.NumberOfFrames = 512, "2147483648"
        >>> Header(ds, "a.dcm").integer("Rows", low=1)
        512
        >>> Header(ds, "a.dcm").integer("Columns", 0)
        0
        >>> Header(ds, "a.dcm").integer("NumberOfFrames", 1, high=2**31 - 1)
        Traceback (most recent call last):
        ...
        volumeviz.errors.HeaderError: a.dcm: (0028,0008) Number of Frames '2147483648' exceeds 2147483647
        """  # noqa: E501
        value, found = self._get(key, default, lenient)
        if not found:
            return value
        items = _as_list(value)
        if len(items) != 1:
            return self._fallback(
                key, value, f"has {len(items)} values; one expected", default, lenient
            )
        try:
            out = _to_int(items[0])
        except _Bad as bad:
            return self._fallback(key, value, str(bad), default, lenient)
        problem = _range_problem(out, low, high)
        if problem:
            return self._fallback(key, value, problem, default, lenient)
        return out

    @overload
    def number(
        self,
        key: Key,
        *,
        low: float | None = ...,
        high: float | None = ...,
        positive: bool = ...,
        nonzero: bool = ...,
        finite: bool = ...,
        lenient: bool = ...,
    ) -> float: ...
    @overload
    def number(
        self,
        key: Key,
        default: _T,
        *,
        low: float | None = ...,
        high: float | None = ...,
        positive: bool = ...,
        nonzero: bool = ...,
        finite: bool = ...,
        lenient: bool = ...,
    ) -> float | _T: ...
    def number(
        self,
        key: Key,
        default: Any = REQUIRED,
        *,
        low: float | None = None,
        high: float | None = None,
        positive: bool = False,
        nonzero: bool = False,
        finite: bool = True,
        lenient: bool = False,
    ) -> Any:
        """One real number (DS, FL, FD, IS, or a number written in another VR).

        ``finite`` (default) refuses NaN and infinities; ``positive`` needs > 0, ``nonzero`` != 0.

        Examples
        --------
        >>> from pydicom import Dataset
        >>> ds = Dataset()
        >>> ds.RescaleSlope = "1e308"
        >>> ds.add_new("WindowWidth", "LO", "abc")  # text in the wrong VR
        >>> Header(ds, "a.dcm").number("RescaleSlope")
        1e+308
        >>> Header(ds, "a.dcm").number("WindowWidth", None, lenient=True) is None
        True
        """
        value, found = self._get(key, default, lenient)
        if not found:
            return value
        items = _as_list(value)
        if len(items) != 1:
            return self._fallback(
                key, value, f"has {len(items)} values; one expected", default, lenient
            )
        try:
            out = _to_float(items[0])
        except _Bad as bad:
            return self._fallback(key, value, str(bad), default, lenient)
        problem = _number_problem(out, low, high, positive, nonzero, finite)
        if problem:
            return self._fallback(key, value, problem, default, lenient)
        return out

    @overload
    def numbers(
        self,
        key: Key,
        n: int | None = ...,
        *,
        low: float | None = ...,
        high: float | None = ...,
        positive: bool = ...,
        finite: bool = ...,
        lenient: bool = ...,
    ) -> tuple[float, ...]: ...
    @overload
    def numbers(
        self,
        key: Key,
        n: int | None,
        default: _T,
        *,
        low: float | None = ...,
        high: float | None = ...,
        positive: bool = ...,
        finite: bool = ...,
        lenient: bool = ...,
    ) -> tuple[float, ...] | _T: ...
    def numbers(
        self,
        key: Key,
        n: int | None = None,
        default: Any = REQUIRED,
        *,
        low: float | None = None,
        high: float | None = None,
        positive: bool = False,
        finite: bool = True,
        lenient: bool = False,
    ) -> Any:
        """Real numbers: exactly ``n`` of them (any number if ``n`` is None), each checked.

        Examples
        --------
        >>> from pydicom import Dataset
        >>> ds = Dataset()
        >>> ds.ImagePositionPatient = [0, "1e308", 2]
        >>> Header(ds, "a.dcm").numbers("ImagePositionPatient", 3)
        (0.0, 1e+308, 2.0)
        >>> Header(ds, "a.dcm").numbers("ImageOrientationPatient", 6, None) is None
        True
        """
        value, found = self._get(key, default, lenient)
        if not found:
            return value
        items = _as_list(value)
        if n is not None and len(items) != n:
            return self._fallback(
                key, value, f"has {len(items)} value(s); {n} expected", default, lenient
            )
        out: list[float] = []
        for v in items:
            try:
                f = _to_float(v)
            except _Bad as bad:
                return self._fallback(key, value, str(bad), default, lenient)
            problem = _number_problem(f, low, high, positive, False, finite)
            if problem:
                return self._fallback(key, value, problem, default, lenient)
            out.append(f)
        return tuple(out)

    @overload
    def integers(
        self,
        key: Key,
        n: int | None = ...,
        *,
        low: int | None = ...,
        high: int | None = ...,
        lenient: bool = ...,
    ) -> tuple[int, ...]: ...
    @overload
    def integers(
        self,
        key: Key,
        n: int | None,
        default: _T,
        *,
        low: int | None = ...,
        high: int | None = ...,
        lenient: bool = ...,
    ) -> tuple[int, ...] | _T: ...
    def integers(
        self,
        key: Key,
        n: int | None = None,
        default: Any = REQUIRED,
        *,
        low: int | None = None,
        high: int | None = None,
        lenient: bool = False,
    ) -> Any:
        """Integers: exactly ``n`` of them (any number if ``n`` is None), each in range."""
        value, found = self._get(key, default, lenient)
        if not found:
            return value
        items = _as_list(value)
        if n is not None and len(items) != n:
            return self._fallback(
                key, value, f"has {len(items)} value(s); {n} expected", default, lenient
            )
        out: list[int] = []
        for v in items:
            try:
                i = _to_int(v)
            except _Bad as bad:
                return self._fallback(key, value, str(bad), default, lenient)
            problem = _range_problem(i, low, high)
            if problem:
                return self._fallback(key, value, problem, default, lenient)
            out.append(i)
        return tuple(out)

    # -- text -------------------------------------------------------------------------------
    def text(self, key: Key, default: str = "", *, lenient: bool = False) -> str:
        r"""The value as one stripped string (several values joined by ``\``).

        Absent or empty gives ``default`` (``""``). A value pydicom cannot convert raises,
        unless ``lenient`` (then ``default`` and a note).
        """
        value, found = self._get(key, default, lenient)
        if not found:
            return str(value)
        if isinstance(value, bytes | bytearray):
            return bytes(value).decode("ascii", "replace").strip(" \x00")
        if isinstance(value, list | tuple) or _is_multi(value):
            return "\\".join(str(v).strip(" \x00") for v in value)
        return str(value).strip(" \x00")

    def texts(self, key: Key, *, lenient: bool = False) -> tuple[str, ...]:
        """Every value as a stripped string (``()`` when absent)."""
        value, found = self._get(key, None, lenient)
        if not found:
            return ()
        if isinstance(value, bytes | bytearray):
            return (bytes(value).decode("ascii", "replace").strip(" \x00"),)
        return tuple(str(v).strip(" \x00") for v in _as_list(value))

    @overload
    def code(
        self, key: Key, allowed: Collection[str] | None = ..., *, lenient: bool = ...
    ) -> str: ...
    @overload
    def code(
        self, key: Key, allowed: Collection[str] | None, default: _T, *, lenient: bool = ...
    ) -> str | _T: ...
    def code(
        self,
        key: Key,
        allowed: Collection[str] | None = None,
        default: Any = REQUIRED,
        *,
        lenient: bool = False,
    ) -> Any:
        """A code string (CS), upper-cased and stripped, checked against ``allowed``.

        Examples
        --------
        >>> from pydicom import Dataset
        >>> ds = Dataset()
        >>> ds.PhotometricInterpretation = "MONOCHROME2 "
        >>> Header(ds, "a.dcm").code("PhotometricInterpretation", {"MONOCHROME2", "RGB"})
        'MONOCHROME2'
        """
        value, found = self._get(key, default, lenient)
        if not found:
            return value
        items = _as_list(value)
        if len(items) != 1:
            return self._fallback(
                key, value, f"has {len(items)} values; one expected", default, lenient
            )
        if isinstance(items[0], bytes | bytearray):
            return self._fallback(key, value, "is raw bytes, not a code", default, lenient)
        out = str(items[0]).strip(" \x00").upper()
        if allowed is not None and out not in allowed:
            shown = ", ".join(sorted(allowed)[:8]) + (" ..." if len(allowed) > 8 else "")
            return self._fallback(key, value, f"is not one of {shown}", default, lenient)
        return out

    @overload
    def pointer(self, key: Key, *, lenient: bool = ...) -> int: ...
    @overload
    def pointer(self, key: Key, default: _T, *, lenient: bool = ...) -> int | _T: ...
    def pointer(self, key: Key, default: Any = REQUIRED, *, lenient: bool = False) -> Any:
        """One Attribute Tag (AT) value, as an int ``0xGGGGEEEE``."""
        value, found = self._get(key, default, lenient)
        if not found:
            return value
        items = _as_list(value)
        if len(items) != 1:
            return self._fallback(
                key, value, f"has {len(items)} values; one tag expected", default, lenient
            )
        v = items[0]
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= int(v) <= 0xFFFFFFFF:
            return int(v)
        return self._fallback(key, value, "is not an attribute tag (AT)", default, lenient)

    # -- sequences --------------------------------------------------------------------------
    def items(self, key: Key, *, lenient: bool = False) -> list[Header]:
        """The items of a sequence (SQ) as :class:`Header` s (``[]`` when absent or empty).

        Raises
        ------
        HeaderError
            The element cannot be read, or is not a sequence (unless ``lenient``).
        """
        from pydicom.dataset import Dataset

        value, found = self._get(key, [], lenient)
        if not found:
            return []
        if not all(isinstance(item, Dataset) for item in _as_list(value)) or isinstance(
            value, bytes | bytearray | str
        ):
            return list(self._fallback(key, value, "is not a sequence", [], lenient))
        seq = list(value)
        label = self.label(key)
        return [
            Header(
                item,
                self.source,
                context=f"{self.context}{label}"
                + (f" item {n + 1}" if len(seq) > 1 else "")
                + " > ",
                notes=self.notes,
                cache=self.cache,
            )
            for n, item in enumerate(seq)
        ]

    def item(self, key: Key, index: int = 0, *, lenient: bool = False) -> Header | None:
        """Item ``index`` of a sequence, or ``None`` if the sequence is absent or too short."""
        seq = self.items(key, lenient=lenient)
        return seq[index] if 0 <= index < len(seq) else None

    def iter_items(self, key: Key) -> Iterator[Header]:
        """Iterate :meth:`items`."""
        yield from self.items(key)


def _range_problem(value: float, low: float | None, high: float | None) -> str:
    if low is not None and value < low:
        return f"is below {low:g}" if isinstance(low, float) else f"is below {low}"
    if high is not None and value > high:
        return f"exceeds {high:g}" if isinstance(high, float) else f"exceeds {high}"
    return ""


def _number_problem(
    value: float,
    low: float | None,
    high: float | None,
    positive: bool,
    nonzero: bool,
    finite: bool,
) -> str:
    if finite and not math.isfinite(value):
        return "is not finite"
    if positive and not value > 0:
        return "must be positive"
    if nonzero and value == 0:
        return "must not be 0"
    return _range_problem(value, low, high)


# -- pixel data extent ------------------------------------------------------------------------
_PIXEL_KEYS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # Pixel Data, Float, Double Float
_UNDEFINED = 0xFFFFFFFF
_ITEM = 0xFFFEE000
_SEQ_END = 0xFFFEE0DD
_DEFLATED = {"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.8.1"}


def _pixel_tag(h: Header) -> int | None:
    return next((t for t in _PIXEL_KEYS if t in h), None)


def _bits_per_frame(
    rows: int, cols: int, samples: int, bits_allocated: int, photometric: str, tag: int
) -> int:
    bits = {0x7FE00008: 32, 0x7FE00009: 64}.get(tag, bits_allocated)
    per_pixel = bits * samples
    if photometric == "YBR_FULL_422" and samples == 3:
        per_pixel = bits * 2  # two chroma samples shared by two pixels (PS3.3 C.7.6.3.1.2)
    return max(1, rows * cols * per_pixel)


def _count_fragments(fp: Any, start: int, end: int, little: bool, enough: int) -> int:
    """Fragments after the Basic Offset Table, counted up to ``enough`` (item headers only)."""
    fmt = "<HHL" if little else ">HHL"
    fp.seek(start)
    count = -1  # the first item is the Basic Offset Table
    pos = start
    while pos + 8 <= end and count < enough:
        head = fp.read(8)
        if len(head) < 8:
            break
        group, elem, length = struct.unpack(fmt, head)
        tag = (group << 16) | elem
        if tag == _SEQ_END or tag != _ITEM or length == _UNDEFINED:
            break
        count += 1
        pos += 8 + length
        fp.seek(pos)
    return max(count, 0)


def _extent(elem: Any) -> tuple[int | None, bool]:
    """(length in bytes or None, encapsulated?) of a pixel data element, raw or converted."""
    length = getattr(elem, "length", None)
    value = getattr(elem, "value", None)
    undefined = length == _UNDEFINED or bool(getattr(elem, "is_undefined_length", False))
    if isinstance(value, bytes | bytearray):
        length = len(value)
    return (None if length == _UNDEFINED else length), undefined


def check_value_in_file(h: Header, key: Key) -> None:
    """A deferred value of defined length must end inside its file (a corrupt length is not data).

    A flipped bit in the length of (7FE0,0010) claims up to 4 GiB in a file of a few kB: the
    claim would pass as room for any number of frames, and reading the value would ask for that
    many bytes. Values already read, of undefined length, or in a deflated file are not judged.

    Raises
    ------
    HeaderError
        The value's length runs past the end of the file.
    """
    tag, _ = _resolve(key)
    elem = h.element(tag)
    if elem is None:
        return
    length, undefined = _extent(elem)
    if not undefined:
        _check_in_file(h, tag, elem, length)


def _check_in_file(h: Header, tag: int, elem: Any, length: int | None) -> None:
    value = getattr(elem, "value", None)
    tell = getattr(elem, "value_tell", None)
    if length is None or isinstance(value, bytes | bytearray) or tell is None or h.path is None:
        return
    meta = getattr(h.ds, "file_meta", None)
    try:
        ts = str(meta.get("TransferSyntaxUID", "") or "") if meta is not None else ""
    except Exception:
        ts = ""
    if ts in _DEFLATED:  # offsets are in the inflated stream, not the file
        return
    try:
        available = h.path.stat().st_size - int(tell)
    except OSError:
        return
    if length > available:
        raise HeaderError(
            f"{h.source}: {h.context}{h.label(tag)} claims {length} bytes, but the file ends "
            f"{max(available, 0)} bytes after its start (file truncated, or a corrupt length)"
        )


def frame_capacity(
    h: Header,
    *,
    rows: int,
    cols: int,
    samples: int,
    bits_allocated: int,
    photometric: str = "",
    enough: int | None = None,
) -> int | None:
    """How many frames the dataset's pixel data can hold, or ``None`` if it cannot be told.

    Native pixel data: its length in bits over the bits of one frame. Encapsulated: the number of
    fragments after the Basic Offset Table (each frame takes at least one, PS3.5 A.4), counted
    from the item headers only and no further than ``enough``; a dataset read with deferred values
    is measured in its file (``h.path``) without reading the pixels.

    Parameters
    ----------
    h
        The top-level header.
    rows, cols, samples, bits_allocated
        Already checked (>= 1).
    photometric
        (0028,0004), for YBR_FULL_422's two samples per pixel.
    enough
        Stop counting fragments once this many are found (the frame count being checked).
    """
    tag = _pixel_tag(h)
    if tag is None:
        return None
    elem = h.element(tag)
    if elem is None:
        return None
    per_frame = _bits_per_frame(rows, cols, samples, bits_allocated, photometric, tag)
    length, undefined = _extent(elem)
    value = getattr(elem, "value", None)
    if not undefined:
        _check_in_file(h, tag, elem, length)
        return None if length is None else length * 8 // per_frame
    meta = getattr(h.ds, "file_meta", None)
    little = True
    ts = ""
    if meta is not None:
        try:
            ts = str(meta.get("TransferSyntaxUID", "") or "")
        except Exception:
            ts = ""
        little = ts != "1.2.840.10008.1.2.2"
    cap = enough if enough is not None else 1 << 62
    if isinstance(value, bytes | bytearray):
        import io

        return _count_fragments(io.BytesIO(value), 0, len(value), little, cap)
    tell = getattr(elem, "value_tell", None)
    if tell is None or h.path is None or ts in _DEFLATED:
        return None
    try:
        size = h.path.stat().st_size
        # every fragment has an 8-byte item header: a first bound without reading anything
        if (size - int(tell)) // 8 < cap:
            cap = max((size - int(tell)) // 8, 0)
        with h.path.open("rb") as fp:
            return _count_fragments(fp, int(tell), size, little, cap)
    except OSError:
        return None


_JPEG_SYNTAXES = {
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",
}
_J2K_SYNTAXES = {
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.92",
    "1.2.840.10008.1.2.4.93",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
}
_RLE_SYNTAX = "1.2.840.10008.1.2.5"
#: RLE (PS3.5 G.3.1): a replicate run of 128 bytes costs 2, so no segment expands more than this
_RLE_MAX_EXPANSION = 64
_HEAD = 1 << 16


def _first_fragment(h: Header, elem: Any, little: bool) -> tuple[int, bytes] | None:
    """(length, first bytes) of the first fragment after the Basic Offset Table."""
    import io

    fmt = "<HHL" if little else ">HHL"
    value = getattr(elem, "value", None)
    try:
        if isinstance(value, bytes | bytearray):
            fp: Any = io.BytesIO(value)
            start = 0
        else:
            tell = getattr(elem, "value_tell", None)
            if tell is None or h.path is None:
                return None
            fp = h.path.open("rb")
            start = int(tell)
        with fp:
            fp.seek(start)
            for n in range(2):  # the Basic Offset Table item, then the first fragment
                head = fp.read(8)
                if len(head) < 8:
                    return None
                group, el, length = struct.unpack(fmt, head)
                if (group << 16) | el != _ITEM or length == _UNDEFINED:
                    return None
                if n == 0:
                    fp.seek(length, 1)
            return int(length), bytes(fp.read(min(int(length), _HEAD)))
    except OSError:
        return None


def _codestream_size(ts: str, head: bytes) -> tuple[int, int] | None:
    """(rows, columns) the JPEG / JPEG-LS / JPEG 2000 codestream itself declares, if readable."""
    if ts in _J2K_SYNTAXES:
        at = head.find(b"\xff\x4f\xff\x51")  # SOC then SIZ (ISO/IEC 15444-1 A.5.1)
        if at < 0 or len(head) < at + 24:
            return None
        xsiz, ysiz, x0, y0 = struct.unpack(">LLLL", head[at + 8 : at + 24])
        return (ysiz - y0, xsiz - x0)
    try:
        from pydicom.pixels.utils import _get_jpg_parameters

        params = _get_jpg_parameters(head)
    except Exception:  # a pydicom without the parser, or a codestream it cannot read
        return None
    height, width = params.get("height"), params.get("width")
    if not height or not width:  # height 0: given later by a DNL marker
        return None
    return (int(height), int(width))


def check_codestream(
    h: Header, *, rows: int, cols: int, samples: int, bits_allocated: int
) -> None:
    """Check encapsulated pixel data can hold the (0028,0010) x (0028,0011) image it claims.

    JPEG, JPEG-LS and JPEG 2000 codestreams declare their own size (SOFn / SIZ): it must be
    Rows x Columns. RLE declares none, but no RLE segment expands more than 64 times (PS3.5
    G.3.1), so one frame cannot decode to more than 64 times its fragment. Only the first
    fragment's item header and first 64 KiB are read. Other syntaxes are not checked.

    Raises
    ------
    HeaderError
        Rows/Columns the compressed data cannot hold, named with both sizes.
    """
    tag = _pixel_tag(h)
    if tag is None:
        return
    elem = h.element(tag)
    if elem is None or not _extent(elem)[1]:
        return
    meta = getattr(h.ds, "file_meta", None)
    ts = "" if meta is None else Header(meta, h.source).text("TransferSyntaxUID", lenient=True)
    if ts not in _JPEG_SYNTAXES and ts not in _J2K_SYNTAXES and ts != _RLE_SYNTAX:
        return
    first = _first_fragment(h, elem, ts != "1.2.840.10008.1.2.2")
    if first is None:
        return
    length, head = first
    label = f"(0028,0010) Rows {rows} x (0028,0011) Columns {cols}"
    if ts == _RLE_SYNTAX:
        need = rows * cols * samples * ((bits_allocated + 7) // 8)
        if need > _RLE_MAX_EXPANSION * length:
            raise HeaderError(
                f"{h.source}: {h.context}{label} ({need} bytes a frame) cannot come from the "
                f"{length}-byte RLE fragment of {h.label(tag)} (RLE expands at most "
                f"{_RLE_MAX_EXPANSION}x)"
            )
        return
    size = _codestream_size(ts, head)
    if size is not None and size != (rows, cols):
        raise HeaderError(
            f"{h.source}: {h.context}{label} disagree with the {size[1]}x{size[0]} "
            f"(columns x rows) its {h.label(tag)} codestream declares"
        )


def number_of_frames(
    h: Header,
    *,
    rows: int,
    cols: int,
    samples: int = 1,
    bits_allocated: int = 16,
    photometric: str = "",
) -> int:
    """(0028,0008) Number of Frames (default 1), checked against the pixel data first.

    Call it before anything is allocated or enumerated per frame: a header claiming 2^31
    frames on a one-frame file is refused here.

    Raises
    ------
    HeaderError
        Not a positive integer, or more frames than the (7FE0,0010) Pixel Data can hold.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.NumberOfFrames, ds.PixelData = "2147483648", bytes(8)
    >>> number_of_frames(Header(ds, "a.dcm"), rows=2, cols=2, bits_allocated=16)
    Traceback (most recent call last):
    ...
    volumeviz.errors.HeaderError: a.dcm: (0028,0008) Number of Frames '2147483648' exceeds the 1 frame(s) its (7FE0,0010) Pixel Data can hold (8 bytes; 8 a 2x2 frame)
    """  # noqa: E501
    frames = h.integer("NumberOfFrames", 1, low=1)
    check_codestream(h, rows=rows, cols=cols, samples=samples, bits_allocated=bits_allocated)
    capacity = frame_capacity(
        h,
        rows=rows,
        cols=cols,
        samples=samples,
        bits_allocated=bits_allocated,
        photometric=photometric,
        enough=frames,
    )
    if capacity is not None and frames > capacity:
        tag = _pixel_tag(h) or 0x7FE00010
        length, undefined = _extent(h.element(tag))
        frame_bytes = (
            _bits_per_frame(rows, cols, samples, bits_allocated, photometric, tag) + 7
        ) // 8
        if capacity == 0 and not undefined:
            raise HeaderError(
                f"{h.source}: {h.context}{h.label(tag)} has {length} bytes, fewer than one "
                f"{cols}x{rows} frame needs ({frame_bytes}: {samples} sample(s) x "
                f"{bits_allocated} bits); pixel data cannot be decoded (file truncated?)"
            )
        if undefined:
            what = f"encapsulated in {capacity} fragment(s), at least one per frame"
        else:
            what = f"{length} bytes; {frame_bytes} a {cols}x{rows} frame"
        raise h.error(
            "NumberOfFrames",
            h.raw("NumberOfFrames") or frames,
            f"exceeds the {capacity} frame(s) its {h.label(tag)} can hold ({what})",
        )
    return frames
