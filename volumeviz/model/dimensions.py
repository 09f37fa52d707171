"""Extra (non-spatial) dimensions of a series: time, echo, cardiac phase, b-value and the like.

A series that holds several volumes on one grid (fMRI, DWI, dynamic, multi-echo, magnitude and
phase ...) has one or more :class:`Dimension` beyond i, j, k. Each has a name, the value of every
index (time in s, TE in ms, b in s/mm², or a label), the unit, and the DICOM element(s) it was
read from. :class:`DimensionIndex` is one position along one dimension: what a loaded
:class:`~volumeviz.model.volume.Volume` of such a series carries in ``meta.dims``.

Indices are 0-based in Python (``index={"time": 4}`` is the fifth time point); the text written
for people (:meth:`Dimension.label`, the CLI's ``--index``) counts from 1, as DICOM numbers echoes
and temporal positions.

Numpy only (no VTK, no pydicom).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["DIMENSION_NAMES", "Dimension", "DimensionIndex", "format_value", "parse_index"]

#: the names a dimension can have, with what each index means
DIMENSION_NAMES: dict[str, str] = {
    "time": "time point (value: seconds from the first)",
    "echo": "echo (value: echo time TE in ms)",
    "phase": "cardiac phase (value: trigger delay in ms after the R wave)",
    "b-value": "diffusion weighting (value: b in s/mm²)",
    "label": "arterial spin labelling: control or label",
    "part": "complex part: magnitude, phase, real or imaginary",
    "type": "image type (e.g. magnitude and field map)",
    "acquisition": "acquisition (value: (0020,0012) Acquisition Number)",
    "index": "volumes told apart by storage order only",
}


def format_value(value: float | str, unit: str) -> str:
    """A dimension value for people: ``"2 s"``, ``"TE 7.001 ms"``-style numbers, or the label.

    Examples
    --------
    >>> format_value(2.0, "s"), format_value(7.001, "ms"), format_value("phase", "")
    ('2 s', '7.001 ms', 'phase')
    """
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        return "?"
    text = f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return f"{text} {unit}".strip()


@dataclass(frozen=True, slots=True)
class Dimension:
    """One extra axis of a multi-volume series.

    Parameters
    ----------
    name
        One of :data:`DIMENSION_NAMES` (``"time"``, ``"echo"``, ``"phase"``, ``"b-value"``,
        ``"label"``, ``"part"``, ``"type"``, ``"acquisition"``, ``"index"``).
    values
        The value of each index: a number in ``unit`` (time in s from the first volume, TE in ms,
        trigger delay in ms, b in s/mm²) or a label (``"magnitude"``, ``"control"``).
    unit
        ``"s"``, ``"ms"``, ``"s/mm²"`` or ``""``.
    source
        The DICOM element(s) or rule the indices were read from, e.g.
        ``"(0020,0100) Temporal Position Identifier"``.
    value_source
        Where the values come from when that differs from ``source`` (e.g. times from
        ``"(0018,0080) Repetition Time"``); ``""`` otherwise.

    Examples
    --------
    >>> d = Dimension("time", (0.0, 2.0, 4.0), "s", "(0020,0100) Temporal Position Identifier")
    >>> d.size, d.step, d.label(1)
    (3, 2.0, 'time 2/3 (2 s)')
    """

    name: str
    values: tuple[float | str, ...]
    unit: str = ""
    source: str = ""
    value_source: str = ""

    def __post_init__(self) -> None:
        if self.name not in DIMENSION_NAMES:
            raise ValueError(
                f"unknown dimension name {self.name!r}; known: {', '.join(DIMENSION_NAMES)}"
            )
        if not self.values:
            raise ValueError(f"dimension {self.name!r} has no values")
        object.__setattr__(self, "values", tuple(self.values))

    @property
    def size(self) -> int:
        """Number of indices."""
        return len(self.values)

    @property
    def numeric(self) -> bool:
        """True when every value is a number."""
        return all(not isinstance(v, str) for v in self.values)

    @property
    def step(self) -> float | None:
        """The even step between numeric values (e.g. the volume TR of fMRI, in ``unit``).

        None for labels, a single value, or steps that differ by more than 1 %.
        """
        if self.size < 2 or not self.numeric:
            return None
        vals = [float(v) for v in self.values]
        steps = [b - a for a, b in itertools.pairwise(vals)]
        first = steps[0]
        if first <= 0 or any(abs(s - first) > 0.01 * abs(first) for s in steps):
            return None
        return first

    @property
    def frame_rate(self) -> float | None:
        """Volumes per second in real time, where the values are times at an even step.

        A ``time`` dimension in s (1 / its step, e.g. 1/TR), or cardiac ``phase`` in ms of
        trigger delay (1000 / its step: a cine at the heart's own pace); else None.

        Examples
        --------
        >>> Dimension("phase", (0.0, 40.0, 80.0), "ms").frame_rate
        25.0
        """
        step = self.step
        if step is None or step <= 0:
            return None
        if self.name == "time" and self.unit == "s":
            return 1.0 / step
        if self.name == "phase" and self.unit == "ms":
            return 1000.0 / step
        return None

    def value_text(self, k: int) -> str:
        """Index ``k``'s value for people (``"2 s"``, ``"TE 10 ms"``, ``"phase"``)."""
        text = format_value(self.values[k], self.unit)
        if self.name == "echo" and not isinstance(self.values[k], str):
            return f"TE {text}"
        if self.name == "b-value" and not isinstance(self.values[k], str):
            return f"b {text}"
        return text

    def label(self, k: int) -> str:
        """``"time 3/10 (4 s)"``: the name, the 1-based index, the size and the value."""
        if not 0 <= k < self.size:
            raise IndexError(f"{self.name} index {k} outside 0..{self.size - 1}")
        value = self.value_text(k)
        counted = f"{self.name} {k + 1}/{self.size}"
        if value == str(k + 1):  # numbered only: nothing to add
            return counted
        return f"{counted} ({value})"

    def short(self) -> str:
        """``"5 time (TR 2 s)"`` for time with an even step, else ``"2 echo"`` (no values)."""
        if self.name == "time" and self.step is not None:
            return self.summary()
        return f"{self.size} {self.name}"

    def summary(self) -> str:
        """``"5 time (TR 2 s)"``, ``"2 echo (TE 7.001, 10 ms)"``, ``"2 part (...)"``.

        The size column of ``volumeviz info`` after the spatial size.
        """
        head = f"{self.size} {self.name}"
        step = self.step
        if self.name == "time" and step is not None:
            what = "TR" if "Repetition Time" in self.value_source else "every"
            return f"{head} ({what} {format_value(step, self.unit)})"
        shown = [format_value(v, "") if not isinstance(v, str) else v for v in self.values[:4]] + (
            ["..."] if self.size > 4 else []
        )
        unit = f" {self.unit}" if self.numeric and self.unit else ""
        prefix = {"echo": "TE ", "b-value": "b "}.get(self.name, "")
        return f"{head} ({prefix}{', '.join(shown)}{unit})"

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: name, size, values, unit, source, value_source, step."""
        return {
            "name": self.name,
            "size": self.size,
            "values": [v if isinstance(v, str) else round(float(v), 6) for v in self.values],
            "unit": self.unit,
            "source": self.source,
            "value_source": self.value_source,
            "step": None if self.step is None else round(self.step, 6),
        }


@dataclass(frozen=True, slots=True)
class DimensionIndex:
    """Which index of one extra dimension a Volume is (carried in ``Volume.meta.dims``).

    Examples
    --------
    >>> DimensionIndex("echo", 1, 2, 10.0, "ms").label
    'echo 2/2 (TE 10 ms)'
    """

    name: str
    index: int
    size: int
    value: float | str
    unit: str = ""

    @property
    def label(self) -> str:
        """``"time 3/10 (4 s)"`` (1-based, for people)."""
        return Dimension(self.name, _pad(self.value, self.index, self.size), self.unit).label(
            self.index
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (``index`` 0-based)."""
        value = self.value if isinstance(self.value, str) else round(float(self.value), 6)
        return {
            "name": self.name,
            "index": self.index,
            "size": self.size,
            "value": value,
            "unit": self.unit,
        }


def _pad(value: float | str, index: int, size: int) -> tuple[float | str, ...]:
    out: list[float | str] = [value] * size
    out[index] = value
    return tuple(out)


def parse_index(specs: str | Iterable[str]) -> dict[str, int]:
    """``--index NAME=K`` texts (1-based K, as the picture labels count) to ``{NAME: K-1}``.

    Several may be given as separate texts or comma-separated in one: ``"time=3,echo=2"``.

    Raises
    ------
    UsageError
        Not ``NAME=K``, a K below 1, or a name given twice.

    Examples
    --------
    >>> parse_index(["time=3"]), parse_index("time=3, echo=2")
    ({'time': 2}, {'time': 2, 'echo': 1})
    """
    from volumeviz.errors import UsageError

    texts = [specs] if isinstance(specs, str) else list(specs)
    out: dict[str, int] = {}
    for text in texts:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            name, sep, value = (x.strip() for x in part.partition("="))
            if not sep or not name or not value.lstrip("+-").isdigit():
                raise UsageError(
                    f"--index needs NAME=K (K counted from 1, e.g. time=3 or echo=2), got {part!r}"
                )
            k = int(value)
            if k < 1:
                raise UsageError(f"--index {part}: K counts from 1 (the first {name} is 1)")
            if name in out:
                raise UsageError(f"--index gives {name!r} twice")
            out[name] = k - 1
    return out
