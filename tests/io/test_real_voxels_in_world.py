"""Real series: every stored pixel ends up at the LPS position its own file gives it.

Independent of the loader's code path: each file is read with pydicom, the patient position of a
pixel (row r, column c) is computed from that file's (0020,0032) Image Position, (0020,0037) Image
Orientation and (0028,0030) Pixel Spacing (PS3.3 C.7.6.2.1.1), and the loaded Volume must hold
the same HU at that position. A left/right, anterior/posterior or head/foot flip, a wrong slice
order or a transposed row/column would each fail this.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_rescale

from volumeviz.io.volume import load_series

pytestmark = pytest.mark.shared_data

SERIES = [
    "ct/philips_ingenuity_axial_5mm",  # axial, identity orientation
    "mr/siemens_t1_sag_hfs",  # sagittal
    "mr/toshiba_galan_oblique20_b0",  # oblique about all three axes
]


def _pixel_lps(ds: pydicom.Dataset, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    ipp = np.asarray(ds.ImagePositionPatient, float)
    iop = np.asarray(ds.ImageOrientationPatient, float)
    row_cos, col_cos = iop[:3], iop[3:]  # direction of increasing column, of increasing row
    dr, dc = (float(v) for v in ds.PixelSpacing)  # row spacing, column spacing
    return ipp + np.outer(cols * dc, row_cos) + np.outer(rows * dr, col_cos)


@pytest.mark.parametrize("rel", SERIES)
def test_each_file_pixel_is_at_its_own_lps_position(shared_data: Path, rel: str) -> None:
    folder = shared_data / rel
    if not folder.is_dir():
        pytest.fail(f"shared data item missing: {folder}")
    vol = load_series(folder)
    rng = np.random.default_rng(0)
    files = [p for p in sorted(folder.iterdir()) if p.name != "DIRFILE"]
    checked = 0
    for path in files:
        ds = pydicom.dcmread(path)
        if "PixelData" not in ds:
            continue
        stored = apply_rescale(ds.pixel_array, ds)
        n_rows, n_cols = stored.shape
        # the four corners plus random pixels
        rows = np.concatenate([[0, 0, n_rows - 1, n_rows - 1], rng.integers(0, n_rows, 60)])
        cols = np.concatenate([[0, n_cols - 1, 0, n_cols - 1], rng.integers(0, n_cols, 60)])
        idx = vol.lps_to_index(_pixel_lps(ds, rows, cols))
        nearest = np.rint(idx)
        # the pixel centre falls on a voxel centre of the (unresampled) volume
        np.testing.assert_allclose(idx, nearest, atol=1e-3)
        i, j, k = nearest.astype(int).T
        np.testing.assert_array_equal(vol.array[k, j, i], stored[rows, cols])
        checked += 1
    assert checked == vol.size[2]  # every slice of the volume came from one of these files
