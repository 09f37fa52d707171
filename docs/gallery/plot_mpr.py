"""
MPR: axial, coronal, sagittal, slab and oblique
===============================================

Multiplanar reformats of the bundled CT, every edge labelled with its patient direction and a
scale bar in mm. A thick-slab MIP and an oblique plane (given by its LPS normal) are resampled
onto the patient plane, not shown along the index axes.
"""

from pathlib import Path

import volumeviz

vol = volumeviz.load_series(Path("../../assets/ct-head").resolve())

# %%
# The three cardinal planes and the 3D view, brain window
scene = volumeviz.Scene(vol, columns=2, cell_size=(320, 320))
scene.add_quad(window="brain")
scene.save("mpr_quad.png")

# %%
# A 20 mm coronal MIP slab and an oblique plane tilted 20° about the left-right axis
scene = volumeviz.Scene(vol, columns=2, cell_size=(320, 320))
scene.add_slab("coronal", thickness_mm=20, mode="mip")
scene.add_mpr("oblique", normal=(0.0, 0.34, 0.94), window="brain")
scene.save("mpr_slab_oblique.png")
