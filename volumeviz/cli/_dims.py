"""``--index NAME=K``: which volume of a series with extra dimensions (time, echo ...).

K counts from 1, as ``volumeviz info`` and the labels on the pictures count (``time 3/10``);
the library's ``index=`` is 0-based. One option for every command that renders a series
(screenshot, report, view, movie, and the batch spec's ``index`` key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from volumeviz.model.dimensions import parse_index

__all__ = ["index_option", "parse_index"]

F = TypeVar("F", bound=Callable[..., Any])

INDEX_HELP = (
    "For a series with extra dimensions (time, echo, ... as 'volumeviz info' lists): which "
    "volume, K counted from 1, e.g. --index time=3 --index echo=2 (default: the first). "
    "Repeatable."
)


def index_option(f: F) -> F:
    """The ``--index NAME=K`` option (repeatable; parse it with :func:`parse_index`)."""
    return click.option("--index", "index", multiple=True, metavar="NAME=K", help=INDEX_HELP)(f)
