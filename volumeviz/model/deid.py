"""De-identification of text: the one scrubber every output of volumeviz passes its words through.

Pure Python (no pydicom), so ``render`` may use it. What identifies a patient is listed once, in
:data:`volumeviz.model.volume.IDENTIFYING_FIELDS`; :data:`FIELD_KINDS` says how each of those
fields is looked for in free text (a person name, an identifier, a date, a whole phrase).

- :class:`Identity` gathers the identifying values of one or more items (Volumes, ultrasound
  images, their metadata).
- :class:`Redactor` removes them from any text: person names part by part (any order, any
  case, with or without accents), identifiers with or without separators, the patient's dates
  in every common format, and *every* date-like string (a date is an identifier under HIPAA
  Safe Harbor; PS3.15 removes them without the Retain Longitudinal Temporal Information
  option). Each removed run becomes one :data:`REMOVED` marker, whatever its length, so two
  identities give the same text.
- :class:`SafeText` is a ``str`` that has been through a :class:`Redactor` (also an inactive
  one, when nothing is anonymised). Functions that draw text on pictures accept only
  ``SafeText`` (mypy enforces it), so new annotation text cannot skip the scrubber.
- :func:`pseudonym` makes the stable ``patient-<hash>`` used for folder names and DICOM.
- :func:`pixel_policy` decides, for every anonymised output, whether an image's pixels may be
  kept, must be masked outside the ultrasound regions, or must not leave (burned-in text).

The DICOM side (PS3.15 Annex E on datasets written by volumeviz) is
:mod:`volumeviz.io.deid`; it uses this scrubber for the text it keeps.

Examples
--------
>>> from volumeviz.model.volume import VolumeMeta
>>> meta = VolumeMeta(patient_name="DOE^JOHN", patient_id="12345", patient_birth_date="19700131",
...                   series_description="John Doe 31.01.1970 id 12345 HEAD")
>>> redact = Redactor(Identity.of(meta))
>>> redact(meta.series_description)
'[removed] id [removed] HEAD'
>>> Redactor.off()("John Doe")
'John Doe'
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NewType

from volumeviz.model.volume import IDENTIFYING_FIELDS

__all__ = [
    "FIELD_KINDS",
    "REMOVED",
    "Identity",
    "PixelPolicy",
    "Redactor",
    "SafeText",
    "keyed_hash",
    "pixel_policy",
    "pseudonym",
]

#: what replaces each run of removed text
REMOVED = "[removed]"

#: text that has passed through a :class:`Redactor` (the only text pictures may carry)
SafeText = NewType("SafeText", str)

#: how each identifying field is looked for in free text
FIELD_KINDS: Mapping[str, str] = {
    "patient_name": "name",
    "referring_physician": "name",
    "patient_id": "id",
    "accession_number": "id",
    "study_id": "id",
    "patient_birth_date": "date",
    "study_date": "date",
    "study_time": "time",
    "patient_age": "phrase",
    "institution": "phrase",
    "study_uid": "uid",
    "series_uid": "uid",
    "frame_of_reference_uid": "uid",
}

# every identifying field has a kind, and nothing else does
assert set(FIELD_KINDS) == set(IDENTIFYING_FIELDS), "FIELD_KINDS and IDENTIFYING_FIELDS differ"

_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
    "Oktober", "November", "Dezember",
)  # fmt: skip
_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip


def _ascii(text: str) -> str:
    """``text`` with accents dropped (``"Müller"`` -> ``"Muller"``)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _month_names() -> list[str]:
    names: set[str] = set()
    for table in (_MONTHS_EN, _MONTHS_DE, _MONTHS_FR):
        for name in table:
            for form in (name, _ascii(name)):
                names.add(form)
                if len(form) > 3:
                    names.add(form[:3])
                    names.add(form[:4])  # "Sept", "Janv"
    names.discard("Mai")  # "mai" is the whole month in German and French; kept once below
    names.add("Mai")
    return sorted(names, key=len, reverse=True)


