"""``volumeviz export PATH -o OUTDIR``: every image under a folder or DICOMDIR as PNG/JPEG.

Layout: ``OUTDIR/{patient}/{study date}/{series number}/{instance number}.png``. Multi-frame
instances give one file per frame, ``{instance number}_{frame:04d}.png`` (frames 1-based).
Two studies of one patient on the same date, or two series with the same number in a study, get
a short suffix from their UID (``2003-05-05_1a2b3c4d``) so nothing is merged or overwritten.
Every folder and file name is made safe for any file system (ASCII letters, digits, ``._-``;
no reserved Windows names; at most 64 characters).

``--anonymize`` replaces the patient folder by ``patient-<hash>``: an HMAC-SHA256 of patient ID,
name and birth date under the key in ``$VOLUMEVIZ_PSEUDONYM_KEY`` (stable across runs with the
same key; without a key the hash is unkeyed, which the summary says). Images whose
(0028,0301) Burned In Annotation is YES are then skipped, since their pixels may show the name.

Existing files are kept unless ``--force``; each file is written atomically. What was skipped,
and why, is listed at the end; the exit code is 1 if any image could not be exported.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from volumeviz.errors import OutputError, UsageError, VolumeVizError

_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
             *(f"LPT{i}" for i in range(10))}  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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


def pseudonym(patient_id: str, patient_name: str, birth_date: str, key: bytes | None) -> str:
    """Return a stable pseudonym ``patient-<12 hex>`` for one patient identity."""
    message = "\x1f".join((patient_id.strip(), patient_name.strip(), birth_date.strip()))
    if key:
        digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()
    else:
        digest = hashlib.sha256(message.encode("utf-8")).hexdigest()
    return f"patient-{digest[:12]}"


def _uid_tag(uid: str) -> str:
    return hashlib.sha1(uid.encode("ascii", "ignore"), usedforsecurity=False).hexdigest()[:8]


@dataclass
class _Item:
    """One image file and where its frames go."""

    source: Path
    patient: str
    patient_key: tuple[str, str, str]
    study_uid: str
    study_date: str
    series_uid: str
    series_number: str
    instance: str
    sop_uid: str
    frames: int
    burned_in: bool
    folder: Path = Path()


@dataclass
class ExportResult:
    """What an export did."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # existed, not overwritten
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # images that could not be made
    notes: list[str] = field(default_factory=list)


def _collect(
    path: Path, outdir: Path, notes: list[str]
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
            notes.extend(f"{w}: {r}" for w, r in read_fileset(path).problems if r not in listed)
            return files, list(skipped)
        return [path], []
    out_real = outdir.resolve()
    files = []
    for dirpath, dirnames, filenames in os.walk(path):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() != out_real)
        for name in sorted(filenames):
            files.append(here / name)
    return files, []


