"""Load from a PACS: a PACS address is one more *source* of files for discovery.

Two protocols, one address syntax (:mod:`volumeviz.io.pacs.address`):

- ``dicomweb+http(s)://HOST[:PORT]/PREFIX`` -- DICOMweb (PS3.18): QIDO-RS to search, WADO-RS for
  metadata and instances, STOW-RS to store (through dicomweb-client);
- ``dimse://CALLED_AET@HOST:PORT`` -- DIMSE (PS3.4/PS3.7): C-FIND to search and for headers,
  C-GET (or C-MOVE to our own storage SCP) to retrieve, C-STORE to store (through pynetdicom);

each optionally followed by ``/studies/STUDY_UID[/series/SERIES_UID]``.

:func:`query_studies` lists studies; :func:`scan_metadata` plans the series of a study from
headers alone (no pixel data crosses the network), exactly as a folder scan would;
:func:`fetch` retrieves instances in parallel into the local cache
(:mod:`volumeviz.io.pacs.cache`) and returns the cached files, which discovery then reads like any
others: no loader knows where a file came from. ``load_series(ADDRESS)`` first chooses the series
from metadata (:func:`narrow`), so only that series is retrieved. :func:`store` sends files back.
Settings (AE title, cache, credentials, TLS) are in :mod:`volumeviz.io.pacs.settings`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from volumeviz.errors import NoSeriesError, PacsError, UsageError
from volumeviz.io.pacs.address import PacsAddress, is_address, parse_address
from volumeviz.io.pacs.settings import PacsSettings, configure, current
from volumeviz.model.series import ScanResult, SeriesInfo

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from volumeviz.io.pacs.cache import InstanceCache

log = logging.getLogger(__name__)

__all__ = [
    "FetchResult",
    "PacsAddress",
    "PacsSettings",
    "StudyRecord",
    "configure",
    "date_range",
    "fetch",
    "is_address",
    "local_folder",
    "narrow",
    "parse_address",
    "query_studies",
    "scan_metadata",
    "store",
]


@dataclass(frozen=True)
class StudyRecord:
    """One study as a study search (QIDO-RS / C-FIND STUDY) describes it."""

    study_uid: str
    patient_name: str
    patient_id: str
    study_date: str
    study_time: str
    description: str
    accession_number: str
    modalities: tuple[str, ...]
    n_series: int | None
    n_instances: int | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        d = asdict(self)
        d["modalities"] = list(self.modalities)
        return d


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch` did: the cached files (in the PACS' instance order) and counts."""

    address: PacsAddress
    files: tuple[Path, ...]
    from_cache: int
    retrieved: int
    bytes_retrieved: int
    seconds: float


def _connect(addr: PacsAddress, settings: PacsSettings) -> Any:
    if addr.protocol == "dicomweb":
        from volumeviz.io.pacs.dicomweb import DicomwebConnection

        return DicomwebConnection(addr, settings)
    from volumeviz.io.pacs.dimse import DimseConnection

    return DimseConnection(addr, settings)


# -- query -------------------------------------------------------------------------------------


def _text(ds: Dataset, kw: str) -> str:
    from volumeviz.io.header import Header

    return Header(ds, "PACS answer").text(kw, lenient=True)


def _count(ds: Dataset, kw: str) -> int | None:
    from volumeviz.io.header import Header

    return Header(ds, "PACS answer").integer(kw, None, low=0, lenient=True)


def _date_filter(text: str) -> str:
    """A DICOM date or range from ``20240131``, ``2024-01-31``, ``20240101-20240131`` ..."""
    t = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        t = t.replace("-", "")
    t = re.sub(r"(\d{4})-(\d{2})-(\d{2})", r"\1\2\3", t) if ".." in t else t
    t = t.replace("..", "-")
    if not re.fullmatch(r"\d{8}|\d{8}-|-\d{8}|\d{8}-\d{8}", t):
        raise UsageError(
            f"--date {text!r}: use YYYYMMDD, YYYY-MM-DD, or a range YYYYMMDD-YYYYMMDD "
            "(either end may be left open)"
        )
    return t


