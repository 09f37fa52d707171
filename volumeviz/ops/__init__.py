"""volumeviz.ops."""
