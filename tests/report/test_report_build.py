"""Building a report document from Volumes and ultrasound images (layout, anonymisation)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from report_helpers import run

from volumeviz.model.ultrasound import (
    ArrayFrames,
    UltrasoundImage,
    UltrasoundMeta,
    UltrasoundRegion,
)
from volumeviz.model.volume import GeometryIssue
from volumeviz.report.build import (
    BUILTIN_TEMPLATES,
    ReportTemplate,
    build_report,
    load_template,
    write_report,
)
from volumeviz.report.document import FigureGrid, Layout, Table
from volumeviz.report.spec import SpecError

IDENTITY = ("DOE", "JANE", "PID-778899", "19700101", "Springfield", "1.2.3.4.5")


def _us(burned_in: str = "", *, regions: bool = True) -> UltrasoundImage:
    frames = np.zeros((3, 60, 80), np.uint8)
    frames[:, 10:50, 20:60] = 128
    region = UltrasoundRegion(
        index=0,
        bounds=(0, 0, 79, 59),
        reference_pixel=(40.0, 0.0),
        reference_value=(0.0, 0.0),
        delta=(0.05, 0.05),
    )
    meta = UltrasoundMeta(
        manufacturer="ACME",
        patient_name="DOE^JANE",
        patient_id="PID-778899",
        burned_in_annotation=burned_in,
    )
    return UltrasoundImage(
        "/data/DOE_JANE/us.dcm",
        60,
        80,
        3,
        False,
        (region,) if regions else (),
        frames=ArrayFrames(frames),
        meta=meta,
    )


def _tables(rep):
    return [b for s in rep.sections for b in s.blocks if isinstance(b, Table)]


def test_series_sections_and_print_sizes(phantom_vol, stand_in):
    vol = phantom_vol.with_issue(
        GeometryIssue(
            "missing-slices", "1 slice missing at k=7 (gap 4 mm)", 4.0, "mm", "resampled"
        )
    )
    layout = Layout(dpi=72)
    tpl = ReportTemplate(presets=("bone", "soft-tissue"), views=("anterior", "left"), key_slices=3)
    rep = build_report([vol], template=tpl, layout=layout, renderer=stand_in, source="/x/y")
    text = rep.all_text()
    assert "Series 3 (CT)" in text
    assert "32 x 32 x 32" in text
    assert "1 x 1 x 2" in text
    assert "missing-slices" in text
    assert "gap 4 mm" in text
    assert "DOE^JANE" in text  # not anonymised: the patient is named
    grids = {g.caption: g for s in rep.sections for g in s.blocks if isinstance(g, FigureGrid)}
    assert len(grids["3D views"].figures) == 4  # 2 presets x 2 views
    assert [f.image.shape[:2] for f in grids["3D views"].figures] == [
        layout.cell_px(2, 0.75)[::-1]
    ] * 4
    (quad,) = grids["MPR quad"].figures
    assert quad.image.shape[:2] == layout.cell_px(1, 1.0)[::-1]  # full width, print resolution
    keys = grids["Key slices (axial)"]
    zs = [float(re.search(r"S ([-+\d.]+) mm", f.caption).group(1)) for f in keys.figures]
    assert zs == sorted(zs)
    assert len(set(zs)) == 3
    corners = vol.corners_lps()[:, 2]
    assert corners.min() < zs[0]
    assert zs[-1] < corners.max()
    calls = [c[0] for c in stand_in.calls]
    assert calls.count("view3d") == 4
    assert calls.count("quad") == 1
    assert calls.count("mpr") == 3


def test_anonymize_reaches_text_annotations_and_metadata(phantom_vol, stand_in):
    rep = build_report(
        [phantom_vol, _us("NO")],
        template=ReportTemplate(presets=("bone",), key_slices=1, us_frames=1),
        layout=Layout(dpi=50),
        renderer=stand_in,
        anonymize=True,
        source="/data/DOE_JANE",
    )
    everything = rep.all_text().lower()
    for word in IDENTITY:
        assert word.lower() not in everything, word
    # the renderer only ever saw anonymised data, so its annotations cannot name the patient
    for _, item, _ in stand_in.calls:
        assert item.meta.patient_name in ("ANONYMOUS", "")
        assert item.meta.patient_id == ""
    assert "anonymised" in rep.subtitle


def test_ultrasound_section(stand_in):
    rep = build_report([_us("NO")], layout=Layout(dpi=50), renderer=stand_in)
    table = next(t for t in _tables(rep) if t.caption.startswith("Calibration"))
    assert table.rows[0][3] == "cm / cm"
    assert table.rows[0][5] == "20 x 20"  # 0.05 cm per pixel
    grid = next(b for s in rep.sections for b in s.blocks if isinstance(b, FigureGrid))
    assert [f.caption for f in grid.figures] == ["frame 0", "frame 1", "frame 2"]
    assert "/data/DOE_JANE/us.dcm" in rep.all_text()


@pytest.mark.parametrize(
    ("burned_in", "regions", "frames"),
    [("", True, 1), ("YES", True, 1), ("", False, 0), ("YES", False, 0), ("NO", False, 1)],
)
def test_anonymised_ultrasound_frames(stand_in, burned_in, regions, frames):
    """Frames are shown masked to their regions; without regions only if nothing is burned in."""
    tpl = ReportTemplate(us_frames=1)
    rep = build_report(
        [_us(burned_in, regions=regions)], template=tpl, renderer=stand_in, anonymize=True
    )
    n = sum(len(b.figures) for s in rep.sections for b in s.blocks if isinstance(b, FigureGrid))
    assert n == frames
    assert ("Frames left out" in rep.all_text()) == (frames == 0)
    assert all(c[2]["anonymize"] for c in stand_in.calls if c[0] == "us")


def test_brief_template_and_template_files(tmp_path, phantom_vol, stand_in):
    assert load_template("brief") is BUILTIN_TEMPLATES["brief"]
    rep = build_report([phantom_vol], template=load_template("brief"), renderer=stand_in)
    assert "Key slices" not in rep.all_text()
    f = tmp_path / "qa.yaml"
    f.write_text("base: brief\ntitle: Weekly QA\npresets: [lung]\ndpi: 150\n")
    tpl = load_template(f)
    assert (tpl.title, tpl.presets, tpl.dpi, tpl.key_slices) == ("Weekly QA", ("lung",), 150, 0)
    f.write_text("title: QA\nsections: [metadata, movies]\n")
    with pytest.raises(SpecError, match=r"qa\.yaml:2: sections\[1\]: 'movies'"):
        load_template(f)
    t = tmp_path / "qa.toml"
    t.write_text('title = "QA"\nkey_slices = 99\n')
    with pytest.raises(SpecError, match=r"qa\.toml:2: key_slices: must be a whole number"):
        load_template(t)
    with pytest.raises(SpecError, match="not a built-in template"):
        load_template("fancy")


def test_written_pdf_has_no_identity(tmp_path, phantom_vol, stand_in, poppler):
    layout = Layout(dpi=50)
    rep = build_report(
        [phantom_vol],
        template=ReportTemplate(presets=("bone",), key_slices=2),
        layout=layout,
        renderer=stand_in,
        anonymize=True,
    )
    out = write_report(rep, tmp_path / "r.pdf", layout=layout)
    text = run(poppler["pdftotext"], str(out), "-") + run(poppler["pdfinfo"], "-meta", str(out))
    text += run(poppler["pdfinfo"], str(out))
    for word in IDENTITY:
        assert word.lower() not in text.lower(), word
    assert "Series 3 (CT)" in text
    html = write_report(rep, tmp_path / "r.html").read_text()
    for word in IDENTITY:
        assert word.lower() not in html.lower(), word


@pytest.mark.render
def test_preset_misfits_are_noted_in_the_report():
    from volumeviz.model import phantom

    mr = phantom.asymmetric(24, modality="MR")
    tpl = ReportTemplate(sections=("metadata", "views"), presets=("bone",))
    rep = build_report([mr], template=tpl, layout=Layout(dpi=36))
    assert "Rendering notes: preset 'ct-bone' is meant for CT" in rep.all_text()