_MONTH = "(?:" + "|".join(re.escape(m) for m in _month_names()) + r")\.?"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_YEAR4 = r"(?:1[89]\d\d|20\d\d)"
_YEAR = rf"(?:{_YEAR4}|\d\d)"
_SEP = r"[-/.]"
# a date in any common written form; (?<![\d.]) keeps dotted numbers (UIDs, versions) whole
_ANY_DATE = re.compile(
    "|".join(
        (
            rf"(?<![\d.]){_YEAR4}(?P<s1>{_SEP}){_MON}(?P=s1){_DAY}(?![\d])",  # 1970-01-31
            rf"(?<![\d.]){_DAY}(?P<s2>{_SEP}){_MON}(?P=s2){_YEAR}(?!\.?\d)",  # 31.01.1970
            rf"(?<![\d.]){_MON}(?P<s3>{_SEP}){_DAY}(?P=s3){_YEAR}(?!\.?\d)",  # 01/31/1970
            rf"(?<![\d.]){_YEAR4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)",  # 19700131
            rf"(?<![\w]){_DAY}(?:st|nd|rd|th|er)?\.?\s*(?:of\s+)?{_MONTH}(?:,?\s*{_YEAR})?"
            r"(?![\w])",  # 31 Jan 1970, 31. Januar
            rf"(?<![\w]){_MONTH}\s*{_DAY}(?:st|nd|rd|th)?(?:,?\s*{_YEAR})?(?!\w)",  # Jan 31, 1970
            rf"(?<![\w]){_MONTH}\s*{_YEAR4}(?!\w)",  # January 1970
        )
    ),
    re.IGNORECASE,
)
_RUNS = re.compile(re.escape(REMOVED) + r"(?:[\s,;:^_./-]*" + re.escape(REMOVED) + ")+")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "AE", "Ö": "OE", "Ü": "UE",
                           "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "å": "aa",
                           "Å": "AA"})  # fmt: skip


def _spellings(word: str) -> set[str]:
    """The ways a name part is typed: as stored, without accents, transliterated."""
    return {w for w in (word, _ascii(word), word.translate(_TRANSLIT)) if w}


def _date_forms(da: str) -> set[str]:
    """Every common way of writing the DICOM date ``da`` (``YYYYMMDD``)."""
    try:
        d = _dt.date(int(da[:4]), int(da[4:6]), int(da[6:8]))
    except ValueError:
        return {da} if len(da) >= 4 else set()
    days = {f"{d.day:02d}", str(d.day)}
    months = {f"{d.month:02d}", str(d.month)}
    years = {f"{d.year:04d}", f"{d.year % 100:02d}"}
    forms = {da, f"{d.day:02d}{d.month:02d}{d.year:04d}", f"{d.month:02d}{d.day:02d}{d.year:04d}"}
    for sep in "-/. ":
        for dd in days:
            for mm in months:
                for yy in years:
                    forms.update(
                        {sep.join((yy, mm, dd)), sep.join((dd, mm, yy)), sep.join((mm, dd, yy))}
                    )
    names = [
        t[d.month - 1] for t in (_MONTHS_EN, _MONTHS_DE, _MONTHS_FR)
    ]  # the year with the month name is caught by the general date pattern
    for name in names:
        for m in {name, name[:3], _ascii(name)}:
            for dd in days:
                forms.update({f"{dd} {m}", f"{dd}. {m}", f"{m} {dd}"})
    return forms


def _is_dicom_date(text: str) -> bool:
    return len(text) == 8 and text.isdigit()


