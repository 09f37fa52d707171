"""``volumeviz convert PATH -o OUT``: a DICOM series to NIfTI or NRRD (same affine as dcm2niix).

The output format follows the suffix: ``.nii``/``.nii.gz`` (NIfTI-1, RAS affine, rows stored
bottom-up as dcm2niix writes them) or ``.nrrd`` (LPS). Written atomically.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("convert")
@click.argument("path", type=click.Path(path_type=Path))
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
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def convert(path: Path, out: Path, series: str | None, force: bool) -> None:
    """Convert the image series at PATH to a NIfTI or NRRD file.

    \b
    volumeviz convert CT/ -o ct.nii.gz
    volumeviz convert CT/ -o ct.nrrd
    """  # noqa: D301 (click needs the real \b to keep the example lines)
    from volumeviz.errors import OutputError
    from volumeviz.io.nifti import format_of, write_image
    from volumeviz.io.volume import load_series

    format_of(out)  # a bad suffix fails before any data is read
    if out.exists() and not force:
        raise OutputError(f"{out}: exists; pass --force to overwrite")
    key: int | str | None = None
    if series is not None:
        key = int(series) if series.strip().isdigit() else series
    vol = load_series(path, series=key)
    write_image(vol, out)
    click.echo(str(out))
