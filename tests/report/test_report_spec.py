"""The batch spec: TOML and YAML read the same; every mistake names its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from volumeviz.report.spec import SpecError, load_spec, plan_jobs

TOML = """\
output = "out"
workers = 2

[[input]]
path = "series/*"

[[render]]
kind = "screenshot"
preset = "bone"
view = "left"
size = [64, 48]

[[render]]
kind = "report"
output = "reports/{input}.html"
anonymize = true
presets = ["bone", "soft-tissue"]
"""

YAML = """\
output: out
workers: 2
input:
  - path: series/*
render:
  - kind: screenshot
    preset: bone
    view: left
    size: [64, 48]
  - kind: report
    output: reports/{input}.html
    anonymize: true
    presets: [bone, soft-tissue]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("b", "a", "c"):
        (tmp_path / "series" / name).mkdir(parents=True)
    return tmp_path


def _write(folder: Path, name: str, text: str) -> Path:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(("name", "text"), [("s.toml", TOML), ("s.yaml", YAML)])
def test_toml_and_yaml_mean_the_same(folder, name, text):
    spec = load_spec(_write(folder, name, text))
    assert spec.output_dir == (folder / "out").resolve()
    assert spec.workers == 2
    assert [r.kind for r in spec.renders] == ["screenshot", "report"]
    assert spec.renders[0].option("size") == (64, 48)
    assert spec.renders[1].option("presets") == ("bone", "soft-tissue")
    assert spec.renders[1].option("format") == "html"
    jobs = plan_jobs(spec)
    assert [Path(j.path).name for j in jobs] == ["a", "b", "c"]  # globs sorted
    # a render anonymises: folder names may carry the patient's name, so {input} is input-N
    assert spec.anonymize
    assert [j.name for j in jobs] == ["input-1", "input-2", "input-3"]
    assert jobs[0].outputs == (
        str((folder / "out" / "input-1-bone-left.png").resolve()),
        str((folder / "out" / "reports" / "input-1.html").resolve()),
    )
    # without anonymize, {input} is the folder's name
    plain = load_spec(_write(folder, name, text.replace("anonymize", "# anonymize")))
    assert not plain.anonymize
    assert [j.name for j in plan_jobs(plain)] == ["a", "b", "c"]
    assert plan_jobs(plain)[0].outputs[0] == str((folder / "out" / "a-bone-left.png").resolve())


# (spec text, line expected in the message, words expected in the message)
TOML_MISTAKES = [
    ("[[input]]\npath = 'series/a'\n[[rendr]]\nkind = 'report'\n", 3, "did you mean 'render'"),
    ("[[input]]\npath = 'x'\n[[render]]\nkind = 'screenshot'\n\nview = 'front'\n", 6, "view"),
    (
        "[[input]]\npath = 'series/a'\n[[render]]\nkind = 'screenshot'\nsize = [0, 10]\n",
        5,
        "16..8192",
    ),
    (
        "[[input]]\npath = 'series/a'\n[[render]]\nkind = 'screenshot'\npreset = 'bones'\n",
        5,
        "bone",
    ),
    ("[[input]]\npath = 'series/a'\n[[render]]\nkind = 'report'\noutput = 'r.docx'\n", 5, ".pdf"),
    (
        "[[input]]\npath = 'series/a'\n[[render]]\nkind = 'report'\noutput = '{who}.pdf'\n",
        5,
        "{who}",
    ),
    ("workers = 0\n[[input]]\npath = 'series/a'\n[[render]]\nkind = 'report'\n", 1, ">= 1"),
    ("[[input]]\npath = 'series/a'\n[[render]]\nkind = 'report'\nanonymize = 'yes'\n", 5, "true"),
    ("[[input]]\npath = 'series/a'\n[[render]]\nkind = 'report'\nkind2 = \n", 5, "Invalid"),
    ("[[input]]\nseries = '1.2'\n[[render]]\nkind = 'report'\n", 1, "path"),
]


@pytest.mark.parametrize(("text", "line", "words"), TOML_MISTAKES)
def test_toml_mistakes_name_the_line(folder, text, line, words):
    p = _write(folder, "bad.toml", text)
    with pytest.raises(SpecError) as info:
        load_spec(p)
    msg = str(info.value)
    assert msg.startswith(f"{p}:{line}: "), msg
    assert words in msg
    assert "\n" not in msg


YAML_MISTAKES = [
    ("input:\n  - series/a\nrender:\n  - kind: screenshot\n    sise: [10, 10]\n", 5, "'size'"),
    ("input:\n  - series/a\nrender:\n  - kind: screenshot\n    view: [a\n", 6, "column"),
    ("input: series/a\nrender:\n  - kind: report\n", 1, "non-empty list"),
    ("input:\n  - series/a\nrender:\n  - kind: report\n    presets: [bone, lungz]\n", 5, "lung"),
]


@pytest.mark.parametrize(("text", "line", "words"), YAML_MISTAKES)
def test_yaml_mistakes_name_the_line(folder, text, line, words):
    p = _write(folder, "bad.yaml", text)
    with pytest.raises(SpecError) as info:
        load_spec(p)
    msg = str(info.value)
    assert msg.startswith(f"{p}:{line}: "), msg
    assert words in msg


def test_plan_problems_name_the_line(folder):
    p = _write(
        folder,
        "s.toml",
        "[[input]]\npath = 'series/a'\n[[input]]\npath = 'nope/*'\n[[render]]\nkind = 'report'\n",
    )
    with pytest.raises(SpecError, match=r"s\.toml:4: input\[1\]\.path: 'nope/\*' matches nothing"):
        plan_jobs(load_spec(p))
    # two renders writing the same file
    p = _write(
        folder, "s.toml", "input = ['series/*']\n[[render]]\nkind = 'report'\noutput = 'all.pdf'\n"
    )
    with pytest.raises(SpecError, match=r"s\.toml:4: render\[0\]\.output: .*would both write"):
        plan_jobs(load_spec(p))


def test_same_folder_names_are_made_unique(tmp_path):
    for parent in ("p1", "p2"):
        (tmp_path / parent / "CT").mkdir(parents=True)
    p = _write(tmp_path, "s.toml", "input = ['*/CT']\n[[render]]\nkind = 'report'\n")
    names = [j.name for j in plan_jobs(load_spec(p))]
    assert names == ["CT", "CT-2"]


