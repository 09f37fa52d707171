"""``load_series``: a DICOM folder, file list or DICOMDIR to a correctly placed :class:`Volume`.

Steps: :func:`~volumeviz.io.discover.scan` reads headers only and plans every series (sort by
position along the normal, spacing from positions, issues); one series is chosen; its pixels are
read by SimpleITK's ``ImageSeriesReader`` on the sorted file list (plain native greyscale
straight from the bytes the scan located, where tests prove it identical:
:mod:`volumeviz.io._native`; pydicom decodes what SimpleITK cannot, and multi-frame files); the
modality LUT is applied once; stacks that are not on a regular grid are resampled
(:func:`volumeviz.ops.resample.resample_slices`).

The returned array is read-only (no second copy); Volumes are values: make a new array to
change voxels.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz._face import option
from volumeviz.errors import DicomReadError, NoSeriesError, SeriesGeometryError, UsageError
from volumeviz.io._decode import decoding
from volumeviz.io.discover import quiet_pydicom, scan
from volumeviz.io.header import Header
from volumeviz.model.multivolume import IndexSpec, MultiVolume
from volumeviz.model.series import ScanResult, SeriesInfo, SliceRef, representative_window
from volumeviz.model.stamps import loader_actions
from volumeviz.model.volume import GeometryIssue, Volume, VolumeMeta, WindowPreset

log = logging.getLogger("volumeviz.io")

__all__ = [
    "choose_dtype",
    "load_multivolume",
    "load_scanned",
    "load_series",
    "load_series_dims",
    "open_scanned",
    "select_series",
    "volume_part",
]

_INT16 = (-32768, 32767)


def _integral(x: float) -> bool:
    return float(x).is_integer()


def choose_dtype(slices: Sequence[SliceRef]) -> str:
    """Choose the output type after the modality LUT.

    ``int16`` when every rescale is integral and the whole stored range fits; ``int32`` when
    integral but it might not fit (the loader then narrows to int16 if the actual values fit);
    else ``float32``.

    Examples
    --------
    >>> from volumeviz.model.series import SliceRef
    >>> ct = SliceRef("a", None, 2, 2, None, None, None, slope=1, intercept=-1024, bits_stored=12)
    >>> choose_dtype([ct])
    'int16'
    >>> choose_dtype([SliceRef("b", None, 2, 2, None, None, None, slope=1.28)])
    'float32'
    """
    lo_all, hi_all = 0.0, 0.0
    for s in slices:
        if s.samples != 1:
            return "int16"  # colour is converted to 8-bit grey
        if s.float_pixels or not (_integral(s.slope) and _integral(s.intercept)):
            return "float32"
        bits = max(1, min(s.bits_stored, 32))
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if s.signed else (0, 2**bits - 1)
        a, b = sorted((lo * s.slope + s.intercept, hi * s.slope + s.intercept))
        lo_all, hi_all = min(lo_all, a), max(hi_all, b)
    if lo_all >= _INT16[0] and hi_all <= _INT16[1]:
        return "int16"
    if lo_all >= -(2**31) and hi_all < 2**31:
        return "int32"  # integral but the stored range could overflow int16: check the data
    return "float32"


def select_series(result: ScanResult, series: int | str | None, *, source: str = "") -> SeriesInfo:
    """Pick the series to load: by label, number, UID, key (``uid#2``) or index; else the largest.

    ``series`` may be the label ``volumeviz info`` prints (``"801"``, ``"801 [2]"`` for part 2 of
    a split series, see :func:`volumeviz.model.series.series_labels`), a Series Number (int or
    numeric string), a Series Instance UID, a split key such as ``"1.2.3#2"``, or ``"@n"`` for the
    n-th series (0-based) in ``info``'s order. Without it the largest reconstructable series is
    chosen and the choice is logged (stderr).

    Raises
    ------
    NoSeriesError
        Nothing loadable, or ``series`` matches nothing / several parts (lists what exists).
    """
    where = source or "input"
    if not result.series:
        raise _nothing_found(result, where)
    listing = result.describe()
    if series is not None:
        text = str(series).strip()
        if text.startswith("@") and text[1:].isdigit():
            idx = int(text[1:])
            if idx >= len(result.series):
                raise NoSeriesError(f"{where}: no series @{idx}; found {listing}")
            return result.series[idx]
        by_label = result.find(text)
        matches = [by_label] if by_label is not None else []
        if not matches:
            matches = [s for s in result.series if s.key == text]
        if not matches:
            matches = [s for s in result.series if s.uid == text]
        if not matches and text.lstrip("+-").isdigit():
            matches = [s for s in result.series if s.number == int(text)]
        if not matches:
            raise NoSeriesError(f"{where}: no series {text!r}; found {listing}")
        usable = [s for s in matches if s.plan is not None and not _is_localizer(s)]
        if len(usable) == 1:
            return usable[0]
        if len(matches) == 1:
            return matches[0]
        if len(usable) > 1:
            labels = result.labels()
            parts = ", ".join(f"{labels[s.key]!r} ({s.split_reason})" for s in usable)
            raise NoSeriesError(
                f"{where}: series {text!r} has {len(usable)} parts; pick one with "
                f"{option('series')}: {parts}"
            )
        return matches[0]
    images = [s for s in result.series if not s.derived]
    if not images:
        # a SEG, an RT Dose ... is never "the image" of a folder; loading one must be asked for
        labels = result.labels()
        kinds = ", ".join(f"{labels[s.key]} ({s.derived})" for s in result.series)
        raise NoSeriesError(
            f"{where}: no image series, only derived object(s): {kinds}; load one by name "
            f"with {option('series', 'LABEL')}"
        )
    candidates = [s for s in images if s.reconstructable and not _is_localizer(s)]
    refused = [s for s in images if s.plan is None]
    if not candidates and refused:
        # never fall back silently to an unplaced image when a real stack was refused
        worst = max(refused, key=lambda s: len(s.slices))
        others = f" (other series: {listing})" if len(result.series) > 1 else ""
        raise SeriesGeometryError(f"{worst.refusal}{others}")
    if not candidates:
        candidates = [s for s in images if s.plan is not None]
    chosen = max(candidates, key=lambda s: s.n_voxels)
    if len(result.series) > 1:
        log.warning(
            "%s: %d series found; loading the largest reconstructable: %s %s '%s' "
            "(%d slices); choose another with %s",
            where,
            len(result.series),
            result.labels()[chosen.key],
            chosen.modality,
            chosen.description,
            len(chosen.slices),
            option("series", "LABEL"),
        )
    return chosen


def _is_localizer(s: SeriesInfo) -> bool:
    return bool(s.slices) and all(x.is_localizer for x in s.slices)


def _nothing_found(result: ScanResult, where: str) -> Exception:
    if result.derived and not result.rejected:
        if result.n_files == 1:
            d = result.derived[0]
            made_from = (
                f", made from series {', '.join(d.referenced_series_uids)}"
                if d.referenced_series_uids
                else ""
            )
            return DicomReadError(f"{d.path}: not an image: a {d.sop_class} ({d.kind}{made_from})")
        kinds = ", ".join(sorted({d.kind for d in result.derived}))
        return NoSeriesError(
            f"{where}: no DICOM image series; only {len(result.derived)} derived object(s) "
            f"({kinds}), not images"
        )
    if result.rejected:
        first = result.rejected[0].reason
        more = (
            f" (and {len(result.rejected) - 1} more rejected)" if len(result.rejected) > 1 else ""
        )
        if result.n_files == 1:
            return DicomReadError(first)
        return NoSeriesError(f"{where}: no loadable DICOM image series; {first}{more}")
    if result.notes and result.n_files == 1:
        return DicomReadError(result.notes[0])
    skipped = f"; {len(result.notes)} file(s) skipped ({result.notes[0]})" if result.notes else ""
    return NoSeriesError(
        f"{where}: no DICOM image series found in {result.n_files} file(s){skipped}"
    )


def _rejected_line(r: Any) -> str:
    """``path: reason`` of a rejected file, the path once (most reasons already start with it)."""
    return r.reason if str(r.reason).startswith(f"{r.path}: ") else f"{r.path}: {r.reason}"


def _meta(info: SeriesInfo, rejected: list[str]) -> VolumeMeta:
    h = info.header
    modality = info.modality
    rescale_type = str(h.get("rescale_type", "")).upper()
    units = "HU" if modality == "CT" and rescale_type in ("", "HU") else ""
    windows = tuple(
        WindowPreset(
            center=c,
            width=w,
            explanation=ex or "from (0028,1050)/(0028,1051) Window Center/Width",
        )
        for c, w, ex in h.get("windows", [])
    )
    chosen = representative_window(info.slices)
    if chosen is not None and windows:
        # the first window is the series' default: one that represents every file, not the
        # first file's (its other, named windows follow)
        first = windows[0]
        name = first.explanation if chosen.agree else f"{first.explanation}; {chosen.explanation}"
        windows = (WindowPreset(chosen.center, chosen.width, name), *windows[1:])
    return VolumeMeta(
        modality=modality,
        units=units,
        series_uid=info.uid,
        study_uid=h.get("study_uid", ""),
        frame_of_reference_uid=h.get("frame_of_reference_uid", ""),
        sop_class_uid=h.get("sop_class_uid", ""),
        series_number=info.number,
        series_description=info.description,
        study_description=h.get("study_description", ""),
        study_date=h.get("study_date", ""),
        study_time=h.get("study_time", ""),
        study_id=h.get("study_id", ""),
        manufacturer=h.get("manufacturer", ""),
        model=h.get("model", ""),
        body_part=h.get("body_part", ""),
        patient_position=h.get("patient_position", ""),
        patient_name=h.get("patient_name", ""),
        patient_id=h.get("patient_id", ""),
        patient_birth_date=h.get("patient_birth_date", ""),
        patient_sex=h.get("patient_sex", ""),
        patient_age=h.get("patient_age", ""),
        institution=h.get("institution", ""),
        accession_number=h.get("accession_number", ""),
        referring_physician=h.get("referring_physician", ""),
        windows=windows,
        source_files=tuple(info.files),
        extra={
            "series_key": info.key,
            "split_reason": info.split_reason,
            "rejected_files": rejected,
        },
    )


def _to_grey(arr: npt.NDArray[Any], h: Header, bits_stored: int) -> npt.NDArray[Any]:
    """Colour (RGB / YBR / PALETTE COLOR) to 8-bit luminance (ITU-R BT.601).

    RGB samples are scaled from their (0028,0101) Bits Stored to 0..255 (a 16- or 32-bit RGB
    image gives the same grey as its 8-bit twin); 16-bit palette entries from 16 bits
    (PS3.3 C.7.6.3.1.5), as :mod:`volumeviz.io.pixels` does for display.

    Raises
    ------
    HeaderError, DicomReadError
        A PALETTE COLOR lookup table that is malformed (checked by
        :func:`volumeviz.io.pixels.palette_table`).
    """
    if h.code("PhotometricInterpretation", None, "", lenient=True) == "PALETTE COLOR":
        from volumeviz.io.pixels import palette_table

        table, first, _ = palette_table(h)
        rgb = np.asarray(
            table[np.clip(np.asarray(arr, np.int64) - first, 0, len(table) - 1)], np.float64
        )
        top = 65535.0 if rgb.size and rgb.max() > 255 else 255.0
    else:
        rgb = np.asarray(arr, dtype=np.float64)
        top = float(2 ** max(1, min(bits_stored, 64)) - 1)
    rgb = rgb[..., :3] * (255.0 / top)
    grey = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.rint(grey).astype(np.float32)


def _read_frames(path: str, frames: set[int] | None) -> tuple[Any, dict[int, Any]] | None:
    """``(header, {frame: 2D array})`` for some frames of a multi-frame file.

    pydicom's ``iter_pixels`` reads only the requested frames from the file (one volume of a 4D
    enhanced file, not all of it). None when all frames are wanted or the file has no File Meta
    (the whole dataset is then decoded as before).
    """
    import pydicom
    from pydicom.pixels import iter_pixels

    if not frames:
        return None
    ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
    n = Header(ds, path).integer("NumberOfFrames", 1, low=1)
    if len(frames) >= n or "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        return None
    wanted = sorted(frames)
    return ds, dict(zip(wanted, iter_pixels(path, indices=wanted), strict=True))


def _read_pydicom(slices: Sequence[SliceRef], dtype: str) -> tuple[npt.NDArray[Any], bool]:
    """Decode with pydicom (all pixel plugins), apply each slice's rescale; (array, colour?)."""
    import pydicom

    s0 = slices[0]
    # "int32" means integral values that might not fit int16: fill int16 and widen only when a
    # slice needs it (never an int32 volume plus its int16 copy)
    out = np.empty((len(slices), s0.rows, s0.cols), dtype="int16" if dtype == "int32" else dtype)
    colour = False
    cache: dict[str, tuple[Any, Any]] = {}
    arr: Any
    # multi-frame files: decode only the frames asked for (one volume of a 4D file, not all)
    frames_of: dict[str, set[int]] = {}
    for s in slices:
        if s.frame is not None and s.n_frames > 1:
            frames_of.setdefault(s.path, set()).add(s.frame)
    for k, s in enumerate(slices):
        if s.path not in cache:
            cache.clear()
            what = (
                "(7FE0,0010) Pixel Data cannot be decoded "
                f"(transfer syntax {s.transfer_syntax or 'unknown'})"
            )
            with decoding(s.path, what):
                with quiet_pydicom():
                    some = _read_frames(s.path, frames_of.get(s.path))
                if some is not None:
                    ds, arr = some
                else:
                    with quiet_pydicom():
                        ds = pydicom.dcmread(s.path, force=True)
                    if "TransferSyntaxUID" not in ds.file_meta and s.transfer_syntax:
                        # a raw dataset without File Meta: discovery found it implicit VR LE
                        ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(s.transfer_syntax)
                    with quiet_pydicom():
                        arr = ds.pixel_array
            cache[s.path] = (ds, arr)
        ds, arr = cache[s.path]
        plane = arr[s.frame] if s.frame is not None and s.n_frames > 1 else arr
        if s.frame is not None and s.n_frames == 1 and plane.ndim == 3 and s.samples == 1:
            plane = plane[0]
        if s.mosaic is not None:
            from volumeviz.io.mosaic import tile_of

            plane = tile_of(plane, s)
        if s.samples != 1 or s.photometric == "PALETTE COLOR":
            plane = _to_grey(plane, Header(ds, s.path), s.bits_stored)
            colour = True
        if plane.shape != (s0.rows, s0.cols):
            raise DicomReadError(
                f"{s.label}: decoded pixels have shape {plane.shape}, but (0028,0010) Rows / "
                f"(0028,0011) Columns say {(s0.rows, s0.cols)}"
            )
        if s.slope != 1 or s.intercept != 0:
            ftype = np.float32 if dtype == "float32" else np.float64
            values: npt.NDArray[np.floating[Any]] = np.asarray(plane, dtype=ftype)
            values = values * float(s.slope) + float(s.intercept)
            plane = np.rint(values) if dtype != "float32" else values
        if out.dtype == np.int16 and dtype == "int32" and plane.size:
            if float(plane.min()) < _INT16[0] or float(plane.max()) > _INT16[1]:
                out = out.astype(np.int32)
        out[k] = plane
    out.setflags(write=False)
    return out, colour


