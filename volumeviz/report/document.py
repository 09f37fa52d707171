"""The report document model: what a report says, independent of PDF or HTML.

A :class:`Report` is a title and a list of :class:`Section` s; a section holds blocks:
:class:`Paragraph`, :class:`Table` and :class:`FigureGrid` (RGB images with captions, laid out in
columns). The PDF and HTML writers (:mod:`volumeviz.report.pdf`, :mod:`volumeviz.report.html`)
turn the same document into either format, so both always say the same thing.

:class:`Layout` is the page geometry and print resolution: the builder asks it how many pixels
an image must have to print at ``dpi`` in a grid cell, and renders exactly that.

Examples
--------
>>> import numpy as np
>>> img = np.zeros((30, 40, 3), np.uint8)
>>> rep = Report(
...     "Phantom",
...     sections=(
...         Section("Series", (Table((("Modality", "CT"),), header=("Field", "Value")),)),
...         Section("Views", (FigureGrid((Figure(img, "anterior"),), columns=2),)),
...     ),
... )
>>> [s.title for s in rep.sections]
['Series', 'Views']
>>> "Modality" in rep.all_text()
True
>>> Layout(dpi=300).cell_px(columns=2, aspect=0.75)
(1039, 779)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from volumeviz.errors import UsageError
from volumeviz.model.deid import Redactor

__all__ = [
    "Block",
    "Figure",
    "FigureGrid",
    "Layout",
    "Paragraph",
    "Report",
    "Section",
    "Table",
    "as_rgb8",
]


def as_rgb8(image: np.ndarray, *, what: str = "image") -> np.ndarray:
    """Check and normalise an image to ``(rows, cols, 3)`` uint8 (grey is expanded to RGB).

    Examples
    --------
    >>> as_rgb8(np.zeros((2, 3), np.uint8)).shape
    (2, 3, 3)
    """
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise UsageError(f"{what}: need an RGB image (rows, cols, 3), got shape {arr.shape}")
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and float(np.nanmax(arr, initial=0)) <= 1.0:
            arr = np.clip(np.nan_to_num(arr) * 255.0 + 0.5, 0, 255)
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table of text cells; ``header`` is its first row, if any."""

    rows: tuple[tuple[str, ...], ...]
    header: tuple[str, ...] | None = None
    caption: str = ""

    def __post_init__(self) -> None:
        rows = tuple(tuple(str(c) for c in row) for row in self.rows)
        object.__setattr__(self, "rows", rows)
        if self.header is not None:
            object.__setattr__(self, "header", tuple(str(c) for c in self.header))
        widths = {len(r) for r in rows} | ({len(self.header)} if self.header else set())
        if len(widths) > 1:
            raise UsageError(f"table {self.caption!r}: rows have different lengths {widths}")


@dataclass(frozen=True, eq=False)
class Figure:
    """An RGB image with a caption.

    ``alt`` is the text alternative for HTML (defaults to the caption).
    """

    image: np.ndarray
    caption: str = ""
    alt: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "image", as_rgb8(self.image, what=f"figure {self.caption!r}"))

    @property
    def aspect(self) -> float:
        """Height / width of the image."""
        rows, cols = self.image.shape[:2]
        return rows / cols


@dataclass(frozen=True)
class FigureGrid:
    """Figures laid out left to right, ``columns`` per row."""

    figures: tuple[Figure, ...]
    columns: int = 2
    caption: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "figures", tuple(self.figures))
        if self.columns < 1:
            raise UsageError(f"figure grid: columns must be >= 1, got {self.columns}")


Block = Paragraph | Table | FigureGrid


@dataclass(frozen=True)
class Section:
    """A titled part of a report."""

    title: str
    blocks: tuple[Block, ...] = ()
    level: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))


