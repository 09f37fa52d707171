"""Measurements on CT/MR volumes: 1 cm is 1 cm on any plane, angles in degrees, HU under a point.

Truth comes from the test's own construction (index offsets times the spacing it chose, pixel
offsets on a plane times the plane's pixel size) and, for real series, from the DICOM files'
own (0020,0032)/(0020,0037)/(0028,0030) read here with pydicom, never from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pydicom
import pytest

from tests.conftest import shared_path
from volumeviz.errors import UsageError
from volumeviz.model.phantom import rotation
from volumeviz.model.volume import GeometryIssue, Volume, VolumeMeta
from volumeviz.ops import measure
from volumeviz.ops.mpr import reslice

SPACING = (0.7, 0.9, 2.5)


def _oblique_volume(values: np.ndarray | None = None) -> Volume:
    direction = rotation("x", 20) @ rotation("z", 35)
    arr = np.zeros((20, 30, 40), np.int16) if values is None else values
    return Volume(arr, origin=(-12.0, 30.0, 7.5), spacing=SPACING, direction=direction)


def test_distance_on_a_phantom_of_known_spacing():
    vol = _oblique_volume()
    a_ijk, b_ijk = np.array([3, 4, 2]), np.array([33, 10, 17])
    truth = float(np.linalg.norm((b_ijk - a_ijk) * np.array(SPACING)))
    m = measure.volume_distance(vol, vol.index_to_lps(a_ijk), vol.index_to_lps(b_ijk))
    assert m.units == "mm"
    assert m.calibration == measure.PATIENT
    assert m.value == pytest.approx(truth, abs=1e-9)
    # 1 cm along the slice axis is four slices of 2.5 mm
    m = measure.volume_distance(vol, vol.index_to_lps([5, 5, 2]), vol.index_to_lps([5, 5, 6]))
    assert m.value == pytest.approx(10.0, abs=1e-9)


@pytest.mark.parametrize("normal", [(0.0, 0.34, 0.94), (0.5, -0.3, 0.81), (1.0, 0.0, 0.0)])
def test_distance_on_an_oblique_plane(normal):
    vol = _oblique_volume()
    s = reslice(vol, "oblique", normal=normal, pixel_mm=0.8)
    (r0, c0), (r1, c1) = (10.0, 12.0), (34.0, 51.0)
    truth = math.hypot((r1 - r0) * s.spacing[0], (c1 - c0) * s.spacing[1])
    a, b = s.pixel_to_lps(r0, c0), s.pixel_to_lps(r1, c1)
    # both points lie on the plane, and the length is the in-plane pixel distance in mm
    assert abs(s.lps_to_pixel(a)[2]) < 1e-9
    assert abs(s.lps_to_pixel(b)[2]) < 1e-9
    assert measure.volume_distance(vol, a, b).value == pytest.approx(truth, rel=1e-12)


@pytest.mark.parametrize("degrees", [12.5, 37.0, 90.0, 151.0, 179.5])
def test_angle_of_known_degrees_on_an_oblique_plane(degrees):
    vol = _oblique_volume()
    s = reslice(vol, "oblique", normal=(0.2, 0.4, 0.9))
    vertex = s.pixel_to_lps(40, 40)
    t = math.radians(degrees)
    a = vertex + 25.0 * s.right
    b = vertex + 13.0 * (math.cos(t) * s.right + math.sin(t) * s.down)
    m = measure.volume_angle(vol, a, vertex, b)
    assert m.units == "°"
    assert m.value == pytest.approx(degrees, abs=1e-9)


def test_angle_needs_three_distinct_points():
    vol = _oblique_volume()
    with pytest.raises(UsageError, match="three distinct points"):
        measure.volume_angle(vol, (0, 0, 0), (0, 0, 0), (1, 0, 0))


def test_value_under_a_point_is_the_nearest_voxel_in_hu():
    rng = np.random.default_rng(3)
    arr = rng.integers(-1000, 2000, size=(20, 30, 40)).astype(np.int16)
    vol = _oblique_volume(arr).replace(meta=VolumeMeta(modality="CT", units="HU"))
    ijk = (17, 22, 9)
    lps = vol.index_to_lps(ijk) + 0.3 * np.array(SPACING) @ vol.direction.T * 0.5
    v = measure.voxel_value(vol, lps)
    assert v.ijk == ijk
    assert v.value == float(arr[9, 22, 17])
    assert v.units == "HU"
    assert "HU" in str(v)
    assert measure.voxel_value(vol, vol.index_to_lps((-3, 0, 0))).value is None


def test_ellipse_statistics_on_a_gradient_across_an_oblique_plane():
    """Values = the LPS x coordinate: the mean over a centred circle is its centre's x."""
    base = _oblique_volume()
    k, j, i = np.indices(base.array.shape)
    lps = base.index_to_lps(np.stack([i, j, k], -1).reshape(-1, 3)).reshape(*i.shape, 3)
    vol = base.replace(array=lps[..., 0].astype(np.float32))
    s = reslice(vol, "oblique", normal=(0.1, 0.3, 0.95), pixel_mm=0.25)
    centre = s.center
    rx, ry = 6.0, 4.0
    roi = measure.ellipse_points(centre, s.right, s.down, rx, ry)
    coarse = measure.ellipse_stats(vol, roi)  # pixels of the smallest spacing, 0.7 mm
    assert coarse.area_mm2 == pytest.approx(math.pi * rx * ry, rel=0.05)
    st = measure.ellipse_stats(vol, roi, pixel_mm=0.1)
    assert st.area_mm2 == pytest.approx(math.pi * rx * ry, rel=0.01)
    assert st.mean == pytest.approx(centre[0], abs=0.05)
    # extremes: the ellipse's points of largest and smallest x, within a pixel
    extent_x = math.hypot(rx * s.right[0], ry * s.down[0])
    assert st.maximum == pytest.approx(centre[0] + extent_x, abs=0.3)
    assert st.minimum == pytest.approx(centre[0] - extent_x, abs=0.3)
    assert st.sd > 0


