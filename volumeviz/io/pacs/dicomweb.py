"""DICOMweb (PS3.18) through dicomweb-client: QIDO-RS, WADO-RS metadata/retrieve, STOW-RS.

Every request goes through one :class:`requests.Session` per thread that carries the
credentials (bearer token or basic from the environment, else the host's netrc entry) and
verifies TLS against the system's CAs or ``VOLUMEVIZ_CA_BUNDLE``; a server certificate that does
not verify is refused, whatever the environment says. Failures become one :class:`PacsError`
line naming the address and what went wrong (HTTP status, refused connection, a transfer cut
short, an untrusted certificate).
"""

from __future__ import annotations

import contextlib
import logging
import netrc
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import requests
from pydicom.dataset import Dataset

from volumeviz.errors import PacsError, UsageError
from volumeviz.io.pacs.address import PacsAddress
from volumeviz.io.pacs.settings import PacsSettings

log = logging.getLogger(__name__)

__all__ = ["DicomwebConnection"]

#: results asked for per QIDO-RS request
_PAGE = 1000

#: attributes asked for in a study search (QIDO-RS includefield)
STUDY_FIELDS = (
    "StudyInstanceUID",
    "PatientName",
    "PatientID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)


class _VerifyingSession(requests.Session):
    """A session whose TLS verification no environment variable can switch off or redirect."""

    def __init__(self, verify: str | bool) -> None:
        super().__init__()
        self._volumeviz_verify = verify
        self.verify = verify

    def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        settings: dict[str, Any] = super().merge_environment_settings(*args, **kwargs)
        settings["verify"] = self._volumeviz_verify
        return settings

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        if prepared.url:
            prepared.url = raw_wildcards(prepared.url)
        return prepared


def raw_wildcards(url: str) -> str:
    """``url`` with the QIDO-RS wildcards ``*`` and ``?`` in its query sent as themselves.

    dicomweb-client percent-encodes every query value (``*`` -> ``%2A``). Both characters may
    stand unencoded in a URI query (RFC 3986 3.4), PS3.18's QIDO-RS examples write them so, and
    some servers (Orthanc 1.10) match the encoded form literally, so ``PatientName=%2AHEA%2A``
    found nothing. Only the query is touched; a literal ``%`` in a value stays ``%25``.

    >>> raw_wildcards("http://h/dicom-web/studies?PatientName=%2AHEA%3F&limit=10")
    'http://h/dicom-web/studies?PatientName=*HEA?&limit=10'
    >>> raw_wildcards("http://h/studies?PatientName=100%252A")
    'http://h/studies?PatientName=100%252A'
    """
    base, sep, query = url.partition("?")
    if not sep:
        return url
    return base + sep + re.sub("%2[aA]", "*", re.sub("%3[fF]", "?", query))


def _auth_for(host: str) -> tuple[Any, str]:
    """Credentials for ``host`` and where they came from (for messages)."""
    token = os.environ.get("VOLUMEVIZ_DICOMWEB_TOKEN")
    if token:
        return _Bearer(token.strip()), "VOLUMEVIZ_DICOMWEB_TOKEN"
    user = os.environ.get("VOLUMEVIZ_DICOMWEB_USER")
    if user:
        password = os.environ.get("VOLUMEVIZ_DICOMWEB_PASSWORD", "")
        return requests.auth.HTTPBasicAuth(user, password), "VOLUMEVIZ_DICOMWEB_USER"
    path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
    if Path(path).is_file():
        try:
            entry = netrc.netrc(path).authenticators(host)
        except (netrc.NetrcParseError, OSError) as exc:
            raise UsageError(f"{path}: netrc file unreadable: {exc}") from None
        if entry is not None:
            login, _, password = entry
            return requests.auth.HTTPBasicAuth(login or "", password or ""), f"netrc {path}"
    return None, ""


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def _reason(exc: BaseException) -> str:
    """The innermost OS-level reason of a connection failure, e.g. 'Connection refused'."""
    text = str(exc)
    m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if m:
        return m.group(1).strip()
    if "IncompleteRead" in text or "Connection broken" in text:
        return "connection closed in the middle of the transfer"
    return text.splitlines()[0][:200] if text else type(exc).__name__


class DicomwebConnection:
    """The DICOMweb service at one address, used from any number of threads."""

    def __init__(self, address: PacsAddress, settings: PacsSettings) -> None:
        self.address = address
        self.settings = settings
        self._local = threading.local()
        self.auth, self.auth_source = _auth_for(address.host)
        self.verify: str | bool = str(settings.ca_bundle) if settings.ca_bundle else True

    @property
    def label(self) -> str:
        """The service root as written (for messages)."""
        return str(self.address.root)

    def client(self) -> Any:
        """Return this thread's dicomweb-client (created on first use)."""
        c = getattr(self._local, "client", None)
        if c is None:
            from dicomweb_client.api import DICOMwebClient

            logging.getLogger("dicomweb_client").setLevel(
                logging.DEBUG if log.isEnabledFor(logging.DEBUG) else logging.CRITICAL
            )
            session = _VerifyingSession(self.verify)
            session.auth = self.auth
            if not self.settings.gzip:  # see settings: compressing instances costs the server
                session.headers["Accept-Encoding"] = "identity"
            c = DICOMwebClient(self.address.url, session=session, timeout=self.settings.timeout)
            c.set_http_retry_params(retry=False)
            self._local.client = c
        return c

    @contextlib.contextmanager
    def errors(self, what: str) -> Iterator[None]:
        """Turn any failure of ``what`` into one :class:`PacsError` line naming the address."""
        try:
            yield
        except PacsError:
            raise
        except requests.exceptions.SSLError as exc:
            raise PacsError(
                f"{self.label}: {what}: TLS certificate of {self.address.host} not trusted "
                f"({_reason(exc)}); if your site uses its own CA, point VOLUMEVIZ_CA_BUNDLE "
                "(or --ca-bundle) at its PEM file"
            ) from exc
        except requests.exceptions.HTTPError as exc:
            raise PacsError(self._http_message(what, exc.response)) from exc
        except requests.exceptions.Timeout as exc:
            raise PacsError(
                f"{self.label}: {what}: no answer within {self.settings.timeout:g} s"
            ) from exc
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise PacsError(
                f"{self.label}: {what}: transfer cut short ({_reason(exc)}); nothing of it kept"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            reason = _reason(exc)
            if "timed out" in reason.lower():
                raise PacsError(
                    f"{self.label}: {what}: no answer within {self.settings.timeout:g} s"
                ) from exc
            if "closed" in reason or "reset" in reason.lower() or "aborted" in reason.lower():
                raise PacsError(
                    f"{self.label}: {what}: transfer cut short ({reason}); nothing of it kept"
                ) from exc
            raise PacsError(
                f"{self.label}: {what}: cannot connect to {self.address.host}:"
                f"{self.address.port} ({reason})"
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise PacsError(f"{self.label}: {what}: {_reason(exc)}") from exc
        except (ValueError, KeyError, IndexError) as exc:
            raise PacsError(
                f"{self.label}: {what}: malformed answer from the PACS ({exc})"
            ) from exc

    def _http_message(self, what: str, response: requests.Response | None) -> str:
        if response is None:  # pragma: no cover - HTTPError always carries one from requests
            return f"{self.label}: {what}: HTTP error"
        code = response.status_code
        head = f"{self.label}: {what}: HTTP {code} {response.reason or ''}".rstrip()
        if code == 401:
            how = (
                f"the credentials from {self.auth_source} were refused"
                if self.auth_source
                else "no credentials: set VOLUMEVIZ_DICOMWEB_USER and VOLUMEVIZ_DICOMWEB_PASSWORD"
                ", or VOLUMEVIZ_DICOMWEB_TOKEN, or add the host to a netrc file"
            )
            return f"{head} ({how})"
        if code == 403:
            return f"{head} (access denied to this user or token)"
        if code == 404:
            return f"{head} ({response.url} not found)"
        body = " ".join((response.text or "").split())[:160]
        return f"{head}{f' ({body})' if body else ''}"

    # -- QIDO-RS ---------------------------------------------------------------------------

    def _paged(
        self,
        what: str,
        key: str,
        search: Callable[..., list[dict[str, Any]]],
        convert: Callable[[dict[str, Any]], Dataset] | None = None,
    ) -> list[Any]:
        """All results of a QIDO-RS search, page by page (``limit``/``offset``, PS3.18 8.3.4).

        Stops at a short or empty page, and also when a page brings nothing new: a server that
        ignores ``offset`` answers the same page again (dicomweb-client's own loop would then
        never end).
        """
        found: dict[str, Any] = {}
        offset = 0
        with self.errors(what):
            while True:
                page = search(limit=_PAGE, offset=offset)
                new = 0
                for d in page:
                    uid = str(((d.get(key) or {}).get("Value") or [""])[0])
                    if uid and uid not in found:
                        found[uid] = d
                        new += 1
                if len(page) < _PAGE or new == 0:
                    break
                offset += len(page)
        return [(convert or _from_json)(d) for d in found.values()]

    def search_studies(self, filters: dict[str, str]) -> list[Dataset]:
        """QIDO-RS study search with DICOM attribute filters (``{"PatientID": "X"}``)."""
        return self._paged(
            "study search (QIDO-RS)",
            "0020000D",
            lambda **page: self.client().search_for_studies(
                fields=list(STUDY_FIELDS), search_filters=dict(filters), **page
            ),
        )

    def search_instances(self, study: str, series: str | None) -> list[Dataset]:
        """QIDO-RS instance search: SOP Class/Instance and Series UIDs of every instance."""
        return self._paged(
            "instance search (QIDO-RS)",
            "00080018",
            lambda **page: self.client().search_for_instances(
                study_instance_uid=study,
                series_instance_uid=series,
                fields=["SOPClassUID", "SeriesInstanceUID", "InstanceNumber"],
                **page,
            ),
            _uids_from_json,  # pydicom's from_json costs ~7 ms an instance; three UIDs do not
        )

    # -- WADO-RS ---------------------------------------------------------------------------

    def metadata(self, study: str, series: str | None) -> list[Dataset]:
        """WADO-RS metadata of a study or series: every instance's header, no pixel data.

        An empty list when the PACS does not have them (HTTP 404 for a study the service
        root's QIDO-RS does not find either; a wrong root stays an HTTP 404 error).
        """
        try:
            with self.errors("metadata (WADO-RS)"):
                c = self.client()
                if series:
                    found = c.retrieve_series_metadata(study, series)
                else:
                    found = c.retrieve_study_metadata(study)
        except PacsError as exc:
            if "HTTP 404" not in str(exc):
                raise
            if self.search_instances(study, series):  # the service knows them: a real 404
                raise
            return []
        return [_from_json(d) for d in found]

    def retrieve(self, study: str, series: str, sop: str) -> Dataset:
        """WADO-RS one instance, in the transfer syntax it is stored in."""
        with self.errors(f"retrieve instance {sop} (WADO-RS)"):
            ds: Dataset = self.client().retrieve_instance(study, series, sop)
        return ds

    def retrieve_series(self, study: str, series: str) -> Iterator[Dataset]:
        """WADO-RS a whole series in one streamed multipart answer, instance by instance.

        Each instance is yielded once its part has arrived whole. A transfer cut later either
        raises (:class:`PacsError`) or, when the stream happens to break between parts, just
        ends early (dicomweb-client's multipart reader): the caller checks every instance came.
        """
        with self.errors(f"retrieve series {series} (WADO-RS)"):
            yield from self.client().iter_series(
                study, series, media_types=(("application/dicom", "*"),)
            )

    # -- STOW-RS ---------------------------------------------------------------------------

    def store(self, datasets: Sequence[Dataset]) -> None:
        """STOW-RS the datasets; a refusal of any of them is a :class:`PacsError`."""
        with self.errors(f"store {len(datasets)} instance(s) (STOW-RS)"):
            answer = self.client().store_instances(list(datasets))
        failed = answer.get("FailedSOPSequence") if answer is not None else None
        if failed:
            item = failed[0]
            raise PacsError(
                f"{self.label}: store (STOW-RS): the PACS refused {len(failed)} instance(s), "
                f"e.g. {item.get('ReferencedSOPInstanceUID', '?')} (0008,1197) Failure Reason "
                f"{item.get('FailureReason', '?')}"
            )


def _uids_from_json(obj: dict[str, Any]) -> Dataset:
    """The SOP Instance/Class and Series UIDs of a QIDO-RS instance answer, as a Dataset."""
    ds = Dataset()
    for tag, kw in (
        ("00080018", "SOPInstanceUID"),
        ("00080016", "SOPClassUID"),
        ("0020000E", "SeriesInstanceUID"),
    ):
        values = (obj.get(tag) or {}).get("Value") or []
        if values and isinstance(values[0], str):
            setattr(ds, kw, values[0].strip())
    return ds


def _bulk(*_args: Any) -> bytes:
    return b""


def _from_json(obj: dict[str, Any]) -> Dataset:
    """A DICOM JSON object as a Dataset; bulk data (the pixels) stays on the server."""
    with warnings_quiet():
        return Dataset.from_json(obj, bulk_data_uri_handler=_bulk)


@contextlib.contextmanager
def warnings_quiet() -> Iterator[None]:
    """Pydicom warns on odd values in server JSON; the loader judges values itself."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
