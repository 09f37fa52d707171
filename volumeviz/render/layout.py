"""Where the words go: a small model that places annotation text in a cell without overlap.

Every picture with text uses it (``volumeviz screenshot``, the quad, :class:`~volumeviz.Scene`
cells, report images, the window's panels): a :class:`CellText` says what to show (lines with a
priority in four corners, orientation letters at the edge middles, reserved boxes such as the
scale bar and the orientation marker), :func:`layout_cell` sizes the text from the cell's pixels
and the output dpi and places it, and :mod:`volumeviz.render.annotations` draws the result.

Sizes. Body text is ``2.2%`` of the cell's geometric mean side, never below 7.5 pt nor above 14 pt
at the output dpi (so a report printed at 300 dpi keeps 7.5 pt text, and a 1600x1200 screenshot
gets larger text than a 320x240 cell); letters are 1.4 times larger.

Space. Corner lines are stacked from their corner inwards; a line too wide for its corner is cut
with an ellipsis (``elide``) or dropped. Then, while two boxes intersect (or a box leaves the
cell), the lowest-priority line among them and the stacks they belong to (dropping any line of a
stack moves the rest towards the corner) is dropped, so the less important lines go first and
nothing ever overlaps. Boxes are in pixels with the origin at the cell's top-left corner.

How to add a line (for other modules): ``cell.add("lower_left", redact(text), Priority.INDEX)``
on the :class:`CellText` that :func:`volumeviz.render.annotations.plane_text` /
:func:`~volumeviz.render.annotations.volume_text` returns, before it is drawn; the text must be
:class:`~volumeviz.model.deid.SafeText` (through the picture's redactor). Pick the priority from
:class:`Priority` (or between two of them).

Examples
--------
>>> def measure(text: str, px: int, bold: bool) -> tuple[int, int]:
...     return (len(text) * px // 2, px)  # a stand-in font: half a pixel-size per character
>>> cell = CellText(letters={"top": "A", "bottom": "P", "left": "R", "right": "L"})
>>> _ = cell.add("upper_left", "a long series description", Priority.DESCRIPTION)
>>> _ = cell.add("lower_left", "axial", Priority.PLANE)
>>> lay = layout_cell(cell, (200, 150), measure=measure)
>>> lay.font_px, [p.text for p in lay.placed if p.kind == "line"]
(10, ['a long series de…', 'axial'])
>>> lay.overlaps()
[]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

#: ``measure(text, font_px, bold) -> (width, height)`` in pixels
Measure = Callable[[str, int, bool], tuple[int, int]]

CORNERS = ("upper_left", "upper_right", "lower_left", "lower_right")
EDGES = ("top", "bottom", "left", "right")
#: body text as a fraction of sqrt(cell width * cell height)
BODY_FRACTION = 0.022
MIN_PT = 7.5
MAX_PT = 14.0
LETTER_SCALE = 1.4
SCREEN_DPI = 96.0
ELLIPSIS = "…"


class Priority:
    """How important a line is: when space is short the lowest goes first.

    Geometry that keeps a picture from being misread (letters, the scale bar, a note that the
    geometry is unknown, what the loader did to the data) outranks everything else.
    """

    LETTERS = 100
    GEOMETRY_NOTE = 95
    SCALE_BAR = 90
    MARKER = 90
    LOADER_ACTION = 85
    PLANE = 80
    INDEX = 78
    SLAB = 75
    MEASUREMENT = 72
    POSITION = 70
    WINDOW = 60
    LEGEND = 55
    PRESET = 50
    DESCRIPTION = 45
    CAMERA = 40
    MODALITY = 35
    PATIENT_NAME = 30
    PATIENT_ID = 25
    DATE = 20
    INSTITUTION = 10


@dataclass(frozen=True, slots=True)
class Box:
    """A pixel rectangle ``[x0, x1) x [y0, y1)`` with the origin at the cell's top-left."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        """Width in pixels."""
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        """Height in pixels."""
        return self.y1 - self.y0

    def intersects(self, other: Box) -> bool:
        """True when the two rectangles share any area (touching edges do not count).

        Examples
        --------
        >>> Box(0, 0, 10, 10).intersects(Box(10, 0, 20, 10)), Box(0, 0, 10, 10).intersects(
        ...     Box(9, 9, 20, 20))
        (False, True)
        """
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def inside(self, width: float, height: float) -> bool:
        """True when the box lies within a ``width`` x ``height`` cell."""
        return self.x0 >= 0 and self.y0 >= 0 and self.x1 <= width and self.y1 <= height


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text in a corner: the words, how important, and what to do when too wide.

    ``wrap``: break it at spaces onto more lines (for text that must be read whole, such as
    what the loader did); else ``elide``: cut it short with an ellipsis; else drop it.
    """

    text: str
    priority: int
    elide: bool = True
    wrap: bool = False
    color: tuple[float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class Reserved:
    """A non-text item with a fixed place: ``"scalebar"`` or ``"marker"``.

    ``corner`` is where it sits; ``size`` its ``(width, height)`` in pixels, or ``None`` to let
    the layout size it (a marker: a square of about a fifth of the cell's smaller side).
    ``label`` is text drawn above it (a scale bar's ``"50 mm"``).
    """

    name: str
    corner: str
    priority: int
    size: tuple[float, float] | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Label:
    """Text that belongs next to a point of the picture (a measurement's value).

    ``anchor`` is that point in cell pixels (origin top-left). The layout puts the text beside
    it (above right, above left, below right, below left, above, below: the first place free of
    everything else), never over letters, the scale bar, the marker, corner lines or another
    label; when no place is free the lowest priority item in the way goes first.
    """

    text: str
    anchor: tuple[float, float]
    priority: int
    color: tuple[float, float, float] | None = None


@dataclass
class CellText:
    """What one cell shows: corner lines, edge letters, reserved boxes and labels at points."""

    corners: dict[str, list[Line]] = field(default_factory=lambda: {c: [] for c in CORNERS})
    letters: dict[str, str] = field(default_factory=dict)
    reserved: list[Reserved] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    #: polylines drawn on the picture (cell pixels) that labels should not cover: measurements
    drawn: list[tuple[tuple[float, float], ...]] = field(default_factory=list)

    def add(
        self,
        corner: str,
        text: str,
        priority: int,
        *,
        elide: bool = True,
        wrap: bool = False,
        color: tuple[float, float, float] | None = None,
    ) -> CellText:
        """Append a line to a corner's stack (top to bottom as read); returns ``self``.

        ``color`` (RGB 0..1) draws it in that colour instead of the text colour (a legend).
        """
        if corner not in CORNERS:
            raise ValueError(f"corner must be one of {', '.join(CORNERS)}, got {corner!r}")
        for part in str(text).split("\n"):
            if part.strip():
                self.corners[corner].append(Line(part, int(priority), elide, wrap, color))
        return self

    def add_lines(self, corner: str, lines: Iterable[tuple[str, int]]) -> CellText:
        """Append several ``(text, priority)`` lines to a corner."""
        for text, priority in lines:
            self.add(corner, text, priority)
        return self

    def add_label(
        self,
        text: str,
        anchor_px: tuple[float, float],
        priority: int = Priority.MEASUREMENT,
        *,
        color: tuple[float, float, float] | None = None,
    ) -> CellText:
        """Add a label placed beside ``anchor_px`` (cell pixels, origin top-left); ``self``.

        Used for measurement values (:mod:`volumeviz.render.markups`, the window's tools). A
        label whose anchor is outside the cell is not shown (its point is not in the picture).
        """
        text = str(text).replace("\n", " ").strip()
        if text:
            x, y = (float(v) for v in anchor_px)
            self.labels.append(Label(text, (x, y), int(priority), color))
        return self

    def keep_clear(self, polyline_px: Iterable[tuple[float, float]]) -> CellText:
        """Ask labels not to cover a drawn polyline (cell pixels): a measurement's lines.

        A label goes over it only when every place near its point is taken.
        """
        pts = tuple((float(x), float(y)) for x, y in polyline_px)
        if pts:
            self.drawn.append(pts)
        return self

    def reserve(self, item: Reserved) -> CellText:
        """Keep a box free for a non-text item (scale bar, orientation marker)."""
        self.reserved.append(item)
        return self

    def texts(self) -> dict[str, str]:
        """Each corner's lines joined (what would show with room for everything)."""
        corners = self.corners.items()
        return {c: "\n".join(ln.text for ln in lines) for c, lines in corners if lines}


@dataclass(frozen=True, slots=True)
class Placed:
    """One item placed (``kind``: line, letter, label, point or a reserved name).

    ``"label"`` is a reserved item's text (the scale bar's length), ``"point"`` a
    :class:`Label` beside its anchor (a measurement's value).
    """

    kind: str
    name: str
    text: str
    box: Box
    font_px: int
    align: str  # "left", "right" or "center"
    priority: int
    color: tuple[float, float, float] | None = None


@dataclass
class CellLayout:
    """The result of :func:`layout_cell`: placed boxes, the sizes used and what was dropped."""

    size: tuple[int, int]
    font_px: int
    letter_px: int
    margin: int
    placed: list[Placed]
    dropped: list[str]

    def overlaps(self) -> list[tuple[str, str]]:
        """Names of every pair of placed boxes that intersect (empty for a good layout)."""
        out = []
        for n, a in enumerate(self.placed):
            for b in self.placed[n + 1 :]:
                if a.box.intersects(b.box):
                    out.append((a.name, b.name))
        return out

    def shown(self, corner: str) -> str:
        """The lines of ``corner`` that were kept, joined (for tests and metadata)."""
        lines = [p for p in self.placed if p.kind == "line" and p.name.startswith(corner + ":")]
        return "\n".join(p.text for p in sorted(lines, key=lambda p: p.box.y0))

    def point_labels(self) -> list[Placed]:
        """The :class:`Label` items placed beside their points (measurement values)."""
        return [p for p in self.placed if p.kind == "point"]

    def find(self, name: str) -> Placed | None:
        """The placed item called ``name`` (``"letter:top"``, ``"scalebar"``), or None."""
        for p in self.placed:
            if p.name == name:
                return p
        return None


def font_px(size: tuple[int, int], dpi: float = SCREEN_DPI) -> int:
    """Body text height in pixels for a cell of ``size`` pixels shown or printed at ``dpi``.

    Examples
    --------
    >>> font_px((320, 240)), font_px((800, 600)), font_px((1600, 1200))
    (10, 15, 19)
    >>> font_px((1000, 750), dpi=300)  # a report figure: at least 7.5 pt in print
    32
    """
    w, h = size
    lo = MIN_PT * dpi / 72.0
    hi = max(MAX_PT * dpi / 72.0, lo)
    return max(round(min(max(BODY_FRACTION * math.sqrt(w * h), lo), hi)), math.ceil(lo - 1e-6))


def _elide(text: str, max_w: float, px: int, measure: Measure) -> str:
    if measure(text, px, False)[0] <= max_w:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if measure(text[:mid].rstrip() + ELLIPSIS, px, False)[0] <= max_w:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS if lo >= 3 else ""


def _wrap(text: str, max_w: float, px: int, measure: Measure) -> list[str]:
    """Break ``text`` at spaces into lines no wider than ``max_w`` (a long word stays whole)."""
    out: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if current and measure(trial, px, False)[0] > max_w:
            out.append(current)
            current = "  " + word  # continuation lines are indented
        else:
            current = trial
    if current:
        out.append(current)
    return out


def _covers(box: Box, polyline: tuple[tuple[float, float], ...], pad: float = 1.5) -> bool:
    """True when ``polyline`` (pixels) passes through ``box`` grown by ``pad`` pixels."""
    x0, y0, x1, y1 = box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad
    if len(polyline) == 1:
        ((x, y),) = polyline
        return x0 <= x <= x1 and y0 <= y <= y1
    for (ax, ay), (bx, by) in itertools.pairwise(polyline):
        if max(ax, bx) < x0 or min(ax, bx) > x1 or max(ay, by) < y0 or min(ay, by) > y1:
            continue
        n = max(2, math.ceil(math.hypot(bx - ax, by - ay)))  # a sample a pixel
        for t in range(n + 1):
            x, y = ax + (bx - ax) * t / n, ay + (by - ay) * t / n
            if x0 <= x <= x1 and y0 <= y <= y1:
                return True
    return False


def _corner_of(p: Placed, w: float, h: float) -> str:
    """The corner a placed box belongs to (by its centre)."""
    cx, cy = (p.box.x0 + p.box.x1) / 2, (p.box.y0 + p.box.y1) / 2
    return ("upper" if cy < h / 2 else "lower") + ("_left" if cx < w / 2 else "_right")


def layout_cell(
    cell: CellText,
    size: tuple[int, int],
    *,
    dpi: float = SCREEN_DPI,
    measure: Measure,
) -> CellLayout:
    """Size and place ``cell``'s text in a ``size = (width, height)`` pixel cell; never overlap.

    Parameters
    ----------
    cell
        What to show.
    size
        The cell in pixels.
    dpi
        Resolution the picture is shown or printed at (sets the minimum text size).
    measure
        ``measure(text, font_px, bold) -> (width, height)`` in pixels, from the font that will
        draw the text (:func:`volumeviz.render.annotations.vtk_measure` for VTK pictures).

    Returns
    -------
    CellLayout
        Placed boxes (none intersect, all inside the cell) and the lines dropped for space.
    """
    w, h = int(size[0]), int(size[1])
    px = font_px((w, h), dpi)
    lpx = round(px * LETTER_SCALE)
    m = max(2, round(px * 0.4))
    line_h = measure("Ag", px, False)[1]
    fixed: list[Placed] = []
    # letters at the edge middles
    for edge, text in cell.letters.items():
        if not text:
            continue
        tw, th = measure(text, lpx, True)
        if edge == "top":
            box = Box((w - tw) / 2, m, (w + tw) / 2, m + th)
        elif edge == "bottom":
            box = Box((w - tw) / 2, h - m - th, (w + tw) / 2, h - m)
        elif edge == "left":
            box = Box(m, (h - th) / 2, m + tw, (h + th) / 2)
        else:
            box = Box(w - m - tw, (h - th) / 2, w - m, (h + th) / 2)
        fixed.append(
            Placed("letter", f"letter:{edge}", text, box, lpx, "center", Priority.LETTERS)
        )
    # reserved items in their corners (their label above them)
    for item in cell.reserved:
        if item.size is None:
            side = max(3.2 * lpx, 0.2 * min(w, h))
            iw, ih = side, side
        else:
            iw, ih = item.size
        lw, lh = measure(item.label, px, False) if item.label else (0, 0)
        right = item.corner.endswith("right")
        lower = item.corner.startswith("lower")
        y1 = h - m if lower else m + lh + ih
        x1 = w - m if right else m + max(iw, lw)
        box = Box(x1 - iw if right else m, y1 - ih, x1 if right else m + iw, y1)
        fixed.append(Placed(item.name, item.name, "", box, px, "center", item.priority))
        if item.label:
            cx = (box.x0 + box.x1) / 2
            lbox = Box(cx - lw / 2, box.y0 - lh, cx + lw / 2, box.y0)
            if right and lbox.x1 > w - m:
                lbox = Box(w - m - lw, lbox.y0, w - m, lbox.y1)
            name = f"{item.name}:label"
            fixed.append(Placed("label", name, item.label, lbox, px, "center", item.priority))
    # corner lines, elided to the room beside the edge letters
    top_letter = next((p for p in fixed if p.name == "letter:top"), None)
    bottom_letter = next((p for p in fixed if p.name == "letter:bottom"), None)
    lines: dict[str, list[Line]] = {}
    dropped: list[str] = []
    for corner, stack in cell.corners.items():
        letter = top_letter if corner.startswith("upper") else bottom_letter
        room = (w - 2 * m) if letter is None else (letter.box.x0 - 2 * m)
        kept = []
        for ln in stack:
            parts = _wrap(ln.text, room, px, measure) if ln.wrap else [ln.text]
            for part in parts:
                text = _elide(part, room, px, measure) if ln.elide else part
                if not text or measure(text, px, False)[0] > room:
                    dropped.append(part)
                    continue
                kept.append(Line(text, ln.priority, ln.elide, False, ln.color))
        lines[corner] = kept
    # labels at points: cut to the cell's width; a point outside the cell is not labelled
    labels: dict[int, Label] = {}
    for n, lab in enumerate(cell.labels):
        ax, ay = lab.anchor
        if not (0 <= ax <= w and 0 <= ay <= h):
            dropped.append(lab.text)
            continue
        text = _elide(lab.text, w - 2 * m, px, measure)
        if not text:
            dropped.append(lab.text)
            continue
        labels[n] = Label(text, lab.anchor, lab.priority, lab.color)

    def place_labels(out: list[Placed]) -> None:
        """Put each label at the first free place around its anchor, nearest first.

        When no place is free, the place whose most important neighbour matters least is
        taken: the clash is then resolved by priority like any other.
        """
        gap = max(2.0, m / 2)
        for n, lab in labels.items():
            tw, th = measure(lab.text, px, True)
            ax, ay = lab.anchor
            boxes = []
            for k in range(3):  # moving away from the point a text height at a time
                up, down = ay - gap - th - k * th, ay + gap + k * th
                for x, y in (
                    (ax + gap, up),  # above right
                    (ax - gap - tw, up),  # above left
                    (ax + gap, down),  # below right
                    (ax - gap - tw, down),  # below left
                    (ax - tw / 2, up - gap),  # above
                    (ax - tw / 2, down + gap),  # below
                ):
                    boxes.append(Box(x, y, x + tw, y + th))
            inside = [b for b in boxes if b.inside(w, h)]

            def worst_neighbour(b: Box) -> tuple[int, bool]:
                over = max((o.priority for o in out if b.intersects(o.box)), default=-1)
                return (over, any(_covers(b, line) for line in cell.drawn))

            if inside:  # the first place free of text and drawings, else of text, else ...
                box = min(inside, key=worst_neighbour)
            else:  # taller or wider than the cell allows around it: as near as fits
                x = min(max(boxes[0].x0, 0.0), max(w - tw, 0.0))
                y = min(max(boxes[0].y0, 0.0), max(h - th, 0.0))
                box = Box(x, y, x + tw, y + th)
            out.append(
                Placed("point", f"point:{n}", lab.text, box, px, "left", lab.priority, lab.color)
            )

    def place() -> list[Placed]:
        out = list(fixed)
        for corner, stack in lines.items():
            right = corner.endswith("right")
            upper = corner.startswith("upper")
            # a corner's lines stack beside what is reserved there (scale bar, marker)
            held = [
                p.box for p in fixed if p.kind not in ("letter",) and _corner_of(p, w, h) == corner
            ]
            top = max([m, *(b.y1 + m / 2 for b in held)]) if upper else m
            bottom = min([h - m, *(b.y0 - m / 2 for b in held)]) if not upper else h - m
            n = len(stack)
            for idx, ln in enumerate(stack):
                tw, _ = measure(ln.text, px, False)
                if upper:
                    y0 = top + idx * line_h
                else:
                    y0 = bottom - (n - idx) * line_h
                x0 = w - m - tw if right else m
                out.append(
                    Placed(
                        "line",
                        f"{corner}:{idx}",
                        ln.text,
                        Box(x0, y0, x0 + tw, y0 + line_h),
                        px,
                        "right" if right else "left",
                        ln.priority,
                        ln.color,
                    )
                )
        place_labels(out)
        return out

    while True:
        placed = place()
        worst: Placed | None = None
        for n, a in enumerate(placed):
            clash = not a.box.inside(w, h) or any(a.box.intersects(b.box) for b in placed[n + 1 :])
            if not clash:
                continue
            group = [a] + [b for b in placed[n + 1 :] if a.box.intersects(b.box)]
            # a line moves towards its corner when ANY line of its stack goes: all are candidates
            stacks = {p.name.split(":")[0] for p in group if p.kind == "line"}
            group += [p for p in placed if p.kind == "line" and p.name.split(":")[0] in stacks]
            loser = min(group, key=lambda p: (p.priority, p.kind != "line"))
            if worst is None or (loser.priority, loser.kind != "line") < (
                worst.priority,
                worst.kind != "line",
            ):
                worst = loser
        if worst is None:
            break
        dropped.append(worst.text or worst.name)
        if worst.kind == "line":
            corner, idx = worst.name.split(":")
            del lines[corner][int(idx)]
        elif worst.kind == "point":
            del labels[int(worst.name.split(":")[1])]
        else:  # a letter or reserved item that cannot fit: drop it (and its label) too
            base = worst.name.split(":")[0] if worst.kind == "label" else worst.name
            fixed[:] = [p for p in fixed if p.name != base and not p.name.startswith(base + ":")]
    return CellLayout((w, h), px, lpx, m, placed, dropped)
