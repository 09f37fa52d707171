"""Every DICOM header value volumeviz reads goes through io/header.py (the one checked accessor).

The test reads volumeviz's own source: any read of a DICOM element by keyword or tag outside
io/header.py (``ds.Rows``, ``ds.get("Rows")``, ``getattr(ds, "Rows")``, ``ds["Rows"]``,
``ds[0x00280010]``) fails it, unless it is listed in ALLOWED with the reason it is not a read
of an input's header (a dataset volumeviz built itself, a network status message). A new reader
that calls ``int(ds.NumberOfFrames)`` brings back the whole class of 'internal error' the fuzz
campaign found (issue #13), so it must fail here before it lands.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pydicom.datadict import keyword_dict

PACKAGE = Path(__file__).resolve().parents[2] / "volumeviz"
KEYWORDS = frozenset(keyword_dict)

#: (module under volumeviz/, keyword) -> why it is not a read of an input file's header
ALLOWED: dict[tuple[str, str], str] = {
    ("io/write.py", "SOPClassUID"): "File Meta copied from the dataset write.py just built",
    ("io/write.py", "SOPInstanceUID"): "File Meta copied from the dataset write.py just built",
    ("io/write.py", "ReferencedSOPClassUID"): "an item write.py built two lines above",
    ("io/write.py", "ReferencedSOPInstanceUID"): "an item write.py built two lines above",
    ("io/write.py", "SeriesDescription"): "volumeviz's own description, kept by de-id",
    ("io/write.py", "DerivationDescription"): "volumeviz's own description, kept by de-id",
    ("io/synth.py", "SOPClassUID"): "File Meta of the synthetic dataset synth.py built",
    ("io/synth.py", "SOPInstanceUID"): "File Meta of the synthetic dataset synth.py built",
    ("io/synth.py", "ImagePositionPatient"): "positions of the synthetic files synth.py wrote",
    ("io/seg_write.py", "SpecificCharacterSet"): "highdicom's output dataset before saving",
    ("io/seg_write.py", "SOPInstanceUID"): "File Meta: the UID de-id just gave the SEG",
    ("io/deid.py", "PatientID"): "the output dataset write.py built from checked metadata",
    ("io/deid.py", "PatientName"): "the output dataset write.py built from checked metadata",
    ("io/deid.py", "PatientBirthDate"): "the output dataset write.py built from checked metadata",
    ("io/pacs/dimse.py", "Status"): "a DIMSE status message (pynetdicom), not a file header",
    ("io/pacs/dimse.py", "NumberOfFailedSuboperations"): "a DIMSE status message",
    ("io/pacs/dimse.py", "ErrorComment"): "a DIMSE status message",
    ("io/pacs/dimse.py", "AffectedSOPInstanceUID"): "a C-STORE request (pynetdicom)",
    ("io/pacs/dimse.py", "SOPClassUID"): "files volumeviz wrote, sent by --store",
    ("io/pacs/dimse.py", "TransferSyntaxUID"): "files volumeviz wrote, sent by --store",
    ("io/pacs/dicomweb.py", "FailedSOPSequence"): "a STOW-RS JSON answer (a dict)",
    ("io/pacs/dicomweb.py", "ReferencedSOPInstanceUID"): "a STOW-RS JSON answer (a dict)",
    ("io/pacs/dicomweb.py", "FailureReason"): "a STOW-RS JSON answer (a dict)",
}

#: attribute names that are DICOM keywords but name something else in our code
NOT_ELEMENTS = frozenset({"UID"})  # pydicom.uid.UID


def _stored(tree: ast.AST) -> set[int]:
    """ids of nodes that are assignment/deletion targets (writing an element is not reading)."""
    out: set[int] = set()
    for n in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(n, ast.Assign):
            targets = list(n.targets)
        elif isinstance(n, ast.AugAssign | ast.AnnAssign):
            targets = [n.target]
        elif isinstance(n, ast.Delete):
            targets = list(n.targets)
        for t in targets:
            if isinstance(t, ast.Attribute | ast.Subscript):  # ds.X = ...
                out.add(id(t))
                if isinstance(t.value, ast.Attribute | ast.Subscript):  # ds["X"].VR = ...
                    out.add(id(t.value))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            out.add(id(n.func))  # hd.seg.SegmentDescription(...): a class, not an element
    return out


def _const(node: ast.AST) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _is_tag(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0x00080000 <= v <= 0xFFFFFFFF


def header_reads(source: str) -> list[tuple[int, str]]:
    """(line, keyword or tag) of every direct header read in ``source``."""
    tree = ast.parse(source)
    stored = _stored(tree)
    found: list[tuple[int, str]] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute) and n.attr in KEYWORDS and id(n) not in stored:
            if n.attr not in NOT_ELEMENTS and not isinstance(n.ctx, ast.Store | ast.Del):
                found.append((n.lineno, n.attr))
        elif isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Attribute) and f.attr == "get" and n.args:
                key = _const(n.args[0])
                if key in KEYWORDS or _is_tag(key):
                    found.append((n.lineno, str(key)))
            if isinstance(f, ast.Name) and f.id in ("getattr", "hasattr") and len(n.args) > 1:
                key = _const(n.args[1])
                if key in KEYWORDS:
                    found.append((n.lineno, str(key)))
        elif isinstance(n, ast.Subscript) and id(n) not in stored:
            key = _const(n.slice)
            if (key in KEYWORDS or _is_tag(key)) and not isinstance(n.ctx, ast.Store | ast.Del):
                found.append((n.lineno, str(key)))
    return sorted(found)


def test_the_scan_sees_each_kind_of_direct_read():
    src = (
        "a = int(ds.NumberOfFrames)\n"
        "b = ds.get('Rows', 0)\n"
        "c = getattr(ds, 'Columns', None)\n"
        "d = ds['PixelSpacing'].value\n"
        "e = ds[0x00280030]\n"
        "ds.Rows = 4\n"
        "ds['Rows'].VR = 'US'\n"
        "del ds.Columns\n"
        "f = pydicom.uid.UID('1.2')\n"
        "g = h.integer('Rows')\n"
    )
    assert header_reads(src) == [
        (1, "NumberOfFrames"),
        (2, "Rows"),
        (3, "Columns"),
        (4, "PixelSpacing"),
        (5, str(0x00280030)),
    ]


def test_no_header_value_is_read_outside_the_checked_accessor():
    unexpected: list[str] = []
    used: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "io/header.py":
            continue
        for line, key in header_reads(path.read_text(encoding="utf-8")):
            if (rel, key) in ALLOWED:
                used.add((rel, key))
            else:
                unexpected.append(f"volumeviz/{rel}:{line}: {key}")
    assert not unexpected, (
        "read these through volumeviz.io.header.Header (h.integer/number/text/...), or list "
        "them in ALLOWED with the reason they are not an input's header:\n" + "\n".join(unexpected)
    )
    assert used == set(ALLOWED), f"stale ALLOWED entries: {sorted(set(ALLOWED) - used)}"
