"""Rendering with pyvista/VTK: Volumes in, pixels out; never reads files, never calls ``show()``.

- :mod:`~volumeviz.render.convert` -- THE Volume -> ``pv.ImageData`` + user matrix (LPS)
- :mod:`~volumeviz.render.volume` -- ``add_volume`` (vtkVolume + mapper chosen for the GL)
- :mod:`~volumeviz.render.planes` -- 2D MPR images from :mod:`volumeviz.ops.mpr`
- :mod:`~volumeviz.render.annotations` -- orientation letters, scale bar, marker cube, text
- :mod:`~volumeviz.render.cameras` -- anatomical views (anterior ... inferior)
- :mod:`~volumeviz.render.state` -- THE ``ViewState`` (what to show), filled by every face
- :mod:`~volumeviz.render.screenshot` -- ``render_scene``, ``render_image``, ``screenshot``
- :mod:`~volumeviz.render.scene` -- ``Scene``: a scripted grid of views (offscreen)
- :mod:`~volumeviz.render.interactive` -- the live views inside the window's panels
"""
