"""NIfTI and NRRD images in and out: the ONE place RAS ↔ LPS is written.

volumeviz holds every image in DICOM's patient coordinates, LPS: +x toward the patient's Left,
+y Posterior, +z Superior (PS3.3 C.7.6.2.1.1). The other conventions met here:

- NIfTI ``qform``/``sform`` map voxel ``(i, j, k)`` to RAS+ mm (+x Right, +y Anterior, +z
  Superior). So ``affine_LPS = diag(-1, -1, 1, 1) @ affine_RAS``, and the same matrix takes LPS
  back to RAS (it is its own inverse).
- NRRD names its frame in the ``space`` field: ``left-posterior-superior`` (LPS) needs nothing;
  ``right-anterior-superior`` (RAS) and ``left-anterior-superior`` (LAS) negate the axes that
  point opposite to LPS.

Writing NIfTI follows dcm2niix, the project's reference for where voxels are: voxel rows are
stored bottom-up (DICOM's row order reversed, dcm2niix's ``nii_flipY``) and ``qform`` and ``sform``
carry the same affine with code 1 (scanner anatomical). A NIfTI written here therefore has the
**same affine** as dcm2niix's NIfTI of the same series. Reading takes whatever affine the file
has (nibabel's choice: ``sform`` when its code is set, else ``qform``) and refuses a sheared or
singular affine instead of guessing. NRRD is written in LPS in volumeviz's own voxel order.

Geometry is never invented on the way out: a Volume without a patient frame
(:attr:`~volumeviz.model.volume.Volume.geometry`: a projection radiograph, or geometry the loader
assumed) is written without one, as NIfTI-1 "method 1" (``qform_code = sform_code = 0``, the
spacing in ``pixdim`` only, ``xyz`` units unknown when the spacing was assumed) and as NRRD
without ``space`` (``spacings`` only, none when assumed). Reading such a file back is refused
("no patient geometry"), as for any file that does not place its voxels.

Arrays: NIfTI and NRRD store ``i`` fastest and nibabel/pynrrd hand back ``(i, j, k[, t])``;
a :class:`~volumeviz.model.volume.Volume` is ``(k, j, i)``. Those transposes also live only here.

What a written header holds besides geometry and data type: the description
``modality=..;units=..`` (NIfTI ``descrip``, NRRD ``content``) and nothing else (no ``aux_file``,
no intent name, no JSON sidecar): never a name, ID, date, UID or path, so ``convert --anonymize``
needs nothing removed here. Nor a time of writing: gzip carries no time stamp and pynrrd's
"# on DATE" comment is left out, so the same image always gives the same bytes.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz._atomic import atomic_path
from volumeviz.errors import DicomReadError, UsageError, WriteError
from volumeviz.io.discover import MAX_VOXELS
from volumeviz.model.volume import Volume, VolumeMeta

__all__ = [
    "LPS_FROM_RAS",
    "affine_lps_to_ras",
    "affine_ras_to_lps",
    "format_of",
    "nifti_affine_ras",
    "read_image",
    "read_images",
    "write_image",
]

#: diag(-1, -1, 1, 1): RAS -> LPS and LPS -> RAS (its own inverse)
LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])

#: NRRD ``space`` values and the sign that takes each axis to LPS
_NRRD_SPACES = {
    "left-posterior-superior": (1.0, 1.0, 1.0),
    "lps": (1.0, 1.0, 1.0),
    "right-anterior-superior": (-1.0, -1.0, 1.0),
    "ras": (-1.0, -1.0, 1.0),
    "left-anterior-superior": (1.0, -1.0, 1.0),
    "las": (1.0, -1.0, 1.0),
}

_NIFTI_SUFFIXES = (".nii", ".nii.gz")
_NRRD_SUFFIXES = (".nrrd", ".nhdr")


class ImageFormatError(DicomReadError):
    """A NIfTI or NRRD file cannot give an image with a trustworthy geometry."""


def affine_ras_to_lps(affine_ras: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The LPS form of a 4x4 RAS affine (``diag(-1, -1, 1, 1) @ A``).

    Examples
    --------
    >>> affine_ras_to_lps(np.diag([2.0, 2.0, 3.0, 1.0]))[:3, :3].diagonal().tolist()
    [-2.0, -2.0, 3.0]
    """
    return np.asarray(LPS_FROM_RAS @ np.asarray(affine_ras, float), float)


