"""A report a clinician would file: pages filled, dates in one format, findings in plain words."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from report_helpers import run

from volumeviz.model.volume import GeometryIssue
from volumeviz.report.build import build_report, write_report
from volumeviz.report.document import Layout
from volumeviz.report.findings import plain_finding


def _page_fill(poppler, pdf, tmp_path) -> list[float]:
    """For each page: how far down (0..1 of the page) its lowest ink reaches."""
    run(poppler["pdftoppm"], "-r", "30", "-gray", str(pdf), str(tmp_path / "pg"))
    fills = []
    for png in sorted(tmp_path.glob("pg-*.pgm")):
        a = np.asarray(Image.open(png), int)
        rows = np.nonzero((a < 200).any(axis=1))[0]
        fills.append(float(rows.max() + 1) / a.shape[0] if rows.size else 0.0)
    return fills


def test_no_page_is_left_mostly_empty(tmp_path, phantom_vol, stand_in, poppler):
    rep = build_report([phantom_vol], renderer=stand_in, layout=Layout(dpi=60))
    out = write_report(rep, tmp_path / "r.pdf", layout=Layout(dpi=60))
    fills = _page_fill(poppler, out, tmp_path)
    assert len(fills) >= 2
    # every page but the last is used down to its lower quarter (the margin is 15 mm of 297)
    for n, fill in enumerate(fills[:-1], start=1):
        assert fill > 0.75, (n, fills)


def test_dates_in_one_format(phantom_vol, stand_in):
    vol = phantom_vol.replace(meta=phantom_vol.meta.replace(study_date="20150206"))
    text = build_report([vol], renderer=stand_in).all_text()
    assert "20150206" not in text
    assert "2015-02-06" in text
    # every date in the report is YYYY-MM-DD
    assert not re.search(r"\b(19|20)\d{6}\b", text)


def test_findings_in_plain_words(phantom_vol, stand_in):
    tilt = GeometryIssue(
        "gantry-tilt", "gantry tilt 18.5°: slice positions drift", 18.5, "deg", "resampled"
    )
    vol = phantom_vol.with_issue(tilt)
    text = build_report([vol], renderer=stand_in).all_text()
    assert plain_finding(tilt) in text
    assert "The scanner gantry was tilted by 18.5°" in text
    # the technical record stays next to it
    assert "gantry-tilt" in text
    clean = build_report([phantom_vol], renderer=stand_in).all_text()
    assert "need no correction" in clean


@pytest.mark.parametrize(
    "code",
    ["gantry-tilt", "uneven-spacing", "missing-slices", "non-parallel", "misaligned",
     "duplicate-position", "resampled", "no-geometry", "no-pixel-spacing", "single-slice",
     "rejected-files", "colour-to-grey"],
)  # fmt: skip
def test_every_loader_code_has_plain_words(code):
    issue = GeometryIssue(code, f"technical {code} message", 2.0, "mm", "resampled")
    words = plain_finding(issue)
    # a sentence of its own, not the loader's technical message (a rejected file's reason,
    # which names the file and element, is quoted after the sentence)
    if code == "rejected-files":
        assert words.startswith("2 file(s) of this series could not be read")
    else:
        assert "technical" not in words
        assert words.endswith(".")
