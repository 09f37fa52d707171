"""volumeviz.io."""
