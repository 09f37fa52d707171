"""Byte-level DICOMDIR patching for tests (lengths kept, so offsets stay valid)."""

from __future__ import annotations

import struct
from pathlib import Path

FILESET = "dicomdir/pydicom_dcmtk_3patients"
VARIANTS = [
    "DICOMDIR",
    "DICOMDIR-bigEnd",
    "DICOMDIR-implicit",
    "DICOMDIR-nooffset",
    "DICOMDIR-reordered",
]


def patch_bytes(path: Path, old: bytes, new: bytes, *, count: int = 1) -> None:
    """Replace ``old`` by ``new`` (same length, so every offset stays right) ``count`` times."""
    assert len(old) == len(new), "patch must keep the length so the offsets stay valid"
    data = path.read_bytes()
    assert data.count(old) >= count, f"{old!r} not found {count} time(s) in {path}"
    path.write_bytes(data.replace(old, new, count))


def ul_element(group: int, elem: int, value: int) -> bytes:
    """Explicit VR little-endian UL element bytes."""
    return struct.pack("<HH2sHI", group, elem, b"UL", 4, value)
