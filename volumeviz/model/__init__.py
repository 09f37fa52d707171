"""Model objects: numpy only, no VTK, no pydicom, no SimpleITK at import time."""

from volumeviz.model.volume import GeometryIssue, Volume, VolumeMeta, WindowPreset

__all__ = ["GeometryIssue", "Volume", "VolumeMeta", "WindowPreset"]
