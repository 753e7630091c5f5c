"""The notes' programs, each runnable as `python -m chaingrad.demos.<name>`."""
