"""The series browser: what ``volumeviz info`` shows about a folder or DICOMDIR, to pick from.

The scan (headers only, :func:`volumeviz.io.discover.scan`) runs in a background thread. Every
series is listed with its number, modality, description, files, size, spacing, orientation and
issues; series that cannot be reconstructed are listed too, greyed, with the reason; rejected
files and notes follow below.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from qtpy import QtCore, QtWidgets

from volumeviz.app.loader import LoadJob
from volumeviz.model.orientation import plane_name

COLUMNS = ("#", "Modality", "Description", "Files", "Size", "Spacing (mm)", "Plane", "Issues")


def scan_path(path: Path, _series: str | None, report: Callable[[int, str], None]) -> Any:
    """Scan ``path`` (headers only) reporting progress; runs in the loading thread."""
    from volumeviz.io.discover import scan

    def headers(done: int, total: int) -> None:
        report(int(100 * done / max(total, 1)), f"headers {done}/{total}")

    return scan(path, progress=headers)


def series_rows(result: Any) -> list[dict[str, Any]]:
    """One display row per series of a :class:`~volumeviz.model.series.ScanResult`."""
    rows = []
    for info in result.series:
        d = info.to_dict()
        plane = ""
        if d["direction"]:
            direction = np.asarray(d["direction"], float).reshape(3, 3)
            plane = plane_name(direction[:, 2])
        issues = [i["message"] for i in d["issues"]]
        if d["refusal"]:
            issues.insert(0, f"cannot load: {d['refusal']}")
        if d["split_reason"]:
            issues.append(f"split: {d['split_reason']}")
        size = "x".join(str(v) for v in d["size"]) if d["size"] else ""
        if info.dims is not None and info.dims.dims:  # extra dimensions: "64x64x10 × 5 time"
            size = " × ".join([size, *(dim.short() for dim in info.dims.dims)])
        rows.append(
            {
                "key": d["key"],
                "#": "" if d["series_number"] is None else str(d["series_number"]),
                "Modality": d["modality"],
                "Description": d["description"],
                "Files": str(d["n_files"]),
                "Size": size,
                "Spacing (mm)": (
                    " x ".join(f"{v:.3g}" for v in d["spacing"]) if d["spacing"] else ""
                ),
                "Plane": plane,
                "Issues": "; ".join(issues),
                "loadable": bool(d["reconstructable"]),
            }
        )
    return rows


class SeriesBrowser(QtWidgets.QDialog):
    """A dialog listing the series under a folder or DICOMDIR; emits the chosen series' key."""

    series_chosen = QtCore.Signal(str)
    failed = QtCore.Signal(str)
    scanned = QtCore.Signal(object)

    def __init__(self, path: Path, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.setWindowTitle(f"Series in {self.path}")
        self.resize(900, 420)
        self.rows: list[dict[str, Any]] = []
        layout = QtWidgets.QVBoxLayout(self)
        self.status = QtWidgets.QLabel(f"scanning {self.path} …")
        layout.addWidget(self.status)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(lambda *_: self.accept())
        layout.addWidget(self.table, 1)
        self.notes = QtWidgets.QPlainTextEdit()
        self.notes.setReadOnly(True)
        self.notes.setMaximumHeight(110)
        layout.addWidget(self.notes)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Open
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.open_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Open)
        self.open_button.setEnabled(False)
        layout.addWidget(buttons)
        self.progress = QtWidgets.QProgressBar()
        layout.addWidget(self.progress)
        self._job: LoadJob | None = None

    def start_scan(self) -> LoadJob:
        """Scan in the background; the table fills when it is done."""
        job = LoadJob(self.path, loader=scan_path, parent=self)
        job.progress.connect(lambda pct, _text: self.progress.setValue(int(pct)))
        job.loaded.connect(self.set_result)
        job.failed.connect(self._on_failed)
        job.done.connect(lambda: self.progress.setVisible(False))
        self._job = job
        job.start()
        return job

    def _on_failed(self, message: str, kind: str) -> None:
        self.status.setText(f"cannot scan {self.path}: {message}")
        self.failed.emit(message)
        self.reject()

    def set_result(self, result: Any) -> None:
        """Fill the table from a scan result."""
        self.rows = series_rows(result)
        self.table.setRowCount(len(self.rows))
        first_loadable = None
        for r, row in enumerate(self.rows):
            for c, name in enumerate(COLUMNS):
                item = QtWidgets.QTableWidgetItem(row[name])
                item.setToolTip(row[name])
                if not row["loadable"]:
                    item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(r, c, item)
            if row["loadable"] and first_loadable is None:
                first_loadable = r
        self.table.resizeColumnsToContents()
        notes = [f"rejected {x.path}: {x.reason}" for x in result.rejected] + list(result.notes)
        self.notes.setPlainText("\n".join(notes))
        n_ok = sum(r["loadable"] for r in self.rows)
        self.status.setText(
            f"{len(self.rows)} series ({n_ok} loadable), {len(result.rejected)} rejected file(s) "
            f"in {self.path}"
        )
        if first_loadable is not None:
            self.table.selectRow(first_loadable)
            self.open_button.setEnabled(True)
        self.scanned.emit(result)

    def selected_key(self) -> str | None:
        """Return the key of the selected loadable series (None if none)."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = self.rows[rows[0].row()]
        return str(row["key"]) if row["loadable"] else None

    def accept(self) -> None:
        """Open the selected series."""
        key = self.selected_key()
        if key is None:
            return
        super().accept()
        self.series_chosen.emit(key)
