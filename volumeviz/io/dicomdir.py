"""DICOMDIR file-sets (PS3.10 media), confined to their root folder.

The DICOMDIR is parsed here, record by record, following its offsets (0004,1200),
(0004,1400) and (0004,1420); pydicom's ``FileSet`` is not used because it stops at the first
bad reference, and a CD with one missing file must still show the rest.

Every Referenced File ID (0004,1500) is confined to the file-set root (the DICOMDIR's folder):
absolute paths, ``..``/``.`` components, separators inside a component and symlinks that lead out
of the root are refused *before* anything at that path is opened or listed (cf. pydicom's
CVE-2026-32711, GHSA-v856-2rf8-9f28, fixed in pydicom 3.0.2 / 2.4.5 by the same check in
``RecordNode.file_id_path``). Component case is matched leniently (ISO 9660 CDs are often mounted
in lower case), but only inside the root.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from volumeviz.errors import DicomDirError, HeaderError
from volumeviz.io.discover import quiet_pydicom
from volumeviz.io.header import Header
from volumeviz.model.fileset import (
    MISSING,
    OK,
    REFUSED,
    FileSetInstance,
    FileSetPatient,
    FileSetSeries,
    FileSetStudy,
    FileSetTree,
)

#: Media Storage Directory Storage SOP Class (the DICOMDIR itself)
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"

#: the first pydicom releases with the CVE-2026-32711 fix, per release line
_FIXED_PYDICOM = {2: (2, 4, 5), 3: (3, 0, 2)}

#: Directory Record Types defined in PS3.3 F.5 (anything else is "unknown")
KNOWN_RECORD_TYPES = frozenset(
    {
        "PATIENT", "STUDY", "SERIES", "IMAGE", "RT DOSE", "RT STRUCTURE SET", "RT PLAN",
        "RT TREAT RECORD", "PRESENTATION", "WAVEFORM", "SR DOCUMENT", "KEY OBJECT DOC",
        "SPECTROSCOPY", "RAW DATA", "REGISTRATION", "FIDUCIAL", "HANGING PROTOCOL",
        "ENCAP DOC", "HL7 STRUC DOC", "VALUE MAP", "STEREOMETRIC", "PALETTE", "IMPLANT",
        "IMPLANT ASSY", "IMPLANT GROUP", "PLAN", "MEASUREMENT", "SURFACE", "SURFACE SCAN",
        "TRACT", "ASSESSMENT", "RADIOTHERAPY", "ANNOTATION", "INVENTORY", "PRIVATE", "TOPIC",
        "VISIT", "RESULTS", "INTERPRETATION", "STUDY COMPONENT", "STORED PRINT", "OVERLAY",
        "MODALITY LUT", "VOI LUT", "CURVE", "FILM SESSION", "FILM BOX", "IMAGE BOX",
    }
)  # fmt: skip

_FIRST = 0x00041200
_NEXT = 0x00041400
_IN_USE = 0x00041410
_LOWER = 0x00041420
_FILE_ID = 0x00041500


def media_storage_sop_class(path: str | os.PathLike[str]) -> str:
    """(0002,0002) Media Storage SOP Class UID from the File Meta, or ``""`` if it has none.

    Only the preamble and the File Meta group are read.
    """
    from pydicom.filereader import read_file_meta_info

    try:
        meta = read_file_meta_info(path)
    except Exception:  # not DICOM, no File Meta, or a corrupt one: no class
        return ""
    return Header(meta, path).text("MediaStorageSOPClassUID", lenient=True)


def is_dicomdir(path: str | os.PathLike[str]) -> bool:
    """Return True if ``path`` is a DICOMDIR, by its File Meta Media Storage SOP Class.

    The File Meta (0002,0002) Media Storage SOP Class UID decides; a file without a readable
    File Meta is a DICOMDIR only if it is named ``DICOMDIR``. An image that merely mentions
    the DICOMDIR class UID somewhere (a private element, a description) is not one.
    """
    p = Path(path)
    if not p.is_file():
        return False
    sop_class = media_storage_sop_class(p)
    if sop_class:
        return sop_class == DICOMDIR_SOP_CLASS
    return p.name.upper() == "DICOMDIR"


def require_fixed_pydicom(version: str | None = None) -> None:
    """Refuse to read file-sets with a pydicom that has the DICOMDIR path-traversal bug.

    Parameters
    ----------
    version
        The version to check; the installed ``pydicom.__version__`` by default.

    Raises
    ------
    DicomDirError
        For pydicom < 2.4.5 on the 2.x line or < 3.0.2 on 3.x (CVE-2026-32711).
    """
    if version is None:
        import pydicom

        version = pydicom.__version__
    parts: list[int] = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit()) if piece[:1].isdigit() else ""
        parts.append(int(digits) if digits else 0)
    while len(parts) < 3:
        parts.append(0)
    major = parts[0]
    fixed = _FIXED_PYDICOM.get(major)
    if (fixed is None and major < 3) or (fixed is not None and tuple(parts) < fixed):
        raise DicomDirError(
            f"pydicom {version} has the DICOMDIR path-traversal bug CVE-2026-32711; "
            "install pydicom>=3.0.2 to read file-sets"
        )


# -- confinement --------------------------------------------------------------------------------
def _components(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | bytes):
        items: Iterable[Any] = [value]
    else:
        items = list(value)
    out = []
    for item in items:
        text = item.decode("ascii", "replace") if isinstance(item, bytes) else str(item)
        out.append(text.strip(" \x00"))
    return out


def _lookup(directory: Path, name: str) -> Path | None:
    """``directory/name`` if it exists, else the single entry matching it case-insensitively."""
    exact = directory / name
    if os.path.lexists(exact):
        return exact
    try:
        entries = os.listdir(directory)
    except OSError:
        return None
    matches = [e for e in entries if e.upper() == name.upper()]
    return directory / matches[0] if len(matches) == 1 else None


def confine(root: Path, file_id: Any) -> tuple[Path | None, str, str]:
    """Resolve a Referenced File ID (0004,1500) inside the file-set root, or refuse it.

    Parameters
    ----------
    root
        The resolved file-set root.
    file_id
        The element value: a string or a list of path components.

    Returns
    -------
    tuple
        ``(path, status, reason)``: the resolved file and ``"ok"``; or ``None`` with
        ``"refused"`` / ``"missing"`` and a one-line reason. Nothing outside ``root`` is opened,
        listed or stat-ed beyond following the symlink that leads there.
    """
    parts = _components(file_id)
    shown = "\\".join(parts)
    if not parts or any(p == "" for p in parts):
        return None, REFUSED, f"(0004,1500) Referenced File ID '{shown}' has an empty component"
    for part in parts:
        if part in (".", ".."):
            return (
                None,
                REFUSED,
                (
                    f"(0004,1500) Referenced File ID '{shown}' has a '{part}' component; "
                    "only paths inside the file-set root are read"
                ),
            )
        if any(ch in part for ch in "/\\:\x00") or os.path.isabs(part):
            return (
                None,
                REFUSED,
                (
                    f"(0004,1500) Referenced File ID '{shown}' is absolute or contains a path "
                    "separator; only paths inside the file-set root are read"
                ),
            )
    current = root
    for part in parts:
        found = _lookup(current, part)
        if found is None:
            return None, MISSING, f"referenced file {shown} not found under {root}"
        try:
            real = found.resolve(strict=True)
        except FileNotFoundError:
            return None, MISSING, f"referenced file {shown} not found under {root}"
        except (RuntimeError, OSError) as exc:  # a symlink loop (RuntimeError up to 3.12)
            return (
                None,
                REFUSED,
                (
                    f"(0004,1500) Referenced File ID '{shown}' goes through "
                    f"{found.relative_to(root).as_posix()}, which cannot be resolved "
                    f"({type(exc).__name__}: {exc}); refused"
                ),
            )
        if not real.is_relative_to(root):
            return (
                None,
                REFUSED,
                (
                    f"(0004,1500) Referenced File ID '{shown}' leads outside the file-set root "
                    f"through the link {found.relative_to(root).as_posix()}; refused"
                ),
            )
        current = real
    if not current.is_file():
        return None, MISSING, f"referenced file {shown} is not a regular file"
    return current, OK, ""


# -- record parsing ---------------------------------------------------------------------------
def _text(record: Any, keyword: str) -> str:
    """A record's text value; a malformed one must not hide the rest of the tree."""
    return Header(record, "").text(keyword, lenient=True)


