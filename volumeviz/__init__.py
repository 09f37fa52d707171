"""volumeviz: DICOM CT/MR/ultrasound in 3D, the right way round.

The public API is loaded lazily, so ``import volumeviz`` is cheap:

>>> import volumeviz
>>> volumeviz.__version__
'0.1.0'

- :func:`load_series` -- a DICOM folder, file list or DICOMDIR to a :class:`Volume` (LPS, mm)
- :func:`load_multivolume` -- a series with extra dimensions (time, echo ...) as a
  :class:`MultiVolume` whose volumes are read when asked for
- :func:`load_ultrasound` -- an ultrasound file to an :class:`UltrasoundImage` with its regions
- :func:`screenshot` -- render a Volume to an RGB numpy array
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Volume": "volumeviz.model.volume",
    "VolumeMeta": "volumeviz.model.volume",
    "GeometryIssue": "volumeviz.model.volume",
    "load_series": "volumeviz.io.volume",
    "load_multivolume": "volumeviz.io.volume",
    "MultiVolume": "volumeviz.model.multivolume",
    "Dimension": "volumeviz.model.dimensions",
    "scan": "volumeviz.io.discover",
    "load_ultrasound": "volumeviz.io.ultrasound",
    "UltrasoundImage": "volumeviz.model.ultrasound",
    "UltrasoundRegion": "volumeviz.model.ultrasound",
    "screenshot": "volumeviz.render.screenshot",
    "Scene": "volumeviz.render.scene",
    "load_preset": "volumeviz.transfer",
    "VolumeVizError": "volumeviz.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'volumeviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
