#!/usr/bin/env python
"""Where are the voxels? volumeviz against dcm2niix, series by series, in world space.

    python scripts/conformance.py FOLDER... [--json] [--allow FILE] [--workdir DIR]

Every folder is walked; the files of each directory are scanned together (a directory is the
unit a user points volumeviz at; scanning a whole tree at once would merge copies of one series
that live in different folders, e.g. one scan stored as enhanced and as classic files). For every
*reconstructable* series (volumeviz places it in the patient's LPS frame; projection images and
images of unknown geometry have no frame to compare, derived objects are not images) the series
is

1. loaded with volumeviz (every volume of a series with extra dimensions: time, echo ...);
2. converted with dcm2niix (the series' files only, linked into a temporary folder;
   ``dcm2niix -b n -z n``) and read back with ``volumeviz.io.nifti`` (the one RAS->LPS place);
3. compared in world space (LPS mm):

   - **shape**: the 3D grid (voxels along i, j, k, any axis order) and the number of 3D volumes
     (extra dimensions included) must be equal;
   - **corners**: each of dcm2niix's 8 corner voxel centres must be one of ours, within
     ``--corner-tol`` mm (0.05);
   - **voxels**: dcm2niix's voxel centres (a seeded sample of up to ``--samples`` per volume) are
     located in our volume; where they fall on our voxel centres the values must be equal
     (``--equal-fraction``, 0.999 of them, within 1e-3 relative), and the correlation of the two
     is reported;
   - **order**: of a series with extra dimensions, dcm2niix's volume k of one 4D file must be
     our volume k (C order of the index); across several files (``_e1``, ``_ph`` ...) each of
     theirs is paired with the one of ours it agrees with best, one-to-one.

A table, then a summary line. ``--json`` prints one record per series instead. A disagreement is
forgiven only by the allow-list (``scripts/conformance_allow.toml``: the series, the check, the
reason and a citation, for cases where dcm2niix itself is wrong or does something else on
purpose). Exit status: 0 when every disagreement is allow-listed, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

CORNER_TOL_MM = 0.05
EQUAL_FRACTION = 0.999
SAMPLES = 20000
MIN_CORRELATION = 0.98
#: a sample point is "on" one of our voxel centres when within this fraction of a voxel
ON_CENTRE = 0.01


@dataclass
class Record:
    """One series' comparison."""

    folder: str
    series: str  # the info label
    uid: str
    modality: str
    description: str
    status: str = ""  # agree | disagree | allowed | skipped | error
    reason: str = ""
    ours_shape: list[int] = field(default_factory=list)  # ni, nj, nk, n_volumes
    d2n_shape: list[int] = field(default_factory=list)
    corner_mm: float | None = None
    equal_fraction: float | None = None
    correlation: float | None = None
    on_grid_fraction: float | None = None
    failed: list[str] = field(default_factory=list)  # the checks that disagree
    allowed: list[str] = field(default_factory=list)  # allow-list reasons that forgave them
    dcm2niix_files: list[str] = field(default_factory=list)
    seconds: float = 0.0


def find_dcm2niix() -> str:
    """The dcm2niix executable: beside this Python (the test extra installs it), else on PATH."""
    here = Path(sys.executable).parent / "dcm2niix"
    if here.is_file():
        return str(here)
    found = shutil.which("dcm2niix")
    if found is None:
        raise SystemExit("conformance: dcm2niix not found (pip install dcm2niix)")
    return found


def directories(roots: list[Path]) -> list[tuple[Path, list[Path]]]:
    """Every directory under ``roots`` that holds files, with its files (sorted)."""
    out = []
    for root in roots:
        if root.is_file():
            out.append((root.parent, [root]))
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            files = sorted(Path(dirpath) / f for f in filenames)
            if files:
                out.append((Path(dirpath), files))
    return out


def load_ours(info: Any, rejected: Any) -> list[Any]:
    """Every 3D volume volumeviz makes of the series (C order of its extra dimensions)."""
    from volumeviz.io.volume import load_scanned, open_scanned

    if info.dims is not None and info.dims.dims:
        mv = open_scanned(info, rejected=rejected, cache=0)
        return [vol for _, vol in mv]
    return [load_scanned(info, rejected=rejected)]


