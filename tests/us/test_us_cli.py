"""``volumeviz us info | measure | export`` and ``screenshot_ultrasound`` (in-process)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from volumeviz.cli.main import main
from volumeviz.cli.us import screenshot_ultrasound
from volumeviz.errors import UltrasoundError, UsageError
from volumeviz.model.ultrasound import parse_frames


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main([*args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_info_json_keys_and_values(philips_path, capsys):
    code, out, err = run(capsys, "us", "info", str(philips_path), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert (d["frames"], d["rows"], d["columns"], d["frame_time_ms"]) == (2, 600, 800, None)
    tissue, ecg = d["regions"]
    assert tissue["index"] == 0
    assert tissue["spatial_format"] == "2D"
    assert tissue["data_type"] == "tissue"
    assert tissue["bounds"] == [120, 60, 800, 518]
    assert tissue["units"] == ["cm", "cm"]
    assert tissue["delta"] == [0.02622878766196998] * 2
    assert tissue["reference_pixel"] == [340, 36]
    assert tissue["reference_value"] == [0.0, 0.0]
    assert tissue["pixels_per_cm"] == [pytest.approx(1 / 0.02622878766196998)] * 2
    assert tissue["pixels_per_cm2"] == pytest.approx(1 / 0.02622878766196998**2)
    assert ecg["spatial_format"] == "waveform"
    assert ecg["data_type"] == "ECG trace"
    assert ecg["units"] == ["s", ""]
    assert ecg["pixels_per_cm"] is None
    assert ecg["pixels_per_cm2"] is None


def test_info_table(philips_path, capsys):
    code, out, _ = run(capsys, "us", "info", str(philips_path))
    assert code == 0
    assert "2 frame(s), 800 x 600" in out
    assert "frame time: not given" in out
    assert "38.13,38.13" in out  # px/cm


def test_measure_json(philips_path, capsys):
    code, out, err = run(capsys, "us", "measure", str(philips_path),
                         "--from", "459.5,290.5", "--to", "498.5,301.5", "--json")  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    assert d["distance"] == pytest.approx(40.5216 * 0.02622878766196998, rel=1e-4)
    assert (d["units"], d["region"], d["calibrated"]) == ("cm", 0, True)


def test_measure_time_along_the_ecg_axis(philips_path, capsys):
    code, out, err = run(capsys, "us", "measure", str(philips_path), "--from", "200,550",
                         "--to", "300,550", "--axis", "x", "--json")  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    assert d["value"] == pytest.approx(100 * 0.009642736608649534)
    assert (d["units"], d["region"], d["kind"]) == ("s", 1, "difference-x")


def test_measure_area(philips_path, capsys):
    code, out, _ = run(capsys, "us", "measure", str(philips_path),
                       "--polygon", "200,100 300,100 300,200 200,200", "--json")  # fmt: skip
    assert code == 0
    d = json.loads(out)
    assert d["area"] == pytest.approx((100 * 0.02622878766196998) ** 2)
    assert d["units"] == "cm²"


def test_measure_refusal_is_one_line_exit_1(philips_path, capsys):
    code, out, err = run(capsys, "us", "measure", str(philips_path),
                         "--from", "300,300", "--to", "300,550")  # fmt: skip
    assert code == 1
    assert out == ""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert "different regions" in lines[0]


def test_measure_uncalibrated_is_labelled(derive, capsys):
    path = derive("noreg", None, SequenceOfUltrasoundRegions=None)
    code, out, _ = run(capsys, "us", "measure", str(path), "--from", "0,0", "--to", "30,40")
    assert code == 0
    assert "50.0000 px" in out
    assert "UNCALIBRATED" in out


def test_parse_frames():
    assert parse_frames("0,5,10-12", 20) == [0, 5, 10, 11, 12]
    assert parse_frames("all", 2) == [0, 1]
    with pytest.raises(UsageError, match="runs backwards"):
        parse_frames("5-2", 20)
    with pytest.raises(UsageError, match="not a frame number"):
        parse_frames("a", 20)
    with pytest.raises(UsageError, match="frame 20 out of range"):
        parse_frames("19-20", 20)


def test_export_pngs_with_bar_and_regions(philips_path, tmp_path, capsys):
    out = tmp_path / "f.png"
    code, _, err = run(capsys, "us", "export", str(philips_path), "-o", str(out),
                       "--frames", "all", "--scale-bar", "--regions")  # fmt: skip
    assert code == 0, err
    files = sorted(tmp_path.glob("f_*.png"))
    assert [f.name for f in files] == ["f_0000.png", "f_0001.png"]
    with Image.open(files[0]) as im:
        arr = np.asarray(im.convert("RGB"))
        assert im.text["Calibration"].startswith("region 0 2D tissue: 38.1260 px/cm")
    assert arr.shape == (600, 800, 3)
    # the region outline in the 2D region's colour at its top edge
    assert (arr[60, 400] == (255, 210, 0)).all()
    code, _, _ = run(capsys, "us", "export", str(philips_path), "-o", str(tmp_path / "one.png"),
                     "--frames", "1")  # fmt: skip
    assert code == 0
    assert (tmp_path / "one.png").is_file()
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_export_cine_at_given_rate(philips_path, tmp_path, capsys, suffix):
    import imageio_ffmpeg

    out = tmp_path / f"cine{suffix}"
    code, _, err = run(capsys, "us", "export", str(philips_path), "-o", str(out))
    assert code == 2
    assert "pass --fps" in err
    assert not out.exists()
    code, _, err = run(capsys, "us", "export", str(philips_path), "-o", str(out), "--fps", "10",
                       "--scale-bar")  # fmt: skip
    assert code == 0, err
    if suffix == ".gif":
        with Image.open(out) as im:
            assert (im.n_frames, im.size) == (2, (800, 600))
            assert im.info["duration"] == pytest.approx(100)  # ms per frame at 10 frames/s
        return
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    n = sum(1 for _ in reader)
    assert n == 2
    assert meta["size"] == (800, 600)
    assert meta["fps"] == pytest.approx(10.0)


def test_export_rejects_unknown_format(philips_path, tmp_path, capsys):
    code, _, err = run(capsys, "us", "export", str(philips_path), "-o", str(tmp_path / "x.bmp"))
    assert code == 2
    assert ".png, .mp4 or .gif" in err


def test_screenshot_ultrasound(philips_path, tmp_path):
    out = tmp_path / "shot.png"
    screenshot_ultrasound(philips_path, out, size=(400, 400), frame=1)
    with Image.open(out) as im:
        assert im.size == (400, 400)
        assert im.text["Frame"] == "1"
        assert im.text["Patient"] == "OB^^^^"
    anon = tmp_path / "anon.png"
    screenshot_ultrasound(philips_path, anon, anonymize=True)
    with Image.open(anon) as im:
        arr = np.asarray(im.convert("RGB"))
        assert "Patient" not in im.text
    assert arr.shape == (600, 800, 3)
    assert (arr[:55, :] == 0).all()  # the header bar with the patient's name is blacked out
    with pytest.raises(UsageError, match="frame 2 out of range"):
        screenshot_ultrasound(philips_path, tmp_path / "x.png", frame=2)


def test_screenshot_anonymize_refused_without_regions(derive, tmp_path):
    path = derive("noreg2", None, SequenceOfUltrasoundRegions=None)
    with pytest.raises(UltrasoundError, match="cannot anonymize"):
        screenshot_ultrasound(path, tmp_path / "x.png", anonymize=True)
    assert not (tmp_path / "x.png").exists()
