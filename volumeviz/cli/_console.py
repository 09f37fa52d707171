"""Console output under ``--anonymize``: nothing printed names the patient or an input path.

A command given ``--anonymize`` calls :func:`protect` with its input paths before it reads
anything; from then until :func:`restore` (``main`` calls it when the command ends) every line
written to stdout and stderr (``click.echo``, rich, logging, warnings, the final error line)
passes through one filter:

- a path inside an input becomes ``<input>/file-<hash>`` (the input itself ``<input>``): the
  hash is :func:`volumeviz.model.deid.keyed_hash` of the path relative to the input, under
  ``$VOLUMEVIZ_PSEUDONYM_KEY``, the same tag ``export`` prints for the file;
- the quoted value after a DICOM tag the PS3.15 Basic Profile removes or replaces (``(0010,0030)
  Patient's Birth Date '19010203' ...``) becomes ``'[withheld]'``;
- the identity of what was loaded (:func:`add_identity`) and every date are scrubbed by
  :class:`volumeviz.model.deid.Redactor`.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from volumeviz.model.deid import Identity, Redactor

__all__ = ["add_identity", "is_protected", "protect", "restore", "scrub"]

_TAG = re.compile(r"\((?P<g>[0-9A-Fa-f]{4}),(?P<e>[0-9A-Fa-f]{4})\)")
#: a quoted value: it may hold apostrophes (O'Brien); it ends at a quote before a space or stop
_QUOTED = re.compile(r"\s*'(?P<v>.*?)'(?=[\s;,)\]]|$)")
WITHHELD = "[withheld]"


class _Scrubber:
    """The filter: input paths to hashes, identifying tag values withheld, identity removed."""

    def __init__(self, inputs: Iterable[str | os.PathLike[str]], key: bytes | None) -> None:
        from volumeviz.io.deid import PathHider

        self.paths = PathHider(inputs, key)
        self.identity = Identity()
        self.redact = Redactor(self.identity)

    def add(self, identity: Identity) -> None:
        self.identity = self.identity.merged(identity)
        self.redact = Redactor(self.identity)

    def __call__(self, line: str) -> str:
        line = _withhold_values(self.paths(line))
        return str(self.redact(line))


def _withhold_values(line: str) -> str:
    """Replace the quoted value after each tag the Basic Profile does not keep.

    Messages name an element as ``(0010,0030) Patient's Birth Date '19010203' ...``: the name
    (taken from the DICOM dictionary, apostrophes and all) is skipped, the quoted value after it
    becomes :data:`WITHHELD`.
    """
    from pydicom.datadict import dictionary_description

    from volumeviz.io.deid import _action

    out: list[str] = []
    pos = 0
    for m in _TAG.finditer(line):
        if m.start() < pos:
            continue
        tag = (int(m.group("g"), 16) << 16) | int(m.group("e"), 16)
        if _action(tag) == "K":
            continue
        after = m.end()
        try:
            name = str(dictionary_description(tag))
        except KeyError:
            name = ""
        rest = line[after:]
        if name and rest.lstrip().startswith(name):
            after += len(rest) - len(rest.lstrip()) + len(name)
        q = _QUOTED.match(line, after)
        if q is None or not q.group("v"):
            continue
        out.append(line[pos : q.start("v")] + WITHHELD)
        pos = q.end("v")
    out.append(line[pos:])
    return "".join(out)


class _Filtered(io.TextIOBase):
    """A text stream that passes each complete line through the scrubber."""

    def __init__(self, stream: TextIO, scrubber: _Scrubber) -> None:
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
        self.scrubber: _Scrubber | None = None
        self.saved: tuple[Any, Any] | None = None
        self.handlers: list[tuple[logging.StreamHandler[Any], Any]] = []


_State = _Guard()


def protect(inputs: Iterable[str | os.PathLike[str]], *, key: bytes | None = None) -> None:
    """Filter stdout and stderr from now on (see the module docstring). Idempotent."""
    from volumeviz.io.deid import pseudonym_key

    if _State.scrubber is not None:
        return
    scrubber = _Scrubber(inputs, key if key is not None else pseudonym_key())
    _State.scrubber = scrubber
    _State.saved = (sys.stdout, sys.stderr)
    out, err = _Filtered(sys.stdout, scrubber), _Filtered(sys.stderr, scrubber)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in _State.saved:
            old = handler.stream
            handler.setStream(out if old is _State.saved[0] else err)
            _State.handlers.append((handler, old))
    sys.stdout, sys.stderr = out, err


def add_identity(*items: Any) -> None:
    """Also scrub the identity of ``items`` (Volumes, ultrasound images, metadata)."""
    if _State.scrubber is not None:
        _State.scrubber.add(Identity.of(*items))


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