def date_range(text: str) -> tuple[str, str]:
    """``(from, to)`` as ``YYYYMMDD`` (``""`` for an open end) from a ``--date`` filter.

    Examples
    --------
    >>> date_range("2015-02-06"), date_range("20150101-"), date_range("-20151231")
    (('20150206', '20150206'), ('20150101', ''), ('', '20151231'))
    """
    t = _date_filter(text)
    if "-" not in t:
        return t, t
    lo, _, hi = t.partition("-")
    return lo, hi


def query_studies(
    address: str | PacsAddress,
    *,
    patient: str | None = None,
    date: str | None = None,
    modality: str | None = None,
) -> list[StudyRecord]:
    """List the studies of a PACS (QIDO-RS or C-FIND at STUDY level), headers only.

    Parameters
    ----------
    address
        A PACS address; a study in it narrows the search to that study.
    patient
        Patient ID, or a Patient's Name (DICOM wildcards ``*`` ``?``; without one the text is
        matched anywhere in the name).
    date
        Study Date ``YYYYMMDD`` (or ``YYYY-MM-DD``) or a range ``FROM-TO`` (an end may be open).
    modality
        A modality in the study (``CT``, ``MR`` ...).

    Returns
    -------
    list of StudyRecord
        Sorted by date, then patient.

    Raises
    ------
    PacsError
        The PACS cannot be reached or refuses (one line naming the address).
    UsageError
        A malformed address or filter.
    """
    addr = parse_address(address)
    conn = _connect(addr, current())
    base: dict[str, str] = {}
    if addr.study_uid:
        base["StudyInstanceUID"] = addr.study_uid
    if date:
        base["StudyDate"] = _date_filter(date)
    if modality:
        m = modality.strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{1,16}", m):
            raise UsageError(f"--modality {modality!r}: a DICOM modality such as CT or MR")
        base["ModalitiesInStudy"] = m
    queries = [base]
    if patient:
        p = patient.strip()
        queries = [{**base, "PatientID": p}, {**base, "PatientName": p}]
        if not any(c in p for c in "*?"):  # part of a name
            queries.append({**base, "PatientName": f"*{p}*"})
    found: dict[str, StudyRecord] = {}
    for q in queries:
        for ds in conn.search_studies(q):
            rec = _study_record(ds)
            if rec.study_uid and rec.study_uid not in found:
                found[rec.study_uid] = rec
    return sorted(found.values(), key=lambda r: (r.study_date, r.patient_name, r.study_uid))


def _study_record(ds: Dataset) -> StudyRecord:
    modalities = tuple(m for m in _text(ds, "ModalitiesInStudy").split("\\") if m)
    return StudyRecord(
        study_uid=_text(ds, "StudyInstanceUID"),
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        study_date=_text(ds, "StudyDate"),
        study_time=_text(ds, "StudyTime"),
        description=_text(ds, "StudyDescription"),
        accession_number=_text(ds, "AccessionNumber"),
        modalities=modalities,
        n_series=_count(ds, "NumberOfStudyRelatedSeries"),
        n_instances=_count(ds, "NumberOfStudyRelatedInstances"),
    )


def _need_study(addr: PacsAddress) -> str:
    if not addr.study_uid:
        raise UsageError(
            f"{addr}: name a study (…/studies/STUDY_UID); `volumeviz info {addr}` lists them"
        )
    return addr.study_uid


def _instance_label(addr: PacsAddress, ds: Dataset) -> str:
    study = _text(ds, "StudyInstanceUID") or addr.study_uid
    series = _text(ds, "SeriesInstanceUID") or addr.series_uid or "?"
    return f"{addr.root}/studies/{study}/series/{series}/instances/{_text(ds, 'SOPInstanceUID')}"