def _read_pixels(
    slices: Sequence[SliceRef], dtype: str
) -> tuple[npt.NDArray[Any], list[GeometryIssue]]:
    issues: list[GeometryIssue] = []
    single_frame = all(s.frame is None and s.mosaic is None for s in slices)
    mono = all(s.samples == 1 and s.photometric != "PALETTE COLOR" for s in slices)
    # GDCM reads 8- and 16-bit integer words right; 1-bit, 32-bit and float pixel data go to
    # pydicom, which decodes every depth the standard allows (PS3.5 8.1.1)
    common = all(s.bits_allocated in (8, 16) and not s.float_pixels for s in slices)
    if single_frame and mono and common:
        from volumeviz.io._native import read_native

        native = read_native(slices, dtype)  # None unless proven the same as SimpleITK's
        if native is not None:
            return native, issues
        try:
            from volumeviz.io._sitk import read_files

            plane = (slices[0].rows, slices[0].cols)
            arr = read_files([s.path for s in slices], dtype, plane=plane)
            if arr.shape == (len(slices), slices[0].rows, slices[0].cols):
                return arr, issues
            log.debug("SimpleITK gave shape %s; decoding with pydicom", arr.shape)
        except RuntimeError as exc:
            log.debug("SimpleITK could not read the series (%s); decoding with pydicom", exc)
    arr, colour = _read_pydicom(slices, dtype)
    if colour:
        issues.append(
            GeometryIssue(
                "colour-to-grey",
                "colour image ((0028,0004) "
                f"{slices[0].photometric}) converted to 8-bit grey (BT.601 luminance)",
                action="converted",
            )
        )
    return arr, issues


