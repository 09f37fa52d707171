"""The Volume: a voxel array that carries its own patient geometry (LPS, millimetres).

Conventions (the same as SimpleITK and highdicom):

- ``array`` is indexed ``(k, j, i)`` = (slice, row, column), as ``sitk.GetArrayFromImage`` gives.
- ``origin`` is the LPS position (mm) of the centre of voxel ``(i, j, k) = (0, 0, 0)``.
- ``spacing`` is ``(di, dj, dk)`` in mm.
- ``direction`` is 3x3; column ``n`` is the LPS unit vector of index axis ``n`` (i, j, k).

So ``lps = origin + direction @ (spacing * (i, j, k))``.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from volumeviz.model.dimensions import DimensionIndex
from volumeviz.model.geometry import Geometry


@dataclass(frozen=True, slots=True)
class GeometryIssue:
    """Something the loader found in a series, and what it did about it.

    Parameters
    ----------
    code
        Stable machine-readable code, e.g. ``"missing-slices"``, ``"uneven-spacing"``,
        ``"gantry-tilt"``, ``"non-parallel"``, ``"duplicate-position"``, ``"resampled"``.
    message
        One line for a person, with sizes in mm or degrees.
    size
        The size of the problem in ``unit`` (e.g. the largest gap in mm), if it has one.
    unit
        ``"mm"``, ``"deg"`` or ``""``.
    action
        What the loader did: ``"resampled"``, ``"split"``, ``"ignored"``, ``"refused"``, ``""``.
    """

    code: str
    message: str
    size: float | None = None
    unit: str = ""
    action: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (``code`` and ``message`` always present)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class WindowPreset:
    """A window (VOI) the file itself suggests: centre/width in output units, with its name."""

    center: float
    width: float
    explanation: str = ""


#: VolumeMeta fields that identify the patient or link back to their record: the ONE list of what
#: identifies. :meth:`VolumeMeta.anonymized` blanks them and scrubs their values out of every
#: other text (:mod:`volumeviz.model.deid`, whose ``FIELD_KINDS`` says how each is looked for);
#: the DICOM writer's de-identification (:mod:`volumeviz.io.deid`) is checked against it. Dates
#: and times are identifiers (HIPAA Safe Harbor; PS3.15 removes them without the Retain
#: Longitudinal Temporal Information option), as are the UIDs (PS3.15 replaces them).
IDENTIFYING_FIELDS = (
    "patient_name",
    "patient_id",
    "patient_birth_date",
    "patient_age",
    "institution",
    "accession_number",
    "referring_physician",
    "study_date",
    "study_time",
    "study_id",
    "study_uid",
    "series_uid",
    "frame_of_reference_uid",
)


@dataclass(frozen=True)
class VolumeMeta:
    """What a Volume knows about where it came from (for annotations, info and writing DICOM).

    The fields that identify the patient are listed in :data:`IDENTIFYING_FIELDS`;
    :meth:`anonymized` blanks them and scrubs their values out of the other text.

    ``dims`` says which volume of a multi-volume series (time, echo ...) this is, empty for a
    plain 3D series (:class:`~volumeviz.model.dimensions.DimensionIndex`).
    """

    modality: str = ""
    units: str = ""  # "HU" for CT after the modality LUT; "" when unknown
    series_uid: str = ""
    study_uid: str = ""
    frame_of_reference_uid: str = ""
    sop_class_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    study_description: str = ""
    study_date: str = ""
    study_time: str = ""
    study_id: str = ""
    manufacturer: str = ""
    model: str = ""
    body_part: str = ""
    patient_position: str = ""
    patient_name: str = ""
    patient_id: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    patient_age: str = ""
    institution: str = ""
    accession_number: str = ""
    referring_physician: str = ""
    windows: tuple[WindowPreset, ...] = ()
    source_files: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    #: which volume of a multi-volume series this is (time 3/10, echo 2/2 ...); () for plain 3D
    dims: tuple[DimensionIndex, ...] = ()

    def anonymized(self, pseudonym: str = "ANONYMOUS", *, identity: Any = None) -> VolumeMeta:
        """A copy with the patient's identity removed.

        Every field of :data:`IDENTIFYING_FIELDS` is blanked (the name becomes ``pseudonym``),
        the source paths are dropped, and every other text (descriptions, window names ...) is
        scrubbed of the identifying values and of any date by
        :class:`volumeviz.model.deid.Redactor`.

        Parameters
        ----------
        pseudonym
            The patient name of the copy.
        identity
            A :class:`volumeviz.model.deid.Identity` to scrub (default: this metadata's own);
            a report of several series passes all of theirs.

        Examples
        --------
        >>> m = VolumeMeta(patient_name="DOE^JOHN", series_description="HEAD Doe John")
        >>> m.anonymized().series_description, m.anonymized().patient_name
        ('HEAD [removed]', 'ANONYMOUS')
        """
        from volumeviz.model.deid import Identity, Redactor, scrub_fields

        redact = Redactor(Identity.of(self) if identity is None else identity)
        changes: dict[str, Any] = scrub_fields(self, redact, skip=IDENTIFYING_FIELDS)
        changes.update({name: "" for name in IDENTIFYING_FIELDS})
        changes["patient_name"] = pseudonym
        changes["source_files"] = ()
        changes["windows"] = tuple(
            dataclasses.replace(w, explanation=redact(w.explanation)) for w in self.windows
        )
        changes["extra"] = {
            k: redact(v) if isinstance(v, str) else v
            for k, v in self.extra.items()
            if k != "rejected_files"  # paths, which may carry the name
        }
        return dataclasses.replace(self, **changes)

    def replace(self, **changes: Any) -> VolumeMeta:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _vec3(values: Any, name: str) -> tuple[float, float, float]:
    arr = np.asarray(values, dtype=float).reshape(-1)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"Volume {name} must be 3 finite numbers, got {values!r}")
    return (float(arr[0]), float(arr[1]), float(arr[2]))


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3D image in patient (LPS) coordinates.

    Parameters
    ----------
    array
        Voxels indexed ``(k, j, i)``. CT is int16 Hounsfield units.
    origin
        LPS mm of the centre of voxel ``(0, 0, 0)``.
    spacing
        ``(di, dj, dk)`` mm, all positive.
    direction
        3x3 orthonormal; column ``n`` is the LPS direction of index axis ``n``.
    issues
        What the loader found and did (:class:`GeometryIssue`).
    meta
        Provenance and display hints (:class:`VolumeMeta`).
    geometry
        How much of the geometry is real (:class:`~volumeviz.model.geometry.Geometry`): full
        patient LPS (the default, for a Volume built with explicit origin/spacing/direction),
        a projection image, or unknown (assumed). Loaders that assume anything must say so here;
        pictures ask :func:`~volumeviz.model.geometry.annotation_rule` what they may show.

    Examples
    --------
    >>> import numpy as np
    >>> vol = Volume(np.zeros((2, 3, 4), np.int16), origin=(10, 20, 30), spacing=(0.5, 0.5, 2))
    >>> vol.size
    (4, 3, 2)
    >>> vol.index_to_lps([1, 2, 1]).tolist()
    [10.5, 21.0, 32.0]
    >>> vol.lps_to_index([10.5, 21.0, 32.0]).round(6).tolist()
    [1.0, 2.0, 1.0]
    """

    array: np.ndarray
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    issues: tuple[GeometryIssue, ...] = ()
    meta: VolumeMeta = field(default_factory=VolumeMeta)
    geometry: Geometry = field(default_factory=Geometry)

    def __post_init__(self) -> None:
        arr = np.asarray(self.array)
        if arr.ndim != 3:
            raise ValueError(f"Volume array must be 3D (k, j, i), got shape {arr.shape}")
        object.__setattr__(self, "array", arr)
        object.__setattr__(self, "origin", _vec3(self.origin, "origin"))
        spacing = _vec3(self.spacing, "spacing")
        if min(spacing) <= 0:
            raise ValueError(f"Volume spacing must be positive, got {spacing}")
        object.__setattr__(self, "spacing", spacing)
        d = np.array(self.direction, dtype=float).reshape(3, 3)
        if not np.allclose(d.T @ d, np.eye(3), atol=1e-4):
            raise ValueError(f"Volume direction must be orthonormal, got {d.tolist()}")
        d.setflags(write=False)
        object.__setattr__(self, "direction", d)
        object.__setattr__(self, "issues", tuple(self.issues))

    # -- shape -----------------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int, int]:
        """``(ni, nj, nk)``: voxels along i, j, k (SimpleITK's ``GetSize``)."""
        nk, nj, ni = self.array.shape
        return (int(ni), int(nj), int(nk))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The voxel type."""
        return self.array.dtype

    @property
    def units(self) -> str:
        """Voxel units (``"HU"`` for CT), from :attr:`meta`."""
        return self.meta.units

    @property
    def modality(self) -> str:
        """DICOM modality (``"CT"``, ``"MR"`` ...), from :attr:`meta`."""
        return self.meta.modality

    # -- geometry ----------------------------------------------------------------------------
    @property
    def affine(self) -> npt.NDArray[np.float64]:
        """4x4 matrix taking homogeneous ``(i, j, k, 1)`` to LPS mm."""
        m = np.eye(4)
        m[:3, :3] = self.direction * np.asarray(self.spacing)[None, :]
        m[:3, 3] = self.origin
        return m

    @property
    def rigid_ijk_to_lps(self) -> npt.NDArray[np.float64]:
        """4x4 rotation + translation taking *scaled* index coordinates (mm along i, j, k) to LPS.

        This is the actor ``user_matrix`` for a grid that keeps its spacing.
        """
        m = np.eye(4)
        m[:3, :3] = self.direction
        m[:3, 3] = self.origin
        return m

    def index_to_lps(self, ijk: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """LPS mm of continuous index ``(i, j, k)`` (or an ``(n, 3)`` array of them)."""
        p = np.asarray(ijk, dtype=float)
        out = (p * np.asarray(self.spacing)) @ self.direction.T + np.asarray(self.origin)
        return np.asarray(out, dtype=float)

    def lps_to_index(self, lps: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Continuous index ``(i, j, k)`` of LPS point(s); round to get the voxel."""
        p = np.asarray(lps, dtype=float) - np.asarray(self.origin)
        out = (p @ self.direction) / np.asarray(self.spacing)
        return np.asarray(out, dtype=float)

    @property
    def slice_normal(self) -> npt.NDArray[np.float64]:
        """LPS unit vector of increasing k."""
        return np.asarray(self.direction[:, 2], dtype=float)

    def corners_lps(self) -> npt.NDArray[np.float64]:
        """The 8 corner voxel centres in LPS mm, shape (8, 3)."""
        ni, nj, nk = self.size
        idx = np.array(
            [[i, j, k] for k in (0, nk - 1) for j in (0, nj - 1) for i in (0, ni - 1)], float
        )
        return self.index_to_lps(idx)

    @property
    def center_lps(self) -> npt.NDArray[np.float64]:
        """LPS mm of the volume's centre."""
        ni, nj, nk = self.size
        return self.index_to_lps([(ni - 1) / 2, (nj - 1) / 2, (nk - 1) / 2])

    def extent_mm(self) -> tuple[float, float, float]:
        """Physical length along i, j, k from first to last voxel centre, in mm."""
        return tuple(float((n - 1) * s) for n, s in zip(self.size, self.spacing, strict=True))  # type: ignore[return-value]

    # -- copies ------------------------------------------------------------------------------
    def replace(self, **changes: Any) -> Volume:
        """A new Volume with some fields replaced (the array is not copied)."""
        return dataclasses.replace(self, **changes)

    def anonymized(self, pseudonym: str = "ANONYMOUS", *, identity: Any = None) -> Volume:
        """A copy whose metadata and issue messages carry no identity.

        :meth:`VolumeMeta.anonymized` on the metadata; the geometry issues' messages (which
        may quote a file's path) are scrubbed by the same
        :class:`volumeviz.model.deid.Redactor`. The voxels and geometry are shared.

        Parameters
        ----------
        pseudonym
            The patient name of the copy.
        identity
            A :class:`volumeviz.model.deid.Identity` to scrub (default this volume's own).
        """
        from volumeviz.model.deid import Identity, Redactor

        ident = Identity.of(self.meta) if identity is None else identity
        redact = Redactor(ident)
        issues = tuple(dataclasses.replace(i, message=redact(i.message)) for i in self.issues)
        return self.replace(meta=self.meta.anonymized(pseudonym, identity=ident), issues=issues)

    def with_issue(self, issue: GeometryIssue) -> Volume:
        """A new Volume with one more issue recorded."""
        return self.replace(issues=(*self.issues, issue))

    # -- SimpleITK bridge --------------------------------------------------------------------
    def to_sitk(self) -> Any:
        """Return the volume as a ``SimpleITK.Image`` with the same geometry (the array is copied).

        SimpleITK is imported only here, so ``volumeviz.model`` stays importable without it.
        """
        sitk = importlib.import_module("SimpleITK")
        img = sitk.GetImageFromArray(self.array)
        img.SetOrigin(self.origin)
        img.SetSpacing(self.spacing)
        img.SetDirection(tuple(float(x) for x in self.direction.reshape(-1)))
        return img

    @classmethod
    def from_sitk(
        cls,
        image: Any,
        *,
        issues: tuple[GeometryIssue, ...] = (),
        meta: VolumeMeta | None = None,
        geometry: Geometry | None = None,
    ) -> Volume:
        """Build a Volume from a 3D ``SimpleITK.Image`` (geometry taken exactly)."""
        sitk = importlib.import_module("SimpleITK")
        if image.GetDimension() != 3:
            raise ValueError(f"need a 3D SimpleITK image, got {image.GetDimension()}D")
        if image.GetNumberOfComponentsPerPixel() != 1:
            raise ValueError("need a scalar SimpleITK image")
        arr = sitk.GetArrayFromImage(image)
        return cls(
            arr,
            origin=image.GetOrigin(),
            spacing=image.GetSpacing(),
            direction=np.array(image.GetDirection(), float).reshape(3, 3),
            issues=issues,
            meta=meta or VolumeMeta(),
            geometry=geometry or Geometry(),
        )

    def __repr__(self) -> str:
        o = ", ".join(f"{v:.2f}" for v in self.origin)
        s = ", ".join(f"{v:.4g}" for v in self.spacing)
        return (
            f"Volume(size={self.size}, dtype={self.array.dtype}, spacing=({s}) mm, "
            f"origin=({o}) LPS mm, modality={self.meta.modality or '?'}, "
            f"geometry={self.geometry.kind.value}, issues={len(self.issues)})"
        )
