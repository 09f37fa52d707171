"""movie, convert, stats and ``us export`` with --anonymize: two identities, the same output.

Identity A and B (tests/deid/conftest.py) differ in name, ID, birth date, institution,
accession, referring physician, dates and UIDs, typed into descriptions and folder names too.
Each output path below must not tell them apart (byte for byte where the format allows; DICOM
up to the new UIDs and the pseudonym, which are keyed by what they replace) and must not hold
any of their strings, in the file or on the console. Each test also shows that the same output
made WITHOUT --anonymize does tell them apart, so the comparison can fail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli, shared_path
from tests.deid.conftest import A, B, make_identity

pytestmark = [pytest.mark.render, pytest.mark.slow]


def _leaks(text: str, ident) -> list[str]:
    low = text.lower()
    return [s for s in ident.strings() if s.lower() in low]


def _run(capsys, *args: str) -> tuple[str, str]:
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    return out, err


def _no_leaks(*texts: str) -> None:
    for ident in (A, B):
        for text in texts:
            assert not _leaks(text, ident), (ident.name, text[:400])


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_movie_identical_under_two_identities(two_identities, tmp_path, capsys, suffix):
    outs, plain = [], []
    for n, src in enumerate(two_identities):
        out = tmp_path / f"anon{n}{suffix}"
        stdout, err = _run(
            capsys, "movie", str(src), "--sweep", "axial", "--anonymize",
            "--size", "160x120", "-o", str(out),
        )  # fmt: skip
        _no_leaks(stdout, err, out.read_bytes().decode("latin-1"))
        outs.append(out.read_bytes())
        if suffix == ".gif":
            p = tmp_path / f"plain{n}{suffix}"
            _run(capsys, "movie", str(src), "--sweep", "axial", "--size", "160x120", "-o", str(p))
            plain.append(p.read_bytes())
    assert outs[0] == outs[1]
    if plain:  # the frames show the patient when not anonymised: the test can see a difference
        assert plain[0] != plain[1]


def _labels(src: Path, root: Path, ident) -> Path:
    """A labelmap (.npy) on the series' grid, in a folder named after the patient."""
    from volumeviz.io.volume import load_series

    vol = load_series(src)
    labels = np.zeros(vol.array.shape, np.uint8)
    k, j, i = (s // 2 for s in vol.array.shape)
    labels[k - 1 : k + 2, j - 20 : j + 20, i - 30 : i + 30] = 1
    folder = root / f"{ident.folder} labels"
    folder.mkdir()
    np.save(folder / "labels.npy", labels)
    return folder / "labels.npy"


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".nrrd"])
def test_convert_image_identical_under_two_identities(two_identities, tmp_path, capsys, suffix):
    outs = []
    for n, src in enumerate(two_identities):
        out = tmp_path / f"{n}{suffix}"
        stdout, err = _run(capsys, "convert", str(src), "--anonymize", "-o", str(out))
        _no_leaks(stdout, err, out.read_bytes().decode("latin-1"))
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def _dicom_text(path: Path) -> str:
    """Every element value of a DICOM file except UIDs and binary (OB/OW/UN) data."""
    import pydicom

    ds = pydicom.dcmread(path)
    values: list[str] = []

    def visit(_, elem) -> None:
        if elem.VR not in ("UI", "SQ", "OB", "OW", "UN"):
            values.append(str(elem.value))

    ds.walk(visit)
    for elem in ds.file_meta:
        if elem.VR not in ("UI", "OB"):
            values.append(str(elem.value))
    return "\n".join(values)


def _dicom_values(path: Path) -> list[tuple[str, str]]:
    """Every element of a DICOM file but UIDs and the pseudonym, as (tag, value) text."""
    import pydicom

    ds = pydicom.dcmread(path)
    values: list[tuple[str, str]] = []

    def visit(_, elem) -> None:
        if elem.VR in ("UI", "SQ") or elem.keyword in ("PatientID", "PatientName"):
            return
        values.append((str(elem.tag), str(elem.value)))

    ds.walk(visit)
    return values


def _dciodvfy_errors(path: Path) -> list[str]:
    import shutil
    import subprocess

    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.fail("dciodvfy not found: run scripts/install_system_deps.sh (Debian dicom3tools)")
    res = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    lines = (res.stdout + res.stderr).splitlines()
    assert any("Segmentation" in line for line in lines), lines  # it recognised the IOD
    return [line for line in lines if line.startswith("Error")]


