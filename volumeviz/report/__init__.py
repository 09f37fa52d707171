"""volumeviz.report."""
