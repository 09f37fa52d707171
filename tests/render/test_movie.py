"""Movies: along time at the series' own rate, a slice sweep, a 3D rotation; frame count, rate,
stamps and order are right, and memory stays flat however many frames (bounded here)."""

from __future__ import annotations

import itertools

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import psutil
import pytest

from tests.conftest import run_cli
from volumeviz.io.synth import write_synthetic_series
from volumeviz.io.volume import load_multivolume
from volumeviz.model import phantom
from volumeviz.render.movie import movie_along, movie_rotation, movie_sweep, sweep_positions
from volumeviz.render.state import ViewState

pytestmark = pytest.mark.render

UID = "1.2.826.0.1.3680043.8.498.5151"


def write_4d(folder, n, *, size=32, tr_ms=2000.0):
    """n time points of an MR phantom whose bright block moves toward the patient's left."""
    base = phantom.asymmetric(size, modality="MR")
    body = np.interp(base.array, [-1000, 1000], [0, 400]).astype(np.int16)
    for t in range(n):
        arr = body.copy()
        c = size // 2
        i0 = 2 + (t * (size - 8)) // max(n - 1, 1)
        arr[c - 2 : c + 2, c - 2 : c + 2, i0 : i0 + 4] = 1000
        write_synthetic_series(
            base.replace(array=arr),
            folder,
            modality="MR",
            series_uid=UID,
            prefix=f"T{t:03d}_",
            first_instance=1 + size * t,
            window=None,
            elements={"TemporalPositionIdentifier": t + 1, "RepetitionTime": tr_ms},
        )
    return folder


def _bright_x(frame) -> float:
    grey = np.asarray(frame, float)[..., :3].mean(axis=-1)
    _, xs = np.nonzero(grey >= 245)
    return float(xs.mean())


@pytest.fixture(scope="module")
def fmri(tmp_path_factory):
    return write_4d(tmp_path_factory.mktemp("fmri"), 5)


def test_along_time_plays_every_volume_in_order_at_1_over_tr(tmp_path, fmri):
    mv = load_multivolume(fmri)
    out = tmp_path / "bold.mp4"
    state = ViewState(mpr="axial", slice=16, size=(160, 120), window="1000/500")
    info = movie_along(mv, out, state=state)
    assert info.frames == 5
    assert info.fps == pytest.approx(0.5)  # TR 2 s
    assert "(0018,0080) Repetition Time" in info.fps_source
    nframes, secs = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert nframes == 5
    assert secs == pytest.approx(10.0, abs=0.1)
    for t, stamp in enumerate(info.stamps):  # each frame says which volume it is
        assert f"time {t + 1}/5 ({2 * t} s)" in stamp
    xs = [_bright_x(iio.imread(out, index=k)) for k in range(5)]
    assert all(b > a for a, b in itertools.pairwise(xs))  # the block moves, in order


def test_along_other_dimension_with_fixed_index_and_gif(tmp_path):
    src = phantom.asymmetric(12, modality="MR")
    for n in range(6):
        t, e = divmod(n, 2)
        write_synthetic_series(
            src.replace(array=src.array + np.int16(100 * n)),
            tmp_path / "me",
            series_uid=UID,
            prefix=f"V{n}_",
            modality="MR",
            first_instance=1 + 12 * n,
            elements={"TemporalPositionIdentifier": t + 1, "EchoNumbers": e + 1},
        )
    mv = load_multivolume(tmp_path / "me")
    assert mv.names == ("time", "echo")
    info = movie_along(
        mv, tmp_path / "e.gif", dim="echo", index={"time": 2}, state=ViewState(size=(64, 48))
    )
    assert info.frames == 2
    assert info.fps == 4.0  # echoes have no frame rate: the default
    assert ["time 3/3" in s and f"echo {e + 1}/2" in s for e, s in enumerate(info.stamps)] == [
        True,
        True,
    ]
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "e.gif"))[0] == 2


def test_sweep_moves_through_the_plane(tmp_path, ct):
    positions = sweep_positions(ct, "coronal", step=8)
    assert positions == [0, 8, 16, 24, 32, 40, 48, 56]
    state = ViewState(size=(96, 96))
    info = movie_sweep(ct, tmp_path / "s.mp4", plane="coronal", step=8, state=state, fps=5)
    assert info.frames == len(positions)
    mm = [float(s.split("at ")[1].split(" mm")[0]) for s in info.stamps]
    assert mm == sorted(mm)  # posterior-ward, one step each
    assert np.diff(mm) == pytest.approx(8.0)
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "s.mp4")) == (
        8,
        pytest.approx(1.6, abs=0.1),
    )


@pytest.mark.slow
def test_rotation_count_rate_and_flat_memory(tmp_path, ct):
    proc = psutil.Process()
    rss: list[int] = []
    info = movie_rotation(
        ct,
        tmp_path / "turn.mp4",
        frames=36,
        fps=12,
        state=ViewState(size=(160, 120), preset="bone"),
        on_frame=lambda n: rss.append(proc.memory_info().rss),
    )
    assert info.frames == 36
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "turn.mp4")) == (
        36,
        pytest.approx(3.0, abs=0.1),
    )
    assert "azimuth 10°" in info.stamps[1]
    assert "azimuth 350°" in info.stamps[35]
    growth_mb = (max(rss[3:]) - rss[3]) / 2**20
    assert growth_mb < 12, f"RSS grew {growth_mb:.1f} MB over 33 frames"


