"""The 2D display pipeline against the standard's formulas and pydicom's own functions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import (
    apply_color_lut,
    apply_modality_lut,
    apply_voi_lut,
    apply_windowing,
    convert_color_space,
    pixel_array,
)
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from volumeviz.errors import DicomReadError, UsageError
from volumeviz.io.pixels import (
    MINMAX,
    DisplayParams,
    Window,
    apply_window,
    iter_display_frames,
    modality_values,
    read_dataset,
    to_display,
)


def make_ds(arr: np.ndarray, photometric: str = "MONOCHROME2", **attrs: object) -> Dataset:
    """A minimal in-memory image dataset holding ``arr`` natively (explicit VR little endian)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns = arr.shape[:2]
    ds.SamplesPerPixel = (
        3 if photometric not in ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR") else 1
    )
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = arr.tobytes()
    return ds


def display(ds: Dataset, **kw: object) -> np.ndarray:
    return to_display(pixel_array(ds), DisplayParams.from_dataset(ds), **kw)  # type: ignore[arg-type]


# -- VOI LUT functions: hand-computed values from PS3.3 C.11.2.1.2 / C.11.2.1.3 ----------------
def test_linear_window_hand_computed() -> None:
    x = np.array([-1000, -160, -159, 40, 239, 240, 1000])
    # thresholds c-0.5-(w-1)/2 = -160 and c-0.5+(w-1)/2 = 239; y(40) = (0.5/399+0.5)*255
    assert apply_window(x, Window(40, 400)).tolist() == [
        0, 0, round((( -159 - 39.5) / 399 + 0.5) * 255), 128, 255, 255, 255
    ]  # fmt: skip


def test_linear_exact_window_hand_computed() -> None:
    x = np.array([-161, -160, -100, 40, 240, 241])
    out = apply_window(x, Window(40, 400, function="LINEAR_EXACT")).tolist()
    # y = ((x - c)/w + 0.5) * 255 inside (c - w/2, c + w/2]
    assert out == [0, 0, math.floor((-140 / 400 + 0.5) * 255 + 0.5), 128, 255, 255]


def test_sigmoid_window_hand_computed() -> None:
    x = np.array([40, 140, -60])
    out = apply_window(x, Window(40, 400, function="SIGMOID")).tolist()
    expected = [255 / (1 + math.exp(-4 * (v - 40) / 400)) for v in (40, 140, -60)]
    assert out == [math.floor(e + 0.5) for e in expected]


