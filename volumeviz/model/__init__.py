"""Model objects: numpy only, no VTK, no pydicom, no SimpleITK at import time."""

from volumeviz.model.geometry import AnnotationRule, Geometry, GeometryKind, annotation_rule
from volumeviz.model.volume import GeometryIssue, Volume, VolumeMeta, WindowPreset

__all__ = [
    "AnnotationRule",
    "Geometry",
    "GeometryIssue",
    "GeometryKind",
    "Volume",
    "VolumeMeta",
    "WindowPreset",
    "annotation_rule",
]