@dataclass(frozen=True)
class Identity:
    """The identifying values of one or more patients, as they are looked for in text.

    Parameters
    ----------
    names
        Person names (DICOM PN, ``FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX``): the patient's and the
        referring physician's.
    ids
        Identifiers: patient ID, accession number, study ID.
    dates
        Dates (DICOM DA ``YYYYMMDD``): birth date and study date.
    phrases
        Values matched whole: institution, age, times and UIDs.
    paths
        Folders the data came from (a path may carry the name): any path inside one is
        removed whole.
    """

    names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    @classmethod
    def of(cls, *items: Any) -> Identity:
        """Collect the identifying values of ``items`` (metadata, or objects with ``meta``).

        Any object with attributes named as in :data:`IDENTIFYING_FIELDS` will do (a
        ``VolumeMeta``, an ``UltrasoundMeta``, a Volume or an UltrasoundImage); missing
        attributes count as empty.
        """
        found: dict[str, list[str]] = {"name": [], "id": [], "date": [], "phrase": [], "path": []}
        for item in items:
            meta = getattr(item, "meta", item)
            files = [*getattr(meta, "source_files", ()), getattr(item, "source", "")]
            for f in files:
                folder = os.path.dirname(str(f))
                if folder and folder not in (".", os.sep):
                    found["path"].append(folder)
            for name in IDENTIFYING_FIELDS:
                value = str(getattr(meta, name, "") or "").strip()
                if not value:
                    continue
                kind = FIELD_KINDS[name]
                if name == "patient_birth_date" and _is_dicom_date(value):
                    found["phrase"].append(value[:4])  # the birth year on its own, too
                if kind == "date" and not _is_dicom_date(value):
                    kind = "phrase"
                elif kind in ("time", "uid"):
                    kind = "phrase"
                found[kind].append(value)
        return cls(
            names=tuple(dict.fromkeys(found["name"])),
            ids=tuple(dict.fromkeys(found["id"])),
            dates=tuple(dict.fromkeys(found["date"])),
            phrases=tuple(dict.fromkeys(found["phrase"])),
            paths=tuple(dict.fromkeys(found["path"])),
        )

    def merged(self, other: Identity) -> Identity:
        """Both identities' values (a report of several items scrubs all of them everywhere)."""
        return Identity(
            names=tuple(dict.fromkeys((*self.names, *other.names))),
            ids=tuple(dict.fromkeys((*self.ids, *other.ids))),
            dates=tuple(dict.fromkeys((*self.dates, *other.dates))),
            phrases=tuple(dict.fromkeys((*self.phrases, *other.phrases))),
            paths=tuple(dict.fromkeys((*self.paths, *other.paths))),
        )

    def __bool__(self) -> bool:
        return bool(self.names or self.ids or self.dates or self.phrases or self.paths)

    def pattern(self) -> re.Pattern[str] | None:
        """One case-insensitive pattern matching every identifying value in every spelling."""
        alternatives: set[str] = set()
        for pn in self.names:
            # family, given, middle (prefix and suffix such as "Dr" or "MR" identify nobody)
            for group in pn.split("="):
                for component in group.split("^")[:3]:
                    for part in re.split(r"[\W_\d]+", component):
                        if len(part) < 2:
                            continue  # an initial on its own would remove every such letter
                        for spelling in _spellings(part):
                            # a whole word: "DOE" goes, "DOES" stays
                            alternatives.add(rf"(?<![^\W\d_]){re.escape(spelling)}(?![^\W\d_])")
        for ident in self.ids:
            chars = [c for c in ident if c.isalnum()]
            if len(chars) < 3:
                continue  # "1" as a study ID would remove every 1
            # with or without separators ("123-45-678", "12345678", "123 45 678")
            alternatives.add(r"[\s\-_./]?".join(re.escape(c) for c in chars))
        for da in self.dates:
            alternatives.update(
                r"(?<!\d)" + r"\s*".join(re.escape(p) for p in form.split(" ")) + r"(?!\d)"
                for form in _date_forms(da)
            )
        for phrase in self.phrases:
            words = phrase.split()
            if len("".join(words)) < 3:
                continue
            body = r"[\s\-_]*".join(re.escape(w) for w in words)
            alternatives.add(rf"(?<!\w){body}(?!\w)")
        for folder in self.paths:
            # the folder and anything under it, up to a space or punctuation ending the path
            alternatives.add(re.escape(folder.rstrip("/\\")) + r"(?:[/\\][^\s:;,'\"]*)?")
        if not alternatives:
            return None
        return re.compile("|".join(sorted(alternatives, key=len, reverse=True)), re.IGNORECASE)


