"""Sphinx extension: one page per ``volumeviz`` subcommand, generated from the click commands.

At ``builder-inited`` it writes ``commands/<name>.rst`` for every name in
:data:`volumeviz.cli.main.COMMANDS` (so a command another change adds is documented by the next
build without editing the docs) and ``commands/index.rst`` listing them. Each page is rendered by
sphinx-click from the command object the CLI itself uses (``cli.get_command``), including the
``-v``/``-q`` options every subcommand gets. Subcommands of a group (``volumeviz us ...``) go on
their group's page.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import click

MODULE = "volumeviz_doc_commands"


def _commands() -> dict[str, click.Command]:
    from volumeviz.cli.main import COMMANDS, cli

    ctx = click.Context(cli, info_name="volumeviz")
    out = {}
    for name in COMMANDS:
        cmd = cli.get_command(ctx, name)
        if cmd is not None:
            out[name] = cmd
    return out


def _write(path: Path, text: str) -> None:
    """Write only when the text changed (keeps incremental builds incremental)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def generate(app: Any) -> None:
    """Write the command pages into ``<srcdir>/commands``."""
    from volumeviz.cli.main import COMMANDS

    commands = _commands()
    module = types.ModuleType(MODULE)
    module.__dict__.update({name.replace("-", "_"): cmd for name, cmd in commands.items()})
    sys.modules[MODULE] = module
    folder = Path(app.srcdir) / "commands"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.rst"):
        if old.stem != "index" and old.stem not in commands:
            old.unlink()
    for name, cmd in commands.items():
        title = f"volumeviz {name}"
        _write(
            folder / f"{name}.rst",
            f".. _command-{name}:\n\n{title}\n{'=' * len(title)}\n\n"
            f"{COMMANDS[name][2]}\n\n"
            f".. click:: {MODULE}:{name.replace('-', '_')}\n"
            f"   :prog: volumeviz {name}\n   :nested: full\n",
        )
    rows = "\n".join(f"   {name}" for name in commands)
    _write(
        folder / "index.rst",
        "Commands\n========\n\n"
        "Every subcommand of ``volumeviz``, generated from the command line's own definitions. "
        "The options below apply to all of them, before or after the subcommand's name "
        "(``volumeviz info -v PATH``); ``--debug`` anywhere shows a traceback instead of a "
        "one-line error.\n\n"
        ".. click:: volumeviz.cli.main:cli\n   :prog: volumeviz\n\n"
        f".. toctree::\n   :maxdepth: 1\n\n{rows}\n",
    )


def setup(app: Any) -> dict[str, Any]:
    """Register :func:`generate` to run before the sources are read."""
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
