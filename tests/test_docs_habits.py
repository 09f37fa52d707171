"""Habits: shell completion lists the commands, every command gets a docs page, the example
batch spec in the repository runs."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from volumeviz.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[1]


def _complete(words: str, cword: int) -> list[str]:
    env = {
        **os.environ,
        "_VOLUMEVIZ_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    code = "from volumeviz.cli.main import main; main()"
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    return [line.split(",", 1)[1] for line in res.stdout.splitlines() if "," in line]


def test_shell_completion_lists_the_subcommands_and_options():
    assert _complete("volumeviz ", 1) == list(COMMANDS)
    assert "screenshot" in _complete("volumeviz scr", 1)
    options = _complete("volumeviz info --", 2)
    assert {"--series", "--json", "--verbose", "--quiet"} <= set(options)


def test_bash_completion_script_is_generated():
    env = {**os.environ, "_VOLUMEVIZ_COMPLETE": "bash_source"}
    code = "from volumeviz.cli.main import main; main()"
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0
    assert "_VOLUMEVIZ_COMPLETE=bash_complete" in res.stdout
    assert "complete " in res.stdout


def test_every_command_gets_a_generated_docs_page(tmp_path):
    spec = importlib.util.spec_from_file_location("clipages", ROOT / "docs/_ext/clipages.py")
    assert spec is not None
    assert spec.loader is not None
    clipages = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clipages)
    clipages.generate(SimpleNamespace(srcdir=str(tmp_path)))
    pages = sorted(p.stem for p in (tmp_path / "commands").glob("*.rst"))
    assert pages == sorted([*COMMANDS, "index"])
    module = sys.modules[clipages.MODULE]
    for name in COMMANDS:
        text = (tmp_path / "commands" / f"{name}.rst").read_text()
        assert f".. click:: {clipages.MODULE}:{name.replace('-', '_')}" in text
        cmd = getattr(module, name.replace("-", "_"))
        # the page documents what the CLI runs, -v/-q included
        assert {"--verbose", "--quiet"} <= {o for p in cmd.params for o in p.opts}
    index = (tmp_path / "commands" / "index.rst").read_text()
    assert all(f"   {name}\n" in index for name in COMMANDS)


@pytest.mark.slow
def test_the_example_batch_spec_runs(tmp_path):
    """examples/batch.toml, unchanged, next to a link to the bundled assets."""
    (tmp_path / "examples").mkdir()
    spec = tmp_path / "examples" / "batch.toml"
    spec.write_bytes((ROOT / "examples" / "batch.toml").read_bytes())
    (tmp_path / "assets").symlink_to(ROOT / "assets", target_is_directory=True)
    env = {**os.environ, "VTK_DEFAULT_OPENGL_WINDOW": "vtkEGLRenderWindow"}
    res = subprocess.run(
        [sys.executable, "-m", "volumeviz", "batch", str(spec), "--sequential", "--no-progress"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = tmp_path / "batch-output"
    made = sorted(p.name for p in out.iterdir())
    for name in ("ct-head-bone-anterior.png", "ct-head-bone-left.png",
                 "ct-head-coronal-mip.png", "ct-head.pdf"):  # fmt: skip
        assert name in made, made
        assert (out / name).stat().st_size > 1000
    with (out / "batch-summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows
    assert all(r.get("status") in ("ok", "done", "rendered") for r in rows), rows