class Redactor:
    r"""Removes an :class:`Identity` and every date from text; returns :class:`SafeText`.

    ``Redactor(identity)`` is active: it removes ``identity``'s values and every date-like
    string. :meth:`off` gives an inactive one (not anonymising): text passes unchanged. Both
    return :class:`SafeText`, so every piece of text drawn on a picture has been through one.

    Examples
    --------
    >>> r = Redactor(Identity(names=("MÜLLER^JÜRGEN",), ids=("A-1234",)))
    >>> r("Jurgen Mueller, A1234, seen 2019-03-04")
    '[removed], seen [removed]'
    >>> r.lines(["HEAD 5mm", "CT"])
    'HEAD 5mm\nCT'
    """

    __slots__ = ("_pattern", "active", "identity")

    def __init__(self, identity: Identity | None = None, *, active: bool = True) -> None:
        self.identity = identity or Identity()
        self.active = active
        self._pattern = self.identity.pattern() if active else None

    @classmethod
    def off(cls) -> Redactor:
        """A redactor that changes nothing (the output is not anonymised)."""
        return cls(None, active=False)

    @classmethod
    def for_items(cls, *items: Any, anonymize: bool) -> Redactor:
        """Active for ``items``' identity when ``anonymize``, else :meth:`off`."""
        return cls(Identity.of(*items)) if anonymize else cls.off()

    def __call__(self, text: str) -> SafeText:
        """Return ``text`` with the identity and dates removed (unchanged when inactive)."""
        text = str(text)
        if not self.active or not text:
            return SafeText(text)
        text = _ANY_DATE.sub(REMOVED, text)  # first: a whole date, year included
        if self._pattern is not None:
            text = self._pattern.sub(REMOVED, text)
        return SafeText(_RUNS.sub(REMOVED, text))

    def lines(self, lines: Iterable[str]) -> SafeText:
        """Scrub each line and join them with newlines (empty lines dropped)."""
        return SafeText("\n".join(self(x) for x in lines if x))

    def found(self, text: str) -> bool:
        """True if ``text`` holds anything this redactor would remove."""
        return self.active and self(text) != text

    def __repr__(self) -> str:
        return f"Redactor(active={self.active})"


