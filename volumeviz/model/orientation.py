"""Anatomical names for LPS directions: letters for screen edges, plane names for info.

LPS: +x = patient Left, +y = Posterior, +z = Superior.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

_POS = ("L", "P", "S")
_NEG = ("R", "A", "I")


def direction_letters(vec: npt.ArrayLike, *, max_letters: int = 3, tol: float = 0.1) -> str:
    """Letters naming the patient direction an LPS vector points to, dominant first.

    Components smaller than ``tol`` (of the unit vector) are left out, as DICOM viewers do.

    Examples
    --------
    >>> direction_letters([1, 0, 0])
    'L'
    >>> direction_letters([0, -1, 0])
    'A'
    >>> direction_letters([0.2, 0.0, -0.98])
    'IL'
    """
    v = np.asarray(vec, dtype=float)
    n = np.linalg.norm(v)
    if n == 0:
        return ""
    v = v / n
    order = np.argsort(-np.abs(v))
    out = []
    for axis in order[:max_letters]:
        if abs(v[axis]) < tol:
            break
        out.append(_POS[axis] if v[axis] > 0 else _NEG[axis])
    return "".join(out)


def opposite_letters(letters: str) -> str:
    """The letters of the opposite direction (``'LA'`` -> ``'RP'``)."""
    swap = {"L": "R", "R": "L", "P": "A", "A": "P", "S": "I", "I": "S"}
    return "".join(swap[c] for c in letters)


def plane_name(normal: npt.ArrayLike, *, tol_deg: float = 1.0) -> str:
    """Name the plane with this LPS normal: ``axial``, ``coronal``, ``sagittal``, ``oblique 20°``.

    A plane within ``tol_deg`` of a cardinal plane takes its name; otherwise it is called oblique,
    with the angle (degrees) to the nearest cardinal plane.

    Examples
    --------
    >>> plane_name([0, 0, 1])
    'axial'
    >>> plane_name([1, 0, 0])
    'sagittal'
    >>> plane_name([0, np.sin(np.radians(20)), np.cos(np.radians(20))])
    'oblique 20° (near axial)'
    """
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    names = ("sagittal", "coronal", "axial")
    axis = int(np.argmax(np.abs(n)))
    angle = math.degrees(math.acos(min(1.0, abs(float(n[axis])))))
    if angle <= tol_deg:
        return names[axis]
    return f"oblique {angle:.0f}° (near {names[axis]})"
