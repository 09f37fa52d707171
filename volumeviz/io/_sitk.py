"""SimpleITK reading: the sorted file list through ``ImageSeriesReader`` into a numpy array.

The pixel type is chosen by the caller (``int16`` for CT whose rescale is integral and fits), so
SimpleITK never makes an int32 or float64 copy. The metadata dictionary and private tags are not
loaded (they cost time and memory; pydicom already read the headers). The returned array is a
view on the SimpleITK image buffer (no second copy), kept alive by the array itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

__all__ = ["SITK_TYPES", "read_files"]

#: numpy dtype name -> SimpleITK pixel type
SITK_TYPES: dict[str, int] = {
    "int16": sitk.sitkInt16,
    "uint16": sitk.sitkUInt16,
    "int32": sitk.sitkInt32,
    "float32": sitk.sitkFloat32,
    "uint8": sitk.sitkUInt8,
}


class _ImageBuffer:
    """Exposes a SimpleITK image's buffer to numpy and keeps the image alive (the array's base)."""

    def __init__(self, image: Any) -> None:
        self._image = image
        self._view = sitk.GetArrayViewFromImage(image)
        iface = dict(self._view.__array_interface__)
        self.__array_interface__ = iface


def _owned_array(image: Any) -> npt.NDArray[Any]:
    arr = np.asarray(_ImageBuffer(image))
    return arr


def read_files(paths: Sequence[str], dtype: str) -> npt.NDArray[Any]:
    """Read single-frame files (already sorted) as one ``(k, j, i)`` array of ``dtype``.

    GDCM (inside SimpleITK) applies each file's (0028,1052)/(0028,1053) rescale. The geometry
    SimpleITK computes is ignored: the caller has its own, from the positions.

    Raises
    ------
    RuntimeError
        SimpleITK cannot read a file (unsupported transfer syntax, bad data) or the image is not
        scalar; the caller falls back to pydicom.
    """
    reader = sitk.ImageSeriesReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileNames([str(p) for p in paths])
    reader.SetOutputPixelType(SITK_TYPES[dtype])
    reader.MetaDataDictionaryArrayUpdateOff()
    reader.LoadPrivateTagsOff()
    shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.GlobalWarningDisplayOff()  # ITK's own spacing check: we do our own
    try:
        image = reader.Execute()
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(shown)
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise RuntimeError("not a scalar image")
    if image.GetDimension() == 2:  # pragma: no cover - a 1-file list gives 3D in SimpleITK 2.x
        image = sitk.JoinSeries(image)
    return _owned_array(image)