def _int(record: Any, keyword: str) -> int | None:
    return Header(record, "").integer(keyword, None, lenient=True)


class _Parser:
    def __init__(self, dicomdir: Path, ds: Any) -> None:
        self.dicomdir = dicomdir
        self.root = dicomdir.resolve().parent
        self.problems: list[tuple[str, str]] = []
        self.records: dict[int, Any] = {}
        for index, record in enumerate(Header(ds, dicomdir).items("DirectoryRecordSequence")):
            self.records[int(record.ds.seq_item_tell)] = (index, record.ds)
        self.visited: set[int] = set()

    def header(self, offset: int) -> Header:
        """The record at ``offset``, its messages naming it."""
        return Header(self.records[offset][1], self.dicomdir, context=f"{self.where(offset)} > ")

    def offset(self, offset: int, tag: int) -> int:
        """(0004,1400) / (0004,1420) of a record: one unsigned 32-bit offset (0: none)."""
        return self.header(offset).integer(tag, 0, low=0, high=0xFFFFFFFF)

    def where(self, offset: int) -> str:
        index, record = self.records[offset]
        kind = _text(record, "DirectoryRecordType") or "?"
        return f"{self.dicomdir.name} record #{index + 1} ({kind} at offset {offset})"

    def chain(self, first: int, parent: str) -> list[Any]:
        """Follow ``first`` and its (0004,1400) Next offsets: the records of one level."""
        out = []
        offset = first
        while offset:
            if offset not in self.records:
                raise DicomDirError(
                    f"{self.dicomdir}: {parent} points to offset {offset}, where no directory "
                    "record starts; the DICOMDIR's offsets are wrong (read the folder instead: "
                    f"volumeviz info {self.dicomdir.parent})"
                )
            if offset in self.visited:
                raise DicomDirError(
                    f"{self.dicomdir}: {parent} points back to offset {offset}; the DICOMDIR's "
                    "offsets form a loop"
                )
            self.visited.add(offset)
            out.append(offset)
            parent = f"(0004,1400) of {self.where(offset)}"
            offset = self.offset(offset, _NEXT)
        return out

    def children(self, offset: int) -> list[int]:
        lower = self.offset(offset, _LOWER)
        return self.chain(lower, f"(0004,1420) of {self.where(offset)}") if lower else []

    def in_use(self, offset: int) -> bool:
        return self.header(offset).integer(_IN_USE, 0xFFFF, lenient=True) != 0

    def check_type(self, offset: int, expected: str | None) -> str | None:
        """Return the record's type, or ``None`` (noting why) if it cannot be at this level."""
        record = self.records[offset][1]
        kind = _text(record, "DirectoryRecordType").upper()
        if kind not in KNOWN_RECORD_TYPES:
            self.problems.append(
                (self.where(offset), f"unknown (0004,1430) Directory Record Type '{kind}'"
                 + (f", read as {expected}" if expected else ""))
            )  # fmt: skip
        elif expected and kind != expected:
            self.problems.append(
                (self.where(offset), f"{kind} record where a {expected} record belongs; "
                 "skipped with everything below it")
            )  # fmt: skip
            return None
        return kind

    def level(self, offsets: list[int], expected: str) -> list[int]:
        """Keep the in-use records of one level that can stand at it."""
        return [o for o in offsets if self.in_use(o) and self.check_type(o, expected)]

    def leaf(self, offset: int) -> FileSetInstance | None:
        record = self.records[offset][1]
        kind = self.check_type(offset, None) or ""
        try:
            raw = self.header(offset).raw(_FILE_ID)
        except HeaderError as exc:
            self.problems.append((self.where(offset), str(exc).split(" > ", 1)[-1]))
            return None
        if raw is None:
            self.problems.append((self.where(offset), "no (0004,1500) Referenced File ID"))
            return None
        parts = _components(raw)
        path, status, reason = confine(self.root, raw)
        if status != OK:
            self.problems.append((self.where(offset), reason))
        for deeper in self.children(offset):
            self.problems.append((self.where(deeper), "record below an instance; ignored"))
        return FileSetInstance(
            record_type=kind,
            file_id="/".join(parts),
            path=path.relative_to(self.root).as_posix() if path is not None else "",
            status=status,
            reason=reason,
            sop_instance_uid=_text(record, "ReferencedSOPInstanceUIDInFile"),
            sop_class_uid=_text(record, "ReferencedSOPClassUIDInFile"),
            transfer_syntax_uid=_text(record, "ReferencedTransferSyntaxUIDInFile"),
            instance_number=_int(record, "InstanceNumber"),
        )

    def series(self, offset: int) -> FileSetSeries:
        record = self.records[offset][1]
        leaves = [self.leaf(o) for o in self.children(offset) if self.in_use(o)]
        return FileSetSeries(
            series_uid=_text(record, "SeriesInstanceUID"),
            modality=_text(record, "Modality"),
            series_number=_int(record, "SeriesNumber"),
            description=_text(record, "SeriesDescription"),
            instances=tuple(leaf for leaf in leaves if leaf is not None),
        )

    def study(self, offset: int) -> FileSetStudy:
        record = self.records[offset][1]
        return FileSetStudy(
            study_uid=_text(record, "StudyInstanceUID"),
            study_date=_text(record, "StudyDate"),
            study_time=_text(record, "StudyTime"),
            description=_text(record, "StudyDescription"),
            study_id=_text(record, "StudyID"),
            accession_number=_text(record, "AccessionNumber"),
            series=tuple(self.series(o) for o in self.level(self.children(offset), "SERIES")),
        )

    def patient(self, offset: int) -> FileSetPatient:
        record = self.records[offset][1]
        return FileSetPatient(
            patient_id=_text(record, "PatientID"),
            patient_name=_text(record, "PatientName"),
            studies=tuple(self.study(o) for o in self.level(self.children(offset), "STUDY")),
        )