def volume_part(info: SeriesInfo, index: tuple[int, ...]) -> SeriesInfo:
    """The plain 3D series of one volume (``index``) of a series with extra dimensions."""
    layout = info.dims
    if layout is None:
        return info
    return SeriesInfo(
        key=info.key,
        uid=info.uid,
        number=info.number,
        modality=info.modality,
        description=info.description,
        slices=[info.slices[i] for i in layout.cells[index]],
        split_reason=info.split_reason,
        header=info.header,
        plan=layout.plans[index],
    )


def open_scanned(
    info: SeriesInfo,
    *,
    strict: bool = False,
    rejected: Sequence[Any] = (),
    cache: int = 1,
) -> MultiVolume:
    """The :class:`MultiVolume` of a planned series with extra dimensions; reads no pixels.

    Raises
    ------
    UsageError
        The series is one 3D volume (no extra dimensions).
    SeriesGeometryError
        The series cannot be reconstructed (its refusal).
    """
    layout = info.dims
    if info.plan is None:
        raise SeriesGeometryError(info.refusal or f"series {info.key}: cannot be reconstructed")
    if layout is None or not layout.dims:
        where = info.files[0] if info.slices else info.key
        raise UsageError(
            f"{where}: series {info.key} is one 3D volume {info.plan.size}; it has no extra "
            "dimensions (time, echo ...)"
        )
    plan = info.plan

    def read(index: tuple[int, ...]) -> Volume:
        return load_scanned(volume_part(info, index), strict=strict, rejected=rejected)

    meta = _meta(info, [_rejected_line(r) for r in rejected])
    return MultiVolume(
        layout.dims,
        read,
        origin=plan.origin,
        spacing=plan.spacing,
        direction=plan.direction,
        size=plan.size,
        meta=meta,
        issues=layout.issues,
        rule=layout.rule,
        missing=layout.missing,
        cache=cache,
    )