def test_ellipse_roi_shares_the_stats_code():
    """The ROI numbers are exactly region_stats over ellipse_mask on the same plane."""
    from volumeviz.ops.stats import ellipse_mask, region_stats

    rng = np.random.default_rng(5)
    vol = _oblique_volume(rng.integers(0, 100, size=(20, 30, 40)).astype(np.int16))
    s = reslice(vol, "oblique", normal=(0.0, 0.34, 0.94), point=vol.center_lps)
    mine = measure.ellipse_stats(vol, measure.ellipse_points(s.center, s.right, s.down, 5, 3))
    theirs = region_stats(s, ellipse_mask(s, s.center, 5, 3))
    assert (mine.mean, mine.sd, mine.area_mm2, mine.voxels) == (
        theirs.mean, theirs.sd, theirs.area_mm2, theirs.voxels,
    )  # fmt: skip


def test_ellipse_axes_must_be_perpendicular():
    vol = _oblique_volume()
    with pytest.raises(UsageError, match="perpendicular"):
        measure.ellipse_stats(vol, [(0, 0, 0), (5, 0, 0), (3, 3, 0)])


def test_no_geometry_is_measured_in_voxels_not_invented_mm():
    vol = Volume(np.zeros((4, 10, 10), np.int16), spacing=(1.0, 1.0, 1.0)).with_issue(
        GeometryIssue("no-geometry", "no (0020,0032): spacing assumed")
    )
    m = measure.volume_distance(vol, vol.index_to_lps([0, 0, 0]), vol.index_to_lps([3, 4, 0]))
    assert m.units == "voxels"
    assert m.calibration == measure.UNCALIBRATED
    assert m.value == pytest.approx(5.0)
    assert "uncalibrated" in measure.describe_markup(
        vol, measure.Markup("distance", ((0, 0, 0), (3, 4, 0)))
    )


