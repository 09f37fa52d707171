"""volumeviz.app."""
