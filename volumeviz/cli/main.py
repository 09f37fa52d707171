"""Entry point of the ``volumeviz`` command.

Subcommands live in their own modules and are imported only when used, so ``volumeviz --help``
loads neither VTK, SimpleITK nor Qt. Errors raised on purpose (:class:`VolumeVizError`) are
printed as one line and exit 1 (bad data) or 2 (bad usage); ``--debug`` anywhere on the command
line shows the traceback instead.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
import warnings
from typing import Any, TextIO

import click

from volumeviz import __version__
from volumeviz._face import command_line
from volumeviz.errors import VolumeVizError

#: subcommand name -> (module, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "info": ("volumeviz.cli.info", "info", "List the series (or DICOMDIR tree) under PATH."),
    "screenshot": (
        "volumeviz.cli.screenshot",
        "screenshot",
        "Render a series (3D preset or MPR) or an ultrasound frame to a PNG.",
    ),
    "us": ("volumeviz.cli.us", "us", "Ultrasound: calibration regions, measurements, export."),
    "export": ("volumeviz.cli.export", "export", "Export every image under PATH as PNG/JPEG."),
    "view": ("volumeviz.cli.view", "view", "Open the interactive 3D window."),
    "report": ("volumeviz.cli.report", "report", "Build an HTML/PDF report of a series or study."),
    "batch": ("volumeviz.cli.report", "batch", "Render many series from a TOML/YAML spec."),
    "convert": ("volumeviz.cli.convert", "convert", "Write a series as NIfTI or NRRD."),
    "movie": (
        "volumeviz.cli.movie",
        "movie",
        "An MP4/GIF along time (echo ...), a slice sweep or a 3D rotation.",
    ),
    "stats": (
        "volumeviz.cli.stats",
        "stats",
        "Statistics (mL, HU, centroid) inside segments and ROIs.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """All subcommand names, in declaration order."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return the subcommand (None if unknown)."""
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, short = COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise

            @click.command(cmd_name, help=f"{short} (not available in this build)")
            def _missing() -> None:
                raise click.UsageError(f"'{cmd_name}' is not available in this build")

            return _missing
        cmd: click.Command = getattr(module, attr)
        _add_verbosity(cmd)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands with their short help without importing them."""
        rows = [(name, short) for name, (_, _, short) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


_VERBOSE_HELP = "More messages (-vv for debug logging); also after the subcommand."
_QUIET_HELP = "Only errors; also after the subcommand."


def _verbosity(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Record -v/-q (given before or after the subcommand) and set the logging level."""
    meta = ctx.find_root().meta
    if param.name == "verbose":
        meta["volumeviz.verbose"] = meta.get("volumeviz.verbose", 0) + int(value or 0)
    elif value:
        meta["volumeviz.quiet"] = True
    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    quiet = meta.get("volumeviz.quiet", False)
    level = logging.ERROR if quiet else levels[min(meta.get("volumeviz.verbose", 0), 2)]
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="volumeviz: %(levelname)s: %(message)s")
    if "volumeviz.level" not in meta:  # put back the caller's level when the command ends
        meta["volumeviz.level"] = root.level
        ctx.find_root().call_on_close(lambda: root.setLevel(meta["volumeviz.level"]))
    root.setLevel(level)
    quiet_noise(debug=_DEBUG or meta.get("volumeviz.verbose", 0) >= 2)


def _verbosity_options() -> list[click.Option]:
    return [
        click.Option(
            ["-v", "--verbose"], count=True, expose_value=False, is_eager=True,
            callback=_verbosity, help=_VERBOSE_HELP,
        ),
        click.Option(
            ["-q", "--quiet"], is_flag=True, expose_value=False, is_eager=True,
            callback=_verbosity, help=_QUIET_HELP,
        ),
    ]  # fmt: skip


def _add_verbosity(cmd: click.Command) -> None:
    """Give ``cmd`` (and a group's subcommands) ``-v``/``-q``, unless it has its own."""
    taken = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}
    if not taken & {"-v", "--verbose", "-q", "--quiet"}:
        cmd.params.extend(_verbosity_options())
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            _add_verbosity(sub)


@click.group(
    cls=LazyGroup,
    params=_verbosity_options(),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="volumeviz")
def cli() -> None:
    """volumeviz: DICOM CT/MR/ultrasound in 3D, the right way round.

    Add --debug anywhere to see tracebacks. Tab completion in bash:
    eval "$(_VOLUMEVIZ_COMPLETE=bash_source volumeviz)" (zsh_source, fish_source likewise).
    """


#: set by :func:`main` from ``--debug`` before the command runs
_DEBUG = False


class _OnceNoTraceback(logging.Filter):
    """Each distinct message once; library tracebacks only with ``--debug`` (or ``-vv``).

    pydicom logs every validation warning *and* issues it as a Python warning (both shown
    once here); its pixel decoders log each failed plugin with a traceback before raising one
    error that names them all, which volumeviz reports itself: those records are dropped.
    """

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self.debug = debug
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.debug and record.exc_info and record.name.startswith("pydicom"):
            return False
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        if not self.debug:
            record.exc_info = record.exc_text = record.stack_info = None
        return True


def quiet_noise(*, debug: bool = False) -> None:
    """Route Python warnings through logging and show each message once (tracebacks: debug)."""
    flt = _OnceNoTraceback(debug)
    for handler in logging.getLogger().handlers:
        if type(handler) is not logging.StreamHandler:  # e.g. a test's log capture: leave it
            continue
        for old in [f for f in handler.filters if isinstance(f, _OnceNoTraceback)]:
            handler.removeFilter(old)
        handler.addFilter(flt)
    warn_log = logging.getLogger("volumeviz.warnings")

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        warn_log.warning("%s", message)

    warnings.showwarning = show


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; turn expected errors into one line on stderr and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("VOLUMEVIZ_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    global _DEBUG
    _DEBUG = debug
    previous = _on_sigterm()
    try:
        return _run(args, debug)
    finally:
        from volumeviz.cli import _console

        _console.restore()  # after the error line, which --anonymize filters too
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _on_sigterm() -> Any:
    """Make SIGTERM unwind like an exception, so half-written temporary files are removed.

    Returns the handler it replaced (None when not in the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _terminated)


def _run(args: list[str], debug: bool) -> Any:
    try:
        # quiet_noise's warning routing ends with the command (warnings.catch_warnings)
        with command_line(), warnings.catch_warnings():
            return cli.main(args=args, prog_name="volumeviz", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        if debug:
            raise
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("volumeviz: aborted", err=True)
        sys.exit(130)
    except VolumeVizError as exc:
        if debug:
            raise
        click.echo(f"volumeviz: error: {_one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("volumeviz: interrupted", err=True)
        sys.exit(130)
    except MemoryError:
        if debug:
            raise
        click.echo("volumeviz: error: out of memory", err=True)
        sys.exit(1)
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # Exception, and a native library's panic (pyo3 PanicException)
        if debug:
            raise
        click.echo(
            f"volumeviz: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(rerun with --debug for the traceback, and please report it)",
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
