"""No invented geometry in numbers either: region statistics of an image without a patient frame.

A Volume whose geometry was assumed gives no size in mL and no LPS centroid (both would come
from the assumed 1 mm grid); a one-frame projection image with a known pixel spacing gives its
area in mm² and no LPS centroid. ``stats --roi`` (LPS mm) is refused on such an image.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import run_cli, shared_path
from tests.realworld.test_geometry_kind import LEGACY, MG
from volumeviz.io.volume import load_series
from volumeviz.model.geometry import Geometry, GeometryKind
from volumeviz.model.volume import Volume
from volumeviz.ops.stats import region_stats


def _vol(geometry: Geometry | None, nk: int = 1) -> Volume:
    arr = np.zeros((nk, 10, 20), np.int16)
    arr[:, 2:5, 3:7] = 50  # 12 pixels per frame
    kw = {} if geometry is None else {"geometry": geometry}
    return Volume(arr, spacing=(0.5, 0.25, 1.0), **kw)


def test_patient_frame_gives_ml_and_centroid() -> None:
    s = region_stats(_vol(None, nk=2), _vol(None, nk=2).array > 0)
    assert s.volume_ml == pytest.approx(24 * 0.5 * 0.25 * 1.0 / 1000)
    assert all(math.isfinite(c) for c in s.centroid_lps)


def test_projection_gives_area_and_no_position() -> None:
    g = Geometry(kind=GeometryKind.PROJECTION, spacing_known=True)
    vol = _vol(g)
    s = region_stats(vol, vol.array > 0)
    assert s.volume_ml is None
    assert s.area_mm2 == pytest.approx(12 * 0.5 * 0.25)
    assert not any(math.isfinite(c) for c in s.centroid_lps)
    assert s.mean == 50


def test_assumed_geometry_gives_no_size_and_no_position() -> None:
    g = Geometry(kind=GeometryKind.UNKNOWN, spacing_known=False)
    vol = _vol(g, nk=3)
    s = region_stats(vol, vol.array > 0)
    assert (s.volume_ml, s.area_mm2) == (None, None)
    assert s.to_dict()["centroid_lps"] == [None, None, None]
    assert s.voxels == 36


def test_real_mammogram_area_from_its_detector_spacing(shared_data) -> None:
    vol = load_series(shared_path(shared_data, MG))
    mask = np.zeros(vol.array.shape, bool)
    mask[0, 100:110, 50:70] = True
    s = region_stats(vol, mask)
    assert s.area_mm2 == pytest.approx(200 * 0.7527**2, rel=1e-3)
    assert s.volume_ml is None


def test_real_unknown_geometry_stats_roi_is_refused(shared_data, capsys) -> None:
    path = str(shared_path(shared_data, LEGACY))
    vol = load_series(path)
    s = region_stats(vol, vol.array > 0)
    assert s.volume_ml is None
    code, _, err = run_cli(capsys, "stats", path, "--roi", "sphere:0,0,0,10")
    assert code == 1
    assert "no patient frame" in err
    assert "Traceback" not in err
