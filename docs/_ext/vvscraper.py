"""sphinx-gallery image scraper: the PNG files an example wrote are its pictures.

Gallery examples save their figures the way a user would (``scene.save("quad.png")``,
``volumeviz.screenshot(...)`` then ``imageio.imwrite``). After each code block this scraper moves
every PNG that appeared in the example's folder into the gallery's image path, so the pictures on
the page are exactly the files volumeviz wrote, and the source folder stays clean.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def scrape_png_files(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    """Move new PNGs next to the gallery page and return the reST that shows them."""
    from sphinx_gallery.scrapers import figure_rst

    src_dir = Path(block_vars["src_file"]).parent
    images = []
    for png in sorted(src_dir.glob("*.png"), key=lambda p: p.stat().st_mtime):
        target = Path(next(block_vars["image_path_iterator"]))
        shutil.move(str(png), target)
        images.append(str(target))
    return figure_rst(images, gallery_conf["src_dir"])


def _get_sg_image_scraper() -> Any:
    """What sphinx-gallery calls when ``image_scrapers`` names this module."""
    return scrape_png_files
