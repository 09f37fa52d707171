"""The default 2D window represents the whole series, not whichever file was read first.

Real case: dcm_qa_decubitus HFDR t1_fl2d_sag, every 8th file: the edge slice carries C 4 / W 9,
the others C 625..698 / W 1289..1384. Synthetic: a series whose windows the test wrote, with
an outlier on the file that sorts first by name and by position.
"""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from tests.conftest import run_cli, shared_path
from tests.realworld.dicom_files import MR_IMAGE, write_image
from volumeviz.io.volume import load_series
from volumeviz.model.series import SliceRef, representative_window
from volumeviz.transfer import parse_window

REAL = "realworld/siemens_t1_sag_hfdr_windows/series"


def _series(tmp_path, windows):
    uid = pydicom.uid.generate_uid()
    for k, (c, w) in enumerate(windows):
        write_image(
            tmp_path / f"IM{k:04d}.dcm",
            np.full((8, 8), 100 * k, np.uint16),
            sop_class=MR_IMAGE,
            modality="MR",
            series_uid=uid,
            ImagePositionPatient=[0, 0, 2.0 * k],
            ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
            PixelSpacing=[1, 1],
            InstanceNumber=k + 1,
            WindowCenter=c,
            WindowWidth=w,
        )
    return tmp_path


def test_outlying_first_window_does_not_become_the_default(tmp_path) -> None:
    folder = _series(tmp_path, [(4, 9), (600, 1200), (610, 1210), (620, 1220), (630, 1230)])
    vol = load_series(folder)
    wl = parse_window("file", vol)
    assert (wl.center, wl.width) == (610, 1210)  # the medians, not the first file's 4 / 9
    assert "median of 5" in vol.meta.windows[0].explanation


def test_agreeing_windows_are_taken_as_they_are(tmp_path) -> None:
    vol = load_series(_series(tmp_path, [(40, 400)] * 4))
    wl = parse_window("file", vol)
    assert (wl.center, wl.width) == (40, 400)


def test_files_without_a_window_do_not_count(tmp_path) -> None:
    refs = [SliceRef("f", None, 1, 1, None, None, None, window=w) for w in (None, (50, 100))]
    chosen = representative_window(refs)
    assert chosen is not None
    assert (chosen.center, chosen.width) == (50, 100)
    assert "1 image(s) have none" in chosen.explanation
    assert representative_window(refs[:1]) is None


def test_real_series_window_represents_the_volume(shared_data) -> None:
    vol = load_series(shared_path(shared_data, REAL))
    wl = parse_window("file", vol)
    # not the edge slice's C 4 / W 9: within the centre slices' range
    assert 600 <= wl.center <= 700
    assert 1280 <= wl.width <= 1390


def test_info_says_which_window_and_why(shared_data, capsys) -> None:
    path = str(shared_path(shared_data, REAL))
    code, out, _ = run_cli(capsys, "info", path, "--json")
    assert code == 0
    win = json.loads(out)[0]["window"]
    assert win["files_agree"] is False
    assert win["center"] == pytest.approx(631)
    assert win["width"] == pytest.approx(1328)
    assert "median of 5" in win["explanation"]
    code, out, _ = run_cli(capsys, "info", path)
    assert "window: C 631 / W 1328" in " ".join(out.split())
