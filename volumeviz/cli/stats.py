"""``volumeviz stats PATH [--seg FILE] [--roi SPEC] [--index NAME=K] [--json]``: region statistics.

Per segment (SEG, RTSTRUCT, labelmap) or ROI (``sphere:X,Y,Z,R`` / ``box:X0,Y0,Z0,X1,Y1,Z1`` in
LPS mm): voxels, volume in mL, mean/SD/min/max/median in the image's unit (HU for CT), centroid in
LPS mm. Fractional segments weight voxels by their fractions. The same numbers as
:func:`volumeviz.ops.stats.segment_stats` / :func:`volumeviz.ops.stats.region_stats`.
A series with extra dimensions (time, echo ...): the volume ``--index`` names (default the first),
named above the table and in the JSON (``volume``, ``index`` counted from 1).
A table (default), ``--json`` or ``--csv`` (one row per region) on stdout.

``--anonymize``: nothing printed names an input file, a segmentation file or the patient (the
console filter of :mod:`volumeviz.cli._console`: the series is ``<input>``, a segmentation file
outside it ``<input>`` too, identity typed into segment names is removed), so the same series
under two identities prints the same table, JSON and CSV.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import click

from volumeviz.cli._dims import index_option, parse_index
from volumeviz.cli._pacs import SOURCE, pacs_options


def _fmt(v: float | None, digits: int = 1) -> str:
    if v is None or v != v:
        return "-"
    return f"{v:.{digits}f}"


@click.command("stats")
@click.argument("path", type=SOURCE)
@click.option(
    "--seg",
    "segs",
    multiple=True,
    help="Segmentation: a DICOM SEG, RTSTRUCT, .nii/.nii.gz/.nrrd/.npy labelmap; 'auto' "
    "(default when no --roi: the SEG/RTSTRUCT under PATH that belong to the series). Repeatable.",
)
@click.option(
    "--roi",
    "rois",
    multiple=True,
    help="sphere:X,Y,Z,R_MM or box:X0,Y0,Z0,X1,Y1,Z1 (LPS mm). Repeatable.",
)
@click.option(
    "--series",
    default=None,
    help="Which series under PATH: number, UID, key or @n (as 'volumeviz info' lists).",
)
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (one row per region).")
@click.option(
    "--anonymize",
    is_flag=True,
    help="Print nothing that names an input file, a segmentation file or the patient.",
)
@pacs_options
def stats(
    path: Path | str,
    segs: tuple[str, ...],
    rois: tuple[str, ...],
    series: str | None,
    index: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
    anonymize: bool,
) -> None:
    """Statistics of the series at PATH inside segments and ROIs.

    \b
    volumeviz stats CT/ --seg liver.dcm
    volumeviz stats CT/ --roi sphere:10,-20,35,12 --json
    volumeviz stats fMRI/ --index time=3 --roi sphere:0,0,0,10
    """  # noqa: D301 (click needs the real \b to keep the example lines)
    from volumeviz.cli import _console
    from volumeviz.errors import UsageError
    from volumeviz.io.seg import load_segmentations
    from volumeviz.io.volume import load_series
    from volumeviz.ops.stats import parse_roi, region_stats, roi_mask, segment_stats

    if anonymize:  # from here nothing printed names an input file or the patient
        _console.protect([path, *(s for s in segs if s not in ("auto", "none"))])
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    for spec in rois:
        parse_roi(spec)  # a typo fails before any data is read
    specs = list(segs) or ([] if rois else ["auto"])
    key: int | str | None = None
    if series is not None:
        key = int(series) if series.strip().isdigit() else series
    chosen = parse_index(index)
    vol = load_series(path, series=key, index=chosen or None)
    _console.add_identity(vol)
    volume = " · ".join(d.label for d in vol.meta.dims)  # "" for a 3D series
    if rois and not vol.geometry.has_patient_frame:
        from volumeviz.errors import SeriesGeometryError

        raise SeriesGeometryError(
            f"{path}: geometry {vol.geometry.describe()}: --roi is given in LPS mm and this "
            "image has no patient frame to place it"
        )
    placed, notes = load_segmentations(vol, specs, search=path, strict=True)
    if not placed and not rois:
        raise UsageError(
            f"{path}: no segmentation found with the series and no --roi given; "
            "pass --seg FILE or --roi sphere:X,Y,Z,R"
        )
    rows: list[dict[str, Any]] = []
    for seg in placed:
        for seg_obj, st in zip(seg.segments, segment_stats(vol, seg), strict=True):
            rows.append(
                {
                    "source": seg.source,
                    "kind": seg.kind,
                    "segment": seg_obj.number,
                    "fractional": seg_obj.fractional,
                    **st.to_dict(),
                }
            )
    for spec in rois:
        name, mask = roi_mask(vol, spec)
        rows.append(
            {"source": spec, "kind": "ROI", **region_stats(vol, mask, name=name).to_dict()}
        )
    for note in notes:
        click.echo(f"volumeviz: warning: {note}", err=True)
    if as_json:
        record: dict[str, Any] = {"series": str(path), "units": vol.units}
        if vol.meta.dims:
            record["volume"] = volume
            record["index"] = {d.name: d.index + 1 for d in vol.meta.dims}
        click.echo(json.dumps({**record, "regions": rows}, indent=2))
        return
    if as_csv:
        click.echo(_csv(rows, str(path), vol.units), nl=False)
        return
    if volume:
        click.echo(f"volume: {volume}")
    _table(rows, vol.units)


#: CSV columns (a centroid is three columns)
_CSV_COLUMNS = (
    "series", "source", "kind", "name", "voxels", "weighted_voxels", "volume_ml", "area_mm2",
    "mean", "sd", "minimum", "maximum", "median", "centroid_l", "centroid_p", "centroid_s",
    "units",
)  # fmt: skip


def _csv(rows: list[dict[str, Any]], series: str, units: str) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=_CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        c = r.get("centroid_lps") or (None, None, None)
        w.writerow(
            {
                **{k: "" if v is None else v for k, v in r.items()},
                "series": series,
                "units": r.get("units") or units,
                "centroid_l": "" if c[0] is None else c[0],
                "centroid_p": "" if c[1] is None else c[1],
                "centroid_s": "" if c[2] is None else c[2],
            }
        )
    return buf.getvalue()


def _table(rows: list[dict[str, Any]], units: str) -> None:
    from rich.console import Console
    from rich.table import Table

    u = units or "value"
    table = Table(box=None, pad_edge=False)
    for col, justify in (
        ("region", "left"),
        ("voxels", "right"),
        ("mL", "right"),
        (f"mean {u}", "right"),
        ("SD", "right"),
        ("min", "right"),
        ("max", "right"),
        ("median", "right"),
        ("centroid LPS mm", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        c = r["centroid_lps"]
        centroid = "-" if c[0] is None else ", ".join(f"{x:.1f}" for x in c)
        table.add_row(
            str(r["name"]),
            f"{r['weighted_voxels']:.6g}" if r.get("fractional") else str(r["voxels"]),
            _fmt(r["volume_ml"], 3),
            _fmt(r["mean"]),
            _fmt(r["sd"]),
            _fmt(r["minimum"]),
            _fmt(r["maximum"]),
            _fmt(r["median"]),
            centroid,
        )
    Console(soft_wrap=True).print(table)
