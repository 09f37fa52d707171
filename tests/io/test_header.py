"""The checked header accessor: every kind of bad header value is one HeaderError."""

from __future__ import annotations

import io
import math
import struct

import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

from volumeviz.errors import DicomReadError, HeaderError, VolumeVizError
from volumeviz.io.header import Header, frame_capacity, number_of_frames


def _file(tmp_path, ds: Dataset, name: str = "a.dcm"):
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3"
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


def _patched(tmp_path, ds: Dataset, old: bytes, new: bytes):
    """Write ``ds`` and replace the bytes ``old`` (once) by ``new``: a corrupt element."""
    path = _file(tmp_path, ds)
    data = path.read_bytes()
    assert data.count(old) == 1, old
    path.write_bytes(data.replace(old, new))
    return pydicom.dcmread(path), path


def _raw(tag: int, vr: str, value: object) -> DataElement:
    """An element whose value skips pydicom's validation (as a bad file would give it)."""
    elem = DataElement(tag, vr, None)
    elem._value = value  # a value the writer would refuse
    return elem


def test_error_is_a_volumeviz_error():
    assert issubclass(HeaderError, DicomReadError)
    assert issubclass(HeaderError, VolumeVizError)
    assert issubclass(HeaderError, ValueError)


def test_integer_values_and_defaults():
    ds = Dataset()
    ds.Rows = 512
    ds.NumberOfFrames = "3"
    ds.add_new("SamplesPerPixel", "FL", 1.0)  # integral in a float VR: accepted
    h = Header(ds, "a.dcm")
    assert h.integer("Rows", low=1, high=65535) == 512
    assert h.integer("NumberOfFrames", 1) == 3
    assert h.integer("SamplesPerPixel") == 1
    assert h.integer("Columns", None) is None
    with pytest.raises(HeaderError, match=r"^a\.dcm: no \(0028,0011\) Columns$"):
        h.integer("Columns")


@pytest.mark.parametrize(
    ("vr", "value", "problem"),
    [
        ("FL", math.inf, "'inf' is not a finite integer"),
        ("FL", -math.inf, "'-inf' is not a finite integer"),
        ("FL", math.nan, "'nan' is not a finite integer"),
        ("LO", "nan", "'nan' is not a finite integer"),
        ("LO", "!", "'!' is not an integer"),
        ("FD", 1.5, "'1.5' is not an integer"),
        ("US", [8, 8], r"'8\8' has 2 values; one expected"),
        ("OB", b"\x01\x02", "is raw bytes, not an integer"),
    ],
)
def test_integer_refuses(vr, value, problem):
    ds = Dataset()
    ds[0x00280002] = _raw(0x00280002, vr, value)
    with pytest.raises(HeaderError) as exc:
        Header(ds, "f.dcm").integer("SamplesPerPixel", 1)
    assert str(exc.value).startswith("f.dcm: (0028,0002) Samples per Pixel ")
    assert problem in str(exc.value)


def test_integer_range():
    ds = Dataset()
    ds.NumberOfFrames = "2147483648"
    h = Header(ds, "a.dcm")
    with pytest.raises(HeaderError, match=r"Number of Frames '2147483648' exceeds 1000"):
        h.integer("NumberOfFrames", 1, high=1000)
    ds.NumberOfFrames = "0"
    with pytest.raises(HeaderError, match=r"Number of Frames '0' is below 1"):
        h.integer("NumberOfFrames", 1, low=1)


def test_number_checks():
    ds = Dataset()
    ds.RescaleSlope = "1e308"
    ds.add_new("RescaleIntercept", "LO", "abc")
    ds.add_new("WindowWidth", "FD", math.nan)
    ds.SliceThickness = "-1"
    h = Header(ds, "a.dcm")
    assert h.number("RescaleSlope") == 1e308
    with pytest.raises(HeaderError, match=r"Rescale Slope '1e308' exceeds 1e\+20"):
        h.number("RescaleSlope", high=1e20)
    with pytest.raises(HeaderError, match=r"\(0028,1052\) Rescale Intercept 'abc' is not numeric"):
        h.number("RescaleIntercept", 0.0)
    with pytest.raises(HeaderError, match="'nan' is not finite"):
        h.number("WindowWidth")
    assert math.isnan(h.number("WindowWidth", finite=False))
    with pytest.raises(HeaderError, match="'-1' must be positive"):
        h.number("SliceThickness", 0.0, positive=True)
    assert h.number("SpacingBetweenSlices", 0.0) == 0.0


def test_lenient_gives_default_and_a_note_once():
    ds = Dataset()
    ds.add_new("WindowWidth", "LO", "abc")
    h = Header(ds, "a.dcm")
    assert h.number("WindowWidth", None, lenient=True) is None
    assert h.number("WindowWidth", None, lenient=True) is None
    assert h.notes == ["a.dcm: (0028,1051) Window Width 'abc' is not numeric; ignored"]
    with pytest.raises(HeaderError):  # lenient needs a default to fall back on
        h.number("WindowWidth", lenient=True)


