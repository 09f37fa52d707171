"""``convert --seg ... -o x.dcm --store ADDRESS``: a DICOM SEG written and sent to a real Orthanc.

Over DICOMweb (STOW-RS) and DIMSE (C-STORE). The SEG is read back from the PACS by its Series
Instance UID and holds the same segment pixels as the file written; with --anonymize the stored
SEG is the de-identified one.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.conftest import run_cli
from tests.pacs.conftest import Uploaded, address

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def _labels(folder: Path, tmp_path: Path) -> Path:
    from volumeviz.io.volume import load_series

    vol = load_series(folder)
    labels = np.zeros(vol.array.shape, np.uint8)
    k, j, i = (s // 2 for s in vol.array.shape)
    labels[k - 2 : k + 2, j - 10 : j + 10, i - 15 : i + 15] = 1
    out = tmp_path / "labels.npy"
    np.save(out, labels)
    return out


@pytest.mark.parametrize("anonymize", [False, True])
def test_convert_seg_stored_to_the_pacs(
    pacs: Uploaded, protocol: str, tmp_path: Path, capsys, anonymize: bool
) -> None:
    root = address(pacs, protocol)
    labels = _labels(pacs.ct_dir, tmp_path)
    out = tmp_path / "seg.dcm"
    before = pacs.server.count("instances")
    code, stdout, err = run_cli(
        capsys, "convert", str(pacs.ct_dir), "--seg", str(labels), "--label-names", "1=lesion",
        "-o", str(out), "--store", root, *(["--anonymize"] if anonymize else []),
    )  # fmt: skip
    assert code == 0, err
    assert "stored 1 instance" in stdout
    assert pacs.server.count("instances") == before + 1
    ds = pydicom.dcmread(out)
    assert ds.Modality == "SEG"
    assert (ds.get("PatientIdentityRemoved") == "YES") is anonymize
    got = pacs.server.rest("post", "/tools/find", json={"Level": "Instance", "Query": {
        "SOPInstanceUID": str(ds.SOPInstanceUID)}}).json()  # fmt: skip
    assert len(got) == 1
    stored = pydicom.dcmread(
        io.BytesIO(pacs.server.rest("get", f"/instances/{got[0]}/file").content)
    )
    assert stored.SeriesInstanceUID == ds.SeriesInstanceUID
    assert stored.PatientID == ds.PatientID
    assert np.array_equal(stored.pixel_array, ds.pixel_array)
    assert int(np.count_nonzero(ds.pixel_array)) == 4 * 20 * 30
    pacs.server.rest("delete", f"/instances/{got[0]}")  # leave the PACS as it was


def test_convert_store_bad_address_fails_before_loading(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(
        capsys, "convert", str(tmp_path / "missing"), "--seg", str(tmp_path / "l.npy"),
        "-o", str(tmp_path / "x.dcm"), "--store", "ftp://nowhere",
    )  # fmt: skip
    assert code == 2
    assert "ftp://nowhere" in err
    assert "Traceback" not in err


def test_convert_store_needs_a_dicom_output(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(
        capsys, "convert", str(tmp_path), "-o", str(tmp_path / "x.nii.gz"),
        "--store", "dicomweb+http://localhost:1/dicom-web",
    )  # fmt: skip
    assert code == 2
    assert "--store" in err
