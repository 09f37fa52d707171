"""Two exports into one output folder, and exports that are killed: no mixing, no leftovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from PIL import Image

from tests.conftest import shared_path
from volumeviz.io.export import LOCK_NAME, STATE_NAME, export_images

pytestmark = pytest.mark.slow

_CHILD = """
import json, sys
from volumeviz.io.export import export_images
r = export_images(sys.argv[1], sys.argv[2])
print(json.dumps({"written": [str(p) for p in r.written], "kept": [str(p) for p in r.kept],
                  "failed": r.failed}))
"""


def _study(src: Path, dst: Path, study_uid: str) -> Path:
    """``src``'s slices as another study of the same patient, on the same date."""
    dst.mkdir(parents=True)
    for f in sorted(src.iterdir()):
        if not f.name.startswith("I"):
            continue
        ds = pydicom.dcmread(f)
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = study_uid + ".1"
        ds.SOPInstanceUID = f"{study_uid}.1.{ds.InstanceNumber}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(dst / f.name)
    return dst


@pytest.fixture(scope="module")
def two_studies(shared_data, tmp_path_factory) -> tuple[Path, Path]:
    src = shared_path(shared_data, "ct/philips_ingenuity_axial_5mm")
    root = tmp_path_factory.mktemp("studies")
    return _study(src, root / "a", "1.2.826.0.1.3680043.9.7777.1"), _study(
        src, root / "b", "1.2.826.0.1.3680043.9.7777.2"
    )


def _pngs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.png") if not p.name.startswith("."))


def test_two_exports_at_once_never_mix(two_studies, tmp_path):
    a, b = two_studies
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(src), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for src in (a, b)
    ]
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        results.append(json.loads(stdout))
    written = [set(r["written"]) for r in results]
    n = len([f for f in a.iterdir() if f.name.startswith("I")])
    assert [len(w) for w in written] == [n, n]
    assert [r["kept"] for r in results] == [[], []]  # neither reports the other's files
    assert not written[0] & written[1]
    # each study in a folder of its own, every file a whole PNG
    folders = [{Path(f).parent for f in w} for w in written]
    assert len(folders[0]) == len(folders[1]) == 1
    assert folders[0] != folders[1]
    assert len(_pngs(out)) == 2 * n
    for f in _pngs(out):
        with Image.open(f) as im:
            im.load()
    # a rerun of one of them finds its own folder and keeps its files
    again = export_images(b, out)
    assert again.written == []
    assert {str(p) for p in again.kept} == written[1]


def test_sequential_exports_of_two_studies_on_one_date_stay_apart(two_studies, tmp_path):
    a, b = two_studies
    out = tmp_path / "out"
    first, second = export_images(a, out), export_images(b, out)
    assert second.kept == []
    assert {p.parent for p in first.written}.isdisjoint({p.parent for p in second.written})
    state = json.loads((out / STATE_NAME).read_text())["folders"]
    assert "1.2.826" not in json.dumps(state)  # the record holds hashes, not UIDs


def _wait_for_png(out: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if _pngs(out):
            return
        if proc.poll() is not None:
            pytest.fail(f"the export ended before writing anything: {proc.communicate()}")
        time.sleep(0.02)
    pytest.fail("no output appeared")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_export_then_rerun(two_studies, tmp_path, sig):
    a, _ = two_studies
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "volumeviz", "export", str(a), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_png(out, proc)
    os.kill(proc.pid, sig)
    proc.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM
        # SIGTERM unwinds: the file being written is removed, not left half-made
        assert not [p for p in out.rglob(".*") if p.name not in (LOCK_NAME, STATE_NAME)]
    # whatever was left (SIGKILL cannot clean up), plus one we leave on purpose
    series = _pngs(out)[0].parent
    stale = series / ".99.png.ab12cd34.png"
    stale.write_bytes(b"half a png")
    done = export_images(a, out)
    assert done.failed == []
    assert any("temporary file(s) an interrupted run left" in n for n in done.notes)
    assert not stale.exists()
    assert not [p for p in out.rglob(".*") if p.name not in (LOCK_NAME, STATE_NAME)]
    n = len([f for f in a.iterdir() if f.name.startswith("I")])
    assert len(done.written) + len(done.kept) == n
    assert len(_pngs(out)) == n
    for f in _pngs(out):  # every file whole: the killed run never left a partial one
        with Image.open(f) as im:
            im.load()
