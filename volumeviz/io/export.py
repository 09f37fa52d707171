"""Export every image under a folder, a file or a DICOMDIR as PNG/JPEG files.

Layout: ``OUTDIR/{patient}/{study}/{series number}/{instance number}.png``. Multi-frame
instances give one file per frame, ``{instance number}_{frame:04d}.png`` (frames 1-based). The
study folder is the study date (``2003-05-05``). Two studies of one patient on the same date, or
two series with the same number in a study, get a short suffix from their UID
(``2003-05-05_1a2b3c4d``) so nothing is merged or overwritten. Every folder and file name is made
safe for any file system (ASCII letters, digits, ``._-``; no reserved Windows names; at most 64
characters).

With ``anonymize`` the patient folder is ``patient-<hash>`` (:func:`volumeviz.model.deid.
pseudonym`: an HMAC-SHA256 of patient ID, name and birth date under ``key``, default
``$VOLUMEVIZ_PSEUDONYM_KEY``; without a key an unkeyed hash, which the result's notes say) and
the study folder ``study-<hash>`` of the Study Instance UID (no date in any name). Pixels that
may show the patient's identity are never exported as they are (:func:`volumeviz.model.deid.
pixel_policy`): ultrasound is blacked out outside its calibration regions, and images that may
carry burned-in text with nothing safe to keep (Burned In Annotation YES or absent on
secondary captures, ultrasound without regions, projection radiographs, photographs, screen
saves ...) are skipped with the reason. Overlay planes are not burned in.

Robustness: each file is exported on its own (a bad file is listed in the result, the others
are exported); files are written atomically and never over an existing one unless ``force``;
one export at a time writes into an output folder (a lock file, ``.volumeviz-export.lock``), and
the folder remembers which study and series each of its folders holds
(``.volumeviz-export.json``), so two exports into one folder, at once or one after the other,
never mix studies in a folder; temporary files an interrupted run left (``.NAME.XXXXXXXX.png``)
are removed by the next run.

Examples
--------
>>> import tempfile
>>> from volumeviz.io.synth import write_synthetic_series
>>> from volumeviz.model import phantom
>>> src, out = tempfile.mkdtemp(), tempfile.mkdtemp()
>>> _ = write_synthetic_series(phantom.asymmetric(8), src)
>>> result = export_images(src, out, anonymize=True, key=b"secret")
>>> len(result.written), result.failed
(8, [])
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from volumeviz.errors import OutputError, UsageError, VolumeVizError
from volumeviz.model.deid import keyed_hash, pixel_policy, pseudonym

__all__ = [
    "LOCK_NAME",
    "STATE_NAME",
    "ExportItem",
    "ExportResult",
    "export_images",
    "plan_export",
    "safe_name",
]

#: the lock one export holds on its output folder while it writes
LOCK_NAME = ".volumeviz-export.lock"
#: which study and series each folder of an output holds (keys are hashes, never UIDs)
STATE_NAME = ".volumeviz-export.json"

_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
             *(f"LPT{i}" for i in range(10))}  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: a temporary file volumeviz._atomic makes: ".{target name}.{8 random}{suffix}"
_TEMP = re.compile(r"^\.(?P<target>.+\.(?:png|jpg))\.[a-z0-9_]{8}\.(?:png|jpg)$")


def safe_name(text: str, fallback: str, *, limit: int = 64) -> str:
    """Make ``text`` a file or folder name valid on any file system.

    Examples
    --------
    >>> safe_name("Müller^Jürgen", "x")
    'Muller_Jurgen'
    >>> safe_name("../..", "unknown")
    'unknown'
    >>> safe_name("CON", "x")
    '_CON'
    """
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", ascii_text).strip("._- ")
    name = re.sub(r"[._-]{2,}", "_", name)[:limit].rstrip("._- ")
    if not name:
        return fallback
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    return name


def _uid_tag(uid: str, key: bytes | None = None) -> str:
    if key:
        return keyed_hash(uid, key)[:8]
    return hashlib.sha1(uid.encode("ascii", "ignore"), usedforsecurity=False).hexdigest()[:8]


@dataclass
class ExportItem:
    """One image file and where its frames go.

    ``label`` names the file in messages: its path, or with ``anonymize`` what cannot identify
    (modality, series number, instance number and a hash of the path).
    """

    source: Path
    label: str
    patient: str
    study_key: str
    study_name: str
    series_key: str
    series_number: str
    instance: str
    sop_uid: str
    frames: int
    modality: str
    sop_class_uid: str
    burned_in: str
    image_type: tuple[str, ...]
    folder: Path = Path()

    def target(self, out: Path, ext: str, frame: int) -> Path:
        """The output file of frame ``frame`` (0-based) of this image."""
        if self.frames == 1:
            return out / self.folder / f"{self.instance}.{ext}"
        return out / self.folder / f"{self.instance}_{frame + 1:04d}.{ext}"


@dataclass
class ExportResult:
    """What an export did.

    ``skipped`` and ``failed`` hold ``(file, reason)``; with ``anonymize`` the file is named by
    what cannot identify (see :class:`ExportItem`), never by its path.
    """

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # existed, not overwritten
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # images that could not be made
    notes: list[str] = field(default_factory=list)

    def summary(self, outdir: str | os.PathLike[str]) -> list[str]:
        """The lines the ``export`` command prints."""
        lines = [
            f"exported {len(self.written)} image(s) to {outdir}"
            + (f"; kept {len(self.kept)} existing (use --force to overwrite)" if self.kept else "")
        ]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} file(s):")
            lines += [f"  {f}: {why}" for f, why in self.skipped]
        if self.failed:
            lines.append(f"FAILED {len(self.failed)} image file(s):")
            lines += [f"  {f}: {why}" for f, why in self.failed]
        lines += [f"note: {n}" for n in self.notes]
        return lines


class _Failed(tuple[str, str]):
    """``(file, why)`` of an image its header already shows cannot be exported.

    Failed, not skipped: a truncated file, or more frames than its pixel data holds.
    """


class _Namer:
    """Names files in messages: their path, or what cannot identify when anonymising."""

    def __init__(self, root: Path, anonymize: bool, key: bytes | None) -> None:
        self.root = root
        self.anonymize = anonymize
        self.key = key

    def __call__(self, path: Path, what: str = "") -> str:
        if not self.anonymize:
            return str(path)
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            rel = str(path)
        tag = keyed_hash(rel, self.key)[:8]
        return f"{what + ' ' if what else ''}file-{tag}".strip()

    def item(self, path: Path, modality: str, series: str, instance: str) -> str:
        if not self.anonymize:
            return str(path)
        what = " ".join(
            x for x in (modality or "?", f"series {series}", f"#{instance}" if instance else "")
        )
        return self(path, what)


def _collect(
    path: Path, outdir: Path, notes: list[str], name: _Namer
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to consider, and those refused up front (DICOMDIR missing/outside files)."""
    from volumeviz.io.dicomdir import is_dicomdir, referenced_files

    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if path.is_file():
        if is_dicomdir(path):
            from volumeviz.io.dicomdir import read_fileset

            files, skipped = referenced_files(path)
            listed = {reason for _, reason in skipped}
            # other problems (unknown record types, orphans) are reported, not fatal
            problems = read_fileset(path).problems
            if name.anonymize:
                notes.extend(f"{name(Path(w))}: {r}" for w, r in problems if r not in listed)
                return files, [(name(Path(f)), r) for f, r in skipped]
            notes.extend(f"{w}: {r}" for w, r in problems if r not in listed)
            return files, list(skipped)
        return [path], []
    out_real = outdir.resolve()
    files = []
    for dirpath, dirnames, filenames in os.walk(path):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() != out_real)
        files.extend(here / n for n in sorted(filenames))
    return files, []


