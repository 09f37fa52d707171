"""The report document model and its PDF / HTML writers (checked with poppler)."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image
from report_helpers import run

from volumeviz.errors import OutputError, UsageError
from volumeviz.model.deid import Identity, Redactor
from volumeviz.report.document import (
    Figure,
    FigureGrid,
    Layout,
    Paragraph,
    Report,
    Section,
    Table,
    as_rgb8,
)
from volumeviz.report.html import render_html, write_html
from volumeviz.report.pdf import latin1, write_pdf


def _picture(w: int, h: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    img[: h // 4, : w // 4] = (255, 0, 0)  # a red corner, to find the image again
    return img


def _report(dpi: int = 100) -> tuple[Report, Layout]:
    layout = Layout(dpi=dpi)
    size = layout.cell_px(2, 0.75)
    figs = tuple(Figure(_picture(*size, n), f"view {n}") for n in range(3))
    rep = Report(
        "Quality check: spine phantom",
        (
            Section(
                "Series 1 (CT): AXIAL 1.25 mm",
                (
                    Table(
                        (("Modality", "CT"), ("Spacing (mm)", "0.5 x 0.5 x 1.25")),
                        header=("Field", "Value"),
                    ),
                    Paragraph("Slice spacing varies 1.14\u20137.38 mm; tilt 18.5\u00b0."),
                    FigureGrid(figs, columns=2, caption="3D views"),
                ),
            ),
        ),
        subtitle="made by a test",
        metadata={"subject": "spine phantom QA", "creator": "volumeviz test"},
    )
    return rep, layout


def test_layout_pixels_follow_dpi():
    a4 = Layout(dpi=300)
    assert a4.content_width_mm == pytest.approx(180.0)
    w, h = a4.cell_px(2, 0.75)
    assert w == round(88 / 25.4 * 300)
    assert h == round(w * 0.75)
    assert Layout(dpi=150).cell_px(2, 0.75)[0] == pytest.approx(w / 2, abs=1)
    with pytest.raises(UsageError, match="dpi"):
        Layout(dpi=5)
    with pytest.raises(UsageError, match="page"):
        Layout(page="A7")


def test_as_rgb8_and_table_checks():
    assert as_rgb8(np.ones((2, 2), float)).max() == 255
    assert as_rgb8(np.zeros((2, 2, 4), np.uint8)).shape == (2, 2, 3)
    with pytest.raises(UsageError, match="RGB image"):
        as_rgb8(np.zeros((2, 2, 2, 2)))
    with pytest.raises(UsageError, match="different lengths"):
        Table((("a", "b"), ("c",)))


def test_scrub_removes_names_in_every_form():
    rep = Report(
        "Report for DOE^JANE",
        (
            Section(
                "Doe Jane",
                (
                    Table(
                        (("Patient", "DOE JANE"), ("ID", "pid-778899")),
                    ),
                ),
            ),
        ),
        metadata={"subject": "jane doe's scan"},
    )
    redact = Redactor(Identity(names=("DOE^JANE",), ids=("PID-778899", "F")))
    out = rep.scrubbed(redact).all_text().lower()
    assert "doe" not in out
    assert "jane" not in out
    assert "778899" not in out
    assert "patient" in out  # ordinary words stay; a 1-letter identifier is ignored


def test_pdf_text_pages_and_images(tmp_path, poppler):
    rep, layout = _report(dpi=100)
    out = write_pdf(rep, tmp_path / "r.pdf", layout=layout)
    text = run(poppler["pdftotext"], "-layout", str(out), "-")
    assert "Quality check: spine phantom" in text
    assert "0.5 x 0.5 x 1.25" in text
    assert "view 2" in text
    assert "1.14-7.38 mm" in text
    assert "18.5\u00b0" in text
    fonts = run("pdffonts", str(out))
    assert "Helvetica" in fonts  # real text in a PDF font, not pixels
    info = run(poppler["pdfinfo"], str(out))
    assert re.search(r"^Title:\s+Quality check: spine phantom$", info, re.M)
    assert re.search(r"^Subject:\s+spine phantom QA$", info, re.M)
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))
    assert pages >= 1
    # every image is embedded at its full pixel size and placed at the layout's dpi
    listing = run(poppler["pdfimages"], "-list", str(out)).splitlines()[2:]
    assert len(listing) == 3
    w, h = layout.cell_px(2, 0.75)
    for row in listing:
        cols = row.split()
        assert (int(cols[3]), int(cols[4])) == (w, h)
        assert abs(int(cols[12]) - layout.dpi) <= 2  # x-ppi
    # rendered pages are not blank, and the picture's red corner is there
    run(poppler["pdftoppm"], "-r", "40", "-png", str(out), str(tmp_path / "page"))
    page1 = np.asarray(Image.open(sorted(tmp_path.glob("page*.png"))[0]).convert("RGB"))
    assert page1.std() > 20
    red = (page1[..., 0] > 200) & (page1[..., 1] < 60) & (page1[..., 2] < 60)
    assert red.sum() > 20


def test_pdf_does_not_overwrite(tmp_path):
    rep, layout = _report(dpi=50)
    out = write_pdf(rep, tmp_path / "r.pdf", layout=layout)
    before = out.read_bytes()
    with pytest.raises(OutputError, match="exists"):
        write_pdf(rep, out, layout=layout)
    assert out.read_bytes() == before
    write_pdf(rep, out, layout=layout, overwrite=True)
    assert list(tmp_path.iterdir()) == [out]  # no temporary left behind


def test_pdf_missing_folder_is_one_clear_error(tmp_path):
    rep, layout = _report(dpi=50)
    with pytest.raises(OutputError, match="does not exist"):
        write_pdf(rep, tmp_path / "nope" / "r.pdf", layout=layout)


def test_latin1_keeps_what_core_fonts_show():
    assert latin1("\u00b5m \u00d7 2 \u2264 3 \u65e5") == "\u00b5m \u00d7 2 <= 3 ?"


def test_html_is_self_contained_and_lossless(tmp_path):
    rep, _ = _report(dpi=50)
    out = write_html(rep, tmp_path / "r.html")
    text = out.read_text(encoding="utf-8")
    assert "<title>Quality check: spine phantom</title>" in text
    assert "1.14\u20137.38 mm" in text
    assert not re.search(r"""(src|href)=["'](?!data:)""", text)  # nothing loaded from outside
    datas = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(datas) == 3
    png = Image.open(io.BytesIO(base64.b64decode(datas[0])))
    assert png.text == {}  # no metadata chunks in the embedded images
    first = np.asarray(png.convert("RGB"))
    np.testing.assert_array_equal(first, rep.sections[0].blocks[2].figures[0].image)


def test_html_escapes_text():
    rep = Report("<script>alert(1)</script>", (Section("a & b", (Paragraph("<b>x</b>"),)),))
    text = render_html(rep)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "a &amp; b" in text


def test_report_shows_itself_in_jupyter():
    rep, _ = _report(dpi=40)
    assert rep._repr_html_() == render_html(rep)
