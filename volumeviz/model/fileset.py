"""A DICOM file-set (what a DICOMDIR lists): patient → study → series → instance.

Plain frozen dataclasses, standard library only. :mod:`volumeviz.io.dicomdir` builds them;
the CLI prints them. Paths are stored relative to the file-set root (POSIX form) so two
copies of the same CD give equal trees.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

#: status of a referenced file
OK = "ok"
MISSING = "missing"
REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class FileSetInstance:
    """One leaf record (usually ``IMAGE``) and the file it references.

    Parameters
    ----------
    record_type
        ``(0004,1430)`` Directory Record Type, e.g. ``"IMAGE"``.
    file_id
        ``(0004,1500)`` Referenced File ID joined with ``/`` exactly as recorded.
    path
        The file relative to the file-set root (as found on disk, case corrected), or ``""``
        when it was refused or is missing.
    status
        ``"ok"``, ``"missing"`` or ``"refused"``.
    reason
        Why it is missing or refused (one line), ``""`` when ``status == "ok"``.
    sop_instance_uid, sop_class_uid, transfer_syntax_uid
        ``(0004,1511)``, ``(0004,1510)``, ``(0004,1512)`` from the record.
    instance_number
        ``(0020,0013)`` when the record has it.
    """

    record_type: str
    file_id: str
    path: str = ""
    status: str = OK
    reason: str = ""
    sop_instance_uid: str = ""
    sop_class_uid: str = ""
    transfer_syntax_uid: str = ""
    instance_number: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class FileSetSeries:
    """A ``SERIES`` record and its instances."""

    series_uid: str = ""
    modality: str = ""
    series_number: int | None = None
    description: str = ""
    instances: tuple[FileSetInstance, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        d = dataclasses.asdict(self)
        d["instances"] = [i.to_dict() for i in self.instances]
        return d


@dataclass(frozen=True, slots=True)
class FileSetStudy:
    """A ``STUDY`` record and its series."""

    study_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    description: str = ""
    study_id: str = ""
    accession_number: str = ""
    series: tuple[FileSetSeries, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        d = dataclasses.asdict(self)
        d["series"] = [s.to_dict() for s in self.series]
        return d


@dataclass(frozen=True, slots=True)
class FileSetPatient:
    """A ``PATIENT`` record and its studies."""

    patient_id: str = ""
    patient_name: str = ""
    studies: tuple[FileSetStudy, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        d = dataclasses.asdict(self)
        d["studies"] = [s.to_dict() for s in self.studies]
        return d


@dataclass(frozen=True, slots=True)
class FileSetTree:
    """Everything a DICOMDIR says, plus what reading it found wrong.

    Parameters
    ----------
    dicomdir
        The DICOMDIR file as given.
    root
        The file-set root (the DICOMDIR's folder, resolved); every referenced file is inside it.
    fileset_id
        ``(0004,1130)`` File-set ID.
    patients
        The tree, in the order the DICOMDIR lists it.
    problems
        ``(where, reason)`` for every record that was skipped or is suspicious (unknown record
        type, missing or refused file, records outside the hierarchy).
    """

    dicomdir: str
    root: str
    fileset_id: str = ""
    patients: tuple[FileSetPatient, ...] = ()
    problems: tuple[tuple[str, str], ...] = ()

    def series(self) -> list[tuple[FileSetPatient, FileSetStudy, FileSetSeries]]:
        """Every series with its patient and study, in tree order."""
        return [(p, st, se) for p in self.patients for st in p.studies for se in st.series]

    def instances(self) -> list[FileSetInstance]:
        """Every leaf record, in tree order."""
        return [i for _, _, se in self.series() for i in se.instances]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (``problems`` as a list of ``{"where", "reason"}``)."""
        return {
            "dicomdir": self.dicomdir,
            "root": self.root,
            "fileset_id": self.fileset_id,
            "patients": [p.to_dict() for p in self.patients],
            "problems": [{"where": w, "reason": r} for w, r in self.problems],
        }
