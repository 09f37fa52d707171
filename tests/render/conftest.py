"""Rendering tests: offscreen, fixed size and camera, an asymmetric phantom (marker L/A/S)."""

from __future__ import annotations

import numpy as np
import pytest

from volumeviz.model import phantom
from volumeviz.model.volume import VolumeMeta

SIZE = (300, 300)


@pytest.fixture(scope="session")
def ct():
    """64^3 CT phantom: air, 40 HU body, 1000 HU marker on the patient's left/anterior/superior."""
    return phantom.asymmetric(64)


@pytest.fixture(scope="session")
def ct_lung(ct):
    """The CT phantom with a -500 HU 'lung' ball in the body (for the lung preset)."""
    arr = ct.array.copy()
    k, j, i = np.ogrid[:64, :64, :64]
    arr[(k - 28) ** 2 + (j - 34) ** 2 + (i - 26) ** 2 < 12**2] = -500
    return ct.replace(array=arr)


@pytest.fixture(scope="session")
def mr(ct):
    """The phantom as MR: air 0, body 150, marker 600 (arbitrary MR units)."""
    arr = np.interp(ct.array, [-1000, 40, 1000], [0, 150, 600]).astype(np.int16)
    return ct.replace(array=arr, meta=VolumeMeta(modality="MR", series_description="MR phantom"))


@pytest.fixture(scope="session")
def ct_rotated():
    """The CT phantom acquired obliquely: index axes rotated 25° about LPS x."""
    return phantom.asymmetric(64, direction=phantom.rotation("x", 25))


def bright_centroid(img: np.ndarray, threshold: int = 230) -> tuple[float, float]:
    """(x, y) pixel centroid of near-white pixels, y down; fails if there are none."""
    grey = img[..., :3].astype(float).mean(axis=-1)
    ys, xs = np.nonzero(grey >= threshold)
    assert xs.size > 20, f"no bright marker in the image (max grey {grey.max():.0f})"
    return float(xs.mean()), float(ys.mean())
