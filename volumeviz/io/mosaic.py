"""Siemens MOSAIC: one DICOM file that holds a grid of slices, expanded into ordinary slices.

A Siemens MR "mosaic" (``MOSAIC`` in (0008,0008) Image Type; EPI, DWI, fMRI) stores the ``n``
slices of one volume as tiles of a square grid of ``m x m`` tiles, ``m = ceil(sqrt(n))``, in one
2D image of (0028,0010) Rows x (0028,0011) Columns. What places the tiles:

- ``n`` is ``NumberOfImagesInMosaic`` of the Siemens CSA Image Header Info (0029,1010), read with
  nibabel's ``nibabel.nicom.csareader`` (a well-kept parser; (0019,100A) holds the same count on
  newer software and is only used when the CSA header lacks it).
- Each tile is ``Rows / m`` x ``Columns / m`` pixels; tile ``t`` is at grid row ``t // m``, grid
  column ``t % m``, and tiles are in slice order.
- (0020,0032) Image Position (Patient) of a mosaic is *not* the first voxel of the first slice:
  Siemens writes the position the corner of the whole grid would have if the grid were one slice
  centred like the real ones. The corrected position of slice 0 is
  ``IPP + row_cos * dc * (Columns - cols) / 2 + col_cos * dr * (Rows - rows) / 2``
  (``row_cos``/``col_cos`` from (0020,0037), ``dr``/``dc`` the row/column spacing of (0028,0030),
  ``rows``/``cols`` one tile), as dcm2niix (``nii_dicom.cpp``, mosaic correction) and nibabel
  (``MosaicWrapper.image_position``, ``doc/source/dicom/dicom_mosaic.rst``) do.
- Slice ``k`` lies at ``IPP0 + k * dz * normal``, with ``normal`` the CSA ``SliceNormalVector`` (it
  says which way the tiles run; it may be opposite to row x column) and ``dz`` (0018,0088) Spacing
  Between Slices, else (0018,0050) Slice Thickness.

The tiles become ordinary :class:`~volumeviz.model.series.SliceRef` objects (with ``mosaic =
(tile, m)``), so sorting, spacing checks and the splitting of repeated positions into volumes (a
multi-file mosaic series is a time series) apply to them as to any slices. Pixels are cut out of
the mosaic when they are read (:func:`tile_of`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.errors import HeaderError
from volumeviz.io.discover import MAX_PIXEL_SPACING_MM
from volumeviz.io.header import Header
from volumeviz.model.series import SliceRef

__all__ = ["is_mosaic", "mosaic_slices", "tile_of"]

#: (0019,100A) NumberOfImagesInMosaic (Siemens private, creator "SIEMENS MR HEADER")
_N_MOSAIC_TAG = (0x0019, 0x100A)


def is_mosaic(image_type: tuple[str, ...]) -> bool:
    """Whether (0008,0008) Image Type marks a Siemens mosaic (its values upper-case).

    Examples
    --------
    >>> is_mosaic(("ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"))
    True
    """
    return "MOSAIC" in image_type


def _csareader() -> Any:
    """Return nibabel's CSA reader module, imported quietly.

    nibabel's ``nicom`` package warns on import that its DICOM *readers* are experimental; the
    CSA parser used here is not one of them.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from nibabel.nicom import csareader
    return csareader


