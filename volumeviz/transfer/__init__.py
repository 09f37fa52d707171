"""volumeviz.transfer."""
