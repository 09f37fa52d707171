"""DIMSE (PS3.7/PS3.4) through pynetdicom: C-FIND, C-GET, C-MOVE and C-STORE.

We are the calling AE (``VOLUMEVIZ_AET`` / ``--aet``) and the PACS the called AE named in the
address. C-GET receives the instances on the same association (the usual way for a viewer);
C-MOVE, for PACSs that only allow it, sends them to a storage SCP we run on
``VOLUMEVIZ_DIMSE_MOVE_PORT`` under our AE title, which the PACS must know. Received instances
go into the cache only when whole (pynetdicom calls the store handler once the complete data
set has arrived), and only those asked for.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset

from volumeviz.errors import PacsError
from volumeviz.io.pacs.address import PacsAddress
from volumeviz.io.pacs.settings import PacsSettings

log = logging.getLogger(__name__)

__all__ = ["DimseConnection", "Instance"]

#: transfer syntaxes offered for instances we receive: each gets its own presentation
#: context, so that the PACS can send every instance as it stores it (no transcoding)
_RECEIVE_SYNTAXES = (
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.51",  # JPEG Extended
    "1.2.840.10008.1.2.4.57",  # JPEG Lossless
    "1.2.840.10008.1.2.4.80",  # JPEG-LS lossless
    "1.2.840.10008.1.2.4.81",  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.5",  # RLE Lossless
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired, still met)
)
_MAX_CONTEXTS = 128

#: an instance to retrieve: (study UID, series UID, SOP Instance UID, SOP Class UID)
Instance = tuple[str, str, str, str]

_STATUS = {
    0xA700: "out of resources",
    0xA701: "out of resources: unable to calculate number of matches",
    0xA702: "out of resources: unable to perform sub-operations",
    0xA801: "move destination unknown",
    0xA900: "identifier does not match SOP class",
    0xAA00: "none of the frames requested were found",
    0xC000: "unable to process",
    0x0122: "SOP class not supported",
    0x0124: "refused: not authorised",
    0xFE00: "cancelled",
}


def _status_text(code: int) -> str:
    return f"status 0x{code:04X}" + (f" ({_STATUS[code]})" if code in _STATUS else "")


def _quiet_pynetdicom() -> None:
    level = logging.DEBUG if log.isEnabledFor(logging.DEBUG) else logging.CRITICAL
    logging.getLogger("pynetdicom").setLevel(level)


class DimseConnection:
    """The DIMSE service of one PACS (called AE at host:port)."""

    def __init__(self, address: PacsAddress, settings: PacsSettings) -> None:
        self.address = address
        self.settings = settings
        _quiet_pynetdicom()

    @property
    def label(self) -> str:
        """The PACS as written (for messages)."""
        return str(self.address.root)

    # -- associations ----------------------------------------------------------------------

    def _ae(self) -> Any:
        from pynetdicom import AE

        ae = AE(ae_title=self.settings.aet)
        t = self.settings.timeout
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = t
        ae.connection_timeout = min(t, 10.0)
        ae.maximum_pdu_size = 0  # unlimited: fewer, larger P-DATA PDUs
        return ae

    @contextlib.contextmanager
    def association(
        self,
        what: str,
        contexts: Sequence[tuple[str, Sequence[str]]],
        *,
        roles: Sequence[Any] = (),
        handlers: Sequence[Any] = (),
    ) -> Iterator[Any]:
        """An established association (released afterwards) or a :class:`PacsError`."""
        ae = self._ae()
        for abstract, syntaxes in contexts[:_MAX_CONTEXTS]:
            ae.add_requested_context(abstract, list(syntaxes))
        a = self.address
        assoc = ae.associate(
            a.host,
            a.port,
            ae_title=a.called_aet,
            ext_neg=list(roles) or None,
            evt_handlers=list(handlers) or None,
        )
        if not assoc.is_established:
            raise PacsError(self._refusal(what, assoc))
        try:
            yield assoc
        finally:
            if assoc.is_established:
                assoc.release()

    def _refusal(self, what: str, assoc: Any) -> str:
        a = self.address
        head = f"{self.label}: {what}:"
        if assoc.is_rejected:
            rsp = getattr(assoc.acceptor, "primitive", None)
            reason = getattr(rsp, "reason_str", "") or "no reason given"
            return (
                f"{head} association rejected by {a.called_aet} ({reason}; we called as "
                f"{self.settings.aet}: is that AE title known to the PACS?)"
            )
        try:
            with socket.create_connection(
                (a.host, a.port), timeout=min(5.0, self.settings.timeout)
            ):
                pass
        except OSError as exc:
            return f"{head} cannot connect to {a.host}:{a.port} ({exc.strerror or exc})"
        if not assoc.accepted_contexts and assoc.is_aborted:
            # a rejection whose A-ASSOCIATE-RJ raced the closing socket (seen under load)
            return (
                f"{head} association aborted by {a.called_aet} before any service was accepted "
                f"(we called as {self.settings.aet}: is that AE title known to the PACS, and is "
                f"{a.called_aet} its AE title?)"
            )
        return f"{head} association with {a.called_aet} failed (aborted or timed out)"

    def _check_final(self, what: str, status: Dataset | None, n: int | None = None) -> None:
        if status is None or "Status" not in status:
            got = f" after {n} answer(s)" if n else ""
            raise PacsError(f"{self.label}: {what}: association aborted{got}; transfer cut short")
        code = int(status.Status)
        if code in (0x0000, 0xFF00, 0xFF01):
            return
        if code == 0xB000 or (code & 0xF000) == 0xB000:
            failed = status.get("NumberOfFailedSuboperations", "?")
            raise PacsError(
                f"{self.label}: {what}: {failed} sub-operation(s) failed ({_status_text(code)})"
            )
        comment = str(status.get("ErrorComment", "") or "").strip()
        comment = f": {comment}" if comment else ""
        raise PacsError(f"{self.label}: {what}: failed, {_status_text(code)}{comment}")

    # -- C-FIND ----------------------------------------------------------------------------

    def find(self, level: str, keys: dict[str, Any], what: str) -> list[Dataset]:
        """C-FIND (Study Root) at ``level`` with ``keys`` (``None`` = return this key)."""
        from pynetdicom.sop_class import (  # type: ignore[attr-defined]
            StudyRootQueryRetrieveInformationModelFind as FIND,
        )

        query = Dataset()
        query.QueryRetrieveLevel = level
        for kw, value in keys.items():
            setattr(query, kw, value)
        out: list[Dataset] = []
        with self.association(what, [(FIND, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])]) as a:
            last: Dataset | None = None
            for status, identifier in a.send_c_find(query, FIND):
                last = status
                if status is None or "Status" not in status:
                    break
                if int(status.Status) in (0xFF00, 0xFF01) and identifier is not None:
                    out.append(identifier)
            self._check_final(what, last, len(out))
        return out

    def search_studies(self, filters: dict[str, str]) -> list[Dataset]:
        """C-FIND at STUDY level with the same return keys as a QIDO-RS study search."""
        from volumeviz.io.pacs.dicomweb import STUDY_FIELDS

        keys: dict[str, Any] = {kw: None for kw in STUDY_FIELDS}
        keys.update(filters)
        return self.find("STUDY", keys, "study search (C-FIND)")

    def metadata(
        self, study: str, series: str | None, header_keywords: Sequence[str]
    ) -> list[Dataset]:
        """C-FIND at IMAGE level returning the header attributes discovery reads.

        Sequences (functional groups) and pixel data cannot be asked for in a C-FIND; the
        answers carry everything else.
        """
        keys: dict[str, Any] = {}
        for kw in header_keywords:
            vr = _vr(kw)
            if (
                vr
                and " or " not in vr
                and vr not in ("SQ", "OB", "OW", "OF", "OD", "OL", "OV", "UN")
            ):
                keys[kw] = None
        keys.update(StudyInstanceUID=study, SeriesInstanceUID=series or "", SOPInstanceUID="")
        return self.find("IMAGE", keys, "metadata (C-FIND)")

    def search_instances(self, study: str, series: str | None) -> list[Dataset]:
        """C-FIND at IMAGE level: SOP Class/Instance and Series UIDs of every instance."""
        keys = {
            "StudyInstanceUID": study,
            "SeriesInstanceUID": series or "",
            "SOPInstanceUID": "",
            "SOPClassUID": None,
            "InstanceNumber": None,
        }
        return self.find("IMAGE", keys, "instance search (C-FIND)")

    # -- C-GET / C-MOVE --------------------------------------------------------------------

    def _storage_contexts(
        self, classes: Sequence[str], reserve: int
    ) -> list[tuple[str, list[str]]]:
        room = _MAX_CONTEXTS - reserve
        per_class = max(1, min(len(_RECEIVE_SYNTAXES), room // max(1, len(classes))))
        return [(c, [ts]) for c in classes for ts in _RECEIVE_SYNTAXES[:per_class]]

    def _store_handler(
        self, accept: Callable[[str, bytes], None], errors: list[str]
    ) -> Callable[[Any], int]:
        def handle(event: Any) -> int:
            sop = str(event.request.AffectedSOPInstanceUID)
            try:
                accept(sop, event.encoded_dataset())
            except Exception as exc:  # the PACS gets a failure status, we keep the reason
                errors.append(str(exc))
                return 0xA700
            return 0x0000

        return handle

    def get(self, instances: Sequence[Instance], accept: Callable[[str, bytes], None]) -> None:
        """C-GET each instance on one association; ``accept(sop_uid, file_bytes)`` stores it."""
        from pynetdicom import build_role, evt
        from pynetdicom.sop_class import (  # type: ignore[attr-defined]
            StudyRootQueryRetrieveInformationModelGet as GET,
        )

        if not instances:
            return
        classes = sorted({i[3] for i in instances if i[3]})
        errors: list[str] = []
        contexts = [(GET, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])]
        contexts += self._storage_contexts(classes, reserve=1)
        roles = [build_role(c, scp_role=True) for c in classes]
        handlers = [(evt.EVT_C_STORE, self._store_handler(accept, errors))]
        what = "retrieve (C-GET)"
        with self.association(what, contexts, roles=roles, handlers=handlers) as a:
            for n, (study, series, sop, _cls) in enumerate(instances):
                query = Dataset()
                query.QueryRetrieveLevel = "IMAGE"
                query.StudyInstanceUID = study
                query.SeriesInstanceUID = series
                query.SOPInstanceUID = sop
                last: Dataset | None = None
                for status, _identifier in a.send_c_get(query, GET):
                    last = status
                    if status is None or "Status" not in status:
                        break
                if errors:
                    raise PacsError(f"{self.label}: {what} of {sop}: {errors[0]}")
                self._check_final(f"{what} of {sop}", last, n)

    @contextlib.contextmanager
    def storage_scp(
        self, classes: Sequence[str], accept: Callable[[str, bytes], None]
    ) -> Iterator[list[str]]:
        """Our storage SCP for C-MOVE, listening while the block runs; yields its errors."""
        from pynetdicom import evt

        port = self.settings.move_port
        if not port:
            raise PacsError(
                f"{self.label}: C-MOVE needs the port our storage SCP listens on "
                "(VOLUMEVIZ_DIMSE_MOVE_PORT), registered at the PACS for AE "
                f"{self.settings.aet}"
            )
        errors: list[str] = []
        scp = self._ae()
        for c, syntaxes in self._storage_contexts(classes, reserve=0):
            scp.add_supported_context(c, syntaxes)
        try:
            server = scp.start_server(
                ("", port),
                block=False,
                evt_handlers=[(evt.EVT_C_STORE, self._store_handler(accept, errors))],
            )
        except OSError as exc:
            raise PacsError(
                f"{self.label}: C-MOVE: cannot listen on port {port} ({exc.strerror or exc})"
            ) from exc
        try:
            yield errors
        finally:
            server.shutdown()

    def move(self, instances: Sequence[Instance], scp_errors: Sequence[str]) -> None:
        """C-MOVE each instance to our AE (whose :meth:`storage_scp` must be listening)."""
        from pynetdicom.sop_class import (  # type: ignore[attr-defined]
            StudyRootQueryRetrieveInformationModelMove as MOVE,
        )

        what = "retrieve (C-MOVE)"
        contexts = [(MOVE, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])]
        with self.association(what, contexts) as a:
            for n, (study, series, sop, _cls) in enumerate(instances):
                query = Dataset()
                query.QueryRetrieveLevel = "IMAGE"
                query.StudyInstanceUID = study
                query.SeriesInstanceUID = series
                query.SOPInstanceUID = sop
                last: Dataset | None = None
                for status, _identifier in a.send_c_move(query, self.settings.aet, MOVE):
                    last = status
                    if status is None or "Status" not in status:
                        break
                if scp_errors:
                    raise PacsError(f"{self.label}: {what} of {sop}: {scp_errors[0]}")
                self._check_final(f"{what} of {sop}", last, n)

    # -- C-STORE ---------------------------------------------------------------------------

    def store(self, files: Sequence[Path]) -> None:
        """C-STORE the files (each in its own transfer syntax) on one association."""
        import pydicom

        datasets = [pydicom.dcmread(f) for f in files]
        pairs = sorted(
            {(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for ds in datasets}
        )
        contexts = [(c, [ts]) for c, ts in pairs]
        what = f"store {len(datasets)} instance(s) (C-STORE)"
        with self.association(what, contexts) as a:
            for f, ds in zip(files, datasets, strict=True):
                status = a.send_c_store(ds)
                if status is None or "Status" not in status:
                    raise PacsError(f"{self.label}: {what}: association aborted at {f}")
                code = int(status.Status)
                if code != 0x0000 and (code & 0xF000) != 0xB000:
                    raise PacsError(f"{self.label}: {what}: {f} refused, {_status_text(code)}")


def _vr(keyword: str) -> str:
    try:
        return str(dictionary_VR(keyword))
    except KeyError:
        return ""
