"""Benchmark: a 300-slice CT series from a loopback Orthanc, volumeviz against plain loops.

    python scripts/bench_pacs.py [--slices 300] [--repeat 3] [--workers 4]

The series is made as ``scripts/bench_load.py`` makes it (one real CT slice from
``$VOLUMEVIZ_SHARED_DATA`` replicated at new positions with new UIDs, or ``--source FILE``),
uploaded to a real Orthanc started on loopback (``tests/pacs/orthanc.py``: Debian
``orthanc`` + ``orthanc-dicomweb``). Each method runs in a fresh subprocess (peak RSS: its
``ru_maxrss``), the methods interleaved, ``--repeat`` times; the table shows medians:

- ``plain dicomweb-client loop``: QIDO-RS the instances, then ``retrieve_instance`` one after
  the other, ``save_as`` each into a folder (what a script written by hand does)
- ``plain loop, no gzip``: the same loop asking for uncompressed answers, as volumeviz does
  (Orthanc gzips every answer by default: about 60 ms of its CPU per 0.5 MB instance)
- ``dicomweb-client retrieve_series``: the whole series in one multipart WADO-RS request
- ``volumeviz fetch, cold``: ``volumeviz.io.pacs.fetch`` into an empty cache (parallel WADO-RS)
- ``volumeviz fetch, warm``: the same with the cache filled by the cold run (no pixel request)
- ``volumeviz load_series, cold / warm``: metadata, series choice, retrieve, and the Volume
- ``volumeviz fetch over DIMSE C-GET, cold``: for comparison

Times are in-process (imports excluded); the ratio column is against the plain loop.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE.parent))

METHODS = {
    "plain": "plain dicomweb-client loop",
    "plain_identity": "plain loop, no gzip (Accept-Encoding: identity)",
    "series": "dicomweb-client retrieve_series",
    "fetch_cold": "volumeviz fetch, cold cache",
    "fetch_warm": "volumeviz fetch, warm cache",
    "load_cold": "volumeviz load_series, cold cache",
    "load_warm": "volumeviz load_series, warm cache",
    "dimse_cold": "volumeviz fetch over DIMSE C-GET, cold",
}


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- workers (run in a child process) -----------------------------------------------------------


def _client(url: str, gzip: bool = True):
    import requests
    from dicomweb_client.api import DICOMwebClient

    from tests.pacs.orthanc import PASSWORD, USER

    s = requests.Session()
    s.auth = (USER, PASSWORD)
    if not gzip:
        s.headers["Accept-Encoding"] = "identity"
    return DICOMwebClient(url, session=s)


def work(method: str, args: dict) -> dict:
    """One measured run; returns seconds, instances and bytes."""
    study, series, out = args["study"], args["series"], Path(args["out"])
    if method in ("plain", "plain_identity", "series"):
        import pydicom  # noqa: F401

        client = _client(args["url"], gzip=method != "plain_identity")
        t0 = time.perf_counter()
        out.mkdir(parents=True, exist_ok=True)
        if method.startswith("plain"):
            found = client.search_for_instances(study, series, fields=["SOPInstanceUID"])
            for d in found:
                sop = d["00080018"]["Value"][0]
                ds = client.retrieve_instance(study, series, sop)
                ds.save_as(out / f"{sop}.dcm", enforce_file_format=True)
        else:
            for ds in client.retrieve_series(study, series):
                ds.save_as(out / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
        seconds = time.perf_counter() - t0
        files = list(out.iterdir())
    else:
        os.environ["VOLUMEVIZ_PACS_CACHE"] = args["cache"]
        os.environ["VOLUMEVIZ_PACS_WORKERS"] = str(args["workers"])
        from volumeviz.io.pacs import fetch
        from volumeviz.io.volume import load_series

        root = args["dimse"] if method == "dimse_cold" else args["address"]
        t0 = time.perf_counter()
        if method.startswith("load"):
            vol = load_series(f"{root}/studies/{study}")
            assert vol.array.shape[0] == args["slices"], vol.array.shape
            files = list(Path(args["cache"]).glob("objects/*/*.dcm"))
        else:
            files = list(fetch(f"{root}/studies/{study}/series/{series}").files)
        seconds = time.perf_counter() - t0
    assert len(files) == args["slices"], (method, len(files))
    return {
        "seconds": seconds,
        "instances": len(files),
        "mb": sum(f.stat().st_size for f in files) / 2**20,
    }


# -- the series and the server ----------------------------------------------------------------


def _run(method: str, args: dict) -> dict:
    cmd = [sys.executable, str(HERE), "--worker", method, "--args", json.dumps(args)]
    env = dict(os.environ)
    from tests.pacs.orthanc import PASSWORD, USER

    env.update(VOLUMEVIZ_DICOMWEB_USER=USER, VOLUMEVIZ_DICOMWEB_PASSWORD=PASSWORD)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{method} failed: {err.decode()[-2000:]}")
    res = json.loads(out.decode().strip().splitlines()[-1])
    res["wall"] = wall
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--source", default=None, help="the CT slice to replicate")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--args", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        res = work(a.worker, json.loads(a.args))
        res["rss_mb"] = _rss_mb()
        print(json.dumps(res))
        return 0

    import _benchlib as B
    import pydicom

    from tests.pacs.orthanc import Orthanc, missing_reason

    reason = missing_reason()
    if reason:
        raise SystemExit(f"bench_pacs: {reason} (run scripts/install_system_deps.sh)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-pacs-"))
    try:
        source = (
            Path(a.source)
            if a.source
            else sorted((B.shared_data() / "ct" / "philips_ingenuity_axial_5mm").glob("I*"))[0]
        )
        folder = B.write_replicated_series(tmp / "series", source, a.slices)
        files = sorted(folder.iterdir())
        ds = pydicom.dcmread(files[0], stop_before_pixels=True)
        server = Orthanc(tmp / "orthanc").start()
        try:
            t0 = time.perf_counter()
            server.upload(files)
            upload_s = time.perf_counter() - t0
            base = {
                "url": server.http_url + "/dicom-web",
                "address": server.dicomweb,
                "dimse": server.dimse,
                "study": str(ds.StudyInstanceUID),
                "series": str(ds.SeriesInstanceUID),
                "slices": a.slices,
                "workers": a.workers,
            }
            print(
                f"bench_pacs: {a.slices} slices x {files[0].stat().st_size / 2**10:.0f} KiB "
                f"uploaded to Orthanc {server.http_url} in {upload_s:.1f} s; "
                f"{a.repeat} interleaved run(s) per method, {a.workers} volumeviz workers",
                flush=True,
            )
            results: dict[str, list[dict]] = {m: [] for m in METHODS}
            for r in range(a.repeat):
                for kind in ("fetch", "load", "dimse"):
                    cache = tmp / f"cache-{kind}-{r}"
                    args = dict(base, cache=str(cache), out=str(tmp / f"out-{kind}-{r}"))
                    if kind == "dimse":
                        results["dimse_cold"].append(_run("dimse_cold", args))
                        continue
                    results[f"{kind}_cold"].append(_run(f"{kind}_cold", args))
                    results[f"{kind}_warm"].append(_run(f"{kind}_warm", args))
                    shutil.rmtree(cache, ignore_errors=True)
                for m in ("plain", "plain_identity", "series"):
                    out = tmp / f"out-{m}-{r}"
                    results[m].append(_run(m, dict(base, out=str(out), cache="")))
                    shutil.rmtree(out, ignore_errors=True)
        finally:
            server.stop()
        ref = statistics.median(x["seconds"] for x in results["plain"])
        print()
        print("| method | s (median) | MB/s | peak RSS MB | x plain loop time |")
        print("|---|---|---|---|---|")
        for m, label in METHODS.items():
            secs = statistics.median(x["seconds"] for x in results[m])
            mb = results[m][0]["mb"]
            rss = statistics.median(x["rss_mb"] for x in results[m])
            rate = f"{mb / secs:.0f}" if not m.endswith("warm") else "-"
            print(f"| {label} | {secs:.2f} | {rate} | {rss:.0f} | {secs / ref:.2f} |")
        print(f"\n({results['plain'][0]['mb']:.0f} MB per series; runs: "
              + ", ".join(f"{m}={[round(x['seconds'], 2) for x in v]}" for m, v in results.items())
              + ")")  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
