"""The series browser: lists what info shows (issues, rejected files) and opens the pick."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.gui


def _two_series(folder: Path) -> None:
    from volumeviz.io.synth import write_synthetic_series
    from volumeviz.model import phantom

    write_synthetic_series(phantom.asymmetric(12), folder, series_number=3, description="small")
    write_synthetic_series(
        phantom.asymmetric((20, 18, 16), spacing=(1.0, 1.0, 2.0)),
        folder,
        series_number=7,
        description="gappy",
        prefix="GAP",
        drop_slices=(5,),
    )
    (folder / "junk.dcm").write_bytes(b"\x00" * 200)


def test_browser_lists_series_with_issues_and_opens_the_choice(
    win: Any, qtbot: Any, tmp_path: Path
) -> None:
    _two_series(tmp_path)
    win.browse(tmp_path)
    dlg = win.browser
    qtbot.waitUntil(lambda: len(dlg.rows) == 2, timeout=30_000)
    by_number = {r["#"]: r for r in dlg.rows}
    assert by_number["3"]["Description"] == "small"
    assert by_number["3"]["Size"] == "12x12x12"
    assert by_number["3"]["Plane"] == "axial"
    gappy = by_number["7"]
    assert gappy["Description"] == "gappy"
    assert "1 slice(s) missing" in gappy["Issues"]
    assert "junk.dcm" in dlg.notes.toPlainText()
    assert "rejected" in dlg.status.text()
    row = [r["#"] for r in dlg.rows].index("7")
    dlg.table.selectRow(row)
    with qtbot.waitSignal(win.volume_loaded, timeout=30_000):
        dlg.open_button.click()
    assert win.vol.meta.series_number == 7
    assert win.vol.size[:2] == (20, 18)


def test_browser_on_a_missing_path_reports_and_closes(
    win: Any, qtbot: Any, tmp_path: Path
) -> None:
    win.show_error_dialogs = False
    with qtbot.waitSignal(win.load_failed, timeout=30_000) as blocker:
        win.browse(tmp_path / "nope")
    assert "nope" in blocker.args[0]
    assert not win.browser.isVisible()


def test_browser_reads_a_dicomdir(win: Any, qtbot: Any, shared_data: Path) -> None:
    from tests.conftest import shared_path

    dicomdir = shared_path(shared_data, "dicomdir/pydicom_dcmtk_3patients/DICOMDIR")
    win.browse(dicomdir)
    dlg = win.browser
    qtbot.waitUntil(lambda: bool(dlg.rows), timeout=60_000)
    modalities = {r["Modality"] for r in dlg.rows}
    assert {"CT", "MR"} <= modalities
    assert len(dlg.rows) >= 5
    assert str(len(dlg.rows)) in dlg.status.text()
    dlg.reject()