def scrub_fields(obj: Any, redact: Redactor, *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Scrubbed values of every ``str`` field of dataclass ``obj`` (for ``replace``)."""
    skipped = set(skip)
    return {
        f.name: redact(getattr(obj, f.name))
        for f in dataclasses.fields(obj)
        if f.name not in skipped and isinstance(getattr(obj, f.name), str)
    }


def pseudonym(
    patient_id: str,
    patient_name: str,
    birth_date: str,
    key: bytes | None,
    *,
    prefix: str = "patient",
) -> str:
    """Return a stable pseudonym ``patient-<12 hex>`` for one patient identity.

    An HMAC-SHA256 of ID, name and birth date under ``key``; without a key a plain SHA-256
    (which anyone who can guess the identity can recompute: give a key for real data).

    Examples
    --------
    >>> pseudonym("123", "DOE^JOHN", "19700131", b"secret")
    'patient-cc4bc93ddf97'
    """
    message = "\x1f".join((patient_id.strip(), patient_name.strip(), birth_date.strip()))
    return f"{prefix}-{keyed_hash(message, key)[:12]}"


def keyed_hash(text: str, key: bytes | None) -> str:
    """Hex HMAC-SHA256 of ``text`` under ``key`` (plain SHA-256 without one)."""
    if key:
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- pixels ---------------------------------------------------------------------------------

#: modalities whose images are reconstructions with no burned-in text as a rule (cross-sectional)
_RECONSTRUCTED = frozenset({"CT", "MR", "PT", "NM"})
_SC_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture Image Storage (and multi-frame)
_US_CLASS_PREFIXES = ("1.2.840.10008.5.1.4.1.1.6", "1.2.840.10008.5.1.4.1.1.3")


@dataclass(frozen=True)
class PixelPolicy:
    """What an anonymised output may do with an image's pixels, and why.

    ``action`` is ``"keep"`` (nothing identifying is expected in the pixels), ``"mask"``
    (ultrasound: black out everything outside the (0018,6011) regions, where scanners burn in
    the name, ID, date and institution) or ``"refuse"`` (the image may show the patient's
    identity and nothing safe can be kept; ``reason`` says why).
    """

    action: str
    reason: str


def pixel_policy(
    *,
    modality: str,
    sop_class_uid: str = "",
    burned_in_annotation: str = "",
    image_type: Iterable[str] = (),
    has_regions: bool | None = None,
) -> PixelPolicy:
    """Decide whether an image's pixels may leave in an anonymised output (PS3.15 E.3.1).

    PS3.15 asks burned-in identifying text to be removed, or the image not released, unless it
    is known to be absent: (0028,0301) Burned In Annotation ``NO`` says so. Without it:

    - ultrasound: masked outside its regions (refused when it has none);
    - Burned In Annotation ``YES``: refused;
    - secondary captures (any SC SOP class, modality OT/SC) and screen saves (Image Type
      ``SCREEN SAVE``): refused, as they are pictures of screens with text;
    - CT, MR, PET and NM reconstructions: kept (their pixels are computed, not captured);
    - anything else (radiographs, fluoroscopy, photographs, endoscopy ...): refused, since
      these often carry markers or scanned labels.

    Parameters
    ----------
    modality, sop_class_uid, burned_in_annotation, image_type
        (0008,0060), (0008,0016), (0028,0301) and (0008,0008) as found ("" when absent).
    has_regions
        Whether the image has usable (0018,6011) ultrasound regions (None: not known yet;
        the caller masks if it finds any and refuses otherwise).

    Examples
    --------
    >>> pixel_policy(modality="CT").action
    'keep'
    >>> pixel_policy(modality="US", has_regions=True).action
    'mask'
    >>> p = pixel_policy(modality="OT", sop_class_uid="1.2.840.10008.5.1.4.1.1.7")
    >>> p.action, p.reason.split(" may ")[0]
    ('refuse', 'a secondary capture without (0028,0301) Burned In Annotation NO')
    """
    modality = modality.strip().upper()
    bia = burned_in_annotation.strip().upper()
    types = {str(t).strip().upper() for t in image_type}
    is_us = modality == "US" or sop_class_uid.startswith(_US_CLASS_PREFIXES)
    if is_us:
        if has_regions is False:
            if bia == "NO":
                return PixelPolicy("keep", "(0028,0301) Burned In Annotation NO")
            return PixelPolicy(
                "refuse",
                "ultrasound with no (0018,6011) regions to keep and (0028,0301) Burned In "
                f"Annotation {bia or 'absent'}: text in the pixels may identify the patient",
            )
        return PixelPolicy("mask", "ultrasound: text outside the (0018,6011) regions may identify")
    if bia == "NO":
        return PixelPolicy("keep", "(0028,0301) Burned In Annotation NO")
    if bia == "YES":
        return PixelPolicy("refuse", "(0028,0301) Burned In Annotation YES: pixels may identify")
    if sop_class_uid.startswith(_SC_CLASS_PREFIX) or modality in ("OT", "SC"):
        return PixelPolicy(
            "refuse",
            "a secondary capture without (0028,0301) Burned In Annotation NO may show the "
            "patient's identity",
        )
    if types & {"SCREEN SAVE", "SCREENSHOT"}:
        return PixelPolicy(
            "refuse", "a screen save (0008,0008) without (0028,0301) Burned In Annotation NO"
        )
    if modality in _RECONSTRUCTED:
        return PixelPolicy("keep", f"{modality}: reconstructed, no burned-in text expected")
    return PixelPolicy(
        "refuse",
        f"{modality or 'an image of unknown modality'} may carry burned-in text and "
        "(0028,0301) Burned In Annotation is not NO",
    )
