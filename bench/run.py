"""Runs chaingrad's benchmark suite (same as `python -m chaingrad.bench`)."""

from chaingrad.bench.__main__ import main

if __name__ == "__main__":
    main()
