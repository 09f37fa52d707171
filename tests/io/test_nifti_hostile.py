"""Labelmap / image files whose header claims more than the file holds (issue #13 memory bombs).

A NIfTI header's dim[], an NRRD's sizes and a .npy header's shape say how big an array the
reader will allocate. A small ``.nii.gz`` of zeros can claim gigabytes (gzip inflates zeros
about 1000:1), a ``.nii`` cut short claims what it no longer has; nibabel allocated the claim
first and, under a memory limit, failed with an empty message ('not a readable NIfTI file ()').
The claim is now checked first: above io.discover.MAX_VOXELS, or longer than an uncompressed file,
it is refused with one line naming the file and the header field. Runs that would allocate on a
regression happen in a child limited to 2 GiB of address space.
"""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np
import pytest

from tests.bounded import python_bounded
from volumeviz.errors import VolumeVizError
from volumeviz.io.discover import MAX_VOXELS
from volumeviz.io.nifti import ImageFormatError, read_images, write_image
from volumeviz.io.seg import read_labelmap
from volumeviz.model.volume import Volume

READ = """
import sys
from volumeviz.errors import VolumeVizError
from volumeviz.io.nifti import read_images
try:
    vols = read_images(sys.argv[1])
except VolumeVizError as exc:
    print(type(exc).__name__ + ": " + str(exc))
else:
    print("read", vols[0].size)
"""


def _read_bounded(path) -> str:
    run = python_bounded(READ, str(path), timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def _header(shape, dtype=np.int16) -> bytes:
    hdr = nib.Nifti1Header()
    hdr.set_data_shape(shape)
    hdr.set_data_dtype(dtype)
    hdr.set_sform(np.eye(4), 1)
    hdr.set_qform(np.eye(4), 1)
    return bytes(hdr.binaryblock) + b"\0" * 4  # vox_offset 352


@pytest.mark.slow
def test_nii_gz_claiming_16_gib_is_refused_before_reading(tmp_path):
    bomb = tmp_path / "bomb.nii.gz"
    bomb.write_bytes(gzip.compress(_header((2000, 2000, 2000)) + bytes(1 << 20)))
    out = _read_bounded(bomb)
    assert out == (
        f"ImageFormatError: {bomb}: NIfTI dim[1..] 2000x2000x2000 (8000000000 voxels) exceeds "
        f"the {MAX_VOXELS} voxels volumeviz reads; not read"
    )


def test_nii_cut_short_is_named_truncated(tmp_path, make_marker):
    vol, _ = make_marker(size=(16, 12, 8))
    whole = tmp_path / "whole.nii"
    write_image(vol, whole)
    assert read_images(whole)[0].size == (16, 12, 8)
    cut = tmp_path / "cut.nii"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) - 100])
    with pytest.raises(ImageFormatError) as exc:
        read_images(cut)
    assert str(exc.value) == (
        f"{cut}: NIfTI dim[1..] 16x12x8 of {np.dtype(vol.array.dtype)} needs {len(data)} bytes, "
        f"the file has {len(data) - 100} (truncated?)"
    )


def test_nrrd_sizes_beyond_the_budget_are_refused(tmp_path):
    path = tmp_path / "big.nrrd"
    path.write_bytes(
        b"NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\n"
        b"sizes: 2000 2000 2000\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n"
        b"encoding: gzip\nspace origin: (0,0,0)\n\n" + gzip.compress(bytes(1 << 16))
    )
    with pytest.raises(ImageFormatError, match=r"NRRD sizes 2000x2000x2000 \(8000000000 voxels\)"):
        read_images(path)


def test_npy_labelmap_shape_is_checked_before_loading(tmp_path, make_marker):
    vol, _ = make_marker(size=(8, 8, 4))
    assert isinstance(vol, Volume)
    path = tmp_path / "labels.npy"
    header = {"descr": "|u1", "fortran_order": False, "shape": (4000, 4000, 4000)}
    with path.open("wb") as fp:
        np.lib.format.write_array_header_1_0(fp, header)
        fp.write(bytes(64))
    with pytest.raises(VolumeVizError, match=r"labelmap shape \(4000, 4000, 4000\) is not the"):
        read_labelmap(path, vol)
