"""(0020,0037) that is six unit-length numbers but no image plane is refused per file.

Row and column cosines that are parallel (or far from perpendicular) give no slice normal: the
fuzz run's geometry mutation ``[1,0,0,1,0,0]`` on one slice once produced a 'non-parallel'
series resampled with that slice's pixels placed along a zero normal. The orientation reader
(io/discover.py ``orientation``) now refuses such a value, so the file is rejected with one line
naming it and the element, and the other slices load with the hole measured as for any gap.
"""

from __future__ import annotations

import shutil

import pydicom
import pytest

from tests.conftest import shared_path
from volumeviz.errors import NoSeriesError
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_series


def _set_iop(path, iop) -> None:
    ds = pydicom.dcmread(path)
    ds.ImageOrientationPatient = [f"{v:.10g}" for v in iop]
    ds.save_as(path)


@pytest.mark.parametrize(
    ("iop", "dot"),
    [((1, 0, 0, 1, 0, 0), "1.000"), ((1, 0, 0, 0.5, 0.8660254, 0), "0.500")],
)
def test_one_slice_without_an_image_plane_is_rejected_alone(tmp_path, make_marker, iop, dot):
    vol, _ = make_marker(size=(16, 16, 6))
    files = write_synthetic_series(vol, tmp_path)
    _set_iop(files[2], iop)
    loaded = load_series(tmp_path)
    rejected = loaded.meta.extra["rejected_files"]
    shown = "\\".join(f"{float(v)!r}" for v in iop)
    assert rejected == [
        f"{files[2]}: (0020,0037) Image Orientation (Patient) '{shown}' has row and column "
        f"cosines that are not perpendicular (dot {dot})"
    ]
    codes = {i.code for i in loaded.issues}
    assert "non-parallel" not in codes  # the degenerate slice took no part in the geometry
    assert {"missing-slices", "rejected-files"} <= codes
    # the phantom's own grid: the hole is filled on it, not on a grid bent by the bad slice
    assert loaded.size == vol.size
    assert loaded.spacing == pytest.approx(vol.spacing)
    assert loaded.origin == pytest.approx(vol.origin)


def test_a_series_whose_every_slice_has_parallel_cosines_is_refused(tmp_path, make_marker):
    vol, _ = make_marker(size=(16, 16, 3))
    files = write_synthetic_series(vol, tmp_path)
    for f in files:
        _set_iop(f, (0, 1, 0, 0, 1, 0))
    with pytest.raises(NoSeriesError, match=r"\(0020,0037\) Image .* not perpendicular"):
        load_series(tmp_path)


def test_small_real_non_orthogonality_still_loads(shared_data, tmp_path):
    """Cosines written with 4-6 decimals are not exactly perpendicular: that is no refusal."""
    src = shared_path(shared_data, "mr/toshiba_galan_oblique20_b0")
    files = sorted(src.glob("0*.dcm"))[:6]
    for f in files:
        shutil.copy(f, tmp_path / f.name)
    ds = pydicom.dcmread(tmp_path / files[2].name)
    iop = [float(v) for v in ds.ImageOrientationPatient]
    dot = sum(a * b for a, b in zip(iop[:3], iop[3:], strict=True))
    assert abs(dot) < 1e-3  # the real file's own rounding
    reference = load_series(tmp_path)
    assert reference.meta.extra["rejected_files"] == []
    # the same slice with its column turned 60 degrees: rejected, named, the rest loads
    turned = [0.5 * r + 0.8660254 * c for r, c in zip(iop[:3], iop[3:], strict=True)]
    _set_iop(tmp_path / files[2].name, (*iop[:3], *turned))
    loaded = load_series(tmp_path)
    assert len(loaded.meta.extra["rejected_files"]) == 1
    assert loaded.meta.extra["rejected_files"][0].startswith(
        f"{tmp_path / files[2].name}: (0020,0037) Image Orientation (Patient)"
    )
    assert "not perpendicular" in loaded.meta.extra["rejected_files"][0]
    assert loaded.size[2] == reference.size[2]  # the hole measured and filled
    assert "missing-slices" in {i.code for i in loaded.issues}
    assert loaded.spacing[2] == pytest.approx(reference.spacing[2])
