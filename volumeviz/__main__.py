"""``python -m volumeviz``."""

from volumeviz.cli.main import main

main()
