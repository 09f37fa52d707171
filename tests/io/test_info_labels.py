"""``--series`` accepts what ``info`` prints; ``info`` follows the terminal; -q/-v anywhere."""

from __future__ import annotations

import json
import logging
import re

import pytest

from tests.conftest import run_cli
from volumeviz.errors import NoSeriesError
from volumeviz.io.discover import scan
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_series, select_series
from volumeviz.model.series import series_labels


@pytest.fixture
def split_study(tmp_path, make_marker):
    """Series 7 in two matrix sizes (split into 7 [1], 7 [2]) and a series 9 of another size.

    (Two echoes on one grid are one series with an echo dimension, not two parts: a split needs
    something a volume cannot hold, such as another matrix size.)
    """
    uid = "1.2.826.0.1.3680043.8.498.71"
    study = "1.2.826.0.1.3680043.8.498.70"
    for size, prefix in (((12, 10, 5), "E1"), ((10, 8, 5), "E2")):
        src, _ = make_marker(size=size)
        write_synthetic_series(
            src, tmp_path, series_uid=uid, prefix=prefix, modality="MR", series_number=7,
            study_uid=study,
        )  # fmt: skip
    other, _ = make_marker(size=(8, 8, 3))
    write_synthetic_series(other, tmp_path, prefix="B", series_number=9, study_uid=study)
    return tmp_path


def _table_labels(out: str) -> list[str]:
    """The labels in the first column of every table row ``info`` printed."""
    found = []
    for line in out.splitlines():
        m = re.match(r"^ (\S+(?: \[\d+\])?)  ", line)
        if m and m.group(1) != "series":
            found.append(m.group(1))
    return found


