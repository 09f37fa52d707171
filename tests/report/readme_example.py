import volumeviz
from volumeviz.report import make_report

vol = volumeviz.load_series("assets/ct-head")  # a folder, a list of files or a DICOMDIR
img = volumeviz.screenshot(vol, preset="bone", view="anterior", size=(400, 300))
print(img.shape, img.dtype)  # (300, 400, 3) uint8: a numpy RGB image

scene = volumeviz.Scene(vol, columns=2, cell_size=(320, 240))
scene.add_3d(preset="bone", view="left")
scene.add_mpr("axial")
scene.add_slab("coronal", thickness_mm=20, mode="mip")
scene.add_quad()
scene.save("figure.png")  # in Jupyter, a Scene on its own line shows the figure

make_report([vol], "report.pdf", anonymize=True, presets=["bone"], dpi=100)
