"""MultiVolume: one series of several Volumes on one grid, along named extra dimensions.

fMRI and DWI, dynamic and perfusion series, cardiac phases, multi-echo and magnitude/phase pairs
hold several 3D volumes on the same grid. A :class:`MultiVolume` holds the grid (origin, spacing,
direction, size: every volume shares it), the extra :class:`~volumeviz.model.dimensions.Dimension`
list (time, echo ...) and a *reader* that makes the Volume of one index when it is asked for:
nothing is read at construction, and at most ``cache`` volumes are kept, so iterating over a
series larger than memory needs about one volume of memory.

Indices are tuples with one entry per dimension (0-based), or a mapping ``{"time": 4}`` (missing
dimensions default to 0), or a single int when there is one dimension. Volumes are ordered as the
tuples in C order (the last dimension fastest); io orders the dimensions so that this is the
storage order, dcm2niix's volume order.

Some indices may have no volume (a time point missing a slice, an echo present at some positions
only): they are listed in :attr:`MultiVolume.missing` with the reason, are skipped when
iterating, and raise :class:`~volumeviz.errors.SeriesGeometryError` when asked for.

Numpy only (no VTK, no pydicom).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz._face import on_command_line
from volumeviz.errors import SeriesGeometryError, UsageError
from volumeviz.model.dimensions import Dimension, DimensionIndex
from volumeviz.model.volume import GeometryIssue, Volume, VolumeMeta

__all__ = ["IndexSpec", "MultiVolume"]

#: an index: a tuple (one int per dimension), a mapping {name: int}, one int, or None (= first)
IndexSpec = Sequence[int] | Mapping[str, int] | int | None

#: grids of two volumes agree when origins are this close (mm) and directions this close
_GRID_TOL_MM = 0.01
_DIRECTION_TOL = 1e-4


class MultiVolume:
    """Several Volumes on one grid along named extra dimensions, each read when asked for.

    Parameters
    ----------
    dims
        The extra dimensions, outermost first (at least one).
    reader
        ``reader(index) -> Volume`` for an index tuple that is not missing. It must return a
        Volume on the grid given here (checked: a reader that returns another grid raises).
    origin, spacing, direction, size
        The grid every volume shares (SimpleITK conventions, LPS mm; ``size`` is ``(ni, nj,
        nk)``).
    meta
        Series-level provenance (the volumes carry their own, with ``meta.dims`` filled in).
    issues
        What the loader found about the series as a whole (missing volumes ...).
    rule
        One line saying which rule told the volumes apart.
    missing
        Index tuples that have no volume, each with the reason.
    cache
        How many volumes to keep after reading (default 1; 0 keeps none).

    Examples
    --------
    >>> import numpy as np
    >>> from volumeviz.model.dimensions import Dimension
    >>> from volumeviz.model.volume import Volume
    >>> def read(idx):
    ...     return Volume(np.full((2, 3, 4), idx[0], np.int16))
    >>> mv = MultiVolume(
    ...     (Dimension("time", (0.0, 2.0, 4.0), "s"),), read,
    ...     origin=(0, 0, 0), spacing=(1, 1, 1), direction=np.eye(3), size=(4, 3, 2),
    ... )
    >>> mv.shape, len(mv), mv.frame_rate
    ((3,), 3, 0.5)
    >>> vol = mv.volume({"time": 2})
    >>> int(vol.array[0, 0, 0]), vol.meta.dims[0].label
    (2, 'time 3/3 (4 s)')
    """

    def __init__(
        self,
        dims: Sequence[Dimension],
        reader: Callable[[tuple[int, ...]], Volume],
        *,
        origin: Sequence[float],
        spacing: Sequence[float],
        direction: npt.ArrayLike,
        size: Sequence[int],
        meta: VolumeMeta | None = None,
        issues: Sequence[GeometryIssue] = (),
        rule: str = "",
        missing: Mapping[tuple[int, ...], str] | None = None,
        cache: int = 1,
    ) -> None:
        self.dims: tuple[Dimension, ...] = tuple(dims)
        if not self.dims:
            raise ValueError("a MultiVolume needs at least one extra dimension")
        names = [d.name for d in self.dims]
        if len(set(names)) != len(names):
            raise ValueError(f"dimension names repeat: {names}")
        self._reader = reader
        self.origin = tuple(float(v) for v in origin)
        self.spacing = tuple(float(v) for v in spacing)
        d = np.array(direction, dtype=float).reshape(3, 3)
        d.setflags(write=False)
        self.direction = d
        self.size = tuple(int(v) for v in size)
        self.meta = meta or VolumeMeta()
        self.issues: tuple[GeometryIssue, ...] = tuple(issues)
        self.rule = rule
        self.missing: dict[tuple[int, ...], str] = dict(missing or {})
        for idx in self.missing:
            self._check_tuple(idx)
        self.cache = max(0, int(cache))
        self._cached: OrderedDict[tuple[int, ...], Volume] = OrderedDict()

    # -- shape -------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Size of each extra dimension, outermost first."""
        return tuple(d.size for d in self.dims)

    @property
    def names(self) -> tuple[str, ...]:
        """Dimension names, outermost first."""
        return tuple(d.name for d in self.dims)

    def dimension(self, name: str) -> Dimension:
        """The dimension called ``name`` (:class:`~volumeviz.errors.UsageError` if none)."""
        for d in self.dims:
            if d.name == name:
                return d
        raise UsageError(self._unknown(name))

    def indices(self) -> list[tuple[int, ...]]:
        """Every index that has a volume, in C order (the storage / dcm2niix order)."""
        return [
            idx
            for idx in itertools.product(*(range(n) for n in self.shape))
            if idx not in self.missing
        ]

    def __len__(self) -> int:
        """Number of volumes that can be read (missing ones excluded)."""
        total = 1
        for n in self.shape:
            total *= n
        return total - len(self.missing)

    @property
    def frame_rate(self) -> float | None:
        """Volumes per second along ``time`` where its step is even, else None."""
        for d in self.dims:
            if d.name == "time":
                return d.frame_rate
        return None

    @property
    def affine(self) -> npt.NDArray[np.float64]:
        """4x4 matrix taking homogeneous ``(i, j, k, 1)`` to LPS mm (every volume's)."""
        m = np.eye(4)
        m[:3, :3] = self.direction * np.asarray(self.spacing)[None, :]
        m[:3, 3] = self.origin
        return m

    # -- indexing ----------------------------------------------------------------------------
    def _unknown(self, name: str) -> str:
        near = difflib.get_close_matches(name, self.names, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        sizes = ", ".join(f"{d.name} ({d.size})" for d in self.dims)
        return f"no dimension {name!r}{hint}; this series has: {sizes}"

    def _check_tuple(self, idx: tuple[int, ...]) -> None:
        if len(idx) != len(self.dims):
            raise UsageError(
                f"index {idx} needs {len(self.dims)} value(s): {', '.join(self.names)}"
            )
        for k, d in zip(idx, self.dims, strict=True):
            if not 0 <= k < d.size:
                if on_command_line():  # the CLI counts from 1, as the pictures do
                    raise UsageError(
                        f"--index {d.name}={k + 1}: this series has {d.size} {d.name} value(s) "
                        f"(--index {d.name}=1 .. {d.name}={d.size})"
                    )
                raise UsageError(
                    f"{d.name} index {k} is outside 0..{d.size - 1} (0-based; {d.size} "
                    f"{d.name} value(s))"
                )

    def index(self, spec: IndexSpec = None) -> tuple[int, ...]:
        """Normalise ``spec`` to an index tuple (0-based); unnamed dimensions default to 0.

        ``None`` is the first index that has a volume.

        Raises
        ------
        UsageError
            An unknown dimension name (with a suggestion) or an index out of range.
        """
        if spec is None:
            available = self.indices()
            idx = available[0] if available else tuple(0 for _ in self.dims)
        elif isinstance(spec, Mapping):
            unknown = [n for n in spec if n not in self.names]
            if unknown:
                raise UsageError(self._unknown(str(unknown[0])))
            idx = tuple(int(spec.get(n, 0)) for n in self.names)
        elif isinstance(spec, (int, np.integer)):
            if len(self.dims) != 1:
                raise UsageError(
                    f"one int indexes a single dimension; this series has {len(self.dims)}: "
                    f"{', '.join(self.names)} (pass a mapping such as {{'{self.names[0]}': 0}})"
                )
            idx = (int(spec),)
        else:
            idx = tuple(int(v) for v in spec)
        self._check_tuple(idx)
        return idx

    def label(self, spec: IndexSpec = None) -> str:
        """``"time 3/10 (4 s) · echo 1/2 (TE 7 ms)"`` for an index (1-based, for people)."""
        idx = self.index(spec)
        return " · ".join(d.label(k) for d, k in zip(self.dims, idx, strict=True))

    def dim_indices(self, spec: IndexSpec = None) -> tuple[DimensionIndex, ...]:
        """The :class:`DimensionIndex` entries of an index (what ``Volume.meta.dims`` holds)."""
        idx = self.index(spec)
        return tuple(
            DimensionIndex(d.name, k, d.size, d.values[k], d.unit)
            for d, k in zip(self.dims, idx, strict=True)
        )

    # -- reading -----------------------------------------------------------------------------
    def volume(self, spec: IndexSpec = None) -> Volume:
        """Read (or take from the cache) the Volume at an index.

        Raises
        ------
        SeriesGeometryError
            The index has no volume (the reason names what is missing).
        UsageError
            A bad index.
        """
        idx = self.index(spec)
        if idx in self.missing:
            raise SeriesGeometryError(
                f"{self.meta.series_description or self.meta.series_uid or 'series'}: "
                f"{self.label(idx)} cannot be loaded: {self.missing[idx]}"
            )
        hit = self._cached.get(idx)
        if hit is not None:
            self._cached.move_to_end(idx)
            return hit
        vol = self._reader(idx)
        self._check_grid(vol, idx)
        vol = vol.replace(meta=dataclasses.replace(vol.meta, dims=self.dim_indices(idx)))
        if self.cache:
            self._cached[idx] = vol
            while len(self._cached) > self.cache:
                self._cached.popitem(last=False)
        return vol

    def __getitem__(self, spec: IndexSpec) -> Volume:
        return self.volume(spec)

    def __iter__(self) -> Iterator[tuple[tuple[int, ...], Volume]]:
        """``(index, Volume)`` for every volume that can be read, one read at a time."""
        for idx in self.indices():
            yield idx, self.volume(idx)

    def clear_cache(self) -> None:
        """Drop the cached volumes."""
        self._cached.clear()

    def _check_grid(self, vol: Volume, idx: tuple[int, ...]) -> None:
        same = (
            vol.size == self.size
            and np.allclose(vol.origin, self.origin, atol=_GRID_TOL_MM)
            and np.allclose(vol.spacing, self.spacing, rtol=1e-4, atol=1e-6)
            and np.allclose(vol.direction, self.direction, atol=_DIRECTION_TOL)
        )
        if not same:
            got = tuple(round(v, 3) for v in vol.origin)
            want = tuple(round(v, 3) for v in self.origin)
            raise SeriesGeometryError(
                f"{self.label(idx)}: volume grid {vol.size} at {got} differs from the series "
                f"grid {self.size} at {want}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON summary: dims, rule, missing indices with reasons, grid."""
        return {
            "dims": {d.name: d.size for d in self.dims},
            "dimensions": [d.to_dict() for d in self.dims],
            "rule": self.rule,
            "missing": [{"index": list(k), "reason": v} for k, v in sorted(self.missing.items())],
            "size": list(self.size),
            "spacing": [round(v, 6) for v in self.spacing],
            "origin": [round(v, 6) for v in self.origin],
        }

    def __repr__(self) -> str:
        dims = " x ".join(d.summary() for d in self.dims)
        return (
            f"MultiVolume(size={self.size} x {dims}, volumes={len(self)}, "
            f"missing={len(self.missing)}, modality={self.meta.modality or '?'})"
        )
