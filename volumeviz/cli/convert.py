"""``volumeviz convert PATH -o OUT``: a series to NIfTI/NRRD, or a labelmap on it to DICOM SEG.

The output format follows the suffix: ``.nii``/``.nii.gz`` (NIfTI-1, RAS affine, rows stored
bottom-up as dcm2niix writes them) or ``.nrrd`` (LPS). With ``--seg FILE`` the segmentation
(a labelmap .nii/.nii.gz/.nrrd/.npy, a SEG or an RTSTRUCT) is placed on the series and written
instead: as a DICOM SEG referencing the series (``-o x.dcm``) or as a labelmap on the series'
grid (``-o x.nii.gz`` / ``.nrrd``). Written atomically. PATH may be a PACS address; ``--store
ADDRESS`` sends a DICOM SEG to a PACS (STOW-RS / C-STORE) after writing it.

A series without a patient frame (a projection image, or geometry that had to be assumed) is
written without one (NIfTI qform/sform code 0, NRRD without ``space``) and said on stderr;
``--strict`` refuses a series whose geometry would be corrected or assumed.

A series with extra dimensions (time, echo ...) is written 4D: its volumes in C order of their
index along the 4th axis, the order dcm2niix writes them (with one extra dimension, the 4th axis
is it; the time step goes into ``pixdim[4]``). ``--index`` writes one volume instead.

``--anonymize``: NIfTI and NRRD headers carry only geometry, data type and the
``modality=..;units=..`` description (never a name, date, UID or path; gzip without a time
stamp), so the same series under two identities gives the same bytes; a DICOM SEG is
de-identified by :func:`volumeviz.io.deid.deidentify_dataset` (PS3.15 Basic Profile, the same
as every DICOM volumeviz writes; its references to the series kept with new UIDs, the same
for the same source under one ``$VOLUMEVIZ_PSEUDONYM_KEY``, random without one), segment labels
scrubbed; and nothing printed names an input file or the patient. Valid per ``dciodvfy``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from volumeviz.cli._dims import index_option, parse_index
from volumeviz.cli._pacs import SOURCE, pacs_options


@click.command("convert")
@click.argument("path", type=SOURCE)
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Output file: .nii, .nii.gz or .nrrd (its folder must exist).",
)
@click.option(
    "--series",
    default=None,
    help="Which series under PATH: number, UID, key or @n (as 'volumeviz info' lists).",
)
@click.option(
    "--seg",
    "seg",
    default=None,
    type=click.Path(path_type=Path),
    help="Write this segmentation (labelmap .nii/.nii.gz/.nrrd/.npy, SEG or RTSTRUCT) placed "
    "on the series instead of the series itself: -o x.dcm gives a DICOM SEG.",
)
@click.option(
    "--label-names",
    default=None,
    help="Names of the labelmap's values for the SEG: 1=liver,2=spleen.",
)
@index_option
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse a series whose geometry would be corrected or assumed (resampled, dropped "
    "slices, unknown spacing or orientation) instead of writing it.",
)
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.option(
    "--anonymize",
    is_flag=True,
    help="De-identify a DICOM SEG (PS3.15 Basic Profile); print nothing that names an input "
    "file or the patient. NIfTI/NRRD headers never hold identity.",
)
@click.option(
    "--store",
    "store",
    default=None,
    metavar="ADDRESS",
    help="Send the DICOM SEG (-o x.dcm) to this PACS after writing it (STOW-RS or C-STORE).",
)
@pacs_options
def convert(
    path: Path | str,
    out: Path,
    series: str | None,
    index: tuple[str, ...],
    seg: Path | None,
    label_names: str | None,
    strict: bool,
    force: bool,
    anonymize: bool,
    store: str | None,
) -> None:
    """Convert the image series at PATH to NIfTI/NRRD, or a labelmap on it to DICOM SEG.

    \b
    volumeviz convert CT/ -o ct.nii.gz
    volumeviz convert CT/ -o ct.nrrd
    volumeviz convert CT/ --seg labels.nii.gz --label-names 1=liver -o liver-seg.dcm
    volumeviz convert CT/ --seg labels.nii.gz -o seg.dcm --store dicomweb+http://pacs/dicom-web
    """  # noqa: D301 (click needs the real \b to keep the example lines)
    from volumeviz.cli import _console
    from volumeviz.errors import OutputError, UsageError
    from volumeviz.io.nifti import format_of
    from volumeviz.io.volume import load_series

    if anonymize:  # from here nothing printed names an input file or the patient
        _console.protect([path, *([seg] if seg is not None else [])])
    is_dicom = out.suffix.lower() == ".dcm"
    if is_dicom and seg is None:
        raise UsageError(f"{out}: a .dcm output is a DICOM SEG and needs --seg FILE")
    if store is not None:
        if not is_dicom:
            raise UsageError(
                f"--store sends DICOM: it needs a DICOM SEG output (-o x.dcm), not {out}"
            )
        from volumeviz.io.pacs import parse_address

        parse_address(store)  # a malformed address fails before anything is loaded
    if not is_dicom:
        format_of(out)  # a bad suffix fails before any data is read
    names = _names(label_names)
    chosen = parse_index(index)
    if out.exists() and not force:
        raise OutputError(f"{out}: exists; pass --force to overwrite")
    key: int | str | None = None
    if series is not None:
        key = int(series) if series.strip().isdigit() else series
    if seg is None:
        _write_series(path, key, chosen, out, strict)
        return
    vol = load_series(path, series=key, index=chosen or None, strict=strict)
    _console.add_identity(vol)
    _write_segmentation(vol, seg, out, names, anonymize=anonymize)
    click.echo(str(out))
    if store is not None:
        from volumeviz.io.pacs import store as store_files

        n = store_files(store, [out])
        click.echo(f"{store}: stored {n} instance(s)")


def _write_series(
    path: Path | str, key: int | str | None, index: dict[str, int], out: Path, strict: bool
) -> None:
    """One volume (a 3D series, or ``--index``), or every volume of the series as 4D."""
    from volumeviz.cli import _console
    from volumeviz.errors import UsageError
    from volumeviz.io.nifti import write_image
    from volumeviz.io.volume import load_multivolume, load_series

    if index:
        vol = load_series(path, series=key, index=index, strict=strict)
        _console.add_identity(vol)
        _say_geometry(vol, out)
        write_image(vol, out)
        click.echo(str(out))
        return
    try:
        mv = load_multivolume(path, series=key, strict=strict)
    except UsageError:  # one 3D volume
        vol = load_series(path, series=key, strict=strict)
        _console.add_identity(vol)
        _say_geometry(vol, out)
        write_image(vol, out)
        click.echo(str(out))
        return
    _console.add_identity(mv.meta)
    _say_geometry(mv.volume(), out)
    for idx, why in sorted(mv.missing.items()):
        click.echo(f"volumeviz: note: {mv.label(idx)} not written: {why}", err=True)
    time = mv.dimension("time") if mv.names == ("time",) else None
    step = time.step if time is not None and time.unit == "s" else None
    # every volume is in memory for the 4D write (nibabel writes one array)
    write_image([vol for _, vol in mv], out, time_step_s=step)
    shape = " × ".join(d.short() for d in mv.dims)
    click.echo(f"{out}: {len(mv)} volumes ({shape})")


def _say_geometry(vol: Any, out: Path) -> None:
    """Warn on stderr when the output cannot place the voxels in the patient (never invented)."""
    g = vol.geometry
    if not g.has_patient_frame:
        click.echo(
            f"volumeviz: warning: geometry {g.describe()}: {out.name} is written without a "
            "patient frame (NIfTI qform/sform code 0, NRRD without space)",
            err=True,
        )


def _names(text: str | None) -> dict[int, str]:
    from volumeviz.errors import UsageError

    names: dict[int, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        value, _, name = part.partition("=")
        if not value.strip().isdigit() or not name.strip():
            raise UsageError(
                f"--label-names {text!r}: use VALUE=NAME,VALUE=NAME (1=liver,2=spleen)"
            )
        names[int(value)] = name.strip()
    return names


def _write_segmentation(
    vol: Any, seg_path: Path, out: Path, names: dict[int, str], *, anonymize: bool = False
) -> None:
    import dataclasses

    import numpy as np

    from volumeviz.io.seg import load_segmentation
    from volumeviz.model.volume import Volume, VolumeMeta

    placed = load_segmentation(seg_path, vol)
    if names:
        placed = placed.replace(
            segments=tuple(s.replace(label=names.get(s.number, s.label)) for s in placed.segments)
        )
    for issue in placed.issues:
        click.echo(f"volumeviz: warning: {seg_path.name}: {issue.message}", err=True)
    if out.suffix.lower() == ".dcm":
        from volumeviz.io.seg_write import write_seg

        # the file name may carry the patient's name: not in an anonymised description
        what = "segmentation" if anonymize else seg_path.name
        write_seg(placed, vol, out, series_description=f"{what} (volumeviz)", anonymize=anonymize)
        return
    from volumeviz.io.nifti import write_image

    labels = placed.labelmap()
    dtype = np.uint8 if labels.max(initial=0) < 256 else np.uint16
    lab_vol = Volume(
        labels.astype(dtype),
        origin=vol.origin,
        spacing=vol.spacing,
        direction=vol.direction,
        meta=dataclasses.replace(VolumeMeta(), modality="SEG"),
    )
    write_image(lab_vol, out)
