"""Against a real Orthanc, over DICOMweb and over DIMSE: query, load, every command, store.

The session's Orthanc (tests/pacs/conftest.py) holds a real CT (Philips, 28 slices), an oblique
MR (Toshiba, 40 slices) and an enhanced multi-frame MR, uploaded from ../shared/data.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

import volumeviz
from tests.conftest import run_cli
from tests.pacs.conftest import Uploaded, address, cached_objects, partial_files
from tests.pacs.orthanc import CuttingProxy

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def _same_volume(a: volumeviz.Volume, b: volumeviz.Volume) -> None:
    assert a.array.shape == b.array.shape
    assert a.array.dtype == b.array.dtype
    assert np.array_equal(a.array, b.array)
    np.testing.assert_allclose(a.origin, b.origin, atol=1e-9)
    np.testing.assert_allclose(a.spacing, b.spacing, atol=1e-12)
    np.testing.assert_allclose(a.direction, b.direction, atol=1e-12)
    assert a.issues == b.issues
    assert dataclasses.replace(a.meta, source_files=()) == dataclasses.replace(
        b.meta, source_files=()
    )


# -- query ---------------------------------------------------------------------------------------


def test_info_lists_studies_with_filters(pacs: Uploaded, protocol: str, capsys) -> None:
    root = address(pacs, protocol)
    code, out, err = run_cli(capsys, "info", root, "--json")
    assert code == 0, err
    studies = {r["study_uid"]: r for r in json.loads(out)}
    assert {pacs.ct_study, pacs.mr_study, pacs.enhanced_study} <= set(studies)
    ct = studies[pacs.ct_study]
    assert (ct["patient_name"], ct["patient_id"], ct["study_date"]) == (
        "HEAD",
        "PLASTIC",
        "20150206",
    )
    assert ct["modalities"] == ["CT"]
    assert ct["n_series"] == 1
    assert ct["description"] == "1A TRAUMA/PLAIN HEAD DM"
    # filters are answered by the PACS
    for args, expect in (
        (("--modality", "CT"), {pacs.ct_study}),
        (("--patient", "PLASTIC"), {pacs.ct_study}),  # Patient ID
        (("--patient", "HEAD"), {pacs.ct_study}),  # Patient's Name
        (("--date", "2015-02-06"), {pacs.ct_study}),
        (("--date", "20190101-"), {pacs.mr_study}),
        (("--modality", "MR", "--date", "-20181231"), {pacs.enhanced_study}),
        (("--patient", "NOBODY"), set()),
    ):
        code, out, err = run_cli(capsys, "info", root, "--json", *args)
        assert code == 0, err
        assert {r["study_uid"] for r in json.loads(out)} == expect, args
    # part of a name (sent as *HEA*; over QIDO-RS the wildcards go unencoded: Orthanc 1.10
    # matched %2A literally) and the user's own wildcards, over both protocols
    for patient in ("HEA", "HE*", "H?AD"):
        code, out, err = run_cli(capsys, "info", root, "--json", "--patient", patient)
        assert code == 0, err
        assert {r["study_uid"] for r in json.loads(out)} == {pacs.ct_study}, patient
    code, out, _ = run_cli(capsys, "info", root)
    assert code == 0
    assert "HEAD (PLASTIC)" in out
    assert "2015-02-06" in out


def test_info_of_a_study_lists_its_series_from_metadata_only(
    pacs: Uploaded, protocol: str, capsys, pacs_env: Path
) -> None:
    """``info ADDRESS/studies/UID`` = ``info FOLDER``, and no pixel data crosses the network."""
    server = pacs.server
    port = server.http_port if protocol == "dicomweb" else server.dicom_port
    with CuttingProxy(port, cut_after=None) as counter:
        if protocol == "dicomweb":
            root = f"dicomweb+http://127.0.0.1:{counter.port}/dicom-web"
        else:
            root = f"dimse://ORTHANC@127.0.0.1:{counter.port}"
        code, out, err = run_cli(capsys, "info", f"{root}/studies/{pacs.ct_study}", "--json")
    assert code == 0, err
    remote = json.loads(out)
    code, out, err = run_cli(capsys, "info", str(pacs.ct_dir), "--json")
    local = json.loads(out)
    keep = ("uid", "number", "modality", "description", "size", "spacing", "origin", "direction")
    assert [{k: r.get(k) for k in keep} for r in remote] == [
        {k: r.get(k) for k in keep} for r in local
    ]
    assert remote[0]["size"] == [512, 512, 28]
    pixel_bytes = 28 * 512 * 512 * 2
    assert counter.served < pixel_bytes / 20, f"{counter.served} bytes served for headers"
    assert cached_objects(pacs_env) == []


def test_info_over_dimse_lists_an_enhanced_multiframe_series_unplanned(
    pacs: Uploaded, capsys
) -> None:
    """C-FIND cannot carry functional groups: the series is listed, its geometry not guessed."""
    study = f"{pacs.server.dimse}/studies/{pacs.enhanced_study}"
    code, out, err = run_cli(capsys, "info", study, "--json")
    assert code == 0, err
    (rec,) = json.loads(out)
    local = json.loads(run_cli(capsys, "info", str(pacs.enhanced_dir), "--json")[1])
    for key in ("label", "series_uid", "series_number", "modality", "description"):
        assert rec[key] == local[0][key], key
    assert rec["size"] is None  # no geometry from C-FIND
    assert "enhanced multi-frame over DIMSE" in rec["refusal"]
    assert "frames" in rec["refusal"]
    code, out, err = run_cli(capsys, "info", study)
    assert code == 0, err
    assert "1 series" in out
    assert "enhanced multi-frame over DIMSE" in " ".join(out.split())


# -- retrieve ------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["ct", "mr", "enhanced"])
def test_load_series_through_the_pacs_equals_the_files(
    pacs: Uploaded, protocol: str, which: str, pacs_env: Path
) -> None:
    folder, study = {
        "ct": (pacs.ct_dir, pacs.ct_study),
        "mr": (pacs.mr_dir, pacs.mr_study),
        "enhanced": (pacs.enhanced_dir, pacs.enhanced_study),
    }[which]
    from_files = volumeviz.load_series(folder)
    from_pacs = volumeviz.load_series(f"{address(pacs, protocol)}/studies/{study}")
    _same_volume(from_pacs, from_files)
    # the cached files are the uploaded ones, byte for byte
    cached = {p.name: p for p in cached_objects(pacs_env)}
    for f in sorted(folder.iterdir())[:5]:
        ds = pydicom.dcmread(f, stop_before_pixels=True, force=True)
        if "Rows" in ds:
            got = pydicom.dcmread(cached[f"{ds.SOPInstanceUID}.dcm"])
            assert got.PixelData == pydicom.dcmread(f).PixelData
    assert partial_files(pacs_env) == []


def test_load_multivolume_through_the_pacs_equals_the_files(pacs: Uploaded, protocol: str) -> None:
    """A friend of load_series: the enhanced MR's two volumes (magnitude, field map) by address."""
    from_files = volumeviz.load_multivolume(pacs.enhanced_dir)
    from_pacs = volumeviz.load_multivolume(
        f"{address(pacs, protocol)}/studies/{pacs.enhanced_study}"
    )
    assert from_pacs.shape == from_files.shape
    assert from_pacs.names == from_files.names
    for (idx, a), (idx_b, b) in zip(from_pacs, from_files, strict=True):
        assert idx == idx_b
        _same_volume(a, b)