def test_numbers_count_and_finiteness():
    ds = Dataset()
    ds.ImagePositionPatient = [0, 0, 0]
    ds.PixelSpacing = [0.5, 0]
    ds[0x00200037] = _raw(0x00200037, "DS", ["1", "0", "0", "0", "1"])
    h = Header(ds, "a.dcm")
    assert h.numbers("ImagePositionPatient", 3) == (0.0, 0.0, 0.0)
    with pytest.raises(HeaderError, match=r"Image Orientation \(Patient\) '1\\0\\0\\0\\1' has 5"):
        h.numbers("ImageOrientationPatient", 6)
    with pytest.raises(HeaderError, match=r"Pixel Spacing '0\.5\\0\.0' must be positive"):
        h.numbers("PixelSpacing", 2, positive=True)
    assert h.numbers("SliceLocation", None, None) is None


def test_code_and_text():
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2 "
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.PatientName = "Doe^Jane"
    h = Header(ds, "a.dcm")
    assert h.code("PhotometricInterpretation", {"MONOCHROME2"}) == "MONOCHROME2"
    with pytest.raises(HeaderError, match="'MONOCHROME2 ' is not one of RGB"):
        h.code("PhotometricInterpretation", {"RGB"})
    assert h.texts("ImageType") == ("ORIGINAL", "PRIMARY", "AXIAL")
    assert h.text("ImageType") == "ORIGINAL\\PRIMARY\\AXIAL"
    assert h.text("PatientName") == "Doe^Jane"
    assert h.text("StudyDescription") == ""


def test_unknown_vr_is_named(tmp_path):
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    ds.Rows = 4
    read, path = _patched(tmp_path, ds, b"\x08\x00\x16\x00UI", b"\x08\x00\x16\x00QQ")
    h = Header(read, path)
    with pytest.raises(HeaderError) as exc:
        h.text("SOPClassUID")
    message = str(exc.value)
    assert message.startswith(f"{path}: (0008,0016) SOP Class UID cannot be read: ")
    assert "Unknown Value Representation 'QQ'" in message
    assert h.text("SOPClassUID", lenient=True) == ""
    assert h.integer("Rows") == 4  # the rest of the header is still readable


def test_wrong_length_is_named(tmp_path):
    ds = Dataset()
    seq_item = Dataset()
    seq_item.PhysicalDeltaX = 0.01
    ds.SequenceOfUltrasoundRegions = [seq_item]
    # FD with 6 bytes instead of 8 (the length field and the value cut by 2)
    read, path = _patched(
        tmp_path,
        ds,
        b"\x18\x00\x2c\x60FD\x08\x00" + struct.pack("<d", 0.01),
        b"\x18\x00\x2c\x60FD\x06\x00" + bytes(6) + b"\x18\x00\x2e\x60FD\x00\x00",
    )
    item = Header(read, path).items("SequenceOfUltrasoundRegions")[0]
    with pytest.raises(HeaderError) as exc:
        item.number("PhysicalDeltaX", None)
    assert str(exc.value).startswith(
        f"{path}: (0018,6011) Sequence of Ultrasound Regions > (0018,602C) Physical Delta X "
        "cannot be read: BytesLengthException"
    )


def test_items_name_their_path():
    ds = Dataset()
    frames = []
    for _ in range(3):
        pvt = Dataset()
        pvt.RescaleSlope = "1"
        group = Dataset()
        group.PixelValueTransformationSequence = [pvt]
        frames.append(group)
    frames[2].PixelValueTransformationSequence[0][0x00281053] = _raw(0x00281053, "DS", ["1", "2"])
    ds.PerFrameFunctionalGroupsSequence = frames
    items = Header(ds, "e.dcm").items("PerFrameFunctionalGroupsSequence")
    assert len(items) == 3
    pvt_h = items[2].item("PixelValueTransformationSequence")
    assert pvt_h is not None
    with pytest.raises(HeaderError) as exc:
        pvt_h.number("RescaleSlope")
    assert str(exc.value) == (
        "e.dcm: (5200,9230) Per-Frame Functional Groups Sequence item 3 > (0028,9145) Pixel "
        "Value Transformation Sequence > (0028,1053) Rescale Slope '1\\2' has 2 values; one "
        "expected"
    )
    ds.add_new("ReferencedImageSequence", "LO", "not a sequence")
    with pytest.raises(HeaderError, match="is not a sequence"):
        Header(ds, "e.dcm").items("ReferencedImageSequence")


def test_pointer():
    ds = Dataset()
    item = Dataset()
    item.DimensionIndexPointer = 0x00209057
    bad = Dataset()
    bad.add_new("DimensionIndexPointer", "LO", "x")
    ds.DimensionIndexSequence = [item, bad]
    good_h, bad_h = Header(ds, "a.dcm").items("DimensionIndexSequence")
    assert good_h.pointer("DimensionIndexPointer") == 0x00209057
    with pytest.raises(HeaderError, match="'x' is not an attribute tag"):
        bad_h.pointer("DimensionIndexPointer", None)