def _plan(
    files: Iterable[Path],
    result: ExportResult,
    *,
    anonymize: bool,
    key: bytes | None,
) -> list[_Item]:
    """Read headers only and decide every output folder (collisions resolved by UID)."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    from volumeviz.io.dicomdir import is_dicomdir

    items = []
    for f in files:
        if is_dicomdir(f):
            result.skipped.append((str(f), "a DICOMDIR index, not an image"))
            continue
        try:
            ds = dcmread(f, stop_before_pixels=True, force=True)
        except (InvalidDicomError, OSError, ValueError, EOFError, KeyError) as exc:
            result.skipped.append((str(f), f"not readable as DICOM: {exc}"))
            continue
        if "SOPClassUID" not in ds and "PatientID" not in ds and "Rows" not in ds:
            result.skipped.append((str(f), "not a DICOM file"))
            continue
        if "Rows" not in ds or "PhotometricInterpretation" not in ds:
            kind = str(ds.get("Modality", "") or ds.get("SOPClassUID", "") or "?")
            result.skipped.append((str(f), f"no image (no pixel data; {kind})"))
            continue
        name = str(ds.get("PatientName", "") or "")
        pid = str(ds.get("PatientID", "") or "")
        birth = str(ds.get("PatientBirthDate", "") or "")
        if anonymize:
            patient = pseudonym(pid, name, birth, key)
        else:
            label = "_".join(x for x in (name, pid) if x)
            patient = safe_name(label, "unknown-patient")
        date = str(ds.get("StudyDate", "") or "")
        if len(date) == 8 and date.isdigit():
            date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        number = ds.get("SeriesNumber")
        inst = ds.get("InstanceNumber")
        items.append(
            _Item(
                source=f,
                patient=patient,
                patient_key=(pid, name, birth),
                study_uid=str(ds.get("StudyInstanceUID", "") or ""),
                study_date=safe_name(date, "unknown-date"),
                series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
                series_number=safe_name(str(number) if number not in (None, "") else "",
                                        "unknown-series"),
                instance=safe_name(str(inst) if inst not in (None, "") else "", ""),
                sop_uid=str(ds.get("SOPInstanceUID", "") or ""),
                frames=int(ds.get("NumberOfFrames", 1) or 1),
                burned_in=str(ds.get("BurnedInAnnotation", "")).upper() == "YES",
            )
        )  # fmt: skip
    # studies sharing a date folder (per patient), series sharing a number (per study)
    studies: dict[tuple[str, str], set[str]] = {}
    series: dict[tuple[str, str, str], set[str]] = {}
    for it in items:
        studies.setdefault((it.patient, it.study_date), set()).add(it.study_uid)
    for it in items:
        study_dir = it.study_date
        if len(studies[(it.patient, it.study_date)]) > 1:
            study_dir = f"{it.study_date}_{_uid_tag(it.study_uid)}"
        it.folder = Path(it.patient) / study_dir
        series.setdefault((it.patient, study_dir, it.series_number), set()).add(it.series_uid)
    for it in items:
        series_dir = it.series_number
        if len(series[(it.folder.parts[0], it.folder.parts[1], it.series_number)]) > 1:
            series_dir = f"{it.series_number}_{_uid_tag(it.series_uid)}"
        it.folder = it.folder / series_dir
    # instance numbers missing or repeated within a series folder: name by SOP Instance UID
    names: Counter[tuple[Path, str]] = Counter((it.folder, it.instance) for it in items)
    for it in items:
        if not it.instance or names[(it.folder, it.instance)] > 1:
            base = it.instance or "instance"
            it.instance = f"{base}_{_uid_tag(it.sop_uid or str(it.source))}"
    return items


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


def _window_choice(spec: str) -> Any:
    """Translate ``--window`` into the ``window=`` of :func:`volumeviz.io.pixels.to_display`."""
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


def run_export(
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
        ``file`` (the file's first window; else its VOI LUT; else min-max), ``file:N`` /
        ``file:NAME`` (another of the file's windows), ``auto`` (min-max per frame), ``W/L``
        (e.g. ``400/40``) or a window preset name (``lung``, ``bone`` ...). Grayscale only.
    anonymize
        Pseudonymous patient folders; burned-in-annotation images skipped.
    force
        Overwrite existing files.
    overlays
        Burn in overlay planes (60xx).
    key
        Pseudonym key (default ``$VOLUMEVIZ_PSEUDONYM_KEY``).
    on_total, on_step
        Progress: the number of image files, then one call per file.

    Returns
    -------
    ExportResult
        Written, kept, skipped and failed files.
    """
    if fmt not in ("png", "jpg"):
        raise UsageError(f"--format {fmt!r}: choose png or jpg")
    choice = _window_choice(window)
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
        env = os.environ.get("VOLUMEVIZ_PSEUDONYM_KEY", "")
        key = env.encode("utf-8") if env else None
        if key is None:
            result.notes.append(
                "pseudonyms are unkeyed hashes of ID/name/birth date; set "
                "VOLUMEVIZ_PSEUDONYM_KEY so they cannot be re-derived by guessing"
            )
    files, refused = _collect(src, out, result.notes)
    result.skipped.extend(refused)
    items = _plan(files, result, anonymize=anonymize, key=key)
    if on_total:
        on_total(len(items))
    ext = "jpg" if fmt == "jpg" else "png"
    for it in items:
        try:
            _export_one(it, out, ext, choice, overlays, force, anonymize, result)
        finally:
            if on_step:
                on_step()
    return result


