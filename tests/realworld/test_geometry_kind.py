"""No invented geometry: projection radiographs and images of unknown geometry, real and synthetic.

Projection images (PS3.3 C.8.11.7, 10.7.1.3): spacing from (0028,0030) Pixel Spacing, else
(0018,1164) Imager Pixel Spacing / (0018,1114) Estimated Radiographic Magnification Factor; edge
letters from (0020,0020) Patient Orientation (C.7.6.1.1.1: first value = direction of the rows,
i.e. the image's right edge; second = direction of the columns, its bottom edge); never an LPS
plane name or position. Unknown geometry: no letters, no mm, a visible note, ``strict`` refuses.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import run_cli, shared_path
from tests.realworld.dicom_files import DX_PRESENTATION, write_image
from volumeviz.errors import SeriesGeometryError
from volumeviz.io.volume import load_series
from volumeviz.model.geometry import GeometryKind

MG = "realworld/mg_mlo_imager_spacing/mg_rmlo_downsampled8.dcm"
LEGACY = "mr/dwv_philips_legacy_multiframe"


def _dx(tmp_path, name="dx.dcm", **elements):
    """A 40x60 DX image, dark, with one bright 3x3 block at rows 4-6, columns 50-52."""
    arr = np.full((40, 60), 100, np.uint16)
    arr[4:7, 50:53] = 4000
    return write_image(
        tmp_path / name,
        arr,
        sop_class=DX_PRESENTATION,
        modality="DX",
        bits_stored=12,
        WindowCenter=2000,
        WindowWidth=4000,
        **elements,
    )


# -- io: which spacing, which letters -------------------------------------------------------------
def test_imager_pixel_spacing_is_corrected_by_the_magnification_factor(tmp_path) -> None:
    p = _dx(
        tmp_path,
        ImagerPixelSpacing=[0.2, 0.25],  # (row, column) at the detector
        EstimatedRadiographicMagnificationFactor=1.25,
        PatientOrientation=["A", "F"],
    )
    vol = load_series(p)
    g = vol.geometry
    assert g.kind is GeometryKind.PROJECTION
    assert g.spacing_known
    # (di, dj) = (column, row) spacing divided by the magnification
    assert vol.spacing[:2] == pytest.approx((0.25 / 1.25, 0.2 / 1.25))
    assert g.pixel_spacing == pytest.approx((0.16, 0.2))
    assert "(0018,1114)" in g.spacing_source
    assert "1.25" in g.spacing_source
    assert g.patient_orientation == ("A", "F")
    assert not any(i.action == "assumed" for i in vol.issues)
    assert not vol.geometry.has_patient_frame


def test_pixel_spacing_wins_over_imager_pixel_spacing(tmp_path) -> None:
    p = _dx(
        tmp_path,
        PixelSpacing=[0.1, 0.1],
        PixelSpacingCalibrationType="GEOMETRY",
        ImagerPixelSpacing=[0.2, 0.2],
        EstimatedRadiographicMagnificationFactor=1.1,
    )
    vol = load_series(p)
    assert vol.spacing[:2] == pytest.approx((0.1, 0.1))
    assert "(0028,0030)" in vol.geometry.spacing_source
    assert "GEOMETRY" in vol.geometry.spacing_source


def test_imager_pixel_spacing_without_factor_is_labelled_at_the_detector(tmp_path) -> None:
    vol = load_series(_dx(tmp_path, ImagerPixelSpacing=[0.3, 0.3]))
    assert vol.spacing[:2] == pytest.approx((0.3, 0.3))
    assert "at the detector" in vol.geometry.spacing_source


def test_projection_without_any_spacing_is_assumed_and_strict_refuses(tmp_path) -> None:
    p = _dx(tmp_path)
    vol = load_series(p)
    assert vol.geometry.kind is GeometryKind.PROJECTION
    assert vol.geometry.assumed
    with pytest.raises(SeriesGeometryError, match="strict"):
        load_series(p, strict=True)


def test_real_mammogram_spacing_and_patient_orientation(shared_data) -> None:
    vol = load_series(shared_path(shared_data, MG))
    g = vol.geometry
    assert g.kind is GeometryKind.PROJECTION
    assert vol.spacing[:2] == pytest.approx((0.75272727, 0.75272727))
    assert "Estimated Radiographic Magnification Factor 1" in g.spacing_source
    assert g.patient_orientation == ("P", "FL")
    # 299 columns x 0.7527 mm = 225 mm wide (not 1.2 m), 382 rows = 288 mm high
    ni, nj, _ = vol.size
    assert ni * vol.spacing[0] == pytest.approx(225.07, abs=0.1)
    assert nj * vol.spacing[1] == pytest.approx(287.5, abs=0.1)
    load_series(shared_path(shared_data, MG), strict=True)  # nothing assumed: not refused


def test_real_legacy_multiframe_is_unknown_and_strict_refuses(shared_data) -> None:
    path = shared_path(shared_data, LEGACY)
    vol = load_series(path)
    assert vol.geometry.kind is GeometryKind.UNKNOWN
    assert vol.geometry.assumed
    with pytest.raises(SeriesGeometryError, match="strict"):
        load_series(path, strict=True)


def test_secondary_capture_without_position_is_unknown(tmp_path) -> None:
    arr = np.zeros((8, 10), np.uint8)
    vol = load_series(write_image(tmp_path / "sc.dcm", arr, PixelSpacing=[0.5, 0.5]))
    assert vol.geometry.kind is GeometryKind.UNKNOWN


def test_info_json_carries_the_geometry(shared_data, capsys) -> None:
    code, out, _ = run_cli(capsys, "info", str(shared_path(shared_data, MG)), "--json")
    assert code == 0
    rec = json.loads(out)[0]
    assert rec["geometry"]["kind"] == "projection"
    assert rec["geometry"]["patient_orientation"] == ["P", "FL"]
    assert rec["orientation"] == ""


# -- pictures ------------------------------------------------------------------------------------
@pytest.mark.render
def test_synthetic_projection_picture_as_stored_with_its_letters(tmp_path) -> None:
    from volumeviz.render.screenshot import ViewState, render_image

    p = _dx(
        tmp_path,
        ImagerPixelSpacing=[0.2, 0.2],
        EstimatedRadiographicMagnificationFactor=1.0,
        PatientOrientation=["A", "F"],
    )
    vol = load_series(p)
    img, info = render_image(vol, ViewState(size=(300, 200)))
    assert info.view == "2d (one slice)"
    (name, s), *_ = info.planes.items()
    assert info.letters[name] == {"right": "A", "left": "P", "bottom": "F", "top": "H"}
    assert not info.orientation_marker
    assert info.scale_bars_mm[name] > 0
    caption = info.texts[name]["lower_left"]
    assert "axial" not in caption
    assert " mm" not in caption.split("\n")[1]
    assert caption.startswith("projection")
    # the stored image is not mirrored: the bright block (rows 4-6, columns 50-52) is drawn in
    # the top right of the 2D slice
    r, c = np.unravel_index(int(np.argmax(s.array)), s.array.shape)
    assert r < s.shape[0] / 4
    assert c > s.shape[1] * 3 / 4
    assert img.std() > 0


@pytest.mark.render
def test_real_mammogram_picture_right_edge_p_bottom_fl(shared_data) -> None:
    from volumeviz.render.screenshot import ViewState, png_metadata, render_image

    vol = load_series(shared_path(shared_data, MG))
    state = ViewState(size=(400, 400))
    _img, info = render_image(vol, state)
    (name, _), *_ = info.planes.items()
    letters = info.letters[name]
    assert letters["right"] == "P"
    assert letters["bottom"] == "FL"
    text = json.dumps(list(info.texts.values()))
    assert "axial" not in text
    assert "+0.0 mm" not in text
    # a 50 mm bar: a quarter of a 225 mm wide image rounds down to 50 (not 1.2 m of image)
    assert info.scale_bars_mm[name] == 50
    meta = png_metadata(vol, state, info)
    assert json.loads(meta["volumeviz:geometry"])["kind"] == "projection"
    assert "axial" not in meta["volumeviz:planes"]


@pytest.mark.render
@pytest.mark.parametrize("mpr", [None, "axial", "quad"])
def test_unknown_geometry_picture_has_no_letters_no_bar_and_a_note(shared_data, mpr) -> None:
    from volumeviz.render.screenshot import ViewState, render_image

    vol = load_series(shared_path(shared_data, LEGACY))
    _, info = render_image(vol, ViewState(mpr=mpr, size=(300, 300), preset="mr-default"))
    assert all(not letters for letters in info.letters.values())
    assert info.scale_bars_mm == {}
    assert not info.orientation_marker
    assert info.notes
    assert all("geometry unknown" in n for n in info.notes.values())
    text = json.dumps(list(info.texts.values()))
    assert "axial" not in text
    assert " mm" not in text


@pytest.mark.render
def test_patient_geometry_picture_still_has_everything() -> None:
    from volumeviz.model import phantom
    from volumeviz.render.screenshot import ViewState, render_image

    _, info = render_image(phantom.asymmetric(16), ViewState(mpr="quad", size=(300, 300)))
    assert info.letters["axial"] == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert set(info.scale_bars_mm) == {"axial", "coronal", "sagittal"}
    assert info.orientation_marker
    assert not info.notes


@pytest.mark.render
def test_cli_says_geometry_unknown_on_stderr_and_strict_refuses(
    shared_data, tmp_path, capsys, caplog
) -> None:
    path = str(shared_path(shared_data, LEGACY))
    out = tmp_path / "a.png"
    code, _, err = run_cli(capsys, "-v", "screenshot", path, "--mpr", "axial", "-o", str(out))
    # the CLI logs to stderr; under pytest the log record is captured by caplog instead
    assert code == 0
    assert "geometry unknown" in err + caplog.text
    out2 = tmp_path / "b.png"
    code, _, err = run_cli(capsys, "screenshot", path, "--strict", "-o", str(out2))
    assert code == 1
    assert "strict" in err
    assert not out2.exists()
