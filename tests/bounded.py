"""Children run under a memory and time bound: hostile inputs must fail cleanly inside them."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

#: address space a child may use: a hostile header must not make us allocate more
LIMIT_BYTES = 2 * 2**30
#: seconds a child may take
LIMIT_S = 90


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def run_bounded(*args: str) -> subprocess.CompletedProcess[str]:
    """``volumeviz ARGS`` in a child limited to 2 GiB of address space and LIMIT_S seconds."""
    return subprocess.run(
        [sys.executable, "-m", "volumeviz", *args],
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        preexec_fn=_limit,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def python_bounded(
    code: str, *args: str, timeout: float = LIMIT_S
) -> subprocess.CompletedProcess[str]:
    """``python -c CODE ARGS`` under the same memory limit, ``timeout`` seconds."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit,
        check=False,
    )
