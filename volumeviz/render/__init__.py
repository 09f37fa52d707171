"""volumeviz.render."""