@pytest.mark.parametrize("func", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
def test_window_functions_match_pydicom(func: str) -> None:
    stored = np.arange(0, 4096, 7, dtype=np.uint16).reshape(1, -1)
    ds = make_ds(
        stored, WindowCenter=1500, WindowWidth=900, VOILUTFunction=func,
        RescaleSlope=1, RescaleIntercept=-1024, BitsStored=12,
    )  # fmt: skip
    ours = display(ds).astype(float)
    ref = apply_windowing(apply_modality_lut(stored, ds), ds)
    y_min, y_max = -1024.0, 4095 - 1024.0  # pydicom's output range for 12-bit stored + rescale
    expected = (ref - y_min) / (y_max - y_min) * 255
    assert np.max(np.abs(ours - expected)) <= 0.5 + 1e-3


def test_bad_window_is_refused() -> None:
    with pytest.raises(UsageError, match="must be >= 1 for LINEAR"):
        Window(40, 0.5)
    with pytest.raises(UsageError, match="VOI LUT Function"):
        Window(40, 400, function="LOG")


# -- Modality LUT ------------------------------------------------------------------------------
def test_rescale_keeps_integers_and_never_float64() -> None:
    params = DisplayParams("MONOCHROME2", rescale_slope=1.0, rescale_intercept=-1024.0)
    out = modality_values(np.array([[0, 1024, 4095]], np.uint16), params)
    assert out.dtype == np.int32
    assert out.tolist() == [[-1024, 0, 3071]]
    params = DisplayParams("MONOCHROME2", rescale_slope=0.5, rescale_intercept=0.25)
    out = modality_values(np.array([[3]], np.int16), params)
    assert out.dtype == np.float32
    assert out.tolist() == [[1.75]]


def test_modality_lut_sequence_matches_pydicom() -> None:
    stored = np.arange(0, 300, dtype=np.uint16).reshape(3, 100)
    item = Dataset()
    item.LUTDescriptor = [256, 10, 16]
    item.ModalityLUTType = "OD"
    item.add_new(0x00283006, "OW", ((np.arange(256) * 16) % 4096).astype("<u2").tobytes())
    voi = Dataset()
    voi.LUTDescriptor = [4096, 0, 16]
    voi.add_new(0x00283006, "OW", (np.arange(4096) * 16).astype("<u2").tobytes())
    ds = make_ds(stored, ModalityLUTSequence=[item], VOILUTSequence=[voi])
    params = DisplayParams.from_dataset(ds)
    ref_modality = apply_modality_lut(stored, ds)
    assert np.array_equal(modality_values(stored, params), ref_modality)
    # the VOI LUT sequence (no window in the file) is used; 16-bit output scaled onto 0..255
    ref_voi = apply_voi_lut(ref_modality, ds, prefer_lut=True)
    out = display(ds)
    assert np.max(np.abs(out - ref_voi * 255.0 / 65535)) <= 0.5 + 1e-6
    assert out[0, 0] == 0  # below the first mapped value (10): the first entry
    # by hand: stored 100 -> modality LUT[90] = 1440 -> VOI 1440*16 -> *255/65535
    assert out[1, 0] == round(1440 * 16 * 255 / 65535)
    # stored 299 is past the 256-entry modality table: its last entry 4080 -> 65280
    assert out[2, 99] == round(65280 * 255 / 65535)


def test_voi_lut_8_bit_table_indexed_over_its_full_length() -> None:
    # pydicom 3.0.2's apply_voi_lut indexes an 8-bit table with uint8 indices (wraps at 256);
    # the standard maps every input up to the last entry, which we check by hand
    stored = np.array([[0, 255, 256, 1000, 5000]], np.uint16)
    voi = Dataset()
    voi.LUTDescriptor = [4096, 0, 8]
    voi.add_new(0x00283006, "OW", (np.arange(4096) // 16).astype("<u2").tobytes())
    out = display(make_ds(stored, VOILUTSequence=[voi]))
    assert out.tolist() == [[0, 15, 16, 62, 255]]


def test_voi_lut_first_mapped_is_signed_for_hu_input() -> None:
    # CT stored unsigned with intercept -1024: the VOI LUT maps from -1024 HU; its descriptor's
    # first value is SS (-1024), which a US reading gives as 64512
    stored = np.array([[0, 1024, 1100, 4000]], np.uint16)
    voi = Dataset()
    voi.add_new(0x00283002, "US", [200, 64512, 8])
    voi.add_new(0x00283006, "OW", np.clip(np.arange(200) * 2, 0, 255).astype("<u2").tobytes())
    ds = make_ds(stored, VOILUTSequence=[voi], RescaleSlope=1, RescaleIntercept=-1024)
    assert DisplayParams.from_dataset(ds).voi_luts[0].first_mapped == -1024
    # HU -1024 -> entry 0; HU 0 -> past the table -> last entry 255; HU 76 -> last
    assert display(ds).tolist() == [[0, 255, 255, 255]]
    ds2 = make_ds(np.array([[0, 50, 100]], np.uint16), VOILUTSequence=[voi],
                  RescaleSlope=1, RescaleIntercept=-1100)  # fmt: skip
    # HU -1100 and -1050 are below the first mapped -1024 -> entry 0; HU -1000 -> entry 24 = 48
    assert display(ds2).tolist() == [[0, 0, 48]]


def test_voi_lut_with_12_bit_output_is_scaled() -> None:
    stored = np.array([[0, 1, 2, 3]], np.uint16)
    voi = Dataset()
    voi.LUTDescriptor = [4, 0, 12]
    voi.LUTData = [0, 1365, 2730, 4095]
    voi.LUTExplanation = "thirds"
    ds = make_ds(stored, VOILUTSequence=[voi], WindowCenter=2, WindowWidth=4)
    assert display(ds, voi_lut=0).tolist() == [[0, 85, 170, 255]]
    assert DisplayParams.from_dataset(ds).voi_luts[0].explanation == "thirds"
    with pytest.raises(UsageError, match="VOI LUT 1 does not exist"):
        display(ds, voi_lut=1)


# -- presentation -------------------------------------------------------------------------------
def test_monochrome1_is_inverted() -> None:
    stored = np.array([[0, 150, 300]], np.uint16)
    m2 = display(make_ds(stored, WindowCenter=150, WindowWidth=201))
    m1 = display(make_ds(stored, "MONOCHROME1", WindowCenter=150, WindowWidth=201))
    assert m2.tolist() == [[0, 128, 255]]
    assert m1.tolist() == [[255, 127, 0]]


def test_presentation_lut_shape_inverse() -> None:
    stored = np.array([[0, 300]], np.uint16)
    out = display(
        make_ds(stored, WindowCenter=150, WindowWidth=201, PresentationLUTShape="INVERSE")
    )
    assert out.tolist() == [[255, 0]]


# -- colour -------------------------------------------------------------------------------------
def test_native_ybr_full_hand_computed() -> None:
    # PS3.3 C.7.6.3.1.2: R = Y + 1.402 (Cr-128), G = Y - 0.344136 (Cb-128) - 0.714136 (Cr-128),
    # B = Y + 1.772 (Cb-128)
    ybr = np.array([[[128, 128, 200], [60, 90, 128]]], np.uint8)
    out = display(make_ds(ybr, "YBR_FULL"))
    expected = []
    for y, cb, cr in ybr[0].astype(float):
        expected.append([y + 1.402 * (cr - 128), y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128),
                         y + 1.772 * (cb - 128)])  # fmt: skip
    assert np.max(np.abs(out[0].astype(float) - np.clip(expected, 0, 255))) <= 1.0


def test_native_ybr_full_422_hand_computed() -> None:
    # 1 row, 2 columns: Y0 Y1 Cb Cr share chroma
    ds = make_ds(np.zeros((1, 2, 3), np.uint8), "YBR_FULL_422")
    ds.PixelData = bytes([100, 150, 128, 170])
    out = display(ds)
    for col, y in enumerate((100, 150)):
        expected = [y + 1.402 * 42, y - 0.714136 * 42, y]
        assert np.max(np.abs(out[0, col].astype(float) - expected)) <= 1.0


def test_planar_configuration_1_is_interleaved_by_the_decoder() -> None:
    rgb = np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]], np.uint8)
    ds = make_ds(rgb, "RGB", PlanarConfiguration=1)
    ds.PixelData = np.moveaxis(rgb, -1, 0).tobytes()  # RRRR GGGG BBBB
    assert np.array_equal(display(ds), rgb)


