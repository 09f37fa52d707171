"""Fixtures for the window tests: a real MainWindow under Xvfb with private settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from volumeviz.model import phantom
from volumeviz.model.volume import Volume


@pytest.fixture(scope="session")
def phantom64() -> Volume:
    """The asymmetric phantom (marker on the patient's left, anterior, superior), 64^3."""
    return phantom.asymmetric(64, spacing=(1.0, 1.0, 1.5))


@pytest.fixture
def settings_ini(tmp_path: Path) -> Path:
    return tmp_path / "volumeviz-test-settings.ini"


@pytest.fixture
def win(qtbot: Any, settings_ini: Path) -> Iterator[Any]:
    """A shown MainWindow (800x700) that never shows modal dialogs on its own."""
    from volumeviz.app.window import MainWindow

    w = MainWindow(settings_path=settings_ini)
    w.resize(800, 700)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
