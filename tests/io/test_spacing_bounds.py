"""(0018,0088) / (0018,0050) beyond 10 m are ignored with a note, never used to place slices.

Final 10,000-case fuzz run (seed 1, cases 1079 and 9385): a Siemens mosaic's Spacing Between
Slices '1e308' placed its tiles at infinity and load_series / info ended in 'internal error'
(OverflowError in io/dimensions.py position_key). The value is now bounded where it is read
(io/mosaic.py and discovery), like pixel spacing: out of range means ignored and said so.
"""

from __future__ import annotations

import pydicom
import pytest

from tests.conftest import shared_path
from volumeviz.io.discover import scan
from volumeviz.io.volume import load_series

pytestmark = pytest.mark.shared_data


@pytest.mark.parametrize("value", ["1e308", "1e5"])
def test_mosaic_with_absurd_spacing_between_slices_uses_slice_thickness(
    shared_data, tmp_path, value
):
    src = shared_path(shared_data, "realworld/siemens_mosaic_dwi_b0/mosaic_b0.dcm")
    reference = load_series(src)
    ds = pydicom.dcmread(src)
    ds.SpacingBetweenSlices = value
    bad = tmp_path / "mosaic.dcm"
    ds.save_as(bad)
    vol = load_series(bad)
    assert vol.size == reference.size
    assert vol.spacing == pytest.approx(reference.spacing, abs=1e-4)
    assert vol.origin == pytest.approx(reference.origin, abs=1e-3)
    shown = f"{float(value):g}".replace("e+", "e")
    assert any(
        f"(0018,0088) Spacing Between Slices '{value}' exceeds 10000; ignored" in n
        or f"Spacing Between Slices '{shown}'" in n
        for n in scan(bad).ignored
    ), scan(bad).ignored