def _read_item(
    f: Path, *, anonymize: bool, key: bytes | None, name: _Namer
) -> ExportItem | tuple[str, str]:
    """An :class:`ExportItem` for one file (headers only), or ``(file, why skipped)``."""
    from volumeviz.io.dicomdir import is_dicomdir
    from volumeviz.io.header import Header
    from volumeviz.io.pixels import check_frames, read_header

    if is_dicomdir(f):
        return name(f), "a DICOMDIR index, not an image"
    try:
        ds = read_header(f)  # pixel data located (deferred), not read
    except VolumeVizError as exc:
        return name(f), f"not readable as DICOM: {str(exc).removeprefix(f'{f}: ')}"
    h = Header(ds, name(f))
    if "SOPClassUID" not in h and "PatientID" not in h and "Rows" not in h:
        return name(f), "not a DICOM file"
    if "Rows" not in h or "PhotometricInterpretation" not in h:
        kind = h.text("Modality", lenient=True) or h.text("SOPClassUID", lenient=True) or "?"
        return name(f), f"no image (no pixel data; {kind})"
    h = Header(ds, f)
    try:
        frames = check_frames(h)  # against the pixel data, before any name is made
    except VolumeVizError as exc:  # an image whose pixel data cannot be what it says: failed
        return _Failed((name(f), str(exc).removeprefix(f"{f}: ")))

    def text(keyword: str) -> str:
        return h.text(keyword, lenient=True)  # a value pydicom cannot convert reads as ""

    pname, pid, birth = text("PatientName"), text("PatientID"), text("PatientBirthDate")
    modality = text("Modality").upper()
    study_uid, series_uid = text("StudyInstanceUID"), text("SeriesInstanceUID")
    number, inst = text("SeriesNumber"), text("InstanceNumber")
    if anonymize:
        patient = pseudonym(pid, pname, birth, key)
        study_name = f"study-{_uid_tag(study_uid or str(f.parent), key)}"
    else:
        patient = safe_name("_".join(x for x in (pname, pid) if x), "unknown-patient")
        date = text("StudyDate")
        if len(date) == 8 and date.isdigit():
            date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        study_name = safe_name(date, "unknown-date")
    series_number = safe_name(number, "unknown-series")
    instance = safe_name(inst, "")
    return ExportItem(
        source=f,
        label=name.item(f, modality, series_number, instance),
        patient=patient,
        study_key=_uid_tag(study_uid, key) if study_uid else "",
        study_name=study_name,
        series_key=_uid_tag(series_uid, key) if series_uid else "",
        series_number=series_number,
        instance=instance,
        sop_uid=text("SOPInstanceUID"),
        frames=frames,
        modality=modality,
        sop_class_uid=text("SOPClassUID"),
        burned_in=text("BurnedInAnnotation").upper(),
        image_type=tuple(v.upper() for v in h.texts("ImageType", lenient=True)),
    )