def test_retrieval_reports_progress_as_instances_arrive(pacs: Uploaded, protocol: str) -> None:
    """``settings.progress`` (the CLI's bar on a terminal) sees every instance arrive."""
    from volumeviz.io.pacs import configure, fetch

    seen: list[tuple[str, int, int]] = []
    series = f"{address(pacs, protocol)}/studies/{pacs.mr_study}/series/{pacs.mr_series}"
    with configure(progress=lambda what, done, total: seen.append((what, done, total))):
        got = fetch(series)
    assert got.retrieved == 40
    assert seen[0][1:] == (0, 40)
    assert seen[-1][1:] == (40, 40)
    done = [d for _, d, _ in seen]
    assert done == sorted(done)
    assert len(seen) > 3  # as they arrive, not once at the end


def test_cli_shows_a_progress_bar_on_a_terminal(pacs: Uploaded, tmp_path: Path) -> None:
    """On a terminal (a pseudo-terminal from script(1)) the CLI draws the retrieval's bar."""
    import os
    import shlex
    import shutil
    import subprocess
    import sys

    script = shutil.which("script")
    if script is None:
        pytest.fail("script(1) (util-linux) is needed to give the CLI a terminal")
    series = f"{pacs.server.dicomweb}/studies/{pacs.mr_study}/series/{pacs.mr_series}"
    exe = Path(sys.executable).with_name("volumeviz")
    cmd = shlex.join([str(exe), "export", series, "-o", str(tmp_path / "x"), "--no-cache"])
    r = subprocess.run(
        [script, "-q", "-e", "-c", cmd, "/dev/null"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stdout[-2000:]
    assert "40/40 instances" in r.stdout


def test_cache_is_reused_and_no_cache_leaves_nothing(
    pacs: Uploaded, protocol: str, pacs_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from volumeviz.io.pacs import configure, fetch

    series = f"{address(pacs, protocol)}/studies/{pacs.mr_study}/series/{pacs.mr_series}"
    first = fetch(series)
    assert (first.retrieved, first.from_cache, len(first.files)) == (40, 0, 40)
    again = fetch(series)
    assert (again.retrieved, again.from_cache) == (0, 40)
    assert again.files == first.files
    # one instance lost from the cache: only that one is asked for
    first.files[7].unlink()
    third = fetch(series)
    assert (third.retrieved, third.from_cache) == (1, 39)
    # --no-cache: the persistent cache is not touched
    other = pacs_env.parent / "other-cache"
    monkeypatch.setenv("VOLUMEVIZ_PACS_CACHE", str(other))
    with configure(use_cache=False):
        fresh = fetch(series)
    assert fresh.retrieved == 40
    assert not other.exists()
    assert all(not str(f).startswith(str(pacs_env)) for f in fresh.files)


def test_parallel_retrieve_through_cmove(pacs: Uploaded, monkeypatch: pytest.MonkeyPatch) -> None:
    """C-MOVE to our own storage SCP (the port Orthanc knows for our AE), 3 associations."""
    from volumeviz.io.pacs import fetch

    monkeypatch.setenv("VOLUMEVIZ_DIMSE_RETRIEVE", "move")
    monkeypatch.setenv("VOLUMEVIZ_DIMSE_MOVE_PORT", str(pacs.server.move_port))
    monkeypatch.setenv("VOLUMEVIZ_PACS_WORKERS", "3")
    got = fetch(f"{pacs.server.dimse}/studies/{pacs.mr_study}")
    assert got.retrieved == 40
    _same_volume(volumeviz.load_series(list(got.files)), volumeviz.load_series(pacs.mr_dir))


# -- every command -------------------------------------------------------------------------------


def test_screenshot_through_the_pacs_equals_the_files(
    pacs: Uploaded, protocol: str, tmp_path: Path, capsys
) -> None:
    from PIL import Image

    study = f"{address(pacs, protocol)}/studies/{pacs.ct_study}"
    a, b = tmp_path / "pacs.png", tmp_path / "files.png"
    args = ("--mpr", "quad", "--size", "320x240")
    code, _out, err = run_cli(capsys, "screenshot", study, "-o", str(a), *args)
    assert code == 0, err
    code, _out, err = run_cli(capsys, "screenshot", str(pacs.ct_dir), "-o", str(b), *args)
    assert code == 0, err
    pa, pb = np.asarray(Image.open(a)), np.asarray(Image.open(b))
    assert pa.shape == (240, 320, 3)
    assert np.array_equal(pa, pb)
    assert pa.std() > 10  # a picture, not a blank


def test_report_through_the_pacs_and_secondary_capture_stored_back(
    pacs: Uploaded, protocol: str, tmp_path: Path, capsys
) -> None:
    root = address(pacs, protocol)
    out_pdf = tmp_path / "r.pdf"
    sc = tmp_path / "sc"
    before = pacs.server.count("instances")
    code, out, err = run_cli(
        capsys,
        "report",
        f"{root}/studies/{pacs.mr_study}",
        "-o",
        str(out_pdf),
        "--template",
        "brief",
        "--dpi",
        "50",
        "--secondary-capture",
        str(sc),
        "--store",
        root,
    )
    assert code == 0, err
    assert out_pdf.read_bytes().startswith(b"%PDF")
    written = sorted(sc.glob("SC*.dcm"))
    assert written
    assert f"stored {len(written)} secondary capture" in out
    assert pacs.server.count("instances") == before + len(written)
    uid = str(pydicom.dcmread(written[0], stop_before_pixels=True).SeriesInstanceUID)
    got = pacs.server.rest("post", "/tools/find", json={"Level": "Series", "Query": {
        "SeriesInstanceUID": uid}}).json()  # fmt: skip
    assert len(got) == 1
    pacs.server.rest("delete", f"/series/{got[0]}")  # leave the study as it was


def test_batch_with_pacs_inputs(pacs: Uploaded, protocol: str, tmp_path: Path, capsys) -> None:
    root = address(pacs, protocol)
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'output = "{tmp_path / "out"}"\n'
        f'[[input]]\npath = "{root}/studies/{pacs.mr_study}"\nseries = "each"\n'
        '[[render]]\nkind = "screenshot"\nmpr = "axial"\nsize = [160, 120]\n'
        'output = "{input}-{mpr}.png"\n'
    )
    code, out, err = run_cli(capsys, "batch", str(spec), "--sequential", "--no-progress")
    assert code == 0, err + out
    pngs = sorted((tmp_path / "out").glob("*.png"))
    assert [p.name for p in pngs] == [f"{pacs.mr_study}-s10006-axial.png"]


def test_export_through_the_pacs(
    pacs: Uploaded, protocol: str, tmp_path: Path, capsys, pacs_env: Path
) -> None:
    root = address(pacs, protocol)
    series = f"{root}/studies/{pacs.mr_study}/series/{pacs.mr_series}"
    code, _out, err = run_cli(capsys, "export", series, "-o", str(tmp_path / "x"), "--no-cache")
    assert code == 0, err
    assert len(list((tmp_path / "x").rglob("*.png"))) == 40
    assert cached_objects(pacs_env) == []  # --no-cache: the persistent cache stays empty


@pytest.mark.gui
def test_view_screenshot_through_the_pacs(
    pacs: Uploaded, protocol: str, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "view.png"
    study = f"{address(pacs, protocol)}/studies/{pacs.mr_study}"
    code, _stdout, err = run_cli(
        capsys, "view", study, "--screenshot", str(out), "--size", "640x480"
    )
    assert code == 0, err
    assert out.is_file()
    assert out.stat().st_size > 1000


def test_write_series_stores_back_and_series_are_chosen_before_retrieval(
    pacs: Uploaded, protocol: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import volumeviz.io.pacs as pacs_io
    from volumeviz.io.write import write_series

    vol = volumeviz.load_series(pacs.mr_dir)
    root = address(pacs, protocol)
    files = write_series(vol, tmp_path / "w", series_description="pacs store test", store=root)
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    study = f"{root}/studies/{ds.StudyInstanceUID}"  # now two series: the MR and the new one
    try:
        # by Series Number, chosen from metadata: only the chosen series is retrieved
        back = volumeviz.load_series(study, series=str(ds.SeriesNumber))
        assert back.meta.series_uid == str(ds.SeriesInstanceUID)
        np.testing.assert_allclose(back.origin, vol.origin, atol=1e-3)
        np.testing.assert_allclose(back.direction, vol.direction, atol=1e-5)
        np.testing.assert_allclose(back.spacing, vol.spacing, atol=1e-5)
        assert np.array_equal(back.array, vol.array)
        assert len(cached_objects(pacs_cache(monkeypatch))) == 40
        first = volumeviz.load_series(study, series=str(vol.meta.series_number))
        assert first.meta.series_uid == pacs.mr_series
        _same_volume(first, vol)

        # everything cached now: the choice is made on the cached files, no metadata asked for
        def no_metadata(*_a: object) -> None:
            raise AssertionError("metadata requested although every instance is cached")

        monkeypatch.setattr(pacs_io, "_scan_metadata", no_metadata)
        addr, _key = pacs_io.narrow(study, str(ds.SeriesNumber))
        assert addr.series_uid == str(ds.SeriesInstanceUID)
    finally:
        got = pacs.server.rest("post", "/tools/find", json={"Level": "Series", "Query": {
            "SeriesInstanceUID": str(ds.SeriesInstanceUID)}}).json()  # fmt: skip
        pacs.server.rest("delete", f"/series/{got[0]}")


def pacs_cache(monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's cache folder (set by the pacs_env fixture)."""
    import os

    return Path(os.environ["VOLUMEVIZ_PACS_CACHE"])
