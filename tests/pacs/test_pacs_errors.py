"""Bad PACS input: one line naming the address and the failure, exit 1, nothing half-written.

Against the session's real Orthanc: a port nobody listens on, a refused association, HTTP 401,
404 and 500 (an instance whose file the PACS lost), a study that does not exist, and a transfer
cut in the middle by a proxy that resets the connection after a number of bytes.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

import volumeviz
from tests.conftest import run_cli
from tests.pacs.conftest import Uploaded, address, cached_objects, partial_files
from tests.pacs.orthanc import CuttingProxy, free_port

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

MISSING_STUDY = "1.2.826.0.1.3680043.8.498.99999999999999999999"


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("volumeviz: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def _screenshot(capsys, where: str, tmp_path: Path) -> tuple[int, str, str]:
    out = tmp_path / "never.png"
    code, stdout, err = run_cli(capsys, "screenshot", where, "-o", str(out), "--mpr", "axial")
    assert not out.exists()
    return code, stdout, err


def test_unreachable_host(protocol: str, capsys, tmp_path: Path, pacs_env: Path) -> None:
    port = free_port()
    where = (
        f"dicomweb+http://127.0.0.1:{port}/dicom-web"
        if protocol == "dicomweb"
        else f"dimse://ORTHANC@127.0.0.1:{port}"
    )
    code, _, err = run_cli(capsys, "info", where)
    _one_line_error(code, err, where, f"cannot connect to 127.0.0.1:{port}", "refused")
    code, _, err = _screenshot(capsys, f"{where}/studies/{MISSING_STUDY}", tmp_path)
    _one_line_error(code, err, where, "cannot connect")
    assert cached_objects(pacs_env) == []


def test_refused_association(pacs: Uploaded, capsys) -> None:
    s = pacs.server
    wrong_called = f"dimse://NOTORTHANC@127.0.0.1:{s.dicom_port}"
    # Orthanc answers A-ASSOCIATE-RJ; under load pynetdicom may see the socket close first
    # (an abort): either way the line names both AE titles
    code, _, err = run_cli(capsys, "info", wrong_called)
    _one_line_error(code, err, wrong_called, "by NOTORTHANC")
    assert "association rejected" in err or "association aborted" in err, err
    code, _, err = run_cli(capsys, "info", s.dimse, "--aet", "STRANGER")
    _one_line_error(code, err, s.dimse, "STRANGER", "is that AE title known to the PACS")
    assert "association rejected" in err or "association aborted" in err, err


def test_http_401_without_or_with_wrong_credentials(
    pacs: Uploaded, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = pacs.server.dicomweb
    monkeypatch.setenv("VOLUMEVIZ_DICOMWEB_PASSWORD", "wrong")
    code, _, err = run_cli(capsys, "info", root)
    _one_line_error(code, err, root, "HTTP 401", "VOLUMEVIZ_DICOMWEB_USER were refused")
    assert "wrong" not in err  # the password is never printed
    monkeypatch.delenv("VOLUMEVIZ_DICOMWEB_USER")
    monkeypatch.delenv("VOLUMEVIZ_DICOMWEB_PASSWORD")
    code, _, err = run_cli(capsys, "info", root)
    _one_line_error(code, err, root, "HTTP 401", "no credentials")


def test_credentials_from_netrc(
    pacs: Uploaded, capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.pacs.orthanc import PASSWORD, USER

    monkeypatch.delenv("VOLUMEVIZ_DICOMWEB_USER")
    monkeypatch.delenv("VOLUMEVIZ_DICOMWEB_PASSWORD")
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    code, out, err = run_cli(capsys, "info", pacs.server.dicomweb, "--json")
    assert code == 0, err
    assert pacs.ct_study in out
    netrc.write_text(f"machine 127.0.0.1 login {USER} password nope\n")
    code, _, err = run_cli(capsys, "info", pacs.server.dicomweb)
    _one_line_error(code, err, "HTTP 401", f"netrc {netrc} were refused")


def test_http_404_wrong_service_root(pacs: Uploaded, capsys, tmp_path: Path) -> None:
    wrong = f"dicomweb+{pacs.server.http_url}/not-dicom-web"
    code, _, err = _screenshot(capsys, f"{wrong}/studies/{pacs.mr_study}", tmp_path)
    _one_line_error(code, err, wrong, "HTTP 404")


def test_study_that_does_not_exist(pacs: Uploaded, protocol: str, capsys, tmp_path: Path) -> None:
    where = f"{address(pacs, protocol)}/studies/{MISSING_STUDY}"
    code, _, err = _screenshot(capsys, where, tmp_path)
    _one_line_error(code, err, where, "not on this PACS")
    code, _, err = run_cli(capsys, "info", where)
    _one_line_error(code, err, where, "not on this PACS")


def test_http_500_and_failed_cget_from_a_damaged_pacs(
    pacs: Uploaded, protocol: str, capsys, tmp_path: Path, pacs_env: Path, shared_data: Path
) -> None:
    """The PACS lost an instance's file: WADO-RS answers 500, C-GET fails; nothing cached."""
    src = shared_data / "syntax" / "emri_10f_explicit_le.dcm"
    ds = pydicom.dcmread(src, stop_before_pixels=True)
    answer = pacs.server.upload([src])
    assert answer
    lost = pacs.server.instance_file(answer[0]["ID"])
    lost.unlink()
    where = (
        f"{address(pacs, protocol)}/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}"
    )
    try:
        from volumeviz.errors import PacsError
        from volumeviz.io.pacs import fetch

        with pytest.raises(PacsError) as exc:
            fetch(where)
        msg = str(exc.value)
        assert address(pacs, protocol) in msg
        if protocol == "dicomweb":
            assert "HTTP 500" in msg
        else:  # Orthanc reads the lost file already to answer the IMAGE-level C-FIND
            assert "C-GET" in msg or "C-FIND" in msg
            assert "failed, status 0x" in msg
        assert cached_objects(pacs_env) == []
        assert partial_files(pacs_env) == []
        code, _, err = _screenshot(capsys, where, tmp_path)
        _one_line_error(code, err, address(pacs, protocol))
    finally:
        pacs.server.rest("delete", f"/instances/{answer[0]['ID']}")


