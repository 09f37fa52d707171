"""A thin floating-point volume rendered by VTK's fixed-point ray caster never reads past its
voxels: the array is placed right before an unreadable page (PROT_NONE) and drawn in 3D, in a
child process (the failure is a segfault). VTK reads 2-3 slices past the end of 2-4 float32
slices; render.convert gives such buffers slack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.render

CHILD = r"""
import ctypes, mmap, sys
import numpy as np
from volumeviz.model import phantom
from volumeviz.render.screenshot import screenshot

n, nk, dtype = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
base = phantom.asymmetric((n, n, nk), modality="MR")
a = np.interp(base.array, [-1000, 1000], [0, 2000]).astype(dtype)
page = mmap.PAGESIZE
npages = -(-a.nbytes // page)
buf = mmap.mmap(-1, (npages + 1) * page)
libc = ctypes.CDLL(None)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
assert libc.mprotect(addr + npages * page, page, 0) == 0  # the page after: unreadable
arr = np.frombuffer(buf, dtype, a.size, npages * page - a.nbytes).reshape(a.shape)
arr[...] = a
img = screenshot(base.replace(array=arr), preset="mr-default", mapper="fixed", size=(64, 64),
                 annotations=False)
assert img.max() > 0
print("drawn")
"""


@pytest.mark.skipif(sys.platform != "linux", reason="mprotect guard page via libc")
@pytest.mark.parametrize(("n", "nk"), [(64, 2), (96, 3), (64, 4)])
def test_thin_float_volume_is_drawn_without_reading_past_its_voxels(tmp_path, n, nk):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, str(script), str(n), str(nk), "float32"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-1500:])
    assert "drawn" in proc.stdout
