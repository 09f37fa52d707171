"""export --anonymize: no burned-in identity leaves, no date in a name, no path printed."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pydicom
import pytest
from PIL import Image

from tests.conftest import run_cli, shared_path
from volumeviz.io.export import export_images
from volumeviz.model.deid import pixel_policy

LEAK = ("LEAKY", "LEAK123", "19010203", "1901", "LEAKYHOSP", "ACCLEAK9", "19990909", "1999")


@pytest.mark.parametrize(
    ("kwargs", "action"),
    [
        ({"modality": "CT"}, "keep"),
        ({"modality": "MR", "image_type": ("DERIVED", "SECONDARY", "MPR")}, "keep"),
        ({"modality": "CT", "image_type": ("DERIVED", "SECONDARY", "SCREEN SAVE")}, "refuse"),
        ({"modality": "CT", "burned_in_annotation": "YES"}, "refuse"),
        ({"modality": "CT", "sop_class_uid": "1.2.840.10008.5.1.4.1.1.7"}, "refuse"),
        ({"modality": "OT"}, "refuse"),
        ({"modality": "OT", "burned_in_annotation": "NO"}, "keep"),
        ({"modality": "CR"}, "refuse"),
        ({"modality": "XC"}, "refuse"),
        ({"modality": "US"}, "mask"),
        ({"modality": "US", "has_regions": True, "burned_in_annotation": "YES"}, "mask"),
        ({"modality": "US", "has_regions": False}, "refuse"),
        ({"modality": "US", "has_regions": False, "burned_in_annotation": "NO"}, "keep"),
        ({"modality": "", "sop_class_uid": "1.2.840.10008.5.1.4.1.1.6.1"}, "mask"),
    ],
)
def test_pixel_policy(kwargs, action):
    assert pixel_policy(**kwargs).action == action


def test_burned_in_reproducer(shared_data, tmp_path, capsys):
    """fuzz/anon_export_burned_in: Burned In Annotation absent on both ultrasound files."""
    src = tmp_path / "LEAKY TEST 19990909"  # the folder names the patient and the date
    shutil.copytree(shared_path(shared_data, "fuzz/anon_export_burned_in/in"), src)
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "export", str(src), "--anonymize", "-o", str(out))
    assert code == 0, err
    written = sorted(out.rglob("*.png"))
    assert len(written) == 2  # the two frames of the file with regions; the other refused
    # no patient, no date, no source name in any output path
    names = " ".join(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert not [s for s in LEAK if s in names.upper()]
    assert not re.search(r"(19|20)\d\d-?\d\d-?\d\d", names)
    # outside the regions everything is black (the name bar at the top is gone)
    ds = pydicom.dcmread(src / "cx50_regions.dcm", stop_before_pixels=True)
    keep = np.zeros((ds.Rows, ds.Columns), bool)
    for r in ds.SequenceOfUltrasoundRegions:
        keep[r.RegionLocationMinY0 : r.RegionLocationMaxY1 + 1,
             r.RegionLocationMinX0 : r.RegionLocationMaxX1 + 1] = True  # fmt: skip
    for png in written:
        arr = np.asarray(Image.open(png).convert("RGB"))
        assert (arr[~keep] == 0).all()
        assert arr[keep].max() > 0
    # the refusal says why; nothing printed names the input
    assert "no (0018,6011) regions" in stdout
    text = (stdout + err).upper()
    assert not [s for s in (*LEAK, "CX50", "NOREG") if s in text], stdout + err


def test_not_anonymised_export_keeps_the_pixels(shared_data, tmp_path):
    src = shared_path(shared_data, "fuzz/anon_export_burned_in/in")
    result = export_images(src, tmp_path / "out")
    assert len(result.written) == 3
    assert any("1999-09-09" in str(p) for p in result.written)  # dates in names without it


def test_overlays_refused_with_anonymize(tmp_path):
    from volumeviz.errors import UsageError

    with pytest.raises(UsageError, match="overlay"):
        export_images(tmp_path, tmp_path / "o", anonymize=True, overlays=True)


def test_study_folders_are_hashes_and_stable_with_a_key(shared_data, tmp_path):
    src = shared_path(shared_data, "fuzz/anon_export_burned_in/in")
    a = export_images(src, tmp_path / "a", anonymize=True, key=b"k")
    b = export_images(src, tmp_path / "b", anonymize=True, key=b"k")
    rel = [p.relative_to(tmp_path / "a").as_posix() for p in a.written]
    assert rel == [p.relative_to(tmp_path / "b").as_posix() for p in b.written]
    assert all(re.fullmatch(r"patient-[0-9a-f]{12}/study-[0-9a-f]{8}/1/.+\.png", r) for r in rel)
    c = export_images(src, tmp_path / "c", anonymize=True, key=b"other")
    assert [p.relative_to(tmp_path / "c").as_posix() for p in c.written] != rel


def test_one_bad_file_never_stops_the_export(shared_data, tmp_path, capsys):
    src = tmp_path / "src"
    shutil.copytree(shared_path(shared_data, "fuzz/anon_secondary_capture/ct"), src)
    # a truncated image: its header reads, its pixels do not
    bad = src / "I130"
    bad.write_bytes(bad.read_bytes()[:-200000])
    (src / "notes.txt").write_text("not an image")
    code, stdout, _err = run_cli(capsys, "export", str(src), "-o", str(tmp_path / "out"))
    assert code == 1  # something failed: the summary says what
    assert stdout.startswith("exported 5 image(s)")
    assert "FAILED 1 image file(s):" in stdout
    assert f"{bad}: " in stdout
    assert "skipped 1 file(s):" in stdout
    assert "notes.txt: not a DICOM file" in stdout
    assert len(list((tmp_path / "out").rglob("*.png"))) == 5


def test_header_values_that_do_not_convert_fail_one_file_each(shared_data, tmp_path, capsys):
    """fuzz/export_display: each bad file is listed; the folder's other images are exported."""
    src = shared_path(shared_data, "fuzz/export_display")
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "export", str(src), "-o", str(out))
    assert code in (0, 1)
    assert "internal error" not in stdout + err
    written = {p.name for p in out.rglob("*.png")}
    good = {f"{int(p.stem)}.png" for p in (src / "study").iterdir() if p.name != "0003.dcm"}
    assert good <= written  # the five good slices of the study
    others = [
        f for f in src.rglob("*.dcm") if not (f.parent.name == "study" and f.name != "0003.dcm")
    ]
    # every other file is exported, skipped or failed: named in the summary, except that the
    # mutated copies of one instance share its SOP Instance UID and so one output name: one of
    # them writes it, the others find it there and are counted as kept
    unnamed = [f for f in others if str(f) not in stdout]
    kept = re.search(r"kept (\d+) existing", stdout)
    assert len(unnamed) <= (int(kept.group(1)) if kept else 0) + 1 or code == 0, unnamed
