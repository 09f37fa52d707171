"""The local cache of retrieved instances, content-addressed by SOP Instance UID.

Layout under the cache folder::

    objects/<2 hex>/<SOPInstanceUID>.dcm   complete instances (the only files ever read)
    tmp/<uid>.<random>.part                 downloads in progress

An instance is written to ``tmp/`` and moved into ``objects/`` with one atomic rename only
after it was received, parsed as the instance asked for, and passed the loader's own file checks
(:func:`volumeviz.io.discover.check_file`: pixel data as long as the header says), so a transfer
cut in the middle (or a killed process) never leaves a file that a later run would use; stale
``.part`` files are removed on the next run. A SOP Instance UID names one object for ever
(PS3.5 9), so a cached file is reused without asking the PACS again. The cache is kept under its
size limit by removing the least recently used instances (``mtime`` is touched on every use),
never those of the fetch in progress.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from volumeviz.errors import OutputError, PacsError
from volumeviz.io.header import Header
from volumeviz.io.pacs.address import valid_uid

log = logging.getLogger(__name__)

__all__ = ["InstanceCache", "temporary_cache"]

#: ``.part`` files older than this (seconds) belong to a dead process and are removed
_STALE_PART_S = 3600.0
#: instances used within this many seconds are never evicted (another process may be reading)
_RECENT_S = 60.0


class InstanceCache:
    """A folder of complete DICOM instances named by SOP Instance UID.

    Parameters
    ----------
    root
        The cache folder (created if missing).
    limit
        Size limit in bytes, enforced by :meth:`evict`.
    """

    def __init__(self, root: str | os.PathLike[str], limit: int) -> None:
        self.root = Path(root)
        self.limit = int(limit)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        try:
            self.objects.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"{self.root}: cannot create the PACS cache folder: {exc.strerror or exc}"
            ) from exc
        self._clean_stale_parts()

    def _clean_stale_parts(self) -> None:
        now = time.time()
        for p in self.tmp.glob("*.part"):
            with contextlib.suppress(OSError):
                if now - p.stat().st_mtime > _STALE_PART_S:
                    p.unlink()

    def path_for(self, sop_uid: str) -> Path:
        """Where the instance ``sop_uid`` is (or would be) kept."""
        if not valid_uid(sop_uid):
            raise PacsError(f"{sop_uid!r}: not a SOP Instance UID; refusing to cache it")
        shard = hashlib.sha1(sop_uid.encode("ascii")).hexdigest()[:2]
        return self.objects / shard / f"{sop_uid}.dcm"

    def get(self, sop_uid: str) -> Path | None:
        """The cached file of ``sop_uid`` (touched as used), or ``None``."""
        p = self.path_for(sop_uid)
        try:
            os.utime(p)
        except FileNotFoundError:
            return None
        return p

    def put_bytes(self, sop_uid: str, data: bytes) -> Path:
        """Store a complete encoded instance (a DICOM file's bytes) after checking it.

        Raises
        ------
        PacsError
            The bytes are not a DICOM file of ``sop_uid``.
        """
        try:
            ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        except Exception as exc:
            raise PacsError(f"instance {sop_uid}: received data is not DICOM ({exc})") from exc
        self._check_uid(sop_uid, ds)
        return self._commit(sop_uid, lambda fh: fh.write(data))

    def put_dataset(self, sop_uid: str, ds: Dataset) -> Path:
        """Store a received dataset (with its File Meta) as a DICOM file after checking it."""
        self._check_uid(sop_uid, ds)

        def write(fh: io.BufferedWriter) -> None:
            ds.save_as(fh, enforce_file_format=True)

        return self._commit(sop_uid, write)

    @staticmethod
    def _check_uid(sop_uid: str, ds: Dataset) -> None:
        got = Header(ds, f"instance {sop_uid}").text("SOPInstanceUID", lenient=True)
        if got != sop_uid:
            raise PacsError(
                f"instance {sop_uid}: the PACS sent (0008,0018) SOP Instance UID {got!r} "
                "instead; not cached"
            )

    def _commit(self, sop_uid: str, write: object) -> Path:
        target = self.path_for(sop_uid)
        target.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{sop_uid}.", suffix=".part", dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)  # type: ignore[operator]
            from volumeviz.io.discover import check_file

            problem = check_file(tmp)  # the loader's own checks: a truncated one stays out
            if problem is not None:
                raise PacsError(
                    f"instance {sop_uid}: arrived incomplete or damaged "
                    f"({problem.replace(tmp, 'received data')}); not cached"
                )
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return target

    def size(self) -> int:
        """Total bytes of the cached instances."""
        return sum(p.stat().st_size for p in self._files())

    def _files(self) -> Iterable[Path]:
        for shard in self.objects.iterdir() if self.objects.is_dir() else ():
            if shard.is_dir():
                yield from shard.glob("*.dcm")

    def evict(self, keep: Iterable[Path] = ()) -> int:
        """Remove least recently used instances until the cache fits its limit.

        Files in ``keep`` and files used in the last minute are never removed. Returns the
        number of bytes removed.
        """
        keep_set = {Path(p) for p in keep}
        entries = []
        total = 0
        for p in self._files():
            with contextlib.suppress(FileNotFoundError):
                st = p.stat()
                total += st.st_size
                entries.append((st.st_mtime, st.st_size, p))
        if total <= self.limit:
            return 0
        removed = 0
        now = time.time()
        for mtime, size, p in sorted(entries):
            if total - removed <= self.limit:
                break
            if p in keep_set or now - mtime < _RECENT_S:
                continue
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed += size
        if total - removed > self.limit:
            log.warning(
                "PACS cache %s holds %.0f MB, over its %.0f MB limit: the instances in use are "
                "kept (raise VOLUMEVIZ_PACS_CACHE_SIZE)",
                self.root,
                (total - removed) / 2**20,
                self.limit / 2**20,
            )
        return removed


_TEMP_ROOTS: list[Path] = []


def _remove_temp_roots() -> None:
    for root in _TEMP_ROOTS:
        shutil.rmtree(root, ignore_errors=True)


def temporary_cache() -> InstanceCache:
    """A cache in a new temporary folder, removed when the process exits (``--no-cache``)."""
    root = Path(tempfile.mkdtemp(prefix="volumeviz-pacs-"))
    if not _TEMP_ROOTS:
        atexit.register(_remove_temp_roots)
    _TEMP_ROOTS.append(root)
    return InstanceCache(root, limit=2**62)
