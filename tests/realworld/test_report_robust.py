"""Reports: key slices lie inside the data (an oblique series stopped the whole study report), and
one series that fails never loses the others (the report says what failed and names the series;
the CLI exits 1 after writing it)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import run_cli, shared_path
from volumeviz.errors import RenderError
from volumeviz.model import phantom
from volumeviz.report.build import _key_points, build_report


def _rot_x(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


@pytest.mark.parametrize("deg", [0, 20, 45, 70])
def test_key_points_are_inside_an_oblique_volume(deg) -> None:
    vol = phantom.asymmetric((40, 30, 12), spacing=(1.0, 1.0, 3.0), direction=_rot_x(deg))
    pts = _key_points(vol, 4)
    assert len(pts) == 4
    ijk = vol.lps_to_index(np.asarray(pts))
    assert np.all(ijk >= -1e-9)
    assert np.all(ijk <= np.asarray(vol.size) - 1 + 1e-9)
    # ordered from inferior to superior, all different
    z = [p[2] for p in pts]
    assert z == sorted(z)
    assert len(set(np.round(z, 6))) == 4


def test_one_slice_gets_one_key_point() -> None:
    vol = phantom.asymmetric((16, 16, 1))
    assert len(_key_points(vol, 4)) == 1


class _FailsOn:
    """A renderer that draws everything except one series (the real failure path)."""

    def __init__(self, inner, bad_description: str) -> None:
        self.inner, self.bad = inner, bad_description

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        def call(vol, **kw):
            if getattr(getattr(vol, "meta", None), "series_description", "") == self.bad:
                raise RenderError("rendering failed: no OpenGL context (test)")
            return method(vol, **kw)

        return call


class _StandIn:
    """Draws a grey picture of the size asked for (the document, not the pixels, is tested)."""

    @staticmethod
    def _draw(vol, *, size, **kw):
        return np.full((size[1], size[0], 3), 128, np.uint8)

    view3d = quad = mpr = ultrasound_frame = _draw


def test_a_series_that_cannot_be_drawn_does_not_lose_the_others() -> None:
    stand_in = _StandIn()
    good = phantom.asymmetric(16)
    good = good.replace(meta=good.meta.replace(series_description="GOOD ONE"))
    bad = good.replace(meta=good.meta.replace(series_description="BAD ONE"))
    report = build_report([good, bad, good], renderer=_FailsOn(stand_in, "BAD ONE"))
    titles = [s.title for s in report.sections]
    assert len(titles) == 4  # contents + 3 series, the failed one included
    text = report.all_text()
    assert "Could not be drawn" in text
    assert "BAD ONE" in report.problems[0]
    assert "no OpenGL context" in report.problems[0]
    assert len(report.problems) == 1
    assert len(list(report.figures())) > 0


def test_cli_report_of_the_shared_mr_folder_with_its_oblique_series(
    shared_data, tmp_path, capsys
) -> None:
    """The 20 degree oblique Toshiba series made the whole study report stop (exit 2)."""
    out = tmp_path / "mr.html"
    tpl = tmp_path / "keys.yaml"
    tpl.write_text("base: brief\nsections: [metadata, key_slices]\nkey_slices: 4\ndpi: 36\n")
    folder = shared_path(shared_data, "mr/toshiba_galan_oblique20_b0")
    code, _, err = run_cli(capsys, "report", str(folder), "-o", str(out), "--template", str(tpl))
    assert code == 0, err
    html = out.read_text()
    assert "Key slices (axial)" in html
    assert html.count("<figcaption>axial, S ") == 4


def test_cli_report_names_failed_files_writes_the_rest_and_exits_1(tmp_path, capsys) -> None:
    """Files refused at the header scan (here the orientation cosines of a whole series are not
    perpendicular, so each file is refused on its own) are named with the element in the report
    and on stderr; the good series is reported; exit 1. (A series refused as a whole at load
    time: the --strict test below.)"""
    from tests.realworld.dicom_files import CT_IMAGE, write_image

    for k in range(3):
        write_image(
            tmp_path / f"good{k}.dcm",
            np.full((16, 16), 40 * k, np.int16),
            sop_class=CT_IMAGE,
            modality="CT",
            series_uid="1.2.3.1",
            signed=True,
            SeriesDescription="FINE SERIES",
            ImagePositionPatient=[0, 0, 2.0 * k],
            ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
            PixelSpacing=[1, 1],
        )
    for k in range(3):  # row and column cosines not perpendicular: refused
        write_image(
            tmp_path / f"bad{k}.dcm",
            np.zeros((16, 16), np.int16),
            sop_class=CT_IMAGE,
            modality="CT",
            series_uid="1.2.3.2",
            signed=True,
            SeriesNumber=7,
            SeriesDescription="BROKEN SERIES",
            ImagePositionPatient=[0, 0, 2.0 * k],
            ImageOrientationPatient=[1, 0, 0, 0.7071, 0.7071, 0],
            PixelSpacing=[1, 1],
        )
    out = tmp_path / "r.html"
    tpl = tmp_path / "keys.yaml"
    tpl.write_text("base: brief\nsections: [metadata, issues, key_slices]\nkey_slices: 2\n")
    code, _, err = run_cli(capsys, "report", str(tmp_path), "-o", str(out), "--template", str(tpl))
    assert code == 1
    assert out.is_file()  # written all the same
    html = out.read_text()
    assert "FINE SERIES" in html
    for k in range(3):
        assert f"bad{k}.dcm: (0020,0037) Image Orientation (Patient)" in html
        assert f"bad{k}.dcm: (0020,0037) Image Orientation (Patient)" in err
    assert "not perpendicular" in err


def test_cli_report_strict_names_the_resampled_series_and_keeps_the_others(
    shared_data, tmp_path, capsys
) -> None:
    """--strict: the tilted GE CT is refused (named, exit 1); the plain Philips CT is reported."""
    import shutil

    study = tmp_path / "study"
    shutil.copytree(shared_path(shared_data, "ct/ge_hispeed_tilt_varspacing"), study / "ge")
    shutil.copytree(shared_path(shared_data, "ct/philips_ingenuity_axial_5mm"), study / "ph")
    out = tmp_path / "r.html"
    tpl = tmp_path / "t.yaml"
    tpl.write_text("base: brief\nsections: [metadata]\n")
    code, _, err = run_cli(
        capsys, "report", str(study), "-o", str(out), "--template", str(tpl), "--strict"
    )
    assert code == 1
    assert "strict" in err
    assert "gantry tilt" in err
    html = out.read_text()
    assert "STD BRAIN 5MM" in html
