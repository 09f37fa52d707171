"""PACS addresses: ``dicomweb+http(s)://HOST[:PORT]/PREFIX`` and ``dimse://CALLED_AET@HOST:PORT``.

Either may be followed by ``/studies/STUDY_UID`` and then ``/series/SERIES_UID``. A DICOMweb
address names the service root (the part before ``/studies``, e.g. ``/dicom-web`` on Orthanc);
a DIMSE address names the called AE title and the host and port of the PACS' DICOM listener
(port 104 when omitted). Credentials are never part of an address: a ``user:password@`` in a
DICOMweb address is refused (they belong in an environment variable or a netrc file, see
:mod:`volumeviz.io.pacs.settings`).
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from volumeviz.errors import UsageError

__all__ = ["PacsAddress", "is_address", "parse_address"]

_SCHEMES = ("dicomweb+http://", "dicomweb+https://", "dimse://")
#: a DICOM UID (PS3.5 9.1): digits and dots, at most 64 characters, no empty component
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_DIMSE_PORT = 104


def is_address(value: Any) -> bool:
    """Whether ``value`` is a PACS address (a string starting with a PACS scheme).

    Examples
    --------
    >>> is_address("dicomweb+http://localhost:8042/dicom-web")
    True
    >>> is_address("dimse://ORTHANC@127.0.0.1:4242")
    True
    >>> is_address("ct/series1"), is_address(["a.dcm"])
    (False, False)
    """
    return isinstance(value, str) and value.strip().lower().startswith(_SCHEMES)


def valid_uid(uid: str) -> bool:
    """Whether ``uid`` is a well-formed DICOM UID (digits and dots, at most 64 characters)."""
    return 0 < len(uid) <= 64 and bool(_UID.match(uid))


@dataclass(frozen=True)
class PacsAddress:
    """A parsed PACS address; :func:`parse_address` makes one, ``str()`` gives it back.

    Attributes
    ----------
    protocol
        ``"dicomweb"`` or ``"dimse"``.
    url
        DICOMweb: the service root as an ``http(s)://`` URL (no trailing slash). DIMSE: ``""``.
    host, port
        Where the PACS listens.
    called_aet
        DIMSE: the PACS' AE title. DICOMweb: ``""``.
    study_uid, series_uid
        The study / series named by the address, or ``None``.
    """

    protocol: Literal["dicomweb", "dimse"]
    url: str
    host: str
    port: int
    called_aet: str = ""
    study_uid: str | None = None
    series_uid: str | None = None

    def __str__(self) -> str:
        if self.protocol == "dicomweb":
            base = f"dicomweb+{self.url}"
        else:
            host = f"[{self.host}]" if ":" in self.host else self.host
            base = f"dimse://{self.called_aet}@{host}:{self.port}"
        if self.study_uid:
            base += f"/studies/{self.study_uid}"
            if self.series_uid:
                base += f"/series/{self.series_uid}"
        return base

    @property
    def root(self) -> PacsAddress:
        """The address without study or series."""
        return dataclasses.replace(self, study_uid=None, series_uid=None)

    def study(self, study_uid: str) -> PacsAddress:
        """The address of study ``study_uid`` on the same PACS."""
        return dataclasses.replace(self, study_uid=study_uid, series_uid=None)

    def series(self, series_uid: str, study_uid: str | None = None) -> PacsAddress:
        """The address of series ``series_uid`` (of ``study_uid`` or of this study)."""
        study = study_uid or self.study_uid
        if not study:
            raise UsageError(f"{self}: a series address needs its study UID")
        return dataclasses.replace(self, study_uid=study, series_uid=series_uid)


def _split_uids(text: str, path: str) -> tuple[str, str | None, str | None]:
    """Split ``PREFIX/studies/UID[/series/UID]`` into the prefix and the UIDs."""
    parts = [p for p in path.split("/")]
    study = series = None
    if "studies" in parts:
        i = len(parts) - 1 - parts[::-1].index("studies")
        rest = [p for p in parts[i + 1 :] if p]
        prefix = "/".join(parts[:i])
        if not rest:
            raise UsageError(f"{text}: '/studies/' must be followed by a Study Instance UID")
        study = rest[0]
        if len(rest) == 3 and rest[1] == "series":
            series = rest[2]
        elif len(rest) != 1:
            raise UsageError(
                f"{text}: after /studies/UID only /series/UID may follow, got "
                f"{'/'.join(rest[1:])!r}"
            )
        for kind, uid in (("Study", study), ("Series", series)):
            if uid is not None and not valid_uid(uid):
                raise UsageError(
                    f"{text}: {uid!r} is not a {kind} Instance UID (digits and dots, "
                    "at most 64 characters)"
                )
    else:
        prefix = path
    return prefix.rstrip("/"), study, series


def parse_address(text: str | os.PathLike[str] | PacsAddress) -> PacsAddress:
    """Parse a PACS address.

    Raises
    ------
    UsageError
        Not a PACS address, a malformed one, credentials written in it, or bad UIDs.

    Examples
    --------
    >>> a = parse_address("dicomweb+https://pacs.example.org/dicom-web/studies/1.2.3")
    >>> a.protocol, a.url, a.study_uid, a.series_uid
    ('dicomweb', 'https://pacs.example.org/dicom-web', '1.2.3', None)
    >>> d = parse_address("dimse://ORTHANC@127.0.0.1:4242/studies/1.2/series/1.2.5")
    >>> d.called_aet, d.host, d.port, d.series_uid
    ('ORTHANC', '127.0.0.1', 4242, '1.2.5')
    >>> str(d)
    'dimse://ORTHANC@127.0.0.1:4242/studies/1.2/series/1.2.5'
    """
    if isinstance(text, PacsAddress):
        return text
    raw = os.fspath(text).strip()
    if not is_address(raw):
        raise UsageError(
            f"{raw}: not a PACS address (dicomweb+http(s)://HOST[:PORT]/PREFIX or "
            "dimse://CALLED_AET@HOST:PORT)"
        )
    lower = raw.lower()
    if lower.startswith("dimse://"):
        return _parse_dimse(raw)
    split = urlsplit(raw[len("dicomweb+") :])
    if split.query or split.fragment:
        raise UsageError(f"{raw}: a DICOMweb address has no query (?) or fragment (#) part")
    if split.username is not None or split.password is not None:
        raise UsageError(
            f"{_without_userinfo(raw)}: credentials are never taken from the address; set "
            "VOLUMEVIZ_DICOMWEB_USER and VOLUMEVIZ_DICOMWEB_PASSWORD (or "
            "VOLUMEVIZ_DICOMWEB_TOKEN), or put the host in a netrc file"
        )
    host = split.hostname or ""
    if not host:
        raise UsageError(f"{raw}: no host")
    try:
        port = split.port or (443 if split.scheme == "https" else 80)
    except ValueError as exc:
        raise UsageError(f"{raw}: bad port ({exc})") from None
    prefix, study, series = _split_uids(raw, split.path)
    netloc = f"[{host}]" if ":" in host else host
    if split.port:
        netloc += f":{split.port}"
    url = f"{split.scheme}://{netloc}{prefix}"
    return PacsAddress("dicomweb", url, host, port, "", study, series)


def _without_userinfo(raw: str) -> str:
    return re.sub(r"//[^/@]*@", "//", raw, count=1)


def _parse_dimse(raw: str) -> PacsAddress:
    rest = raw[len("dimse://") :]
    head, _, path = rest.partition("/")
    if "@" not in head:
        raise UsageError(f"{raw}: a DIMSE address is dimse://CALLED_AET@HOST:PORT")
    aet_part, _, hostport = head.rpartition("@")
    aet = unquote(aet_part)
    if not aet or len(aet) > 16 or "\\" in aet or aet != aet.strip() or not aet.isprintable():
        raise UsageError(
            f"{raw}: {aet!r} is not an AE title (1-16 printable characters, no backslash, "
            "no leading or trailing space)"
        )
    split = urlsplit(f"//{hostport}")
    host = split.hostname or ""
    if not host:
        raise UsageError(f"{raw}: no host")
    try:
        port = split.port or _DIMSE_PORT
    except ValueError as exc:
        raise UsageError(f"{raw}: bad port ({exc})") from None
    _, study, series = _split_uids(raw, "/" + path if path else "")
    if path and not path.startswith("studies"):
        raise UsageError(f"{raw}: after HOST:PORT only /studies/UID[/series/UID] may follow")
    return PacsAddress("dimse", "", host, port, aet, study, series)
