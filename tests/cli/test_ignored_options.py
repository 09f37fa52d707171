"""Options that do not apply are warned about, or refused where the picture would mislead."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.conftest import run_cli
from volumeviz.errors import UsageError
from volumeviz.model import phantom
from volumeviz.render.state import OptionWarning, ViewState, misfits

US = Path(__file__).resolve().parents[1] / "data" / "us_philips_cx50_rle"
US_FILE = US / "philips_cx50_palette_2f_ecg_rle.dcm"


@pytest.fixture(scope="module")
def ct_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from volumeviz.io.synth import write_synthetic_series

    folder = tmp_path_factory.mktemp("ct")
    write_synthetic_series(phantom.asymmetric(16), folder)
    return folder


@pytest.fixture(scope="module")
def mr_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from volumeviz.io.synth import write_synthetic_series

    folder = tmp_path_factory.mktemp("mr")
    write_synthetic_series(phantom.asymmetric(16, modality="MR"), folder, modality="MR",
                           window=None)  # fmt: skip
    return folder


def _shot(capsys, src: Path, tmp: Path, *args: str) -> tuple[int, str]:
    out = tmp / "o.png"
    code, _, err = run_cli(
        capsys, "screenshot", str(src), "--size", "48x36", "-o", str(out), *args
    )
    return code, err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--slab", "10"), "--slab 10 mm is ignored: a slab is a 2D (MPR) option"),
        (
            ("--mpr", "axial", "--slab-mode", "minip"),
            "--slab-mode minip is ignored without --slab",
        ),
        (("--mpr", "axial", "--normal", "0,0,1"), "--normal is ignored"),
        (("--window", "brain"), "--window is ignored: it sets the grey levels of 2D views"),
        (("--neurological",), "--neurological is ignored"),
        (("--slice", "3"), "--slice is ignored"),
        (("--mpr", "axial", "--preset", "bone"), "--preset is ignored: it applies to 3D views"),
        (("--mpr", "coronal", "--tf-shift", "100"), "--tf-shift is ignored"),
        (("--mpr", "sagittal", "--view", "left"), "--view is ignored"),
    ],
)
def test_ignored_options_are_warned_about(ct_dir, tmp_path, capsys, args, said) -> None:
    code, err = _shot(capsys, ct_dir, tmp_path, *args)
    assert code == 0, err
    assert f"volumeviz: warning: {said}" in err


def test_options_that_apply_say_nothing(ct_dir, tmp_path, capsys) -> None:
    for args in (
        ("--mpr", "axial", "--slab", "6", "--slab-mode", "mean", "--window", "brain"),
        ("--mpr", "quad", "--preset", "bone", "--window", "lung", "--slice", "4"),
        ("--preset", "bone", "--view", "left", "--tf-shift", "50"),
    ):
        code, err = _shot(capsys, ct_dir, tmp_path, *args)
        assert code == 0, err
        assert "warning" not in err, (args, err)


def test_frame_on_a_ct_is_refused(ct_dir, tmp_path, capsys) -> None:
    code, err = _shot(capsys, ct_dir, tmp_path, "--frame", "2")
    assert code == 2
    assert "--frame 2 is for ultrasound" in err
    assert not (tmp_path / "o.png").exists()


def test_ct_window_on_mr_is_refused(mr_dir, tmp_path, capsys) -> None:
    code, err = _shot(capsys, mr_dir, tmp_path, "--mpr", "axial", "--window", "brain")
    assert code == 2
    assert "is a CT window (HU) and MR values are not HU" in err
    # a window in numbers, or auto, is the user's to choose
    assert _shot(capsys, mr_dir, tmp_path, "--mpr", "axial", "--window", "300/150")[0] == 0


def test_ultrasound_refuses_planes_and_ignores_volume_options(tmp_path, capsys) -> None:
    code, err = _shot(capsys, US_FILE, tmp_path, "--mpr", "axial")
    assert code == 2
    assert "--mpr: an ultrasound file is shown frame by frame" in err
    code, err = _shot(capsys, US_FILE, tmp_path, "--preset", "bone", "--window", "brain")
    assert code == 0, err
    assert "volumeviz: warning: --preset is ignored for an ultrasound file" in err
    assert "volumeviz: warning: --window is ignored for an ultrasound file" in err


def test_the_python_api_warns_and_refuses_alike() -> None:
    from volumeviz.render.scene import Scene
    from volumeviz.render.screenshot import screenshot

    ct = phantom.asymmetric(16)
    mr = phantom.asymmetric(16, modality="MR")
    with pytest.warns(OptionWarning, match=r"slab_mm= 10 mm is ignored"):
        screenshot(ct, slab_mm=10, size=(32, 32), annotations=False)
    with pytest.raises(UsageError, match="CT window"):
        screenshot(mr, mpr="axial", window="brain", size=(32, 32))
    with pytest.warns(OptionWarning, match=r"preset= is ignored"):
        Scene(ct, cell_size=(32, 32)).add_mpr("axial", preset="bone")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to say when everything applies
        screenshot(ct, mpr="axial", slab_mm=4, window="brain", size=(32, 32))
        Scene(ct, cell_size=(32, 32)).add_3d(preset="bone").add_slab("coronal")


def test_misfits_is_pure_and_names_python_arguments() -> None:
    found = misfits(ViewState(mpr="axial", zoom=2.0, crop=(0, 1, 0, 1, 0, 1)), {"zoom", "crop"})
    assert [m.field for m in found] == ["zoom", "crop"]
    assert all("mpr= axial shows a 2D plane" in m.message for m in found)
    assert not any(m.refuse for m in found)
