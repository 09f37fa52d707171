"""
Real series: gantry tilt and a fully oblique MR
===============================================

Runs only when ``VOLUMEVIZ_SHARED_DATA`` points to the shared real data (CI sets it). A GE head
CT acquired with an 18.5° gantry tilt and uneven slice spacing is resampled onto a regular grid
(the loader says so in ``vol.issues``); a Toshiba MR acquired rotated 20° about all three axes is
shown on true patient planes.
"""

import os
from pathlib import Path

import volumeviz

root = os.environ.get("VOLUMEVIZ_SHARED_DATA")
if root is None:
    print("VOLUMEVIZ_SHARED_DATA is not set: no real series to show")
else:
    ct = volumeviz.load_series(Path(root) / "ct" / "ge_hispeed_tilt_varspacing")
    for issue in ct.issues:
        print(f"{issue.code}: {issue.message}")
    scene = volumeviz.Scene(ct, columns=2, cell_size=(320, 320))
    scene.add_mpr("sagittal", window="brain")
    scene.add_3d(preset="bone", view="left")
    scene.save("real_tilted_ct.png")

    mr = volumeviz.load_series(Path(root) / "mr" / "toshiba_galan_oblique20_b0")
    scene = volumeviz.Scene(mr, columns=3, cell_size=(240, 240))
    for plane in ("axial", "coronal", "sagittal"):
        scene.add_mpr(plane)
    scene.save("real_oblique_mr.png")
