"""Seeded mutation fuzzing of volumeviz's readers: load_series, info, us info, export.

Each case takes a real file, series or DICOMDIR file-set from ../shared/data, copies it to a
temporary folder, mutates it (a header element given a hostile value or a wrong VR or length,
bytes flipped in the header, the file cut short, a slice moved), then runs one command on it
in a worker process limited to 2 GiB of address space, with a time limit per case. A case
passes when the command succeeds or fails with a VolumeVizError (the CLI: exit 0/1/2 and no
'internal error'), within the limits, and the input files are unchanged (hashed before and
after).

Usage::

    .venv/bin/python scripts/fuzz.py --cases 10000 --seed 1 [--workers 2] [--timeout 60]

prints the counts (internal errors / hangs / runs over the memory limit / inputs modified, all
of which must be 0) and, for each failure, how to replay it (``--replay N``). Exit 1 if any.
The CI runs a few hundred cases of the same generator (tests/io/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import random
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

#: the real inputs a case starts from: (kind, path under shared data, commands that apply)
SEEDS: list[tuple[str, str, tuple[str, ...]]] = [
    ("file", "syntax/emri_10f_rle.dcm", ("load", "info", "export")),
    ("file", "syntax/emri_10f_explicit_le.dcm", ("load", "info", "export")),
    ("file", "syntax/emri_10f_big_endian.dcm", ("load", "info", "export")),
    ("file", "syntax/emri_10f_j2k_lossless.dcm", ("load", "info", "export")),
    ("file", "syntax/ct_jpeg_lossless_nema.dcm", ("load", "info", "export")),
    ("file", "syntax/palette8_face_ot.dcm", ("load", "info", "export")),
    ("file", "syntax/siemens_mr_2_implicit_le.dcm", ("load", "info", "export")),
    ("file", "syntax/siemens_mr_7_jpegls_lossless.dcm", ("load", "info", "export")),
    ("file", "syntax/deflated_explicit_le.dcm", ("load", "info", "export")),
    ("file", "mr/philips_enhanced_b0map/IM_0027_fMAP.dcm", ("load", "info")),
    ("file", "us/philips_cx50_palette_2f_ecg.dcm", ("us", "load", "export")),
    ("file", "us/philips_cx50_palette_2f_ecg_rle.dcm", ("us", "export")),
    ("file", "us/noreg_ge_rgb_small.dcm", ("us", "load", "export")),
    ("file", "us/noreg_ge_us1_j2kr_rgb.dcm", ("us", "export")),
    ("file", "us/aloka_ssd4000_palette16_dual2d.dcm", ("us", "export")),
    ("series", "mr/toshiba_galan_oblique20_b0", ("load", "info", "export")),
    ("series", "ct/ge_hispeed_tilt_varspacing", ("load", "info")),
    ("series", "mr/siemens_t1_sag_hfs", ("load", "info")),
    ("dicomdir", "dicomdir/pydicom_dcmtk_3patients", ("load", "info", "export")),
    # extra dimensions (echo x magnitude/phase, time), enhanced 4D, other modalities
    ("series", "realworld/philips_dual_echo_mag_phase/series", ("load", "info")),
    ("series", "realworld/ge_fmri_temporal_positions/series", ("load", "info")),
    ("file", "timeseries/dicom2nifti_philips_enhanced_fmri_tiny/series/IM-0001-9600-0001.dcm",
     ("load", "info")),
    ("file", "pet/fodicom_ge_discovery_pt/GH184_ge_discovery_st_bqml.dcm", ("load", "info")),
    ("file", "realworld/mg_mlo_imager_spacing/mg_rmlo_downsampled8.dcm", ("load", "export")),
    ("file", "realworld/sc_rgb_32bit/SC_rgb_32bit.dcm", ("load", "export")),
    ("file", "realworld/siemens_mosaic_dwi_b0/mosaic_b0.dcm", ("load", "info")),
    # segmentations: the SEG / RTSTRUCT is mutated, its image series (SEGMENTED) is not
    ("seg", "seg/highdicom_ct2_seg_set/seg/seg_image_ct_binary.dcm", ("stats",)),
    ("seg", "seg/highdicom_ct2_seg_set/seg/seg_image_ct_true_fractional.dcm", ("stats",)),
    ("seg", "seg/ct3slice_liver_seg_dcmqi/seg/liver.dcm", ("stats",)),
    ("seg", "seg/rtutils_ge_discoverymi_phantom_rtstruct/rtstruct/rt.dcm", ("stats",)),
]  # fmt: skip
SERIES_FILES = 6
#: the image series a "seg" seed segments (copied unmutated next to it as ``ref/``)
SEGMENTED = {
    "seg/highdicom_ct2_seg_set/seg/seg_image_ct_binary.dcm": "seg/highdicom_ct2_seg_set/ct2",
    "seg/highdicom_ct2_seg_set/seg/seg_image_ct_true_fractional.dcm":
        "seg/highdicom_ct2_seg_set/ct2",
    "seg/ct3slice_liver_seg_dcmqi/seg/liver.dcm": "seg/ct3slice_liver_seg_dcmqi/ct",
    "seg/rtutils_ge_discoverymi_phantom_rtstruct/rtstruct/rt.dcm":
        "seg/rtutils_ge_discoverymi_phantom_rtstruct/ct",
}  # fmt: skip

#: elements whose values the readers use (tried more often than a random element)
INTERESTING = [
    "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "BitsAllocated", "BitsStored",
    "HighBit", "PixelRepresentation", "PhotometricInterpretation", "PlanarConfiguration",
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
    "SpacingBetweenSlices", "RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth",
    "VOILUTFunction", "SOPClassUID", "SeriesInstanceUID", "StudyInstanceUID", "Modality",
    "InstanceNumber", "SeriesNumber", "ImageType", "EchoNumbers", "FrameIncrementPointer",
    "GridFrameOffsetVector", "RedPaletteColorLookupTableDescriptor",
    "RedPaletteColorLookupTableData", "GreenPaletteColorLookupTableDescriptor",
    "RegionSpatialFormat", "RegionDataType", "RegionLocationMinX0", "RegionLocationMaxX1",
    "RegionLocationMaxY1", "PhysicalUnitsXDirection", "PhysicalDeltaX", "PhysicalDeltaY",
    "ReferencePixelX0", "FrameTime", "FrameTimeVector", "CineRate", "DimensionIndexPointer",
    "DimensionIndexValues", "OffsetOfTheNextDirectoryRecord",
    "OffsetOfReferencedLowerLevelDirectoryEntity", "ReferencedFileID",
    "OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity", "DirectoryRecordType",
    "RecordInUseFlag", "BurnedInAnnotation", "PatientName", "StudyDate",
]  # fmt: skip

TEXT_VALUES = [
    "inf", "-inf", "nan", "NaN", "1e308", "-1e308", "1e-300", "0", "-1", "-0", "2147483648",
    "4294967296", "99999999999999999999", "1e3", "abc", "!", " ", "1\\2", "1\\2\\3\\4\\5\\6\\7",
    "0\\0\\0\\0\\0\\0", "1e-300\\0\\0\\0\\1e-300\\0", "-100000\\0\\0", "0\\0\\5000",
    "1.2.840.10008.1.3.10", "x" * 300, "1A", "\\\\", "-2147483649", "65536", "0.5",
]  # fmt: skip
INT_VALUES = [0, 1, 2, 3, 4, 8, 16, 32, 64, 255, 256, 32767, 32768, 65535, 2**31 - 1, 2**31,
              2**32 - 1]  # fmt: skip
FLOAT_VALUES = [math.inf, -math.inf, math.nan, 1e308, -1e308, 1e-300, 0.0, -1.0, 1e6, 5000.0]
VRS = ["DS", "IS", "LO", "CS", "UI", "FL", "FD", "US", "UL", "SS", "SL", "UN", "OB", "AT", "SQ"]


# -- mutations ------------------------------------------------------------------------------------
def _raw_value(rng: random.Random, vr: str, little: bool) -> bytes:
    """Bytes of a hostile value for ``vr`` (sometimes of a wrong length for it)."""
    end = "<" if little else ">"
    if vr in ("FL", "FD"):
        fmt = "f" if vr == "FL" else "d"
        values = [rng.choice(FLOAT_VALUES) for _ in range(rng.choice((1, 1, 2, 3, 6)))]
        data = b"".join(struct.pack(end + fmt, v) for v in values)
    elif vr in ("US", "SS", "UL", "SL", "AT"):
        fmt = {"US": "H", "SS": "h", "UL": "L", "SL": "l", "AT": "L"}[vr]
        size = struct.calcsize(fmt)
        values = [rng.choice(INT_VALUES) for _ in range(rng.choice((1, 1, 2, 3)))]
        data = b"".join(
            struct.pack(end + fmt.upper() if fmt.islower() else end + fmt, v % (1 << (8 * size)))
            for v in values
        )
    elif vr in ("UN", "OB"):
        data = rng.randbytes(rng.choice((0, 1, 2, 3, 5, 6, 7, 8, 64)))
    elif vr == "SQ":
        data = rng.randbytes(rng.choice((8, 16)))
    else:
        text = rng.choice(TEXT_VALUES)
        data = text.encode("latin-1", "replace")
    if rng.random() < 0.15 and data:  # a length the VR cannot divide
        data = data[: max(1, len(data) - rng.choice((1, 2, 3)))]
    if len(data) % 2 and rng.random() < 0.7:
        data += b" " if vr not in ("UN", "OB", "FL", "FD", "US", "UL", "SS", "SL", "AT") else b"\0"
    return data


def _elements(ds: Any, depth: int = 0) -> list[tuple[Any, int]]:
    """(dataset, tag) of every element except pixel data, also inside sequence items."""
    out = []
    for tag in list(ds.keys()):
        if tag >> 16 == 0x7FE0:
            continue
        out.append((ds, int(tag)))
        if depth < 2:
            try:
                elem = ds[tag]
            except Exception:
                continue
            if elem.VR == "SQ" and elem.value:
                for item in list(elem.value)[:8]:
                    out.extend(_elements(item, depth + 1))
    return out


def mutate_dataset(rng: random.Random, path: Path) -> str:
    """Give one element of ``path`` a hostile value / VR / length; return what was done."""
    import pydicom
    from pydicom.datadict import keyword_for_tag, tag_for_keyword
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    with warnings_off():
        ds = pydicom.dcmread(path, force=True)
        implicit, little = ds.original_encoding
        implicit = bool(implicit)
        little = bool(little) if little is not None else True
        targets = _elements(ds)
        if not targets:
            raise ValueError("no element")
        wanted = [tag_for_keyword(k) for k in INTERESTING]
        hits = [(d, t) for d, t in targets if t in wanted]
        owner, tag = rng.choice(hits) if hits and rng.random() < 0.75 else rng.choice(targets)
        try:
            old_vr = owner[tag].VR
        except Exception:
            old_vr = "UN"
        vr = old_vr if rng.random() < 0.6 else rng.choice(VRS)
        if vr == "SQ" and old_vr != "SQ":
            vr = "UN"
        value = _raw_value(rng, vr if not implicit else old_vr, little)
        owner._dict[Tag(tag)] = RawDataElement(
            Tag(tag), vr, len(value), value, 0, implicit, little
        )
        ds.save_as(path, enforce_file_format=False)
    name = keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return f"{name} {old_vr}->{vr} {value[:40]!r}"


def mutate_bytes(rng: random.Random, path: Path) -> str:
    """Flip bits / overwrite bytes in the header part of the file, or cut it short."""
    data = bytearray(path.read_bytes())
    head = len(data)
    at = data.find(b"\xe0\x7f\x10\x00")  # (7FE0,0010) little endian
    if at > 0:
        head = at + 12
    if rng.random() < 0.2:
        cut = rng.randrange(1, max(2, len(data)))
        path.write_bytes(bytes(data[:cut]))
        return f"truncated at {cut} of {len(data)} bytes"
    done = []
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        pos = rng.randrange(132 if head > 200 else 0, max(head, 133))
        if pos >= len(data):
            continue
        if rng.random() < 0.5:
            data[pos] ^= 1 << rng.randrange(8)
            done.append(f"bitflip@{pos}")
        else:
            data[pos] = rng.choice((0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)))
            done.append(f"byte@{pos}")
    path.write_bytes(bytes(data))
    return ",".join(done) or "nothing"


def mutate_geometry(rng: random.Random, path: Path) -> str:
    """Move one slice of a series somewhere hostile (position / orientation / spacing)."""
    import pydicom

    with warnings_off():
        ds = pydicom.dcmread(path, force=True)
        what = rng.choice(("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"))
        old = [float(v) for v in ds.get(what, [0, 0, 0])]
        if what == "ImagePositionPatient":
            axis = rng.randrange(3)
            old[axis] = rng.choice((-100000.0, 5000.0, 1e7, 1e300, 123456789.0, 0.001, -5000.0))
        elif what == "ImageOrientationPatient":
            old = rng.choice(
                (
                    [1e-300, 0, 0, 0, 1e-300, 0],
                    [1, 0, 0, 1, 0, 0],
                    [0.7071, 0.7071, 0, 0, 0, 1],
                    [1, 0, 0, 0, 0.94, -0.34],
                    [2, 0, 0, 0, 2, 0],
                )
            )
        else:
            old = rng.choice(([1e-6, 1e-6], [1e4, 1e4], [0.5, 1e-9], [1e5, 1e5]))
        ds[what].value = [f"{v:.10g}"[:16] for v in old]
        ds.save_as(path, enforce_file_format=False)
    return f"{what}={old}"


@contextlib.contextmanager
def warnings_off() -> Any:
    import logging
    import warnings

    import pydicom

    settings = pydicom.config.settings
    modes = (settings.reading_validation_mode, settings.writing_validation_mode)
    settings.reading_validation_mode = pydicom.config.IGNORE
    settings.writing_validation_mode = pydicom.config.IGNORE
    level = logging.getLogger("pydicom").level
    logging.getLogger("pydicom").setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        settings.reading_validation_mode, settings.writing_validation_mode = modes
        logging.getLogger("pydicom").setLevel(level)


# -- cases ----------------------------------------------------------------------------------------
def make_case(seed: int, index: int) -> dict[str, Any]:
    """The case ``index`` of run ``seed``: which input, which mutation, which command."""
    rng = random.Random(f"volumeviz-fuzz:{seed}:{index}")
    kind, rel, commands = rng.choice(SEEDS)
    mutation = rng.choices(("value", "bytes", "geometry", "value2"), (55, 25, 10, 10))[0]
    if mutation == "geometry" and kind != "series":
        mutation = "value"
    return {
        "index": index,
        "seed": seed,
        "kind": kind,
        "input": rel,
        "mutation": mutation,
        "command": rng.choice(commands),
        "rng": rng.getrandbits(64),
    }


def materialize(case: dict[str, Any], data: Path, work: Path) -> tuple[Path, str]:
    """Copy the case's input into ``work`` and mutate it; (path to run on, what was done)."""
    rng = random.Random(case["rng"])
    src = data / case["input"]
    if case["kind"] in ("file", "seg"):
        target = work / src.name
        shutil.copyfile(src, target)
        victims, run_on = [target], target
        if case["kind"] == "seg":
            shutil.copytree(data / SEGMENTED[case["input"]], work / "ref")
    elif case["kind"] == "series":
        files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix not in (".md", ""))
        files = files or sorted(p for p in src.rglob("*") if p.is_file())
        files = [f for f in files if f.name not in ("DIRFILE", "LICENSE", "SOURCE.md")]
        start = rng.randrange(max(1, len(files) - SERIES_FILES))
        folder = work / "series"
        folder.mkdir()
        for f in files[start : start + SERIES_FILES]:
            shutil.copyfile(f, folder / f.name)
        copied = sorted(folder.iterdir())
        victims, run_on = [rng.choice(copied)], folder
    else:
        root = work / "fs"
        shutil.copytree(src, root)
        dicomdir = root / "DICOMDIR"
        images = [p for p in root.rglob("*") if p.is_file() and p.name != "DICOMDIR"]
        victim = dicomdir if rng.random() < 0.7 else rng.choice(images)
        victims, run_on = [victim], dicomdir
    done = []
    for victim in victims:
        kind = case["mutation"]
        steps = 2 if kind == "value2" else 1
        for _ in range(steps):
            try:
                if kind in ("value", "value2"):
                    done.append(f"{victim.name}: {mutate_dataset(rng, victim)}")
                elif kind == "geometry":
                    done.append(f"{victim.name}: {mutate_geometry(rng, victim)}")
                else:
                    done.append(f"{victim.name}: {mutate_bytes(rng, victim)}")
            except Exception as exc:  # the file could not be re-written: mutate its bytes
                done.append(f"{victim.name}: ({type(exc).__name__}) {mutate_bytes(rng, victim)}")
    return run_on, "; ".join(done)


