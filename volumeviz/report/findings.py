"""The loader's findings in plain words, for a report a clinician reads.

:class:`~volumeviz.model.volume.GeometryIssue` records say what the loader found and did in the
terms of DICOM (codes, elements, millimetres). A report states each one as a sentence a reader
who does not know the codes can act on: what was wrong with the acquisition or the files, what
volumeviz did about it, and what that means for the pictures and measurements. The technical
record stays available next to it (the code and the loader's own message).

Examples
--------
>>> from volumeviz.model.volume import GeometryIssue
>>> tilt = GeometryIssue("gantry-tilt", "gantry tilt 18.5°: ...", 18.5, "deg", "resampled")
>>> print(plain_finding(tilt))  # doctest: +NORMALIZE_WHITESPACE
The scanner gantry was tilted by 18.5°. The slices were moved onto a regular grid, so the
pictures show true anatomy and distances.
>>> plain_finding(GeometryIssue("made-up", "something odd", action="kept"))
'something odd (kept).'
"""

from __future__ import annotations

from volumeviz.model.volume import GeometryIssue

__all__ = ["plain_finding", "plain_summary"]

_REGRID = (
    "The slices were moved onto a regular grid, so the pictures show true anatomy and distances."
)


def _size(issue: GeometryIssue, digits: int = 3) -> str:
    if issue.size is None:
        return ""
    unit = {"deg": "°", "": ""}.get(issue.unit, f" {issue.unit}")
    return f"{issue.size:.{digits}g}{unit}"


def plain_finding(issue: GeometryIssue) -> str:
    """One or two sentences that say what ``issue`` means for the reader of the pictures."""
    code, size, action = issue.code, _size(issue), issue.action
    fixed = action in ("resampled",)
    if code == "gantry-tilt":
        text = f"The scanner gantry was tilted by {size}."
        return f"{text} {_REGRID}" if fixed else f"{text} The pictures are not corrected for it."
    if code == "uneven-spacing":
        text = f"The slices are not evenly spaced (the gaps differ by up to {size})."
        return f"{text} {_REGRID}" if fixed else text
    if code == "missing-slices":
        text = f"Slices are missing: the largest gap is {size}."
        if fixed:
            return (
                f"{text} The gap was filled by interpolating between its neighbours; "
                "do not read detail inside it."
            )
        return text
    if code == "non-parallel":
        text = f"The slices are not parallel (their angles differ by up to {size})."
        return f"{text} {_REGRID}" if fixed else text
    if code == "misaligned":
        text = f"The slices do not line up in a straight stack (off by up to {size})."
        return f"{text} {_REGRID}" if fixed else text
    if code == "duplicate-position":
        return (
            "Some slices were found twice at the same position with nothing telling them "
            "apart; the first of each was used and the others left out."
        )
    if code == "resampled":
        return (
            "Because of the findings above the volume was resampled (linear interpolation) onto "
            "a regular grid; fine detail may look slightly smoother than in the original slices."
        )
    if code == "no-geometry":
        return (
            "The files do not say where the images lie in the patient. They are shown stacked "
            "in file order on an assumed grid: left/right and distances cannot be trusted and "
            "measurements are given in voxels, not millimetres."
        )
    if code == "no-pixel-spacing":
        return (
            "The files give no pixel size; 1 mm was assumed. Distances and areas in millimetres "
            "are not reliable."
        )
    if code == "single-slice":
        return "The series has a single slice: no 3D view or other planes can be made from it."
    if code == "rejected-files":
        n = int(issue.size) if issue.size is not None else 0
        what = f"{n} file(s)" if n else "Some files"
        return f"{what} of this series could not be read and were left out: {issue.message}"
    if code == "colour-to-grey":
        return "The images were in colour and are shown in grey."
    return f"{issue.message} ({action})." if action else f"{issue.message}."


def plain_summary(issues: tuple[GeometryIssue, ...] | list[GeometryIssue]) -> str:
    """One sentence for a series with nothing to report, else ``""``.

    Examples
    --------
    >>> print(plain_summary([]))  # doctest: +NORMALIZE_WHITESPACE
    The slices are evenly spaced, parallel and complete: the pictures and measurements need no
    correction.
    """
    if issues:
        return ""
    return (
        "The slices are evenly spaced, parallel and complete: the pictures and measurements "
        "need no correction."
    )
