"""One file of a series stands for its series; a true single slice is drawn in 2D, not as a black
3D render. Real: one file of the Philips 5 mm head CT. Synthetic: series the test wrote."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli, shared_path
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_multivolume, load_series
from volumeviz.model import phantom

REAL_FILE = "ct/philips_ingenuity_axial_5mm/I120"


@pytest.fixture
def folder(tmp_path):
    write_synthetic_series(phantom.asymmetric(12), tmp_path, prefix="A", series_number=1)
    write_synthetic_series(phantom.asymmetric((10, 10, 5)), tmp_path, prefix="B", series_number=2)
    return tmp_path


def test_one_file_loads_its_whole_series_from_the_folder(folder, caplog) -> None:
    one = sorted(folder.glob("B*"))[2]
    vol = load_series(one)
    assert vol.size == (10, 10, 5)  # series 2, not the larger series 1 beside it
    assert vol.meta.series_number == 2
    assert "one of the 5 files of series 2" in caplog.text
    assert "single_file=True" in caplog.text


def test_single_file_loads_the_file_alone(folder) -> None:
    one = sorted(folder.glob("A*"))[0]
    vol = load_series(one, single_file=True)
    assert vol.size == (12, 12, 1)


def test_a_file_alone_in_its_folder_is_just_that_file(tmp_path) -> None:
    write_synthetic_series(phantom.asymmetric(8), tmp_path)
    keep = sorted(tmp_path.iterdir())[3]
    for f in tmp_path.iterdir():
        if f != keep:
            f.unlink()
    assert load_series(keep).size == (8, 8, 1)


def test_one_file_of_a_time_series_is_its_time_point(tmp_path) -> None:
    uid = "1.2.826.0.1.3680043.8.498.77"
    for t in range(2):
        vol = phantom.asymmetric(6, modality="MR")
        vol = vol.replace(array=(vol.array + 100 * t).astype(vol.array.dtype))
        write_synthetic_series(
            vol, tmp_path, prefix=f"T{t}", modality="MR", series_uid=uid,
            first_instance=1 + 6 * t, elements={"TemporalPositionIdentifier": t + 1},
        )  # fmt: skip
    one = sorted(tmp_path.glob("T1*"))[0]
    assert load_multivolume(one).shape == (2,)
    vol = load_series(one)
    assert vol.size == (6, 6, 6)
    assert vol.meta.dims[0].index == 1  # the second time point: the file's own


def test_real_one_file_of_a_ct_series(shared_data) -> None:
    path = shared_path(shared_data, REAL_FILE)
    assert load_series(path).size[2] == 28
    assert load_series(path, single_file=True).size[2] == 1


@pytest.mark.render
def test_cli_single_file_is_a_2d_picture_not_a_black_render(shared_data, tmp_path, capsys) -> None:
    path = str(shared_path(shared_data, REAL_FILE))
    out = tmp_path / "one.png"
    code, _, err = run_cli(capsys, "screenshot", path, "--single-file", "-o", str(out))
    assert code == 0, err
    img = Image.open(out)
    assert img.text["volumeviz:view"] == "2d"
    pixels = np.asarray(img.convert("L"), float)
    assert pixels.std() > 20  # the head, not a black frame
