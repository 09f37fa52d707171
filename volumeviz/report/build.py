"""Build a report of a series or a whole study, and make the outputs of batch jobs.

:func:`build_report` turns loaded Volumes and UltrasoundImages into a
:class:`~volumeviz.report.document.Report`: a title, and per series a metadata table, the
geometry issues the loader found, a 3D view per chosen preset and view, the MPR quad and key
slices; per ultrasound file its calibration regions as a table and some frames with a scale
bar. Pictures come from the renderer of :mod:`volumeviz.render` (through :class:`Renderer`, so
the report never draws anything itself) at the size that prints at the layout's dpi.

With ``anonymize=True`` the patient's identity is removed from every text, from the images'
annotations (they are rendered from anonymised metadata) and from the file metadata; source
paths and UIDs are left out; ultrasound frames are left out unless the file says (0028,0301)
Burned In Annotation is ``NO``.

Examples
--------
>>> from volumeviz.model import phantom
>>> vol = phantom.asymmetric(32)
>>> tpl = ReportTemplate(sections=("metadata", "issues", "views"), presets=("bone",))
>>> rep = build_report([vol], template=tpl, layout=Layout(dpi=36), anonymize=True)
>>> "PHANTOM^ASYMMETRIC" in rep.all_text(), len(list(rep.figures()))
(False, 1)
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from volumeviz import __version__
from volumeviz._atomic import atomic_path
from volumeviz.errors import NoSeriesError, OutputError, UsageError, VolumeVizError
from volumeviz.model.dates import format_date
from volumeviz.model.deid import Identity, Redactor
from volumeviz.model.geometry import annotation_rule
from volumeviz.model.ultrasound import UltrasoundImage
from volumeviz.model.volume import Volume
from volumeviz.ops.measure import Markup, describe_markup, measurement_plane
from volumeviz.report.document import (
    Block,
    Figure,
    FigureGrid,
    Layout,
    Paragraph,
    Report,
    Section,
    Table,
)
from volumeviz.report.findings import plain_finding, plain_summary
from volumeviz.report.spec import VIEWS, RenderSpec, SpecError
from volumeviz.transfer import defaults as _defaults

__all__ = [
    "SECTIONS",
    "ReportTemplate",
    "build_report",
    "load_input",
    "load_study",
    "load_template",
    "make_render",
    "write_report",
]

#: the parts a report can have, in the order they appear for each series
SECTIONS = ("metadata", "issues", "views", "mpr", "key_slices", "ultrasound")
PLANES = ("axial", "coronal", "sagittal")


@dataclass(frozen=True)
class ReportTemplate:
    """What a report shows: which sections, presets, views, how many key slices and frames.

    Built-in templates: ``"standard"`` (everything) and ``"brief"`` (metadata, issues, one 3D
    view, the MPR quad). A template file (TOML or YAML) sets any of these fields.
    """

    name: str = "standard"
    title: str = ""
    sections: tuple[str, ...] = SECTIONS
    #: 3D presets; empty: the series' own by modality
    #: (:func:`volumeviz.transfer.defaults.defaults_for`: bone and soft tissue for CT, mr-default
    #: and mr-mip for MR), the first ``default_presets`` of them
    presets: tuple[str, ...] = ()
    default_presets: int = 2
    views: tuple[str, ...] = ("anterior",)
    key_slices: int = 4
    us_frames: int = 3
    dpi: int = 300
    page: str = "A4"

    def with_changes(self, **changes: Any) -> ReportTemplate:
        """Return a copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


BUILTIN_TEMPLATES = {
    "standard": ReportTemplate(),
    "brief": ReportTemplate(
        name="brief",
        sections=("metadata", "issues", "views", "mpr", "ultrasound"),
        default_presets=1,
        key_slices=0,
        us_frames=1,
    ),
}