def scan_metadata(
    address: str | PacsAddress,
    *,
    spacing_rtol: float = 0.01,
    perpendicular_tol: float = 1e-3,
) -> ScanResult:
    """Plan the series of a PACS study (or one series) from headers only, like a folder scan.

    The headers come from WADO-RS metadata (DICOMweb) or an IMAGE-level C-FIND (DIMSE); no pixel
    data is transferred. Each slice's ``path`` is its instance's address. Over DIMSE, enhanced
    multi-frame instances cannot be planned (C-FIND carries no functional group sequences):
    their series are listed unplanned (``plan`` None, ``refusal`` saying why and what C-FIND
    told: rows, columns, frames) and planned once retrieved.

    Raises
    ------
    NoSeriesError
        The study (or series) is not on the PACS.
    PacsError
        The PACS cannot be reached or refuses.
    """
    result, unplanned = _scan_metadata(parse_address(address), spacing_rtol, perpendicular_tol)
    result.series.extend(_unplanned_series(unplanned))
    result.series.sort(key=lambda s: (s.number if s.number is not None else 1 << 30, s.key))
    return result


def _unplanned_series(datasets: Sequence[Dataset]) -> list[SeriesInfo]:
    """One unplanned SeriesInfo per series of enhanced multi-frame C-FIND answers."""
    from volumeviz.io.header import Header

    by_uid: dict[str, list[Dataset]] = {}
    for ds in datasets:
        by_uid.setdefault(_text(ds, "SeriesInstanceUID"), []).append(ds)
    out = []
    for uid, members in by_uid.items():
        first = Header(members[0], uid)
        rows = first.integer("Rows", 0, lenient=True)
        cols = first.integer("Columns", 0, lenient=True)
        frames = sum(Header(d, uid).integer("NumberOfFrames", 0, lenient=True) for d in members)
        told = f"{cols}x{rows}, {frames} frames" if rows and cols and frames else "size unknown"
        n = len(members)
        out.append(
            SeriesInfo(
                key=uid,
                uid=uid,
                number=first.integer("SeriesNumber", None, lenient=True),
                modality=first.text("Modality", lenient=True),
                description=first.text("SeriesDescription", lenient=True),
                slices=[],
                header={
                    "series_uid": uid,
                    "study_uid": first.text("StudyInstanceUID", lenient=True),
                    "sop_class_uid": first.text("SOPClassUID", lenient=True),
                    "study_description": first.text("StudyDescription", lenient=True),
                    "study_date": first.text("StudyDate", lenient=True),
                    "patient_name": first.text("PatientName", lenient=True),
                    "patient_id": first.text("PatientID", lenient=True),
                },
                refusal=(
                    f"enhanced multi-frame over DIMSE ({n} instance(s), {told}): C-FIND carries "
                    "no per-frame functional groups, so its geometry is planned once retrieved "
                    "(load it, or list it over DICOMweb)"
                ),
            )
        )
    return out


def _scan_metadata(
    addr: PacsAddress, spacing_rtol: float, perpendicular_tol: float
) -> tuple[ScanResult, list[Dataset]]:
    from volumeviz.io.discover import HEADER_TAGS, scan_datasets

    study = _need_study(addr)
    conn = _connect(addr, current())
    if addr.protocol == "dicomweb":
        datasets = conn.metadata(study, addr.series_uid)
    else:
        datasets = conn.metadata(study, addr.series_uid, HEADER_TAGS)
    if not datasets:
        raise NoSeriesError(f"{addr}: not on this PACS (the search found no instance)")
    items = []
    unplanned = []
    for ds in datasets:
        if addr.protocol == "dimse" and _enhanced(ds):
            unplanned.append(ds)  # no functional groups in a C-FIND answer: no geometry yet
            continue
        items.append((_instance_label(addr, ds), ds))
    result = scan_datasets(items, spacing_rtol=spacing_rtol, perpendicular_tol=perpendicular_tol)
    result.n_files = len(datasets)
    return result, unplanned


def _enhanced(ds: Dataset) -> bool:
    import pydicom

    name = ""
    with contextlib.suppress(Exception):
        name = str(pydicom.uid.UID(_text(ds, "SOPClassUID")).name)
    return "Enhanced" in name