def plan_export(
    files: Iterable[Path],
    result: ExportResult,
    *,
    anonymize: bool = False,
    key: bytes | None = None,
    root: Path | None = None,
    state: dict[str, str] | None = None,
) -> list[ExportItem]:
    """Read headers only and decide every output folder.

    Collisions (two studies of a patient under one name, two series of a study under one
    number) get a UID suffix, among the files of this run and against ``state``: the folders an
    earlier export into the same output already gave to other studies and series (``{folder:
    uid hash}``; updated in place with this run's folders).
    """
    name = _Namer(root or Path("."), anonymize, key)
    state = {} if state is None else state
    items: list[ExportItem] = []
    for f in files:
        try:
            got = _read_item(f, anonymize=anonymize, key=key, name=name)
        except Exception as exc:  # one bad header never stops the others
            got = (name(f), f"header cannot be read: {type(exc).__name__}: {exc}")
        if isinstance(got, _Failed):
            result.failed.append((got[0], got[1]))
        elif isinstance(got, tuple):
            result.skipped.append(got)
        else:
            items.append(got)
    _assign(items, state, level="study")
    _assign(items, state, level="series")
    # instance numbers missing or repeated within a series folder: name by SOP Instance UID
    names: Counter[tuple[Path, str]] = Counter((it.folder, it.instance) for it in items)
    for it in items:
        if not it.instance or names[(it.folder, it.instance)] > 1:
            base = it.instance or "instance"
            it.instance = f"{base}_{_uid_tag(it.sop_uid or str(it.source), key)}"
    return items