def load_template(name_or_path: str | os.PathLike[str] | None) -> ReportTemplate:
    """Return a built-in template by name, or read one from a ``.toml``/``.yaml`` file.

    Raises
    ------
    SpecError
        Unknown name, unreadable file, or a bad field (the message names the line).
    """
    from volumeviz.report import spec as _spec

    if name_or_path is None:
        return BUILTIN_TEMPLATES["standard"]
    text_name = str(name_or_path)
    if text_name in BUILTIN_TEMPLATES:
        return BUILTIN_TEMPLATES[text_name]
    p = Path(text_name)
    if p.suffix.lower() not in (".toml", ".yaml", ".yml"):
        raise SpecError(
            f"template {text_name!r}: not a built-in template ({', '.join(BUILTIN_TEMPLATES)}) "
            "nor a .toml/.yaml file"
        )
    if not p.is_file():
        raise SpecError(f"{p}: no such template file")
    text = p.read_text(encoding="utf-8")
    reader = _spec._read_toml if p.suffix.lower() == ".toml" else _spec._read_yaml
    data, lines = reader(text, str(p))

    def err(where: tuple[Any, ...], problem: str) -> SpecError:
        return _spec._error(str(p), lines, where, problem)

    if not isinstance(data, dict):
        raise err((), "a template is a table/mapping of fields")
    base = BUILTIN_TEMPLATES["standard"]
    fields = {f.name for f in dataclasses.fields(ReportTemplate)} - {"name"} | {"base"}
    changes: dict[str, Any] = {"name": p.stem}
    for key, value in data.items():
        if key not in fields:
            raise err((key,), f"unknown field (allowed: {', '.join(sorted(fields))})")
        if key == "base":
            if value not in BUILTIN_TEMPLATES:
                raise err((key,), f"{value!r}: use one of {', '.join(BUILTIN_TEMPLATES)}")
            base = BUILTIN_TEMPLATES[value]
        elif key in ("sections", "presets", "views"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise err((key,), f"must be a list of names, got {value!r}")
            allowed = {"sections": SECTIONS, "views": VIEWS}.get(key)
            for n, v in enumerate(value):
                if allowed is not None and v not in allowed:
                    raise err((key, n), f"{v!r}: use one of {', '.join(allowed)}")
                if key == "presets":
                    _check_preset(v, err, (key, n))
            changes[key] = tuple(value)
        elif key in ("key_slices", "us_frames", "dpi", "default_presets"):
            lo, hi = (36, 1200) if key == "dpi" else (0, 16)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise err((key,), f"must be a whole number in {lo}..{hi}, got {value!r}")
            changes[key] = value
        elif key in ("title", "page"):
            if not isinstance(value, str):
                raise err((key,), f"must be a string, got {value!r}")
            if key == "page" and value.lower() not in ("a4", "letter"):
                raise err((key,), f"{value!r}: use A4 or Letter")
            changes[key] = value
    return dataclasses.replace(base, **changes)


def _check_preset(
    name: str, err: Callable[[tuple[Any, ...], str], Exception], where: tuple[Any, ...]
) -> None:
    from volumeviz.errors import PresetError
    from volumeviz.transfer import load_preset

    try:
        load_preset(name)
    except PresetError as exc:
        raise err(where, str(exc)) from None


# -- rendering seam -----------------------------------------------------------------------


class Renderer(Protocol):
    """What the report needs drawn; :class:`VolumevizRenderer` is the real one."""

    def view3d(self, vol: Volume, *, preset: str, view: str, size: tuple[int, int]) -> np.ndarray:
        """Render a 3D view of ``vol`` as RGB uint8 ``(h, w, 3)``."""
        ...

    def quad(self, vol: Volume, *, preset: str | None, size: tuple[int, int]) -> np.ndarray:
        """Render the MPR quad (axial, coronal, sagittal through the centre, and 3D)."""
        ...

    def mpr(
        self, vol: Volume, *, plane: str, point: Sequence[float] | None, size: tuple[int, int]
    ) -> np.ndarray:
        """Render one MPR slice (with orientation letters) through LPS ``point``."""
        ...

    def ultrasound_frame(
        self, image: UltrasoundImage, *, frame: int, size: tuple[int, int], anonymize: bool
    ) -> np.ndarray:
        """Render one ultrasound frame with its scale bar (masked outside the regions)."""
        ...


class VolumevizRenderer:
    """The report's pictures, drawn offscreen by :mod:`volumeviz.render`.

    Preset misfit warnings raised while rendering are collected in :attr:`notes` (the report
    prints them) instead of being lost on stderr.
    """

    def __init__(self, *, anonymize: bool = False, dpi: float = 96.0) -> None:
        self.anonymize = anonymize
        self.dpi = float(dpi)  # the print resolution: text on the pictures is sized for it
        self.notes: list[str] = []
        #: segmentations (placed on the volume being drawn) shown over its pictures
        self.segmentations: list[Any] = []

    def _shot(self, vol: Volume, **kwargs: Any) -> np.ndarray:
        import warnings

        from volumeviz.render.screenshot import screenshot

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            img = screenshot(
                vol,
                anonymize=self.anonymize,
                dpi=self.dpi,
                segmentations=self.segmentations,
                **kwargs,
            )
        for w in caught:
            text = str(w.message)
            if text not in self.notes:
                self.notes.append(text)
        return np.asarray(img)

    def windows(self) -> contextlib.AbstractContextManager[None]:
        """The report's pictures drawn in this block share offscreen windows (GL contexts).

        See :func:`volumeviz.render.screenshot.keep_windows`.
        """
        from volumeviz.render.screenshot import keep_windows

        return keep_windows()

    def keep(self) -> contextlib.AbstractContextManager[None]:
        """Pictures of one series drawn in this block share its prepared VTK data.

        The fixed-point mapper's per-voxel normals are computed once per series instead of
        once per 3D picture (:func:`volumeviz.render.volume.reuse_volumes`).
        """
        from volumeviz.render.volume import reuse_volumes

        return reuse_volumes()

    def view3d(self, vol: Volume, *, preset: str, view: str, size: tuple[int, int]) -> np.ndarray:
        """Render a 3D view with :func:`volumeviz.render.screenshot.screenshot`."""
        return self._shot(vol, preset=preset, view=view, size=size)

    def quad(self, vol: Volume, *, preset: str | None, size: tuple[int, int]) -> np.ndarray:
        """Render the quad with ``screenshot(..., mpr="quad")`` (None: preset by modality)."""
        return self._shot(vol, preset=preset, mpr="quad", size=size)

    def mpr(
        self, vol: Volume, *, plane: str, point: Sequence[float] | None, size: tuple[int, int]
    ) -> np.ndarray:
        """Render an MPR slice with ``screenshot(..., mpr=plane, slice=point)``."""
        where = None if point is None else tuple(float(c) for c in point)
        return self._shot(vol, mpr=plane, slice=where, size=size)

    def measurement(
        self, vol: Volume, markup: Markup, *, size: tuple[int, int]
    ) -> tuple[np.ndarray, str]:
        """Render ``markup`` drawn with its value on the MPR plane it lies in; its plane's name.

        The plane is :func:`volumeviz.ops.measure.measurement_plane` (axial, coronal or
        sagittal when the points lie in one, else the oblique plane through them), through the
        measurement's first point.
        """
        plane, normal = measurement_plane(markup)
        extra: dict[str, Any] = {} if normal is None else {"normal": tuple(normal)}
        where = tuple(float(c) for c in markup.points[0])
        img = self._shot(vol, mpr=plane, slice=where, measurements=(markup,), size=size, **extra)
        return img, plane

    def ultrasound_frame(
        self, image: UltrasoundImage, *, frame: int, size: tuple[int, int], anonymize: bool
    ) -> np.ndarray:
        """Render a frame with :func:`volumeviz.render.ultrasound.render_frame`."""
        from volumeviz.render.ultrasound import render_frame

        return np.asarray(render_frame(image, frame, anonymize=anonymize, size=size))


# -- loading -------------------------------------------------------------------------------


def load_input(
    path: str | os.PathLike[str],
    *,
    series: str | None = None,
    index: Mapping[str, int] | None = None,
    strict: bool = False,
) -> Any:
    """Load what a batch job renders: the series at ``path`` (one ultrasound file also works).

    ``index`` picks the volume of a series with extra dimensions (0-based, ``{"time": 2}``).
    ``strict`` refuses a series whose geometry would be corrected or assumed.
    """
    from volumeviz.io.pacs.address import is_address
    from volumeviz.io.ultrasound import is_ultrasound_file
    from volumeviz.io.volume import load_series

    if is_address(path):  # a PACS study or series
        return load_series(
            str(path), series=series, index=dict(index) if index else None, strict=strict
        )
    p = Path(path)
    if p.is_file() and p.name.upper() != "DICOMDIR" and is_ultrasound_file(p):
        from volumeviz.io.ultrasound import load_ultrasound

        return load_ultrasound(p)
    return load_series(p, series=series, index=dict(index) if index else None, strict=strict)


def load_study(
    path: str | os.PathLike[str],
    *,
    series: str | None = None,
    index: Mapping[str, int] | None = None,
    strict: bool = False,
) -> tuple[list[Volume | UltrasoundImage], list[str]]:
    """Load every series (and ultrasound file) under ``path``; return them and load problems.

    ``index`` (0-based, ``{"time": 2}``) picks the volume of every series that has those extra
    dimensions; other series load as usual. :class:`UsageError` if no series has them.

    A series that cannot be loaded does not stop the others: its one-line reason is returned
    in the second list (and shown in the report). ``strict`` refuses, series by series, any
    whose geometry would be corrected or assumed. Raises :class:`NoSeriesError` only when
    nothing at all can be loaded.
    """
    from volumeviz.errors import VolumeVizError
    from volumeviz.io.discover import scan
    from volumeviz.io.pacs.address import is_address
    from volumeviz.io.ultrasound import is_ultrasound_file, load_ultrasound
    from volumeviz.io.volume import load_scanned

    if series is not None:
        return [load_input(path, series=series, index=index, strict=strict)], []
    where = str(path)
    if is_address(path):  # a PACS study: retrieve it, then it is a folder like any other
        from volumeviz.io.pacs import local_folder

        path = local_folder(str(path))
    p = Path(path)
    if p.is_file() and p.name.upper() != "DICOMDIR" and is_ultrasound_file(p):
        return [load_ultrasound(p)], []
    result = scan(p)
    items: list[Volume | UltrasoundImage] = []
    used_index = False
    problems = [
        r.reason if r.path in r.reason else f"{r.path}: {r.reason}" for r in result.rejected
    ]
    for info in result.series:
        if info.derived:  # a SEG, an RT Dose ...: drawn over its image (--seg), not as one
            continue
        try:
            if info.modality == "US" or (
                info.slices and is_ultrasound_file(info.slices[0].path) and len(info.slices) == 1
            ):
                for f in dict.fromkeys(s.path for s in info.slices):
                    items.append(load_ultrasound(f))
            else:
                names = {d.name for d in info.dims.dims} if info.dims is not None else set()
                chosen = dict(index) if index and set(index) <= names else None
                used_index = used_index or chosen is not None
                items.append(
                    load_scanned(info, rejected=result.rejected, index=chosen, strict=strict)
                )
        except UsageError:
            raise  # a bad index is the caller's mistake, not this series' problem
        except VolumeVizError as exc:
            desc = f" '{info.description}'" if info.description else ""
            problems.append(
                f"series {info.number if info.number is not None else info.key}{desc} "
                f"({info.modality}): {exc}"
            )
    if not items:
        reason = "; ".join(problems) or "no image series found"
        raise NoSeriesError(f"{where}: nothing to report: {reason}")
    if index and not used_index:
        raise UsageError(
            f"{where}: no series has the dimension(s) {', '.join(index)} that the index names; "
            "'volumeviz info' lists each series' dimensions"
        )
    return items, problems


# -- building ------------------------------------------------------------------------------


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _anonymized(item: Volume | UltrasoundImage, identity: Identity) -> Volume | UltrasoundImage:
    """Return ``item`` with identity fields blanked and ``identity`` scrubbed from other text.

    The images are rendered from this copy, so their annotations carry no identity either.
    """
    if isinstance(item, Volume):
        return item.anonymized(identity=identity)
    return dataclasses.replace(
        item, meta=item.meta.anonymized(identity=identity), source="ultrasound"
    )


def _series_title(n: int, vol: Volume) -> str:
    m = vol.meta
    num = f"Series {m.series_number}" if m.series_number is not None else f"Series {n}"
    desc = f": {m.series_description}" if m.series_description else ""
    return f"{num} ({m.modality or '?'}){desc}"


def _metadata_table(vol: Volume, anonymize: bool, source: str) -> Table:
    from volumeviz.model.orientation import direction_letters

    m = vol.meta
    rows: list[tuple[str, str]] = [
        ("Modality", m.modality or "-"),
        ("Series description", m.series_description or "-"),
        ("Series number", "-" if m.series_number is None else str(m.series_number)),
        ("Study description", m.study_description or "-"),
        ("Study date", format_date(m.study_date) or "-"),
    ]
    if not anonymize:
        rows += [
            ("Patient name", m.patient_name or "-"),
            ("Patient ID", m.patient_id or "-"),
        ]
    rows += [
        ("Manufacturer / model", " ".join(x for x in (m.manufacturer, m.model) if x) or "-"),
        ("Body part", m.body_part or "-"),
        ("Size (i x j x k voxels)", " x ".join(str(n) for n in vol.size)),
        ("Spacing (mm)", " x ".join(_fmt(s) for s in vol.spacing)),
        ("Extent (mm)", " x ".join(_fmt(e) for e in vol.extent_mm())),
        ("Origin (LPS mm)", ", ".join(_fmt(o) for o in vol.origin)),
        (
            "Axes i, j, k point to",
            ", ".join(direction_letters(vol.direction[:, n]) for n in range(3)),
        ),
        ("Voxel type / units", f"{vol.dtype.name} {vol.units or ''}".strip()),
    ]
    if m.dims:  # one volume of a series with extra dimensions: which one
        rows.append(("Volume shown", " · ".join(d.label for d in m.dims)))
    if not anonymize:
        rows.append(("Series UID", m.series_uid or "-"))
        if source:
            rows.append(("Source", source))
    return Table(tuple(rows), header=("Field", "Value"))


def _findings_blocks(vol: Volume) -> list[Block]:
    """What the loader found, in plain words (one paragraph each), then its technical record."""
    if not vol.issues:
        return [Paragraph(plain_summary(vol.issues))]
    blocks: list[Block] = [Paragraph(f"- {plain_finding(i)}") for i in vol.issues]
    blocks.append(_issues_block(vol))
    return blocks


def _issues_block(vol: Volume) -> Block:
    rows = tuple(
        (
            i.code,
            i.message,
            "" if i.size is None else f"{i.size:.4g} {i.unit}".strip(),
            i.action or "-",
        )
        for i in vol.issues
    )
    return Table(
        rows, header=("Issue", "Details", "Size", "Action"), caption="The loader's record"
    )


def _key_points(vol: Volume, n: int) -> list[tuple[float, float, float]]:
    """``n`` LPS points inside the data and the patient, spread from inferior to superior.

    They lie on the line through the volume's centre along the index axis closest to S
    (slices k of an axial scan), so an oblique or tilted volume's key slices pass through its
    voxels, never through the empty corners of its bounding box; along that axis they are
    spread over the slices that show the patient (:func:`anatomy_range`), not over the air
    the grid holds above the head or below the feet. One point for one slice.
    """
    axis = int(np.argmax(np.abs(vol.direction[2, :])))
    count = vol.size[axis]
    if count <= 1:
        n = 1
    lo, hi = anatomy_range(vol, axis)
    centre = (np.asarray(vol.size, float) - 1) / 2
    pts = []
    for k in range(n):
        ijk = centre.copy()
        ijk[axis] = lo + (hi - lo) * (k + 1) / (n + 1) if count > 1 else 0.0
        p = vol.index_to_lps(ijk)
        pts.append((float(p[0]), float(p[1]), float(p[2])))
    return sorted(pts, key=lambda q: q[2])


def anatomy_range(vol: Volume, axis: int, *, samples: int = 64) -> tuple[float, float]:
    """First and last index along ``axis`` (0: i, 1: j, 2: k) of the slices showing the patient.

    Patient voxels: above -300 HU for CT (soft tissue and bone; the air around the body and
    the background are below it); for other data above a tenth of the way from the 1st to the
    99th percentile. The 0.5th and 99.5th percentiles of their indices are the range, so specks
    of noise do not stretch it. The whole axis ``(0, size - 1)`` when nothing stands out. The
    volume is sampled on at most ``samples`` points a side.
    """
    from volumeviz.transfer.defaults import is_hu

    whole = (0.0, float(vol.size[axis] - 1))
    steps = [max(1, -(-int(n) // samples)) for n in vol.array.shape]  # (k, j, i)
    sub = np.asarray(vol.array[:: steps[0], :: steps[1], :: steps[2]], dtype=np.float32)
    finite = sub[np.isfinite(sub)]
    if finite.size == 0:
        return whole
    if is_hu(vol):
        threshold = -300.0
    else:
        lo, hi = (float(v) for v in np.percentile(finite, [1, 99]))
        if hi <= lo:
            return whole
        threshold = lo + 0.1 * (hi - lo)
    kji = np.argwhere(sub > threshold)
    if len(kji) < 8:
        return whole
    index = kji[:, 2 - axis] * float(steps[2 - axis])
    a0, a1 = (float(v) for v in np.percentile(index, [0.5, 99.5]))
    return (a0, a1) if a1 > a0 else whole


def _segmentation_blocks(vol: Volume, segs: Sequence[Any], anonymize: bool) -> list[Block]:
    """Legend and statistics tables of the segmentations shown over ``vol``."""
    from volumeviz.ops.stats import segment_stats
    from volumeviz.render.overlay import legend_label

    legend: list[tuple[str, ...]] = []
    stats: list[tuple[str, ...]] = []
    issues: list[str] = []
    unit = vol.units or "value"
    for seg in segs:
        for s, st in zip(seg.segments, segment_stats(vol, seg), strict=True):
            name = legend_label(s, anonymize=anonymize)
            r, g, b = (round(c * 255) for c in s.color)
            legend.append(
                (
                    name,
                    f"#{r:02x}{g:02x}{b:02x}",
                    s.type.meaning if s.type else "-",
                    seg.kind + (" (fractional)" if s.fractional else ""),
                )
            )
            c = st.centroid_lps
            stats.append(
                (
                    name,
                    f"{st.weighted_voxels:.6g}" if s.fractional else str(st.voxels),
                    _fmt(st.volume_ml or 0.0),
                    "-" if st.empty else f"{st.mean:.1f} ± {st.sd:.1f}",
                    "-" if st.empty else f"{st.minimum:g} / {st.median:g} / {st.maximum:g}",
                    "-" if st.empty else f"{c[0]:.1f}, {c[1]:.1f}, {c[2]:.1f}",
                )
            )
        issues.extend(i.message for i in seg.issues if i.code != "geometry-only")
    blocks: list[Block] = [
        Table(tuple(legend), header=("Segment", "Colour", "Type", "Source")),
        Table(
            tuple(stats),
            header=(
                "Segment",
                "Voxels",
                "Volume mL",
                f"Mean ± SD {unit}",
                f"Min / median / max {unit}",
                "Centroid LPS mm",
            ),
        ),
    ]
    if issues:
        blocks.append(Paragraph("Segmentation placement: " + " ".join(issues)))
    return blocks


def _inside(vol: Volume, markup: Markup) -> bool:
    """True when every point of ``markup`` lies within ``vol``'s voxels (half a voxel slack)."""
    ijk = vol.lps_to_index(np.asarray(markup.points, float))
    return bool(np.all(ijk >= -0.5) and np.all(ijk <= np.asarray(vol.size, float) - 0.5))


def _measurement_blocks(
    vol: Volume, markups: Sequence[Markup], layout: Layout, renderer: Renderer
) -> list[Block]:
    """A table of the measurements' values and, for each inside the series, its picture."""
    rows, figs = [], []
    draw = getattr(renderer, "measurement", None)  # optional in a Renderer
    cols = min(2, len(markups))
    size = layout.cell_px(max(cols, 1), 0.75)
    for k, m in enumerate(markups, start=1):
        points = "; ".join(", ".join(f"{c:.1f}" for c in p) for p in m.points)
        if not _inside(vol, m):
            rows.append((str(k), m.kind, "outside this series: not measured", points, "-"))
            continue
        plane, _ = measurement_plane(m)
        value = describe_markup(vol, m)
        rows.append((str(k), m.kind, value, points, plane))
        if draw is not None:
            img, plane = draw(vol, m, size=size)
            figs.append(Figure(img, f"{k}: {value} ({plane})"))
    blocks: list[Block] = [
        Paragraph(
            "Measurements (points in LPS mm; values computed from this series' voxels and "
            "spacing, drawn on the plane they lie in):"
        ),
        Table(tuple(rows), header=("#", "Kind", "Value", "Points (LPS mm)", "Plane")),
    ]
    if figs:
        blocks.append(FigureGrid(tuple(figs), columns=max(1, min(2, len(figs))),
                                 caption="Measurements"))  # fmt: skip
    return blocks


def _volume_sections(
    n: int,
    vol: Volume,
    tpl: ReportTemplate,
    layout: Layout,
    renderer: Renderer,
    anonymize: bool,
    source: str,
    segs: Sequence[Any] = (),
    measurements: Sequence[Markup] = (),
) -> Section:
    blocks: list[Block] = []
    if hasattr(renderer, "segmentations"):
        renderer.segmentations = list(segs)
    if "metadata" in tpl.sections:
        blocks.append(_metadata_table(vol, anonymize, source))
    if "issues" in tpl.sections:
        blocks.append(Paragraph("What the loader found and did:"))
        blocks.extend(_findings_blocks(vol))
    if segs:
        blocks.append(Paragraph("Segmentations shown over the pictures, and their statistics:"))
        blocks.extend(_segmentation_blocks(vol, segs, anonymize))
    presets = tpl.presets or _defaults.defaults_for(vol).report_presets[: tpl.default_presets]
    if "views" in tpl.sections and presets and tpl.views:
        size = layout.cell_px(2, 0.75)
        figs = [
            Figure(
                renderer.view3d(vol, preset=preset, view=view, size=size),
                f"3D, preset {preset}, {view} view",
            )
            for preset in presets
            for view in tpl.views
        ]
        blocks.append(FigureGrid(tuple(figs), columns=2, caption="3D views"))
    if "mpr" in tpl.sections:
        size = layout.cell_px(1, 1.0)
        preset = presets[0] if presets else _defaults.defaults_for(vol).preset
        quad = renderer.quad(vol, preset=preset, size=size)
        blocks.append(
            FigureGrid(
                (Figure(quad, f"axial, coronal, sagittal through the centre; 3D {preset}"),),
                columns=1,
                caption="MPR quad",
            )
        )
    if measurements:
        blocks.extend(_measurement_blocks(vol, measurements, layout, renderer))
    if "key_slices" in tpl.sections and tpl.key_slices > 0:
        cols = min(4, tpl.key_slices)
        size = layout.cell_px(cols, 1.0)
        rule = annotation_rule(vol.geometry)
        figs = [
            Figure(
                renderer.mpr(vol, plane="axial", point=p, size=size),
                f"axial, S {p[2]:+.1f} mm"
                if rule.position_mm
                else f"{rule.label or 'image'}, frame "
                f"{round(float(vol.lps_to_index(p)[2])) + 1} of {vol.size[2]}",
            )
            for p in _key_points(vol, tpl.key_slices)
        ]
        blocks.append(FigureGrid(tuple(figs), columns=cols, caption="Key slices (axial)"))
    notes = getattr(renderer, "notes", None)
    if notes:
        blocks.append(Paragraph("Rendering notes: " + " ".join(notes)))
        notes.clear()
    if hasattr(renderer, "segmentations"):
        renderer.segmentations = []
    return Section(_series_title(n, vol), tuple(blocks))


def _region_table(image: UltrasoundImage) -> Block:
    if not image.regions:
        if image.pixel_spacing_mm:
            r, c = image.pixel_spacing_mm
            return Paragraph(
                f"No calibration regions (0018,6011); {image.pixel_spacing_source} gives "
                f"{r:.4g} x {c:.4g} mm per pixel (row x column)."
            )
        return Paragraph(
            "No calibration regions (0018,6011) and no pixel spacing: distances cannot be "
            "measured on these frames."
        )
    rows = []
    for reg in image.regions:
        ux, uy = (u.symbol if u is not None else "-" for u in reg.units)
        dx, dy = ("-" if d is None else f"{d:.5g}" for d in reg.delta)
        ppc = reg.pixels_per_cm if reg.is_spatial_cm else (None, None)
        ppc_text = "-" if ppc[0] is None else f"{ppc[0]:.4g} x {ppc[1]:.4g}"
        x0, y0, x1, y1 = reg.bounds
        rows.append(
            (
                str(reg.index),
                reg.label,
                f"({x0}, {y0})-({x1}, {y1})",
                f"{ux} / {uy}",
                f"{dx} / {dy}",
                ppc_text,
                "; ".join(reg.problems) or "ok",
            )
        )
    return Table(
        tuple(rows),
        header=(
            "Region",
            "Type",
            "Bounds (px)",
            "Units x / y",
            "Per pixel x / y",
            "Pixels per cm",
            "Check",
        ),
        caption="Calibration regions (0018,6011)",
    )


def _frame_indices(n_frames: int, count: int) -> list[int]:
    if count <= 0 or n_frames <= 0:
        return []
    if count == 1 or n_frames == 1:
        return [0]
    count = min(count, n_frames)
    return sorted({round(k * (n_frames - 1) / (count - 1)) for k in range(count)})


def _ultrasound_section(
    n: int,
    image: UltrasoundImage,
    tpl: ReportTemplate,
    layout: Layout,
    renderer: Renderer,
    anonymize: bool,
) -> Section:
    m = image.meta
    rows: list[tuple[str, str]] = [
        ("Modality", m.modality or "US"),
        ("Manufacturer / model", " ".join(x for x in (m.manufacturer, m.model) if x) or "-"),
        ("Frames", f"{image.n_frames} of {image.columns} x {image.rows} px"),
        ("Frame time", "-" if image.frame_time_ms is None else f"{image.frame_time_ms:.4g} ms"),
        ("Burned-in annotation", m.burned_in_annotation or "not stated"),
    ]
    if not anonymize:
        rows[1:1] = [("Patient name", m.patient_name or "-"), ("Study date", m.study_date or "-")]
        rows.append(("Source", image.source))
    blocks: list[Block] = [Table(tuple(rows), header=("Field", "Value")), _region_table(image)]
    frames = _frame_indices(image.n_frames, tpl.us_frames)
    if frames and anonymize and not image.regions and m.burned_in_annotation.upper() != "NO":
        blocks.append(
            Paragraph(
                "Frames left out: the report is anonymised, the file has no calibration regions "
                "to keep and does not state (0028,0301) Burned In Annotation = NO, so its pixels "
                "may show the patient's identity."
            )
        )
    elif frames:
        cols = min(2, len(frames))
        aspect = image.rows / max(1, image.columns)
        size = layout.cell_px(cols, aspect)
        figs = tuple(
            Figure(
                renderer.ultrasound_frame(image, frame=f, size=size, anonymize=anonymize),
                f"frame {f}",
            )
            for f in frames
        )
        caption = "Frames with scale bars" + (
            " (outside the regions blacked out)" if anonymize else ""
        )
        blocks.append(FigureGrid(figs, columns=cols, caption=caption))
    return Section(f"Ultrasound {n}", tuple(blocks))


def build_report(
    items: Sequence[Volume | UltrasoundImage],
    *,
    template: ReportTemplate | None = None,
    layout: Layout | None = None,
    anonymize: bool = False,
    title: str | None = None,
    source: str = "",
    problems: Sequence[str] = (),
    renderer: Renderer | None = None,
    segmentations: Sequence[Sequence[Any]] | None = None,
    measurements: Sequence[Markup | str] = (),
) -> Report:
    """Build the report document of ``items`` (one series or a whole study).

    Parameters
    ----------
    items
        Loaded Volumes and UltrasoundImages, in the order they are to appear.
    template
        What to show (default :data:`BUILTIN_TEMPLATES` ``["standard"]``).
    layout
        Page and print resolution; images are rendered at the pixel size that prints at
        ``layout.dpi`` (default: the template's dpi and page).
    anonymize
        Remove the patient's identity from text, annotations and metadata.
    title
        Report title (default: the template's, else from the study description).
    source
        Where the data came from (shown unless anonymised).
    problems
        Series that could not be loaded (listed in the report).
    renderer
        Draws the pictures (default :class:`VolumevizRenderer`).
    segmentations
        For each item, the segmentations placed on it (``volumeviz.io.seg.load_segmentation``):
        drawn over its pictures, with a legend and a statistics table.
    measurements
        :class:`~volumeviz.ops.measure.Markup` objects or their ``KIND:x,y,z,...`` text (LPS
        mm, as ``screenshot --measure``): for every series, a table of their values computed
        from its voxels and spacing, and a picture of each drawn with its value on the plane
        it lies in (a measurement outside a series is listed as such, not measured).
    """
    marks = tuple(m if isinstance(m, Markup) else Markup.parse(m) for m in measurements)
    if not items:
        raise UsageError("nothing to report: no series given")
    tpl = template or BUILTIN_TEMPLATES["standard"]
    layout = layout or Layout(dpi=tpl.dpi, page=tpl.page)
    renderer = renderer or VolumevizRenderer(anonymize=anonymize, dpi=layout.dpi)
    identity = Identity.of(*items)
    shown = [_anonymized(it, identity) if anonymize else it for it in items]

    first = next((it for it in shown if isinstance(it, Volume)), None)
    study = first.meta.study_description if first is not None else ""
    heading = title or tpl.title or (f"Report: {study}" if study else "volumeviz report")
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    date = format_date(first.meta.study_date) if first is not None else ""
    n_vol = sum(isinstance(it, Volume) for it in shown)
    n_us = len(shown) - n_vol
    parts = [f"{n_vol} series" if n_vol else "", f"{n_us} ultrasound" if n_us else ""]
    subtitle = ", ".join(p for p in parts if p)
    subtitle += f"; study date {date}" if date else ""
    if anonymize:  # the day a report is made may be the day of the visit: no date at all
        subtitle += f"; made by volumeviz {__version__}; anonymised"
    else:
        subtitle += f"; made {now} by volumeviz {__version__}"

    sections: list[Section] = []
    overview = [
        (
            str(n),
            "US" if isinstance(it, UltrasoundImage) else (it.meta.modality or "?"),
            (it.meta.series_description or "-")
            if isinstance(it, Volume)
            else f"{it.n_frames} frame(s)",
            " x ".join(str(s) for s in it.size)
            if isinstance(it, Volume)
            else f"{it.columns} x {it.rows}",
            str(len(it.issues)) if isinstance(it, Volume) else str(len(it.regions)) + " region(s)",
        )
        for n, it in enumerate(shown, start=1)
    ]
    ov_blocks: list[Block] = [
        Table(tuple(overview), header=("#", "Modality", "Description", "Size", "Issues / regions"))
    ]
    if problems:
        if anonymize and source:  # a path may name the patient: its hash (as export lists it)
            from volumeviz.io.deid import PathHider, pseudonym_key

            hide = PathHider([source], pseudonym_key())
            problems = [hide(p) for p in problems]
        ov_blocks.append(Paragraph("Could not be loaded:"))
        ov_blocks.append(Table(tuple((p,) for p in problems), header=("Problem",)))
    if not anonymize and source:
        ov_blocks.append(Paragraph(f"Source: {source}"))
    sections.append(Section("Contents", tuple(ov_blocks)))

    windows = getattr(renderer, "windows", None)  # optional: one GL context for the report
    with windows() if windows is not None else contextlib.nullcontext():
        failed = _item_sections(
            shown, sections, tpl, layout, renderer, anonymize, source, segmentations, marks
        )

    metadata = {
        "creator": f"volumeviz {__version__}",
        "subject": f"{heading} ({subtitle})",
        "keywords": "volumeviz, DICOM, report",
    }
    if not anonymize:
        metadata["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    report = Report(
        heading,
        tuple(sections),
        subtitle=subtitle,
        metadata=metadata,
        problems=(*problems, *failed),
    )
    if anonymize:
        report = report.scrubbed(Redactor(identity))
    return report


def _item_sections(
    shown: Sequence[Volume | UltrasoundImage],
    sections: list[Section],
    tpl: ReportTemplate,
    layout: Layout,
    renderer: Renderer,
    anonymize: bool,
    source: str,
    segmentations: Sequence[Sequence[Any]] | None,
    marks: Sequence[Markup] = (),
) -> list[str]:
    """Append a section per item of ``shown`` (the series' pictures, the ultrasound frames).

    Returns what could not be drawn (one line per series), for the report's problems.
    """
    n_v = n_u = 0
    failed: list[str] = []
    for idx, it in enumerate(shown):
        # one series that cannot be drawn never loses the others: it gets a section that says
        # what failed, and the report lists it with the load problems
        try:
            if isinstance(it, Volume):
                n_v += 1
                segs = segmentations[idx] if segmentations and idx < len(segmentations) else ()
                keep = getattr(renderer, "keep", None)  # optional: share one series' VTK data
                with keep() if keep is not None else contextlib.nullcontext():
                    sections.append(
                        _volume_sections(
                            n_v, it, tpl, layout, renderer, anonymize, source, segs, marks
                        )
                    )
            elif "ultrasound" in tpl.sections:
                n_u += 1
                sections.append(_ultrasound_section(n_u, it, tpl, layout, renderer, anonymize))
        except VolumeVizError as exc:
            title = _series_title(n_v, it) if isinstance(it, Volume) else f"Ultrasound {n_u}"
            what = f"{title}: could not be drawn: {' '.join(str(exc).split())}"
            failed.append(what)
            sections.append(Section(title, (Paragraph(f"Could not be drawn: {exc}"),)))
    if failed:  # the contents table names them too
        ov = list(sections[0].blocks)
        ov.insert(1, Paragraph("Could not be drawn:"))
        ov.insert(2, Table(tuple((f,) for f in failed), header=("Problem",)))
        sections[0] = Section(sections[0].title, tuple(ov))
    return failed


def write_report(
    report: Report,
    path: str | os.PathLike[str],
    *,
    layout: Layout | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``report`` as PDF or HTML, chosen by the suffix of ``path``."""
    from volumeviz.report.html import write_html
    from volumeviz.report.pdf import write_pdf

    suffix = Path(path).suffix.lower()
    if suffix == ".pdf":
        return write_pdf(report, path, layout=layout, overwrite=overwrite)
    if suffix in (".html", ".htm"):
        return write_html(report, path, overwrite=overwrite)
    raise UsageError(f"{path}: a report is written as .pdf or .html, not {suffix or 'nothing'!r}")


# -- batch outputs -------------------------------------------------------------------------


def _write_png(image: np.ndarray, path: Path, *, overwrite: bool) -> None:
    from PIL import Image

    with atomic_path(path, overwrite=overwrite) as tmp:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp, format="PNG")


def make_render(
    render: RenderSpec,
    input_path: str,
    output: Path,
    load: Callable[[], Any],
    *,
    load_study: Callable[[], tuple[list[Any], list[str]]] | None = None,
    overwrite: bool = False,
    renderer: Renderer | None = None,
) -> None:
    """Make one batch output: a screenshot PNG or a report, written atomically.

    ``load`` returns the loaded input (the caller caches it, so a job loads it once). A report
    covers the whole study when ``load_study`` is given (an input without a chosen series),
    else the one loaded input.
    """
    if render.kind == "screenshot":
        item = load()
        size = tuple(int(v) for v in render.option("size", (800, 600)))
        if isinstance(item, UltrasoundImage):
            from volumeviz.render.ultrasound import render_frame

            anonymize = bool(render.option("anonymize", False))
            img = render_frame(item, 0, size=size, anonymize=anonymize)
            _write_png(img, output, overwrite=overwrite)
            return
        from volumeviz.render.screenshot import png_metadata, render_image, write_png
        from volumeviz.render.state import ViewState

        extra = {
            k: v
            for k, v in render.options
            if k in ("mpr", "slice", "window", "slab_mm", "slab_mode", "annotations", "anonymize")
        }
        if render.option("measure"):
            extra["measurements"] = tuple(render.option("measure"))
        state = ViewState(
            preset=render.option("preset", None),
            view=render.option("view", "anterior"),
            size=(size[0], size[1]),
            **extra,
        )
        img, info = render_image(item, state)
        if output.exists() and not overwrite:  # made meanwhile by someone else: keep theirs
            raise OutputError(f"{output}: exists; pass --force to overwrite")
        write_png(output, img, png_metadata(item, state, info))
        return
    if render.kind == "report":
        tpl = load_template(render.option("template")).with_changes(
            presets=render.option("presets"),
            views=render.option("views"),
            dpi=render.option("dpi"),
            title=render.option("title"),
        )
        layout = Layout(dpi=tpl.dpi, page=tpl.page)
        items, problems = load_study() if load_study is not None else ([load()], [])
        report = build_report(
            items,
            template=tpl,
            layout=layout,
            anonymize=bool(render.option("anonymize", False)),
            source=input_path,
            problems=problems,
            renderer=renderer,
            measurements=tuple(render.option("measure", ())),
        )
        write_report(report, output, layout=layout, overwrite=overwrite)
        return
    raise UsageError(f"unknown render kind {render.kind!r}")


def write_secondary_capture_series(
    report: Report,
    items: Sequence[Volume | UltrasoundImage],
    folder: str | os.PathLike[str],
    *,
    anonymize: bool = False,
) -> list[Path]:
    """Write every image of ``report`` as one DICOM Secondary Capture series in ``folder``.

    The DICOM writer (:func:`volumeviz.io.write.write_secondary_capture`) does the writing;
    the first Volume gives the patient and study fields. All captures share one study and one
    series. With ``anonymize`` (the report must have been built anonymised) they are
    de-identified together by one :class:`volumeviz.io.deid.DeidSession` (PS3.15 Basic
    Profile, Clean Pixel Data, Clean Descriptors): ONE new Study Instance UID, one pseudonym,
    Patient Identity Removed YES, the de-identification method and its CID 7050 codes.
    """
    try:
        from volumeviz.io.deid import session_for
        from volumeviz.io.write import write_secondary_capture
    except ImportError as exc:
        raise UsageError(
            "--secondary-capture needs the DICOM writer (volumeviz.io.write), not in this build"
        ) from exc
    from pydicom.uid import generate_uid

    from volumeviz.model.volume import VolumeMeta

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    first = next((it for it in items if isinstance(it, Volume)), None)
    like = first.meta if first is not None else VolumeMeta(modality="US")
    if not like.study_uid:  # one study for all the captures, even of a phantom
        like = like.replace(study_uid=generate_uid())
    session = session_for(anonymize, *items)
    figures = list(report.figures())
    targets = [out / f"SC{n:04d}.dcm" for n in range(1, len(figures) + 1)]
    for target in targets:
        if target.exists():
            raise OutputError(f"{target}: exists; choose an empty folder")
    series_uid = generate_uid()
    paths = []
    for n, (fig, target) in enumerate(zip(figures, targets, strict=True), start=1):
        write_secondary_capture(
            fig.image,
            target,
            like=like,
            series_description=f"volumeviz report: {fig.caption}"[:64],
            anonymize=session if session is not None else False,
            burned_in_annotation="NO" if anonymize else "YES",
            series_uid=series_uid,
            instance_number=n,
        )
        paths.append(target)
    return paths
