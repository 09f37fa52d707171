"""Every reproducer in ../shared/data/fuzz (except the de-identification ones): the right outcome.

Each class's NOTE.md says what went wrong (an internal error, a hang, a memory blow-up, noise);
each test here asserts what must happen instead: one line naming the file and the DICOM element
and its value (exit 1), or a correct result, with the other files of a folder still loaded or
exported. Runs that once blew up are run in a child process under a 2 GiB address-space limit
and a time limit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from tests.bounded import python_bounded, run_bounded
from tests.conftest import run_cli, shared_path
from volumeviz.errors import (
    DicomDirError,
    DicomReadError,
    HeaderError,
    NoSeriesError,
    SeriesGeometryError,
    VolumeVizError,
)
from volumeviz.io.dicomdir import is_dicomdir, referenced_files
from volumeviz.io.ultrasound import load_ultrasound
from volumeviz.io.volume import load_series

pytestmark = pytest.mark.shared_data


def one_line_error(code: int, err: str, *needles: str) -> str:
    """The run failed with exactly one stderr line starting 'volumeviz: error:'; return it."""
    assert code == 1, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("volumeviz: error: "), err
    assert "Traceback" not in err
    assert "internal error" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


LOAD = """
import sys
from volumeviz import load_series
from volumeviz.errors import VolumeVizError
try:
    v = load_series(sys.argv[1])
except VolumeVizError as exc:
    print(type(exc).__name__ + ": " + str(exc))
else:
    print("loaded", v.size)