def _assign(items: list[ExportItem], state: dict[str, str], *, level: str) -> None:
    """Give each study (or series) a folder, never one another study (series) holds."""

    def parent(it: ExportItem) -> Path:
        return Path(it.patient) if level == "study" else it.folder

    def key_of(it: ExportItem) -> str:
        return it.study_key if level == "study" else it.series_key

    def wanted(it: ExportItem) -> str:
        return it.study_name if level == "study" else it.series_number

    # the folder each (parent, key) already has from an earlier run
    known = {(str(Path(folder).parent), uid): Path(folder).name for folder, uid in state.items()}
    sharing: dict[tuple[Path, str], set[str]] = {}
    for it in items:
        sharing.setdefault((parent(it), wanted(it)), set()).add(key_of(it))
    chosen: dict[tuple[Path, str], str] = {}
    for it in items:
        p, k = parent(it), key_of(it)
        if (p, k) not in chosen:
            folder = known.get((p.as_posix(), k)) if k else None
            if folder is None:
                folder = wanted(it)
                taken = state.get((p / folder).as_posix())
                if len(sharing[(p, folder)]) > 1 or (taken is not None and taken != k):
                    folder = f"{folder}_{k or 'nouid'}"
                state[(p / folder).as_posix()] = k
            chosen[(p, k)] = folder
        it.folder = p / chosen[(p, k)]


def _make_confined(out: Path, rel: Path) -> str:
    """Create ``out/rel`` one level at a time, never through a link that leaves ``out``.

    Returns ``""`` on success, else why not.
    """
    root = out.resolve()
    current = out
    for part in rel.parts:
        current = current / part
        if os.path.lexists(current):
            if not current.resolve().is_relative_to(root):
                return f"{current} leads outside {out}; not written"
            if not current.is_dir():
                return f"cannot create {current}: a file of that name exists"
            continue
        try:
            current.mkdir()
        except FileExistsError:
            if not current.resolve().is_relative_to(root) or not current.is_dir():
                return f"{current} appeared meanwhile and is not a folder inside {out}"
        except OSError as exc:
            return f"cannot create {current}: {exc.strerror or exc}"
    return ""


def _save_image(frame: Any, target: Path, fmt: str, force: bool) -> None:
    from PIL import Image

    from volumeviz._atomic import atomic_path

    image = Image.fromarray(frame)
    with atomic_path(target, overwrite=force) as tmp:
        if fmt == "jpg":
            image.save(tmp, format="JPEG", quality=95, subsampling=0)
        else:
            image.save(tmp, format="PNG", optimize=False)


def window_choice(spec: str) -> Any:
    """Translate ``--window`` into the ``window=`` of :func:`volumeviz.io.pixels.to_display`.

    ``file`` (the file's first window; else its VOI LUT; else min-max), ``file:N`` /
    ``file:NAME`` (another of the file's windows), ``auto`` (min-max per frame), ``W/L``
    (e.g. ``400/40``) or a window preset name (``lung``, ``bone`` ...).
    """
    from volumeviz.io.pixels import MINMAX, Window
    from volumeviz.transfer import parse_window

    text = spec.strip()
    low = text.lower()
    if low == "file":
        return None
    if low.startswith("file:"):
        which = text[5:].strip()
        if which.isdigit():
            if int(which) < 1:
                raise UsageError(f"--window {spec}: windows are numbered from 1")
            return int(which) - 1
        return which
    if low in ("auto", "minmax", "min-max"):
        return MINMAX
    wl = parse_window(text)  # W/L such as 400/40, or a preset name
    return Window(wl.center, wl.width, wl.name or text, "LINEAR")


