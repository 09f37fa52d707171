"""The one free-text scrubber (volumeviz.model.deid): every identity value in every spelling."""

from __future__ import annotations

import pytest

from volumeviz.model.deid import (
    FIELD_KINDS,
    REMOVED,
    Identity,
    Redactor,
    SafeText,
    pseudonym,
)
from volumeviz.model.ultrasound import UltrasoundMeta
from volumeviz.model.volume import IDENTIFYING_FIELDS, GeometryIssue, Volume, VolumeMeta

META = VolumeMeta(
    modality="CT",
    patient_name="MÜLLER^JÜRGEN^KARL^DR^JR",
    patient_id="123-45-678",
    patient_birth_date="19010203",
    patient_age="077Y",
    institution="St. Mary's Hospital",
    accession_number="ACC99812",
    referring_physician="HOUSE^GREGORY",
    study_date="19990909",
    study_time="121314",
    study_id="STUDY77",
    study_uid="1.2.3.4.5.6",
    series_uid="1.2.3.4.5.7",
    frame_of_reference_uid="1.2.3.4.5.8",
    series_description="placeholder",
    source_files=("/data/Mueller Juergen/I100",),
)


def test_every_identifying_field_has_a_kind_and_is_blanked():
    assert set(FIELD_KINDS) == set(IDENTIFYING_FIELDS)
    anon = META.anonymized()
    for name in IDENTIFYING_FIELDS:
        assert getattr(anon, name) == ("ANONYMOUS" if name == "patient_name" else ""), name
    assert anon.source_files == ()


@pytest.mark.parametrize(
    "typed",
    [
        "Müller Jürgen",
        "Mueller, Juergen",
        "JURGEN MULLER",
        "müller^jürgen^karl",
        "Karl",
        "123-45-678",
        "12345678",
        "123 45 678",
        "03.02.1901",
        "3.2.1901",
        "03/02/1901",
        "02/03/1901",
        "1901-02-03",
        "19010203",
        "3 Feb 1901",
        "3rd February 1901",
        "February 3, 1901",
        "3. Februar 1901",
        "3 février 1901",
        "03.02.01",
        "1901",
        "077Y",
        "St. Mary's Hospital",
        "st.  mary's   hospital",
        "ACC99812",
        "acc-99812",
        "Gregory House",
        "STUDY77",
        "1999-09-09",
        "09.09.1999",
        "121314",
        "1.2.3.4.5.6",
        "/data/Mueller Juergen/I120",
    ],
)
def test_identity_removed_in_any_spelling(typed):
    redact = Redactor(Identity.of(META))
    out = redact(f"HEAD {typed} CONTRAST")
    assert out == f"HEAD {REMOVED} CONTRAST", (typed, out)


@pytest.mark.parametrize(
    "text",
    [
        "seen 2019-03-04",
        "04.03.2019",
        "3/4/19",
        "20190304",
        "March 4th, 2019",
        "4 Mar 2019",
        "Mar 2019",
    ],
)
def test_any_date_removed_even_not_the_patients(text):
    assert Redactor(Identity())(text).endswith(REMOVED)


@pytest.mark.parametrize(
    "text",
    [
        "HEAD 5mm 400/40 +12.5 mm",
        "spacing varies 1.14-7.38 mm; tilt 18.5 deg",
        "1.2.840.10008.5.1.4.1.1.2",
        "volumeviz 0.1.0",
        "0.451171875 x 0.451171875",
        "T1 SAG DECUBITUS 1",
        "The TESTS do not name anyone; DOES neither",
        "preset ct-bone\nview anterior, azimuth -25°",
    ],
)
def test_ordinary_text_kept(text):
    redact = Redactor(Identity(names=("DOE^TEST",), ids=("12345",)))
    assert redact(text) == text


def test_runs_collapse_so_identities_of_any_length_read_the_same():
    a = Redactor(Identity(names=("LI^AN",), ids=("X1234",), dates=("19500101",)))
    b = Redactor(Identity(names=("VAN DER BERG^ANNA^MARIA",), ids=("PID-0099817",)))
    assert a("HEAD Li An, X1234, 01.01.1950 CT") == "HEAD [removed] CT"
    assert b("HEAD Anna Maria van der Berg PID-0099817 CT") == "HEAD [removed] CT"


def test_off_changes_nothing_and_both_give_safetext():
    assert Redactor.off()("DOE^JOHN 2019-01-02") == "DOE^JOHN 2019-01-02"
    text: SafeText = Redactor.off()("x")
    assert isinstance(text, str)


def test_anonymized_scrubs_the_other_fields():
    meta = META.replace(
        series_description="Jürgen Müller 03.02.1901",
        study_description="HEAD ACC99812 STUDY",
        extra={"series_key": "Mueller", "rejected_files": ["/data/Mueller Juergen/I1: bad"]},
    )
    anon = meta.anonymized()
    assert anon.series_description == REMOVED
    assert anon.study_description == f"HEAD {REMOVED} STUDY"
    assert "rejected_files" not in anon.extra
    assert anon.extra["series_key"] == REMOVED


def test_volume_anonymized_scrubs_issue_messages():
    import numpy as np

    vol = Volume(np.zeros((2, 2, 2), np.int16), meta=META).with_issue(
        GeometryIssue("rejected-files", "1 file rejected: /data/Mueller Juergen/I9: no IPP")
    )
    anon = vol.anonymized()
    assert "Mueller" not in anon.issues[0].message
    assert anon.meta.patient_id == ""


def test_ultrasound_meta_anonymized():
    meta = UltrasoundMeta(
        patient_name="DOE^JOHN", patient_id="77812", study_date="20200101", model="Doe 3000"
    )
    anon = meta.anonymized()
    assert (anon.patient_name, anon.patient_id, anon.study_date) == ("", "", "")
    assert anon.model == f"{REMOVED} 3000"


def test_pseudonym_keyed_and_stable():
    a = pseudonym("1", "DOE^JOHN", "19700101", b"k1")
    assert a == pseudonym("1", "DOE^JOHN", "19700101", b"k1")
    assert a != pseudonym("1", "DOE^JOHN", "19700101", b"k2")
    assert a.startswith("patient-")
    assert len(a) == len("patient-") + 12
