"""Console output under ``--anonymize``: nothing printed names the patient or an input path.

A command given ``--anonymize`` calls :func:`protect` with its input paths before it reads
anything; from then until :func:`restore` (``main`` calls it when the command ends) every line
written to stdout and stderr (``click.echo``, rich, logging, warnings, the final error line)
passes through one filter:

- a path inside an input becomes ``<input>/file-<hash>`` (the input itself ``<input>``): the
  hash is :func:`volumeviz.model.deid.keyed_hash` of the path relative to the input, under
  ``$VOLUMEVIZ_PSEUDONYM_KEY``, the same tag ``export`` prints for the file;
- every DICOM UID (outside the standard's own ``1.2.840.10008.*``) becomes ``uid-<hash>``: an
  input may be a PACS address, whose Study/Series Instance UIDs identify the study, and a
  failed retrieve names instances by their SOP Instance UIDs (:func:`volumeviz.io.deid.
  hide_uids`). So a command protects its inputs BEFORE it fetches anything, and adds the local
  folder a study was fetched into with :func:`add_inputs`;
- the quoted value after a DICOM tag the PS3.15 Basic Profile removes or replaces (``(0010,0030)
  Patient's Birth Date '19010203' ...``) becomes ``'[withheld]'``;
- the identity of what was loaded (:func:`add_identity`) and every date are scrubbed by
  :class:`volumeviz.model.deid.Redactor`.

The line filter itself is :class:`volumeviz.io.deid.TextScrubber`, which ``batch`` also applies
to what its workers report and to its summary: one rule for every output.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from volumeviz.io.deid import WITHHELD, TextScrubber

__all__ = [
    "WITHHELD",
    "add_identity",
    "add_inputs",
    "is_protected",
    "protect",
    "restore",
    "scrub",
]


class _Filtered(io.TextIOBase):
    """A text stream that passes each complete line through the scrubber."""

    def __init__(self, stream: TextIO, scrubber: TextScrubber) -> None:
        self._stream = stream
        self._scrub = scrubber
        self._pending = ""

    def write(self, s: str) -> int:
        text = self._pending + s
        parts = re.split(r"(\r\n|\n|\r)", text)
        self._pending = parts.pop()  # what follows the last line end
        for n in range(0, len(parts), 2):
            self._stream.write(self._scrub(parts[n]) + parts[n + 1])
        return len(s)

    def flush(self) -> None:
        self._stream.flush()

    def drain(self) -> None:
        if self._pending:
            self._stream.write(self._scrub(self._pending))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def writable(self) -> bool:
        return True


class _Guard:
    """What :func:`protect` changed, for :func:`restore` to undo."""

    def __init__(self) -> None:
        self.scrubber: TextScrubber | None = None
        self.saved: tuple[Any, Any] | None = None
        self.handlers: list[tuple[logging.StreamHandler[Any], Any]] = []


_State = _Guard()


def protect(inputs: Iterable[str | os.PathLike[str]], *, key: bytes | None = None) -> None:
    """Filter stdout and stderr from now on (see the module docstring). Idempotent."""
    from volumeviz.io.deid import pseudonym_key

    if _State.scrubber is not None:
        return
    scrubber = TextScrubber(inputs, key if key is not None else pseudonym_key())
    scrubber.keep(*_typed_outputs())
    _State.scrubber = scrubber
    _State.saved = (sys.stdout, sys.stderr)
    out, err = _Filtered(sys.stdout, scrubber), _Filtered(sys.stderr, scrubber)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in _State.saved:
            old = handler.stream
            handler.setStream(out if old is _State.saved[0] else err)
            _State.handlers.append((handler, old))
    sys.stdout, sys.stderr = out, err


def _typed_outputs() -> list[str]:
    """The output path(s) the user typed (``-o``) for the running command: printed as typed."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return []
    found = [ctx.params.get(k) for k in ("out", "outdir", "output")]
    return [os.fspath(v) for v in found if isinstance(v, str | os.PathLike) and os.fspath(v)]


def add_identity(*items: Any) -> None:
    """Also scrub the identity of ``items`` (Volumes, ultrasound images, metadata)."""
    if _State.scrubber is not None:
        _State.scrubber.add_items(*items)


def add_inputs(*paths: str | os.PathLike[str]) -> None:
    """Also hide paths inside ``paths`` (e.g. the folder a PACS study was fetched into)."""
    if _State.scrubber is not None:
        for p in paths:
            _State.scrubber.add_input(p)


def is_protected() -> bool:
    """True while the console is filtered."""
    return _State.scrubber is not None


def scrub(text: str) -> str:
    """``text`` as the filter would print it (unchanged when not protected)."""
    scrubber = _State.scrubber
    return text if scrubber is None else "\n".join(scrubber(x) for x in text.split("\n"))


def restore() -> None:
    """Stop filtering: print what is pending and give back the original streams."""
    if _State.saved is None:
        return
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _Filtered):
            stream.drain()
    sys.stdout, sys.stderr = _State.saved
    for handler, old in _State.handlers:
        handler.setStream(old)
    _State.handlers = []
    _State.saved = None
    _State.scrubber = None