def test_markup_parse_and_describe():
    vol = Volume(np.full((5, 20, 20), 40, np.int16), meta=VolumeMeta(modality="CT", units="HU"))
    d = measure.Markup.parse("distance:0,0,0, 3,4,0")
    assert d.points == ((0.0, 0.0, 0.0), (3.0, 4.0, 0.0))
    assert measure.describe_markup(vol, d) == "distance 5.0 mm"
    a = measure.Markup.parse("angle:10,0,0,0,0,0,0,10,0")
    assert measure.describe_markup(vol, a) == "angle 90.0°"
    p = measure.Markup.parse("point:2,3,1")
    assert measure.describe_markup(vol, p) == "L 2.0  P 3.0  S 1.0 mm: 40 HU"
    e = measure.Markup.parse("ellipse:10,10,2,14,10,2,10,12,2")
    text = measure.describe_markup(vol, e)
    assert text.startswith("ellipse 8.0 x 4.0 mm: ")
    assert "mean 40.0 SD 0.0 (min 40, max 40) HU" in text
    for bad in ("distance:1,2,3", "ruler:0,0,0,1,1,1", "point:a,b,c", "point"):
        with pytest.raises(UsageError):
            measure.Markup.parse(bad)


# ------------------------------------------------------------------------------ real series
def _header_lps(ds: pydicom.Dataset, row: float, col: float) -> np.ndarray:
    """LPS of pixel (row, col) from the file's own IPP, IOP and Pixel Spacing (PS3.3 C.7.6.2)."""
    ipp = np.array(ds.ImagePositionPatient, float)
    iop = np.array(ds.ImageOrientationPatient, float)
    dr, dc = (float(x) for x in ds.PixelSpacing)
    return ipp + col * dc * iop[:3] + row * dr * iop[3:]


@pytest.mark.parametrize(
    "rel", ["ct/philips_ingenuity_axial_5mm", "mr/toshiba_galan_oblique20_b0"]
)
def test_one_centimetre_is_one_centimetre_on_real_series(shared_data, rel):
    from volumeviz.io.volume import load_series

    folder = shared_path(shared_data, rel)
    vol = load_series(folder)
    files = [pydicom.dcmread(f) for f in sorted(folder.rglob("*.dcm"))] or [
        pydicom.dcmread(f) for f in sorted(folder.rglob("*")) if f.is_file() and f.name[0] != "."
    ]
    files = [ds for ds in files if "ImagePositionPatient" in ds]
    normal = np.cross(*np.reshape(np.array(files[0].ImageOrientationPatient, float), (2, 3)))
    files.sort(key=lambda ds: float(np.array(ds.ImagePositionPatient, float) @ normal))
    first, last = files[0], files[-1]
    # across slices: between the same pixel of the first and last file
    a, b = _header_lps(first, 10, 20), _header_lps(last, 10, 20)
    assert measure.volume_distance(vol, a, b).value == pytest.approx(
        float(np.linalg.norm(b - a)), abs=1e-6
    )
    # in-plane: 1 cm worth of pixels along a row is 10 mm
    dc = float(first.PixelSpacing[1])
    n = 10.0 / dc
    a, b = _header_lps(first, 30, 5), _header_lps(first, 30, 5 + n)
    assert measure.volume_distance(vol, a, b).value == pytest.approx(10.0, abs=1e-6)
    # the value under a point is the file's own pixel, rescaled (HU for CT)
    row, col = 40, 33
    stored = float(first.pixel_array[row, col])
    truth = stored * float(getattr(first, "RescaleSlope", 1)) + float(
        getattr(first, "RescaleIntercept", 0)
    )
    v = measure.voxel_value(vol, _header_lps(first, row, col))
    assert v.value == pytest.approx(truth)
    if first.Modality == "CT":
        assert v.units == "HU"


def test_angle_on_a_real_oblique_series(shared_data):
    from volumeviz.io.volume import load_series

    vol = load_series(shared_path(shared_data, "mr/toshiba_galan_oblique20_b0"))
    # the loader's own in-plane axes are perpendicular: a right angle at a voxel corner
    o = vol.index_to_lps([10, 10, 5])
    m = measure.volume_angle(vol, vol.index_to_lps([30, 10, 5]), o, vol.index_to_lps([10, 25, 5]))
    assert m.value == pytest.approx(90.0, abs=1e-6)
    # 45 degrees in the slice plane: equal mm along row and column (3 mm x 3 mm pixels)
    m = measure.volume_angle(vol, vol.index_to_lps([30, 10, 5]), o, vol.index_to_lps([20, 20, 5]))
    assert m.value == pytest.approx(45.0, abs=1e-6)
