"""Sphinx configuration of the volumeviz documentation (built offline in CI: ``scripts/docs.sh``).

The command pages are generated from the click commands at build time (:mod:`clipages`), the API
reference from the docstrings (autodoc + napoleon, numpydoc style) and the gallery by running the
scripts in ``docs/examples`` (sphinx-gallery), whose pictures are rendered by volumeviz from the
bundled ``assets/`` (and from ``$VOLUMEVIZ_SHARED_DATA`` when it is set).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

import volumeviz  # noqa: E402

project = "volumeviz"
author = "the volumeviz authors"
copyright = "the volumeviz authors"  # noqa: A001 - Sphinx's name
release = version = volumeviz.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_click",
    "sphinx_gallery.gen_gallery",
    "clipages",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "examples/README.txt"]
html_theme = "alabaster"
html_theme_options = {
    "description": "Medical images in 3D, the right way round",
    "fixed_sidebar": True,
}
html_static_path: list[str] = []
html_title = f"volumeviz {release}"

# numpydoc-style docstrings through napoleon; public API only
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" as a field list: no duplicate of the dataclass fields
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
# type hints name classes the reference does not document (numpy, pyvista): not a broken link
nitpicky = False
suppress_warnings = ["autodoc.import_object"]

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "image_scrapers": ("vvscraper",),
    "reset_modules": (),
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 3600,
}