def read_fileset(path: str | os.PathLike[str]) -> FileSetTree:
    """Read a DICOMDIR into a patient → study → series → instance tree, confined to its root.

    Parameters
    ----------
    path
        The DICOMDIR file. Its folder is the file-set root.

    Returns
    -------
    FileSetTree
        The tree; referenced files that are missing or refused are kept in it with their
        status and listed in ``problems``, as are records of unknown type.

    Raises
    ------
    DicomDirError
        The file is not a DICOMDIR, lists no records, or its offsets are wrong or loop.
    """
    require_fixed_pydicom()
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    p = Path(path)
    if not p.is_file():
        raise DicomDirError(f"{p}: no such DICOMDIR file")
    try:
        with quiet_pydicom():
            ds = dcmread(p)
    except InvalidDicomError as exc:
        raise DicomDirError(f"{p}: not a readable DICOMDIR: {exc}") from exc
    except Exception as exc:  # a corrupt file: pydicom raises many kinds
        raise DicomDirError(
            f"{p}: not a readable DICOMDIR: {type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:160]}"
        ) from exc
    try:
        return _read_tree(p, ds)
    except HeaderError as exc:
        raise DicomDirError(
            f"{exc}; the DICOMDIR cannot be followed (read the folder instead: volumeviz info "
            f"{p.parent})"
        ) from exc


