"""Runs the nn-zero-to-hero lecture notebooks cell by cell under torch or chaingrad and compares.

Usage:
  python tools/lecture_notebooks.py run DIR... --backend torch|chaingrad --out FILE.json [--steps N]
  python tools/lecture_notebooks.py compare TORCH.json CHAINGRAD.json

`run` executes every code cell of every notebook in DIR in one namespace per notebook, as Jupyter
would, and records what each cell prints (stdout and the repr of its last expression). For
chaingrad it changes only the import lines (and, in the micrograd lecture, replaces each
hand-written `class Value` cell with `from chaingrad import Value`), as the lectures' readers
would. `--steps` caps the long training loops on both backends alike so the run fits in minutes.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import random
import re
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _cells(path: Path) -> list[str]:
    """The source of each code cell of a notebook."""
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _adapt(source: str, backend: str, steps: int | None) -> str:
    """The cell as the backend's reader would run it."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    source = "\n".join(lines)
    if steps is not None:
        source = re.sub(r"max_steps = 200000", f"max_steps = {steps}", source)
        source = re.sub(r"range\(200000\)", f"range({steps})", source)
    if backend == "chaingrad":
        source = _replace_value_class(source)
        source = re.sub(
            r"^(\s*)import torch\.nn\.functional as F\b", r"\1import chaingrad.nn.functional as F", source, flags=re.M
        )
        source = re.sub(r"^(\s*)import torch\s*$", r"\1import chaingrad as torch", source, flags=re.M)
    return source


def _replace_value_class(source: str) -> str:
    """The cell with its hand-written `class Value` block replaced by chaingrad's Value."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines()
    for node in reversed(tree.body):
        if isinstance(node, ast.ClassDef) and node.name == "Value" and node.end_lineno is not None:
            lines[node.lineno - 1 : node.end_lineno] = ["from chaingrad import Value"]
    return "\n".join(lines)


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def _run_cell(source: str, ns: dict[str, Any], timeout: int) -> tuple[str, str]:
    """Runs one cell; returns (status, output) where status is ok, error or timeout."""
    out = io.StringIO()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout)
    try:
        with contextlib.redirect_stdout(out):
            tree = ast.parse(source)
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, "<cell>", "exec"), ns)
            if last is not None:
                value = eval(compile(last, "<cell>", "eval"), ns)
                if value is not None:
                    print(repr(value))
        status = "ok"
    except _Timeout:
        status = "timeout"
    except BaseException:
        status = "error"
        out.write("\n" + traceback.format_exc(limit=-3))
    finally:
        signal.alarm(0)
    try:
        import matplotlib.pyplot as plt

        plt.close("all")
    except ImportError:
        pass
    return status, _ADDRESS.sub(" at 0x", out.getvalue())


def run(directories: list[Path], backend: str, out: Path, steps: int | None, timeout: int) -> None:
    """Runs every notebook in the directories, each from its own folder as Jupyter does (the
    makemore notebooks open names.txt there), and writes the per-cell results."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # the notebooks' plots draw off screen (the lectures need matplotlib)
    except ImportError:
        pass
    results: dict[str, list[dict[str, Any]]] = {}
    home = os.getcwd()
    for path in sorted(p.resolve() for d in directories for p in d.glob("*.ipynb")):
        ns: dict[str, Any] = {"__name__": "__main__"}
        # The micrograd lecture draws its weights with Python's unseeded `random`: seed it alike
        # for both backends so that what follows can be compared.
        random.seed(0)
        # A few cells draw from the global generator without seeding it (torch seeds it from the
        # OS in every process): seed it alike for both backends too.
        __import__("torch" if backend == "torch" else "chaingrad").manual_seed(0)
        os.chdir(path.parent)
        cells = []
        try:
            for i, source in enumerate(_cells(path)):
                start = time.perf_counter()
                status, output = _run_cell(_adapt(source, backend, steps), ns, timeout)
                cells.append({"status": status, "output": output, "seconds": time.perf_counter() - start})
                print(f"{path.name}[{i}] {status} {cells[-1]['seconds']:.1f}s", file=sys.stderr, flush=True)
        finally:
            os.chdir(home)
        results[path.name] = cells
    out.write_text(json.dumps(results, indent=1))


def _renamed(output: str) -> str:
    """chaingrad's output with the library's name written as torch's (`chaingrad.Size([3])`,
    `dtype=chaingrad.int32`): the name a script imported differs, not what it printed."""
    return re.sub(r"\bchaingrad\.", "torch.", output)


def compare(torch_file: Path, ours_file: Path, verbose: bool) -> None:
    """Prints per notebook how many of the cells that run under torch run and print the same under
    chaingrad: exactly, and once the library's name is read as torch's."""
    ref = json.loads(torch_file.read_text())
    ours = json.loads(ours_file.read_text())
    total = [0, 0, 0, 0]
    for name, cells in ref.items():
        counts = [0, 0, 0, 0]  # cells, run, same output, same output but for the library's name
        for i, (r, o) in enumerate(zip(cells, ours.get(name, []))):
            if r["status"] != "ok":
                continue
            ran = o["status"] == "ok"
            exact = ran and o["output"] == r["output"]
            renamed = ran and _renamed(o["output"]) == r["output"]
            counts = [counts[0] + 1, counts[1] + ran, counts[2] + exact, counts[3] + renamed]
            if verbose and not renamed:
                print(f"--- {name}[{i}] {o['status']}")
                print("torch:    " + r["output"][-600:].replace("\n", "\n          "))
                print("chaingrad:" + o["output"][-600:].replace("\n", "\n          "))
        total = [a + b for a, b in zip(total, counts)]
        _report(name, counts)
    _report("all", total)


def _report(name: str, counts: list[int]) -> None:
    print(f"{name:46s} cells {counts[0]:3d}  run {counts[1]:3d}  same {counts[2]:3d}  same but the name {counts[3]:3d}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("directories", type=Path, nargs="+")
    r.add_argument("--backend", choices=["torch", "chaingrad"], required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--steps", type=int, default=None)
    r.add_argument("--timeout", type=int, default=600)
    c = sub.add_parser("compare")
    c.add_argument("torch_file", type=Path)
    c.add_argument("ours_file", type=Path)
    c.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.cmd == "run":
        run(args.directories, args.backend, args.out.resolve(), args.steps, args.timeout)
    else:
        compare(args.torch_file, args.ours_file, args.verbose)


if __name__ == "__main__":
    main()