def test_convert_seg_identical_under_two_identities(two_identities, tmp_path, capsys):
    import pydicom

    got, plain = [], []
    for n, (src, ident) in enumerate(zip(two_identities, (A, B), strict=True)):
        labels = _labels(src, tmp_path, ident)
        family = ident.name.split("^")[0]
        out = tmp_path / f"{n}.dcm"
        stdout, err = _run(
            capsys, "convert", str(src), "--anonymize", "--seg", str(labels),
            "--label-names", f"1={family} lesion", "-o", str(out),
        )  # fmt: skip
        # every value but UIDs (random digits may hold a short all-digit ID) and binary data
        _no_leaks(stdout, err, _dicom_text(out))
        ds = pydicom.dcmread(out)
        assert ds.PatientIdentityRemoved == "YES"
        assert _dciodvfy_errors(out) == []
        # the reference to the series stays, with a new UID
        series_uid = str(pydicom.dcmread(next(src.iterdir())).SeriesInstanceUID)
        ref = str(ds.ReferencedSeriesSequence[0].SeriesInstanceUID)
        assert ref
        assert ref != series_uid
        assert ds.SegmentSequence[0].SegmentLabel == "[removed] lesion"
        got.append(_dicom_values(out))
        p = tmp_path / f"plain{n}.dcm"
        _run(capsys, "convert", str(src), "--seg", str(labels), "-o", str(p))
        plain.append(_dicom_values(p))
    assert got[0] == got[1]
    assert plain[0] != plain[1]


def test_stats_identical_under_two_identities(two_identities, tmp_path, capsys):
    from volumeviz.io.volume import load_series

    centre = load_series(two_identities[0]).center_lps
    roi = "sphere:" + ",".join(f"{c:.3f}" for c in centre) + ",15"
    outs: dict[str, list[str]] = {"json": [], "table": [], "csv": []}
    plain = []
    for src, ident in zip(two_identities, (A, B), strict=True):
        labels = _labels(src, tmp_path, ident)
        for form, flag in (("json", "--json"), ("table", None), ("csv", "--csv")):
            args = ["stats", str(src), "--seg", str(labels), "--roi", roi, "--anonymize"]
            stdout, err = _run(capsys, *args, *([flag] if flag else []))
            _no_leaks(stdout, err)
            outs[form].append(stdout)
        plain.append(_run(capsys, "stats", str(src), "--seg", str(labels), "--json")[0])
    for form, (a, b) in outs.items():
        assert a == b, form
    assert plain[0] != plain[1]  # not anonymised, the file names the patient
    assert '"series": "<input>"' in outs["json"][0]
    assert "<input>" in outs["csv"][0]
    assert plain[0] != plain[1]


def test_us_export_identical_under_two_identities(shared_data, tmp_path, capsys):
    src = shared_path(shared_data, "fuzz/anon_export_burned_in/in/cx50_regions.dcm")
    outs: dict[str, list[bytes]] = {"png": [], "gif": []}
    plain = []
    for n, ident in enumerate((A, B)):
        folder = make_identity([src], tmp_path / f"id{n}", ident)
        (f,) = folder.iterdir()
        out_dir = tmp_path / f"out{n}"
        out_dir.mkdir()
        stdout, err = _run(
            capsys, "us", "export", str(f), "--anonymize", "-o", str(out_dir / "x.png")
        )
        written = sorted(out_dir.glob("x*.png"))
        assert len(written) == 2
        outs["png"].append(b"".join(p.read_bytes() for p in written))
        gif = tmp_path / f"{n}.gif"
        stdout2, err2 = _run(
            capsys, "us", "export", str(f), "--anonymize", "--fps", "10", "-o", str(gif)
        )
        outs["gif"].append(gif.read_bytes())
        plain_dir = tmp_path / f"plain{n}"
        plain_dir.mkdir()
        _run(capsys, "us", "export", str(f), "--frames", "0", "-o", str(plain_dir / "x.png"))
        plain.append((plain_dir / "x.png").read_bytes())
        _no_leaks(stdout, err, stdout2, err2, outs["png"][-1].decode("latin-1"))
    for form, (a, b) in outs.items():
        assert a == b, form
    assert plain[0] != plain[1]  # not anonymised, the file names the patient