def _read_tree(p: Path, ds: Any) -> FileSetTree:
    """:func:`read_fileset` on the dataset read from ``p``."""
    meta = getattr(ds, "file_meta", None)
    sop_class = (
        "" if meta is None else Header(meta, p).text("MediaStorageSOPClassUID", lenient=True)
    )
    h = Header(ds, p)
    if "DirectoryRecordSequence" not in h:
        raise DicomDirError(
            f"{p}: no (0004,1220) Directory Record Sequence; not a DICOMDIR"
            + (f" (Media Storage SOP Class {sop_class})" if sop_class else "")
        )
    if not h.items("DirectoryRecordSequence"):
        raise DicomDirError(f"{p}: the DICOMDIR lists no directory records (empty file-set)")
    parser = _Parser(p, ds)
    first = h.integer(_FIRST, 0, low=0, high=0xFFFFFFFF)
    if not first:
        raise DicomDirError(
            f"{p}: no (0004,1200) Offset of the First Directory Record; the DICOMDIR's "
            f"offsets are wrong (read the folder instead: volumeviz info {p.parent})"
        )
    top = parser.chain(first, "(0004,1200) Offset of the First Directory Record")
    patients = tuple(parser.patient(o) for o in parser.level(top, "PATIENT"))
    orphans = [o for o in parser.records if o not in parser.visited]
    reached = any(se.instances for pt in patients for st in pt.studies for se in st.series)
    if orphans and not reached:
        raise DicomDirError(
            f"{p}: none of its {len(parser.records)} directory records leads to an instance "
            f"from (0004,1200) Offset of the First Directory Record ({first}); the DICOMDIR's "
            f"offsets are wrong (read the folder instead: volumeviz info {p.parent})"
        )
    if orphans:
        parser.problems.append(
            (p.name, f"{len(orphans)} record(s) outside the hierarchy, first at offset "
             f"{min(orphans)}; ignored")
        )  # fmt: skip
    return FileSetTree(
        dicomdir=str(p),
        root=str(parser.root),
        fileset_id=_text(ds, "FileSetID"),
        patients=patients,
        problems=tuple(parser.problems),
    )


