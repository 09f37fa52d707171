"""A real Orthanc (Debian ``orthanc``, ``orthanc-dicomweb``) on loopback, for tests and benches.

:class:`Orthanc` writes a configuration (free ports, a temporary storage folder, the DICOMweb
plugin, our AE registered for C-FIND/C-GET/C-MOVE/C-STORE), starts the server, waits until it
answers, uploads files through its REST API, and kills it at the end. :class:`CuttingProxy` is a
TCP forwarder to it that closes the connection after a number of bytes of the answer: a transfer
cut in the middle, for DICOMweb and DIMSE alike.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

ORTHANC_BIN = "Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
USER, PASSWORD = "volumeviz", "test-only-secret"
OUR_AET = "VOLUMEVIZ"
ORTHANC_AET = "ORTHANC"


def missing_reason() -> str | None:
    """Why a real Orthanc cannot run here (None when it can)."""
    if shutil.which(ORTHANC_BIN) is None:
        return "the Orthanc binary is not installed (Debian package 'orthanc')"
    if not DICOMWEB_PLUGIN.is_file():
        return f"the DICOMweb plugin {DICOMWEB_PLUGIN} is missing (Debian 'orthanc-dicomweb')"
    return None


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Orthanc:
    """One Orthanc server in ``workdir`` (see the module docstring)."""

    def __init__(
        self,
        workdir: Path,
        *,
        tls_pem: Path | None = None,
        lua: str | None = None,
        basic_auth: bool = True,
        move_port: int | None = None,
        bearer: str | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.http_port = free_port()
        self.dicom_port = free_port()
        self.move_port = move_port or free_port()
        self.tls = tls_pem is not None
        self.bearer = bearer  # the harness' own REST calls send it (for a Lua token filter)
        self.storage = self.workdir / "storage"
        self.log = self.workdir / "orthanc.log"
        config: dict[str, Any] = {
            "Name": "volumeviz-test",
            "StorageDirectory": str(self.storage),
            "IndexDirectory": str(self.storage),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": ORTHANC_AET,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": basic_auth,
            "RegisteredUsers": {USER: PASSWORD} if basic_auth else {},
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "Ssl": self.tls},
            "DicomCheckCalledAet": True,
            "DicomAlwaysAllowEcho": False,
            "DicomAlwaysAllowStore": False,
            "DicomModalities": {
                "volumeviz": {
                    "AET": OUR_AET,
                    "Host": "127.0.0.1",
                    "Port": self.move_port,
                    "AllowEcho": True,
                    "AllowFind": True,
                    "AllowGet": True,
                    "AllowMove": True,
                    "AllowStore": True,
                }
            },
            "MaximumStorageCacheSize": 0,  # read every instance from disk (a deleted file fails)
            "StorageCompression": False,
            "SaveJobs": False,
            "ConcurrentJobs": 2,
            "HttpThreadsCount": 16,
            "StableAge": 1,
        }
        if tls_pem is not None:
            config.update(SslEnabled=True, SslCertificate=str(tls_pem))
        if lua is not None:
            script = self.workdir / "filter.lua"
            script.write_text(lua)
            config["LuaScripts"] = [str(script)]
        self.config = self.workdir / "orthanc.json"
        self.config.write_text(json.dumps(config, indent=1))
        self.proc: subprocess.Popen[bytes] | None = None

    # -- addresses -----------------------------------------------------------------------------

    @property
    def http_url(self) -> str:
        """The REST root (``http(s)://127.0.0.1:PORT``)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        """The DICOMweb address volumeviz takes."""
        return f"dicomweb+{self.http_url}/dicom-web"

    @property
    def dimse(self) -> str:
        """The DIMSE address volumeviz takes."""
        return f"dimse://{ORTHANC_AET}@127.0.0.1:{self.dicom_port}"

    # -- life ----------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> Orthanc:
        """Start the server and wait until its REST API answers."""
        self.storage.mkdir(parents=True, exist_ok=True)
        log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [ORTHANC_BIN, str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited ({self.proc.returncode}): {self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                r = self.rest("get", "/system", timeout=1)
                if r.status_code == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer within {timeout} s: {self.log_tail()}")

    def stop(self) -> None:
        """Kill the server (it holds nothing worth a clean shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def log_tail(self, n: int = 10) -> str:
        """The last lines of Orthanc's log (for failure messages)."""
        try:
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # -- REST ----------------------------------------------------------------------------------

    def rest(self, method: str, path: str, **kw: Any) -> requests.Response:
        """A REST call with the test credentials (TLS not verified: this is the harness)."""
        kw.setdefault("timeout", 60)
        if self.tls:
            kw.setdefault("verify", False)
        headers = kw.pop("headers", {})
        if self.bearer is not None:
            headers.setdefault("Authorization", f"Bearer {self.bearer}")
        if "auth" not in kw and "Authorization" not in headers:
            kw["auth"] = (USER, PASSWORD)
        return requests.request(method, self.http_url + path, headers=headers, **kw)

    def upload(self, files: Iterable[Path]) -> list[dict[str, Any]]:
        """POST each DICOM file to /instances; return Orthanc's answers (non-DICOM skipped)."""
        out = []
        for f in files:
            r = self.rest("post", "/instances", data=Path(f).read_bytes())
            if r.status_code == 200:
                out.append(r.json())
        return out

    def instance_file(self, orthanc_id: str) -> Path:
        """The storage file of an instance (to damage the PACS on purpose)."""
        info = self.rest("get", f"/instances/{orthanc_id}/attachments/dicom/info").json()
        uuid = info["Uuid"]
        return self.storage / uuid[:2] / uuid[2:4] / uuid

    def count(self, kind: str) -> int:
        """How many patients/studies/series/instances Orthanc holds."""
        return len(self.rest("get", f"/{kind}").json())

    def statistics(self) -> dict[str, Any]:
        """Orthanc's /statistics."""
        data: dict[str, Any] = self.rest("get", "/statistics").json()
        return data


class CuttingProxy:
    """Forward TCP from a loopback port to ``target_port``; cut each connection's answer.

    After ``cut_after`` bytes from the server to the client on one connection, both sockets are
    closed with a reset. ``cut_after=None`` forwards everything.
    """

    def __init__(self, target_port: int, cut_after: int | None) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = int(self.listener.getsockname()[1])
        self.cuts = 0
        self.served = 0  # bytes forwarded from the server to clients
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        self._thread.join(5)

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            threading.Thread(
                target=self._pipe, args=(client, server, None, False), daemon=True
            ).start()
            threading.Thread(
                target=self._pipe, args=(server, client, self.cut_after, True), daemon=True
            ).start()

    def _pipe(
        self, src: socket.socket, dst: socket.socket, limit: int | None, answer: bool
    ) -> None:
        sent = 0
        try:
            while not self._stop.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[: max(0, limit - sent)])
                    self.cuts += 1
                    for s in (src, dst):  # reset both ends, waking the other thread
                        with contextlib.suppress(OSError):
                            linger = struct.pack("ii", 1, 0)
                            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                        with contextlib.suppress(OSError):
                            s.shutdown(socket.SHUT_RDWR)
                        with contextlib.suppress(OSError):
                            s.close()
                    return
                dst.sendall(data)
                sent += len(data)
                if answer:
                    with self._lock:
                        self.served += len(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class TlsFrontend:
    """An HTTPS reverse proxy in front of Orthanc's HTTP port (as nginx would be at a site).

    Orthanc 1.10 as packaged in Debian bookworm crashes on its own HTTPS (civetweb calls a null
    SSL function), so TLS is terminated here, by Python's ``ssl`` with the given certificate;
    every request is passed on to Orthanc whole and its answer sent back.
    """

    def __init__(self, target_port: int, cert: Path, key: Path) -> None:
        import http.server
        import ssl

        target = f"http://127.0.0.1:{target_port}"

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                keep = ("authorization", "accept", "content-type")
                headers = {k: v for k, v in self.headers.items() if k.lower() in keep}
                r = requests.request(
                    self.command, target + self.path, headers=headers, data=body, timeout=60
                )
                self.send_response(r.status_code)
                for k in ("Content-Type",):
                    if k in r.headers:
                        self.send_header(k, r.headers[k])
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_DELETE = do_PUT = _forward

            def log_message(self, *args: Any) -> None:
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TlsFrontend:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
