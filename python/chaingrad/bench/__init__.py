"""chaingrad's benchmark suite: each row is measured beside a peer in the same run and given as a ratio.

Run it with `python -m chaingrad.bench` (or `python bench/run.py`). Peers are optional: a row whose
peer is not installed is still measured for chaingrad and marked "peer missing".
"""
