"""Runs the benchmark suite: python -m chaingrad.bench [--quick] [--only SUITE] [--out DIR] [--compare OLD.json]."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import chaingrad as cg
from chaingrad.bench.charts import have_matplotlib, write_charts
from chaingrad.bench.common import Row, set_repeat_hook
from chaingrad.bench.compare import NOISE_FLOOR, compare_results, comparison_table
from chaingrad.bench.cuda import cuda_rows
from chaingrad.bench.makemore import makemore_rows
from chaingrad.bench.nn import nn_rows
from chaingrad.bench.progress import Progress, expected_seconds, format_duration
from chaingrad.bench.report import markdown_report, suites_in
from chaingrad.bench.results import (
    BenchResultsError,
    build_results,
    environment,
    load_average,
    load_results,
    now_utc,
    write_results,
)
from chaingrad.bench.scalar import scalar_rows
from chaingrad.bench.tables import SUITE_TITLES, readme_table, suite_table
from chaingrad.bench.tensor import tensor_rows

SUITES = ["scalar", "tensor", "nn", "makemore", "cuda"]
_RUNNERS: Dict[str, Callable[..., List[Row]]] = {
    "scalar": scalar_rows,
    "tensor": tensor_rows,
    "nn": nn_rows,
    "makemore": makemore_rows,
    "cuda": cuda_rows,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chaingrad.bench",
        description="chaingrad's benchmarks, each measured beside a peer (micrograd, PyTorch on the CPU, numpy) "
        "in the same run and given as a ratio: above 1x chaingrad is faster (or smaller).",
        epilog="--compare flags a row when its old and new ranges (min–max over the repeats, each widened to at "
        f"least ±{NOISE_FLOOR:.0%} of its median) do not overlap.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes (a smoke run)")
    parser.add_argument("--only", choices=SUITES, help="run one suite")
    parser.add_argument(
        "--contended", action="store_true", help="also run the MLP rows beside a process that keeps one core busy"
    )
    parser.add_argument(
        "--out",
        default="chaingrad-bench",
        metavar="DIR",
        help="folder for results.json, report.md and the charts (default: ./chaingrad-bench)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write results.json's content to PATH")
    parser.add_argument(
        "--compare",
        nargs="+",
        metavar="RESULTS.json",
        help="OLD.json: compare this run with an earlier one; OLD.json NEW.json: compare two "
        "earlier runs without measuring",
    )
    parser.add_argument(
        "--markdown-table",
        metavar="RESULTS.json",
        help="print the README's table (with when and where it was measured) of a results.json and exit",
    )
    return parser


def _suites(only: Optional[str]) -> List[str]:
    """The suites to run; a GPU suite without a GPU is said and left out."""
    suites = [only] if only else list(SUITES)
    if "cuda" in suites and not cg.cuda.is_available():
        print(f"cuda: skipped ({cg.cuda.unavailable_reason()})")
        suites.remove("cuda")
    return suites


def _measure(args: argparse.Namespace, suites: List[str], threads: List[int]) -> Tuple[List[Row], Dict[str, float]]:
    """Runs the suites under a progress line; returns their rows, each tagged with its suite, and each
    suite's seconds."""
    plan = [(s, expected_seconds(s, args.quick, len(threads), args.contended)) for s in suites]
    progress = Progress(plan)
    set_repeat_hook(progress.tick)
    rows: List[Row] = []
    durations: Dict[str, float] = {}
    try:
        for suite in suites:
            progress.start_suite(suite)
            start = time.perf_counter()
            options: Dict[str, Any] = {"contended": args.contended} if suite == "nn" else {}
            for row in _RUNNERS[suite](quick=args.quick, report=progress.phase, **options):
                row.suite = suite
                rows.append(row)
            durations[suite] = time.perf_counter() - start
    finally:
        set_repeat_hook(None)
        total = progress.finish()
    print(f"measured {len(rows)} rows in {format_duration(total)}")
    return rows, durations


def _print_tables(results: Mapping[str, Any]) -> None:
    for suite, rows in suites_in(results).items():
        print(f"\n{SUITE_TITLES.get(suite, suite)}\n")
        print(suite_table(rows))
    print()


def _print_comparison(old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    print(comparison_table(compare_results(old, new)))
    if bool(old.get("quick")) != bool(new.get("quick")):
        print("note: one run is --quick and the other is not; their sizes and repeats differ")


def _write_outputs(results: Dict[str, Any], out: str, json_copy: Optional[str]) -> List[str]:
    """results.json, charts when matplotlib is there, and report.md in out; returns what was written."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "results.json")
    written = []
    if os.path.exists(path):  # the last run stays comparable: --compare DIR/results.previous.json
        os.replace(path, os.path.join(out, "results.previous.json"))
        written.append("results.previous.json (the run before)")
    write_results(results, path)
    written.append("results.json")
    charts: Dict[str, str] = {}
    notes = []
    if have_matplotlib():
        charts = write_charts(results, out)
        written += list(charts.values())
    else:
        notes.append("No charts: matplotlib is not installed (pip install matplotlib).")
        print("charts skipped: matplotlib is not installed (pip install matplotlib)")
    with open(os.path.join(out, "report.md"), "w", encoding="utf-8") as f:
        f.write(markdown_report(results, charts, notes))
    written.insert(written.index("results.json") + 1, "report.md")
    if json_copy:
        write_results(results, json_copy)
    return written


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Measures every row, prints the tables and writes results.json, report.md and the charts to --out."""
    parser = _parser()
    args = parser.parse_args(argv)
    # µ, – and → in a log file on a legacy code page: replaced rather than an error at the end of a long run
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    try:
        if args.markdown_table:
            print(readme_table(load_results(args.markdown_table)))
            return
        if args.compare and len(args.compare) > 2:
            parser.error("--compare takes OLD.json, or OLD.json NEW.json")
        old = load_results(args.compare[0]) if args.compare else None  # read now, not after a long run
        if old is not None and len(args.compare) == 2:
            _print_comparison(old, load_results(args.compare[1]))
            return
    except BenchResultsError as e:
        parser.error(str(e))

    out = os.path.abspath(args.out)
    if os.path.exists(out) and not os.path.isdir(out):  # found now rather than after the run
        parser.error(f"--out {args.out} is a file; it names the folder for results.json, report.md and the charts")
    print(f"chaingrad bench: results go to {out}{os.sep}")
    suites = _suites(args.only)
    default_threads = cg.get_num_threads()
    threads = sorted({1, default_threads})
    env = environment(sys.argv[1:] if argv is None else list(argv), threads)
    env["started_utc"], env["load_average_before"] = now_utc(), load_average()
    rows, durations = _measure(args, suites, threads)
    env["finished_utc"], env["load_average_after"] = now_utc(), load_average()

    results = build_results(rows, env, durations, args.quick)
    written = _write_outputs(results, out, args.json)
    _print_tables(results)
    if old is not None:
        print(f"compared with {args.compare[0]}:\n")
        _print_comparison(old, results)
        print()
    print(f"written to {out}{os.sep}: {', '.join(written)}")


if __name__ == "__main__":
    main()
