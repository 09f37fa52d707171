"""Reading SEG/RTSTRUCT/labelmaps and placing them on their image, checked in world space.

The independent check reads each SEG frame with pydicom alone (pixels, the frame's own (0020,0032)
Image Position, the shared (0020,0037) orientation and (0028,0030) spacing) and asks the placed
Segmentation for the value at that LPS point: highdicom's reading and our regridding must agree
with the file, voxel by voxel.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.conftest import shared_path
from volumeviz.errors import HeaderError
from volumeviz.io.rtstruct import contour_to_index, read_rtstruct
from volumeviz.io.seg import (
    SegmentationError,
    SegmentationMismatch,
    load_segmentation,
    place_on,
    read_labelmap,
    read_seg,
    segmentations_for,
)
from volumeviz.io.volume import load_series
from volumeviz.model.segmentation import Grid, Segmentation
from volumeviz.model.volume import Volume

DCMQI = "seg/ct3slice_liver_seg_dcmqi"
HD = "seg/highdicom_ct2_seg_set"
RT = "seg/rtutils_ge_discoverymi_phantom_rtstruct"

#: every SEG in the shared data, with the image series it was drawn on
SEGS = [
    (f"{DCMQI}/seg/liver.dcm", f"{DCMQI}/ct"),
    (f"{DCMQI}/seg/partial_overlaps.dcm", f"{DCMQI}/ct"),
    (f"{HD}/seg/seg_image_ct_binary.dcm", f"{HD}/ct2"),
    (f"{HD}/seg/seg_image_ct_binary_overlap.dcm", f"{HD}/ct2"),
    (f"{HD}/seg/seg_image_ct_binary_fractional.dcm", f"{HD}/ct2"),
    (f"{HD}/seg/seg_image_ct_true_fractional.dcm", f"{HD}/ct2"),
    (f"{HD}/seg/seg_image_ct_binary_single_frame.dcm", f"{HD}/ct_small"),
    ("realworld/ct_and_seg_same_size/label_seg.dcm", "realworld/ct_and_seg_same_size"),
]


def _image(root: Path, rel: str) -> Volume:
    p = shared_path(root, rel)
    if p.name == "ct_and_seg_same_size":
        return load_series(sorted(p.glob("IMG*.dcm")))
    return load_series(p)


def _value_at(seg: Segmentation, number: int, lps: np.ndarray) -> np.ndarray:
    s = seg.segment(number)
    idx = np.rint(seg.grid.lps_to_index(lps)).astype(int)  # (n, 3) i, j, k
    full = s.full_mask(seg.grid.shape)
    inside = np.all((idx >= 0) & (idx < np.array(seg.grid.shape[::-1])), axis=1)
    assert inside.all(), "a SEG pixel maps outside its own image"
    return full[idx[:, 2], idx[:, 1], idx[:, 0]]


@pytest.mark.parametrize(("seg_rel", "ct_rel"), SEGS, ids=[Path(s).stem for s, _ in SEGS])
def test_every_seg_frame_lands_where_its_own_header_puts_it(
    shared_data: Path, seg_rel: str, ct_rel: str
) -> None:
    ct = _image(shared_data, ct_rel)
    path = shared_path(shared_data, seg_rel)
    seg = load_segmentation(path, ct)
    assert seg.kind == "SEG"
    assert not [i for i in seg.issues if i.code == "outside-image"]
    ds = pydicom.dcmread(path)
    frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), ds.Rows, ds.Columns)
    shared = ds.SharedFunctionalGroupsSequence[0]
    iop = np.array(shared.PlaneOrientationSequence[0].ImageOrientationPatient, float)
    dr, dc = (float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing)
    row_dir, col_dir = iop[:3], iop[3:]  # along a row (increasing column), down a column
    fractional = ds.SegmentationType == "FRACTIONAL"
    scale = float(ds.get("MaximumFractionalValue", 1))
    checked = 0
    for f, frame in enumerate(frames):
        pf = ds.PerFrameFunctionalGroupsSequence[f]
        ipp = np.array(pf.PlanePositionSequence[0].ImagePositionPatient, float)
        number = int(pf.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        rr, cc = np.nonzero(frame)
        zr, zc = np.nonzero(frame == 0)
        pick = np.linspace(0, len(zr) - 1, min(len(zr), 200)).astype(int) if len(zr) else []
        rr = np.concatenate([rr, zr[pick]])
        cc = np.concatenate([cc, zc[pick]])
        lps = ipp + cc[:, None] * dc * row_dir + rr[:, None] * dr * col_dir
        got = _value_at(seg, number, lps)
        want = frame[rr, cc].astype(float)
        if fractional:
            np.testing.assert_allclose(got, want / scale, atol=1e-6)
        else:
            np.testing.assert_array_equal(got.astype(bool), want > 0)
        checked += int(np.count_nonzero(frame))
    assert checked > 0


def test_dcmqi_segs_equal_the_nrrd_labelmaps_they_were_made_from(shared_data: Path) -> None:
    ct = _image(shared_data, f"{DCMQI}/ct")
    liver = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/liver.dcm"), ct)
    ref = place_on(read_labelmap(shared_path(shared_data, f"{DCMQI}/nrrd_ref/liver_seg.nrrd")), ct)
    assert len(liver) == 1
    assert len(ref) == 1
    a = liver.segments[0].full_mask(ct.array.shape)
    b = ref.segments[0].full_mask(ct.array.shape)
    assert a.sum() > 1000
    np.testing.assert_array_equal(a, b)
    # five overlapping segments, three labelmaps: matched by label through dcmqi's JSON
    seg = load_segmentation(shared_path(shared_data, f"{DCMQI}/seg/partial_overlaps.dcm"), ct)
    spec = json.loads(
        shared_path(shared_data, f"{DCMQI}/nrrd_ref/seg-example_partial_overlaps.json").read_text()
    )
    seen = set()
    for f, attrs in enumerate(spec["segmentAttributes"], start=1):
        lab = place_on(
            read_labelmap(shared_path(shared_data, f"{DCMQI}/nrrd_ref/partial_overlaps-{f}.nrrd")),
            ct,
        )
        for a_ in attrs:
            mine = seg.segment(a_["SegmentLabel"])
            np.testing.assert_array_equal(
                mine.full_mask(ct.array.shape),
                lab.segment(int(a_["labelID"])).full_mask(ct.array.shape),
            )
            # Recommended Display CIELab -> sRGB gives the RGB dcmqi was given
            np.testing.assert_allclose(
                np.array(mine.color) * 255, a_["recommendedDisplayRGBValue"], atol=1.0
            )
            assert mine.type is not None
            assert mine.type.meaning == a_["SegmentedPropertyTypeCodeSequence"]["CodeMeaning"]
            seen.add(mine.label)
    assert len(seen) == 5
    # they do overlap
    masks = [s.full_mask(ct.array.shape) for s in seg.segments]
    assert (np.sum(masks, axis=0) > 1).any()


def test_fractional_segs_keep_fractions(shared_data: Path) -> None:
    ct = _image(shared_data, f"{HD}/ct2")
    true_frac = load_segmentation(
        shared_path(shared_data, f"{HD}/seg/seg_image_ct_true_fractional.dcm"), ct
    )
    m = true_frac.segments[0].mask
    assert true_frac.segments[0].fractional
    values = set(np.unique(m[m > 0]).round(6).tolist())
    assert len(values) > 1 or max(values) < 1.0  # truly fractional: not only 0 and 1
    binary_frac = load_segmentation(
        shared_path(shared_data, f"{HD}/seg/seg_image_ct_binary_fractional.dcm"), ct
    )
    assert set(np.unique(binary_frac.segments[0].mask).tolist()) <= {0.0, 1.0}


def test_rtstruct_contour_point_against_the_ct_header(shared_data: Path) -> None:
    ct_dir = shared_path(shared_data, f"{RT}/ct")
    ct = load_series(ct_dir)
    rt_path = shared_path(shared_data, f"{RT}/rtstruct/rt.dcm")
    rt = place_on(read_rtstruct(rt_path, ct), ct)
    ds = pydicom.dcmread(rt_path)
    contour = ds.ROIContourSequence[0].ContourSequence[0]
    point = np.array(contour.ContourData[:3], float)
    ref_sop = contour.ContourImageSequence[0].ReferencedSOPInstanceUID
    img = next(
        d
        for d in (pydicom.dcmread(f, stop_before_pixels=True) for f in sorted(ct_dir.iterdir()))
        if d.SOPInstanceUID == ref_sop
    )
    ipp = np.array(img.ImagePositionPatient, float)
    iop = np.array(img.ImageOrientationPatient, float)
    dr, dc = (float(v) for v in img.PixelSpacing)
    d = point - ipp
    col, row = d @ iop[:3] / dc, d @ iop[3:] / dr
    normal = np.cross(iop[:3], iop[3:])
    assert abs(d @ normal) < 1e-3  # the point lies in its referenced image's plane
    i, j, k = contour_to_index(point[None], ct)[0]
    assert (i, j) == pytest.approx((col, row), abs=1e-3)
    np.testing.assert_allclose(ct.index_to_lps([0, 0, round(k)]), ipp, atol=1e-3)  # that slice
    # the ROI is a square ring (the second contour is a hole): pixel centres by hand
    seg = rt.segments[0]
    full = seg.full_mask(ct.array.shape)
    outer = np.array(contour.ContourData, float).reshape(-1, 3)
    inner = np.array(ds.ROIContourSequence[0].ContourSequence[1].ContourData, float).reshape(-1, 3)
    lo_o = (outer[:, :2].min(axis=0) - ipp[:2]) / [dc, dr]
    hi_o = (outer[:, :2].max(axis=0) - ipp[:2]) / [dc, dr]
    lo_i = (inner[:, :2].min(axis=0) - ipp[:2]) / [dc, dr]
    hi_i = (inner[:, :2].max(axis=0) - ipp[:2]) / [dc, dr]
    kk = round(k)
    ring_px = (int(np.ceil(lo_o[1])) + 1, int(np.ceil(lo_o[0])) + 1)  # inside outer, not inner
    assert ring_px[0] < lo_i[1]
    assert full[kk, ring_px[0], ring_px[1]]
    centre = (round((lo_i[1] + hi_i[1]) / 2), round((lo_i[0] + hi_i[0]) / 2))
    assert not full[kk, centre[0], centre[1]]  # the hole
    assert not full[kk, int(hi_o[1]) + 3, int(hi_o[0]) + 3]  # outside
    assert not full[1 - kk].any()  # nothing on the other slice
    assert seg.label == "ROI-1"
    assert np.array(seg.color) * 255 == pytest.approx([162, 136, 95])
    assert len(seg.contours) == 2
    # the file's Frame of Reference UID differs from the CT's: reported, placed by its references
    codes = [i.code for i in rt.issues]
    assert "frame-of-reference" in codes
    assert ct.meta.frame_of_reference_uid in rt.issues[codes.index("frame-of-reference")].message


def test_seg_auto_finds_only_what_belongs(shared_data: Path) -> None:
    ct = _image(shared_data, f"{DCMQI}/ct")
    found = segmentations_for(ct, shared_path(shared_data, DCMQI))
    assert sorted(Path(f.path).name for f in found) == ["liver.dcm", "partial_overlaps.dcm"]
    other = _image(shared_data, f"{RT}/ct")
    assert segmentations_for(other, shared_path(shared_data, DCMQI)) == []
    rt = segmentations_for(other, shared_path(shared_data, RT))
    assert [(Path(f.path).name, f.kind) for f in rt] == [("rt.dcm", "RTSTRUCT")]


def test_other_frame_of_reference_without_reference_is_refused(
    shared_data: Path, tmp_path: Path
) -> None:
    ct = _image(shared_data, f"{DCMQI}/ct")
    src = shared_path(shared_data, f"{DCMQI}/seg/liver.dcm")
    ds = pydicom.dcmread(src)
    ds.FrameOfReferenceUID = "1.2.3.4.5"
    ds.ReferencedSeriesSequence[0].SeriesInstanceUID = "1.2.3.4.6"
    ds.save_as(tmp_path / "moved.dcm")
    with pytest.raises(
        SegmentationMismatch, match=r"moved\.dcm: \(0020,0052\) Frame of Reference"
    ):
        load_segmentation(tmp_path / "moved.dcm", ct)


def test_labelmap_partly_outside_is_cut_and_measured() -> None:
    img = Volume(np.zeros((4, 10, 10), np.int16), spacing=(1.0, 1.0, 2.0))
    lab = np.zeros((4, 10, 10), np.uint8)
    lab[1:3, 2:5, 6:10] = 1
    # the labelmap's grid is 3 mm to the patient's left: its last 3 columns leave the image
    seg = Segmentation.from_labelmap(lab, Grid((4, 10, 10), (3.0, 0.0, 0.0), (1.0, 1.0, 2.0)))
    placed = place_on(seg, img)
    cut = [i for i in placed.issues if i.code == "outside-image"]
    assert len(cut) == 1
    # columns x = 10, 11, 12 leave the image, whose voxels end at x = 9.5: 2.5 mm beyond
    assert cut[0].size == pytest.approx(2.5)
    assert "18 of 24 voxels" in cut[0].message
    m = placed.segments[0].full_mask(img.array.shape)
    assert m.sum() == 2 * 3 * 1  # only column i=9 of the image (x=9) holds label column x=9
    assert m[1:3, 2:5, 9].all()
    assert "geometry-only" in [i.code for i in placed.issues]


def test_malformed_files_give_one_line(shared_data: Path, tmp_path: Path) -> None:
    src = shared_path(shared_data, f"{DCMQI}/seg/liver.dcm")
    bad = tmp_path / "truncated.dcm"
    bad.write_bytes(src.read_bytes()[:2000])
    with pytest.raises(SegmentationError, match=r"truncated\.dcm: ") as info:
        read_seg(bad)
    assert "\n" not in str(info.value)
    rt_src = shared_path(shared_data, f"{RT}/rtstruct/rt.dcm")
    ds = pydicom.dcmread(rt_src)
    ds.ROIContourSequence[0].ContourSequence[0].ContourData = [1.0, 2.0]
    ds.save_as(tmp_path / "badcontour.dcm")
    ct = _image(shared_data, f"{RT}/ct")
    with pytest.raises(HeaderError, match=r"badcontour\.dcm: .*\(3006,0050\) Contour Data") as e:
        read_rtstruct(tmp_path / "badcontour.dcm", ct)
    assert "\n" not in str(e.value)
    shutil.copy(rt_src, tmp_path / "copy.dcm")
    with pytest.raises(SegmentationError, match="not a segmentation"):
        load_segmentation(sorted(shared_path(shared_data, f"{RT}/ct").iterdir())[0], ct)


@pytest.mark.parametrize(("seg_rel", "ct_rel"), SEGS, ids=[Path(s).stem for s, _ in SEGS])
def test_segment_colours_are_the_files_own(shared_data: Path, seg_rel: str, ct_rel: str) -> None:
    """SEG: Recommended Display CIELab Value, converted as highdicom converts it (sRGB)."""
    from highdicom.color import CIELabColor

    path = shared_path(shared_data, seg_rel)
    seg = load_segmentation(path, _image(shared_data, ct_rel))
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    by_number = {int(item.SegmentNumber): item for item in ds.SegmentSequence}
    for s in seg.segments:
        item = by_number[s.number]
        if "RecommendedDisplayCIELabValue" not in item:
            continue
        want = CIELabColor.from_dicom_value(item.RecommendedDisplayCIELabValue).to_rgb(clip=True)
        np.testing.assert_allclose(np.asarray(s.color) * 255, want, atol=0.51)


def test_rtstruct_and_labelmap_colours(shared_data: Path) -> None:
    """RTSTRUCT: (3006,002A) ROI Display Color; a labelmap without colours: distinct palette."""
    ct = load_series(shared_path(shared_data, f"{RT}/ct"))
    path = shared_path(shared_data, f"{RT}/rtstruct/rt.dcm")
    rt = read_rtstruct(path, ct)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    want = [float(v) / 255 for v in ds.ROIContourSequence[0].ROIDisplayColor]
    np.testing.assert_allclose(rt.segments[0].color, want, atol=1e-6)
    lab = np.zeros(ct.array.shape, np.uint8)
    for n in range(1, 7):
        lab[..., n * 5 : n * 5 + 3] = n
    seg = Segmentation.from_labelmap(lab, Grid.of(ct))
    colours = [s.color for s in seg.segments]
    assert len(colours) == 6
    assert len(set(colours)) == 6
