"""Recently opened paths, kept in ``QSettings`` under volumeviz's own organisation/name.

Tests and scripts point the store at a private INI file with ``VOLUMEVIZ_SETTINGS=path.ini`` (or
pass ``settings_path``) so they never touch the user's list.
"""

from __future__ import annotations

import os
from pathlib import Path

from qtpy import QtCore

ORG = "volumeviz"
APP = "volumeviz-view"
KEY = "recent/paths"
MAX_RECENT = 10


def open_settings(settings_path: str | Path | None = None) -> QtCore.QSettings:
    """Open the app's settings: INI file given or ``$VOLUMEVIZ_SETTINGS``, else the user's."""
    path = settings_path or os.environ.get("VOLUMEVIZ_SETTINGS")
    if path:
        return QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings(ORG, APP)


class RecentFiles:
    """Most-recent-first list of opened paths (deduplicated, at most ``MAX_RECENT``).

    Parameters
    ----------
    settings
        Where the list lives.
    """

    def __init__(self, settings: QtCore.QSettings) -> None:
        self._settings = settings

    def paths(self) -> list[str]:
        """Return the stored paths, newest first."""
        value = self._settings.value(KEY, [])
        if value is None:
            return []
        if isinstance(value, str):  # QSettings returns a bare string for one-element lists
            return [value] if value else []
        return [str(v) for v in list(value)]  # type: ignore[call-overload]

    def add(self, path: str | Path) -> list[str]:
        """Put ``path`` (resolved) first and return the new list."""
        p = str(Path(path).expanduser().resolve())
        items = [p, *[x for x in self.paths() if x != p]][:MAX_RECENT]
        self._settings.setValue(KEY, items)
        self._settings.sync()
        return items

    def clear(self) -> None:
        """Forget every path."""
        self._settings.remove(KEY)
        self._settings.sync()
