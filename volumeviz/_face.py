"""Name an option as the user spells it: ``--series`` on the command line, ``series=`` in Python.

Messages from the library that tell the user which option to use (``choose another with
--series``) are written once, with :func:`option`. The ``volumeviz`` command switches the
spelling to the command line's for as long as it runs (:func:`command_line`); everywhere else
(Python, notebooks, the batch workers' library calls) the keyword-argument spelling is used.

Examples
--------
>>> option("series")
'series='
>>> with command_line():
...     option("series", "LABEL"), option("slab_mode")
('--series LABEL', '--slab-mode')
>>> option("force", True)
'force=True'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["command_line", "on_command_line", "option"]

_depth = 0  # > 0 while the volumeviz command runs (a module global: worker threads see it too)


def on_command_line() -> bool:
    """True while the ``volumeviz`` command (not a Python caller) is running."""
    return _depth > 0


@contextmanager
def command_line() -> Iterator[None]:
    """Spell options as command-line flags inside this block (the CLI wraps each run in it)."""
    global _depth  # one process-wide switch, set by the CLI entry point only
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1


def option(name: str, value: object = None) -> str:
    """Return ``--name VALUE`` on the command line, else ``name=VALUE`` (value optional).

    Parameters
    ----------
    name
        The keyword argument's name (underscores); the flag replaces them with dashes.
    value
        Shown after the option: a metavar such as ``"LABEL"`` or a literal such as ``True``.
        A boolean flag's ``True`` is left out on the command line (``--force``).
    """
    if on_command_line():
        flag = "--" + name.replace("_", "-")
        if value is None or value is True:
            return flag
        return f"{flag} {value}"
    return f"{name}=" if value is None else f"{name}={value}"
