"""HTTPS with a self-signed certificate in front of a real Orthanc that checks a bearer token.

TLS is verified by default: the self-signed server is refused, also when the environment tries
to switch verification off (``CURL_CA_BUNDLE=""``); pointing ``--ca-bundle`` (or
``VOLUMEVIZ_CA_BUNDLE``) at the certificate makes it trusted. The token comes from
``VOLUMEVIZ_DICOMWEB_TOKEN`` and is checked by Orthanc itself (a Lua request filter). TLS is
terminated by :class:`tests.pacs.orthanc.TlsFrontend` (Python's ssl), because the Debian
bookworm Orthanc 1.10 crashes serving HTTPS itself.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.pacs.conftest import CT, _require_orthanc
from tests.pacs.orthanc import Orthanc, TlsFrontend

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

TOKEN = "test-only-token-4f1c"
LUA = f"""
function IncomingHttpRequestFilter(method, uri, ip, username, httpHeaders)
  return httpHeaders['authorization'] == 'Bearer {TOKEN}'
end
"""


@dataclass
class Https:
    server: Orthanc
    frontend: TlsFrontend
    cert: Path

    @property
    def dicomweb(self) -> str:
        return f"dicomweb+https://127.0.0.1:{self.frontend.port}/dicom-web"


@pytest.fixture(scope="module")
def tls_pacs(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Https]:
    _require_orthanc()
    work = tmp_path_factory.mktemp("orthanc-tls")
    key, cert = work / "key.pem", work / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = Orthanc(work, lua=LUA, basic_auth=False, bearer=TOKEN).start()
    try:
        server.upload(sorted((shared_data / CT).iterdir()))
        with TlsFrontend(server.http_port, cert, key) as frontend:
            yield Https(server, frontend, cert)
    finally:
        server.stop()


def test_self_signed_server_is_refused_unless_its_ca_is_given(
    tls_pacs: Https, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOLUMEVIZ_DICOMWEB_USER")
    monkeypatch.delenv("VOLUMEVIZ_DICOMWEB_PASSWORD")
    monkeypatch.setenv("VOLUMEVIZ_DICOMWEB_TOKEN", TOKEN)
    root = tls_pacs.dicomweb
    assert root.startswith("dicomweb+https://")
    code, _, err = run_cli(capsys, "info", root)
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert root in err
    assert "TLS certificate of 127.0.0.1 not trusted" in err
    assert "VOLUMEVIZ_CA_BUNDLE" in err
    # the environment cannot switch verification off
    monkeypatch.setenv("CURL_CA_BUNDLE", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "")
    code, _, err = run_cli(capsys, "info", root)
    assert code == 1
    assert "not trusted" in err
    # its CA given: trusted, and the bearer token gets through Orthanc's filter
    cert = tls_pacs.cert
    code, out, err = run_cli(capsys, "info", root, "--ca-bundle", str(cert), "--json")
    assert code == 0, err
    assert [r["patient_id"] for r in json.loads(out)] == ["PLASTIC"]
    monkeypatch.setenv("VOLUMEVIZ_CA_BUNDLE", str(cert))
    code, out, err = run_cli(capsys, "info", root, "--json")
    assert code == 0, err


def test_bearer_token_missing_or_wrong_is_refused(
    tls_pacs: Https, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOLUMEVIZ_DICOMWEB_USER")
    monkeypatch.delenv("VOLUMEVIZ_DICOMWEB_PASSWORD")
    monkeypatch.setenv("VOLUMEVIZ_CA_BUNDLE", str(tls_pacs.cert))
    code, _, err = run_cli(capsys, "info", tls_pacs.dicomweb)
    assert code == 1
    assert "HTTP 403" in err  # Orthanc's filter says Forbidden
    monkeypatch.setenv("VOLUMEVIZ_DICOMWEB_TOKEN", "not-the-token")
    code, _, err = run_cli(capsys, "info", tls_pacs.dicomweb)
    assert code == 1
    assert "HTTP 403" in err
    assert "not-the-token" not in err