def load_scanned(
    info: SeriesInfo,
    *,
    strict: bool = False,
    rejected: Sequence[Any] = (),
    index: IndexSpec = None,
) -> Volume:
    """Read the pixels of a planned series (see :func:`volumeviz.io.discover.scan`).

    For a series with extra dimensions, ``index`` picks the volume (default: the first);
    ``meta.dims`` of the result says which one it is.
    """
    if info.dims is not None and info.dims.dims:
        return open_scanned(info, strict=strict, rejected=rejected, cache=0).volume(index)
    if index is not None and index != {}:
        raise UsageError(
            f"series {info.key} has no extra dimensions (time, echo ...); index {index!r} "
            "cannot be used"
        )
    plan = info.plan
    if plan is None:
        raise SeriesGeometryError(info.refusal or f"series {info.key}: cannot be reconstructed")
    if strict:
        acted = [i.message for i in plan.issues if i.action in ("resampled", "dropped", "assumed")]
        if plan.geometry.assumed and not acted:
            acted = [f"geometry {plan.geometry.describe()}"]
        if acted:
            what = "; ".join(acted)
            raise SeriesGeometryError(
                f"{info.files[0]}: series {info.key} refused (strict=True): {what}"
            )
    slices = info.sorted_slices
    dtype = choose_dtype(slices)
    arr, extra_issues = _read_pixels(slices, dtype)
    if arr.dtype == np.int32:
        lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        if _INT16[0] <= lo and hi <= _INT16[1]:
            arr = arr.astype(np.int16)
    issues = list(plan.issues) + extra_issues
    if plan.resample:
        from volumeviz.ops.resample import resample_slices

        fill = float(arr.min()) if arr.size else 0.0
        arr = resample_slices(
            arr,
            plan.positions,
            plan.rows,
            plan.cols,
            plan.pixel_spacing,
            origin=plan.origin,
            spacing=plan.spacing,
            direction=plan.direction,
            size=plan.size,
            fill=fill,
            dtype=arr.dtype,
        )
    same = [r for r in rejected if getattr(r, "series_uid", "") == info.uid and info.uid]
    if same:
        issues.append(
            GeometryIssue(
                "rejected-files",
                f"{len(same)} file(s) of this series were rejected: {same[0].reason}"
                + (" ..." if len(same) > 1 else ""),
                size=float(len(same)),
                action="ignored",
            )
        )
    meta = _meta(info, [_rejected_line(r) for r in rejected])
    for line in loader_actions(issues):  # the pictures carry the same lines (stamped)
        log.info("series %s: %s", info.number if info.number is not None else info.key, line)
    return Volume(
        arr,
        origin=plan.origin,
        spacing=plan.spacing,
        direction=plan.direction,
        issues=tuple(issues),
        meta=meta,
        geometry=plan.geometry,
    )


