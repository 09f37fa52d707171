"""Key slices go through the patient, not the air the grid holds above the head or below it."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.conftest import shared_path
from volumeviz.model.volume import Volume, VolumeMeta
from volumeviz.report.build import ReportTemplate, _key_points, anatomy_range, build_report


def _body_in_air(modality: str, background: float, body: float) -> tuple[Volume, float, float]:
    """A 40x40x100 grid (2 mm slices) with the body on slices 30..50 only; its S extent."""
    arr = np.full((100, 40, 40), background, np.float32)
    arr[30:51, 8:32, 8:32] = body
    meta = VolumeMeta(modality=modality, units="HU" if modality == "CT" else "")
    vol = Volume(arr, origin=(-20.0, -20.0, -100.0), spacing=(1.0, 1.0, 2.0), meta=meta)
    return vol, float(vol.index_to_lps([0, 0, 30])[2]), float(vol.index_to_lps([0, 0, 50])[2])


@pytest.mark.parametrize(("modality", "background", "body"), [("CT", -1000, 40), ("MR", 0, 500)])
def test_key_points_lie_in_the_body_not_the_grid(modality: str, background: float, body: float):
    vol, z0, z1 = _body_in_air(modality, background, body)
    lo, hi = anatomy_range(vol, 2)
    assert lo == pytest.approx(30, abs=1.0)
    assert hi == pytest.approx(50, abs=1.0)
    pts = _key_points(vol, 3)
    zs = [p[2] for p in pts]
    assert all(z0 <= z <= z1 for z in zs), (zs, z0, z1)
    assert zs == sorted(zs)
    assert zs[-1] - zs[0] >= 0.4 * (z1 - z0)  # spread over the body, not bunched
    # evenly spread over the grid instead (the old rule), two of three fell in the air
    grid = vol.corners_lps()[:, 2]
    old = [grid.min() + (grid.max() - grid.min()) * (k + 1) / 4 for k in range(3)]
    assert sum(not (z0 <= z <= z1) for z in old) == 2


def test_specks_of_noise_do_not_stretch_the_extent() -> None:
    vol, z0, z1 = _body_in_air("MR", 0, 500)
    arr = vol.array.copy()
    arr[2, 20, 20] = arr[97, 5, 5] = 450  # two bright voxels far above and below
    rng = np.random.default_rng(3)
    arr += rng.uniform(0, 10, arr.shape).astype(np.float32)  # background noise
    lo, hi = anatomy_range(vol.replace(array=arr), 2)
    assert lo == pytest.approx(30, abs=1.0)
    assert hi == pytest.approx(50, abs=1.0)
    zs = [p[2] for p in _key_points(vol.replace(array=arr), 5)]
    assert all(z0 <= z <= z1 for z in zs), (zs, z0, z1)


def test_an_empty_or_flat_volume_keeps_the_grid() -> None:
    vol, _, _ = _body_in_air("CT", -1000, -1000)
    assert anatomy_range(vol, 2) == (0.0, 99.0)
    zs = [p[2] for p in _key_points(vol, 3)]
    grid = vol.corners_lps()[:, 2]
    assert zs == pytest.approx([grid.min() + (grid.max() - grid.min()) * k / 4 for k in (1, 2, 3)])


def test_the_report_captions_name_slices_inside_the_body(stand_in) -> None:
    vol, z0, z1 = _body_in_air("CT", -1000, 40)
    rep = build_report([vol], template=ReportTemplate(key_slices=4), renderer=stand_in)
    captions = [
        f.caption
        for s in rep.sections
        for b in s.blocks
        if getattr(b, "caption", "") == "Key slices (axial)"
        for f in b.figures
    ]
    zs = [float(re.fullmatch(r"axial, S ([+-][\d.]+) mm", c).group(1)) for c in captions]
    assert len(zs) == 4
    assert all(z0 - 0.05 <= z <= z1 + 0.05 for z in zs), (zs, z0, z1)


@pytest.mark.slow
@pytest.mark.parametrize("rel", ["mr/siemens_t1_sag_hfs", "realworld/siemens_t1_sag_hfdr_windows"])
def test_real_sagittal_heads_key_slices_show_the_head(shared_data, rel: str) -> None:
    """Sagittal T1 heads: the grid reaches far above the vertex (the old top key slice there
    showed 0-5 % head); every key slice now cuts through the head."""
    from volumeviz.io.volume import load_series
    from volumeviz.ops.mpr import reslice

    vol = load_series(shared_path(shared_data, rel))
    lo, hi = np.percentile(vol.array, [1, 99])
    threshold = lo + 0.1 * (hi - lo)
    for p in _key_points(vol, 6):
        s = reslice(vol, "axial", point=p)
        head = float((s.array[s.inside] > threshold).mean())
        assert head > 0.25, (p, head)