def test_transfer_cut_in_the_middle_keeps_nothing_half_written(
    pacs: Uploaded, protocol: str, capsys, tmp_path: Path, pacs_env: Path
) -> None:
    s = pacs.server
    port = s.http_port if protocol == "dicomweb" else s.dicom_port
    with CuttingProxy(port, cut_after=1_300_000) as proxy:  # 2 of the CT's 0.5 MB instances
        root = (
            f"dicomweb+http://127.0.0.1:{proxy.port}/dicom-web"
            if protocol == "dicomweb"
            else f"dimse://ORTHANC@127.0.0.1:{proxy.port}"
        )
        where = f"{root}/studies/{pacs.ct_study}/series/{pacs.ct_series}"
        code, _, err = _screenshot(capsys, where, tmp_path)
    assert proxy.cuts >= 1
    _one_line_error(code, err, root)
    assert any(w in err for w in ("cut short", "aborted", "arrived incomplete")), err
    kept = cached_objects(pacs_env)
    assert len(kept) < 28
    for f in kept:  # whatever was kept is whole: complete pixel data, the right instance
        ds = pydicom.dcmread(f)
        assert len(ds.PixelData) == ds.Rows * ds.Columns * 2
        assert f.name == f"{ds.SOPInstanceUID}.dcm"
    assert partial_files(pacs_env) == []
    # the next run (no cut) completes from where it was and loads the right volume
    vol = volumeviz.load_series(f"{address(pacs, protocol)}/studies/{pacs.ct_study}")
    ref = volumeviz.load_series(pacs.ct_dir)
    assert (vol.array == ref.array).all()
    assert len(cached_objects(pacs_env)) == 28