@pytest.mark.slow
def test_4d_movie_memory_stays_near_one_volume(tmp_path):
    """40 volumes of 1 MB (40 MB of voxels): the movie's memory grows by far less than that."""
    folder = write_4d(tmp_path / "big", 40, size=80)
    mv = load_multivolume(folder)
    one_mb = mv.volume().array.nbytes / 2**20
    mv.clear_cache()
    proc = psutil.Process()
    rss: list[int] = []
    info = movie_along(
        mv,
        tmp_path / "big.mp4",
        state=ViewState(mpr="axial", size=(96, 96)),
        on_frame=lambda n: rss.append(proc.memory_info().rss),
    )
    assert info.frames == 40
    total_mb = 40 * one_mb
    growth_mb = (max(rss[3:]) - rss[3]) / 2**20
    assert total_mb > 30
    assert growth_mb < 12, f"RSS grew {growth_mb:.1f} MB while {total_mb:.0f} MB were played"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--rotate", "--sweep", "axial"), 2, "choose one of --along, --sweep and --rotate"),
        (("--along", "echo"), 2, "no dimension 'echo'; this series has: time (5)"),
        (("--fps", "0"), 2, "--fps must be positive"),
        (("--index", "time=2"), 2, "the movie plays time; do not also fix it"),
    ],
)
def test_movie_cli_bad_options(capsys, tmp_path, fmri, args, code, message):
    out = tmp_path / "m.mp4"
    got, _, err = run_cli(capsys, "movie", str(fmri), *args, "-o", str(out))
    assert got == code
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert message in lines[0]
    assert not out.exists()


def test_movie_cli_3d_series_needs_a_mode(capsys, tmp_path):
    write_synthetic_series(phantom.asymmetric(16), tmp_path / "ct")
    code, _, err = run_cli(capsys, "movie", str(tmp_path / "ct"), "-o", str(tmp_path / "m.mp4"))
    assert code == 2
    assert "has no extra dimensions" in err
    assert "use --sweep PLANE or --rotate" in err
    code, out, err = run_cli(
        capsys, "movie", str(tmp_path / "ct"), "--rotate", "--frames", "4", "--size", "64x48",
        "-o", str(tmp_path / "m.gif"),
    )  # fmt: skip
    assert code == 0, err
    assert "4 frames at 24 frames/s" in out
    code, _, err = run_cli(capsys, "movie", str(tmp_path / "ct"), "-o", str(tmp_path / "m.avi"))
    assert code == 2
    assert ".mp4 or .gif" in err


def test_movie_cli_along_time(capsys, tmp_path, fmri):
    out = tmp_path / "b.mp4"
    code, stdout, err = run_cli(
        capsys, "movie", str(fmri), "--layout", "axial", "--size", "96x96", "-o", str(out)
    )
    assert code == 0, err
    assert stdout.strip().endswith("5 frames at 0.5 frames/s (1 / 2 s between time points "
                                   "((0018,0080) Repetition Time)), 10 s")  # fmt: skip
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 5


def test_anonymised_movie_frames_carry_no_identity(tmp_path, fmri):
    mv = load_multivolume(fmri)
    info = movie_along(
        mv, tmp_path / "a.gif", state=ViewState(mpr="axial", size=(96, 96), anonymize=True)
    )
    assert info.frames == 5
    for stamp in info.stamps:
        assert "time" in stamp
        assert "SYNTHETIC" not in stamp
        assert "SYNTH0001" not in stamp
        assert "2026" not in stamp  # no study date either
    plain = movie_along(mv, tmp_path / "p.gif", state=ViewState(mpr="axial", size=(96, 96)))
    assert all("SYNTHETIC^PHANTOM" in s for s in plain.stamps)  # the check above can fail


def test_cardiac_phases_play_at_the_hearts_pace(tmp_path):
    """Trigger delays 0, 40, 80 ... ms after the R wave: a cine at 25 frames/s."""
    src = phantom.asymmetric(16, modality="MR")
    for p in range(6):
        write_synthetic_series(
            src,
            tmp_path / "cine",
            series_uid=UID,
            prefix=f"P{p}_",
            modality="MR",
            first_instance=1 + 16 * p,
            elements={"TriggerTime": 40 * p, "Manufacturer": "SIEMENS"},
        )
    mv = load_multivolume(tmp_path / "cine")
    assert mv.names == ("phase",)
    assert mv.dimension("phase").values == (0.0, 40.0, 80.0, 120.0, 160.0, 200.0)
    info = movie_along(mv, tmp_path / "c.mp4", state=ViewState(mpr="axial", size=(64, 64)))
    assert info.fps == pytest.approx(25.0)
    assert "1 / 40 ms between phase points" in info.fps_source
    assert "phase 3/6 (80 ms)" in info.stamps[2]
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "c.mp4")) == (
        6,
        pytest.approx(0.24, abs=0.05),
    )
