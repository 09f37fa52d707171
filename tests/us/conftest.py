"""Fixtures for the ultrasound tests: the committed Philips copy and files derived from it.

Derived files keep the real Philips header and pixel data and replace only the Sequence of
Ultrasound Regions (0018,6011) with the regions each test describes (see
tests/data/us_philips_cx50_rle/SOURCE.md). They are written to ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

PHILIPS = (
    Path(__file__).parents[1]
    / "data"
    / "us_philips_cx50_rle"
    / "philips_cx50_palette_2f_ecg_rle.dcm"
)

#: the real Philips regions, as in the file (MANIFEST.md)
PHILIPS_2D = {
    "RegionSpatialFormat": 1,
    "RegionDataType": 1,
    "RegionFlags": 3,
    "RegionLocationMinX0": 120,
    "RegionLocationMinY0": 60,
    "RegionLocationMaxX1": 800,
    "RegionLocationMaxY1": 518,
    "ReferencePixelX0": 340,
    "ReferencePixelY0": 36,
    "PhysicalUnitsXDirection": 3,
    "PhysicalUnitsYDirection": 3,
    "ReferencePixelPhysicalValueX": 0.0,
    "ReferencePixelPhysicalValueY": 0.0,
    "PhysicalDeltaX": 0.02622878766196998,
    "PhysicalDeltaY": 0.02622878766196998,
}


def region_item(**fields: Any) -> Dataset:
    """One (0018,6011) item from keyword=value pairs (None leaves the element out)."""
    item = Dataset()
    for key, value in fields.items():
        if value is not None:
            setattr(item, key, value)
    return item


@pytest.fixture
def philips_path() -> Path:
    assert PHILIPS.is_file(), f"committed test file missing: {PHILIPS}"
    return PHILIPS


@pytest.fixture
def derive(tmp_path: Path) -> Callable[..., Path]:
    """``derive(name, regions=[{...}, ...], **header)`` -> path of an edited Philips copy."""

    def _derive(name: str, regions: list[dict[str, Any]] | None = None, **header: Any) -> Path:
        ds = pydicom.dcmread(PHILIPS)
        if regions is not None:
            ds.SequenceOfUltrasoundRegions = Sequence([region_item(**r) for r in regions])
        for key, value in header.items():
            if value is None:
                if key in ds:
                    delattr(ds, key)
            else:
                setattr(ds, key, value)
        out = tmp_path / f"{name}.dcm"
        ds.save_as(out, enforce_file_format=True)
        return out

    return _derive


@pytest.fixture
def philips_2d() -> dict[str, Any]:
    """A fresh copy of the real Philips 2D region item (keyword -> value)."""
    return dict(PHILIPS_2D)
