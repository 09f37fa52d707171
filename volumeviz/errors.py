"""One error root for volumeviz, each child also a builtin so callers can catch either.

Messages name the file, the DICOM element and the value, and say what to do, e.g.
``CT/I120: no (0020,0032) Image Position (Patient); slice cannot be placed``.
The CLI prints the message on one line and exits 1 (bad data) or 2 (bad usage).
"""

from __future__ import annotations


class VolumeVizError(Exception):
    """Root of every error volumeviz raises on purpose."""

    #: exit code the CLI uses for this error: 1 = the data, 2 = the usage
    exit_code: int = 1


class DicomReadError(VolumeVizError, OSError):
    """A file could not be read as DICOM, or its pixel data cannot be decoded."""


class HeaderError(DicomReadError, ValueError):
    """A header element is missing, unreadable, of the wrong type or out of range.

    Raised by :class:`volumeviz.io.header.Header`; the message names the file, the element (tag
    and name) and the value found, e.g. ``a.dcm: (0028,0008) Number of Frames '2147483648'
    exceeds the 1 frame(s) its (7FE0,0010) Pixel Data can hold``.
    """


class NoSeriesError(VolumeVizError, FileNotFoundError):
    """A path holds no DICOM image series that can be loaded (or the requested one is absent)."""


class SeriesGeometryError(VolumeVizError, ValueError):
    """A series' geometry is missing, contradictory, or refused under ``strict=True``."""


class DicomDirError(VolumeVizError, ValueError):
    """A DICOMDIR file-set is malformed or points outside its root."""


class UltrasoundError(VolumeVizError, ValueError):
    """An ultrasound file or its regions (0018,6011) cannot give a physical answer."""


class MeasurementRefused(UltrasoundError):
    """A measurement cannot be made (points in different regions, outside, or units differ)."""


class PresetError(VolumeVizError, KeyError):
    """An unknown or malformed rendering / window preset."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class RenderError(VolumeVizError, RuntimeError):
    """Rendering failed (no OpenGL context, bad view or size)."""


class UsageError(VolumeVizError, ValueError):
    """Bad arguments given to the API or the CLI (out-of-range slice, size 0x0 ...)."""

    exit_code = 2


class OutputError(VolumeVizError, OSError):
    """An output cannot be written (missing or read-only folder, file exists)."""

    exit_code = 2


class WriteError(VolumeVizError, ValueError):
    """A Volume or image cannot be written as valid DICOM."""


class PacsError(VolumeVizError, ConnectionError):
    """A PACS (DICOMweb or DIMSE) could not be reached, refused, or failed to deliver.

    The message names the address and the failure (HTTP status, association rejection, a
    transfer cut short); nothing half-received is kept in the local cache.
    """