class NiftiGrid:
    """One 3D volume of a dcm2niix NIfTI: voxels ``(k, j, i)`` and the 4x4 voxel -> LPS affine.

    Not a :class:`~volumeviz.model.volume.Volume`: dcm2niix writes sheared affines for stacks it
    has not corrected (gantry tilt, a single tilted slice), which a Volume refuses; the voxel
    centres are still exactly where its affine puts them.
    """

    def __init__(self, array: np.ndarray, affine_lps: np.ndarray) -> None:
        self.array = array
        self.affine = affine_lps

    @property
    def size(self) -> tuple[int, int, int]:
        nk, nj, ni = self.array.shape
        return (int(ni), int(nj), int(nk))

    def index_to_lps(self, ijk: np.ndarray) -> np.ndarray:
        p = np.asarray(ijk, float)
        return np.asarray(p @ self.affine[:3, :3].T + self.affine[:3, 3], float)

    def corners_lps(self) -> np.ndarray:
        ni, nj, nk = self.size
        idx = [[i, j, k] for k in (0, nk - 1) for j in (0, nj - 1) for i in (0, ni - 1)]
        return self.index_to_lps(np.array(idx, float))


def read_nifti(path: Path) -> list[NiftiGrid]:
    """Every 3D volume of a NIfTI file (``scl_slope``/``scl_inter`` applied)."""
    import nibabel as nib

    from volumeviz.io.nifti import affine_ras_to_lps  # the one place RAS -> LPS is written

    img = nib.load(str(path))
    affine = affine_ras_to_lps(img.affine)
    data = np.asarray(img.dataobj, dtype=np.float32)
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim == 3:
        data = data[..., None]
    data = data.reshape(*data.shape[:3], -1)
    # nibabel: (i, j, k, t); a volume here: (k, j, i)
    return [NiftiGrid(np.ascontiguousarray(data[..., t].transpose(2, 1, 0)), affine)
            for t in range(data.shape[3])]  # fmt: skip


def corrected_outputs(names: list[str]) -> list[str]:
    """dcm2niix's outputs to compare: a stack it also wrote corrected is compared corrected.

    For a gantry tilt or uneven slices dcm2niix writes the stack as found (a sheared or
    wrongly spaced affine: 'incompatible with NIfTI format', its own warning) and a corrected
    copy, ``<name>_Tilt...`` / ``<name>_Eq...`` (nii_dicom.cpp ``nii_saveNII3Dtilt``,
    ``nii_saveNII3Deq``); only the corrected one places the voxels.
    """
    stems = [n[: -len(".nii")] for n in names]
    raw = {s for s in stems for t in stems if t != s and (t.startswith(s + "_Eq") or
           t.startswith(s + "_Tilt"))}  # fmt: skip
    return [n for n, s in zip(names, stems, strict=True) if s not in raw]