def test_palette_16_bit_entries() -> None:
    idx = np.array([[0, 1, 2, 3]], np.uint8)
    ds = make_ds(idx, "PALETTE COLOR")
    for colour, table in (("Red", [0, 65535, 32896, 257]), ("Green", [0, 0, 65535, 514]),
                          ("Blue", [65535, 0, 0, 771])):  # fmt: skip
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array(table, "<u2").tobytes())
    assert display(ds).tolist() == [[[0, 0, 255], [255, 0, 0], [128, 255, 0], [1, 2, 3]]]


def test_palette_declared_16_bit_with_8_bit_values_is_not_darkened() -> None:
    idx = np.array([[0, 1]], np.uint8)
    ds = make_ds(idx, "PALETTE COLOR")
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [2, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array([10, 250], "<u2").tobytes())
    params = DisplayParams.from_dataset(ds)
    assert display(ds).tolist() == [[[10, 10, 10], [250, 250, 250]]]
    assert any("used as 8-bit" in n for n in params.notes)


@pytest.mark.shared_data
def test_palette8_face_matches_pydicom(shared_data: Path) -> None:
    path = shared_data / "syntax/palette8_face_ot.dcm"  # no File Meta at all
    ds = read_dataset(path)
    (ours,) = list(iter_display_frames(path, ds=ds))
    ref = apply_color_lut(pixel_array(ds), ds)
    assert ref.dtype == np.uint16  # 16 bits per palette entry: scaled to 8 by the standard's range
    assert np.max(np.abs(ours.astype(float) - ref / 257.0)) <= 0.5 + 1e-6


