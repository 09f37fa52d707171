"""Bad input gives a clear one-line reason naming file, element and value, never a number."""

from __future__ import annotations

import pytest

from volumeviz.cli.main import main
from volumeviz.errors import (
    DicomReadError,
    MeasurementRefused,
    UltrasoundError,
    UsageError,
)
from volumeviz.io.ultrasound import is_ultrasound_file, load_ultrasound
from volumeviz.ops import measure as m


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main([*args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_bounds_outside_the_image_make_the_region_unusable(derive, capsys, philips_2d):
    path = derive("bounds", [dict(philips_2d, RegionLocationMaxX1=900)])
    img = load_ultrasound(path)
    r = img.regions[0]
    assert not r.usable
    assert "(0018,601C) Region Location Max X1 = 900" in r.problems[0]
    assert "outside the image" in r.problems[0]
    assert r.pixels_per_cm == (None, None)
    with pytest.raises(MeasurementRefused, match="Max X1 = 900"):
        m.distance(img, (200, 100), (300, 100))
    code, _, err = run(capsys, "us", "measure", str(path), "--from", "200,100", "--to", "300,100")
    assert code == 1
    assert "900" in one_line_error(err)
    code, out, _ = run(capsys, "us", "info", str(path))
    assert code == 0
    assert "UNUSABLE" in out


def test_reversed_bounds_are_refused(derive, philips_2d):
    img = load_ultrasound(derive("rev", [dict(philips_2d, RegionLocationMaxY1=50)]))
    assert "is less than" in img.regions[0].problems[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"PhysicalDeltaX": 0.0}, r"\(0018,602C\) Physical Delta X is 0.0"),
        ({"PhysicalDeltaY": None}, r"no \(0018,602E\) Physical Delta Y"),
        ({"PhysicalDeltaX": float("nan")}, r"Physical Delta X is nan"),
        (
            {"PhysicalUnitsXDirection": 99},
            r"\(0018,6024\) Physical Units X Direction has unknown code 99",
        ),
        ({"PhysicalUnitsYDirection": 0}, r"Physical Units Y Direction is 0 \(none\)"),
    ],
)
def test_broken_axes_refuse_distance_and_area(derive, capsys, change, expected, philips_2d):
    item = philips_2d
    item.update(change)
    path = derive("axis", [item])
    img = load_ultrasound(path)
    with pytest.raises(MeasurementRefused, match=expected):
        m.distance(img, (200, 100), (300, 200))
    with pytest.raises(MeasurementRefused, match=expected):
        m.area(img, [(200, 100), (300, 100), (300, 200)])
    assert img.regions[0].pixels_per_cm2 is None
    # a broken axis (not one that simply has no units) makes the whole region unusable
    assert img.regions[0].usable is ("(none)" in expected.replace("\\", ""))
    code, _, err = run(capsys, "us", "measure", str(path), "--from", "200,100", "--to", "300,200")
    assert code == 1
    line = one_line_error(err)
    assert str(path) in line or "region 0" in line


def test_unknown_spatial_format_is_unusable(derive, philips_2d):
    img = load_ultrasound(derive("fmt", [dict(philips_2d, RegionSpatialFormat=7)]))
    assert "(0018,6012) Region Spatial Format 7 is not defined" in img.regions[0].problems[0]
    assert img.region_at(300, 200) is None
    with pytest.raises(MeasurementRefused, match="outside every calibrated region"):
        m.distance(img, (200, 100), (300, 100))


def test_missing_bounds_are_unusable(derive, philips_2d):
    img = load_ultrasound(derive("nob", [dict(philips_2d, RegionLocationMinX0=None)]))
    assert "no (0018,6018) Region Location Min X0" in img.regions[0].problems[0]


def test_point_outside_every_region_and_outside_the_image(philips_path):
    img = load_ultrasound(philips_path)
    with pytest.raises(MeasurementRefused, match=r"\(10, 10\) lies outside every calibrated"):
        m.distance(img, (10, 10), (300, 300))
    with pytest.raises(UsageError, match=r"outside the image \(800 columns x 600 rows\)"):
        m.distance(img, (300, 300), (900, 300))


def test_frame_index_out_of_range(philips_path, capsys):
    img = load_ultrasound(philips_path)
    with pytest.raises(UsageError, match=r"frame 2 out of range; the file has 2 frame\(s\), 0..1"):
        img.frame(2)
    with pytest.raises(UsageError, match="frame -1 out of range"):
        img.frame(-1)
    p = str(philips_path)
    code, _, err = run(
        capsys, "us", "measure", p, "--from", "200,100", "--to", "300,100", "--frame", "5"
    )
    assert code == 2
    assert "frame 5 out of range" in one_line_error(err)
    code, _, err = run(capsys, "us", "export", p, "-o", "/tmp/never.png", "--frames", "0,7")
    assert code == 2
    assert "frame 7 out of range" in one_line_error(err)


def test_non_ultrasound_file_is_refused(derive, tmp_path, capsys):
    ct = derive("ct", None, Modality="CT", SOPClassUID="1.2.840.10008.5.1.4.1.1.2")
    assert not is_ultrasound_file(ct)
    with pytest.raises(UltrasoundError, match="Modality is 'CT'"):
        load_ultrasound(ct)
    code, out, err = run(capsys, "us", "info", str(ct))
    assert code == 1
    assert out == ""
    line = one_line_error(err)
    assert str(ct) in line
    assert "not an ultrasound image" in line

    text = tmp_path / "notes.txt"
    text.write_text("not dicom")
    assert not is_ultrasound_file(text)
    with pytest.raises(DicomReadError, match="not a DICOM file"):
        load_ultrasound(text)
    code, _, err = run(capsys, "us", "info", str(text))
    assert code == 1
    assert str(text) in one_line_error(err)
    code, _, err = run(capsys, "us", "info", str(tmp_path))
    assert code == 1
    assert "is a folder" in one_line_error(err)
    code, _, err = run(capsys, "us", "info", str(tmp_path / "missing.dcm"))
    assert code == 1
    assert "no such file" in one_line_error(err)


def test_bad_point_syntax_is_a_usage_error(philips_path, capsys):
    code, _, err = run(capsys, "us", "measure", str(philips_path), "--from", "12", "--to", "3,4")
    assert code == 2
    assert "COLUMN,ROW" in err


def test_inconsistent_frame_time_vector_is_ignored_with_a_note(derive):
    img = load_ultrasound(derive("ftv", None, FrameTimeVector=[0.0, 40.0, 40.0]))
    assert img.frame_time_vector_ms is None
    assert img.frame_time_ms is None
    assert any("Frame Time Vector has 3 values for 2 frames" in n for n in img.notes)
