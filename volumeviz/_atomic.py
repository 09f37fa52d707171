"""Atomic file output: write a temp file beside the target, then move it into place.

Without ``overwrite`` the move is create-exclusive (a hard link, which fails if the target
appeared meanwhile), so two writers racing for one name never replace each other's file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from volumeviz.errors import OutputError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success it becomes ``target``.

    Nothing is left behind on failure (an exception, or SIGTERM once the CLI turned it into
    one; only SIGKILL leaves the ``.NAME.XXXXXXXX.SUFFIX`` file, which ``export`` removes on its
    next run). The folder must exist: a missing folder is an :class:`OutputError` naming it,
    not a half-written file somewhere else. Without ``overwrite`` an existing target is an
    :class:`OutputError`, also when it appears while the temporary file is being written.
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{target}: output folder {parent} does not exist")
    if target.exists() and not overwrite:
        raise OutputError(f"{target}: exists; pass --force to overwrite")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=parent)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write in {parent}: {exc.strerror}") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes 0600 files; give the output the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        if overwrite:
            os.replace(tmp_path, target)
        else:
            _place_exclusive(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def _place_exclusive(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target`` only if ``target`` does not exist (atomically where possible)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputError(f"{target}: exists (written meanwhile); not overwritten") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK, errno.ENOSYS):  # fmt: skip
            raise OutputError(f"{target}: cannot be written: {exc.strerror or exc}") from exc
        # a file system without hard links: the best it offers
        if target.exists():
            raise OutputError(f"{target}: exists (written meanwhile); not overwritten") from None
        os.replace(tmp, target)
        return
    tmp.unlink()