def affine_lps_to_ras(affine_lps: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The RAS form of a 4x4 LPS affine (the same matrix product)."""
    return np.asarray(LPS_FROM_RAS @ np.asarray(affine_lps, float), float)


def format_of(path: str | os.PathLike[str]) -> str:
    """``"nifti"`` or ``"nrrd"`` from a file name (``.nii``, ``.nii.gz``, ``.nrrd``, ``.nhdr``).

    Raises
    ------
    UsageError
        Any other suffix.
    """
    name = str(path).lower()
    if name.endswith(_NIFTI_SUFFIXES):
        return "nifti"
    if name.endswith(_NRRD_SUFFIXES):
        return "nrrd"
    raise UsageError(f"{path}: unknown image format; use .nii, .nii.gz, .nrrd or .nhdr")


# -- geometry -------------------------------------------------------------------------------------
def _volume_from_ijk(
    data: npt.NDArray[Any], affine_lps: npt.NDArray[np.float64], label: str, meta: VolumeMeta
) -> Volume:
    """A Volume from an ``(i, j, k)`` array and its LPS affine (spacing on the columns)."""
    m = np.asarray(affine_lps, float)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise ImageFormatError(f"{label}: the voxel-to-world affine is not 4x4 finite numbers")
    cols = m[:3, :3]
    spacing = np.linalg.norm(cols, axis=0)
    if np.any(spacing <= 1e-9):
        raise ImageFormatError(
            f"{label}: the affine gives a voxel size of 0 along an axis ({spacing.tolist()} mm); "
            "cannot place the image"
        )
    direction = cols / spacing
    gram = direction.T @ direction
    off = float(np.abs(gram - np.eye(3)).max())
    if off > 1e-4:
        angle = float(np.degrees(np.arccos(np.clip(1 - off, -1, 1))))
        raise ImageFormatError(
            f"{label}: the affine is sheared (axes {90 - angle:.2f}° apart, not 90°); volumeviz "
            "places only orthogonal grids and will not guess"
        )
    # re-orthonormalise the rounding noise of float32 headers (SVD: nearest rotation)
    u, _, vt = np.linalg.svd(direction)
    direction = u @ vt
    arr = np.ascontiguousarray(np.asarray(data).transpose(2, 1, 0))
    return Volume(
        arr,
        origin=(float(m[0, 3]), float(m[1, 3]), float(m[2, 3])),
        spacing=(float(spacing[0]), float(spacing[1]), float(spacing[2])),
        direction=direction,
        meta=meta,
    )


def nifti_affine_ras(vol: Volume) -> npt.NDArray[np.float64]:
    """The RAS affine a NIfTI written by :func:`write_image` (and by dcm2niix) carries.

    Voxel rows are stored bottom-up (dcm2niix's ``nii_flipY``): stored row ``j'`` is the
    Volume's row ``nj - 1 - j'``, so the j column is negated and the origin moves to the last row.

    Examples
    --------
    >>> vol = Volume(np.zeros((2, 3, 4), np.int16), origin=(10, 20, 30), spacing=(0.5, 0.5, 2))
    >>> nifti_affine_ras(vol).tolist()[:3]
    [[-0.5, 0.0, 0.0, -10.0], [0.0, 0.5, 0.0, -21.0], [0.0, 0.0, 2.0, 30.0]]
    """
    a = vol.affine.copy()
    nj = vol.size[1]
    a[:3, 3] = vol.index_to_lps([0, nj - 1, 0])
    a[:3, 1] = -a[:3, 1]
    return affine_lps_to_ras(a)


# -- reading --------------------------------------------------------------------------------------
def _meta_from_description(descrip: str, label: str) -> VolumeMeta:
    fields = dict(
        part.split("=", 1) for part in descrip.split(";") if "=" in part and part.strip()
    )
    return VolumeMeta(
        modality=fields.get("modality", "").strip().upper(),
        units=fields.get("units", "").strip(),
        source_files=(label,),
        extra={"description": descrip} if descrip else {},
    )


def _check_size(label: str, what: str, shape: Sequence[int]) -> int:
    """Voxels a header claims, refused above :data:`MAX_VOXELS` before any data is read."""
    voxels = 1
    for n in shape:
        voxels *= max(int(n), 0)
    if voxels > MAX_VOXELS:
        raise ImageFormatError(
            f"{label}: {what} {'x'.join(str(int(n)) for n in shape)} ({voxels} voxels) exceeds "
            f"the {MAX_VOXELS} voxels volumeviz reads; not read"
        )
    return voxels


def _check_claim(path: Path, img: Any) -> None:
    """A NIfTI header's dim[] against the voxel budget and (uncompressed) the file's length.

    A hostile or corrupt header (a small ``.nii.gz`` that inflates to gigabytes, or a ``.nii``
    cut short) is refused before nibabel allocates the array it describes.
    """
    label = str(path)
    header = img.header
    shape = tuple(int(n) for n in header.get_data_shape())
    voxels = _check_size(label, "NIfTI dim[1..]", shape)
    if path.name.lower().endswith(".nii"):
        offset = getattr(img.dataobj, "offset", None)  # where nibabel will read (vox_offset)
        offset = int(header.get_data_offset()) if offset is None else int(offset)
        need = offset + voxels * int(header.get_data_dtype().itemsize)
        have = path.stat().st_size
        if have < need:
            raise ImageFormatError(
                f"{label}: NIfTI dim[1..] {'x'.join(map(str, shape))} of "
                f"{header.get_data_dtype()} needs {need} bytes, the file has {have} "
                "(truncated?)"
            )


def _read_nifti(path: Path) -> list[Volume]:
    import nibabel as nib

    label = str(path)
    img: Any
    try:
        img = nib.load(str(path))  # the header; the data stays on disk until asked for
    except FileNotFoundError as exc:
        raise ImageFormatError(f"{label}: no such file") from exc
    except Exception as exc:
        raise ImageFormatError(f"{label}: not a readable NIfTI file ({exc})") from exc
    _check_claim(path, img)
    try:
        data = np.asanyarray(img.dataobj)
    except Exception as exc:
        raise ImageFormatError(f"{label}: not a readable NIfTI file ({exc!r})") from exc
    header: Any = img.header
    sform_code = int(header["sform_code"]) if "sform_code" in header else 0
    qform_code = int(header["qform_code"]) if "qform_code" in header else 0
    if sform_code == 0 and qform_code == 0:
        raise ImageFormatError(
            f"{label}: NIfTI has sform_code 0 and qform_code 0: no patient geometry; "
            "volumeviz will not guess where the voxels are"
        )
    affine_lps = affine_ras_to_lps(img.affine)
    descrip = ""
    try:
        descrip = bytes(header["descrip"]).split(b"\0", 1)[0].decode("ascii", "replace").strip()
    except (KeyError, TypeError, ValueError):
        descrip = ""
    meta = _meta_from_description(descrip, label)
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim == 5 and data.shape[3] == 1:
        data = data[:, :, :, 0, :]
    if data.ndim == 3:
        return [_volume_from_ijk(data, affine_lps, label, meta)]
    if data.ndim == 4:
        return [
            _volume_from_ijk(data[..., t], affine_lps, label, meta) for t in range(data.shape[3])
        ]
    raise ImageFormatError(f"{label}: NIfTI with {data.ndim} dimensions {data.shape} not handled")


def _read_nrrd(path: Path) -> list[Volume]:
    import nrrd

    label = str(path)
    try:
        sizes = nrrd.read_header(str(path)).get("sizes")
    except FileNotFoundError as exc:
        raise ImageFormatError(f"{label}: no such file") from exc
    except Exception as exc:
        raise ImageFormatError(f"{label}: not a readable NRRD file ({exc})") from exc
    if sizes is not None:
        _check_size(label, "NRRD sizes", [int(n) for n in np.ravel(sizes)])
    try:
        data, header = nrrd.read(str(path))
    except FileNotFoundError as exc:
        raise ImageFormatError(f"{label}: no such file") from exc
    except Exception as exc:
        raise ImageFormatError(f"{label}: not a readable NRRD file ({exc})") from exc
    space = str(header.get("space", "")).strip().lower()
    if space not in _NRRD_SPACES:
        raise ImageFormatError(
            f"{label}: NRRD field 'space' is {space or 'missing'!r}; volumeviz needs a patient "
            "space (left-posterior-superior, right-anterior-superior or left-anterior-superior)"
        )
    sign = np.asarray(_NRRD_SPACES[space])
    dirs = header.get("space directions")
    if dirs is None:
        raise ImageFormatError(f"{label}: NRRD has no 'space directions'; cannot place voxels")
    dirs = np.asarray(dirs, dtype=float)  # rows: one per axis; NaN rows = non-spatial axis
    spatial = [n for n in range(dirs.shape[0]) if np.all(np.isfinite(dirs[n]))]
    if len(spatial) != 3:
        raise ImageFormatError(f"{label}: NRRD has {len(spatial)} spatial axes, need 3")
    origin = np.asarray(header.get("space origin", (0.0, 0.0, 0.0)), float)
    m = np.eye(4)
    m[:3, :3] = (dirs[spatial].T) * sign[:, None]
    m[:3, 3] = origin * sign
    meta = _meta_from_description(str(header.get("content", "")), label)
    other = [n for n in range(data.ndim) if n not in spatial]
    if not other:
        return [_volume_from_ijk(data, m, label, meta)]
    if len(other) != 1:
        raise ImageFormatError(f"{label}: NRRD with {data.ndim} axes {data.shape} not handled")
    moved = np.moveaxis(data, other[0], -1)
    return [_volume_from_ijk(moved[..., t], m, label, meta) for t in range(moved.shape[-1])]


def read_images(path: str | os.PathLike[str]) -> list[Volume]:
    """Read a NIfTI or NRRD file: one Volume per 3D image (a 4D file gives several).

    Parameters
    ----------
    path
        ``.nii``, ``.nii.gz``, ``.nrrd`` or ``.nhdr``.

    Returns
    -------
    list of Volume
        In LPS, ``(k, j, i)`` arrays in the file's own data type (NIfTI scaling applied by
        nibabel; an unscaled integer file stays integer). ``meta.modality``/``meta.units``
        come from a ``modality=..;units=..`` description written by :func:`write_image`.

    Raises
    ------
    ImageFormatError
        Unreadable file, no geometry (NIfTI qform and sform codes 0, NRRD without a patient
        space), a sheared or singular affine.
    UsageError
        Unknown suffix.
    """
    p = Path(path)
    if format_of(p) == "nifti":
        return _read_nifti(p)
    return _read_nrrd(p)


def read_image(path: str | os.PathLike[str]) -> Volume:
    """Read a 3D NIfTI or NRRD image as one Volume (see :func:`read_images`).

    Raises
    ------
    ImageFormatError
        As :func:`read_images`, and when the file holds more than one 3D image.
    """
    vols = read_images(path)
    if len(vols) != 1:
        raise ImageFormatError(
            f"{path}: holds {len(vols)} 3D images (4D); use read_images() for all of them"
        )
    return vols[0]


# -- writing --------------------------------------------------------------------------------------
def _same_grid(vols: Sequence[Volume]) -> None:
    first = vols[0]
    for n, v in enumerate(vols[1:], start=1):
        if v.array.shape != first.array.shape:
            raise WriteError(
                f"volume {n} has shape {v.array.shape}, volume 0 {first.array.shape}: a 4D image "
                "needs one grid"
            )
        if not np.allclose(v.affine, first.affine, atol=1e-4):
            raise WriteError(
                f"volume {n} lies on another grid than volume 0 (affines differ by "
                f"{float(np.abs(v.affine - first.affine).max()):.4g} mm): a 4D image needs one "
                "grid"
            )
        if v.array.dtype != first.array.dtype:
            raise WriteError(
                f"volume {n} is {v.array.dtype}, volume 0 {first.array.dtype}: one data type"
            )


def _out_dtype(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if arr.dtype == np.float64:
        return arr.astype(np.float32)
    return arr


def write_image(
    volumes: Volume | Sequence[Volume],
    path: str | os.PathLike[str],
    *,
    time_step_s: float | None = None,
    overwrite: bool = True,
) -> Path:
    """Write one Volume (3D) or several on one grid (4D) as NIfTI or NRRD, atomically.

    Parameters
    ----------
    volumes
        A Volume, or a sequence of Volumes with the same shape, affine and data type (the 4th
        dimension: time, echo, b-value ...).
    path
        ``.nii``, ``.nii.gz`` (NIfTI-1, dcm2niix's layout and affine: see the module notes) or
        ``.nrrd`` (``space`` left-posterior-superior, gzip).
    time_step_s
        NIfTI ``pixdim[4]`` (seconds) for a 4D image; NRRD ignores it.
    overwrite
        Replace an existing file (default); False raises if it exists.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    WriteError
        Volumes on different grids or of different data types; no volumes.
    OutputError
        The output cannot be written.
    """
    vols = [volumes] if isinstance(volumes, Volume) else list(volumes)
    if not vols:
        raise WriteError(f"{path}: no volumes to write")
    _same_grid(vols)
    out = Path(path)
    fmt = format_of(out)
    if out.name.lower().endswith(".nhdr"):
        raise UsageError(f"{out}: writing a detached NRRD header is not supported; use .nrrd")
    if out.exists() and not overwrite:
        from volumeviz.errors import OutputError

        raise OutputError(f"{out}: exists (pass overwrite=True to replace it)")
    first = vols[0]
    descrip = ";".join(
        f"{k}={v}" for k, v in (("modality", first.modality), ("units", first.units)) if v
    )
    with atomic_path(out) as tmp:
        if fmt == "nifti":
            _write_nifti(vols, tmp, descrip, time_step_s, out.name.lower().endswith(".gz"))
        else:
            _write_nrrd(vols, tmp, descrip)
    return out


def _write_nifti(
    vols: list[Volume], tmp: Path, descrip: str, time_step_s: float | None, gz: bool
) -> None:
    import nibabel as nib

    ijk = [_out_dtype(v.array).transpose(2, 1, 0)[:, ::-1, :] for v in vols]  # rows bottom-up
    data = ijk[0] if len(ijk) == 1 else np.stack(ijk, axis=-1)
    first = vols[0]
    affine = nifti_affine_ras(first)
    img = nib.Nifti1Image(np.asarray(data), affine)
    hdr = img.header
    if first.geometry.has_patient_frame:
        img.set_qform(affine, code=1)
        img.set_sform(affine, code=1)
        hdr.set_xyzt_units(xyz="mm", t="sec")
    else:
        # no patient frame (a projection image, or geometry the loader assumed): NIfTI-1's
        # "method 1" (qform_code = sform_code = 0, pixdim only) says exactly that; the
        # spacing's unit is mm only when the file gave a spacing
        img.set_qform(None, code=0)
        img.set_sform(None, code=0)
        hdr.set_zooms([float(v) for v in first.spacing] + list(hdr.get_zooms()[3:]))
        hdr.set_xyzt_units(xyz="mm" if first.geometry.spacing_known else "unknown", t="sec")
    if len(vols) > 1 and time_step_s is not None:
        zooms = list(hdr.get_zooms())
        zooms[3] = float(time_step_s)
        hdr.set_zooms(zooms)
    hdr["descrip"] = descrip.encode("ascii", "replace")[:79]
    raw = img.to_bytes()  # single-file .nii bytes; the temp file's name does not matter
    # no time stamp in the gzip header: the same image gives the same bytes (and no date)
    tmp.write_bytes(gzip.compress(raw, compresslevel=6, mtime=0) if gz else raw)


def _write_nrrd(vols: list[Volume], tmp: Path, descrip: str) -> None:
    import nrrd

    ijk = [_out_dtype(v.array).transpose(2, 1, 0) for v in vols]
    first = vols[0]
    header: dict[str, Any] = {"encoding": "gzip"}
    data = ijk[0] if len(ijk) == 1 else np.stack(ijk, axis=-1)
    header["kinds"] = ["domain", "domain", "domain"] + ([] if len(ijk) == 1 else ["list"])
    if first.geometry.has_patient_frame:
        dirs = (first.direction * np.asarray(first.spacing)[None, :]).T  # one row per axis
        header["space"] = "left-posterior-superior"
        header["space origin"] = np.asarray(first.origin, float)
        header["space directions"] = (
            dirs if len(ijk) == 1 else np.vstack([dirs, np.full((1, 3), np.nan)])
        )
    elif first.geometry.spacing_known:
        # no patient frame: no space, only the spacing along each axis (NRRD "spacings")
        header["spacings"] = [float(v) for v in first.spacing] + [np.nan] * (len(ijk) > 1)
    if descrip:
        header["content"] = descrip
    buf = io.BytesIO()
    nrrd.write(buf, np.ascontiguousarray(data), header, index_order="F")
    # pynrrd comments the time of writing ("# on 2026-11-30 07:45:41(GMT)."): a date, and
    # different bytes for the same image; a comment, so left out
    tmp.write_bytes(re.sub(rb"^# on [^\n]*\(GMT\)\.\n", b"", buf.getvalue(), count=1, flags=re.M))