def narrow(
    address: str | PacsAddress,
    series: int | str | None,
    *,
    spacing_rtol: float = 0.01,
    perpendicular_tol: float = 1e-3,
) -> tuple[PacsAddress, int | str | None]:
    """Choose the series to load from a study's headers, before retrieving any pixels.

    Returns the series' address and the key to pick it in the retrieved files (a series may be
    split into parts; the key names the part). An address that already names a series is
    returned as it is; so is the only series of a study when none is asked for. When every
    instance of the study is cached already, the cached files are scanned (no metadata request:
    a PACS may read every file to answer one); else the study's metadata is planned. Where the
    metadata cannot decide (DIMSE and enhanced multi-frame instances), the whole study is
    returned and the choice is made on the files.
    """
    from volumeviz.io.discover import scan
    from volumeviz.io.volume import select_series

    addr = parse_address(address)
    study = _need_study(addr)
    if addr.series_uid:
        return addr, series
    settings = current()
    found = _search_instances(_connect(addr, settings), addr.study(study))
    if not found:
        raise NoSeriesError(f"{addr}: not on this PACS (the search found no instance)")
    uids = {_text(ds, "SeriesInstanceUID") for ds in found}
    if len(uids) == 1 and series is None and "" not in uids:
        return addr.series(uids.pop()), series
    if settings.use_cache:
        cache = _open_cache(settings)
        cached = [cache.get(_text(ds, "SOPInstanceUID")) for ds in found]
        if all(p is not None for p in cached):
            result = scan(
                [p for p in cached if p is not None],
                spacing_rtol=spacing_rtol,
                perpendicular_tol=perpendicular_tol,
            )
            info = select_series(result, series, source=str(addr))
            return addr.series(info.uid), info.key
    result, unplanned = _scan_metadata(addr, spacing_rtol, perpendicular_tol)
    try:
        info = select_series(result, series, source=str(addr))
    except NoSeriesError:
        if unplanned:
            return addr, series
        raise
    if unplanned and series is None:
        return addr, series  # an unplanned enhanced series may be the largest
    return addr.series(info.uid), info.key


# -- retrieve ----------------------------------------------------------------------------------


#: a study's instance list from the last few seconds: ``load_series`` chooses the series from
#: it, then retrieves that series, without asking the PACS the same question twice
_RECENT: dict[tuple[str, str], tuple[float, list[Dataset]]] = {}
_RECENT_S = 10.0


def _search_instances(conn: Any, addr: PacsAddress) -> list[Dataset]:
    """The instances of the address' study (or series), with a short memory of study lists."""
    study = addr.study_uid or ""
    key = (str(addr.root), study)
    now = time.monotonic()
    if addr.series_uid:
        recent = _RECENT.get(key)
        if recent is not None and now - recent[0] < _RECENT_S:
            return [ds for ds in recent[1] if _text(ds, "SeriesInstanceUID") == addr.series_uid]
        found: list[Dataset] = conn.search_instances(study, addr.series_uid)
        return found
    found = conn.search_instances(study, None)
    _RECENT.clear()
    _RECENT[key] = (now, found)
    return found


def _open_cache(settings: PacsSettings) -> InstanceCache:
    from volumeviz.io.pacs.cache import InstanceCache, temporary_cache

    if not settings.use_cache:
        return temporary_cache()
    return InstanceCache(settings.cache_dir, settings.cache_limit)


