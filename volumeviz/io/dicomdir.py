"""DICOMDIR file-sets (PS3.10 media), confined to their root folder."""

from __future__ import annotations

import os
from pathlib import Path

#: Media Storage Directory Storage SOP Class (the DICOMDIR itself)
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"


def is_dicomdir(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a DICOMDIR file (by name, or by its Media Storage SOP Class UID)."""
    p = Path(path)
    if not p.is_file():
        return False
    if p.name.upper() == "DICOMDIR":
        return True
    try:
        with p.open("rb") as fh:
            head = fh.read(1024)
    except OSError:
        return False
    return head[128:132] == b"DICM" and DICOMDIR_SOP_CLASS.encode() in head