@pytest.mark.shared_data
def test_segmented_16_bit_palette_matches_pydicom(shared_data: Path) -> None:
    little = shared_data / "us/aloka_ssd4000_palette16_dual2d.dcm"
    ds = read_dataset(little)
    (ours,) = list(iter_display_frames(little, ds=ds))
    ref = apply_color_lut(pixel_array(ds), ds)
    assert ref.dtype == np.uint16
    assert np.max(np.abs(ours.astype(float) - ref / 257.0)) <= 0.5 + 1e-6
    (big,) = list(
        iter_display_frames(shared_data / "us/aloka_ssd4000_palette16_dual2d_bigendian.dcm")
    )
    assert np.array_equal(big, ours)


@pytest.mark.shared_data
def test_ybr_rct_j2k_equals_the_uncompressed_rgb(shared_data: Path) -> None:
    (rct,) = list(iter_display_frames(shared_data / "us/noreg_ge_us1_j2kr_rgb.dcm"))
    (rgb,) = list(iter_display_frames(shared_data / "us/noreg_ge_us1_uncompressed_rgb.dcm"))
    assert rct.shape == (480, 640, 3)
    assert np.array_equal(rct, rgb)


@pytest.mark.shared_data
def test_ybr_full_422_jpeg_frame_matches_pydicom_conversion(shared_data: Path) -> None:
    path = shared_data / "us/sonosite_jpeg422_120f_regions.dcm"
    ds = read_dataset(path)
    params = DisplayParams.from_dataset(ds)
    raw = pixel_array(ds, index=5, as_rgb=False)
    ours = to_display(pixel_array(ds, index=5), params, frame_index=5)
    ref = convert_color_space(raw, "YBR_FULL", "RGB")
    assert ours.shape == (480, 640, 3)
    assert np.max(np.abs(ours.astype(int) - ref.astype(int))) <= 1


# -- windows from real files ------------------------------------------------------------------
@pytest.mark.shared_data
def test_two_windows_selectable_by_index_and_name(shared_data: Path) -> None:
    path = shared_data / "syntax/ct_j2k_osirix_cta.dcm"
    ds = read_dataset(path)
    params = DisplayParams.from_dataset(ds)
    assert [(w.center, w.width, w.explanation) for w in params.windows] == [
        (50, 600, "WINDOW1"), (40, 400, "WINDOW2")
    ]  # fmt: skip
    stored = pixel_array(ds)
    hu = apply_modality_lut(stored, ds)
    for index, name in ((0, "WINDOW1"), (1, "window2")):
        ours = to_display(stored, params, window=index)
        assert np.array_equal(ours, to_display(stored, params, window=name))
        ref = apply_windowing(hu, ds, index=index)
        y_min, y_max = -1024.0, 2**ds.BitsStored - 1 - 1024.0
        expected = (ref - y_min) / (y_max - y_min) * 255
        assert np.max(np.abs(ours - expected)) <= 0.5 + 1e-3
    assert not np.array_equal(
        to_display(stored, params, window=0), to_display(stored, params, window=1)
    )
    with pytest.raises(UsageError, match="WINDOW1 C50/W600"):
        to_display(stored, params, window="bone")


@pytest.mark.shared_data
def test_monochrome1_cr_from_the_fileset(shared_data: Path) -> None:
    path = shared_data / "dicomdir/pydicom_dcmtk_3patients/77654033/CR1/6154"
    ds = read_dataset(path)
    (ours,) = list(iter_display_frames(path, ds=ds))
    values = apply_modality_lut(pixel_array(ds), ds).astype(np.float32)
    assert np.array_equal(ours, 255 - apply_window(values, Window(1600, 2800)))


