"""How volumeviz talks to a PACS: AE title, cache, credentials, TLS, parallelism.

Every value comes from an environment variable (so that batch workers inherit it) and can be
overridden for a block of code with :func:`configure`:

=============================  ==============================================================
``VOLUMEVIZ_AET``              our (calling) AE title for DIMSE; default ``VOLUMEVIZ``
``VOLUMEVIZ_PACS_CACHE``       the cache folder; default ``$XDG_CACHE_HOME/volumeviz/pacs``
``VOLUMEVIZ_PACS_CACHE_SIZE``  the cache's size limit (``500M``, ``20G``); default ``10G``
``VOLUMEVIZ_PACS_NO_CACHE``    ``1``: fetch into a temporary folder removed at exit
``VOLUMEVIZ_PACS_WORKERS``     parallel requests / associations; default 4
``VOLUMEVIZ_PACS_TIMEOUT``     seconds to wait on the network; default 30
``VOLUMEVIZ_CA_BUNDLE``        a PEM file of CA certificates to verify HTTPS servers against
``VOLUMEVIZ_DICOMWEB_TOKEN``   an HTTP bearer token for DICOMweb
``VOLUMEVIZ_DICOMWEB_USER``    HTTP basic user (with ``VOLUMEVIZ_DICOMWEB_PASSWORD``)
``NETRC``                      the netrc file (default ``~/.netrc``) searched by host
``VOLUMEVIZ_DIMSE_RETRIEVE``   ``get`` (C-GET, default) or ``move`` (C-MOVE to our own SCP)
``VOLUMEVIZ_DIMSE_MOVE_PORT``  the port our storage SCP listens on for C-MOVE
``VOLUMEVIZ_PACS_GZIP``        ``1``: accept gzip-compressed DICOMweb answers (default: not:
                               compressing 0.5 MB instances costs the server ~60 ms each, 10x
                               the transfer on a LAN; measured with scripts/bench_pacs.py)
=============================  ==============================================================

Credentials are read only from the environment or a netrc file, never from a command line.
TLS certificates are always verified (there is no switch to turn that off).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from volumeviz.errors import UsageError

__all__ = ["PacsSettings", "configure", "current", "parse_size"]

#: ``progress(what, done, total)`` while instances arrive
Progress = Callable[[str, int, int], None]

_DEFAULT_LIMIT = 10 * 2**30


def parse_size(text: str) -> int:
    """Bytes from ``"500M"``, ``"20G"``, ``"1.5T"`` or a plain number.

    Examples
    --------
    >>> parse_size("500M"), parse_size("2G"), parse_size("4096")
    (524288000, 2147483648, 4096)
    """
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if not m:
        raise UsageError(f"{text!r}: not a size (e.g. 500M, 20G)")
    scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2).upper()]
    return int(float(m.group(1)) * scale)


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "volumeviz" / "pacs"


@dataclass(frozen=True)
class PacsSettings:
    """The settings in force (see the module docstring for each field's variable)."""

    aet: str = "VOLUMEVIZ"
    cache_dir: Path = dataclasses.field(default_factory=_default_cache)
    cache_limit: int = _DEFAULT_LIMIT
    use_cache: bool = True
    workers: int = 4
    timeout: float = 30.0
    ca_bundle: Path | None = None
    retrieve: Literal["get", "move"] = "get"
    move_port: int = 0
    gzip: bool = False
    progress: Progress | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> PacsSettings:
        """Read the settings from the environment (``os.environ`` by default)."""
        e = os.environ if env is None else env
        kw: dict[str, Any] = {}
        if e.get("VOLUMEVIZ_AET"):
            kw["aet"] = e["VOLUMEVIZ_AET"]
        if e.get("VOLUMEVIZ_PACS_CACHE"):
            kw["cache_dir"] = Path(e["VOLUMEVIZ_PACS_CACHE"]).expanduser()
        if e.get("VOLUMEVIZ_PACS_CACHE_SIZE"):
            kw["cache_limit"] = parse_size(e["VOLUMEVIZ_PACS_CACHE_SIZE"])
        if e.get("VOLUMEVIZ_PACS_NO_CACHE", "") not in ("", "0"):
            kw["use_cache"] = False
        if e.get("VOLUMEVIZ_PACS_GZIP", "") not in ("", "0"):
            kw["gzip"] = True
        for key, name, kind in (
            ("VOLUMEVIZ_PACS_WORKERS", "workers", int),
            ("VOLUMEVIZ_PACS_TIMEOUT", "timeout", float),
            ("VOLUMEVIZ_DIMSE_MOVE_PORT", "move_port", int),
        ):
            if e.get(key):
                try:
                    kw[name] = kind(e[key])
                except ValueError:
                    raise UsageError(f"{key}={e[key]!r} is not a number") from None
        if e.get("VOLUMEVIZ_CA_BUNDLE"):
            kw["ca_bundle"] = Path(e["VOLUMEVIZ_CA_BUNDLE"]).expanduser()
        if e.get("VOLUMEVIZ_DIMSE_RETRIEVE"):
            kw["retrieve"] = e["VOLUMEVIZ_DIMSE_RETRIEVE"].strip().lower()
        return cls(**kw).checked()

    def checked(self) -> PacsSettings:
        """Return self after checking the values (:class:`UsageError` names the bad one)."""
        aet = self.aet
        if not aet or len(aet) > 16 or "\\" in aet or aet != aet.strip():
            raise UsageError(f"AE title {aet!r}: 1-16 characters, no backslash, no edge spaces")
        if self.workers < 1 or self.workers > 64:
            raise UsageError(f"PACS workers {self.workers}: must be 1..64")
        if self.timeout <= 0:
            raise UsageError(f"PACS timeout {self.timeout}: must be > 0 s")
        if self.retrieve not in ("get", "move"):
            raise UsageError(f"DIMSE retrieve {self.retrieve!r}: 'get' (C-GET) or 'move' (C-MOVE)")
        if self.ca_bundle is not None and not self.ca_bundle.is_file():
            raise UsageError(f"{self.ca_bundle}: CA bundle (VOLUMEVIZ_CA_BUNDLE) does not exist")
        if self.cache_limit < 0:
            raise UsageError(f"PACS cache size {self.cache_limit}: must be >= 0")
        return self


_OVERRIDE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "volumeviz_pacs_settings", default=None
)


def current() -> PacsSettings:
    """The settings in force: the environment, then any :func:`configure` block around us."""
    base = PacsSettings.from_env()
    over = _OVERRIDE.get()
    return dataclasses.replace(base, **over).checked() if over else base


@contextlib.contextmanager
def configure(**changes: Any) -> Iterator[PacsSettings]:
    """Override settings for a block: ``with configure(aet="MYAE", use_cache=False): ...``.

    Keys are :class:`PacsSettings` fields; ``None`` values are ignored.

    Examples
    --------
    >>> with configure(aet="WORKSTATION1", workers=2) as s:
    ...     s.aet, current().workers
    ('WORKSTATION1', 2)
    """
    fields = {f.name for f in dataclasses.fields(PacsSettings)}
    unknown = set(changes) - fields
    if unknown:
        raise UsageError(f"unknown PACS setting(s): {', '.join(sorted(unknown))}")
    merged = dict(_OVERRIDE.get() or {})
    merged.update({k: v for k, v in changes.items() if v is not None})
    token = _OVERRIDE.set(merged)
    try:
        yield current()
    finally:
        _OVERRIDE.reset(token)