def test_not_a_spec(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "missing.toml")
    p = _write(tmp_path, "spec.json", "{}")
    with pytest.raises(SpecError, match=r"\.toml, \.yaml or \.yml"):
        load_spec(p)
    p = _write(tmp_path, "empty.yaml", "")
    with pytest.raises(SpecError, match="table/mapping"):
        load_spec(p)


def test_each_series_is_its_own_job(tmp_path):
    from report_helpers import write_series

    from volumeviz.model import phantom

    mixed = tmp_path / "mixed"
    write_series(phantom.asymmetric(16), mixed, series_number=4, prefix="A")
    write_series(phantom.asymmetric(16), mixed, series_number=7, prefix="B")
    p = _write(
        tmp_path,
        "s.yaml",
        "input:\n  - path: mixed\n    series: each\n  - path: mixed\n    series: 7\n"
        "render:\n  - kind: screenshot\n    output: '{input}.png'\n",
    )
    jobs = plan_jobs(load_spec(p))
    assert [j.name for j in jobs] == ["mixed-s4", "mixed-s7", "mixed"]
    assert jobs[0].series != jobs[1].series
    assert jobs[2].series == "7"
    assert [Path(j.outputs[0]).name for j in jobs] == ["mixed-s4.png", "mixed-s7.png", "mixed.png"]


def test_mpr_screenshots(folder):
    p = _write(
        folder,
        "s.toml",
        "input = ['series/a']\n[[render]]\nkind = 'screenshot'\nmpr = 'coronal'\nslab_mm = 10\n"
        "slab_mode = 'mean'\nwindow = '400/40'\nslice = [0, 0, 5.5]\nsize = [64, 64]\n",
    )
    spec = load_spec(p)
    r = spec.renders[0]
    assert (r.option("mpr"), r.option("slab_mm"), r.option("slice")) == (
        "coronal",
        10.0,
        (0, 0, 5.5),
    )
    assert Path(plan_jobs(spec)[0].outputs[0]).name == "a-coronal.png"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("mpr = 'diagonal'", "not an MPR mode"),
        ("slab_mm = 10", "MPR views only"),
        ("mpr = 'axial'\nslab_mode = 'max'", "mip, minip, mean"),
        ("mpr = 'axial'\nslice = [1, 2]", "[x, y, z]"),
    ],
)
def test_mpr_mistakes(folder, body, words):
    p = _write(
        folder, "s.toml", f"input = ['series/a']\n[[render]]\nkind = 'screenshot'\n{body}\n"
    )
    with pytest.raises(SpecError, match=re.escape(words)):
        load_spec(p)