def _hash_tree(path: Path) -> str:
    h = hashlib.sha256()
    root = path if path.is_dir() else path.parent
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def run_case(case: dict[str, Any], data: Path, scratch: Path) -> dict[str, Any]:
    """Materialise and run one case in this process; the outcome as a dict."""
    work = Path(tempfile.mkdtemp(prefix=f"case{case['index']}_", dir=scratch))
    inputs = work / "in"
    inputs.mkdir()
    out: dict[str, Any] = {"index": case["index"]}
    try:
        target, out["mutation"] = materialize(case, data, inputs)
        before = _hash_tree(target)
        t0 = time.monotonic()
        out.update(_run_command(case["command"], target, work / "out"))
        out["seconds"] = round(time.monotonic() - t0, 3)
        if _hash_tree(target) != before:
            out["outcome"] = "modified"
    except MemoryError:
        out.update(outcome="memory", detail="MemoryError")
    except Exception:
        out.update(outcome="harness", detail=traceback.format_exc(limit=3)[-600:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _run_command(command: str, target: Path, outdir: Path) -> dict[str, Any]:
    from volumeviz.errors import VolumeVizError

    if command == "load":
        from volumeviz.io.volume import load_series

        try:
            with warnings_off():
                vol = load_series(target)
        except VolumeVizError as exc:
            return {"outcome": "clean", "detail": str(exc)[:200]}
        except MemoryError:
            return {"outcome": "memory", "detail": "MemoryError"}
        except Exception as exc:
            return {
                "outcome": "internal",
                "detail": f"{type(exc).__name__}: {exc}"[:300],
                "trace": traceback.format_exc(limit=-4)[-1500:],
            }
        return {"outcome": "ok", "detail": str(vol.size)}
    from volumeviz.cli.main import main

    argv = {
        "info": ["info", str(target)],
        "us": ["us", "info", str(target)],
        "export": ["export", str(target), "-o", str(outdir)],
        "stats": ["stats", str(target.parent / "ref"), "--seg", str(target)],
    }[command]
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        except MemoryError:
            return {"outcome": "memory", "detail": "MemoryError"}
        except Exception as exc:  # main() lets nothing else out; if it does, that is a bug
            return {"outcome": "internal", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    err = stderr.getvalue()
    if "internal error" in err or "Traceback" in err:
        return {"outcome": "internal", "detail": err.strip()[-400:]}
    if "out of memory" in err:
        return {"outcome": "memory", "detail": err.strip()[-200:]}
    if code not in (0, 1, 2):
        return {"outcome": "internal", "detail": f"exit {code}: {err.strip()[-300:]}"}
    last = (err.strip().splitlines() or stdout.getvalue().strip().splitlines() or [""])[-1]
    return {"outcome": "ok" if code == 0 else "clean", "detail": last[:200]}


# -- workers --------------------------------------------------------------------------------------
def worker_main(data: Path, scratch: Path) -> None:
    """Read cases (JSON lines) on stdin, answer outcomes (JSON lines) on stdout."""
    real_out = sys.stdout
    sys.stdout = sys.stderr  # anything printed by accident must not break the protocol
    os.environ.setdefault("COLUMNS", "200")
    for line in sys.stdin:
        case = json.loads(line)
        result = run_case(case, data, scratch)
        real_out.write(json.dumps(result) + "\n")
        real_out.flush()


def _limit(memory: int) -> Any:
    def apply() -> None:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply


class Worker:
    """One worker process: limited address space, killed and replaced when a case overruns."""

    def __init__(self, data: Path, scratch: Path, memory: int) -> None:
        self.args = [sys.executable, __file__, "--worker", "--data", str(data), "--scratch",
                     str(scratch)]  # fmt: skip
        self.memory = memory
        self.proc: subprocess.Popen[str] | None = None
        self.buffer = ""
        self.case: dict[str, Any] | None = None
        self.started = 0.0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=_limit(self.memory),
        )
        self.buffer = ""

    def send(self, case: dict[str, Any]) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.case = case
        self.started = time.monotonic()
        self.proc.stdin.write(json.dumps(case) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None


def run_cases(
    cases: list[dict[str, Any]],
    data: Path,
    *,
    workers: int = 1,
    timeout: float = 60.0,
    memory: int = 2 * 2**30,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Run ``cases`` on ``workers`` worker processes; one outcome per case (in case order)."""
    scratch = Path(tempfile.mkdtemp(prefix="volumeviz-fuzz-"))
    pool = [Worker(data, scratch, memory) for _ in range(max(1, workers))]
    todo = list(reversed(cases))
    results: dict[int, dict[str, Any]] = {}
    try:
        while todo or any(w.case is not None for w in pool):
            for w in pool:
                if w.case is None and todo:
                    w.send(todo.pop())
            busy = [w for w in pool if w.case is not None]
            fds = {w.proc.stdout.fileno(): w for w in busy if w.proc and w.proc.stdout}
            ready, _, _ = select.select(list(fds), [], [], 0.5)
            for fd in ready:
                w = fds[fd]
                assert w.proc is not None
                assert w.proc.stdout is not None
                assert w.case is not None
                line = w.proc.stdout.readline()
                if line:
                    result = json.loads(line)
                else:  # the worker died (killed by the kernel, or crashed in C)
                    code = w.proc.wait()
                    result = {
                        "index": w.case["index"],
                        "outcome": "memory" if code in (-9, -6, 134, 137) else "crash",
                        "detail": f"worker died with {code}",
                    }
                    w.proc = None
                results[w.case["index"]] = {**w.case, **result}
                w.case = None
            now = time.monotonic()
            for w in busy:
                if w.case is not None and now - w.started > timeout:
                    results[w.case["index"]] = {
                        **w.case,
                        "outcome": "hang",
                        "detail": f"no answer within {timeout:g} s",
                    }
                    w.kill()
                    w.case = None
            if progress and results and len(results) % 100 == 0:
                print(f"\r{len(results)}/{len(cases)}", end="", file=sys.stderr, flush=True)
    finally:
        for w in pool:
            w.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    return [results[c["index"]] for c in cases]


FAILURES = ("internal", "hang", "memory", "modified", "crash", "harness")


def summary(results: list[dict[str, Any]], seconds: float) -> list[str]:
    counts = Counter(r["outcome"] for r in results)
    by_command = Counter((r["command"], r["outcome"]) for r in results)
    lines = [
        f"{len(results)} cases in {seconds:.0f} s: "
        + ", ".join(f"{k} {counts[k]}" for k in ("ok", "clean", *FAILURES) if counts[k]),
        "internal errors {internal} / hangs {hang} / over the memory limit {memory} / inputs "
        "modified {modified} / worker crashes {crash}".format(
            **{k: counts.get(k, 0) for k in FAILURES}
        ),
        "by command: "
        + "; ".join(
            f"{c}: "
            + ", ".join(f"{o} {n}" for (cc, o), n in sorted(by_command.items()) if cc == c)
            for c in sorted({r["command"] for r in results})
        ),
    ]
    slow = sorted(results, key=lambda r: -float(r.get("seconds", 0)))[:3]
    lines.append("slowest: " + ", ".join(f"#{r['index']} {r.get('seconds', '?')} s" for r in slow))
    for r in results:
        if r["outcome"] in FAILURES:
            lines.append(
                f"FAIL #{r['index']} {r['outcome']}: {r['command']} on {r['input']} after "
                f"{r.get('mutation', '?')}: {r.get('detail', '')}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    parser.add_argument("--memory-gib", type=float, default=2.0, help="address-space limit")
    parser.add_argument("--replay", type=int, help="run only case N, in this process, verbose")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data = args.data or Path(os.environ.get("VOLUMEVIZ_SHARED_DATA", "../shared/data"))
    if args.worker:
        worker_main(data, args.scratch)
        return 0
    if args.replay is not None:
        case = make_case(args.seed, args.replay)
        scratch = Path(tempfile.mkdtemp(prefix="volumeviz-fuzz-"))
        print(json.dumps(case))
        print(json.dumps(run_case(case, data, scratch), indent=1))
        shutil.rmtree(scratch, ignore_errors=True)
        return 0
    cases = [make_case(args.seed, i) for i in range(args.cases)]
    t0 = time.monotonic()
    results = run_cases(
        cases,
        data,
        workers=args.workers,
        timeout=args.timeout,
        memory=int(args.memory_gib * 2**30),
        progress=True,
    )
    print(file=sys.stderr)
    for line in summary(results, time.monotonic() - t0):
        print(line)
    return 1 if any(r["outcome"] in FAILURES for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