@contextlib.contextmanager
def output_lock(out: Path, *, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the export lock of ``out`` (one writer at a time); released on exit or death.

    ``fcntl.flock`` on ``out/.volumeviz-export.lock``: the kernel drops it when the process
    ends however it ends (SIGKILL included), so a killed export never blocks the next.
    """
    lock_path = out / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise OutputError(f"{lock_path}: cannot create the export lock: {exc.strerror}") from exc
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory locks; files stay exclusive
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_state(out: Path, notes: list[str]) -> dict[str, str]:
    path = out / STATE_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        folders = data["folders"]
        if isinstance(folders, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in folders.items()
        ):
            return dict(folders)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    notes.append(f"{path}: unreadable; folders already in the output are not reused")
    return {}


def _write_state(out: Path, state: dict[str, str]) -> None:
    from volumeviz._atomic import atomic_path

    with atomic_path(out / STATE_NAME) as tmp:
        tmp.write_text(json.dumps({"folders": dict(sorted(state.items()))}, indent=1) + "\n")


def _remove_stale_temps(out: Path) -> int:
    """Remove the temporary files an interrupted export left (we hold the lock: none is live)."""
    removed = 0
    for dirpath, _, filenames in os.walk(out):
        for n in filenames:
            if _TEMP.match(n):
                with contextlib.suppress(OSError):
                    (Path(dirpath) / n).unlink()
                    removed += 1
    return removed


def export_images(
    path: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    *,
    fmt: str = "png",
    window: str = "file",
    anonymize: bool = False,
    force: bool = False,
    overlays: bool = False,
    key: bytes | None = None,
    on_total: Callable[[int], None] | None = None,
    on_step: Callable[[], None] | None = None,
    on_wait: Callable[[], None] | None = None,
) -> ExportResult:
    """Export every image under ``path`` (folder, file or DICOMDIR) into ``outdir``.

    Parameters
    ----------
    path
        A folder (searched recursively), one DICOM file, or a DICOMDIR.
    outdir
        Output root; created if missing. Nothing is written outside it.
    fmt
        ``"png"`` or ``"jpg"``.
    window
        As :func:`window_choice` (grayscale only).
    anonymize
        Pseudonymous patient and study folders, messages that name no file, and pixels that
        may identify blacked out or skipped (see the module docstring).
    force
        Overwrite existing files.
    overlays
        Burn in overlay planes (60xx); refused with ``anonymize`` (overlays may carry text,
        PS3.15 removes them).
    key
        Pseudonym key (default ``$VOLUMEVIZ_PSEUDONYM_KEY``).
    on_total, on_step
        Progress: the number of image files, then one call per file.
    on_wait
        Called once if another export holds the output folder (this one then waits).

    Returns
    -------
    ExportResult
        Written, kept, skipped and failed files.

    Raises
    ------
    UsageError
        Bad format or window, a missing input, ``overlays`` with ``anonymize``.
    OutputError
        The output folder cannot be made or written.
    """
    if fmt not in ("png", "jpg"):
        raise UsageError(f"--format {fmt!r}: choose png or jpg")
    if anonymize and overlays:
        raise UsageError(
            "--overlays with --anonymize: overlay planes may carry identifying text "
            "(PS3.15 removes them); export without --overlays"
        )
    choice = window_choice(window)
    src = Path(path)
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: output folder cannot be created: {exc.strerror}") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: output folder is not writable")
    result = ExportResult()
    if anonymize and key is None:
        from volumeviz.io.deid import pseudonym_key

        key = pseudonym_key()
        if key is None:
            result.notes.append(
                "pseudonyms are unkeyed hashes of ID/name/birth date; set "
                "VOLUMEVIZ_PSEUDONYM_KEY so they cannot be re-derived by guessing"
            )
    root = src if src.is_dir() else src.parent
    name = _Namer(root, anonymize, key)
    files, refused = _collect(src, out, result.notes, name)
    result.skipped.extend(refused)
    ext = "jpg" if fmt == "jpg" else "png"
    with output_lock(out, on_wait=on_wait):
        stale = _remove_stale_temps(out)
        if stale:
            result.notes.append(f"removed {stale} temporary file(s) an interrupted run left")
        state = _read_state(out, result.notes)
        items = plan_export(files, result, anonymize=anonymize, key=key, root=root, state=state)
        if on_total:
            on_total(len(items))
        try:
            for it in items:
                try:
                    _export_one(it, out, ext, choice, overlays, force, anonymize, result)
                except Exception as exc:  # one bad file never stops the others
                    result.failed.append((it.label, f"{type(exc).__name__}: {exc}"))
                finally:
                    if on_step:
                        on_step()
        finally:
            _write_state(out, state)
    return result


def _export_one(
    it: ExportItem,
    out: Path,
    ext: str,
    choice: Any,
    overlays: bool,
    force: bool,
    anonymize: bool,
    result: ExportResult,
) -> None:
    """Write the frames of one image file, recording what happened in ``result``."""
    from volumeviz.io.pixels import iter_display_frames, read_dataset

    mask = None
    if anonymize:
        policy = pixel_policy(
            modality=it.modality,
            sop_class_uid=it.sop_class_uid,
            burned_in_annotation=it.burned_in,
            image_type=it.image_type,
            has_regions=None,
        )
        if policy.action == "refuse":
            result.skipped.append((it.label, f"{policy.reason}; not exported with --anonymize"))
            return
        if policy.action == "mask":
            mask = _region_mask(it)
            if mask is None:  # no regions after all: what the rule says for that
                policy = pixel_policy(
                    modality=it.modality,
                    sop_class_uid=it.sop_class_uid,
                    burned_in_annotation=it.burned_in,
                    has_regions=False,
                )
                if policy.action == "refuse":
                    result.skipped.append((it.label, f"{policy.reason}; not exported"))
                    return
    problem = _make_confined(out, it.folder)
    if problem:
        result.failed.append(
            (it.label, problem.replace(str(out), "OUT") if anonymize else problem)
        )
        return
    if not force and all(it.target(out, ext, k).exists() for k in range(it.frames)):
        result.kept.extend(it.target(out, ext, k) for k in range(it.frames))
        return
    try:
        ds = read_dataset(it.source)
        frames = iter_display_frames(it.source, ds=ds, window=choice, overlays=overlays)
        for k, frame in enumerate(frames):
            if k >= it.frames:
                result.notes.append(
                    f"{it.label}: more frames than (0028,0008) says; extra ignored"
                )
                break
            target = it.target(out, ext, k)
            if target.exists() and not force:
                result.kept.append(target)
                continue
            if mask is not None:
                frame = frame.copy()
                frame[~mask] = 0
            try:
                _save_image(frame, target, ext, force)
            except OutputError:
                if target.exists() and not force:  # made meanwhile: keep it, never replace
                    result.kept.append(target)
                    continue
                raise
            result.written.append(target)
    except VolumeVizError as exc:
        why = str(exc).removeprefix(f"{it.source}: ")  # the file is named once, in front
        if anonymize:
            why = why.replace(str(it.source), it.label)
        result.failed.append((it.label, why))
    except OSError as exc:
        result.failed.append((it.label, f"cannot write: {exc.strerror or exc}"))


def _region_mask(it: ExportItem) -> Any:
    """Boolean ``(rows, cols)``: True inside the file's ultrasound regions; None without any."""
    from volumeviz.io.header import Header
    from volumeviz.io.pixels import read_header
    from volumeviz.io.ultrasound import read_region
    from volumeviz.model.ultrasound import region_mask

    h = Header(read_header(it.source), it.source)
    rows = h.integer("Rows", low=1, high=65535)
    cols = h.integer("Columns", low=1, high=65535)
    regions = [
        read_region(item, n, rows, cols, it.label)
        for n, item in enumerate(h.items("SequenceOfUltrasoundRegions"))
    ]
    return region_mask(regions, rows, cols) if regions else None