def test_labels_printed_are_accepted(capsys, split_study, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    code, out, err = run_cli(capsys, "info", str(split_study))
    assert code == 0, err
    labels = _table_labels(out)
    assert labels == ["7 [1]", "7 [2]", "9"]
    result = scan(split_study)
    for label in labels:
        chosen = select_series(result, label)
        assert series_labels(result.series)[chosen.key] == label
        code, out, err = run_cli(capsys, "info", str(split_study), "--series", label, "--json")
        assert code == 0, err
        (rec,) = json.loads(out)
        assert rec["label"] == label
        assert rec["key"] == chosen.key
    # spacing inside the brackets does not matter; the part's key works too
    assert select_series(result, "7[2]").key == select_series(result, "7 [2]").key
    assert select_series(result, result.series[1].key).key == result.series[1].key


def test_ambiguous_number_names_the_cli_option_and_labels(capsys, split_study):
    code, _, err = run_cli(capsys, "info", str(split_study), "--series", "7")
    assert code == 1
    assert "pick one with --series: '7 [1]'" in err
    assert "'7 [2]'" in err
    assert "series=" not in err
    with pytest.raises(NoSeriesError, match=r"pick one with series=: '7 \[1\]'"):
        load_series(split_study, series=7)


def test_largest_series_warning_names_the_option_per_face(
    capsys, split_study, caplog, tmp_path_factory
):
    with caplog.at_level(logging.WARNING, logger="volumeviz.io"):
        load_series(split_study)
    assert "choose another with series=" in caplog.text
    assert "--series" not in caplog.text
    caplog.clear()
    code, _, err = run_cli(
        capsys, "screenshot", str(split_study), "--mpr", "axial", "--size", "64x64",
        "-o", str(tmp_path_factory.mktemp("out") / "a.png"),
    )  # fmt: skip
    assert code == 0, err
    assert "choose another with --series LABEL" in caplog.text
    assert "series=" not in caplog.text


def test_quiet_and_verbose_after_the_subcommand(capsys, split_study, caplog, tmp_path_factory):
    out_png = str(tmp_path_factory.mktemp("out") / "q.png")
    args = ("screenshot", str(split_study), "--mpr", "axial", "--size", "64x64", "-o", out_png)
    for quiet in ((*args, "-q"), ("-q", *args), (*args, "--quiet")):
        caplog.clear()
        code, _, err = run_cli(capsys, *quiet)
        assert code == 0, err
        assert "choose another" not in caplog.text, quiet
        # the level is put back for the next caller in this process
        assert logging.getLogger().level != logging.ERROR
    caplog.clear()
    code, _, err = run_cli(capsys, *args)
    assert "choose another" in caplog.text
    (split_study / "notes.txt").write_text("not an image")
    (split_study / "more.txt").write_text("not an image either")
    code, out, _ = run_cli(capsys, "info", str(split_study))
    assert "skipped 2 files that are not images" in out
    assert "-v lists them" in out
    code, out, _ = run_cli(capsys, "info", "-v", str(split_study))
    assert code == 0
    skipped = [ln for ln in out.splitlines() if ln.startswith("skipped:")]
    assert len(skipped) == 2
    code, out, _ = run_cli(capsys, "info", str(split_study), "--verbose")
    assert len([ln for ln in out.splitlines() if ln.startswith("skipped:")]) == 2


def test_verbose_sets_info_logging(capsys, split_study, caplog):
    (split_study / "notes.txt").write_text("not an image")  # skipping it is logged at DEBUG
    with caplog.at_level(logging.NOTSET):
        logging.getLogger().setLevel(logging.WARNING)
        run_cli(capsys, "info", str(split_study), "-vv")
    assert any(r.levelno == logging.DEBUG and "notes.txt" in r.message for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.NOTSET):
        logging.getLogger().setLevel(logging.WARNING)
        run_cli(capsys, "info", str(split_study))
    assert not any(r.levelno == logging.DEBUG for r in caplog.records)


@pytest.mark.parametrize("columns", [72, 100, 180])
def test_info_follows_the_terminal_width(capsys, monkeypatch, tmp_path, make_marker, columns):
    from volumeviz.model.phantom import rotation

    vol, _ = make_marker(size=(16, 12, 6))
    write_synthetic_series(vol, tmp_path, series_number=4, prefix="AX", description="axial")
    tilted, _ = make_marker(size=(8, 8, 4), direction=rotation("x", 20))
    write_synthetic_series(
        tilted, tmp_path, series_number=5, prefix="OB", description="tilted", tilt_deg=12
    )
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, err = run_cli(capsys, "info", str(tmp_path))
    assert code == 0, err
    widths = [len(line.rstrip()) for line in out.splitlines()]
    assert max(widths) <= columns
    if columns >= 100:  # a wide terminal gets one row per series, no folded cells
        assert len(_table_labels(out)) == 2
    # every issue once, as one entry (folded at the terminal's edge), never again as a note
    result = scan(tmp_path)
    flat = " ".join(out.split())
    issues = [i for s in result.series if s.plan for i in s.plan.issues]
    assert issues
    for issue in issues:
        text = " ".join(f"{issue.code}: {issue.message}".split())
        assert flat.count(text) == 1, text
    assert "note:" not in out


def test_split_reason_printed_once(capsys, split_study, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run_cli(capsys, "info", str(split_study))
    assert code == 0
    result = scan(split_study)
    for s in result.series:
        if s.split_reason:
            assert out.count(s.split_reason) == 1
    assert result.notes == []


@pytest.mark.slow
def test_every_info_label_in_the_shared_data_selects_its_series(capsys, shared_data):
    """Each label ``info --json`` lists, in every folder, selects exactly that series.

    The first label of each folder goes through ``info --series LABEL`` (the CLI); the others
    through :func:`select_series` on the same scan (what ``--series`` calls), which keeps the
    whole walk to one scan per folder.
    """
    root = shared_data
    checked, folders = 0, 0
    for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        code, out, _ = run_cli(capsys, "info", str(folder), "--json")
        if code != 0:  # nothing listed there (no images, or input refused as a whole)
            continue
        records = json.loads(out)
        if isinstance(records, dict) or not records:  # a DICOMDIR tree names series by UID
            continue
        folders += 1
        code, out, err = run_cli(
            capsys, "info", str(folder), "--series", records[0]["label"], "--json"
        )
        assert code == 0, f"{folder}: --series {records[0]['label']!r}: {err}"
        assert [r["key"] for r in json.loads(out)] == [records[0]["key"]]
        result = scan(folder)
        assert [r["label"] for r in records] == [result.labels()[s.key] for s in result.series]
        for rec in records:
            assert select_series(result, rec["label"]).key == rec["key"], (folder, rec["label"])
            checked += 1
    assert folders >= 30, folders
    assert checked >= 100, checked
