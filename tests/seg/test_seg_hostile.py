"""Hostile SEG / RTSTRUCT headers: one line naming the element, memory bounded (issue #13).

Found by the fuzz seeds added for segmentations (scripts/fuzz.py, ``stats IMAGES --seg FILE``)
and the probes that followed: a SEG claiming 2^31 frames or a 65535x65535 matrix reached
highdicom, which allocated the whole claim (a MemoryError reported as 'the frames do not form a
regular 3D grid'); a SEG whose (0018,0088) Spacing Between Slices is 1e-9 mm made highdicom plan
a 2.5e9-slice grid; an RTSTRUCT contour point 10 km away was filled as a huge polygon clipped to
the image. Each is now refused before anything is allocated, naming the file and the element.
The SEG runs happen in a child limited to 2 GiB of address space, so a regression fails the
test instead of exhausting the machine.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from tests.bounded import python_bounded
from tests.conftest import shared_path
from volumeviz.errors import HeaderError
from volumeviz.io.rtstruct import read_rtstruct
from volumeviz.io.seg import read_seg
from volumeviz.io.volume import load_series

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

HD = "seg/highdicom_ct2_seg_set"
RT = "seg/rtutils_ge_discoverymi_phantom_rtstruct"

READ = """
import sys
from volumeviz.errors import VolumeVizError
from volumeviz.io.seg import read_seg
try:
    seg = read_seg(sys.argv[1])
except VolumeVizError as exc:
    print(type(exc).__name__ + ": " + str(exc))
else:
    print("read", seg.grid.shape)
"""


def _pixel_measures(ds):
    return ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            {"NumberOfFrames": 2147483647},
            "(0028,0008) Number of Frames '2147483647' exceeds the 3 frame(s) its (7FE0,0010) "
            "Pixel Data can hold (96 bytes; 32 a 16x16 frame)",
        ),
        (
            {"Rows": 65535, "Columns": 65535},
            "(7FE0,0010) Pixel Data has 96 bytes, fewer than one 65535x65535 frame needs",
        ),
        ({"NumberOfFrames": 0}, "(0028,0008) Number of Frames '0' is below 1"),
        (
            {"SpacingBetweenSlices": "1e-9"},
            "(0018,0088) Spacing Between Slices 1e-09 mm and (0020,0032) Image Position "
            "(Patient) values need a 16x16x2500000001 grid",
        ),
    ],
)
def test_seg_header_claims_are_checked_before_allocating(shared_data, tmp_path, change, needle):
    src = shared_path(shared_data, f"{HD}/seg/seg_image_ct_binary.dcm")
    ds = pydicom.dcmread(src)
    for keyword, value in change.items():
        target = _pixel_measures(ds) if keyword == "SpacingBetweenSlices" else ds
        setattr(target, keyword, value)
    bad = tmp_path / "seg.dcm"
    ds.save_as(bad)
    run = python_bounded(READ, str(bad), timeout=120)
    assert run.returncode == 0, run.stderr
    out = run.stdout.strip()
    assert out.startswith(("HeaderError: ", "SegmentationError: ")), out
    assert f"{bad}: " in out
    assert needle in out, out
    assert "\n" not in out


def test_the_unchanged_seg_reads(shared_data):
    seg = read_seg(shared_path(shared_data, f"{HD}/seg/seg_image_ct_binary.dcm"))
    assert seg.grid.shape == (3, 16, 16)


@pytest.mark.parametrize("x", [1e7, 1e300])
def test_rtstruct_contour_point_far_away_is_refused(shared_data, tmp_path, x):
    ct = load_series(shared_path(shared_data, f"{RT}/ct"))
    ds = pydicom.dcmread(shared_path(shared_data, f"{RT}/rtstruct/rt.dcm"))
    contour = ds.ROIContourSequence[0].ContourSequence[0]
    pts = [float(v) for v in contour.ContourData]
    good = read_rtstruct(shared_path(shared_data, f"{RT}/rtstruct/rt.dcm"), ct)
    assert good.segments[0].mask.any()
    pts[0] = x
    contour.ContourData = [f"{v:.6g}" for v in pts]
    bad: Path = tmp_path / "rt.dcm"
    ds.save_as(bad)
    with pytest.raises(HeaderError) as exc:
        read_rtstruct(bad, ct)
    message = str(exc.value)
    assert message.startswith(f"{bad}: (3006,0039) ROI Contour Sequence")
    assert "(3006,0050) Contour Data" in message
    assert "is implausible: a point more than 1e+06 mm from the origin" in message


def test_segment_number_is_read_checked(shared_data, tmp_path):
    """Final 10,000-case fuzz run (seed 1, case 2931): (0062,0004) Segment Number '3\\2' reached
    int() through highdicom's get_segment_numbers ('internal error'); now read through Header."""
    ds = pydicom.dcmread(shared_path(shared_data, f"{HD}/seg/seg_image_ct_binary.dcm"))
    ds.SegmentSequence[0].SegmentNumber = [3, 2]
    bad = tmp_path / "seg.dcm"
    ds.save_as(bad)
    with pytest.raises(HeaderError) as exc:
        read_seg(bad)
    assert str(exc.value) == (
        f"{bad}: (0062,0002) Segment Sequence > (0062,0004) Segment Number '3\\2' has 2 values; "
        "one expected"
    )