def _csa(path: str) -> tuple[Any, dict[str, Any] | None]:
    """The whole header (no pixels) and its parsed CSA Image Header Info (None when absent)."""
    import pydicom

    from volumeviz.io.discover import quiet_pydicom

    csareader = _csareader()

    with quiet_pydicom():
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        try:
            csa = csareader.get_csa_header(ds, "image")
        except Exception as exc:  # nibabel raises its own CSAReadError and struct errors
            raise HeaderError(
                f"{path}: (0029,1010) CSA Image Header Info cannot be read: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    return ds, csa


def mosaic_slices(base: SliceRef, h: Header) -> list[SliceRef]:
    """The slices of the mosaic file ``base`` describes (``h`` is its header).

    Raises
    ------
    HeaderError
        The number of tiles or the slice direction is missing or impossible (the message names
        the element): a mosaic is never shown as one giant slice.
    """
    csareader = _csareader()
    label = base.path
    ds, csa = _csa(base.path)
    n_raw = csareader.get_n_mosaic(csa) if csa is not None else None
    where = "(0029,1010) CSA Image Header Info NumberOfImagesInMosaic"
    if n_raw is None:
        elem = ds.get(_N_MOSAIC_TAG)
        n_raw = None if elem is None else elem.value
        where = "(0019,100A) NumberOfImagesInMosaic"
    if n_raw is None:
        raise HeaderError(
            f"{label}: (0008,0008) Image Type says MOSAIC but neither (0029,1010) CSA Image "
            "Header Info nor (0019,100A) gives NumberOfImagesInMosaic; the tiles cannot be "
            "separated"
        )
    try:
        n = int(n_raw)
    except (TypeError, ValueError):
        raise HeaderError(f"{label}: {where} {n_raw!r} is not an integer") from None
    m = math.ceil(math.sqrt(n)) if n > 0 else 0
    if n < 1 or base.rows % m or base.cols % m:
        raise HeaderError(
            f"{label}: {where} {n} does not tile (0028,0010) Rows {base.rows} x (0028,0011) "
            f"Columns {base.cols} into a square grid"
        )
    rows, cols = base.rows // m, base.cols // m
    if base.ipp is None or base.iop is None or base.pixel_spacing is None:
        # nothing to place: tiles of unknown geometry, stacked in tile order
        return [_tile(base, t, m, rows, cols, base.ipp) for t in range(n)]
    normal_raw = csareader.get_slice_normal(csa) if csa is not None else None
    if normal_raw is None:
        raise HeaderError(
            f"{label}: mosaic without (0029,1010) CSA SliceNormalVector: the direction in which "
            "its tiles run is unknown"
        )
    normal = np.asarray(normal_raw, float)
    length = float(np.linalg.norm(normal))
    if not (math.isfinite(length) and abs(length - 1.0) < 0.01):
        raise HeaderError(
            f"{label}: (0029,1010) CSA SliceNormalVector {normal.tolist()} is not a unit vector"
        )
    normal /= length
    row_cos = np.asarray(base.iop[:3], float)
    col_cos = np.asarray(base.iop[3:], float)
    if abs(abs(float(normal @ np.cross(row_cos, col_cos))) - 1.0) > 0.01:
        raise HeaderError(
            f"{label}: (0029,1010) CSA SliceNormalVector {normal.tolist()} is not perpendicular "
            f"to (0020,0037) Image Orientation (Patient) {list(base.iop)}"
        )
    dr, dc = base.pixel_spacing
    corner = (
        np.asarray(base.ipp, float)
        + row_cos * dc * (base.cols - cols) / 2
        + col_cos * dr * (base.rows - rows) / 2
    )
    # bounded like pixel spacing: 1e308 mm would put the tiles at infinity
    dz = h.number(
        "SpacingBetweenSlices", None, positive=True, high=MAX_PIXEL_SPACING_MM, lenient=True
    )
    if dz is None:
        dz = h.number(
            "SliceThickness", None, positive=True, high=MAX_PIXEL_SPACING_MM, lenient=True
        )
    if dz is None:
        raise HeaderError(
            f"{label}: mosaic with neither (0018,0088) Spacing Between Slices nor (0018,0050) "
            "Slice Thickness: its slices cannot be placed"
        )
    return [
        _tile(base, t, m, rows, cols, tuple(float(v) for v in corner + t * dz * normal))
        for t in range(n)
    ]


def _tile(
    base: SliceRef, t: int, m: int, rows: int, cols: int, ipp: tuple[float, ...] | None
) -> SliceRef:
    return dataclasses.replace(
        base,
        rows=rows,
        cols=cols,
        ipp=ipp,  # type: ignore[arg-type]
        mosaic=(t, m),
        instance_number=base.instance_number,
    )


def tile_of(plane: npt.NDArray[Any], s: SliceRef) -> npt.NDArray[Any]:
    """Cut slice ``s``'s tile out of the decoded mosaic ``plane`` (rows, cols[, samples]).

    Examples
    --------
    >>> mosaic = np.arange(16).reshape(4, 4)
    >>> s = SliceRef("m.dcm", None, 2, 2, None, None, None, mosaic=(3, 2))
    >>> tile_of(mosaic, s).tolist()
    [[10, 11], [14, 15]]
    """
    if s.mosaic is None:
        return plane
    t, m = s.mosaic
    r, c = divmod(t, m)
    return plane[r * s.rows : (r + 1) * s.rows, c * s.cols : (c + 1) * s.cols]
