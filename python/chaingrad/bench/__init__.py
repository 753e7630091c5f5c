"""chaingrad's benchmark suite: each row is measured beside a peer in the same run and given as a ratio.

Run it with `python -m chaingrad.bench` (or `python bench/run.py`): it shows a progress line, prints a
table per suite and writes results.json, report.md and (with matplotlib) a chart per suite into
--out (./chaingrad-bench by default); `--compare OLD.json` sets a run beside an earlier one. Peers
are optional: a row whose peer is not installed is still measured for chaingrad and marked "peer missing".
"""
