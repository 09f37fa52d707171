"""
3D presets on the bundled CT
============================

Volume rendering of the bundled head-phantom CT with two transfer-function presets. Presets are
JSON data in HU (seeded from 3D Slicer's ``presets.xml``); the camera is named anatomically.
"""

from pathlib import Path

import volumeviz

ASSETS = Path("../../assets").resolve()
vol = volumeviz.load_series(ASSETS / "ct-head")
print(vol.size, "voxels of", tuple(round(s, 3) for s in vol.spacing), "mm,", vol.units)

# %%
# Bone, seen from the front (the patient's left on the image's right)
scene = volumeviz.Scene(vol, columns=2, cell_size=(320, 320))
scene.add_3d(preset="bone", view="anterior")
scene.add_3d(preset="bone", view="left")
scene.save("presets_bone.png")

# %%
# Soft tissue and a maximum-intensity projection
scene = volumeviz.Scene(vol, columns=2, cell_size=(320, 320))
scene.add_3d(preset="soft-tissue", view="anterior")
scene.add_3d(preset="mip", view="anterior")
scene.save("presets_soft_mip.png")
