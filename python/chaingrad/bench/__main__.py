"""Runs the benchmark suite: python -m chaingrad.bench [--quick] [--only SUITE] [--contended] [--json PATH]."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from chaingrad.bench.common import environment, print_table, write_json
from chaingrad.bench.cuda import cuda_rows
from chaingrad.bench.makemore import makemore_rows
from chaingrad.bench.nn import nn_rows
from chaingrad.bench.scalar import scalar_rows
from chaingrad.bench.tensor import tensor_rows


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Measures every row, prints the table and writes the JSON results."""
    parser = argparse.ArgumentParser(description="chaingrad benchmarks, each beside a peer")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--only", choices=["scalar", "tensor", "nn", "makemore", "cuda"], help="run one suite")
    parser.add_argument("--contended", action="store_true",
                        help="also run the MLP rows beside a process that keeps one core busy")
    parser.add_argument("--json", default="bench/results/latest.json", help="where to write results")
    args = parser.parse_args(argv)

    print("environment:", ", ".join(f"{k}={v}" for k, v in environment().items()))
    report = lambda s: print(s, file=sys.stderr)  # noqa: E731
    rows = []
    if args.only in (None, "scalar"):
        rows += scalar_rows(quick=args.quick, report=report)
    if args.only in (None, "tensor"):
        rows += tensor_rows(quick=args.quick, report=report)
    if args.only in (None, "nn"):
        rows += nn_rows(quick=args.quick, report=report, contended=args.contended)
    if args.only in (None, "makemore"):
        rows += makemore_rows(quick=args.quick, report=report)
    if args.only in (None, "cuda"):
        rows += cuda_rows(quick=args.quick, report=report)
    print_table(rows)
    write_json(rows, args.json)
    print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