@dataclass(frozen=True)
class Report:
    """A whole report: title, optional subtitle, sections and document metadata.

    ``metadata`` holds the file metadata the writers set (PDF Info dictionary / HTML ``<meta>``):
    keys ``author``, ``subject``, ``keywords``, ``creator``. ``problems`` lists, one line each,
    the series that could not be loaded or drawn (also shown in the report; the CLI exits 1).
    """

    title: str
    sections: tuple[Section, ...] = ()
    subtitle: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))

    def _repr_html_(self) -> str:
        """Jupyter: show the report inline, exactly as the HTML file shows it."""
        from volumeviz.report.html import render_html

        return render_html(self)

    def figures(self) -> Iterator[Figure]:
        """Every figure, in document order."""
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, FigureGrid):
                    yield from block.figures

    def texts(self) -> Iterator[str]:
        """Every piece of text the writers will print or store, metadata included."""
        yield self.title
        yield self.subtitle
        yield from self.metadata.values()
        for section in self.sections:
            yield section.title
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    yield block.text
                elif isinstance(block, Table):
                    yield block.caption
                    yield from block.header or ()
                    for row in block.rows:
                        yield from row
                else:
                    yield block.caption
                    for fig in block.figures:
                        yield fig.caption
                        yield fig.alt

    def all_text(self) -> str:
        """All text joined by newlines (for searching)."""
        return "\n".join(t for t in self.texts() if t)

    def scrubbed(self, redact: Redactor) -> Report:
        r"""Return a copy with every text passed through ``redact``.

        ``redact`` is a :class:`volumeviz.model.deid.Redactor`, the scrubber every output of
        volumeviz uses: person names part by part in any order and case, identifiers with or
        without separators, the patient's dates in any format and every other date.

        Examples
        --------
        >>> from volumeviz.model.deid import Identity, Redactor
        >>> rep = Report("Study of DOE^JOHN", (Section("Notes", (Paragraph("doe john, 42"),)),))
        >>> rep.scrubbed(Redactor(Identity(names=("DOE^JOHN",)))).all_text()
        'Study of [removed]\nNotes\n[removed], 42'
        """
        if not redact.active:
            return self
        s = redact

        def block(b: Block) -> Block:
            if isinstance(b, Paragraph):
                return Paragraph(s(b.text))
            if isinstance(b, Table):
                header = tuple(s(c) for c in b.header) if b.header else None
                rows = tuple(tuple(s(c) for c in row) for row in b.rows)
                return Table(rows, header=header, caption=s(b.caption))
            figs = tuple(
                dataclasses.replace(f, caption=s(f.caption), alt=s(f.alt)) for f in b.figures
            )
            return FigureGrid(figs, columns=b.columns, caption=s(b.caption))

        sections = tuple(
            Section(s(sec.title), tuple(block(b) for b in sec.blocks), sec.level)
            for sec in self.sections
        )
        return Report(
            s(self.title),
            sections,
            subtitle=s(self.subtitle),
            metadata={k: s(v) for k, v in self.metadata.items()},
            problems=tuple(s(p) for p in self.problems),
        )


@dataclass(frozen=True)
class Layout:
    """Page geometry (mm) and print resolution used by the builder and the PDF writer.

    Parameters
    ----------
    page
        ``"A4"`` or ``"Letter"``.
    margin_mm
        Margin on every side.
    gap_mm
        Space between figures in a grid.
    dpi
        Print resolution the images are rendered at (pixels per inch at their printed size).
    """

    page: str = "A4"
    margin_mm: float = 15.0
    gap_mm: float = 4.0
    dpi: int = 300

    _SIZES: ClassVar[dict[str, tuple[float, float]]] = {
        "a4": (210.0, 297.0),
        "letter": (215.9, 279.4),
    }

    def __post_init__(self) -> None:
        if self.page.lower() not in self._SIZES:
            raise UsageError(f"page {self.page!r}: use one of A4, Letter")
        if not 36 <= self.dpi <= 1200:
            raise UsageError(f"dpi {self.dpi}: use 36..1200 (300 is print quality)")

    @property
    def page_mm(self) -> tuple[float, float]:
        """Page width and height in mm."""
        return self._SIZES[self.page.lower()]

    @property
    def content_width_mm(self) -> float:
        """Width between the margins."""
        return self.page_mm[0] - 2 * self.margin_mm

    def cell_width_mm(self, columns: int) -> float:
        """Width of one cell of a grid with ``columns`` columns."""
        return (self.content_width_mm - self.gap_mm * (columns - 1)) / columns

    def cell_px(self, columns: int, aspect: float) -> tuple[int, int]:
        """``(width, height)`` in pixels for an image printed in a grid cell at :attr:`dpi`."""
        w_mm = self.cell_width_mm(columns)
        w = round(w_mm / 25.4 * self.dpi)
        return (w, max(1, round(w * aspect)))
