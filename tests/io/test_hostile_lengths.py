"""Lengths that lie: a deflate bomb, and a pixel data length past the end of the file (#13).

- Deflated Explicit VR Little Endian (PS3.5 A.5): pydicom inflated everything after the File
  Meta in one call; a 390 kB file of zeros inflating to 400 MB made ``info`` and
  ``load_series`` peak at 850 MB (a 4 MB file would ask for 8 GB). io/_deflate.py bounds the
  inflate for every reader (installed by io/header.py): 64 MiB free, then at most 200x the
  compressed size.
- The 10,000-case fuzz run (seed 3, case 1368): bit flips turned a J2K file's (7FE0,0010)
  undefined length into 0xFFFFFFEF; discovery accepted it and the full read asked pydicom for
  4 GiB (MemoryError under the 2 GiB limit). A deferred value must now end inside its file.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pydicom
import pytest

from tests.conftest import run_cli, shared_path
from volumeviz.errors import DicomReadError
from volumeviz.io import _deflate
from volumeviz.io.volume import load_series

pytestmark = pytest.mark.shared_data


def _file_meta_end(path: Path) -> int:
    with path.open("rb") as fp:
        fp.seek(132)
        pydicom.filereader._read_file_meta_info(fp)
        return fp.tell()


def _deflate_bomb(src: Path, out: Path, extra: int) -> None:
    """``src`` (deflated) with an OB element of ``extra`` zero bytes appended to its dataset."""
    raw = src.read_bytes()
    start = _file_meta_end(src)
    body = zlib.decompress(raw[start:], -zlib.MAX_WBITS)
    co = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    with out.open("wb") as fp:
        fp.write(raw[:start])
        fp.write(co.compress(body))
        fp.write(co.compress(struct.pack("<HH2sHL", 0x7FE1, 0x1000, b"OB", 0, extra)))
        zeros = bytes(1 << 24)
        left = extra
        while left > 0:
            fp.write(co.compress(zeros[: min(left, len(zeros))]))
            left -= len(zeros)
        fp.write(co.flush())


def test_bounded_inflate_round_trips_and_stops_at_its_limit():
    data = bytes(range(256)) * 5000
    for wbits in (-zlib.MAX_WBITS, zlib.MAX_WBITS):
        co = zlib.compressobj(6, zlib.DEFLATED, wbits)
        packed = co.compress(data) + co.flush()
        assert _deflate.bounded_decompress(packed, wbits) == data
    bomb = zlib.compress(bytes(_deflate.FREE_BYTES + 2**20), 9)
    assert len(bomb) * _deflate.MAX_RATIO < _deflate.FREE_BYTES
    with pytest.raises(_deflate.DeflateLimitError, match="inflate beyond 67108864 bytes"):
        _deflate.bounded_decompress(bomb)
    import pydicom.filereader

    assert pydicom.filereader.zlib.decompress is _deflate.bounded_decompress  # installed


# VmHWM is this process image's peak RSS (ru_maxrss would carry the forking pytest's over exec)
PEAK = """
import sys
from volumeviz.errors import VolumeVizError
from volumeviz.io.volume import load_series
try:
    load_series(sys.argv[1])
except VolumeVizError as exc:
    print(str(exc))
status = open("/proc/self/status").read().split("VmHWM:")[1]
print(int(status.split()[0]) // 1024)
"""


@pytest.mark.slow
def test_deflate_bomb_is_refused_in_bounded_memory(shared_data, tmp_path, capsys):
    src = shared_path(shared_data, "syntax/deflated_explicit_le.dcm")
    assert load_series(src).size == (512, 512, 1)  # the real deflated file reads as before
    bomb = tmp_path / "bomb.dcm"
    _deflate_bomb(src, bomb, 400_000_000)
    assert bomb.stat().st_size < 500_000
    with pytest.raises(DicomReadError) as exc:
        load_series(bomb)
    message = str(exc.value)
    assert message.startswith(f"{bomb}: ")
    assert "DeflateLimitError: (0002,0010) Transfer Syntax UID is Deflated" in message
    assert "refused as a deflate bomb" in message
    code, _, err = run_cli(capsys, "info", str(bomb))
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "deflate bomb" in err
    run = subprocess.run(
        [sys.executable, "-c", PEAK, str(bomb)], capture_output=True, text=True, check=True
    )
    lines = run.stdout.strip().splitlines()
    assert "deflate bomb" in lines[0]
    assert int(lines[-1]) < 500, f"peak RSS {lines[-1]} MiB"  # 850 MiB when inflated whole


def test_pixel_data_length_past_the_end_of_the_file(shared_data, tmp_path, capsys):
    src = shared_path(shared_data, "syntax/emri_10f_j2k_lossless.dcm")
    data = bytearray(src.read_bytes())
    head = b"\xe0\x7f\x10\x00OW\x00\x00\xff\xff\xff\xff"  # (7FE0,0010), undefined length
    at = data.find(head)
    assert at > 0
    data[at + 8 : at + 12] = struct.pack("<L", 0xFFFFFFEF)  # the fuzz case's flipped bit
    bad = tmp_path / "j2k.dcm"
    bad.write_bytes(bytes(data))
    left = len(data) - (at + 12)
    needle = (
        f"(7FE0,0010) Pixel Data claims 4294967279 bytes, but the file ends {left} bytes after "
        "its start (file truncated, or a corrupt length)"
    )
    with pytest.raises(DicomReadError) as exc:
        load_series(bad)
    assert needle in str(exc.value)
    code, out, err = run_cli(capsys, "export", str(bad), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "internal error" not in err
    assert f"  {bad}: {needle}" in out
