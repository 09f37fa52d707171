"""A real Orthanc for the PACS tests: started once per session, killed at the end.

Skips (saying why) only when Orthanc is not installed AND CI does not require it; under
``.ci/run`` (``VOLUMEVIZ_REQUIRE_SHARED_DATA=1``) a missing Orthanc fails the tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest

from tests.conftest import shared_path
from tests.pacs.orthanc import PASSWORD, USER, Orthanc, missing_reason

CT = "ct/philips_ingenuity_axial_5mm"
MR = "mr/toshiba_galan_oblique20_b0"
ENHANCED = "mr/philips_enhanced_b0map"


@dataclass(frozen=True)
class Uploaded:
    """What the session's Orthanc holds."""

    server: Orthanc
    ct_dir: Path
    ct_study: str
    ct_series: str
    mr_dir: Path
    mr_study: str
    mr_series: str
    enhanced_study: str
    enhanced_dir: Path


def _require_orthanc() -> None:
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("VOLUMEVIZ_REQUIRE_SHARED_DATA") == "1" or os.environ.get("CI"):
        pytest.fail(f"CI needs a real Orthanc: {reason}; run scripts/install_system_deps.sh")
    pytest.skip(f"no real PACS to test against: {reason}")


def _uids(folder: Path) -> tuple[str, str]:
    for f in sorted(folder.iterdir()):
        ds = pydicom.dcmread(f, stop_before_pixels=True, force=True)
        if "SeriesInstanceUID" in ds and "Rows" in ds:
            return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)
    raise AssertionError(f"{folder}: no image")


@pytest.fixture(scope="session")
def pacs(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Uploaded]:
    """The session's Orthanc with a CT, an oblique MR and an enhanced MR uploaded."""
    _require_orthanc()
    server = Orthanc(tmp_path_factory.mktemp("orthanc")).start()
    try:
        ct_dir, mr_dir = shared_path(shared_data, CT), shared_path(shared_data, MR)
        enh_dir = shared_path(shared_data, ENHANCED)
        for d in (ct_dir, mr_dir, enh_dir):
            assert server.upload(sorted(d.iterdir())), f"Orthanc refused every file of {d}"
        ct_study, ct_series = _uids(ct_dir)
        mr_study, mr_series = _uids(mr_dir)
        enh_study, _ = _uids(enh_dir)
        yield Uploaded(
            server, ct_dir, ct_study, ct_series, mr_dir, mr_study, mr_series, enh_study, enh_dir
        )
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def pacs_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Test credentials from the environment, a cache of this test's own, no stray settings."""
    for var in list(os.environ):
        if var.startswith(("VOLUMEVIZ_DICOMWEB_", "VOLUMEVIZ_PACS_", "VOLUMEVIZ_DIMSE_")):
            monkeypatch.delenv(var)
    for var in ("VOLUMEVIZ_AET", "VOLUMEVIZ_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VOLUMEVIZ_DICOMWEB_USER", USER)
    monkeypatch.setenv("VOLUMEVIZ_DICOMWEB_PASSWORD", PASSWORD)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    cache = tmp_path / "pacs-cache"
    monkeypatch.setenv("VOLUMEVIZ_PACS_CACHE", str(cache))
    return cache


@pytest.fixture(params=["dicomweb", "dimse"])
def protocol(request: pytest.FixtureRequest) -> str:
    """Each PACS test runs over DICOMweb and over DIMSE."""
    return str(request.param)


def address(pacs: Uploaded, protocol: str) -> str:
    """The PACS root address for ``protocol``."""
    return pacs.server.dicomweb if protocol == "dicomweb" else pacs.server.dimse


def cached_objects(cache: Path) -> list[Path]:
    """The complete instances in a cache folder."""
    return sorted((cache / "objects").glob("*/*.dcm")) if cache.exists() else []


def partial_files(cache: Path) -> list[Path]:
    """Anything half-written in a cache folder."""
    return sorted((cache / "tmp").glob("*")) if cache.exists() else []
