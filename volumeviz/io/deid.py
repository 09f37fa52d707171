"""De-identification of DICOM datasets volumeviz writes: PS3.15 Annex E, Basic Profile.

Every DICOM file volumeviz writes with ``anonymize`` (an image series from
:func:`volumeviz.io.write.write_series`, a Secondary Capture from
:func:`volumeviz.io.write.write_secondary_capture`, the captures of ``report
--secondary-capture``) passes through :func:`deidentify_dataset` just before it is saved.

What is done (DICOM PS3.15 Annex E, Table E.1-1, Basic Application Level Confidentiality
Profile, as the `dicom-anonymizer <https://pypi.org/project/dicom-anonymizer/>`_ package
transcribes it from the 2026c standard: :data:`TABLE_VERSION`):

- **X** (remove), **X/Z**, **X/D**, **X/Z/D**, **X/Z/U*** : removed. None of the attributes so
  marked is Type 1 in the IODs volumeviz writes (CT, MR, Secondary Capture), so removal keeps
  the files valid (``dciodvfy``).
- **Z**, **Z/D**: emptied (zero length); Patient ID (Z/D) and Patient's Name (Z) get the
  session's pseudonym instead, so a PACS keeps the files of one patient together.
- **D**: a dummy of the value representation.
- **U**: a new UID, the same for the same original UID throughout a :class:`DeidSession` (so the
  captures of one report share ONE new Study Instance UID). With a key the new UID is an HMAC
  of the old one (the same across runs with that key); without one it is random.
- Private attributes and the overlay/curve repeating groups are removed.
- The text that is kept, and the descriptions volumeviz itself writes (series description,
  derivation), pass through the free-text scrubber :class:`volumeviz.model.deid.Redactor`
  with every value the profile removed (Clean Descriptors).

Options (PS3.15 Table E.1-1 columns, CID 7050), chosen for sharing pictures of a case:

- *Clean Descriptors* (113105): applied; descriptions volumeviz writes are scrubbed.
- *Clean Pixel Data* (113101): applied when the caller says the pixels were made from
  de-identified text (the pictures volumeviz renders with ``anonymize``; ultrasound frames are
  blacked out outside their regions); Burned In Annotation is then ``NO``.
- *Retain Longitudinal Temporal Information* (113106/113107): **not** applied: no dates at all
  (the simplest guarantee, and what HIPAA Safe Harbor asks).
- *Retain Patient Characteristics* (113108), *Retain Device Identity* (113109), *Retain
  Institution Identity* (113112), *Retain UIDs* (113110), *Retain Safe Private* (113111):
  **not** applied (sex emptied, age removed, station and serial numbers removed, institution
  removed, new UIDs, private attributes removed).

Patient Identity Removed (0012,0062) is ``YES``; De-identification Method (0012,0063) names the
profile, options and table; De-identification Method Code Sequence (0012,0064) holds the CID
7050 codes of the profile and the options applied.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from volumeviz.model.deid import Identity, Redactor, pseudonym

__all__ = [
    "FIELD_KEYWORDS",
    "OPTIONS",
    "TABLE_VERSION",
    "WITHHELD",
    "DeidSession",
    "PathHider",
    "TextScrubber",
    "action_for",
    "basic_profile",
    "deidentify_dataset",
    "hide_uids",
    "pseudonym_key",
    "session_for",
    "withhold_values",
]

#: the edition of PS3.15 Table E.1-1 used (the dicom-anonymizer transcription)
TABLE_VERSION = "dicomfields_2026c"

#: CID 7050 code names (pydicom's ``codes.DCM``) of the profile and of each option applied
OPTIONS = {
    "basic": "BasicApplicationConfidentialityProfile",
    "clean_pixels": "CleanPixelDataOption",
    "clean_descriptors": "CleanDescriptorsOption",
}

#: the DICOM attribute of each identifying field (model.volume.IDENTIFYING_FIELDS): every one
#: is removed, emptied or replaced by the profile (a test holds the two lists together)
FIELD_KEYWORDS = {
    "patient_name": "PatientName",
    "patient_id": "PatientID",
    "patient_birth_date": "PatientBirthDate",
    "patient_age": "PatientAge",
    "institution": "InstitutionName",
    "accession_number": "AccessionNumber",
    "referring_physician": "ReferringPhysicianName",
    "study_date": "StudyDate",
    "study_time": "StudyTime",
    "study_id": "StudyID",
    "study_uid": "StudyInstanceUID",
    "series_uid": "SeriesInstanceUID",
    "frame_of_reference_uid": "FrameOfReferenceUID",
}

_TEXT_VRS = ("LO", "SH", "ST", "LT", "UT", "UC", "PN")
_CATEGORY_CODE = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}


@functools.cache
def basic_profile() -> tuple[dict[int, str], tuple[tuple[int, int, int, int, str], ...]]:
    """Table E.1-1's Basic Profile column: ``{tag: action}`` and the masked repeating groups.

    Returns
    -------
    tuple
        ``(single, masked)``: ``single`` maps a tag (int, ``0xGGGGEEEE``) to its action code
        (``"X"``, ``"Z"``, ``"D"``, ``"U"``, ``"Z/D"``, ``"X/Z"``, ``"X/D"``, ``"X/Z/D"``,
        ``"X/Z/U*"``); ``masked`` lists ``(group, element, group mask, element mask, action)``
        for the repeating groups (overlays, curves).

    Examples
    --------
    >>> single, masked = basic_profile()
    >>> single[0x00100010], single[0x0020000D], single[0x00081030]
    ('Z', 'U', 'X')
    """
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    table = dicom_anonymization_database_selector(TABLE_VERSION)
    single: dict[int, str] = {}
    masked: list[tuple[int, int, int, int, str]] = []
    for category, code in _CATEGORY_CODE.items():
        for tag in table[category]:
            if len(tag) == 2:
                single[(tag[0] << 16) | tag[1]] = code
            else:
                masked.append((tag[0], tag[1], tag[2], tag[3], code))
    return single, tuple(masked)


def action_for(keyword: str) -> str:
    """The Basic Profile action for an attribute keyword (``"K"`` when the table keeps it).

    Examples
    --------
    >>> action_for("PatientName"), action_for("Rows")
    ('Z', 'K')
    """
    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword)
    if tag is None:
        raise ValueError(f"{keyword!r} is not a DICOM keyword")
    return _action(tag)


def _action(tag: Any) -> str:
    single, masked = basic_profile()
    code = single.get(int(tag))
    if code is not None:
        return code
    group, element = tag >> 16, tag & 0xFFFF
    for g, e, gm, em, c in masked:
        if group & gm == g & gm and element & em == e & em:
            return c
    return "K"


@dataclass
class DeidSession:
    """De-identification state shared by the files of one output (one report, one series).

    Parameters
    ----------
    key
        Secret for pseudonyms and new UIDs (default ``$VOLUMEVIZ_PSEUDONYM_KEY`` when the
        caller reads it). With a key, the same patient and UIDs map to the same values across
        runs; without one, pseudonym and UIDs are random for this session only.
    identity
        Identifying values known beforehand (the source Volume's metadata and paths), scrubbed
        from the text that is kept in addition to the values found in each dataset.
    """

    key: bytes | None = None
    identity: Identity = field(default_factory=Identity)
    _uids: dict[str, str] = field(default_factory=dict, repr=False)
    _patients: dict[tuple[str, str, str], str] = field(default_factory=dict, repr=False)
    _nonce: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)

    def uid(self, old: str) -> str:
        """The new UID for ``old`` (the same for the same ``old`` in this session)."""
        from pydicom.uid import generate_uid

        old = str(old).strip()
        if old not in self._uids:
            secret = self.key.hex() if self.key else self._nonce
            self._uids[old] = str(generate_uid(entropy_srcs=[secret, old]))
        return self._uids[old]

    def patient(self, patient_id: str, name: str, birth_date: str) -> str:
        """The pseudonym of one patient: keyed HMAC with a key, random for the session without."""
        ident = (patient_id.strip(), str(name).strip(), birth_date.strip())
        if ident not in self._patients:
            key = self.key or self._nonce.encode("ascii")
            self._patients[ident] = pseudonym(*ident, key)
        return self._patients[ident]


def _identity_of(ds: Any) -> Identity:
    """The values the profile removes from ``ds`` that could be typed into free text."""
    names: list[str] = []
    ids: list[str] = []
    dates: list[str] = []
    phrases: list[str] = []

    def visit(dataset: Any, elem: Any) -> None:
        if elem.VR == "SQ" or elem.value in (None, "", b""):
            return
        if _action(elem.tag) == "K" or "Description" in (elem.keyword or ""):
            return
        values = elem.value if elem.VM > 1 else [elem.value]
        for v in values:
            text = str(v).strip()
            if not text:
                continue
            if elem.VR == "PN":
                names.append(text)
            elif elem.VR == "DA":
                dates.append(text)
            elif (elem.keyword or "").endswith(("ID", "IDs", "Number", "Numbers")):
                ids.append(text)
            elif elem.VR in ("LO", "SH", "CS", "AS", "ST", "LT", "AE", "UI", "TM", "DT"):
                phrases.append(text)

    ds.walk(visit)
    return Identity(names=tuple(names), ids=tuple(ids), dates=tuple(dates), phrases=tuple(phrases))


def _dummy(vr: str, session: DeidSession, value: Any) -> Any:
    if vr == "UI":
        return session.uid(str(value))
    if vr in ("DA",):
        return "19000101"
    if vr == "TM":
        return "000000"
    if vr == "DT":
        return "19000101000000"
    if vr in ("DS", "IS"):
        return "0"
    if vr in ("US", "SS", "UL", "SL", "FL", "FD"):
        return 0
    if vr == "AS":
        return "000Y"
    if vr in ("OB", "OW", "UN"):
        return b""
    return "ANONYMOUS"


def pseudonym_key() -> bytes | None:
    """The pseudonym key from ``$VOLUMEVIZ_PSEUDONYM_KEY`` (None when unset or empty)."""
    value = os.environ.get("VOLUMEVIZ_PSEUDONYM_KEY", "")
    return value.encode("utf-8") if value else None


def session_for(anonymize: bool | DeidSession, *items: Any) -> DeidSession | None:
    """The session a writer uses: the one given, a new one for ``True``, None for ``False``.

    A new session takes its key from :func:`pseudonym_key` and scrubs the identity of
    ``items`` (Volumes, metadata) from the text it keeps.
    """
    if isinstance(anonymize, DeidSession):
        return anonymize
    if not anonymize:
        return None
    return DeidSession(key=pseudonym_key(), identity=Identity.of(*items))


def deidentify_dataset(
    ds: Any,
    session: DeidSession,
    *,
    clean_pixels: bool = False,
    descriptors: Mapping[str, str] | None = None,
    identity: Identity | None = None,
    program: str = "volumeviz",
    required: Iterable[str] = (),
    keep_references: bool = False,
) -> None:
    """De-identify ``ds`` in place (PS3.15 Basic Profile; options as the module says).

    Parameters
    ----------
    ds
        A pydicom Dataset about to be written (its ``file_meta``, if any, is rebuilt by the
        writer from the new SOP Instance UID).
    session
        The shared state: new UIDs and the pseudonym stay the same across the files of one
        output.
    clean_pixels
        The pixels were made from de-identified text (Clean Pixel Data: Burned In Annotation
        becomes ``NO``). Otherwise an existing Burned In Annotation is kept as it is.
    descriptors
        Descriptive text volumeviz wrote (keyword -> value, e.g. ``{"SeriesDescription":
        "volumeviz report: MPR quad"}``), kept after scrubbing (Clean Descriptors).
    identity
        More identifying values to scrub from kept text (the source's metadata and paths).
    program
        Named in De-identification Method (0012,0063).
    required
        Keywords that are Type 1 in the IOD being written (e.g. Content Date/Time in the
        Multi-frame Functional Groups of a SEG): where the profile says ``Z/D``, ``X/D`` or
        ``X/Z/D`` they get the dummy (``D``) instead of being emptied or removed, so the file
        stays valid.
    keep_references
        Apply ``U*`` to the ``X/Z/U*`` reference sequences (Source Image Sequence, Referenced
        Image Sequence ...): kept, with every UID inside replaced by the session's new UID
        (the table's choice when an IOD requires them, as a SEG's per-frame Derivation Image
        references do). Otherwise they are removed (``X``).
    """
    from pydicom.dataset import Dataset
    from pydicom.sr.codedict import codes

    identity = session.identity.merged(identity or Identity()).merged(_identity_of(ds))
    redact = Redactor(identity)
    pid = session.patient(
        str(ds.get("PatientID", "") or ""),
        str(ds.get("PatientName", "") or ""),
        str(ds.get("PatientBirthDate", "") or ""),
    )
    ds.remove_private_tags()
    must_stay = set(required)

    def visit(dataset: Any, elem: Any) -> None:
        action = _action(elem.tag)
        if action == "K" or (action == "X/Z/U*" and keep_references):
            return  # U*: the UIDs inside are replaced as the walk goes down
        if elem.keyword in must_stay and "D" in action.split("/"):
            action = "D"
        if action == "U":
            if elem.VM > 1:
                elem.value = [session.uid(v) for v in elem.value]
            elif elem.value:
                elem.value = session.uid(elem.value)
        elif action in ("X", "X/Z", "X/D", "X/Z/D", "X/Z/U*"):
            del dataset[elem.tag]
        elif action in ("Z", "Z/D"):
            elem.value = [] if elem.VR == "SQ" else ("" if elem.VR not in ("OB", "OW") else b"")
        elif action == "D":
            if elem.VR == "SQ":
                del dataset[elem.tag]
            else:
                elem.value = _dummy(elem.VR, session, elem.value)

    # walk a copy of the tag list at each level: deleting while iterating is not safe
    _walk(ds, visit)
    ds.PatientID = pid
    ds.PatientName = pid.replace("-", "^", 1)  # a PN with its family^given parts
    # kept text: scrubbed of every removed value (Clean Descriptors)
    _walk(ds, lambda d, e: _scrub(e, redact))
    options = ["basic", "clean_descriptors"]
    for keyword, value in (descriptors or {}).items():
        setattr(ds, keyword, redact(value)[:64] if _vr(keyword) == "LO" else redact(value))
    if clean_pixels:
        ds.BurnedInAnnotation = "NO"
        options.insert(1, "clean_pixels")
    ds.PatientIdentityRemoved = "YES"
    items = []
    for name in options:
        code = getattr(codes.DCM, OPTIONS[name])
        item = Dataset()
        item.CodeValue = code.value
        item.CodingSchemeDesignator = code.scheme_designator
        item.CodeMeaning = code.meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = items
    ds.DeidentificationMethod = _method_text(program, options)
    if _needs_utf8(ds):
        ds.SpecificCharacterSet = "ISO_IR 192"


def _method_text(program: str, options: Iterable[str]) -> list[str]:
    """De-identification Method values (LO: each at most 64 characters)."""
    from pydicom.sr.codedict import codes

    values = [f"{program}: PS3.15 E.1-1 ({TABLE_VERSION})"]
    values += [getattr(codes.DCM, OPTIONS[o]).meaning for o in options if o != "basic"]
    return [v[:64] for v in values]


def _vr(keyword: str) -> str:
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    tag = tag_for_keyword(keyword)
    return str(dictionary_VR(tag)) if tag is not None else ""


def _walk(ds: Any, fn: Any) -> None:
    for tag in list(ds.keys()):
        if tag not in ds:
            continue
        elem = ds[tag]
        fn(ds, elem)
        if tag in ds and ds[tag].VR == "SQ":
            for item in ds[tag].value:
                _walk(item, fn)


def _scrub(elem: Any, redact: Redactor) -> None:
    if elem.VR not in _TEXT_VRS or elem.value in (None, ""):
        return
    if elem.VM > 1:
        elem.value = [redact(str(v)) for v in elem.value]
    else:
        elem.value = redact(str(elem.value))


def _needs_utf8(ds: Any) -> bool:
    for elem in ds:
        if elem.VR in _TEXT_VRS and elem.value is not None and not str(elem.value).isascii():
            return True
    return False


#: paths under an input folder known by name (a folder with more is matched up to a space)
_MAX_KNOWN = 200_000
_PATH_END = re.compile(r"[\s:;,'\"()\[\]]")
#: a DICOM UID (PS3.5 9.1: digits in components without leading zeros), 5 components or more
#: (fewer would take version numbers and IPv4 addresses); a file name ``UID.dcm`` counts
UID_PATTERN = re.compile(r"(?<![\w.])[0-2](?:\.(?:0|[1-9]\d*)){4,}(?!\d)(?!\.\d)")
#: UIDs the DICOM standard itself defines (SOP classes, transfer syntaxes): they identify nobody
STANDARD_UID_ROOT = "1.2.840.10008."


def hide_uids(text: str, key: bytes | None) -> str:
    """``text`` with every DICOM UID outside the standard's own root as ``uid-<hash>``.

    Study, series, instance and frame-of-reference UIDs are identifying (PS3.15 replaces them
    all); the hash is :func:`volumeviz.model.deid.keyed_hash` under ``key`` (8 hex digits), so
    whoever holds the key can tell which object a message meant. UIDs of the standard
    (``1.2.840.10008.*``: SOP classes, transfer syntaxes) are kept.

    Examples
    --------
    >>> hide_uids("studies/1.2.826.0.1.3680043.8.498.99: not found", b"k")
    'studies/uid-8cd215d2: not found'
    >>> hide_uids("transfer syntax 1.2.840.10008.1.2.4.50, volumeviz 0.4.1, 127.0.0.1", b"k")
    'transfer syntax 1.2.840.10008.1.2.4.50, volumeviz 0.4.1, 127.0.0.1'
    """
    from volumeviz.model.deid import keyed_hash

    def one(m: re.Match[str]) -> str:
        uid = m.group(0)
        if uid.startswith(STANDARD_UID_ROOT):
            return uid
        return f"uid-{keyed_hash(uid, key)[:8]}"

    return UID_PATTERN.sub(one, text)


class PathHider:
    """Replaces every path inside the inputs by ``<input>/file-<hash>`` in a text, and UIDs.

    The hash is :func:`volumeviz.model.deid.keyed_hash` of the path relative to its input (the
    tag ``export`` also prints), so whoever holds the key can find the file; the input itself
    becomes ``<input>``. File and folder names may carry the patient's name, so none is shown.
    Paths with spaces are recognised by the names found under the input.

    An input may be a PACS address (``dicomweb+http://...``, ``dimse://...``): its service root
    identifies nobody and stays; the Study and Series Instance UIDs in it, like every other
    DICOM UID in the text, become ``uid-<hash>`` (:func:`hide_uids`), so a failed retrieve's
    message names neither the study nor its instances.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "Doe John"
    >>> (root / "a b").mkdir(parents=True)
    >>> hide = PathHider([root], b"k")
    >>> hide(f"{root}/a b/I1.dcm: bad").startswith("<input>/file-")
    True
    >>> hide("dimse://PACS@h:104/studies/1.2.826.0.1.3680043.8.498.99: cut short")
    'dimse://PACS@h:104/studies/uid-8cd215d2: cut short'
    """

    def __init__(self, inputs: Iterable[str | os.PathLike[str]], key: bytes | None) -> None:
        self.key = key
        self.roots: list[tuple[str, Any]] = []
        self._known: dict[Any, set[str]] = {}
        for p in inputs:
            self.add(p)

    def add(self, p: str | os.PathLike[str]) -> None:
        """Hide paths inside ``p`` too (e.g. the local folder a PACS study was fetched into)."""
        from pathlib import Path

        from volumeviz.io.pacs.address import is_address

        if isinstance(p, str) and is_address(p):
            return  # its UIDs are hidden like every UID; a Path would fold its "//"
        path = Path(p)
        root = path if path.is_dir() else path.parent
        # a file given: its own path, and its folder (where its neighbours are named from)
        for base in dict.fromkeys((path, root)):
            for form in {str(base), str(base.resolve()), os.path.abspath(base)}:
                if form and form not in (".", os.sep):
                    self.roots.append((form.rstrip("/\\") or form, root))
        self.roots.sort(key=lambda r: len(r[0]), reverse=True)

    def _names_under(self, root: Any) -> set[str]:
        if root not in self._known:
            names: set[str] = set()
            if root.is_dir():
                for dirpath, dirnames, filenames in os.walk(root):
                    rel = os.path.relpath(dirpath, root)
                    for n in (*dirnames, *filenames):
                        names.add(n if rel == "." else f"{rel}/{n}")
                    if len(names) > _MAX_KNOWN:
                        break
            self._known[root] = names
        return self._known[root]

    def token(self, rel: str) -> str:
        """``<input>/file-<hash>`` for a path relative to an input (``<input>`` for "")."""
        from volumeviz.model.deid import keyed_hash

        rel = rel.strip("/\\")
        return "<input>" if not rel else f"<input>/file-{keyed_hash(rel, self.key)[:8]}"

    def __call__(self, line: str) -> str:
        """``line`` with every path inside an input replaced by its token, and UIDs hidden."""
        for form, root in self.roots:
            start = 0
            while (i := line.find(form, start)) >= 0:
                rest = line[i + len(form) :]
                if rest and rest[0] not in "/\\":
                    if rest[0].isalnum() or rest[0] in "._-":  # a longer name that starts alike
                        start = i + len(form)
                        continue
                    line = line[:i] + "<input>" + rest
                    start = i + len("<input>")
                    continue
                rel = self._longest_known(rest[1:], root) if rest else ""
                if rest and not rel:
                    m = _PATH_END.search(rest, 1)
                    rel = rest[1 : m.start()] if m else rest[1:]
                token = self.token(rel)
                consumed = len(rel) + 1 if rest else 0
                line = line[:i] + token + rest[consumed:]
                start = i + len(token)
        return hide_uids(line, self.key)

    def _longest_known(self, rest: str, root: Any) -> str:
        known = self._names_under(root)
        ends = [m.start() for m in _PATH_END.finditer(rest)] + [len(rest)]
        for end in sorted(ends, reverse=True):
            if rest[:end] in known:
                return rest[:end]
        return ""


_TAG = re.compile(r"\((?P<g>[0-9A-Fa-f]{4}),(?P<e>[0-9A-Fa-f]{4})\)")
#: a quoted value: it may hold apostrophes (O'Brien); it ends at a quote before a space or stop
_QUOTED = re.compile(r"\s*'(?P<v>.*?)'(?=[\s;,)\]]|$)")
#: what replaces the value of an identifying DICOM element in a message
WITHHELD = "[withheld]"


def withhold_values(line: str) -> str:
    """Replace the quoted value after each tag the Basic Profile does not keep.

    Messages name an element as ``(0010,0030) Patient's Birth Date '19010203' ...``: the name
    (taken from the DICOM dictionary, apostrophes and all) is skipped, the quoted value after it
    becomes :data:`WITHHELD`.

    Examples
    --------
    >>> withhold_values("x: (0010,0030) Patient's Birth Date '19010203' bad; (0028,0010) Rows '2'")
    "x: (0010,0030) Patient's Birth Date '[withheld]' bad; (0028,0010) Rows '2'"
    """
    from pydicom.datadict import dictionary_description

    out: list[str] = []
    pos = 0
    for m in _TAG.finditer(line):
        if m.start() < pos:
            continue
        tag = (int(m.group("g"), 16) << 16) | int(m.group("e"), 16)
        if _action(tag) == "K":
            continue
        after = m.end()
        try:
            name = str(dictionary_description(tag))
        except KeyError:
            name = ""
        rest = line[after:]
        if name and rest.lstrip().startswith(name):
            after += len(rest) - len(rest.lstrip()) + len(name)
        q = _QUOTED.match(line, after)
        if q is None or not q.group("v"):
            continue
        out.append(line[pos : q.start("v")] + WITHHELD)
        pos = q.end("v")
    out.append(line[pos:])
    return "".join(out)


class TextScrubber:
    """The one filter for every line an anonymised run prints or logs (console, batch summary).

    A line passes three rules, in this order: paths inside an input become
    ``<input>/file-<hash>`` and DICOM UIDs ``uid-<hash>`` (:class:`PathHider`); the quoted value
    after an identifying DICOM element becomes ``'[withheld]'`` (:func:`withhold_values`); the
    identity of what was loaded (:meth:`add_items`) and every date are removed
    (:class:`volumeviz.model.deid.Redactor`).

    Parameters
    ----------
    inputs
        Folders, files or PACS addresses the run reads (more with :meth:`add_input`).
    key
        The pseudonym key (:func:`pseudonym_key`) the hashes are made under.
    """

    def __init__(self, inputs: Iterable[str | os.PathLike[str]], key: bytes | None) -> None:
        self.paths = PathHider(inputs, key)
        self.identity = Identity()
        self.redact = Redactor(self.identity)
        self.kept: list[str] = []

    def keep(self, *texts: str | os.PathLike[str]) -> None:
        """Print ``texts`` unchanged where they appear whole: the user's own words.

        Such as the output path they typed (``-o out/mg_anon.png`` is what is on disk, even
        when "ANON" is also a value of the patient's identity). A path is kept as typed and as
        resolved.
        """
        for t in texts:
            forms = {os.fspath(t)}
            if isinstance(t, os.PathLike) or os.sep in os.fspath(t) or "." in os.fspath(t):
                forms.add(os.path.abspath(os.fspath(t)))
            self.kept.extend(f for f in forms if f and f not in self.kept)
        self.kept.sort(key=len, reverse=True)

    def add(self, identity: Identity) -> None:
        """Also remove ``identity``'s values."""
        self.identity = self.identity.merged(identity)
        self.redact = Redactor(self.identity)

    def add_items(self, *items: Any) -> None:
        """Also remove the identity of ``items`` (Volumes, ultrasound images, metadata)."""
        self.add(Identity.of(*items))

    def add_input(self, path: str | os.PathLike[str]) -> None:
        """Also hide paths inside ``path``."""
        self.paths.add(path)

    def __call__(self, line: str) -> str:
        """``line`` as an anonymised run may print it."""
        if not self.kept or not any(k in line for k in self.kept):
            return self._scrub(line)
        parts = re.split("(" + "|".join(re.escape(k) for k in self.kept) + ")", line)
        return "".join(p if n % 2 else self._scrub(p) for n, p in enumerate(parts))

    def _scrub(self, text: str) -> str:
        return str(self.redact(withhold_values(self.paths(text)))) if text else text
