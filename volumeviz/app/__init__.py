"""The interactive window (``volumeviz view PATH``): a Qt face over :mod:`volumeviz.render`.

Only this package imports Qt. The window holds one :class:`~volumeviz.render.state.ViewState`
(the same object the CLI, Scene and reports fill: crosshair LPS point as ``slice``, window/level,
preset, slab, the layout as ``mpr``), never raw data of its own; every control changes that state
and the views (:mod:`volumeviz.render.interactive`) are updated from it.

Using the window

- 2x2 layout: axial, coronal, sagittal MPR and 3D. Double-click a view (or its □ button) to
  maximise it; again to go back.
- Left click / drag in a 2D view: move the crosshair (the other planes follow). Scroll wheel:
  move through slices; Ctrl+wheel: zoom. Right drag: window (left/right) and level (up/down).
- Keys 1-9: window presets (brain, subdural, stroke, soft tissue, lung, abdomen, liver, bone,
  angio); the *Window/Level* menu has all of them and the file's own window.
- Toolbar: 3D preset, window preset, slab thickness and MIP/MinIP/mean, cropping box (drag its
  faces in the 3D view), A/P/L/R/S/I cameras, Reset. *3D > Full-resolution 3D* renders the full
  data instead of the block-averaged copy used for large volumes.
- Status bar: LPS position (mm) and value (HU for CT) under the mouse, the window and preset.
- *File*: open a folder or DICOMDIR (a series browser lists series, sizes, spacing, plane and
  issues), a single ultrasound file, recent files, save a screenshot of the layout (the same
  image ``volumeviz screenshot`` renders for that view).
- Ultrasound files open in a cine view: play/pause at the file's frame rate, frame slider,
  region outlines and cm scale bars; click two points for a distance in cm (refused, with the
  reason, across regions).
"""
