"""``volumeviz batch``: local processes, a real Dask LocalCluster, failures, skips, bad specs."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from volumeviz.cli.main import main
from volumeviz.model import phantom

pytestmark = pytest.mark.render

SPEC = """\
output = "out"
workers = 2

[[input]]
path = "in/*"

[[render]]
kind = "screenshot"
preset = "bone"
view = "anterior"
size = [64, 48]
"""


def cli(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args)) or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """Three phantom series and one broken one (truncated files) under in/."""
    from volumeviz.io.synth import write_synthetic_series

    for n in range(3):
        write_synthetic_series(phantom.asymmetric(24), tmp_path / "in" / f"s{n}", series_number=n)
    broken = tmp_path / "in" / "s1-broken"
    files = write_synthetic_series(phantom.asymmetric(24), broken)
    for f in files:  # cut every file in its pixel data
        f.write_bytes(f.read_bytes()[:600])
    (tmp_path / "spec.toml").write_text(SPEC)
    return tmp_path


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as fh:
        return {Path(r["input"]).name: r for r in csv.DictReader(fh)}


def test_processes_continue_past_a_broken_series_then_skip(study, capsys):
    spec = study / "spec.toml"
    code, out, err = cli(capsys, "batch", str(spec), "--no-progress")
    assert code == 1, err  # one input failed
    assert "4 inputs, 4 outputs: 3 done, 0 skipped, 1 failed" in out
    rows = _rows(study / "out" / "batch-summary.csv")
    assert sorted(rows) == ["s0", "s1", "s1-broken", "s2"]
    assert rows["s1-broken"]["status"] == "failed"
    assert "s1-broken" in rows["s1-broken"]["error"]
    assert "failed: " in err
    assert "s1-broken" in err
    for name in ("s0", "s1", "s2"):
        row = rows[name]
        assert row["status"] == "done"
        assert float(row["seconds"]) > 0
        assert float(row["peak_rss_mb"]) > 10
        img = np.asarray(Image.open(row["output"]).convert("RGB"))
        assert img.shape == (48, 64, 3)
        assert img.std() > 5  # rendered, not blank
    # the work ran in worker processes, not in this one
    assert all(not r["worker"].endswith(f":{os.getpid()}") for r in rows.values())
    summary = json.loads((study / "out" / "batch-summary.json").read_text())
    assert (summary["done"], summary["failed"], summary["executor"]) == (3, 1, "processes")
    assert summary["peak_rss_mb_by_worker"]

    # a second run skips what is complete and leaves it untouched
    before = {n: os.stat(rows[n]["output"]).st_mtime_ns for n in ("s0", "s1", "s2")}
    code, out, _ = cli(capsys, "batch", str(spec), "--sequential", "--no-progress")
    assert code == 1
    assert "3 skipped, 1 failed" in out
    rows2 = _rows(study / "out" / "batch-summary.csv")
    assert [rows2[n]["status"] for n in ("s0", "s1", "s2")] == ["skipped"] * 3
    assert before == {n: os.stat(rows[n]["output"]).st_mtime_ns for n in ("s0", "s1", "s2")}

    # --force re-makes them
    code, out, _ = cli(capsys, "batch", str(spec), "--sequential", "--no-progress", "--force")
    assert "3 done, 0 skipped, 1 failed" in out
    assert all(os.stat(rows[n]["output"]).st_mtime_ns != before[n] for n in ("s0", "s1", "s2"))


def test_report_kind_and_dry_run(study, capsys):
    spec = study / "spec.yaml"
    spec.write_text(
        "output: out\ninput:\n  - in/s0\nrender:\n  - kind: report\n"
        "    output: '{input}.pdf'\n    presets: [bone]\n    dpi: 36\n    anonymize: true\n"
    )
    code, out, _ = cli(capsys, "batch", str(spec), "--dry-run")
    assert code == 0
    # anonymised: the input is named input-N (its folder name may carry the patient's name)
    assert out.strip().startswith("input-1\t")
    assert out.strip().endswith("input-1.pdf\tto make")
    assert not (study / "out").exists()
    code, out, err = cli(capsys, "batch", str(spec), "--sequential", "--no-progress")
    assert code == 0, err
    pdf = study / "out" / "input-1.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    # an input without a chosen series is reported as a whole study, broken series included
    (study / "brief.yaml").write_text("base: brief\npresets: [bone]\ndpi: 36\n")
    spec.write_text(
        "output: out\ninput:\n  - path: in\nrender:\n  - kind: report\n"
        "    output: study.html\n    template: brief.yaml\n"
    )
    code, out, err = cli(capsys, "batch", str(spec), "--sequential", "--no-progress")
    assert code == 0, err
    html = (study / "out" / "study.html").read_text()
    assert html.count("<h2>Series ") == 3
    assert "Could not be loaded" in html
    assert "s1-broken" in html


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (SPEC.replace('view = "anterior"', 'view = "front"'), "spec.toml:10: render[0].view"),
        (SPEC.replace("workers = 2", "workers = two"), "spec.toml:2: Invalid value"),
        (SPEC.replace('path = "in/*"', 'path = "nothing/*"'), "spec.toml:5: input[0].path"),
    ],
)
def test_malformed_spec_names_line_and_problem(study, capsys, text, where):
    (study / "spec.toml").write_text(text)
    code, _out, err = cli(capsys, "batch", str(study / "spec.toml"))
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert where in lines[0]
    assert not (study / "out").exists()


def test_dask_local_cluster(study, capsys):
    import distributed  # a declared dependency: never skipped

    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # any free port: others may run a cluster too
        silence_logs=40,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        code, out, err = cli(
            capsys, "batch", str(study / "spec.toml"), "--scheduler", address, "--no-progress"
        )
    assert code == 1, err
    assert "3 done, 0 skipped, 1 failed" in out
    assert "dask" in out
    summary = json.loads((study / "out" / "batch-summary.json").read_text())
    assert summary["executor"] == "dask"
    assert summary["dask_workers"] == 1
    workers = {r["worker"] for r in summary["results"]}
    assert len(workers) == 1
    assert not workers.pop().endswith(f":{os.getpid()}")  # ran in the dask worker process


def test_unreachable_scheduler_is_one_line(study, capsys):
    code, _, err = cli(
        capsys,
        "batch",
        str(study / "spec.toml"),
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--scheduler-timeout",
        "1",
        "--no-progress",
    )
    assert code == 2
    assert "cannot reach the Dask scheduler" in err


def test_warnings_are_recorded_per_output(tmp_path, capsys):
    from volumeviz.io.synth import write_synthetic_series

    write_synthetic_series(phantom.asymmetric(16, modality="MR"), tmp_path / "mr", modality="MR")
    (tmp_path / "s.toml").write_text(
        'input = ["mr"]\n[[render]]\nkind = "screenshot"\npreset = "bone"\nsize = [32, 32]\n'
    )
    code, _, err = cli(capsys, "batch", str(tmp_path / "s.toml"), "--sequential", "--no-progress")
    assert code == 0, err
    (row,) = _rows(tmp_path / "batch-output" / "batch-summary.csv").values()
    assert row["status"] == "done"
    assert "meant for CT" in row["warnings"]
    assert "PresetWarning" not in err  # kept in the summary, not sprayed over the progress bar


@pytest.mark.shared_data
def test_dicomdir_input(shared_data, tmp_path, capsys):
    dicomdir = shared_data / "dicomdir" / "pydicom_dcmtk_3patients" / "DICOMDIR"
    (tmp_path / "s.toml").write_text(
        f'[[input]]\npath = "{dicomdir}"\n[[render]]\nkind = "screenshot"\nsize = [32, 32]\n'
    )
    code, _, err = cli(capsys, "batch", str(tmp_path / "s.toml"), "--sequential", "--no-progress")
    assert code == 0, err
    (row,) = _rows(tmp_path / "batch-output" / "batch-summary.csv").values()
    assert row["status"] == "done"
    # no preset in the spec: chosen by modality after loading, "auto" in the name
    assert Path(row["output"]).name == "pydicom_dcmtk_3patients-auto-anterior.png"


def test_mpr_slab_screenshot(tmp_path, capsys):
    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.render.screenshot import screenshot

    vol = phantom.asymmetric(24)
    write_synthetic_series(vol, tmp_path / "ct")
    (tmp_path / "s.yaml").write_text(
        "input: [ct]\nrender:\n  - kind: screenshot\n    mpr: coronal\n    slab_mm: 12\n"
        "    window: 400/40\n    size: [48, 48]\n    annotations: false\n"
    )
    code, _, err = cli(capsys, "batch", str(tmp_path / "s.yaml"), "--sequential", "--no-progress")
    assert code == 0, err
    img = np.asarray(Image.open(tmp_path / "batch-output" / "ct-coronal.png").convert("RGB"))
    expected = screenshot(
        vol, mpr="coronal", slab_mm=12, window="400/40", size=(48, 48), annotations=False
    )
    np.testing.assert_array_equal(img, expected)  # the same picture the renderer draws