def run_dcm2niix(exe: str, files: list[str], work: Path) -> tuple[list[Any], list[str], str]:
    """Convert ``files`` with dcm2niix; return its volumes (LPS), file names and its log."""
    src, out = work / "in", work / "out"
    src.mkdir()
    out.mkdir()
    for n, f in enumerate(files):
        os.symlink(os.path.abspath(f), src / f"{n:05d}.dcm")
    proc = subprocess.run(
        [exe, "-b", "n", "-z", "n", "-p", "n", "-f", "%s_%p", "-o", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    names = corrected_outputs(sorted(p.name for p in out.glob("*.nii")))
    vols: list[Any] = []
    for name in names:
        vols.extend(read_nifti(out / name))
    return vols, names, proc.stdout + proc.stderr


def _key(r: tuple[float, float, float]) -> tuple[float, float]:
    """How well a pairing agrees: equal fraction first, then correlation (NaN worst)."""
    return (r[0], -1.0 if np.isnan(r[1]) else r[1])


def _one_to_one(best: list[set[int]]) -> bool:
    """Whether each of dcm2niix's volumes can be paired with a distinct one of ours among those
    it agrees with best (a bipartite matching, Kuhn's augmenting paths)."""
    owner: dict[int, int] = {}

    def place(t: int, seen: set[int]) -> bool:
        for o in best[t]:
            if o in seen:
                continue
            seen.add(o)
            if o not in owner or place(owner[o], seen):
                owner[o] = t
                return True
        return False

    return all(place(t, set()) for t in range(len(best)))


def pair_volumes(
    ours: list[Any], theirs: list[Any], one_file: bool, per_volume: int, rng: np.random.Generator
) -> tuple[list[tuple[float, float, float]], str]:
    """Compare each of dcm2niix's volumes with the one of ours it must be; say if the order is off.

    One 4D file: dcm2niix's volume k must be our volume k (C order of our extra dimensions is
    the order dcm2niix writes). Several files (``_e1``, ``_e2``, ``_ph`` ...): each of theirs is
    paired with the one of ours it agrees with best, and the pairs must be one-to-one. Returns
    one (equal, correlation, on-grid) per volume of theirs and an order complaint ("" when none).
    """
    results: list[tuple[float, float, float]] = []
    if one_file and len(ours) == len(theirs):
        wrong = []
        for k, t in enumerate(theirs):
            r = compare_voxels(ours[k], t, per_volume, rng)
            if len(ours) > 1 and _key(r) < (1.0, 0.9999):
                best_k, best = max(
                    ((j, compare_voxels(o, t, per_volume, rng)) for j, o in enumerate(ours)),
                    key=lambda jr: _key(jr[1]),
                )
                if _key(best) > _key(r):
                    # the values are judged on the best pairing; the order is its own check
                    wrong.append(f"dcm2niix volume {k} is our volume {best_k}")
                    r = best
            results.append(r)
        return results, "; ".join(wrong[:3])
    best_sets: list[set[int]] = []
    for t in theirs:
        scores = [compare_voxels(o, t, per_volume, rng) for o in ours]
        top = max(_key(r) for r in scores)
        best_sets.append({j for j, r in enumerate(scores) if _key(r) == top})
        results.append(max(scores, key=_key))
    if len(ours) == len(theirs) > 1 and not _one_to_one(best_sets):
        return results, "dcm2niix's volumes do not pair one-to-one with ours"
    return results, ""


def _grid_key(vol: Any) -> list[int]:
    return sorted(int(v) for v in vol.size)


def compare_corners(ours: Any, theirs: Any) -> float:
    """Largest distance (mm) from one of dcm2niix's corner voxel centres to the nearest of ours."""
    a, b = theirs.corners_lps(), ours.corners_lps()
    dist = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return float(dist.min(axis=1).max())


def compare_voxels(
    ours: Any, theirs: Any, samples: int, rng: np.random.Generator
) -> tuple[float, float, float]:
    """(equal fraction, correlation, on-grid fraction) at dcm2niix's voxel centres.

    Points that fall on our voxel centres compare exactly (nearest voxel); the correlation is
    taken over every sampled point inside our volume (trilinear elsewhere).
    """
    from volumeviz.ops.mpr import _trilinear

    ni, nj, nk = theirs.size
    total = ni * nj * nk
    # every voxel when few, else a seeded sample (drawn with replacement: no permutation of a
    # whole volume's indices is ever made)
    flat = np.arange(total) if total <= samples else rng.integers(0, total, size=samples)
    k, rem = np.divmod(flat, ni * nj)
    j, i = np.divmod(rem, ni)
    ijk = np.stack([i, j, k], axis=1).astype(float)
    lps = theirs.index_to_lps(ijk)
    theirs_v = theirs.array[k, j, i].astype(np.float64)
    idx = ours.lps_to_index(lps)
    size = np.asarray(ours.size, float)
    inside = np.all((idx >= -0.5) & (idx <= size - 0.5), axis=1)
    near = np.rint(idx).astype(int)
    on = inside & np.all(np.abs(idx - near) < ON_CENTRE, axis=1)
    on_fraction = float(on.mean()) if len(on) else 0.0
    equal = 0.0
    if on.any():
        n = near[on]
        mine = ours.array[n[:, 2], n[:, 1], n[:, 0]].astype(np.float64)
        tv = theirs_v[on]
        equal = float(np.mean(np.isclose(mine, tv, rtol=1e-3, atol=1e-3)))
    corr = float("nan")
    if inside.sum() > 2:
        vals, _ = _trilinear(ours, lps[inside], 0.0)
        a, b = vals.astype(np.float64), theirs_v[inside]
        if a.std() > 0 and b.std() > 0:
            corr = float(np.corrcoef(a, b)[0, 1])
        elif np.allclose(a, b):
            corr = 1.0
    return equal, corr, on_fraction


def compare(rec: Record, ours: list[Any], theirs: list[Any], args: argparse.Namespace) -> None:
    """Fill ``rec`` with the comparison of our volumes with dcm2niix's."""
    rng = np.random.default_rng(0)
    rec.ours_shape = [*ours[0].size, len(ours)]
    rec.d2n_shape = [*theirs[0].size, len(theirs)] if theirs else []
    if not theirs:
        rec.failed.append("dcm2niix-output")
        return
    if _grid_key(ours[0]) != _grid_key(theirs[0]) or len(ours) != len(theirs):
        rec.failed.append("shape")
    rec.corner_mm = max(compare_corners(ours[0], t) for t in theirs)
    if rec.corner_mm > args.corner_tol:
        rec.failed.append("corners")
    per_volume = max(1000, args.samples // max(1, len(theirs)))
    one_file = len(rec.dcm2niix_files) == 1
    pairs, order = pair_volumes(ours, theirs, one_file, per_volume, rng)
    if order:
        rec.failed.append("order")
        rec.reason = (rec.reason + "; " if rec.reason else "") + order
    equal = [p[0] for p in pairs]
    corr = [p[1] for p in pairs]
    on = [p[2] for p in pairs]
    rec.equal_fraction = float(min(equal))
    finite = [c for c in corr if not np.isnan(c)]
    rec.correlation = float(min(finite)) if finite else None
    rec.on_grid_fraction = float(min(on))
    # resampled by either tool (volumeviz: gantry tilt, uneven or missing slices; dcm2niix: its
    # _Tilt / _Eq copies): both interpolate, so values match only as a whole (correlation)
    interpolated = any(i.code == "resampled" for i in ours[0].issues) or any(
        "_Eq" in n or "_Tilt" in n for n in rec.dcm2niix_files
    )
    if interpolated and rec.on_grid_fraction >= 0.5:
        if rec.correlation is None or rec.correlation < args.min_correlation:
            rec.failed.append("correlation")
    elif rec.on_grid_fraction < 0.5:
        # the two grids do not share voxel centres (both resampled, onto different grids): the
        # values can only be compared interpolated
        rec.failed.append("grid")
        if rec.correlation is None or rec.correlation < args.min_correlation:
            rec.failed.append("correlation")
    elif rec.equal_fraction < args.equal_fraction:
        rec.failed.append("voxels")


def load_allow(path: Path | None) -> list[dict[str, Any]]:
    """The allow-list entries: ``[[allow]]`` tables with series, checks, reason, cite."""
    if path is None or not path.is_file():
        return []
    data = tomllib.loads(path.read_text())
    entries = data.get("allow", [])
    for e in entries:
        missing = [k for k in ("series", "checks", "reason", "cite") if not e.get(k)]
        if missing:
            raise SystemExit(f"{path}: allow entry {e.get('series', '?')!r} lacks {missing}")
    return list(entries)


def apply_allow(rec: Record, entries: list[dict[str, Any]], root: Path | None) -> None:
    """Forgive the failed checks an allow-list entry names for this series."""
    where = rec.folder
    if root is not None:
        try:
            where = str(Path(rec.folder).resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    for e in entries:
        if e["series"] not in (where, f"{where}#{rec.uid}", rec.uid):
            continue
        forgiven = [c for c in rec.failed if c in e["checks"]]
        if forgiven:
            rec.allowed.append(f"{', '.join(forgiven)}: {e['reason']} [{e['cite']}]")
            rec.failed = [c for c in rec.failed if c not in forgiven]
            rec.status = "allowed"


def examine(folder: Path, files: list[Path], exe: str, args: argparse.Namespace) -> list[Record]:
    """Compare every reconstructable series of one directory."""
    from volumeviz.io.discover import scan
    from volumeviz.io.volume import _is_localizer

    result = scan(files)
    labels = result.labels()
    out = []
    for info in result.series:
        rec = Record(str(folder), labels[info.key], info.uid, info.modality, info.description)
        t0 = time.perf_counter()
        if info.derived:
            rec.status, rec.reason = "skipped", f"derived object ({info.derived})"
        elif not info.reconstructable:
            kind = info.plan.geometry.kind.value if info.plan is not None else "refused"
            why = info.refusal if info.plan is None else f"geometry {kind}: no patient frame"
            rec.status, rec.reason = "skipped", f"not reconstructable: {why}"
        elif _is_localizer(info):
            rec.status, rec.reason = "skipped", "localizer"
        else:
            try:
                ours = load_ours(info, result.rejected)
                with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
                    files_of = sorted({s.path for s in info.slices})
                    theirs, names, log = run_dcm2niix(exe, files_of, Path(tmp))
                rec.dcm2niix_files = names
                if not theirs:
                    last = [ln for ln in log.splitlines() if ln.strip()][-1:] or ["no output"]
                    rec.reason = f"dcm2niix made no volume: {last[0]}"
                compare(rec, ours, theirs, args)
            except Exception as exc:  # one series failing never stops the others
                rec.failed.append("error")
                rec.reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            rec.status = "disagree" if rec.failed else "agree"
        rec.seconds = round(time.perf_counter() - t0, 2)
        out.append(rec)
    return out


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, spec)


def print_table(records: list[Record], root: Path | None) -> None:
    """One line per series, then the allow-listed and failed details."""
    header = ("status", "series", "modality", "ours", "dcm2niix", "corner mm", "equal", "corr")
    rows = []
    for r in records:
        where = r.folder
        if root is not None:
            try:
                where = str(Path(r.folder).resolve().relative_to(root.resolve()))
            except ValueError:
                pass
        rows.append(
            (
                r.status + ("" if not r.failed else f" ({','.join(r.failed)})"),
                f"{where} {r.series}",
                r.modality,
                "x".join(map(str, r.ours_shape)) or "-",
                "x".join(map(str, r.d2n_shape)) or "-",
                _fmt(r.corner_mm, ".3f"),
                _fmt(r.equal_fraction, ".4f"),
                _fmt(r.correlation, ".5f"),
            )
        )
    widths = [max([len(h), *(len(row[n]) for row in rows)]) for n, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    for r in records:
        for a in r.allowed:
            print(f"allowed: {r.folder} {r.series}: {a}")
        if r.status in ("disagree", "skipped") and r.reason:
            print(f"{r.status}: {r.folder} {r.series}: {r.reason}")


def summary(records: list[Record]) -> str:
    """``N series: A agree, L allow-listed, D disagree, S skipped``."""
    count = {s: sum(r.status == s for r in records) for s in ("agree", "allowed", "disagree")}
    skipped = sum(r.status == "skipped" for r in records)
    compared = count["agree"] + count["allowed"] + count["disagree"]
    pct = 100.0 * (count["agree"] + count["allowed"]) / compared if compared else 100.0
    return (
        f"{len(records)} series: {compared} compared with dcm2niix, {count['agree']} agree, "
        f"{count['allowed']} allow-listed, {count['disagree']} disagree "
        f"({pct:.1f}% agreement or allow-listed); {skipped} not reconstructable or not images"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--json", action="store_true", help="One JSON record per series.")
    ap.add_argument(
        "--allow",
        type=Path,
        default=Path(__file__).with_name("conformance_allow.toml"),
        help="Allow-list file (default: scripts/conformance_allow.toml).",
    )
    ap.add_argument(
        "--root", type=Path, default=None, help="Name folders relative to this (allow-list)."
    )
    ap.add_argument("--corner-tol", type=float, default=CORNER_TOL_MM)
    ap.add_argument("--equal-fraction", type=float, default=EQUAL_FRACTION)
    ap.add_argument("--samples", type=int, default=SAMPLES)
    ap.add_argument(
        "--min-correlation",
        type=float,
        default=MIN_CORRELATION,
        help="Where the grids differ, the values interpolated at dcm2niix's voxels must "
        f"correlate at least this much (default {MIN_CORRELATION}).",
    )
    args = ap.parse_args(argv)
    for f in args.folders:
        if not f.exists():
            print(f"conformance: {f}: no such file or folder", file=sys.stderr)
            return 2
    root = args.root or (args.folders[0] if len(args.folders) == 1 else None)
    entries = load_allow(args.allow)
    exe = find_dcm2niix()
    records: list[Record] = []
    import logging
    import warnings

    logging.disable(logging.WARNING)  # the loader's choices are not this report's business
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for folder, files in directories(args.folders):
            records.extend(examine(folder, files, exe, args))
    for rec in records:
        if rec.failed:
            apply_allow(rec, entries, root)
            if rec.failed:
                rec.status = "disagree"
    if args.json:
        print(json.dumps({"summary": summary(records), "series": [asdict(r) for r in records]},
                         indent=1))  # fmt: skip
    else:
        print_table(records, root)
        print(summary(records))
    return 1 if any(r.status == "disagree" for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
