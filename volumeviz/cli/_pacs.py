"""What every command that takes a PATH needs to also take a PACS address.

- :data:`SOURCE`: the click type of PATH arguments: a PACS address stays a string (a ``Path``
  would fold its ``//``), anything else becomes a ``Path``.
- :func:`pacs_options`: ``--aet``, ``--no-cache`` and ``--ca-bundle``, applied through the
  environment for the command's duration (so batch workers inherit them), plus a progress bar
  on a terminal while instances arrive.
- :func:`print_studies`: the ``info ADDRESS`` study table.

Credentials are never options: they come from ``VOLUMEVIZ_DICOMWEB_TOKEN``,
``VOLUMEVIZ_DICOMWEB_USER``/``_PASSWORD`` or a netrc file.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from volumeviz.io.pacs.address import is_address, parse_address

__all__ = ["SOURCE", "pacs_options", "print_studies"]


class SourceType(click.ParamType):
    """A folder, file, DICOMDIR (as a ``Path``) or a PACS address (as a ``str``)."""

    name = "path"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Keep a PACS address as text (checked), make anything else a Path."""
        if isinstance(value, Path):
            return value
        if is_address(value):
            parse_address(value)  # a malformed address is a usage error, before any work
            return str(value).strip()
        return Path(value)


SOURCE = SourceType()


@contextlib.contextmanager
def _environ(changes: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None] | None]:
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} instances"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def progress(what: str, done: int, total: int) -> None:
        if what not in tasks:
            if not tasks:
                bar.start()
            tasks[what] = bar.add_task(what, total=total)
        bar.update(tasks[what], completed=done, total=total)

    try:
        yield progress
    finally:
        if tasks:
            bar.stop()


def pacs_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--aet``, ``--no-cache`` and ``--ca-bundle`` to a command taking a PACS address."""

    @functools.wraps(command)
    def wrapper(
        *args: Any, aet: str | None, no_cache: bool, ca_bundle: Path | None, **kw: Any
    ) -> Any:
        from volumeviz.io.pacs.settings import configure

        env = {}
        if aet:
            env["VOLUMEVIZ_AET"] = aet
        if no_cache:
            env["VOLUMEVIZ_PACS_NO_CACHE"] = "1"
        if ca_bundle is not None:
            env["VOLUMEVIZ_CA_BUNDLE"] = str(ca_bundle)
        with _environ(env), _progress_bar() as progress, configure(progress=progress):
            return command(*args, **kw)

    wrapper = click.option(
        "--ca-bundle",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="PACS over HTTPS: verify its certificate against this PEM file of CAs "
        "(env VOLUMEVIZ_CA_BUNDLE); certificates are always verified.",
    )(wrapper)
    wrapper = click.option(
        "--no-cache",
        is_flag=True,
        help="PACS: retrieve into a temporary folder instead of the local cache.",
    )(wrapper)
    wrapper = click.option(
        "--aet",
        default=None,
        metavar="AE_TITLE",
        help="DIMSE: our calling AE title (env VOLUMEVIZ_AET; default VOLUMEVIZ).",
    )(wrapper)
    return wrapper


def print_studies(address: str, records: list[Any]) -> None:
    """The study table of ``info ADDRESS``."""
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False, width=max(Console().width, 160))
    table = Table(title=f"{address}: {len(records)} stud{'y' if len(records) == 1 else 'ies'}")
    for col in (
        "patient",
        "date",
        "description",
        "modalities",
        "series",
        "instances",
        "study UID",
    ):
        table.add_column(col, overflow="fold")
    for r in records:
        date = r.study_date
        if len(date) == 8 and date.isdigit():
            date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
        table.add_row(
            f"{r.patient_name} ({r.patient_id})",
            date,
            r.description,
            ", ".join(r.modalities),
            "-" if r.n_series is None else str(r.n_series),
            "-" if r.n_instances is None else str(r.n_instances),
            r.study_uid,
        )
    console.print(table)
