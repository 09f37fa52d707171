"""The ``volumeviz`` command line: thin faces over the Python API."""
