"""Derived objects (SEG, RTSTRUCT, RT Dose/Plan, presentation states, SR, KOS) are listed, never
chosen as "the image" of a folder. Real: a dcmqi 3-slice CT and its SEG of the same size (the SEG
was chosen). Synthetic: a CT next to a larger RT Dose grid and header-only derived objects.
"""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from tests.conftest import run_cli, shared_path
from tests.realworld.dicom_files import CT_IMAGE, write_image
from volumeviz.errors import DicomReadError, NoSeriesError
from volumeviz.io.discover import derived_kind, scan
from volumeviz.io.volume import load_series, select_series

RT_DOSE = "1.2.840.10008.5.1.4.1.1.481.2"
RT_STRUCT = "1.2.840.10008.5.1.4.1.1.481.3"
GRAYSCALE_PR = "1.2.840.10008.5.1.4.1.1.11.1"
KOS = "1.2.840.10008.5.1.4.1.1.88.59"
SEG = "1.2.840.10008.5.1.4.1.1.66.4"


def _header_only(path, sop_class, modality, ref_series, **elements):
    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.SeriesInstanceUID = pydicom.uid.generate_uid()
    ds.SeriesDescription = f"{modality} of the CT"
    item = pydicom.Dataset()
    item.SeriesInstanceUID = ref_series
    if modality == "RTSTRUCT":
        study, frame = pydicom.Dataset(), pydicom.Dataset()
        study.RTReferencedSeriesSequence = [item]
        frame.RTReferencedStudySequence = [study]
        ds.ReferencedFrameOfReferenceSequence = [frame]
    elif modality == "KO":
        evidence = pydicom.Dataset()
        evidence.ReferencedSeriesSequence = [item]
        ds.CurrentRequestedProcedureEvidenceSequence = [evidence]
    else:
        ds.ReferencedSeriesSequence = [item]
    for k, v in elements.items():
        setattr(ds, k, v)
    ds.save_as(path, enforce_file_format=True)


def _ct(folder, uid):
    for k in range(3):
        write_image(
            folder / f"ct{k}.dcm",
            np.full((8, 8), 100 * k, np.int16),
            sop_class=CT_IMAGE,
            modality="CT",
            series_uid=uid,
            signed=True,
            ImagePositionPatient=[0, 0, 2.0 * k],
            ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
            PixelSpacing=[1, 1],
            RescaleIntercept=0,
            RescaleSlope=1,
        )


@pytest.fixture
def study(tmp_path):
    ct_uid = pydicom.uid.generate_uid()
    _ct(tmp_path, ct_uid)
    # an RT Dose grid with many more voxels than the CT
    write_image(
        tmp_path / "dose.dcm",
        np.ones((4, 20, 20), np.uint16),
        sop_class=RT_DOSE,
        modality="RTDOSE",
        ImagePositionPatient=[0, 0, 0],
        ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
        PixelSpacing=[1, 1],
        GridFrameOffsetVector=[0, 2, 4, 6],
        FrameIncrementPointer=(0x3004, 0x000C),
        DoseGridScaling=0.001,
    )
    _header_only(tmp_path / "rs.dcm", RT_STRUCT, "RTSTRUCT", ct_uid)
    _header_only(tmp_path / "pr.dcm", GRAYSCALE_PR, "PR", ct_uid)
    _header_only(tmp_path / "kos.dcm", KOS, "KO", ct_uid)
    return tmp_path, ct_uid


def test_the_image_series_is_chosen_over_a_bigger_dose_grid(study) -> None:
    folder, ct_uid = study
    vol = load_series(folder)
    assert vol.modality == "CT"
    assert vol.meta.series_uid == ct_uid


def test_derived_objects_are_listed_with_kind_and_reference(study) -> None:
    folder, ct_uid = study
    result = scan(folder)
    kinds = sorted(d.kind for d in result.derived)
    assert kinds == ["KOS", "PR", "RTDOSE", "RTSTRUCT"]
    for d in result.derived:
        if d.kind != "RTDOSE":
            assert d.referenced_series_uids == (ct_uid,)
            assert not d.has_pixels
    dose = [s for s in result.series if s.derived]
    assert [s.derived for s in dose] == ["RTDOSE"]
    # asked for by name, the dose grid loads
    vol = load_series(folder, series=dose[0].uid)
    assert vol.modality == "RTDOSE"


def test_info_lists_derived_objects(study, capsys) -> None:
    folder, _ct_uid = study
    code, out, _ = run_cli(capsys, "info", str(folder), "--json")
    assert code == 0
    records = {r["modality"]: r for r in json.loads(out)}
    assert records["RTDOSE"]["derived"] == "RTDOSE"
    assert records["CT"]["derived"] == ""
    assert sorted(d["kind"] for d in records["CT"]["derived_objects"]) == ["KOS", "PR", "RTSTRUCT"]
    code, out, _ = run_cli(capsys, "info", str(folder))
    text = " ".join(out.split())
    assert "derived: RTSTRUCT" in text
    assert "derived: KOS" in text


def test_a_folder_of_derived_objects_only_loads_nothing_by_default(study) -> None:
    folder, _ = study
    for f in folder.glob("ct*.dcm"):
        f.unlink()
    with pytest.raises(NoSeriesError, match=r"only derived object\(s\).*RTDOSE"):
        load_series(folder)


def test_one_header_only_object_is_not_an_image(study) -> None:
    folder, ct_uid = study
    with pytest.raises(DicomReadError, match=f"not an image.*RTSTRUCT.*{ct_uid}"):
        load_series(folder / "rs.dcm")


@pytest.mark.parametrize(
    ("sop", "modality", "kind"),
    [
        (SEG, "SEG", "SEG"),
        (RT_STRUCT, "RTSTRUCT", "RTSTRUCT"),
        (RT_DOSE, "RTDOSE", "RTDOSE"),
        ("1.2.840.10008.5.1.4.1.1.481.5", "RTPLAN", "RTPLAN"),
        (GRAYSCALE_PR, "PR", "PR"),
        ("1.2.840.10008.5.1.4.1.1.88.22", "SR", "SR"),
        (KOS, "KO", "KOS"),
        ("", "SEG", "SEG"),
        (CT_IMAGE, "CT", ""),
        ("1.2.840.10008.5.1.4.1.1.1.2", "MG", ""),
    ],
)
def test_derived_kind(sop, modality, kind) -> None:
    assert derived_kind(sop, modality) == kind


def test_real_ct_is_chosen_over_its_seg(shared_data, capsys) -> None:
    folder = shared_path(shared_data, "realworld/ct_and_seg_same_size")
    vol = load_series(folder)
    assert vol.modality == "CT"
    result = scan(folder)
    seg = [s for s in result.series if s.derived]
    assert [s.derived for s in seg] == ["SEG"]
    ct = select_series(result, None)
    assert seg[0].header["referenced_series_uids"] == (ct.uid,)
    _code, out, _ = run_cli(capsys, "info", str(folder), "--json")
    ct_record = next(r for r in json.loads(out) if r["modality"] == "CT")
    assert [d["kind"] for d in ct_record["derived_objects"]] == ["SEG"]
