"""Write a :class:`~volumeviz.report.document.Report` as PDF (fpdf2): vector text, lossless images.

Text is set in the PDF core font Helvetica (real text: searchable, selectable, extracted by
``pdftotext``); characters outside Latin-1 are replaced by close ASCII equivalents. Images are
embedded losslessly (Flate) at their pixel size and placed so that they print at
:attr:`Layout.dpi`. The PDF Info dictionary gets the report's title and metadata and nothing
else; no XMP packet is written.

Examples
--------
>>> import tempfile, pathlib
>>> import numpy as np
>>> from volumeviz.report.document import Figure, FigureGrid, Report, Section
>>> img = np.full((60, 80, 3), 200, np.uint8)
>>> rep = Report("Demo", (Section("Views", (FigureGrid((Figure(img, "grey"),)),)),))
>>> out = pathlib.Path(tempfile.mkdtemp()) / "demo.pdf"
>>> write_pdf(rep, out, layout=Layout(dpi=72)) == out
True
>>> out.read_bytes()[:5]
b'%PDF-'
"""

from __future__ import annotations

import datetime as _dt
import os
import unicodedata
from pathlib import Path
from typing import Any

from volumeviz._atomic import atomic_path
from volumeviz.report.document import FigureGrid, Layout, Paragraph, Report, Table

__all__ = ["latin1", "write_pdf"]

_REPLACE = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u2192": "->",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2248": "~",
    "\u2260": "!=",
    "\u00a0": " ",
}


def latin1(text: str) -> str:
    """Text the PDF core fonts can show: Latin-1, with common symbols spelled in ASCII.

    Examples
    --------
    >>> latin1("spacing 1.14\u20137.38 mm, tilt 18.5\u00b0 \u2192 resampled")
    'spacing 1.14-7.38 mm, tilt 18.5\u00b0 -> resampled'
    """
    out = []
    for ch in str(text):
        ch = _REPLACE.get(ch, ch)
        if len(ch) == 1 and ord(ch) > 255:
            decomposed = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore")
            ch = decomposed.decode("latin-1") or "?"
        out.append(ch)
    return "".join(out)


