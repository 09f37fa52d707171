"""A stack resampled for a missing slice keeps its own in-plane grid.

Found by the conformance run (fuzz copies of the Toshiba oblique series with one file dropped):
positions written with few decimals put the slices a few micrometres off each other in-plane,
and the resample grid grew a column and moved by a voxel (65x65 for a 64x64 series, corners
4.2 mm off dcm2niix's). Synthetic: an oblique series written with positions rounded to 0.01 mm
(as scanners write them) and one slice left out; its grid must be the slices' own.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from tests.realworld.dicom_files import MR_IMAGE, write_image
from volumeviz.io.volume import load_series
from volumeviz.model import phantom


@pytest.mark.parametrize("deg", [20.0, 33.0])
def test_missing_slice_in_a_rounded_oblique_stack_keeps_the_grid(tmp_path, deg) -> None:
    d = phantom.rotation("x", deg) @ phantom.rotation("z", deg / 2)
    row, col, normal = d[:, 0], d[:, 1], d[:, 2]
    ni, nj, n, ps, dz = 24, 20, 7, 3.0, 3.0
    origin = np.array([-101.23456, -48.7654, 12.3456])
    uid = pydicom.uid.generate_uid()
    for k in range(n):
        if k == 2:  # the missing slice
            continue
        ipp = np.round(origin + k * dz * normal, 2)  # 2 decimals, as scanners write
        write_image(
            tmp_path / f"{k:02d}.dcm",
            np.full((nj, ni), 10 * (k + 1), np.uint16),
            sop_class=MR_IMAGE,
            modality="MR",
            series_uid=uid,
            ImagePositionPatient=[f"{v:.2f}" for v in ipp],
            ImageOrientationPatient=[f"{v:.6f}" for v in (*row, *col)],
            PixelSpacing=[ps, ps],
        )
    vol = load_series(tmp_path)
    assert any(i.code == "missing-slices" for i in vol.issues)
    assert vol.size == (ni, nj, n)  # not a column or row wider
    first = np.round(origin, 2)
    # voxel (0, 0, 0) is the first slice's first pixel (within the 0.01 mm rounding)
    assert np.linalg.norm(vol.index_to_lps([0, 0, 0]) - first) < 0.02
    # and the first slice's pixels are copied, not interpolated
    assert np.all(vol.array[0] == 10)