# -- frames against the pixel data ----------------------------------------------------------------


def _native(frames_claimed: str, frames_stored: int, rows: int = 4, cols: int = 4) -> Dataset:
    ds = Dataset()
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.SamplesPerPixel = rows, cols, 16, 1
    ds.NumberOfFrames = frames_claimed
    ds.PixelData = bytes(rows * cols * 2 * frames_stored)
    return ds


def test_number_of_frames_native():
    ok = Header(_native("3", 3), "a.dcm")
    assert number_of_frames(ok, rows=4, cols=4, bits_allocated=16) == 3
    huge = Header(_native("2147483648", 1), "a.dcm")
    with pytest.raises(HeaderError) as exc:
        number_of_frames(huge, rows=4, cols=4, bits_allocated=16)
    assert str(exc.value) == (
        "a.dcm: (0028,0008) Number of Frames '2147483648' exceeds the 1 frame(s) its "
        "(7FE0,0010) Pixel Data can hold (32 bytes; 32 a 4x4 frame)"
    )
    with pytest.raises(HeaderError, match="'-1' is below 1"):
        number_of_frames(Header(_native("-1", 1), "a.dcm"), rows=4, cols=4)


def test_number_of_frames_ybr_full_422_counts_two_samples():
    ds = _native("2", 0, rows=2, cols=2)
    ds.PixelData = bytes(2 * 2 * 2 * 2)  # 2 frames of 2 bytes a pixel
    h = Header(ds, "a.dcm")
    assert (
        frame_capacity(h, rows=2, cols=2, samples=3, bits_allocated=8, photometric="YBR_FULL_422")
        == 2
    )


def test_number_of_frames_encapsulated(tmp_path):
    ds = Dataset()
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.SamplesPerPixel = 4, 4, 8, 1
    ds.NumberOfFrames = "3"
    ds.PixelData = encapsulate([b"\x00\x01", b"\x02\x03"])  # two fragments, BOT empty
    ds["PixelData"].VR = "OB"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3"
    path = tmp_path / "enc.dcm"
    ds.save_as(path, enforce_file_format=True)
    # measured in memory and, deferred, in the file (without reading the pixels)
    for read in (pydicom.dcmread(path), pydicom.dcmread(path, defer_size=4)):
        h = Header(read, path)
        assert frame_capacity(h, rows=4, cols=4, samples=1, bits_allocated=8) == 2
        with pytest.raises(HeaderError, match=r"'3' exceeds the 2 frame\(s\) .*encapsulated"):
            number_of_frames(h, rows=4, cols=4, bits_allocated=8)
    ds.NumberOfFrames = "2"
    ds.save_as(path, enforce_file_format=True)
    assert number_of_frames(Header(pydicom.dcmread(path, defer_size=4), path), rows=4, cols=4) == 2


def test_capacity_unknown_without_pixel_data():
    ds = Dataset()
    ds.NumberOfFrames = "7"
    h = Header(ds, "a.dcm")
    assert frame_capacity(h, rows=4, cols=4, samples=1, bits_allocated=8) is None
    assert number_of_frames(h, rows=4, cols=4) == 7


def test_message_is_one_line_and_short():
    ds = Dataset()
    ds.add_new("StudyDescription", "LO", "x" * 500 + "\nsecond line")
    ds.add_new("SliceThickness", "LO", "y" * 500)
    with pytest.raises(HeaderError) as exc:
        Header(ds, "a.dcm").number("SliceThickness")
    assert "\n" not in str(exc.value)
    assert len(str(exc.value)) < 160


def test_bytes_io_capacity_stops_counting_at_enough():
    from volumeviz.io.header import _count_fragments

    frags = encapsulate([b"ab"] * 50)
    assert _count_fragments(io.BytesIO(frags), 0, len(frags), True, 1 << 40) == 50
    assert _count_fragments(io.BytesIO(frags), 0, len(frags), True, 5) == 5


@pytest.mark.parametrize("text", ["1e308", "99999999999999999999", "-18446744073709551616"])
def test_integers_beyond_64_bits_are_refused(text):
    ds = Dataset()
    ds.add_new("NumberOfFrames", "LO", text)
    with pytest.raises(HeaderError, match=f"'{text}' is out of range for a DICOM integer"):
        Header(ds, "a.dcm").integer("NumberOfFrames", 1)
    assert Header(ds, "a.dcm").integer("NumberOfFrames", 1, lenient=True) == 1


def test_presence_is_asked_without_converting(tmp_path):
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    read, _ = _patched(tmp_path, ds, b"\x08\x00\x16\x00UI", b"\x08\x00\x16\x00QQ")
    h = Header(read, "a.dcm")
    assert "SOPClassUID" in h  # present, though unreadable
    assert not h.has("SOPClassUID")
    assert "Rows" not in h
