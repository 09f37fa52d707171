"""The ``--seg`` option shared by screenshot, report and view: find, read, place, warn."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click


def segmentations_for_cli(
    vol: Any,
    specs: Sequence[str],
    path: Path | str,
    *,
    anonymize: bool = False,
    strict: bool = False,
) -> list[Any]:
    """Segmentations placed on ``vol`` for ``--seg`` values (default ``auto``); warnings echoed.

    Call it with the loaded (not yet anonymised) volume: matching needs its UIDs. Under
    ``anonymize`` the warnings pass through the de-identification scrubber.
    """
    from volumeviz.io.pacs.address import is_address
    from volumeviz.io.seg import load_segmentations
    from volumeviz.model.deid import Redactor

    # a folder is walked; a single file's siblings are looked at (not its parent's tree); a PACS
    # address is not searched (only --seg FILE applies to it)
    search = None if is_address(path) else path
    placed, notes = load_segmentations(vol, list(specs) or ["auto"], search=search, strict=strict)
    redact = Redactor.for_items(vol, anonymize=anonymize)
    for note in notes:
        click.echo(f"volumeviz: warning: {redact(note)}", err=True)
    return placed


def segmentation_metadata(segs: Sequence[Any], *, anonymize: bool) -> str:
    """JSON for the PNG text chunk: kind, segments, issues (file names left out if anonymised)."""
    from volumeviz.render.overlay import legend_label

    return json.dumps(
        [
            {
                "kind": s.kind,
                **({} if anonymize else {"source": Path(s.source).name}),
                "segments": [legend_label(x, anonymize=anonymize) for x in s.segments],
                "issues": [] if anonymize else [i.to_dict() for i in s.issues],
            }
            for s in segs
        ]
    )
