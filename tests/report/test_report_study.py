"""A report of a whole study folder: two phantom series and a real ultrasound file."""

from __future__ import annotations

import shutil

import pytest
from report_helpers import run, write_series

from volumeviz.model import phantom
from volumeviz.report import make_report
from volumeviz.report.build import load_study

pytestmark = [pytest.mark.render, pytest.mark.shared_data]


@pytest.fixture
def study(tmp_path, shared_data):
    folder = tmp_path / "study"
    ct = phantom.asymmetric(24)
    write_series(ct, folder / "ct", series_number=2, description="CT ABDOMEN")
    mr = phantom.asymmetric(24, modality="MR")
    write_series(mr, folder / "mr", series_number=5, description="MR KNEE", modality="MR")
    shutil.copy(shared_data / "us" / "philips_cx50_palette_2f_ecg.dcm", folder / "us.dcm")
    broken = folder / "broken"
    write_series(ct, broken / "x", series_number=9, description="BROKEN")
    for f in sorted(broken.rglob("*"))[::2]:
        if f.is_file():
            f.write_bytes(f.read_bytes()[:500])
    return folder


def test_study_report_has_every_series_and_the_calibration(study, tmp_path, poppler):
    items, problems = load_study(study)
    kinds = sorted(type(i).__name__ for i in items)
    assert kinds.count("Volume") >= 2
    assert "UltrasoundImage" in kinds
    out = make_report(
        study, tmp_path / "study.pdf", presets=["bone"], key_slices=1, dpi=36, anonymize=True
    )
    text = run(poppler["pdftotext"], "-layout", str(out), "-")
    assert "CT ABDOMEN" in text
    assert "MR KNEE" in text
    assert "Calibration regions (0018,6011)" in text
    assert "2D tissue" in text
    assert "cm / cm" in text
    assert "Frames with scale bars" in text
    # the ultrasound file's identity is gone from the text and the metadata
    info = run(poppler["pdfinfo"], str(out))
    for word in ("11-05-25-142825", "Philips Healthcare", "20110525", "SYNTHETIC"):
        assert word not in text + info, word
    assert "Philips Medical Systems" in text  # a manufacturer is not an identity
    # the truncated files are listed by a hash of their place in the study (a folder or file
    # name may carry the patient's name), the hash `export` and the console print for them
    from volumeviz.model.deid import keyed_hash

    assert len(problems) >= 1
    assert f"<input>/file-{keyed_hash('broken/x/IM0002.dcm', None)[:8]}" in text
    assert "IM0002" not in text
    assert str(study) not in text
