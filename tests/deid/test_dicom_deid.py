"""DICOM written with anonymize: PS3.15 Basic Profile, valid per dciodvfy, de-id attributes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.conftest import run_cli, shared_path
from tests.deid.conftest import A
from volumeviz.errors import UsageError
from volumeviz.io.deid import FIELD_KEYWORDS, DeidSession, action_for, basic_profile
from volumeviz.io.write import write_secondary_capture, write_series
from volumeviz.model.volume import IDENTIFYING_FIELDS

SOURCE_STRINGS = [
    "LEAKY", "LEAK123", "19010203", "LEAKYHOSP", "ACCLEAK9", "DOCLEAK", "STUDYLEAK", "DESCLEAK",
    "SERDESCLEAK", "19990909", "121314", "077Y",
]  # fmt: skip


def dciodvfy_errors(path: Path) -> list[str]:
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.fail("dciodvfy not found: run scripts/install_system_deps.sh (Debian dicom3tools)")
    res = subprocess.run([exe, str(path)], capture_output=True, text=True, check=False)
    return [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("Error")]


def _all_values(ds: pydicom.Dataset) -> str:
    out: list[str] = []

    def visit(_: pydicom.Dataset, elem: pydicom.DataElement) -> None:
        if elem.VR not in ("SQ", "OB", "OW") and elem.value is not None:
            out.append(f"{elem.keyword}={elem.value}")

    ds.walk(visit)
    return "\n".join(out)


def _assert_deidentified(
    ds: pydicom.Dataset, *, codes: set[str], kept: tuple[str, ...] = ()
) -> None:
    assert ds.PatientIdentityRemoved == "YES"
    assert "PS3.15" in str(ds.DeidentificationMethod)
    got = {(i.CodeValue, i.CodingSchemeDesignator) for i in ds.DeidentificationMethodCodeSequence}
    assert got == {(c, "DCM") for c in codes}
    for keyword in ("StudyID", "StudyDate", "StudyTime", "AccessionNumber", "PatientBirthDate"):
        assert str(ds.get(keyword, "") or "") == "", keyword
    for keyword in ("PatientAge", "StudyDescription", "InstitutionName", "SourceImageSequence",
                    "InstanceCreationDate", "SeriesDate", "OtherPatientIDs"):  # fmt: skip
        assert keyword not in ds, keyword
    text = _all_values(ds).upper()
    leaks = [s for s in SOURCE_STRINGS if s.upper() in text and s not in kept]
    assert not leaks, leaks


def test_every_identifying_field_is_removed_or_replaced_by_the_profile():
    assert set(FIELD_KEYWORDS) == set(IDENTIFYING_FIELDS)
    for field, keyword in FIELD_KEYWORDS.items():
        assert action_for(keyword) != "K", (field, keyword)
    single, masked = basic_profile()
    assert len(single) > 500  # the whole of Table E.1-1, not a hand list
    assert any(g == 0x6000 for g, *_ in masked)  # overlays


@pytest.mark.render
@pytest.mark.slow
def test_report_secondary_captures_reproducer(shared_data, tmp_path, capsys):
    """fuzz/anon_secondary_capture: one new study, the profile applied, dciodvfy clean."""
    src = shared_path(shared_data, "fuzz/anon_secondary_capture/ct")
    source_study = pydicom.dcmread(src / "I100", stop_before_pixels=True).StudyInstanceUID
    sc = tmp_path / "sc"
    code, _, err = run_cli(
        capsys, "report", str(src), "--anonymize", "--template", "brief", "--dpi", "40",
        "-o", str(tmp_path / "r.pdf"), "--secondary-capture", str(sc),
    )  # fmt: skip
    assert code == 0, err
    files = sorted(sc.glob("SC*.dcm"))
    assert len(files) >= 2
    datasets = [pydicom.dcmread(f) for f in files]
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    assert len({ds.SeriesInstanceUID for ds in datasets}) == 1
    assert datasets[0].StudyInstanceUID != source_study
    assert [ds.InstanceNumber for ds in datasets] == list(range(1, len(files) + 1))
    assert len({ds.PatientID for ds in datasets}) == 1
    for f, ds in zip(files, datasets, strict=True):
        _assert_deidentified(ds, codes={"113100", "113101", "113105"})
        assert ds.BurnedInAnnotation == "NO"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert dciodvfy_errors(f) == [], f
        raw = f.read_bytes().upper()
        assert not [s for s in SOURCE_STRINGS if s.encode() in raw]


@pytest.mark.render
@pytest.mark.slow
def test_report_secondary_captures_not_anonymised_keep_the_study(shared_data, tmp_path, capsys):
    src = shared_path(shared_data, "fuzz/anon_secondary_capture/ct")
    source_study = pydicom.dcmread(src / "I100", stop_before_pixels=True).StudyInstanceUID
    sc = tmp_path / "sc"
    code, _, err = run_cli(
        capsys, "report", str(src), "--template", "brief", "--dpi", "36",
        "-o", str(tmp_path / "r.pdf"), "--secondary-capture", str(sc),
    )  # fmt: skip
    assert code == 0, err
    datasets = [pydicom.dcmread(f) for f in sorted(sc.glob("SC*.dcm"))]
    assert {ds.StudyInstanceUID for ds in datasets} == {source_study}
    assert all("PatientIdentityRemoved" not in ds for ds in datasets)
    assert all(ds.BurnedInAnnotation == "YES" for ds in datasets)


def test_write_series_anonymized(shared_data, tmp_path):
    from volumeviz.io.volume import load_series

    vol = load_series(shared_path(shared_data, "fuzz/anon_secondary_capture/ct"))
    files = write_series(vol, tmp_path / "out", anonymize=True)
    datasets = [pydicom.dcmread(f) for f in files]
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "PatientID"):
        assert len({ds.get(keyword) for ds in datasets}) == 1, keyword
    assert datasets[0].StudyInstanceUID != vol.meta.study_uid
    assert datasets[0].FrameOfReferenceUID != vol.meta.frame_of_reference_uid
    for f, ds in zip(files, datasets, strict=True):
        # Clean Descriptors: the series' own description (no identity in it) is kept
        assert ds.SeriesDescription == "SERDESCLEAK (volumeviz)"
        _assert_deidentified(ds, codes={"113100", "113105"}, kept=("DESCLEAK", "SERDESCLEAK"))
        assert "BurnedInAnnotation" not in ds  # a CT's pixels are not claimed clean
        assert dciodvfy_errors(f) == [], f
    # the geometry is untouched by de-identification
    back = load_series(tmp_path / "out")
    assert np.allclose(back.origin, vol.origin)
    assert np.array_equal(back.array, vol.array)


def test_keyed_session_maps_uids_the_same_across_runs(tmp_path):
    from volumeviz.model import phantom

    vol = phantom.asymmetric(8)
    vol = vol.replace(meta=vol.meta.replace(study_uid="1.2.3.4", patient_id=A.pid))
    runs = []
    for name in ("a", "b"):
        files = write_series(vol, tmp_path / name, modality="CT", anonymize=DeidSession(key=b"k"))
        runs.append(pydicom.dcmread(files[0]))
    assert runs[0].StudyInstanceUID == runs[1].StudyInstanceUID != "1.2.3.4"
    assert runs[0].PatientID == runs[1].PatientID
    other = write_series(vol, tmp_path / "c", modality="CT", anonymize=True)  # no key: random
    assert pydicom.dcmread(other[0]).StudyInstanceUID != runs[0].StudyInstanceUID


def test_anonymised_capture_refuses_a_picture_that_may_show_the_name(tmp_path):
    with pytest.raises(UsageError, match="burned_in_annotation='NO'"):
        write_secondary_capture(np.zeros((4, 4, 3), np.uint8), tmp_path / "x.dcm", anonymize=True)
    assert not (tmp_path / "x.dcm").exists()
