"""The same series under two identities, anonymised, gives the same outputs byte for byte.

Identity A and B (tests/deid/conftest.py) differ in name, ID, birth date, institution,
accession, referring physician, study date and UIDs, and have them typed into the series and
study descriptions and into the folder and file names. Everything volumeviz writes with
``--anonymize`` must not tell them apart, and must not hold any of their strings.
"""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.deid.conftest import A, B

pytestmark = [pytest.mark.render, pytest.mark.slow]


def _png_text(path: Path) -> str:
    """Every text chunk of a PNG (tEXt, zTXt, iTXt), decoded."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        return "\n".join(f"{k}={v}" for k, v in im.text.items())


def _leaks(text: str, ident) -> list[str]:
    low = text.lower()
    return [s for s in ident.strings() if s.lower() in low]


def _screenshot(capsys, src: Path, out: Path, *extra: str) -> tuple[str, str]:
    code, stdout, err = run_cli(
        capsys, "screenshot", str(src), "--anonymize", "--size", "480x360", "-o", str(out), *extra
    )
    assert code == 0, err
    return stdout, err


@pytest.mark.parametrize("mpr", ["quad", "axial"])
def test_screenshots_identical_under_two_identities(two_identities, tmp_path, capsys, mpr):
    a, b = two_identities
    out_a, out_b = tmp_path / "a.png", tmp_path / "b.png"
    _screenshot(capsys, a, out_a, "--mpr", mpr)
    _screenshot(capsys, b, out_b, "--mpr", mpr)
    assert out_a.read_bytes() == out_b.read_bytes()
    assert not _leaks(_png_text(out_a), A)


def test_screenshot_description_reproducer(fuzz_repro_identities, tmp_path, capsys):
    """fuzz/anon_screenshot_description: the description typed as the name is not drawn."""
    a, b = fuzz_repro_identities
    out_a, out_b = tmp_path / "a.png", tmp_path / "b.png"
    _screenshot(capsys, a, out_a, "--mpr", "axial")
    _screenshot(capsys, b, out_b, "--mpr", "axial")
    assert out_a.read_bytes() == out_b.read_bytes()
    # and the picture does show text (the modality line), so the test can see a difference
    _screenshot(capsys, a, tmp_path / "plain.png", "--mpr", "axial", "--no-annotations")
    assert (tmp_path / "plain.png").read_bytes() != out_a.read_bytes()


def _pdf_text(poppler: dict[str, str], pdf: Path) -> str:
    text = subprocess.run(
        [poppler["pdftotext"], "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    info = subprocess.run(
        [poppler["pdfinfo"], str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    keep = [ln for ln in info.splitlines() if not ln.startswith(("File size", "Pages"))]
    return text + "\n" + "\n".join(keep)


def _pdf_streams(pdf: Path) -> str:
    """The PDF's bytes with every Flate stream inflated (text not shown by pdftotext too)."""
    raw = pdf.read_bytes()
    parts = [raw.decode("latin-1")]
    start = 0
    while (i := raw.find(b"stream", start)) >= 0:
        j = raw.find(b"endstream", i)
        body = raw[i + 6 : j].strip(b"\r\n")
        try:
            parts.append(zlib.decompress(body).decode("latin-1"))
        except zlib.error:
            pass
        start = j + 9
    return "\n".join(parts)


def _dicom_text(path: Path) -> str:
    """Every element value of a DICOM file, and its raw bytes as Latin-1."""
    import pydicom

    ds = pydicom.dcmread(path)
    values: list[str] = []
    ds.walk(lambda _, e: values.append(str(e.value)) if e.VR not in ("OB", "OW", "SQ") else None)
    return "\n".join(values) + path.read_bytes().decode("latin-1")


@pytest.fixture(scope="module")
def poppler() -> dict[str, str]:
    import shutil

    found = {n: shutil.which(n) for n in ("pdftotext", "pdfinfo")}
    if None in found.values():
        pytest.fail("poppler-utils missing: apt-get install poppler-utils")
    return {k: str(v) for k, v in found.items()}


def test_reports_identical_under_two_identities(two_identities, tmp_path, capsys, poppler):
    a, b = two_identities
    texts = []
    for src, name in ((a, "a"), (b, "b")):
        pdf, html, sc = tmp_path / f"{name}.pdf", tmp_path / f"{name}.html", tmp_path / name
        for out in (pdf, html):
            code, _, err = run_cli(
                capsys, "report", str(src), "--anonymize", "--template", "brief", "--dpi", "40",
                "-o", str(out), *(["--secondary-capture", str(sc)] if out == pdf else []),
            )  # fmt: skip
            assert code == 0, err
        texts.append(_pdf_text(poppler, pdf))
        captures = sorted(sc.glob("SC*.dcm"))
        assert captures
        for ident in (A, B):
            assert not _leaks(_pdf_streams(pdf), ident), name
            assert not _leaks(html.read_text(), ident), name
            for f in captures:
                assert not _leaks(_dicom_text(f), ident), (name, f.name)
    assert texts[0] == texts[1]
    assert "anonymised" in texts[0]