def write_pdf(
    report: Report,
    path: str | os.PathLike[str],
    *,
    layout: Layout | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``report`` to ``path`` atomically and return the path.

    Parameters
    ----------
    report
        The document.
    path
        Output file (its folder must exist).
    layout
        Page size, margins and the print resolution images are placed at (default A4, 300 dpi).
    overwrite
        Replace an existing file (otherwise :class:`~volumeviz.errors.OutputError`).
    """
    from fpdf import FPDF  # local: fpdf2 is only needed when a PDF is written
    from PIL import Image

    layout = layout or Layout()
    pdf = FPDF(orientation="P", unit="mm", format=layout.page.upper())
    m = layout.margin_mm
    pdf.set_margins(m, m, m)
    pdf.set_auto_page_break(auto=True, margin=m)
    pdf.set_title(latin1(report.title))
    meta = report.metadata
    if meta.get("author"):
        pdf.set_author(latin1(meta["author"]))
    if meta.get("subject"):
        pdf.set_subject(latin1(meta["subject"]))
    if meta.get("keywords"):
        pdf.set_keywords(latin1(meta["keywords"]))
    pdf.set_creator(latin1(meta.get("creator", "volumeviz")))
    # the report's own time, or none (the Unix epoch) for an anonymised one: the day a report
    # is made may be the day of the visit
    created = report.metadata.get("created", "")
    pdf.set_creation_date(
        _dt.datetime.fromisoformat(created)
        if created
        else _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    )
    pdf.add_page()

    width = layout.content_width_mm
    pdf.set_font("Helvetica", style="B", size=18)
    pdf.multi_cell(width, 9, latin1(report.title), new_x="LMARGIN", new_y="NEXT")
    if report.subtitle:
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(width, 6, latin1(report.subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    for section in report.sections:
        size = 14 if section.level <= 1 else 12
        _need(pdf, 20)
        pdf.set_font("Helvetica", style="B", size=size)
        pdf.multi_cell(width, 7, latin1(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                pdf.set_font("Helvetica", size=10)
                pdf.multi_cell(width, 5, latin1(block.text), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            elif isinstance(block, Table):
                _table(pdf, block)
            elif isinstance(block, FigureGrid):
                _grid(pdf, block, layout, Image)
        pdf.ln(2)

    with atomic_path(path, overwrite=overwrite) as tmp:
        pdf.output(str(tmp))
    return Path(path)


def _need(pdf: Any, height_mm: float) -> None:
    """Start a new page unless ``height_mm`` still fits on this one."""
    if pdf.get_y() + height_mm > pdf.page_break_trigger:
        pdf.add_page()


def _table(pdf: Any, block: Table) -> None:
    if block.caption:
        _need(pdf, 5 + 6 * min(3, len(block.rows) + 1))  # a caption never ends a page alone
        pdf.set_font("Helvetica", style="I", size=9)
        pdf.multi_cell(0, 5, latin1(block.caption), new_x="LMARGIN", new_y="NEXT")
    rows = list(block.rows)
    if not rows and block.header is None:
        return
    pdf.set_font("Helvetica", size=9)
    ncols = len(block.header) if block.header else len(rows[0])
    col_widths = (1, 2) if ncols == 2 else None
    with pdf.table(
        col_widths=col_widths,
        text_align="LEFT",
        first_row_as_headings=block.header is not None,
        line_height=5,
        padding=1,
    ) as table:
        if block.header is not None:
            r = table.row()
            for cell in block.header:
                r.cell(latin1(cell))
        for row in rows:
            r = table.row()
            for cell in row:
                r.cell(latin1(cell))
    pdf.ln(3)


#: a figure row that does not fit the rest of a page is shrunk down to this scale before it
#: moves to the next page (so a page is not left three-quarters empty for a slightly tall row)
MIN_FIT_SCALE = 0.6


def _row_scale(pdf: Any, row_h: float, caption_h: float, full_page_h: float) -> float:
    """The scale a row of natural height ``row_h`` is placed at, starting a page if needed.

    At most 1 (never enlarged), at most what a whole page holds; where the rest of the current
    page holds the row at :data:`MIN_FIT_SCALE` or more, it goes there, shrunk to fit.
    """
    scale = min(1.0, full_page_h / row_h)
    room = pdf.page_break_trigger - pdf.get_y() - caption_h - 2
    if row_h * scale <= room:
        return scale
    if room >= MIN_FIT_SCALE * row_h * scale:
        return room / row_h
    pdf.add_page()
    return scale


def _grid(pdf: Any, block: FigureGrid, layout: Layout, image_module: Any) -> None:
    """Place a grid of figures, row by row, at the column width.

    A row that does not fit the rest of the page is shrunk to fit (down to
    :data:`MIN_FIT_SCALE`, centred) rather than leaving the page mostly empty.
    """
    cols = block.columns
    cell_w = layout.cell_width_mm(cols)
    figs = list(block.figures)
    caption_h = 5.0 if any(f.caption for f in figs) else 0.0
    full_page_h = pdf.page_break_trigger - pdf.t_margin - caption_h - 8
    if block.caption:
        # keep the grid's caption on the page of its first row
        first_h = max((cell_w * f.aspect for f in figs[:cols]), default=0.0)
        first_h = min(first_h, full_page_h)
        _need(pdf, 6 + MIN_FIT_SCALE * first_h + caption_h)
        pdf.set_font("Helvetica", style="I", size=9)
        pdf.multi_cell(0, 5, latin1(block.caption), new_x="LMARGIN", new_y="NEXT")
    for start in range(0, len(figs), cols):
        row = figs[start : start + cols]
        row_h = max(cell_w * f.aspect for f in row)
        scale = _row_scale(pdf, row_h, caption_h, full_page_h)
        y = pdf.get_y()
        w = cell_w * scale
        row_w = len(row) * w + (len(row) - 1) * layout.gap_mm
        x0 = layout.margin_mm + max(0.0, (layout.content_width_mm - row_w) / 2) * (scale < 1)
        for n, fig in enumerate(row):
            x = x0 + n * (w + layout.gap_mm)
            h = w * fig.aspect
            pdf.image(image_module.fromarray(fig.image), x=x, y=y, w=w, h=h)
            if fig.caption:
                pdf.set_font("Helvetica", size=8)
                pdf.set_xy(x, y + h + 0.5)
                pdf.cell(w, 4, latin1(fig.caption), align="C")
        pdf.set_xy(layout.margin_mm, y + row_h * scale + caption_h + 2)
