"""
Measuring on an MPR
===================

A distance, an angle, the value under a point and a circular ROI on an axial slice of the bundled
CT, drawn with their values. The points are taken on the resliced plane
(:meth:`~volumeviz.ops.mpr.Slice2D.pixel_to_lps`), so the numbers are in LPS millimetres whatever
the plane; the ROI statistics are those of ``volumeviz.ops.stats``.
"""

from pathlib import Path

import volumeviz
from volumeviz.ops import measure
from volumeviz.ops.mpr import reslice

vol = volumeviz.load_series(Path("../../assets/ct-head").resolve())
s = reslice(vol, "axial", slice_spec=14)  # the 15th slice, as --slice 14 shows it
rows, cols = s.shape

ruler = measure.Markup("distance", (s.pixel_to_lps(rows * 0.5, cols * 0.2),
                                    s.pixel_to_lps(rows * 0.5, cols * 0.8)))  # fmt: skip
angle = measure.Markup("angle", (s.pixel_to_lps(rows * 0.3, cols * 0.3),
                                 s.pixel_to_lps(rows * 0.15, cols * 0.5),
                                 s.pixel_to_lps(rows * 0.3, cols * 0.7)))  # fmt: skip
point = measure.Markup("point", (s.pixel_to_lps(rows * 0.47, cols * 0.48),))
circle = measure.Markup(
    "ellipse",
    measure.ellipse_points(s.pixel_to_lps(rows * 0.615, cols * 0.57), s.right, s.down, 6.0),
)
for m in (ruler, angle, point, circle):
    print(measure.describe_markup(vol, m))

# %%
# The same measurements drawn on the picture (``volumeviz screenshot --measure`` does this too)
scene = volumeviz.Scene(vol, columns=1, cell_size=(520, 520))
scene.add_mpr("axial", slice=14, window="brain", measurements=(ruler, angle, point, circle))
scene.save("measure_axial.png")
