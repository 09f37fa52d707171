"""``volumeviz export``: the expected tree, safe names, pseudonyms, no overwrites, bad output."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from volumeviz.errors import OutputError, UsageError
from volumeviz.io.export import LOCK_NAME, STATE_NAME, export_images, safe_name
from volumeviz.io.pixels import iter_display_frames
from volumeviz.model.deid import pseudonym

FILESET = "dicomdir/pydicom_dcmtk_3patients"

#: the export of the 3-patient file-set: folder -> instance files. Three studies of Doe^Peter on
#: 2003-05-05 get the first 8 hex digits of sha1(StudyInstanceUID) as suffix.
EXPECTED = {
    "Doe_Archibald_77654033/1995-09-03/2": ["18", "180", "181", "182"],
    "Doe_Archibald_77654033/2001-01-01/1": ["1"],
    "Doe_Archibald_77654033/2001-01-01/2": ["1"],
    "Doe_Archibald_77654033/2001-01-01/3": ["1"],
    "Doe_Peter_98890234/2001-01-01/4": ["1", "2"],
    "Doe_Peter_98890234/2001-01-01/5": ["10", "6", "7", "8", "9"],
    "Doe_Peter_98890234/2003-05-05_2627762a/1": ["1"],
    "Doe_Peter_98890234/2003-05-05_2627762a/2": ["1", "2", "3"],
    "Doe_Peter_98890234/2003-05-05_2627762a/700": ["1", "2", "3", "4", "5", "6", "7"],
    "Doe_Peter_98890234/2003-05-05_78a579ac/1": ["1"],
    "Doe_Peter_98890234/2003-05-05_78a579ac/2": ["1"],
    "Doe_Peter_98890234/2003-05-05_e3fc4abc/1": ["1"],
    "Doe_Peter_98890234/2003-05-05_e3fc4abc/2": ["1", "2", "3"],
}


def tree_of(root: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.name not in (LOCK_NAME, STATE_NAME):
            out.setdefault(f.parent.relative_to(root).as_posix(), []).append(f.stem)
    return out


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "volumeviz", "export", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.shared_data
def test_export_dicomdir_gives_the_expected_tree(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = _run(str(shared_data / FILESET / "DICOMDIR"), "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == f"exported 31 image(s) to {out}"
    assert tree_of(out) == EXPECTED
    # the PNG holds exactly the display pipeline's pixels (MONOCHROME1 CR, inverted)
    src = shared_data / FILESET / "77654033/CR1/6154"
    (expected,) = list(iter_display_frames(src))
    png = np.asarray(Image.open(out / "Doe_Archibald_77654033/2001-01-01/1/1.png"))
    assert np.array_equal(png, expected)
    # no temporary files left; the lock and the record of which folder holds which study stay
    assert sorted(p.name for p in out.rglob(".*")) == sorted([LOCK_NAME, STATE_NAME])


@pytest.mark.shared_data
def test_folder_export_equals_dicomdir_export_and_lists_skips(
    shared_data: Path, tmp_path: Path
) -> None:
    result = export_images(shared_data / FILESET, tmp_path / "out")
    assert tree_of(tmp_path / "out") == EXPECTED
    reasons = dict((Path(f).name, why) for f, why in result.skipped)
    assert reasons["README.txt"] == "not a DICOM file"
    assert reasons["DICOMDIR-bigEnd"] == "a DICOMDIR index, not an image"
    assert result.failed == []


@pytest.mark.shared_data
def test_anonymize_uses_stable_keyed_pseudonyms(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOLUMEVIZ_PSEUDONYM_KEY", "site-secret")
    dicomdir = shared_data / FILESET / "DICOMDIR"
    first = export_images(dicomdir, tmp_path / "a", anonymize=True)
    export_images(dicomdir, tmp_path / "b", anonymize=True)
    assert first.notes == []  # keyed
    folders = sorted(p.name for p in (tmp_path / "a").iterdir() if p.is_dir())
    assert folders == sorted(p.name for p in (tmp_path / "b").iterdir() if p.is_dir())
    assert folders == sorted(
        [pseudonym("77654033", "Doe^Archibald", "", b"site-secret"),
         pseudonym("98890234", "Doe^Peter", "", b"site-secret")]
    )  # fmt: skip
    assert all(f.startswith("patient-") for f in folders)
    every_path = " ".join(str(p) for p in (tmp_path / "a").rglob("*"))
    assert "Doe" not in every_path
    assert "77654033" not in every_path
    assert not re.search(r"(19|20)\d\d-?\d\d-?\d\d", every_path)  # no study date in a name
    # projection radiographs without (0028,0301) NO may carry burned-in labels: not exported
    assert any("CR" in f and "Burned In Annotation is not NO" in why for f, why in first.skipped)
    assert not any("Doe" in f or "/" in f for f, _ in first.skipped)  # files named by hash
    monkeypatch.setenv("VOLUMEVIZ_PSEUDONYM_KEY", "other")
    export_images(dicomdir, tmp_path / "c", anonymize=True)
    assert sorted(p.name for p in (tmp_path / "c").iterdir() if p.is_dir()) != folders


def test_anonymize_skips_burned_in_annotation(tmp_path: Path) -> None:
    from volumeviz.io.write import write_secondary_capture

    src = tmp_path / "src"
    src.mkdir()
    write_secondary_capture(np.zeros((4, 4, 3), np.uint8), src / "shot.dcm")
    result = export_images(src, tmp_path / "out", anonymize=True, key=b"k")
    assert result.written == []
    assert "Burned In Annotation YES" in result.skipped[0][1]
    plain = export_images(src, tmp_path / "out2")
    assert len(plain.written) == 1


@pytest.mark.shared_data
def test_multiframe_one_file_per_frame(shared_data: Path, tmp_path: Path) -> None:
    result = export_images(shared_data / "syntax/emri_10f_rle.dcm", tmp_path / "o", window="auto")
    names = sorted(p.name for p in result.written)
    assert names == [f"1_{k:04d}.png" for k in range(1, 11)]


@pytest.mark.shared_data
def test_window_choices(shared_data: Path, tmp_path: Path) -> None:
    ct = shared_data / "syntax/ct_j2k_osirix_cta.dcm"
    pictures = {}
    for spec in ("file", "file:2", "file:WINDOW2", "400/40", "lung", "auto"):
        (f,) = export_images(
            ct, tmp_path / spec.replace("/", "-").replace(":", "_"), window=spec
        ).written
        pictures[spec] = np.asarray(Image.open(f))
    assert np.array_equal(pictures["file:2"], pictures["file:WINDOW2"])
    assert np.array_equal(pictures["file:2"], pictures["400/40"])  # WINDOW2 is C40/W400
    assert not np.array_equal(pictures["file"], pictures["file:2"])
    assert not np.array_equal(pictures["lung"], pictures["file"])
    result = export_images(ct, tmp_path / "bad", window="file:3")
    assert "window 2 does not exist" in result.failed[0][1]
    with pytest.raises(UsageError):
        export_images(ct, tmp_path / "bad2", window="0/40")


@pytest.mark.shared_data
def test_existing_files_are_kept_unless_force(shared_data: Path, tmp_path: Path) -> None:
    dicomdir = shared_data / FILESET / "DICOMDIR"
    out = tmp_path / "out"
    export_images(dicomdir, out)
    victim = out / "Doe_Archibald_77654033/2001-01-01/1/1.png"
    victim.write_bytes(b"mine")
    second = export_images(dicomdir, out)
    assert second.written == []
    assert len(second.kept) == 31
    assert victim.read_bytes() == b"mine"
    third = export_images(dicomdir, out, force=True)
    assert len(third.written) == 31
    assert victim.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.shared_data
def test_unwritable_output_keeps_partial_progress_and_nothing_outside(
    shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "Doe_Peter_98890234").write_text("a file where a folder should go")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (out / "Doe_Archibald_77654033").symlink_to(outside, target_is_directory=True)
    before = sorted(p for p in tmp_path.rglob("*") if out not in p.parents and p != out)
    res = _run(str(shared_data / FILESET / "DICOMDIR"), "-o", str(out))
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert "FAILED 31 image file(s):" in res.stdout
    assert "leads outside" in res.stdout
    assert "cannot create" in res.stdout
    assert list(outside.iterdir()) == []
    after = sorted(p for p in tmp_path.rglob("*") if out not in p.parents and p != out)
    assert after == before


@pytest.mark.shared_data
def test_partial_failure_keeps_the_rest(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "Doe_Peter_98890234").write_text("blocks one patient")
    result = export_images(shared_data / FILESET / "DICOMDIR", out)
    assert len(result.written) == 7  # Doe^Archibald's images
    assert len(result.failed) == 24
    assert all("cannot create" in why for _, why in result.failed)


def test_output_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        export_images(tmp_path, target)
    res = _run(str(tmp_path), "-o", str(target / "sub"))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1
    assert "output folder cannot be created" in res.stderr
    assert target.read_text() == "x"


@pytest.mark.shared_data
def test_bad_dicomdirs_give_one_line(shared_data: Path, tmp_path: Path) -> None:
    for bad, words in (("bad/pydicom_DICOMDIR-empty.dcm", "empty file-set"),
                       ("bad/pydicom_DICOMDIR-nopatient", "offsets are wrong")):  # fmt: skip
        res = _run(str(shared_data / bad), "-o", str(tmp_path / "o"))
        assert res.returncode == 1
        assert words in res.stderr
        assert res.stderr.count("\n") == 1


def test_safe_names() -> None:
    assert safe_name("Müller^Jürgen", "x") == "Muller_Jurgen"
    assert safe_name('a/b\\c:d*e?f"g<h>i|j', "x") == "a_b_c_d_e_f_g_h_i_j"
    assert safe_name("..", "fallback") == "fallback"
    assert safe_name("nul.txt", "x") == "_nul.txt"
    assert safe_name("x" * 300, "y") == "x" * 64
    assert safe_name(" .hidden. ", "y") == "hidden"


@pytest.mark.shared_data
def test_jpeg_export_of_a_palette_file(shared_data: Path, tmp_path: Path) -> None:
    result = export_images(shared_data / "syntax/palette8_face_ot.dcm", tmp_path / "o", fmt="jpg")
    (written,) = result.written
    assert written.suffix == ".jpg"
    with Image.open(written) as im:
        assert im.format == "JPEG"
        assert im.mode == "RGB"
        assert im.size == (640, 480)
    (expected,) = list(iter_display_frames(shared_data / "syntax/palette8_face_ot.dcm"))
    got = np.asarray(Image.open(written)).astype(int)
    assert np.mean(np.abs(got - expected)) < 3  # JPEG quality 95, no chroma subsampling


@pytest.mark.shared_data
def test_dicomdir_with_unknown_record_type_exports_all_and_says_so(
    shared_data: Path, tmp_path: Path
) -> None:
    import shutil

    cd = tmp_path / "cd"
    shutil.copytree(shared_data / FILESET, cd)
    dicomdir = cd / "DICOMDIR"
    dicomdir.chmod(0o644)
    data = dicomdir.read_bytes()
    dicomdir.write_bytes(data.replace(b"PATIENT ", b"UNKNOWN ", 1))  # same length: offsets kept
    res = _run(str(dicomdir), "-o", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert tree_of(tmp_path / "out") == EXPECTED
    assert "unknown (0004,1430) Directory Record Type 'UNKNOWN', read as PATIENT" in res.stdout


@pytest.mark.shared_data
def test_dicomdir_missing_file_is_listed_and_the_rest_exported(
    shared_data: Path, tmp_path: Path
) -> None:
    import shutil

    cd = tmp_path / "cd"
    shutil.copytree(shared_data / FILESET, cd)
    (cd / "77654033" / "CR2").chmod(0o755)
    (cd / "77654033" / "CR2" / "6247").unlink()
    result = export_images(cd / "DICOMDIR", tmp_path / "out")
    assert len(result.written) == 30
    assert result.skipped == [
        (
            "77654033/CR2/6247",
            f"referenced file 77654033\\CR2\\6247 not found under {cd.resolve()}",
        )
    ]
    assert result.notes == []


def test_output_folder_without_write_permission(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # running as root ignores permission bits, so ask os.access the way a normal user would
    real_access = __import__("os").access
    out = tmp_path / "ro"
    monkeypatch.setattr(
        "volumeviz.io.export.os.access",
        lambda p, mode: False if Path(p) == out else real_access(p, mode),
    )
    with pytest.raises(OutputError, match="output folder is not writable"):
        export_images(tmp_path, out)


def test_nothing_to_export_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    res = _run(str(tmp_path), "-o", str(tmp_path / "out"))
    assert res.returncode == 1
    assert "no image found to export" in res.stderr
    assert "notes.txt: not" in res.stdout


def test_hostile_header_values_stay_inside_outdir(tmp_path: Path) -> None:
    from volumeviz.io.write import write_series
    from volumeviz.model import phantom
    from volumeviz.model.volume import VolumeMeta

    meta = VolumeMeta(modality="CT", units="HU", patient_name="../../evil/..", patient_id="/etc",
                      study_date="../..", series_number=None)  # fmt: skip
    vol = phantom.asymmetric(3).replace(meta=meta)
    write_series(vol, tmp_path / "src", series_number=0)
    out = tmp_path / "deep" / "out"
    result = export_images(tmp_path / "src", out)
    assert len(result.written) == 3
    assert all(p.resolve().is_relative_to(out.resolve()) for p in result.written)
    assert {p.relative_to(out).parts[:2] for p in result.written} == {("evil_etc", "unknown-date")}
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]