def _is_image(instance: FileSetInstance) -> bool:
    if instance.record_type == "IMAGE":
        return True
    if instance.record_type in KNOWN_RECORD_TYPES:
        return False
    # unknown record type: keep it if the SOP Class says image (the loader checks the header)
    from pydicom.uid import UID

    return not instance.sop_class_uid or "Image" in UID(instance.sop_class_uid).name


def referenced_files(
    path: str | os.PathLike[str],
) -> tuple[list[Path], list[tuple[str, str]]]:
    """List the image files a DICOMDIR references, confined to its root.

    Parameters
    ----------
    path
        The DICOMDIR file.

    Returns
    -------
    tuple
        ``(files, skipped)``: existing image files inside the root (resolved paths, tree order),
        and ``(Referenced File ID, reason)`` for each one missing or refused.

    Raises
    ------
    DicomDirError
        As :func:`read_fileset`.
    """
    tree = read_fileset(path)
    root = Path(tree.root)
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for inst in tree.instances():
        if not _is_image(inst):
            continue
        if inst.status == OK:
            files.append(root / inst.path)
        else:
            skipped.append((inst.file_id, inst.reason))
    return files, skipped


def files_by_series(path: str | os.PathLike[str]) -> dict[str, list[Path]]:
    """Map each Series Instance UID to its existing image files (DICOMDIR order, confined)."""
    tree = read_fileset(path)
    root = Path(tree.root)
    out: dict[str, list[Path]] = {}
    for _, _, series in tree.series():
        files = [root / i.path for i in series.instances if i.status == OK and _is_image(i)]
        out.setdefault(series.series_uid, []).extend(files)
    return out


def series_files(
    path: str | os.PathLike[str], series: int | str
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Pick one series of a DICOMDIR: the n-th in the DICOMDIR's tree order, or its UID.

    Parameters
    ----------
    path
        The DICOMDIR file.
    series
        1-based position in tree order (``3`` or ``"#3"``), or a Series Instance UID.

    Returns
    -------
    tuple
        ``(files, skipped)`` as :func:`referenced_files`, for that series only.

    Raises
    ------
    DicomDirError
        The series is not in the file-set (the message lists how many there are).
    """
    tree = read_fileset(path)
    listed = tree.series()
    text = str(series).strip().lstrip("#")
    chosen = None
    if text.isdigit() and 1 <= int(text) <= len(listed):
        chosen = listed[int(text) - 1][2]
    else:
        chosen = next((se for _, _, se in listed if se.series_uid == text), None)
    if chosen is None:
        raise DicomDirError(
            f"{path}: no series {series!r}; the DICOMDIR lists {len(listed)} series "
            f"(#1..#{len(listed)}, see: volumeviz info {path})"
        )
    root = Path(tree.root)
    files = [root / i.path for i in chosen.instances if i.status == OK and _is_image(i)]
    skipped = [(i.file_id, i.reason) for i in chosen.instances if i.status != OK]
    return files, skipped
