"""Two identities made from one real series: same pixels, different patient, typed everywhere."""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import shared_path


@dataclass(frozen=True)
class Ident:
    """One made-up patient and how a technologist typed them into the descriptions."""

    folder: str  # the input folder's name carries the name too
    name: str
    pid: str
    birth: str
    institution: str
    accession: str
    referring: str
    study_id: str
    study_date: str
    age: str
    series_description: str
    study_description: str

    def strings(self) -> list[str]:
        """What must not appear anywhere in an anonymised output (case-insensitive)."""
        family, given = self.name.split("^")[:2]
        b = self.birth
        return [
            family, given, self.pid, self.institution, self.accession,
            self.referring.split("^")[0], self.study_id, self.folder, b,
            f"{b[:4]}-{b[4:6]}-{b[6:]}", f"{b[6:]}.{b[4:6]}.{b[:4]}", self.study_date,
        ]  # fmt: skip


A = Ident(
    folder="Leaky Test",
    name="LEAKY^PRUDENCE",
    pid="LEAK123",
    birth="19010203",
    institution="LEAKYHOSP",
    accession="ACCLEAK9",
    referring="DOCLEAK^REF",
    study_id="STUDYLEAK",
    study_date="19990909",
    age="098Y",
    series_description="HEAD Prudence Leaky 03.02.1901",
    study_description="LEAK123 BRAIN",
)
B = Ident(
    folder="Anna-Maria Smithson",
    name="SMITHSON^ANNA-MARIA^JANE",
    pid="PID-0099817",
    birth="19550817",
    institution="Saint Elsewhere General",
    accession="A77-1234",
    referring="KILDARE^JAMES",
    study_id="88123",
    study_date="20210412",
    age="065Y",
    series_description="HEAD Smithson, Anna-Maria 17/08/1955",
    study_description="pid-0099817 BRAIN",
)


def make_identity(src_files: list[Path], root: Path, ident: Ident) -> Path:
    """Copy ``src_files`` to ``root/<folder>/`` with ``ident`` written into every header."""
    import pydicom
    from pydicom.uid import generate_uid

    out = root / ident.folder
    out.mkdir(parents=True)
    study_uid, series_uid = generate_uid(), generate_uid()
    for n, f in enumerate(src_files):
        ds = pydicom.dcmread(f)
        ds.PatientName = ident.name
        ds.PatientID = ident.pid
        ds.PatientBirthDate = ident.birth
        ds.PatientAge = ident.age
        ds.InstitutionName = ident.institution
        ds.AccessionNumber = ident.accession
        ds.ReferringPhysicianName = ident.referring
        ds.StudyID = ident.study_id
        ds.StudyDate = ident.study_date
        ds.SeriesDate = ident.study_date
        ds.SeriesDescription = ident.series_description
        ds.StudyDescription = ident.study_description
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(out / f"{ident.name.split('^')[0]}_{n:03d}.dcm")
    return out


@pytest.fixture(scope="session")
def two_identities(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """The real Philips head-phantom CT (8 of its slices) as patient A and as patient B."""
    src = shared_path(shared_data, "ct/philips_ingenuity_axial_5mm")
    files = sorted(p for p in src.iterdir() if p.name.startswith("I"))[:8]
    root = tmp_path_factory.mktemp("identities")
    return make_identity(files, root, A), make_identity(files, root, B)


@pytest.fixture(scope="session")
def fuzz_repro_identities(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    """The anon_screenshot_description reproducer as it is (A) and rewritten as patient B."""
    src = shared_path(shared_data, "fuzz/anon_screenshot_description/ct_series_desc_is_name")
    root = tmp_path_factory.mktemp("repro")
    a = root / "as-found"
    shutil.copytree(src, a)
    # typed as in the reproducer: the description is the name
    b_typed = dataclasses.replace(
        B, series_description=B.name, study_description=f"HEAD {B.name} DESCLEAK"
    )
    b = make_identity(sorted(src.iterdir()), root, b_typed)
    return a, b
