"""Measurements in reports: make_report(measurements=), report --measure, the batch spec.

The phantom's truth is built here: two thin bright bars (1 mm wide, 20 mm tall, along P)
stand exactly 40 mm apart in L, on a grid with anisotropic spacing (0.5 x 0.8 x 3 mm), and the
measured distance joins the bars' centres. In the report's picture the drawn line must be as
long as the bars are apart (the picture's own scale), and the value must read 40.0 mm.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli
from volumeviz.model.volume import Volume, VolumeMeta
from volumeviz.ops.measure import Markup

pytestmark = pytest.mark.render

LENGTH = 40.0
SPACING = (0.5, 0.8, 3.0)  # i (L), j (P), k (S) mm


def _phantom() -> tuple[Volume, Markup]:
    ni, nj, nk = 160, 100, 8  # 80 x 80 x 24 mm
    arr = np.full((nk, nj, ni), -1000, np.int16)
    origin = (-40.0, -40.0, 0.0)
    vol = Volume(arr, origin=origin, spacing=SPACING, meta=VolumeMeta(modality="CT", units="HU"))
    a_l, b_l, p = -25.0, -25.0 + LENGTH, 0.0
    for l_mm in (a_l, b_l):  # a bar 1 mm wide centred on l_mm, from P -10 to +10
        i = round((l_mm - origin[0]) / SPACING[0])
        j0, j1 = round((p - 10 - origin[1]) / SPACING[1]), round((p + 10 - origin[1]) / SPACING[1])
        arr[:, j0 : j1 + 1, i - 1 : i + 2] = 1000
    z = float(vol.index_to_lps([0, 0, 4])[2])
    return vol, Markup("distance", ((a_l, p, z), (b_l, p, z)))


def _longest_run(mask: np.ndarray) -> int:
    """Longest run of True along axis 1 (rows), over all rows."""
    best = 0
    for row in mask:
        padded = np.concatenate(([0], row.astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(padded))
        if len(edges):
            best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best


def _bar_columns(img: np.ndarray) -> list[float]:
    """The centre columns of the two bright vertical bars (long white vertical runs)."""
    white = (img[..., 0] > 200) & (img[..., 1] > 200) & (img[..., 2] > 200)
    runs = np.array([_longest_run(white[:, c][None, :]) for c in range(white.shape[1])])
    tall = np.flatnonzero(runs > 0.6 * runs.max())
    groups = np.split(tall, np.flatnonzero(np.diff(tall) > 1) + 1)
    assert len(groups) == 2, groups
    return [float(g.mean()) for g in groups]


def _check_picture(img: np.ndarray) -> None:
    left, right = _bar_columns(img)
    px_per_mm = (right - left) / LENGTH
    assert px_per_mm > 2  # big enough to measure at all
    yellow = (img[..., 0] > 200) & (img[..., 1] > 150) & (img[..., 2] < 80)
    assert _longest_run(yellow) / px_per_mm == pytest.approx(LENGTH, rel=0.06)


def _measurement_blocks(rep):
    from volumeviz.report.document import FigureGrid, Table

    (section,) = [s for s in rep.sections if s.title != "Contents"]
    tables = [
        b for b in section.blocks if isinstance(b, Table) and b.header and "Plane" in b.header
    ]
    grids = [
        b for b in section.blocks if isinstance(b, FigureGrid) and b.caption == "Measurements"
    ]
    return tables, grids


def test_report_picture_shows_the_measurement_at_its_scale_and_value():
    from volumeviz.report.build import ReportTemplate, build_report
    from volumeviz.report.document import Layout

    vol, mark = _phantom()
    outside = Markup("point", ((500.0, 0.0, 0.0),))
    rep = build_report(
        [vol],
        template=ReportTemplate(sections=("metadata",), presets=()),
        layout=Layout(dpi=120),
        measurements=[mark, outside.spec()],
    )
    (table,), (grid,) = _measurement_blocks(rep)
    assert table.rows[0][1:3] == ("distance", f"distance {LENGTH:.1f} mm")
    assert table.rows[0][4] == "axial"
    assert table.rows[1][2] == "outside this series: not measured"
    (fig,) = grid.figures  # the one outside the series is listed, not drawn
    assert f"distance {LENGTH:.1f} mm" in fig.caption
    _check_picture(np.asarray(fig.image))


def test_measurement_planes_follow_the_points():
    from volumeviz.report.build import ReportTemplate, build_report
    from volumeviz.report.document import Layout

    vol, _ = _phantom()
    z = float(vol.index_to_lps([0, 0, 4])[2])
    marks = [
        f"distance:-20,-10,{z - 3},-20,10,{z + 3}",  # in a sagittal plane
        f"angle:-20,0,{z - 3},0,0,{z},20,0,{z - 3}",  # in a coronal plane
        f"distance:-20,-10,{z - 3},10,10,{z + 3}",  # oblique
    ]
    rep = build_report(
        [vol], template=ReportTemplate(sections=(), presets=()), layout=Layout(dpi=40),
        measurements=marks,
    )  # fmt: skip
    (table,), (grid,) = _measurement_blocks(rep)
    assert [r[4] for r in table.rows] == ["sagittal", "coronal", "oblique"]
    assert float(table.rows[0][2].split()[1]) == pytest.approx(np.hypot(20, 6), abs=0.05)
    assert float(table.rows[2][2].split()[1]) == pytest.approx(
        np.sqrt(30**2 + 20**2 + 6**2), abs=0.05
    )
    for fig in grid.figures:  # each picture shows its measurement (yellow)
        img = np.asarray(fig.image)
        assert (((img[..., 0] > 200) & (img[..., 1] > 150) & (img[..., 2] < 80)).sum()) > 20


def _html_images(html: str) -> list[np.ndarray]:
    import io

    from PIL import Image

    return [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(m))).convert("RGB"))
        for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    ]


def test_make_report_with_measurements(tmp_path):
    from volumeviz.report import make_report

    vol, mark = _phantom()
    out = make_report([vol], tmp_path / "r.html", template="brief", dpi=120,
                      measurements=[mark.spec()])  # fmt: skip
    html = out.read_text()
    assert f"distance {LENGTH:.1f} mm" in html
    shown = [
        img
        for img in _html_images(html)
        if ((img[..., 0] > 200) & (img[..., 1] > 150) & (img[..., 2] < 80)).sum() > 20
    ]
    assert shown
    _check_picture(shown[-1])


@pytest.fixture
def phantom_dir(tmp_path) -> tuple[Path, Markup]:
    from volumeviz.io.synth import write_synthetic_series

    vol, mark = _phantom()
    write_synthetic_series(vol, tmp_path / "ct")
    return tmp_path / "ct", mark


@pytest.mark.slow
def test_report_cli_measure(phantom_dir, tmp_path, capsys):
    src, mark = phantom_dir
    out = tmp_path / "r.html"
    code, _, err = run_cli(
        capsys, "report", str(src), "--template", "brief", "--dpi", "120", "--measure",
        mark.spec(), "-o", str(out),
    )  # fmt: skip
    assert code == 0, err
    html = out.read_text()
    assert f"distance {LENGTH:.1f} mm" in html
    code, _, err = run_cli(capsys, "report", str(src), "--measure", "distance:1,2", "-o",
                           str(tmp_path / "bad.html"))  # fmt: skip
    assert code == 2
    assert "distance takes 6 numbers" in err
    assert not (tmp_path / "bad.html").exists()


@pytest.mark.slow
def test_batch_spec_measure(phantom_dir, tmp_path, capsys):
    src, mark = phantom_dir
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'output = "{tmp_path / "out"}"\n'
        f'[[input]]\npath = "{src}"\n'
        f'[[render]]\nkind = "report"\noutput = "{{input}}.html"\ndpi = 120\n'
        f'template = "brief"\nmeasure = ["{mark.spec()}"]\n'
        f'[[render]]\nkind = "screenshot"\nmpr = "axial"\nslice = {list(mark.points[0])}\n'
        f'size = [480, 480]\nmeasure = ["{mark.spec()}"]\noutput = "{{input}}-ax.png"\n'
    )
    code, _, err = run_cli(capsys, "batch", str(spec), "--sequential", "--no-progress")
    assert code == 0, err
    html = (tmp_path / "out" / "ct.html").read_text()
    assert f"distance {LENGTH:.1f} mm" in html
    from PIL import Image

    _check_picture(np.asarray(Image.open(tmp_path / "out" / "ct-ax.png").convert("RGB")))


def test_batch_spec_measure_errors_name_the_line(tmp_path):
    from volumeviz.report.spec import SpecError, load_spec

    (tmp_path / "ct").mkdir()
    spec = tmp_path / "spec.toml"
    spec.write_text(
        '[[input]]\npath = "ct"\n[[render]]\nkind = "report"\nmeasure = ["distance:0,0,0,1,1"]\n'
    )
    with pytest.raises(SpecError, match=r"spec.toml:5: .*distance takes 6 numbers"):
        load_spec(spec)
    spec.write_text(
        '[[input]]\npath = "ct"\n[[render]]\nkind = "screenshot"\nmeasure = ["point:0,0,0"]\n'
    )
    with pytest.raises(SpecError, match=r"spec.toml:5: .*MPR views only"):
        load_spec(spec)