def load_series(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    series: int | str | None = None,
    strict: bool = False,
    spacing_rtol: float = 0.01,
    perpendicular_tol: float = 1e-3,
    progress: Callable[[int, int], None] | None = None,
    index: IndexSpec = None,
    single_file: bool = False,
) -> Volume:
    """Load one DICOM image series as a :class:`Volume` in LPS millimetres.

    A series of several volumes on one grid (time, echo ...) gives its first volume, or the one
    ``index`` picks; :func:`load_multivolume` gives all of them.

    Parameters
    ----------
    path
        A folder (searched recursively), a file, a DICOMDIR, a list of files, or a PACS address
        (``dicomweb+https://HOST/PREFIX/studies/UID`` or ``dimse://AET@HOST:PORT/studies/UID``,
        see :mod:`volumeviz.io.pacs`: the series is chosen from metadata, then only it is
        retrieved into the local cache).
    series
        Which series: Series Number (int or numeric string), Series Instance UID, a split key
        (``"<uid>#2"``, as ``volumeviz info`` lists), or ``"@n"`` (n-th listed). Default: the
        largest reconstructable series (the choice is logged to stderr when there are several).
    strict
        Refuse (:class:`SeriesGeometryError`) instead of resampling or assuming geometry.
    spacing_rtol
        Relative tolerance for even slice spacing (default 0.01).
    perpendicular_tol
        Tolerance for parallel slices and for a shear (tilt) of the stack (default 1e-3).
    progress
        ``progress(done, total)`` while headers are read.
    index
        For a series with extra dimensions: which volume, 0-based, e.g. ``{"time": 4}`` (other
        dimensions default to 0), or a tuple with one int per dimension. Default: the first.
    single_file
        ``path`` is one file: load that file alone. By default one file of a multi-file series
        stands for its series, which is loaded from the file's folder (and the choice logged),
        see :func:`series_of_file`.

    Returns
    -------
    Volume
        ``array`` (k, j, i), CT as int16 HU where the rescale allows (else float32); ``issues``
        says what was found and done; ``meta`` has the UIDs, patient/study fields and windows.

    Raises
    ------
    NoSeriesError
        No path, no DICOM images, or ``series`` matches nothing.
    DicomReadError
        A single file that is not usable DICOM, or pixels that cannot be decoded.
    SeriesGeometryError
        Geometry missing or contradictory, or any correction under ``strict=True``.

    Examples
    --------
    >>> import tempfile
    >>> from volumeviz.model import phantom
    >>> from volumeviz.io.synth import write_synthetic_series
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_synthetic_series(phantom.asymmetric(16), folder, shuffle_names=True)
    >>> vol = load_series(folder)
    >>> vol.size, vol.array.dtype.name, vol.units
    ((16, 16, 16), 'int16', 'HU')
    """
    info, result, file_index = _choose(
        path, series, spacing_rtol, perpendicular_tol, progress, single_file=single_file
    )
    if index is None:
        index = file_index  # one file of a series with extra dimensions: its own volume
    return load_scanned(info, strict=strict, rejected=result.rejected, index=index)


