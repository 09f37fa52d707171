"""What the loader did to the data, in a few words: stamped on pictures, printed under ``-v``.

A resampled or partly dropped series must not look like the acquisition: every picture of it
carries a short line (``"resampled: gantry tilt 18.5°, uneven spacing 1.08–7.00 mm"``) and
``volumeviz -v`` prints the same lines when the series is loaded. The full sentences stay in
:attr:`volumeviz.model.volume.Volume.issues` (``volumeviz info``, reports, PNG metadata).

Examples
--------
>>> from volumeviz.model.volume import GeometryIssue
>>> issues = (
...     GeometryIssue("gantry-tilt", "gantry tilt 18.5°: ...", 18.5, "deg", "resampled"),
...     GeometryIssue("uneven-spacing", "slice spacing varies 1.08–7.00 mm (median 4.00 mm)",
...                   5.9, "mm", "resampled"),
...     GeometryIssue("resampled", "resampled (...) to a regular grid", 4.0, "mm", "resampled"),
...     GeometryIssue("duplicate-position", "2 slice(s) repeat ...", 2.0, "", "dropped"),
... )
>>> loader_actions(issues)
['resampled: gantry tilt 18.5°, uneven spacing 1.08–7.00 mm', 'dropped: 2 duplicate slices']
>>> loader_actions(())
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from volumeviz.model.volume import GeometryIssue

#: actions that change what the picture shows compared with the files
STAMPED_ACTIONS = ("resampled", "dropped", "assumed", "converted", "ignored", "split")

_VARIES = re.compile(r"varies\s+([\d.]+\s*[–-]\s*[\d.]+\s*mm)")


def _cause(issue: GeometryIssue) -> str:
    """A few words for why a series was resampled (``"gantry tilt 18.5°"``)."""
    if issue.code == "gantry-tilt" and issue.size is not None:
        return f"gantry tilt {issue.size:.1f}°"
    if issue.code == "non-parallel" and issue.size is not None:
        return f"non-parallel slices {issue.size:.1f}°"
    if issue.code == "uneven-spacing":
        m = _VARIES.search(issue.message)
        return f"uneven spacing {m.group(1)}" if m else "uneven spacing"
    if issue.code == "missing-slices":
        return "missing slices"
    if issue.code == "misaligned" and issue.size is not None:
        return f"slices off-line {issue.size:.1f} mm"
    return issue.code.replace("-", " ")


def _count(issue: GeometryIssue) -> str:
    return f"{issue.size:g} " if issue.size is not None else ""


def loader_actions(issues: Iterable[GeometryIssue]) -> list[str]:
    """One short line per kind of thing the loader did (resampled, dropped, assumed ...).

    Parameters
    ----------
    issues
        :attr:`Volume.issues <volumeviz.model.volume.Volume.issues>`.

    Returns
    -------
    list of str
        ``"<action>: <what>"`` lines, resampling first; empty when the loader changed nothing.
    """
    items = list(issues)
    out: list[str] = []
    causes = [_cause(i) for i in items if i.action == "resampled" and i.code != "resampled"]
    if any(i.code == "resampled" for i in items) or causes:
        out.append("resampled: " + ", ".join(dict.fromkeys(causes)) if causes else "resampled")
    for i in items:
        if i.action in ("", "resampled") or i.action not in STAMPED_ACTIONS:
            continue
        if i.code == "duplicate-position":
            what = f"{_count(i)}duplicate slices"
        elif i.code == "no-pixel-spacing":
            what = "pixel spacing 1 mm"
        elif i.code == "no-geometry":
            what = "position and orientation"
        elif i.code == "colour-to-grey":
            what = "colour to grey"
        elif i.code == "rejected-files":
            what = f"{_count(i)}rejected files"
        else:
            what = i.code.replace("-", " ")
        line = f"{i.action}: {what}"
        if line not in out:
            out.append(line)
    return out
