"""Write a :class:`~volumeviz.report.document.Report` as one self-contained HTML file.

Images are embedded as base64 PNG ``data:`` URIs and the style sheet is inline, so the file can
be mailed or archived on its own: it loads nothing from anywhere. Every text is HTML-escaped.
The PNGs carry no text chunks (no metadata beyond their pixels).

Examples
--------
>>> import numpy as np
>>> from volumeviz.report.document import Figure, FigureGrid, Report, Section
>>> grid = FigureGrid((Figure(np.zeros((4, 4, 3)), "x"),))
>>> rep = Report("Demo <1>", (Section("Views", (grid,)),))
>>> text = render_html(rep)
>>> "<title>Demo &lt;1&gt;</title>" in text, "data:image/png;base64," in text
(True, True)
"""

from __future__ import annotations

import base64
import io
import os
from html import escape
from pathlib import Path

import numpy as np

from volumeviz import __version__
from volumeviz._atomic import atomic_path
from volumeviz.report.document import FigureGrid, Paragraph, Report, Table

__all__ = ["png_bytes", "render_html", "write_html"]

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 60em;
       color: #111; line-height: 1.35; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; }
p.subtitle { color: #444; margin-top: 0; }
h2 { font-size: 1.3em; border-bottom: 1px solid #bbb; margin-top: 1.6em; }
h3 { font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.5em 0 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
caption { caption-side: top; text-align: left; font-style: italic; padding-bottom: 0.3em; }
.grid { display: grid; gap: 0.6em; margin: 0.5em 0 1em 0; }
figure { margin: 0; }
figure img { width: 100%; height: auto; display: block; background: #000; }
figcaption { font-size: 0.85em; text-align: center; color: #333; }
.gridcaption { font-style: italic; font-size: 0.9em; }
"""


def png_bytes(image: np.ndarray) -> bytes:
    r"""Encode an RGB uint8 image as PNG bytes (no text chunks).

    Examples
    --------
    >>> png_bytes(np.zeros((2, 2, 3), np.uint8))[:4]
    b'\x89PNG'
    """
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def render_html(report: Report) -> str:
    """Return the report as an HTML5 string."""
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(report.title)}</title>",
        f'<meta name="generator" content="volumeviz {escape(__version__)}">',
    ]
    for key in ("author", "subject", "keywords"):
        if report.metadata.get(key):
            name = "description" if key == "subject" else key
            out.append(f'<meta name="{name}" content="{escape(report.metadata[key])}">')
    out += [f"<style>{_CSS}</style>", "</head>", "<body>", f"<h1>{escape(report.title)}</h1>"]
    if report.subtitle:
        out.append(f'<p class="subtitle">{escape(report.subtitle)}</p>')
    for section in report.sections:
        tag = "h2" if section.level <= 1 else "h3"
        out.append(f"<section><{tag}>{escape(section.title)}</{tag}>")
        for block in section.blocks:
            if isinstance(block, Paragraph):
                out.append(f"<p>{escape(block.text)}</p>")
            elif isinstance(block, Table):
                out.append(_table(block))
            elif isinstance(block, FigureGrid):
                out.append(_grid(block))
        out.append("</section>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _table(block: Table) -> str:
    parts = ["<table>"]
    if block.caption:
        parts.append(f"<caption>{escape(block.caption)}</caption>")
    if block.header is not None:
        cells = "".join(f"<th>{escape(c)}</th>" for c in block.header)
        parts.append(f"<thead><tr>{cells}</tr></thead>")
    parts.append("<tbody>")
    for row in block.rows:
        parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _grid(block: FigureGrid) -> str:
    parts = []
    if block.caption:
        parts.append(f'<p class="gridcaption">{escape(block.caption)}</p>')
    style = f"grid-template-columns: repeat({block.columns}, 1fr)"
    parts.append(f'<div class="grid" style="{style}">')
    for fig in block.figures:
        data = base64.b64encode(png_bytes(fig.image)).decode("ascii")
        rows, cols = fig.image.shape[:2]
        alt = escape(fig.alt or fig.caption, quote=True)
        parts.append(
            f'<figure><img src="data:image/png;base64,{data}" width="{cols}" height="{rows}" '
            f'alt="{alt}">'
        )
        if fig.caption:
            parts.append(f"<figcaption>{escape(fig.caption)}</figcaption>")
        parts.append("</figure>")
    parts.append("</div>")
    return "".join(parts)


def write_html(report: Report, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``report`` as self-contained HTML to ``path`` atomically and return the path.

    An existing file is an :class:`~volumeviz.errors.OutputError` unless ``overwrite``.
    """
    text = render_html(report)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