def _choose(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    series: int | str | None,
    spacing_rtol: float,
    perpendicular_tol: float,
    progress: Callable[[int, int], None] | None,
    *,
    single_file: bool = False,
) -> tuple[SeriesInfo, ScanResult, tuple[int, ...] | None]:
    """Scan ``path`` (a PACS address: only the chosen series is retrieved) and choose a series.

    Also returns, when ``path`` is one file of a multi-file series (see
    :func:`series_of_file`, skipped with ``single_file``), the index of the file's volume in
    a series with extra dimensions (else None).
    """
    from volumeviz.io.pacs.address import is_address

    source = str(path) if isinstance(path, (str, os.PathLike)) else f"{len(path)} file(s)"
    if is_address(path):  # a PACS: choose the series from metadata, retrieve only that one
        from volumeviz.io.pacs import narrow

        addr, series = narrow(
            str(path), series, spacing_rtol=spacing_rtol, perpendicular_tol=perpendicular_tol
        )
        path = str(addr)
    options: dict[str, Any] = {
        "progress": progress,
        "spacing_rtol": spacing_rtol,
        "perpendicular_tol": perpendicular_tol,
    }
    found = series_of_file(path, **options) if series is None and not single_file else None
    file_index: tuple[int, ...] | None = None
    if found is not None:
        result, info, file_index = found
    else:
        result = scan(path, **options)
        info = select_series(result, series, source=source)
    for r in result.rejected:
        log.info("rejected %s", r.reason)
    return info, result, file_index


