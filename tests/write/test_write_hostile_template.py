"""A ``like=`` template with an element pydicom cannot read: that element is not copied."""

from __future__ import annotations

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag

from volumeviz.io.volume import load_series
from volumeviz.io.write import write_secondary_capture, write_series


def _with_unknown_vr(src, dst, keyword: str) -> None:
    """Copy ``src`` with ``keyword``'s VR bytes corrupted to 'QQ' (as a damaged file has it)."""
    ds = pydicom.dcmread(src)
    tag = Tag(keyword)
    value = str(ds[keyword].value).encode("ascii")
    value += b"\0" * (len(value) % 2)
    ds._dict[tag] = RawDataElement(tag, "QQ", len(value), value, 0, False, True)
    ds.save_as(dst, enforce_file_format=False)
    assert pydicom.dcmread(dst, stop_before_pixels=True)._dict[tag].VR == "QQ"


def test_template_with_unreadable_elements(tmp_path):
    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.model import phantom

    files = write_synthetic_series(phantom.asymmetric(16), tmp_path / "src")
    like = tmp_path / "like.dcm"
    _with_unknown_vr(files[0], like, "StudyInstanceUID")
    loaded = load_series(tmp_path / "src")
    out = write_series(loaded, tmp_path / "out", like=like)  # used to raise NotImplementedError
    written = pydicom.dcmread(out[0])
    assert written.StudyInstanceUID == loaded.meta.study_uid  # from the Volume, not the template
    assert written.PatientID == pydicom.dcmread(files[0]).PatientID  # the rest copied
    _with_unknown_vr(files[0], like, "SOPInstanceUID")
    import numpy as np

    sc = write_secondary_capture(np.zeros((4, 4, 3), np.uint8), tmp_path / "sc.dcm", like=like)
    # no readable SOP Instance UID to point at: the capture names no source image
    assert "SourceImageSequence" not in pydicom.dcmread(sc)