def _export_one(
    it: _Item,
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

    if anonymize and it.burned_in:
        result.skipped.append(
            (str(it.source), "(0028,0301) Burned In Annotation YES: pixels may identify the "
             "patient; not exported with --anonymize")
        )  # fmt: skip
        return
    folder = out / it.folder
    problem = _make_confined(out, it.folder)
    if problem:
        result.failed.append((str(it.source), problem))
        return
    names = (
        [f"{it.instance}.{ext}"]
        if it.frames == 1
        else [f"{it.instance}_{k + 1:04d}.{ext}" for k in range(it.frames)]
    )
    targets = [folder / n for n in names]
    if not force and all(t.exists() for t in targets):
        result.kept.extend(targets)
        return
    try:
        ds = read_dataset(it.source)
        frames = iter_display_frames(it.source, ds=ds, window=choice, overlays=overlays)
        for k, frame in enumerate(frames):
            if k >= len(targets):
                result.notes.append(
                    f"{it.source}: more frames than (0028,0008) says; extra ignored"
                )
                break
            target = targets[k]
            if target.exists() and not force:
                result.kept.append(target)
                continue
            _save_image(frame, target, ext, force)
            result.written.append(target)
    except VolumeVizError as exc:
        result.failed.append((str(it.source), str(exc)))
    except OSError as exc:
        result.failed.append((str(it.source), f"cannot write: {exc.strerror or exc}"))


def _summary(result: ExportResult, outdir: Path) -> list[str]:
    lines = [
        f"exported {len(result.written)} image(s) to {outdir}"
        + (f"; kept {len(result.kept)} existing (use --force to overwrite)" if result.kept else "")
    ]
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)} file(s):")
        lines += [f"  {f}: {why}" for f, why in result.skipped]
    if result.failed:
        lines.append(f"FAILED {len(result.failed)} image file(s):")
        lines += [f"  {f}: {why}" for f, why in result.failed]
    lines += [f"note: {n}" for n in result.notes]
    return lines


@click.command("export")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder (created if missing).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "jpg"]),
    default="png",
    show_default=True,
    help="Image format.",
)
@click.option(
    "--window",
    default="file",
    show_default=True,
    help="file | file:N | file:NAME | auto | W/L (e.g. 400/40) | preset (lung, bone...).",
)
@click.option(
    "--anonymize",
    is_flag=True,
    help="Pseudonymous patient folders (key: $VOLUMEVIZ_PSEUDONYM_KEY).",
)
@click.option("--overlays", is_flag=True, help="Burn in overlay planes (60xx).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def export(
    path: Path, outdir: Path, fmt: str, window: str, anonymize: bool, overlays: bool, force: bool
) -> None:
    """Export every image under PATH (folder, file or DICOMDIR) as PNG/JPEG into OUTDIR.

    Files go to OUTDIR/{patient}/{study date}/{series number}/{instance number}.png; multi-frame
    images give {instance number}_{frame}.png per frame.
    """  # fmt: skip
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    err = Console(stderr=True)
    with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True, disable=not err.is_terminal) as bar:  # fmt: skip
        task = bar.add_task("export", total=None)
        result = run_export(
            path, outdir, fmt=fmt, window=window, anonymize=anonymize, force=force,
            overlays=overlays,
            on_total=lambda n: bar.update(task, total=n),
            on_step=lambda: bar.advance(task),
        )  # fmt: skip
    for line in _summary(result, outdir):
        click.echo(line)
    if result.failed:
        sys.exit(1)  # the summary above says which images and why
    if not result.written and not result.kept:
        click.echo(f"volumeviz: error: {path}: no image found to export", err=True)
        sys.exit(1)