def load_series_dims(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    series: int | str | None = None,
    index: IndexSpec = None,
    progress: Callable[[int, int], None] | None = None,
    cache: int = 2,
) -> tuple[Volume, MultiVolume | None]:
    """One volume of a series, and the :class:`MultiVolume` it belongs to (None for 3D).

    What the window opens: it shows the volume and offers the series' extra dimensions. Same
    arguments as :func:`load_series`; ``cache`` is the MultiVolume's.
    """
    info, result, file_index = _choose(path, series, 0.01, 1e-3, progress)
    if index is None:
        index = file_index
    if info.dims is not None and info.dims.dims:
        mv = open_scanned(info, rejected=result.rejected, cache=cache)
        return mv.volume(index), mv
    return load_scanned(info, rejected=result.rejected, index=index), None


def series_of_file(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    **scan_options: Any,
) -> tuple[ScanResult, SeriesInfo, tuple[int, ...] | None] | None:
    """When ``path`` is one file of a multi-file series in its folder: that series.

    A file that is one slice of a series (a user picked ``IM0017.dcm``) stands for its series:
    the files beside it (its folder, not below) are scanned and the series (or split part)
    holding the file is returned with, for a series with extra dimensions, the index of the
    volume (time point, echo ...) the file is in; the choice is logged. None when ``path`` is
    not a single file, or its series has no other file there (then the file alone is what there
    is), or the files together do not form a volume with it.
    """
    from volumeviz.io.dicomdir import is_dicomdir

    if not isinstance(path, (str, os.PathLike)):
        return None
    p = Path(path)
    if not p.is_file() or is_dicomdir(p):
        return None
    try:
        siblings = sorted(f for f in p.parent.iterdir() if f.is_file())
    except OSError:
        return None
    if len(siblings) < 2:
        return None
    result = scan(siblings, **scan_options)
    me = str(p.parent / p.name)
    info = next((s for s in result.series if any(x.path == me for x in s.slices)), None)
    if info is None or info.n_files < 2:
        return None
    num = "" if info.number is None else f"{info.number} "
    if info.plan is None:  # the files together make no series (copies in other syntaxes ...)
        log.warning(
            "%s: the %d files of its series %s'%s' in its folder do not form a volume (%s); "
            "showing the file alone",
            p,
            info.n_files,
            num,
            info.description,
            info.refusal,
        )
        return None
    mine = {i for i, x in enumerate(info.slices) if x.path == me}
    used = set() if info.dims is not None and info.dims.dims else set(info.plan.order)
    file_index: tuple[int, ...] | None = None
    if info.dims is not None and info.dims.dims:
        # the volume (time point, echo ...) the file belongs to is the one shown
        for cell_index, cell in sorted(info.dims.cells.items()):
            if mine <= set(cell):
                used, file_index = mine, cell_index
                break
    if not mine <= used:  # the file repeats a position another file fills (a copy)
        log.warning(
            "%s: another file of series %s'%s' in its folder holds the same slice; showing the "
            "file alone",
            p,
            num,
            info.description,
        )
        return None
    log.warning(
        "%s is one of the %d files of series %s'%s' in its folder: loading the series "
        "(to show the file alone: %s)",
        p,
        info.n_files,
        num,
        info.description,
        option("single_file", True),
    )
    return result, info, file_index


