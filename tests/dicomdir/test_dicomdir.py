"""DICOMDIR: the same tree from every variant, confinement to the root, and damaged files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dicomdir_helpers import FILESET, VARIANTS, patch_bytes, ul_element

from volumeviz.errors import DicomDirError
from volumeviz.io.dicomdir import (
    files_by_series,
    is_dicomdir,
    read_fileset,
    referenced_files,
    require_fixed_pydicom,
    series_files,
)

pytestmark = pytest.mark.shared_data

#: Referenced File ID of the first IMAGE record, as stored (CS, VM 3, padded to 18 bytes)
FIRST_FILE_ID = b"77654033\\CR1\\6154 "


def _tree_without_location(path: Path) -> dict:
    d = read_fileset(path).to_dict()
    d.pop("dicomdir")
    d.pop("root")
    return d


@pytest.fixture(scope="module")
def reference_tree(shared_data: Path) -> dict:
    return _tree_without_location(shared_data / FILESET / "DICOMDIR")


def test_reference_tree_shape(shared_data: Path) -> None:
    tree = read_fileset(shared_data / FILESET / "DICOMDIR")
    assert tree.fileset_id == "PYDICOM_TEST"
    assert [p.patient_id for p in tree.patients] == ["77654033", "98890234"]
    assert [p.patient_name for p in tree.patients] == ["Doe^Archibald", "Doe^Peter"]
    assert sum(len(p.studies) for p in tree.patients) == 6
    assert len(tree.series()) == 13
    assert len(tree.instances()) == 31
    assert tree.problems == ()
    assert all(i.status == "ok" and i.record_type == "IMAGE" for i in tree.instances())
    first = tree.instances()[0]
    assert first.file_id == "77654033/CR1/6154"
    assert first.path == "77654033/CR1/6154"
    assert first.sop_instance_uid == "1.3.6.1.4.1.5962.1.1.0.0.0.1196527414.5534.0.11"
    assert first.instance_number == 1
    modalities = sorted({se.modality for _, _, se in tree.series()})
    assert modalities == ["CR", "CT", "MR"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_gives_the_same_tree(
    shared_data: Path, variant: str, reference_tree: dict
) -> None:
    assert _tree_without_location(shared_data / FILESET / variant) == reference_tree


def test_referenced_files_are_existing_and_inside_root(shared_data: Path) -> None:
    root = (shared_data / FILESET).resolve()
    files, skipped = referenced_files(root / "DICOMDIR")
    assert skipped == []
    assert len(files) == 31
    assert len(set(files)) == 31
    assert all(f.is_file() and f.is_relative_to(root) for f in files)
    by_series = files_by_series(root / "DICOMDIR")
    assert sum(len(v) for v in by_series.values()) == 31
    assert len(by_series) == 13


def test_is_dicomdir(shared_data: Path) -> None:
    assert is_dicomdir(shared_data / FILESET / "DICOMDIR-bigEnd")
    assert is_dicomdir(shared_data / "bad/pydicom_DICOMDIR-empty.dcm")
    assert not is_dicomdir(shared_data / FILESET / "77654033/CR1/6154")


@pytest.mark.parametrize(
    ("file_id", "why"),
    [
        (b"..\\outside\\secret1", "'..' component"),
        (b"/outside/secret1", "absolute"),
    ],
)
def test_paths_escaping_the_root_are_refused_and_never_read(
    fileset_copy: Path, opened: list[str], file_id: bytes, why: str
) -> None:
    outside = fileset_copy.parent / "outside"
    outside.mkdir()
    (outside / "secret1").write_bytes(b"not for you")
    dicomdir = fileset_copy / "DICOMDIR"
    patch_bytes(dicomdir, FIRST_FILE_ID, file_id.ljust(len(FIRST_FILE_ID)))
    opened.clear()
    files, skipped = referenced_files(dicomdir)
    assert len(files) == 30  # the rest of the file-set still loads
    assert len(skipped) == 1
    assert why in skipped[0][1]
    assert all(f.resolve().is_relative_to(fileset_copy.resolve()) for f in files)
    assert not [p for p in opened if "outside" in p or "secret" in p]


def test_symlink_out_of_the_root_is_refused_and_never_read(
    fileset_copy: Path, opened: list[str]
) -> None:
    outside = fileset_copy.parent / "outside"
    outside.mkdir()
    (outside / "6154").write_bytes(b"not for you")
    (fileset_copy / "77654033" / "LNK").symlink_to(outside, target_is_directory=True)
    dicomdir = fileset_copy / "DICOMDIR"
    patch_bytes(dicomdir, FIRST_FILE_ID, b"77654033\\LNK\\6154 ")
    opened.clear()
    tree = read_fileset(dicomdir)
    refused = [i for i in tree.instances() if i.status == "refused"]
    assert [i.file_id for i in refused] == ["77654033/LNK/6154"]
    assert "outside the file-set root" in refused[0].reason
    assert not [p for p in opened if "outside" in p]
    files, skipped = referenced_files(dicomdir)
    assert len(files) == 30
    assert skipped[0][0] == "77654033/LNK/6154"


def test_symlink_inside_the_root_is_followed(fileset_copy: Path) -> None:
    (fileset_copy / "77654033" / "LNK").symlink_to("CR1", target_is_directory=True)
    patch_bytes(fileset_copy / "DICOMDIR", FIRST_FILE_ID, b"77654033\\LNK\\6154 ")
    files, skipped = referenced_files(fileset_copy / "DICOMDIR")
    assert skipped == []
    assert (fileset_copy / "77654033/CR1/6154").resolve() in files


def test_lower_case_copy_of_a_cd_is_found(fileset_copy: Path) -> None:
    os.rename(fileset_copy / "77654033" / "CR1", fileset_copy / "77654033" / "cr1")
    files, skipped = referenced_files(fileset_copy / "DICOMDIR")
    assert skipped == []
    assert (fileset_copy / "77654033/cr1/6154").resolve() in files


def test_missing_file_is_listed_not_fatal(fileset_copy: Path) -> None:
    (fileset_copy / "98892001" / "CT2N" / "6924").unlink()
    files, skipped = referenced_files(fileset_copy / "DICOMDIR")
    assert len(files) == 30
    assert skipped == [
        ("98892001/CT2N/6924", f"referenced file 98892001\\CT2N\\6924 not found under "
         f"{fileset_copy.resolve()}")
    ]  # fmt: skip
    problems = read_fileset(fileset_copy / "DICOMDIR").problems
    assert len(problems) == 1
    assert "IMAGE at offset" in problems[0][0]


def test_record_of_unknown_type_is_named_and_the_rest_kept(fileset_copy: Path) -> None:
    dicomdir = fileset_copy / "DICOMDIR"
    patch_bytes(dicomdir, b"PATIENT ", b"UNKNOWN ")  # the first PATIENT record
    tree = read_fileset(dicomdir)
    assert len(tree.instances()) == 31
    assert len(tree.problems) == 1
    where, reason = tree.problems[0]
    assert "record #1" in where
    assert "unknown (0004,1430) Directory Record Type 'UNKNOWN'" in reason


def test_wrong_first_offset_is_a_clear_error(fileset_copy: Path) -> None:
    dicomdir = fileset_copy / "DICOMDIR"
    patch_bytes(dicomdir, ul_element(0x0004, 0x1200, 396), ul_element(0x0004, 0x1200, 398))
    with pytest.raises(DicomDirError, match=r"offset 398, where no directory record starts"):
        read_fileset(dicomdir)


def test_offset_loop_is_a_clear_error(fileset_copy: Path) -> None:
    dicomdir = fileset_copy / "DICOMDIR"
    # the first PATIENT's "next" (3126) pointed back at itself (396)
    patch_bytes(dicomdir, ul_element(0x0004, 0x1400, 3126), ul_element(0x0004, 0x1400, 396))
    with pytest.raises(DicomDirError, match="loop"):
        read_fileset(dicomdir)


def test_empty_dicomdir(shared_data: Path) -> None:
    with pytest.raises(DicomDirError, match=r"lists no directory records \(empty file-set\)"):
        referenced_files(shared_data / "bad/pydicom_DICOMDIR-empty.dcm")


def test_dicomdir_whose_first_record_is_an_image(shared_data: Path) -> None:
    # pydicom's DICOMDIR-nopatient: (0004,1200) points at an IMAGE, the PATIENT is 'UNKNOWN'
    with pytest.raises(DicomDirError, match="offsets are wrong") as info:
        read_fileset(shared_data / "bad/pydicom_DICOMDIR-nopatient")
    assert "pydicom_DICOMDIR-nopatient" in str(info.value)


def test_not_a_dicomdir(shared_data: Path) -> None:
    with pytest.raises(
        DicomDirError, match=r"not_dicom_icc_profile\.icc: not a readable DICOMDIR"
    ):
        read_fileset(shared_data / "bad/not_dicom_icc_profile.icc")


@pytest.mark.parametrize(
    ("version", "ok"),
    [("3.0.2", True), ("3.1.0.dev0", True), ("2.4.5", True), ("3.0.1", False),
     ("2.4.4", False), ("1.4.2", False)],
)  # fmt: skip
def test_pydicom_with_the_traversal_bug_is_refused(version: str, ok: bool) -> None:
    if ok:
        require_fixed_pydicom(version)
    else:
        with pytest.raises(DicomDirError, match="CVE-2026-32711"):
            require_fixed_pydicom(version)
    require_fixed_pydicom()  # the installed one is fixed


def test_series_files_by_number_and_uid(shared_data: Path) -> None:
    dicomdir = shared_data / FILESET / "DICOMDIR"
    tree = read_fileset(dicomdir)
    files, skipped = series_files(dicomdir, 13)
    assert skipped == []
    assert len(files) == 7  # MR series 700
    assert all("MR700" in f.parts for f in files)
    uid = tree.series()[3][2].series_uid
    files4, _ = series_files(dicomdir, uid)
    assert files4 == series_files(dicomdir, "#4")[0]
    assert len(files4) == 4
    with pytest.raises(DicomDirError, match=r"no series 14; the DICOMDIR lists 13 series"):
        series_files(dicomdir, 14)


def test_info_json_and_tree(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from volumeviz.cli._dicomdir import dicomdir_info

    dicomdir = shared_data / FILESET / "DICOMDIR-reordered"
    dicomdir_info(dicomdir, as_json=True)
    data = json.loads(capsys.readouterr().out)
    assert [p["patient_id"] for p in data["patients"]] == ["77654033", "98890234"]
    assert data["patients"][0]["studies"][0]["series"][0]["instances"][0]["path"] == (
        "77654033/CR1/6154"
    )
    dicomdir_info(dicomdir, as_json=False)
    out = capsys.readouterr().out
    assert "Doe^Archibald" in out
    assert "MR series 700" in out
    assert "7 instance(s)" in out
    assert "#4 98892003/MR700/4467" in out
    assert f"--series {data['patients'][1]['studies'][3]['series'][2]['series_uid']}" in out


def test_info_lists_missing_files(fileset_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from volumeviz.cli._dicomdir import dicomdir_info

    (fileset_copy / "98892003" / "MR700" / "4467").unlink()
    dicomdir_info(fileset_copy / "DICOMDIR", as_json=True)
    data = json.loads(capsys.readouterr().out)
    assert len(data["problems"]) == 1
    assert "98892003\\MR700\\4467 not found" in data["problems"][0]["reason"]
    dicomdir_info(fileset_copy / "DICOMDIR", as_json=False)
    out = capsys.readouterr().out
    assert "1 missing/refused" in out
    assert "1 problem(s)" in out