"""


@pytest.fixture
def fuzz(shared_data: Path) -> Path:
    return shared_path(shared_data, "fuzz")


# -- decoder_traceback ----------------------------------------------------------------------------


def test_decoder_traceback_is_not_printed(fuzz, tmp_path):
    src = fuzz / "decoder_traceback/rle_columns_1000.dcm"
    run = run_bounded("export", str(src), "-o", str(tmp_path / "out"))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "ERROR" not in run.stderr, run.stderr
    assert "FAILED 1 image file(s)" in run.stdout
    assert f"{src}: (7FE0,0010) Pixel Data cannot be decoded" in run.stdout
    with pytest.raises(DicomReadError, match=r"\(7FE0,0010\) Pixel Data cannot be decoded"):
        load_series(src)


# -- DICOMDIR -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("fs", "record #26 (? at offset 5376) > (0004,1400) Offset of the Next Directory Record"),
        ("fs2", "record #48 (? at offset 9836) > (0004,1400) Offset of the Next Directory Record"),
    ],
)
def test_dicomdir_offset_that_is_not_one_integer(capsys, fuzz, case, needle):
    dicomdir = fuzz / "dicomdir_offset" / case / "DICOMDIR"
    code, _, err = run_cli(capsys, "info", str(dicomdir))
    one_line_error(code, err, str(dicomdir), needle, "read the folder instead")
    with pytest.raises(DicomDirError, match=r"\(0004,1400\)"):
        load_series(dicomdir)


def test_dicomdir_decided_by_file_meta_not_a_byte_sniff(capsys, fuzz):
    image = fuzz / "dicomdir_sniff/image_mentions_dicomdir_uid.dcm"
    assert b"1.2.840.10008.1.3.10" in image.read_bytes()[:1024]
    assert not is_dicomdir(image)
    assert load_series(image).size == (64, 64, 35)  # a Siemens EPI mosaic: 35 tiles
    code, out, err = run_cli(capsys, "info", str(image))
    assert code == 0, err
    assert "64x64x35" in out.replace(" x ", "x")
    assert is_dicomdir(fuzz / "dicomdir_offset/fs/DICOMDIR")


def test_dicomdir_symlink_loop_is_refused_alone(capsys, fuzz, tmp_path):
    # the shared copy holds LOOP as a plain file (links do not survive copying): rebuild it
    root = tmp_path / "root"
    root.mkdir()
    for name in ("DICOMDIR", "IMG1"):
        shutil.copy(fuzz / "dicomdir_symlink_loop/root" / name, root / name)
    (root / "LOOP").symlink_to("LOOP")
    files, skipped = referenced_files(root / "DICOMDIR")
    assert files == []  # its one IMAGE record references LOOP\x
    assert len(skipped) == 1
    assert skipped[0][0] == "LOOP/x"
    assert "goes through LOOP, which cannot be resolved" in skipped[0][1]
    assert "refused" in skipped[0][1]
    code, out, err = run_cli(capsys, "info", str(root / "DICOMDIR"))
    assert code == 0, err
    assert "cannot be resolved" in out
    with pytest.raises(NoSeriesError, match=r"'LOOP\\x' goes through LOOP.*refused"):
        load_series(root / "DICOMDIR")


# -- encapsulated pixel data claiming a huge matrix ----------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "needle"),
    [
        (
            "jpegll_32767sq.dcm",
            "(0028,0010) Rows 32767 x (0028,0011) Columns 32767 disagree with the 512x512 "
            "(columns x rows) its (7FE0,0010) Pixel Data codestream declares",
        ),
        (
            "rle_10000sq_10f.dcm",
            "(0028,0010) Rows 10000 x (0028,0011) Columns 10000 (200000000 bytes a frame) cannot "
            "come from the",
        ),
    ],
)
def test_encapsulated_huge_matrix_fails_cleanly_in_bounded_memory(fuzz, name, needle):
    run = python_bounded(LOAD, str(fuzz / "encapsulated_dims" / name))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("DicomReadError: "), run.stdout + run.stderr
    assert needle in run.stdout, run.stdout


@pytest.mark.parametrize(
    "name",
    ["emri_10f_j2k_lossless.dcm", "ct_jpeg_lossless_nema.dcm", "siemens_mr_7_jpegls_lossless.dcm"],
)
def test_codestream_size_must_match_rows_columns(fuzz, tmp_path, name):
    ds = pydicom.dcmread(fuzz.parent / "syntax" / name)
    rows, cols = int(ds.Rows), int(ds.Columns)
    src = tmp_path / name
    ds.save_as(src)
    tiles = 6 if "MOSAIC" in ds.ImageType else 1  # the Siemens file: a 6x6 mosaic
    assert load_series(src).size[:2] == (cols // tiles, rows // tiles)  # the unchanged file loads
    ds.Rows = rows * 4
    ds.save_as(src)
    with pytest.raises(
        DicomReadError,
        match=rf"Rows {rows * 4} x \(0028,0011\) Columns {cols} disagree with the {cols}x{rows} ",
    ):
        load_series(src)


def test_encapsulated_frames_beyond_fragments_are_refused(fuzz, tmp_path):
    src = tmp_path / "rle.dcm"
    ds = pydicom.dcmread(fuzz.parent / "syntax/emri_10f_rle.dcm")
    ds.NumberOfFrames = 1000  # 10 fragments: at most 10 frames
    ds.save_as(src)
    with pytest.raises(
        DicomReadError, match=r"\(0028,0008\) Number of Frames '1000' exceeds the 10 frame\(s\)"
    ):
        load_series(src)


# -- enhanced functional groups -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        (
            "dim_pointer_text.dcm",
            ["(0020,9222) Dimension Index Sequence item 1 > (0020,9165) Dimension Index Pointer"],
        ),
        (
            "frame3_intercept_abc.dcm",
            [
                "(5200,9230) Per-Frame Functional Groups Sequence item 4 > (0028,9145)",
                "(0028,1052) Rescale Intercept 'abc' is not numeric",
            ],
        ),
        (
            "frame3_two_slopes.dcm",
            ["item 4 > (0028,9145)", "(0028,1053) Rescale Slope '1\\2' has 2 values"],
        ),
    ],
)
def test_enhanced_functional_group_values(capsys, fuzz, name, needles):
    src = fuzz / "enhanced_fg" / name
    code, _, err = run_cli(capsys, "info", str(src))
    one_line_error(code, err, str(src), *needles)
    with pytest.raises(DicomReadError):
        load_series(src)


@pytest.mark.parametrize(("value", "problem"), [("NaN", "'nan' is not finite"), ("0", "is 0")])
def test_enhanced_per_frame_slope_nan_or_zero(fuzz, tmp_path, value, problem):
    ds = pydicom.dcmread(fuzz / "enhanced_fg/frame3_two_slopes.dcm")
    pvt = ds.PerFrameFunctionalGroupsSequence[3].PixelValueTransformationSequence[0]
    pvt["RescaleSlope"].value = value if value != "NaN" else "nan"
    src = tmp_path / "slope.dcm"
    ds.save_as(src)
    with pytest.raises(DicomReadError, match=rf"item 4 > .*Rescale Slope.*{problem}"):
        load_series(src)


# -- export: a bad header value fails that image only ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "failed"),
    [
        ("slope_1e308.dcm", "(0028,1053) Rescale Slope '1e308' exceeds 1e+20"),
        ("pixelrep_un.dcm", "(0028,0103) Pixel Representation '37837\\55784\\13670' has 3"),
        ("nframes_sl.dcm", "(0028,0008) Number of Frames '!' is not an integer"),
        ("intercept_17digits.dcm", None),  # 1.2e16 is a number: exported (float32 display)
        ("window_width_abc.dcm", None),  # the window is left out, the image exported
    ],
)
def test_export_display_values(capsys, fuzz, tmp_path, name, failed):
    src = fuzz / "export_display" / name
    code, out, err = run_cli(capsys, "export", str(src), "-o", str(tmp_path / "out"))
    assert "internal error" not in err
    assert "Traceback" not in err
    written = list((tmp_path / "out").rglob("*.png"))
    if failed is None:
        assert code == 0, out + err
        assert len(written) == 1
    else:
        assert code == 1
        assert f"  {src}: {failed}" in out, out
        assert written == []


def test_export_display_study_exports_the_good_images_and_lists_the_bad(capsys, fuzz, tmp_path):
    study = fuzz / "export_display/study"
    code, out, _ = run_cli(capsys, "export", str(study), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "exported 5 image(s)" in out
    assert f"  {study / '0003.dcm'}: (0028,1052) Rescale Intercept '-1\\--1' has 2 values" in out
    assert len(list((tmp_path / "out").rglob("*.png"))) == 5


@pytest.mark.slow
def test_export_frames_memory(fuzz, tmp_path):
    src = fuzz / "export_frames_memory/nframes_2g.dcm"
    run = run_bounded("export", str(src), "-o", str(tmp_path / "out"))
    assert run.returncode == 1, run.stderr
    assert (
        f"  {src}: (0028,0008) Number of Frames '2147483648' exceeds the 1 frame(s) its "
        "(7FE0,0010) Pixel Data can hold"
    ) in run.stdout


# -- integers holding inf, positions that overflow ------------------------------------------------


def test_int_of_inf(capsys, fuzz):
    src = fuzz / "int_of_inf/samples_fl_inf.dcm"
    code, _, err = run_cli(capsys, "info", str(src))
    one_line_error(code, err, str(src), "(0028,0002) Samples per Pixel '-inf' is not a finite")


def test_position_overflow_in_a_frame(capsys, fuzz):
    src = fuzz / "position_overflow/enhanced_frame5_ipp_inf.dcm"
    code, _, err = run_cli(capsys, "info", str(src))
    one_line_error(
        code,
        err,
        "(5200,9230) Per-Frame Functional Groups Sequence item 6 > (0020,9113) Plane Position",
        "(0020,0032) Image Position (Patient) 'inf\\0\\0' is not finite",
    )


def test_position_overflow_file_rejected_the_rest_loads(fuzz):
    folder = fuzz / "position_overflow/series"
    vol = load_series(folder)
    rejected = vol.meta.extra["rejected_files"]
    assert len(rejected) == 1
    assert "0003.dcm: (0020,0032) Image Position (Patient) '1e+308" in rejected[0]
    assert "implausible" in rejected[0]
    assert vol.size == (64, 64, 6)  # the hole is measured and filled, on the slices own grid
    assert "missing-slices" in {i.code for i in vol.issues}


# -- palette lookup tables ------------------------------------------------------------------------


def test_palette_lut_descriptor_bits(capsys, fuzz, tmp_path):
    src = fuzz / "palette_lut_load/palette_bits32.dcm"
    needle = "(0028,1101) Red Palette Color Lookup Table Descriptor '256\\0\\32' must give 8 or 16"
    with pytest.raises(HeaderError, match=r"must give 8 or 16 bits"):
        load_series(src)
    code, out, _ = run_cli(capsys, "export", str(src), "-o", str(tmp_path / "out"))
    assert code == 1
    assert needle in out


def test_palette_lut_data_too_short(capsys, fuzz):
    src = fuzz / "palette_lut_load/us_red_lut_1byte.dcm"
    needle = "(0028,1201) Red Palette Color Lookup Table Data '1 byte(s) 00' has an odd length"
    code, _, err = run_cli(capsys, "us", "info", str(src))
    one_line_error(code, err, str(src), needle)
    with pytest.raises(HeaderError, match="odd length"):
        load_series(src)


# -- resampling grids -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "culprit", "grid"),
    [
        ("resample_memory/series", "05.dcm", "205056x523x5"),
        ("resample_hang/series", "0004.dcm", "655x858x1356"),
    ],
)
def test_resample_grid_is_bounded(fuzz, case, culprit, grid):
    folder = fuzz / case
    run = python_bounded(LOAD, str(folder))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"SeriesGeometryError: {folder / culprit}: (0020,0032) Image ")
    assert "implausible: with the other" in run.stdout
    assert grid in run.stdout
    with pytest.raises(SeriesGeometryError, match=culprit):
        load_series(folder)


@pytest.mark.parametrize(
    ("case", "culprit", "size"),
    [
        ("resample_too_big/series", "0005.dcm", (64, 64, 6)),
        ("resample_too_big/series_ct", "I120", (512, 512, 6)),
    ],
)
def test_resample_too_big_position_named_rest_loads(fuzz, case, culprit, size):
    vol = load_series(fuzz / case)
    rejected = vol.meta.extra["rejected_files"]
    assert len(rejected) == 1
    assert f"{culprit}: (0020,0037)" not in rejected[0]
    assert f"{culprit}: (0020,0032) Image Position (Patient)" in rejected[0]
    assert "implausible: more than 1e+06 mm from the origin" in rejected[0]
    assert vol.size == size


def test_resample_index_nan_orientation(fuzz):
    folder = fuzz / "resample_index/series"
    vol = load_series(folder)
    rejected = vol.meta.extra["rejected_files"]
    assert len(rejected) == 1
    assert "01.dcm: (0020,0037) Image Orientation (Patient) '1e-300" in rejected[0]
    assert "not a unit vector" in rejected[0]
    assert vol.size[2] == 4
    assert "gantry-tilt" in {i.code for i in vol.issues}


# -- noise ----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("us", "info", "stderr_noise/us_frames_1e3.dcm"), "(0028,0008) Number of Frames '1e3'"),
        (("info", "stderr_noise/dd_fs/DICOMDIR"), "the DICOMDIR's offsets are wrong"),
        (("info", "dicomdir_offset/fs2/DICOMDIR"), "(0004,1400)"),
        (("export", "stderr_noise/us_frames_1e3.dcm", "-o", "{out}"), "Number of Frames '1e3'"),
    ],
)
def test_every_warning_once_and_no_source_lines(fuzz, tmp_path, args, needle):
    argv = [a.format(out=tmp_path / "out") if "{" in a else str(fuzz / a) if "/" in a else a
            for a in args]  # fmt: skip
    run = run_bounded(*argv)
    assert run.returncode == 1
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == len(set(lines)), run.stderr
    assert "warn_and_log" not in run.stderr
    assert "UserWarning" not in run.stderr
    assert "Traceback" not in run.stderr
    assert all(ln.startswith("volumeviz: ") for ln in lines), run.stderr
    assert needle in run.stderr + run.stdout


# -- unknown VRs ----------------------------------------------------------------------------------


def test_unknown_vr_in_an_image_is_named_and_the_image_loads(capsys, fuzz):
    src = fuzz / "unknown_vr/sopclass_vr_QQ.dcm"
    code, out, err = run_cli(capsys, "info", str(src))
    assert code == 0, err
    text = " ".join(out.split())
    assert text.count("(0008,0016) SOP Class UID cannot be read") == 1, out
    assert f"ignored: {src}: (0008,0016) SOP Class UID cannot be read: NotImplementedError" in text
    assert "Unknown Value Representation 'QQ'" in text
    assert load_series(src).size[2] >= 1


def test_unknown_vr_in_a_dicomdir(capsys, fuzz):
    dicomdir = fuzz / "unknown_vr/fs/DICOMDIR"
    code, _, err = run_cli(capsys, "info", str(dicomdir))
    one_line_error(
        code,
        err,
        "(0004,1220) Directory Record Sequence cannot be read",
        "Unknown Value Representation",
    )


# -- ultrasound -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("command", ["info", "export"])
def test_us_frames_memory(fuzz, tmp_path, command):
    src = fuzz / "us_frames_memory/cx50_frames_2g.dcm"
    extra = ["-o", str(tmp_path / "cine.gif")] if command == "export" else []
    run = run_bounded("us", command, str(src), *extra)
    one_line_error(
        run.returncode,
        run.stderr,
        str(src),
        "(0028,0008) Number of Frames '2147483647' exceeds the 2 frame(s) its (7FE0,0010)",
    )


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("us_truncated_142.dcm", "cannot be read as DICOM (BytesLengthException"),
        ("bits_stored_two_values.dcm", "(0028,0101) Bits Stored '8\\8' has 2 values"),
        ("samples_text_nan.dcm", "(0028,0002) Samples per Pixel 'nan' is not a finite integer"),
    ],
)
def test_us_header_values_refused(capsys, fuzz, name, needle):
    src = fuzz / "us_header" / name
    code, _, err = run_cli(capsys, "us", "info", str(src))
    one_line_error(code, err, str(src), needle)
    with pytest.raises(VolumeVizError):
        load_ultrasound(src)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("region_format_fl_inf.dcm", "(0018,6012) Region Spatial Format 'inf' is not a finite"),
        ("region_delta_6bytes.dcm", "(0018,602C) Physical Delta X cannot be read"),
    ],
)
def test_us_region_values_make_the_region_unusable(capsys, fuzz, name, problem):
    src = fuzz / "us_header" / name
    img = load_ultrasound(src)
    assert not img.regions[0].usable
    assert any(problem in p for p in img.regions[0].problems)
    code, out, err = run_cli(capsys, "us", "info", str(src))
    assert code == 0, err
    assert "UNUSABLE" in out
    assert problem in out


# -- Volume invariants ----------------------------------------------------------------------------


def test_negative_spacing_between_slices_is_noted_not_used(fuzz):
    src = fuzz / "volume_invariant/spacing_between_slices_neg.dcm"
    vol = load_series(src)
    assert vol.size == (64, 64, 10)
    assert vol.spacing[2] == 1.0  # no usable spacing: 1 mm assumed, and said so
    assert vol.issues[0].code == "no-geometry"
    assert "assumed spacing 1 x 1 x 1 mm" in vol.issues[0].message
    from volumeviz.io.discover import scan

    notes = scan(src).ignored
    assert f"{src}: (0018,0088) Spacing Between Slices '-1' must be positive; ignored" in notes


def test_tiny_orientation_cosines_are_refused(fuzz):
    folder = fuzz / "volume_invariant/series_iop_tiny"
    with pytest.raises(NoSeriesError, match=r"\(0020,0037\) Image Orientation \(Patient\)"):
        load_series(folder)


def test_fuzz_inputs_unchanged(fuzz, tree_hash):
    """The shared reproducers are read-only inputs: nothing above changed a byte of them."""
    before = tree_hash(fuzz)
    load_series(fuzz / "position_overflow/series")
    with pytest.raises(VolumeVizError):
        load_series(fuzz / "export_display/study/0003.dcm")
    assert tree_hash(fuzz) == before


def test_every_reproducer_has_a_test(fuzz):
    """A class added to ../shared/data/fuzz without a test (here, or deid's for anon_*) fails.

    Each class directory must be named by some test file, and each reproducer in it (file or
    folder) by a test file that names the class.
    """
    tests = Path(__file__).resolve().parents[1]
    files = [*tests.rglob("test_*.py"), *tests.rglob("conftest.py")]
    sources = {p: p.read_text(encoding="utf-8") for p in files}
    missing = []
    for cls in sorted(p for p in fuzz.iterdir() if p.is_dir()):
        assert (cls / "NOTE.md").is_file(), f"{cls.name} has no NOTE.md"
        naming = [text for text in sources.values() if cls.name in text]
        if not naming:
            missing.append(cls.name)
            continue
        for entry in sorted(cls.iterdir()):
            if entry.name != "NOTE.md" and not any(entry.name in text for text in naming):
                missing.append(f"{cls.name}/{entry.name}")
    assert not missing, f"reproducers without a test: {missing}"
