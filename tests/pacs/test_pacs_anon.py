"""``--anonymize`` with a PACS address: nothing printed names the study, its UIDs or the patient.

The address is an input like a folder: it goes through the console filter before anything is
fetched, so a failed fetch's one-line error (a study that is not there, a transfer cut in the
middle) shows neither the Study/Series Instance UID nor a SOP Instance UID, and a good run
prints nothing of the patient. Against the session's real Orthanc, over DICOMweb and DIMSE,
for every command that takes ``--anonymize`` and an address: export, screenshot, report and
batch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pydicom
import pytest

from tests.conftest import run_cli, shared_path
from tests.deid.conftest import A, make_identity
from tests.pacs.conftest import Uploaded, address, cached_objects
from tests.pacs.orthanc import CuttingProxy

pytestmark = [pytest.mark.slow, pytest.mark.shared_data, pytest.mark.render]

MISSING_STUDY = "1.2.826.0.1.3680043.8.498.99999999999999999999"
#: any DICOM UID outside the standard's own root (instance, series, study UIDs)
_UID = re.compile(r"(?<![\d.])[0-2](?:\.(?:0|[1-9]\d*)){4,}(?![\d])")


@pytest.fixture(scope="module")
def leaky(pacs: Uploaded, shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """Identity A (name typed into descriptions, folder and file names) uploaded to Orthanc."""
    src = shared_path(shared_data, "ct/philips_ingenuity_axial_5mm")
    files = sorted(p for p in src.iterdir() if p.name.startswith("I"))[:8]
    folder = make_identity(files, tmp_path_factory.mktemp("pacs-anon"), A)
    answers = pacs.server.upload(sorted(folder.iterdir()))
    assert len(answers) == 8
    ds = pydicom.dcmread(next(folder.iterdir()), stop_before_pixels=True)
    sop_uids = [
        str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in folder.iterdir()
    ]
    yield folder, str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), sop_uids
    for a in answers:
        pacs.server.rest("delete", f"/instances/{a['ID']}")


def _leaks(text: str, *uids: str) -> list[str]:
    low = text.lower()
    found = [s for s in (*A.strings(), *uids) if s.lower() in low]
    found += [u for u in _UID.findall(text) if not u.startswith("1.2.840.10008.")]
    return found


def _commands(where: str, tmp: Path) -> list[tuple[str, ...]]:
    spec = tmp / "spec.toml"
    spec.write_text(
        f'output = "{tmp / "batch"}"\n[[input]]\npath = "{where}"\n'
        '[[render]]\nkind = "screenshot"\nmpr = "axial"\nsize = [96, 72]\nanonymize = true\n'
    )
    return [
        ("export", where, "--anonymize", "-o", str(tmp / "x")),
        ("screenshot", where, "--anonymize", "--mpr", "axial", "--size", "96x72", "-o",
         str(tmp / "s.png")),
        ("report", where, "--anonymize", "--template", "brief", "--dpi", "36", "-o",
         str(tmp / "r.pdf")),
        ("batch", str(spec), "--sequential", "--no-progress"),
    ]  # fmt: skip


def test_a_missing_study_prints_no_uid(pacs: Uploaded, protocol: str, capsys, tmp_path: Path):
    where = f"{address(pacs, protocol)}/studies/{MISSING_STUDY}"
    for args in _commands(where, tmp_path):
        code, out, err = run_cli(capsys, *args)
        assert code == 1, (args[0], out, err)
        assert "not on this PACS" in out + err, (args[0], out, err)
        assert not _leaks(out + err, MISSING_STUDY), (args[0], out, err)
        # the PACS itself may be named: it identifies nobody
        assert address(pacs, protocol) in out + err, (args[0], out, err)
    summary = (tmp_path / "batch" / "batch-summary.csv").read_text()
    assert "not on this PACS" in summary
    assert not _leaks(summary, MISSING_STUDY), summary


def test_a_cut_transfer_prints_no_uid_and_no_patient(
    pacs: Uploaded, protocol: str, leaky, capsys, tmp_path: Path, pacs_env: Path
):
    _, study, series, sops = leaky
    s = pacs.server
    port = s.http_port if protocol == "dicomweb" else s.dicom_port
    for n in range(len(_commands("ADDRESS", tmp_path))):
        for f in cached_objects(pacs_env):
            f.unlink()  # each command fetches again and is cut again
        work = tmp_path / str(n)
        work.mkdir()
        with CuttingProxy(port, cut_after=700_000) as proxy:
            root = (
                f"dicomweb+http://127.0.0.1:{proxy.port}/dicom-web"
                if protocol == "dicomweb"
                else f"dimse://ORTHANC@127.0.0.1:{proxy.port}"
            )
            args = _commands(f"{root}/studies/{study}/series/{series}", work)[n]
            code, out, err = run_cli(capsys, *args)
        assert proxy.cuts >= 1, args[0]
        assert code == 1, (args[0], out, err)
        assert not _leaks(out + err, study, series, *sops), (args[0], out, err)


def test_a_good_run_prints_nothing_of_the_patient(
    pacs: Uploaded, protocol: str, leaky, capsys, tmp_path: Path
):
    _, study, series, sops = leaky
    where = f"{address(pacs, protocol)}/studies/{study}/series/{series}"
    for args in _commands(where, tmp_path):
        code, out, err = run_cli(capsys, *args, "-v")
        assert code == 0, (args[0], out, err)
        assert not _leaks(out + err, study, series, *sops), (args[0], out, err)
    # the batch summary and output names: the address' series UID is not the output's name
    summary = (tmp_path / "batch" / "batch-summary.csv").read_text()
    assert "input-1" in summary
    assert not _leaks(summary, study, series, *sops), summary
    names = [p.name for p in (tmp_path / "batch").iterdir()]
    assert not _leaks(" ".join(names), study, series, *sops), names