@pytest.mark.shared_data
def test_multiframe_gives_every_frame(shared_data: Path) -> None:
    frames = list(iter_display_frames(shared_data / "syntax/emri_10f_rle.dcm"))
    assert len(frames) == 10
    assert all(f.shape == (64, 64) and f.dtype == np.uint8 for f in frames)
    le = list(iter_display_frames(shared_data / "syntax/emri_10f_big_endian.dcm"))
    assert all(np.array_equal(a, b) for a, b in zip(frames, le, strict=True))


@pytest.mark.shared_data
def test_empty_lut_items_and_empty_overlay_are_noted_not_fatal(shared_data: Path) -> None:
    path = shared_data / "syntax/ot_jpeg_baseline_gray8.dcm"
    params = DisplayParams.from_dataset(read_dataset(path))
    assert any("Modality LUT Sequence ignored" in n for n in params.notes)
    assert any("overlay 6000 not drawn" in n for n in params.notes)
    (frame,) = list(iter_display_frames(path, overlays=True))
    assert frame.shape == (535, 800)


@pytest.mark.shared_data
def test_not_dicom_and_truncated_pixels(shared_data: Path) -> None:
    with pytest.raises(DicomReadError, match=r"not_dicom_icc_profile\.icc: not a readable"):
        read_dataset(shared_data / "bad/not_dicom_icc_profile.icc")
    with pytest.raises(DicomReadError, match="pixel data cannot be decoded"):
        list(iter_display_frames(shared_data / "bad/pydicom_MR_truncated.dcm"))


# -- overlays -----------------------------------------------------------------------------------
def test_overlay_is_burnt_in_at_its_origin() -> None:
    stored = np.zeros((6, 8), np.uint16)
    ds = make_ds(stored, WindowCenter=1000, WindowWidth=10)
    bitmap = np.zeros((3, 4), np.uint8)
    bitmap[0, 0] = bitmap[2, 3] = 1
    ds.add_new(0x60000010, "US", 3)
    ds.add_new(0x60000011, "US", 4)
    ds.add_new(0x60000040, "CS", "G")
    ds.add_new(0x60000050, "SS", [2, 3])  # row 2, column 3 (1-based)
    ds.add_new(0x60000100, "US", 1)
    ds.add_new(0x60000102, "US", 0)
    ds.add_new(0x60003000, "OW", np.packbits(bitmap.ravel(), bitorder="little").tobytes())
    plain = display(ds)
    drawn = display(ds, overlays=True)
    assert plain.max() == 0
    assert sorted(zip(*np.nonzero(drawn), strict=True)) == [(1, 2), (3, 5)]
    ref = ds.overlay_array(0x6000)
    assert np.array_equal(ref, bitmap)


@pytest.mark.shared_data
def test_enhanced_mr_uses_per_frame_rescale_and_window(shared_data: Path) -> None:
    path = shared_data / "mr/philips_enhanced_b0map/IM_0027_fMAP.dcm"
    ds = read_dataset(path)
    first = DisplayParams.from_dataset(ds, frame=0)
    later = DisplayParams.from_dataset(ds, frame=40)
    # the magnitude and field-map frames carry different Pixel Value Transformations
    assert (first.rescale_slope, first.rescale_intercept) != (
        later.rescale_slope,
        later.rescale_intercept,
    )
    assert first.windows[0] != later.windows[0]
    frames = list(iter_display_frames(path, ds=ds))
    assert len(frames) == 64
    stored = pixel_array(ds, index=40)
    assert np.array_equal(frames[40], to_display(stored, later))


def test_minmax_window_ignores_the_file_window() -> None:
    stored = np.array([[100, 150, 200]], np.uint16)
    ds = make_ds(stored, WindowCenter=0, WindowWidth=10)
    assert display(ds).tolist() == [[255, 255, 255]]
    assert display(ds, window=MINMAX).tolist() == [[0, 128, 255]]
