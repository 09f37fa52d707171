"""Every BitsAllocated / BitsStored the standard allows gives the picture its 8-bit twin gives.

PS3.5 8.1.1 / PS3.3 C.7.6.3.1: Bits Allocated is 1 or a multiple of 8, Bits Stored <= Bits
Allocated, High Bit = Bits Stored - 1, Pixel Representation 0 (unsigned) or 1 (two's complement);
(7FE0,0008) Float Pixel Data is 32-bit and (7FE0,0009) Double Float Pixel Data 64-bit IEEE.
Each case is built here: a ramp over the whole stored range (so its picture is known: 0..255),
written at that depth. Real case: pydicom's SC_rgb_32bit.dcm and its 16-bit twin.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import shared_path
from tests.realworld.dicom_files import MR_IMAGE, write_image
from volumeviz.io.pixels import iter_display_frames
from volumeviz.io.volume import load_series

EXPECTED = np.arange(256, dtype=np.uint8).reshape(16, 16)

#: (Bits Allocated, Bits Stored, signed): the monochrome combinations, by mechanism: 1-bit
#: packed, padding bits above Bits Stored in 8/16/32-bit words, two's complement, 32-bit words
MONO = [
    (1, 1, False),
    (8, 1, False),
    (8, 6, False),
    (8, 8, False),
    (8, 8, True),
    (16, 1, False),
    (16, 10, True),
    (16, 12, False),
    (16, 12, True),
    (16, 16, False),
    (16, 16, True),
    (32, 20, False),
    (32, 24, True),
    (32, 32, False),
    (32, 32, True),
]


def _ramp(bits: int, signed: bool) -> np.ndarray:
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    # exact integers from lo to hi, as evenly as the range allows (float64 holds 2**32 exactly)
    return np.round(np.linspace(lo, hi, 256)).astype(np.int64).reshape(16, 16)


def _container(ba: int, signed: bool) -> type:
    types = {8: (np.uint8, np.int8), 16: (np.uint16, np.int16), 32: (np.uint32, np.int32)}
    return types[ba][int(signed)]


def _write_mono(tmp_path, ba, bs, signed, **kw):
    ramp = _ramp(bs, signed)
    if ba == 1:
        stored = (ramp > 0).astype(np.uint8)
    else:
        stored = ramp.astype(_container(ba, signed))
    path = write_image(
        tmp_path / f"mono_{ba}_{bs}_{int(signed)}.dcm",
        stored,
        sop_class=MR_IMAGE,
        modality="MR",
        bits_allocated=ba,
        bits_stored=bs,
        signed=signed,
        **kw,
    )
    return path, ramp if ba != 1 else stored


@pytest.mark.parametrize(("ba", "bs", "signed"), MONO)
def test_monochrome_display_is_the_ramp(tmp_path, ba, bs, signed) -> None:
    path, values = _write_mono(tmp_path, ba, bs, signed)
    frame = next(iter_display_frames(path))
    # no window in the file: the frame's own range onto 0..255 (fewer than 256 levels below 8
    # bits: each level where the 8-bit ramp puts it)
    v = values.astype(np.float64)
    expected = np.rint((v - v.min()) / (v.max() - v.min()) * 255)
    assert frame.dtype == np.uint8
    assert np.abs(frame.astype(int) - expected).max() <= 1


@pytest.mark.parametrize(("ba", "bs", "signed"), MONO)
def test_monochrome_volume_holds_the_stored_values(tmp_path, ba, bs, signed) -> None:
    path, values = _write_mono(
        tmp_path,
        ba,
        bs,
        signed,
        ImagePositionPatient=[0, 0, 0],
        ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
        PixelSpacing=[1, 1],
    )
    vol = load_series(path)
    got = vol.array[0].astype(np.float64)
    # exact up to 24 bits; float32 (the type a 32-bit range needs) keeps 24 significant bits
    np.testing.assert_allclose(got, values, rtol=2**-23, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_pixel_data(tmp_path, dtype) -> None:
    ramp = np.linspace(-1.5, 2.5, 256).reshape(16, 16).astype(dtype)
    path = write_image(
        tmp_path / "f.dcm",
        ramp,
        sop_class=MR_IMAGE,
        modality="MR",
        ImagePositionPatient=[0, 0, 0],
        ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
        PixelSpacing=[1, 1],
    )
    frame = next(iter_display_frames(path))
    assert np.abs(frame.astype(int) - EXPECTED).max() <= 1
    vol = load_series(path)
    np.testing.assert_allclose(vol.array[0], ramp, rtol=1e-6)


RGB = [(8, 8), (16, 12), (16, 16), (32, 32)]


def _rgb(bits: int) -> np.ndarray:
    r = _ramp(bits, False)
    return np.stack([r, r[::-1, ::-1], np.full_like(r, r[8, 0])], axis=-1)


@pytest.mark.parametrize(("ba", "bs"), RGB)
def test_rgb_display_equals_the_8_bit_twin(tmp_path, ba, bs) -> None:
    twin = next(iter_display_frames(write_image(tmp_path / "t.dcm", _rgb(8).astype(np.uint8))))
    stored = _rgb(bs).astype(_container(ba, False))
    frame = next(iter_display_frames(write_image(tmp_path / "c.dcm", stored, bits_stored=bs)))
    assert frame.shape == (16, 16, 3)
    assert np.abs(frame.astype(int) - twin.astype(int)).max() <= 1


@pytest.mark.parametrize(("ba", "bs"), RGB)
def test_rgb_volume_is_the_8_bit_twins_grey(tmp_path, ba, bs) -> None:
    geo = {
        "ImagePositionPatient": [0, 0, 0],
        "ImageOrientationPatient": [1, 0, 0, 0, 1, 0],
        "PixelSpacing": [1, 1],
    }
    twin = load_series(write_image(tmp_path / "t.dcm", _rgb(8).astype(np.uint8), **geo))
    stored = _rgb(bs).astype(_container(ba, False))
    vol = load_series(write_image(tmp_path / "c.dcm", stored, bits_stored=bs, **geo))
    assert np.abs(vol.array.astype(int) - twin.array.astype(int)).max() <= 1
    assert twin.array.std() > 10  # the twin is a picture, not a flat field


def test_real_32_bit_rgb_equals_its_16_bit_twin(shared_data) -> None:
    folder = shared_path(shared_data, "realworld/sc_rgb_32bit")
    a = next(iter_display_frames(folder / "SC_rgb_32bit.dcm"))
    b = next(iter_display_frames(folder / "SC_rgb_16bit_same_image.dcm"))
    assert a.max() == 255  # not the all-black picture of the overflow
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    va = load_series(folder / "SC_rgb_32bit.dcm")
    vb = load_series(folder / "SC_rgb_16bit_same_image.dcm")
    assert np.abs(va.array.astype(int) - vb.array.astype(int)).max() <= 1
    # ten colour bands, the same in both
    assert len(np.unique(a.reshape(-1, 3), axis=0)) == len(np.unique(b.reshape(-1, 3), axis=0))