def fetch(address: str | PacsAddress) -> FetchResult:
    """Retrieve a study or series into the local cache; return the cached files.

    Instances already cached (by SOP Instance UID) are not asked for again. The others are
    retrieved by WADO-RS in parallel requests, or by C-GET (C-MOVE) on parallel associations;
    each is checked and moved into the cache whole, so a failure leaves nothing half-written.
    ``settings.progress(what, done, total)`` is called as instances arrive.

    Raises
    ------
    UsageError
        The address names no study.
    NoSeriesError
        The study or series is not on the PACS.
    PacsError
        The PACS cannot be reached, refuses, fails, or the transfer is cut short.
    """
    addr = parse_address(address)
    settings = current()
    study = _need_study(addr)
    t0 = time.perf_counter()
    conn = _connect(addr, settings)
    found = _search_instances(conn, addr)
    instances: list[tuple[str, str, str, str]] = []
    seen = set()
    for ds in found:
        sop = _text(ds, "SOPInstanceUID")
        if not sop or sop in seen:
            continue
        seen.add(sop)
        series = _text(ds, "SeriesInstanceUID") or addr.series_uid or ""
        instances.append((study, series, sop, _text(ds, "SOPClassUID")))
    if not instances:
        raise NoSeriesError(f"{addr}: not on this PACS (the search found no instance)")
    cache = _open_cache(settings)
    missing = [i for i in instances if cache.get(i[2]) is None]
    received = _retrieve(conn, addr, missing, cache, settings, instances)
    files = tuple(cache.path_for(i[2]) for i in instances)
    lost = [f for f in files if not f.is_file()]
    if lost:
        raise PacsError(
            f"{addr}: {len(lost)} instance(s) vanished from the cache during the fetch"
        )
    if settings.use_cache:
        cache.evict(keep=files)
    result = FetchResult(
        addr,
        files,
        from_cache=len(instances) - len(missing),
        retrieved=len(missing),
        bytes_retrieved=received,
        seconds=time.perf_counter() - t0,
    )
    log.info(
        "%s: %d instance(s): %d from the cache, %d retrieved (%.1f MB in %.2f s)",
        addr,
        len(instances),
        result.from_cache,
        result.retrieved,
        received / 2**20,
        result.seconds,
    )
    return result


def _retrieve(
    conn: Any,
    addr: PacsAddress,
    missing: Sequence[tuple[str, str, str, str]],
    cache: InstanceCache,
    settings: PacsSettings,
    instances: Sequence[tuple[str, str, str, str]],
) -> int:
    """Retrieve ``missing`` (of ``instances``) into ``cache``; return the bytes received.

    DICOMweb: a series none of whose instances is cached comes in one streamed WADO-RS request
    (series in parallel); the instances of partly cached series come one request each, in
    parallel. DIMSE: one association per worker, each retrieving its share by C-GET/C-MOVE.
    """
    if not missing:
        return 0
    lock = threading.Lock()
    state = {"done": 0, "bytes": 0}
    total = len(missing)
    what = f"retrieving {addr.series_uid or addr.study_uid}"
    wanted = {i[2] for i in missing}

    def arrived(path: Path) -> None:
        size = path.stat().st_size
        with lock:
            state["done"] += 1
            state["bytes"] += size
            done = state["done"]
        if settings.progress is not None:
            settings.progress(what, done, total)

    if settings.progress is not None:
        settings.progress(what, 0, total)
    workers = max(1, min(settings.workers, total))

    def accept(sop: str, data: bytes) -> None:  # DIMSE: a whole instance arrived
        if sop in wanted:
            arrived(cache.put_bytes(sop, data))

    def run(chunk: list[tuple[str, str, str, str]]) -> None:
        if addr.protocol == "dicomweb" and len(chunk) > 1:  # a whole series, one request
            study, series = chunk[0][0], chunk[0][1]
            from volumeviz.io.header import Header

            for ds in conn.retrieve_series(study, series):
                sop = Header(ds, study).text("SOPInstanceUID", lenient=True)
                if sop in wanted:
                    arrived(cache.put_dataset(sop, ds))
        elif addr.protocol == "dicomweb":  # one WADO-RS request per instance
            for study, series, sop, _ in chunk:
                arrived(cache.put_dataset(sop, conn.retrieve(study, series, sop)))
        elif settings.retrieve == "move":  # C-MOVE to our storage SCP
            conn.move(chunk, scp_errors)
        else:  # C-GET on this association
            conn.get(chunk, accept)

    if addr.protocol == "dicomweb":
        per_series: dict[str, int] = {}
        for i in instances:
            per_series[i[1]] = per_series.get(i[1], 0) + 1
        whole: dict[str, list[tuple[str, str, str, str]]] = {}
        jobs = []
        for i in missing:
            if (
                per_series.get(i[1], 0) > 1
                and sum(1 for m in missing if m[1] == i[1]) == per_series[i[1]]
            ):
                whole.setdefault(i[1], []).append(i)
            else:
                jobs.append([i])
        jobs = list(whole.values()) + jobs
    else:  # one association per worker, each retrieving its share
        jobs = [list(missing[k::workers]) for k in range(workers)]

    scp_errors: list[str] = []
    with contextlib.ExitStack() as stack:
        if addr.protocol == "dimse" and settings.retrieve == "move":
            classes = sorted({i[3] for i in missing if i[3]})
            scp_errors = stack.enter_context(conn.storage_scp(classes, accept))
        errors = _run_all(run, jobs, workers)
    if errors:
        err = errors[0]
        if isinstance(err, PacsError) and str(addr.root) not in str(err):
            raise PacsError(f"{addr}: {err}") from err  # a cache refusal: name the PACS too
        if isinstance(err, (PacsError, NoSeriesError, UsageError)):
            raise err
        raise PacsError(f"{addr}: retrieve failed: {type(err).__name__}: {err}") from err
    absent = [i[2] for i in missing if not cache.path_for(i[2]).is_file()]
    if absent:
        raise PacsError(
            f"{addr}: transfer cut short: the PACS delivered {total - len(absent)} of {total} "
            f"instance(s) (missing e.g. {absent[0]}); the whole ones are cached, run again "
            "to resume"
        )
    return int(state["bytes"])


