"""Scripted rendering for reports: PDF/HTML reports of series and studies, and batch runs.

- :func:`make_report` -- one call from a path (or loaded Volumes) to a ``.pdf`` or ``.html``
- :func:`volumeviz.report.build.build_report` -- the document, to adjust before writing
- :func:`volumeviz.report.spec.load_spec` / :func:`volumeviz.report.batch.run_batch` -- batch

Examples
--------
>>> import tempfile, pathlib
>>> from volumeviz.model import phantom
>>> out = pathlib.Path(tempfile.mkdtemp()) / "phantom.html"
>>> make_report([phantom.asymmetric(32)], out, presets=["bone"], key_slices=1,
...             dpi=40).name
'phantom.html'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["make_report"]


def make_report(
    source: str | os.PathLike[str] | Sequence[Any],
    output: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str] | None = None,
    anonymize: bool = False,
    presets: Sequence[str] | None = None,
    views: Sequence[str] | None = None,
    key_slices: int | None = None,
    dpi: int | None = None,
    title: str | None = None,
    series: str | None = None,
    overwrite: bool = False,
    measurements: Sequence[Any] = (),
) -> Path:
    """Build and write a report of a series, a study folder or loaded images.

    Parameters
    ----------
    source
        A folder / file / DICOMDIR (every series in it is reported), or a list of loaded
        :class:`~volumeviz.model.volume.Volume` and ``UltrasoundImage`` objects.
    output
        ``.pdf`` (print: vector text, images at ``dpi``) or ``.html`` (one self-contained file).
    template
        ``"standard"``, ``"brief"`` or a ``.toml``/``.yaml`` template file.
    anonymize
        Remove patient identity from the text, the images' annotations and the file metadata.
    presets, views, key_slices, dpi, title
        Override the template's 3D presets and views, number of key slices, print resolution
        and title.
    series
        With a path: report only this series (number, UID or key).
    overwrite
        Replace an existing output.
    measurements
        :class:`~volumeviz.ops.measure.Markup` objects or ``"KIND:x,y,z,..."`` texts (LPS mm,
        as ``screenshot --measure``): each series gets a table of their values and a picture
        of each drawn with its value on the plane it lies in.

    Returns
    -------
    Path
        ``output``.
    """
    from volumeviz.report.build import build_report, load_study, load_template, write_report
    from volumeviz.report.document import Layout

    tpl = load_template(template).with_changes(
        presets=tuple(presets) if presets else None,
        views=tuple(views) if views else None,
        key_slices=key_slices,
        dpi=dpi,
        title=title,
    )
    problems: list[str] = []
    where = ""
    items: list[Any]
    if isinstance(source, (str, os.PathLike)):
        items, problems = load_study(source, series=series)
        where = str(source)
    else:
        items = [*source]
    layout = Layout(dpi=tpl.dpi, page=tpl.page)
    doc = build_report(
        items,
        template=tpl,
        layout=layout,
        anonymize=anonymize,
        source=where,
        problems=problems,
        measurements=measurements,
    )
    return write_report(doc, output, layout=layout, overwrite=overwrite)
