"""Fixtures for the report and batch tests: a stand-in renderer, a phantom, poppler."""

from __future__ import annotations

import shutil

import pytest
from report_helpers import StandInRenderer

from volumeviz.model import phantom
from volumeviz.model.volume import Volume

POPPLER = ("pdftotext", "pdftoppm", "pdfinfo", "pdfimages")


@pytest.fixture
def stand_in() -> StandInRenderer:
    return StandInRenderer()


@pytest.fixture(scope="session")
def poppler() -> dict[str, str]:
    """Paths of the poppler tools; fails (not skips) when missing: they are a test dependency."""
    found = {name: shutil.which(name) for name in POPPLER}
    missing = [n for n, p in found.items() if p is None]
    if missing:
        pytest.fail(f"poppler-utils missing ({', '.join(missing)}): apt-get install poppler-utils")
    return {k: str(v) for k, v in found.items()}


@pytest.fixture
def phantom_vol() -> Volume:
    vol = phantom.asymmetric(32, spacing=(1.0, 1.0, 2.0))
    meta = vol.meta.replace(
        patient_name="DOE^JANE",
        patient_id="PID-778899",
        patient_birth_date="19700101",
        institution="General Hospital Springfield",
        study_description="PHANTOM STUDY",
        series_number=3,
        series_uid="1.2.3.4.5",
    )
    return vol.replace(meta=meta)