def _run_all(run: Any, jobs: list[Any], workers: int) -> list[BaseException]:
    """Run ``run(job)`` on ``workers`` threads; stop at the first failure; return failures."""
    with ThreadPoolExecutor(workers, thread_name_prefix="volumeviz-pacs") as pool:
        futures = [pool.submit(run, job) for job in jobs]
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
    errors = [f.exception() for f in futures if f.done() and not f.cancelled()]
    return [e for e in errors if e is not None]


_LINK_ROOTS: list[Path] = []


def _remove_link_roots() -> None:
    for folder in _LINK_ROOTS:
        shutil.rmtree(folder, ignore_errors=True)


def local_folder(address: str | PacsAddress) -> Path:
    """Fetch a study or series and return a folder holding its files (for this process).

    The folder holds hard links to the cached instances (so eviction by another process cannot
    pull them away) and is removed when the process exits. For commands that walk a folder
    (``view``, ``export``); loaders take the address itself.
    """
    result = fetch(address)
    settings = current()
    base = settings.cache_dir if settings.use_cache else Path(tempfile.gettempdir())
    runs = base / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=runs))
    if not _LINK_ROOTS:
        atexit.register(_remove_link_roots)
    _LINK_ROOTS.append(folder)
    for f in result.files:
        target = folder / f.name
        try:
            os.link(f, target)
        except OSError:
            shutil.copy2(f, target)
    return folder


# -- store -------------------------------------------------------------------------------------


def store(address: str | PacsAddress, files: Sequence[str | os.PathLike[str]]) -> int:
    """Send DICOM files to a PACS (STOW-RS or C-STORE); return how many were sent.

    The address' study/series parts are ignored (the files carry their own UIDs).

    Raises
    ------
    PacsError
        The PACS cannot be reached, or refuses any of the instances.
    """
    import pydicom

    addr = parse_address(address)
    paths = [Path(f) for f in files]
    if not paths:
        return 0
    conn = _connect(addr.root, current())
    if addr.protocol == "dicomweb":
        conn.store([pydicom.dcmread(p) for p in paths])
    else:
        conn.store(paths)
    log.info("%s: stored %d instance(s)", addr.root, len(paths))
    return len(paths)