def load_multivolume(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    series: int | str | None = None,
    strict: bool = False,
    spacing_rtol: float = 0.01,
    perpendicular_tol: float = 1e-3,
    progress: Callable[[int, int], None] | None = None,
    cache: int = 1,
    single_file: bool = False,
) -> MultiVolume:
    """Open a series with extra dimensions (time, echo ...) as a :class:`MultiVolume`.

    Only headers are read here; each volume is read when it is asked for, and at most ``cache``
    volumes are kept, so a 4D series larger than memory opens and iterates in about one
    volume of memory. The dimensions, which rule told the volumes apart, and the volumes that
    are missing (with what is missing) are on the result.

    Parameters
    ----------
    path, series, strict, spacing_rtol, perpendicular_tol, progress, single_file
        As for :func:`load_series`.
    cache
        How many volumes to keep after reading them (default 1).

    Returns
    -------
    MultiVolume

    Raises
    ------
    UsageError
        The chosen series is one 3D volume.
    NoSeriesError, DicomReadError, SeriesGeometryError
        As for :func:`load_series`.

    Examples
    --------
    >>> import tempfile
    >>> from volumeviz.model import phantom
    >>> from volumeviz.io.synth import write_synthetic_series
    >>> folder = tempfile.mkdtemp()
    >>> for t in range(3):
    ...     _ = write_synthetic_series(
    ...         phantom.asymmetric(8, modality="MR"), folder, prefix=f"T{t}", modality="MR",
    ...         series_uid="1.2.826.0.1.3680043.8.498.5", first_instance=1 + 8 * t,
    ...         elements={"TemporalPositionIdentifier": t + 1, "RepetitionTime": 2000})
    >>> mv = load_multivolume(folder)
    >>> mv.shape, mv.names, mv.volume({"time": 2}).meta.dims[0].label
    ((3,), ('time',), 'time 3/3 (4 s)')
    """
    info, result, _ = _choose(
        path, series, spacing_rtol, perpendicular_tol, progress, single_file=single_file
    )
    return open_scanned(info, strict=strict, rejected=result.rejected, cache=cache)
