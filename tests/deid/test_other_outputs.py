"""The outputs besides screenshot/report/export: Scene figures and batch renders, anonymised."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import shared_path
from volumeviz.model import phantom
from volumeviz.model.volume import GeometryIssue

pytestmark = pytest.mark.render


def test_scene_metadata_anonymised(tmp_path):
    from volumeviz.render.scene import Scene

    vol = phantom.asymmetric(16)
    vol = vol.replace(
        meta=vol.meta.replace(
            patient_name="LEAKY^PRUDENCE",
            series_description="Prudence Leaky",
            source_files=("/data/Leaky Prudence/I1",),
        )
    ).with_issue(GeometryIssue("rejected-files", "1 file rejected: /data/Leaky Prudence/I9: bad"))
    scene = Scene(vol, cell_size=(96, 96), anonymize=True)
    scene.add_mpr("axial")
    text = json.dumps(scene.metadata())
    assert "Leaky" not in text
    assert "rejected-files" in text


def test_batch_ultrasound_screenshot_anonymised(shared_data, tmp_path):
    from volumeviz.io.ultrasound import load_ultrasound
    from volumeviz.report.build import make_render
    from volumeviz.report.spec import RenderSpec

    path = shared_path(shared_data, "fuzz/anon_export_burned_in/in/cx50_regions.dcm")
    img = load_ultrasound(path)
    spec = RenderSpec("screenshot", "x.png", (("size", (800, 600)), ("anonymize", True)))
    out = tmp_path / "x.png"
    make_render(spec, str(path), out, lambda: img)
    arr = np.asarray(Image.open(out).convert("RGB"))
    top = min(r.bounds[1] for r in img.regions)
    assert top > 10
    assert (arr[: top - 1] == 0).all()  # the bar with the name, above every region, is black


def test_measurement_labels_scrubbed_when_anonymised():
    from volumeviz.ops.measure import Markup
    from volumeviz.render.screenshot import render_image
    from volumeviz.render.state import ViewState

    vol = phantom.asymmetric(32)
    vol = vol.replace(meta=vol.meta.replace(patient_name="LEAKY^PRUDENCE"))
    z = float(vol.center_lps[2])
    mark = Markup("distance", ((-5.0, 0.0, z), (5.0, 0.0, z)), label="Prudence lesion")
    for anonymize in (False, True):
        state = ViewState(mpr="axial", size=(160, 120), measurements=(mark,), anonymize=anonymize)
        _, info = render_image(vol, state)
        text = json.dumps(info.measurements)
        assert ("Prudence" in text) is not anonymize, text


def test_report_problems_name_no_input_path():
    from volumeviz.report.build import ReportTemplate, build_report
    from volumeviz.report.document import Layout

    src = "/data/Leaky Prudence"
    rep = build_report(
        [phantom.asymmetric(16)],
        template=ReportTemplate(sections=("metadata",), presets=()),
        layout=Layout(dpi=36),
        anonymize=True,
        source=src,
        problems=[f"{src}/sub/I9.dcm: not a DICOM file"],
    )
    text = rep.all_text()
    assert "Leaky" not in text
    assert "<input>/file-" in text
