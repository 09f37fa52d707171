"""The README's "Scripted rendering" example runs as written (on the bundled sample)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.render

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).with_name("readme_example.py")


def readme_block(readme: Path) -> str | None:
    """The first ```python block under the heading 'Scripted rendering', or None."""
    text = readme.read_text(encoding="utf-8")
    m = re.search(r"^(#+)\s*Scripted rendering\b.*$", text, re.M | re.I)
    if m is None:
        return None
    level = len(m.group(1))
    rest = text[m.end() :]
    end = re.search(rf"^#{{1,{level}}}\s", rest, re.M)
    section = rest[: end.start()] if end else rest
    block = re.search(r"^```python\n(.*?)^```", section, re.M | re.S)
    return block.group(1) if block else None


def _run(code: str, where: Path, capsys) -> str:
    (where / "assets").symlink_to(ROOT / "assets", target_is_directory=True)
    old = Path.cwd()
    try:
        os.chdir(where)
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    finally:
        os.chdir(old)
    return capsys.readouterr().out


def _check_outputs(where: Path, printed: str) -> None:
    assert "(300, 400, 3) uint8" in printed
    fig = np.asarray(Image.open(where / "figure.png").convert("RGB"))
    assert fig.shape[1] == 640  # two 320 px columns
    assert fig.std() > 10
    assert (where / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_readme_scripted_rendering_block(tmp_path, capsys):
    readme = ROOT / "README.md"
    code = readme_block(readme)
    if code is None:
        pytest.fail(
            "README.md has no ```python block under a 'Scripted rendering' heading; "
            f"paste {EXAMPLE.relative_to(ROOT)} there"
        )
    _check_outputs(tmp_path, _run(code, tmp_path, capsys))


def test_proposed_example_file(tmp_path, capsys):
    code = EXAMPLE.read_text(encoding="utf-8")
    block = readme_block(ROOT / "README.md")
    if block is not None and block.strip() == code.strip():
        return  # the README test above runs exactly this code
    _check_outputs(tmp_path, _run(code, tmp_path, capsys))


def test_readme_block_extraction(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n## Scripted rendering\ntext\n```python\nprint(1)\n```\n## Next\n```python\nno\n```\n"
    )
    assert readme_block(readme) == "print(1)\n"
    readme.write_text("# x\n## Scripted rendering\nno code\n## Next\n```python\nno\n```\n")
    assert readme_block(readme) is None
