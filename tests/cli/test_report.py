"""``volumeviz report``: PDF and HTML from the bundled sample and from a phantom series.

The PDF is checked with poppler: text present (pdftotext), pages rendered and not blank
(pdftoppm), images at print resolution (pdfimages), metadata (pdfinfo).
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from volumeviz.cli.main import main
from volumeviz.model import phantom

pytestmark = pytest.mark.render

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "ct-head"
SAMPLE_IDENTITY = ("HEAD PLASTIC", "HEAD^PLASTIC", "PLASTIC", "QMC", "20150206", "2015-02-06")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} missing: apt-get install poppler-utils")
    return path


def _out(*args: str) -> str:
    res = subprocess.run([_tool(args[0]), *args[1:]], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process; return (exit code, stdout, stderr)."""
    try:
        code = main(list(args)) or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory) -> Path:
    from volumeviz.io.synth import write_synthetic_series

    folder = tmp_path_factory.mktemp("phantom") / "series"
    vol = phantom.asymmetric(32, spacing=(1.0, 1.0, 2.0))
    write_synthetic_series(
        vol, folder, patient_name="ROE^RICHARD", patient_id="RR-4242", description="PHANTOM AX"
    )
    return folder


def _pages(pdf: Path, tmp_path: Path) -> list[np.ndarray]:
    _out("pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page"))
    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(tmp_path.glob("page*.png"))]


def test_report_of_the_sample_anonymised_pdf(tmp_path, capsys):
    out = tmp_path / "sample.pdf"
    code, stdout, stderr = cli(
        capsys,
        "report",
        str(SAMPLE),
        "-o",
        str(out),
        "--anonymize",
        "--dpi",
        "60",
        "--preset",
        "bone",
        "--template",
        "brief",
    )
    assert code == 0, stderr
    assert stdout.strip() == str(out)
    text = _out("pdftotext", "-layout", str(out), "-")
    assert "512 x 512 x 28" in text  # the series metadata table
    assert "What the loader found" in text
    assert "MPR quad" in text
    assert "3D, preset bone, anterior view" in text
    info = _out("pdfinfo", str(out)) + _out("pdfinfo", "-meta", str(out))
    everything = (text + info).upper()
    for word in SAMPLE_IDENTITY:
        assert word not in everything, word
    assert str(SAMPLE).upper() not in everything  # no source path either
    pages = _pages(out, tmp_path)
    assert len(pages) >= 2
    # images are there and not blank: dark rendered pixels on a white page, with some colour
    dark = [(p.mean(axis=2) < 60).mean() for p in pages]
    assert max(dark) > 0.05
    listing = _out("pdfimages", "-list", str(out)).splitlines()[2:]
    assert len(listing) == 2  # one 3D view and the quad (brief template)
    for row in listing:
        assert abs(int(row.split()[12]) - 60) <= 2  # placed at the requested print dpi


def test_report_not_anonymised_names_the_patient(tmp_path, capsys, phantom_dir):
    out = tmp_path / "r.pdf"
    code, _, stderr = cli(
        capsys, "report", str(phantom_dir), "-o", str(out), "--dpi", "40", "--preset", "bone"
    )
    assert code == 0, stderr
    text = _out("pdftotext", str(out), "-")
    assert "ROE^RICHARD" in text
    assert "Key slices" in text  # standard template
    assert "32 x 32 x 32" in text


def test_report_html_from_a_phantom_is_self_contained(tmp_path, capsys, phantom_dir):
    out = tmp_path / "r.html"
    code, _, stderr = cli(
        capsys,
        "report",
        str(phantom_dir),
        "-o",
        str(out),
        "--dpi",
        "40",
        "--anonymize",
        "--preset",
        "bone",
        "--view",
        "left",
    )
    assert code == 0, stderr
    html = out.read_text(encoding="utf-8")
    text = re.sub(r"data:image/png;base64,[^\"]+", "", html).upper()  # base64 is not text
    assert "ROE" not in text
    assert "RICHARD" not in text
    assert "RR-4242" not in text
    assert not re.search(r"""(src|href)=["'](?!data:)""", html)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) >= 4  # 3D view, quad, key slices
    quad = np.asarray(Image.open(io.BytesIO(base64.b64decode(images[1]))).convert("RGB"))
    assert quad.std() > 10  # a real picture, not a blank
    assert "3D, preset bone, left view" in html


def test_existing_output_is_kept_unless_forced(tmp_path, capsys, phantom_dir):
    out = tmp_path / "r.html"
    out.write_text("keep me")
    code, _, stderr = cli(capsys, "report", str(phantom_dir), "-o", str(out))
    assert code == 2
    assert "exists" in stderr
    assert "--force" in stderr
    assert out.read_text() == "keep me"
    code, _, stderr = cli(
        capsys,
        "report",
        str(phantom_dir),
        "-o",
        str(out),
        "--force",
        "--dpi",
        "36",
        "--template",
        "brief",
        "--preset",
        "bone",
    )
    assert code == 0, stderr
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["MISSING", "-o", "r.pdf"], 1, "MISSING"),
        (["PHANTOM", "-o", "r.docx"], 2, ".pdf or .html"),
        (["PHANTOM", "-o", "r.pdf", "--preset", "bones"], 2, "bone"),
        (["PHANTOM", "-o", "r.pdf", "--template", "fancy"], 2, "built-in template"),
        (["PHANTOM", "-o", "nofolder/r.pdf"], 2, "does not exist"),
    ],
)
def test_bad_input_is_one_line(tmp_path, capsys, phantom_dir, args, code, words, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [str(phantom_dir) if a == "PHANTOM" else a for a in args]
    got, _, stderr = cli(capsys, "report", *args)
    assert got == code, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert words in lines[0]
    assert "Traceback" not in stderr


def test_secondary_capture_series(tmp_path, capsys, phantom_dir):
    import pydicom

    sc = tmp_path / "sc"
    code, _stdout, stderr = cli(
        capsys,
        "report",
        str(phantom_dir),
        "-o",
        str(tmp_path / "r.pdf"),
        "--dpi",
        "36",
        "--template",
        "brief",
        "--preset",
        "bone",
        "--anonymize",
        "--secondary-capture",
        str(sc),
    )
    assert code == 0, stderr
    files = sorted(sc.glob("*.dcm"))
    assert len(files) == 2
    dss = [pydicom.dcmread(f) for f in files]
    assert len({ds.SeriesInstanceUID for ds in dss}) == 1
    assert [int(ds.InstanceNumber) for ds in dss] == [1, 2]
    source_study = pydicom.dcmread(next(phantom_dir.iterdir())).StudyInstanceUID
    for ds in dss:
        assert "ROE" not in str(ds.PatientName).upper()
        assert ds.PatientID != "RR-4242"
        assert ds.StudyInstanceUID != source_study  # not linkable to the patient's study
        assert ds.pixel_array.shape[2] == 3
