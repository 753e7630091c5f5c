"""Tensor-engine benchmarks beside PyTorch (CPU, same thread count) and numpy, in one run."""

from __future__ import annotations

import timeit
from typing import Any, Callable, List, Optional

import chaingrad as cg
from chaingrad.bench.common import Row, Spread, median_of, median_time, set_threads

__all__ = ["tensor_rows"]


def _torch() -> Optional[Any]:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(cg.get_num_threads())
    return torch


def _per_call_ns(stmt: str, env: dict, number: int) -> Spread:
    """The time per call over 5 repeats, in ns."""
    runs = timeit.repeat(stmt, globals=env, number=number, repeat=5)
    return median_of(runs) / number * 1e9


def _tiny_rows(torch: Any, quick: bool) -> List[Row]:
    rows = []
    number = 5_000 if quick else 50_000
    for shape in [(), (3,)]:
        ours = {"a": cg.ones(shape), "b": cg.ones(shape)}
        theirs = {"a": torch.ones(shape), "b": torch.ones(shape)} if torch else None
        for label, stmt in [("a + b", "a + b"), ("a * 2.0", "a * 2.0"), ("a.exp()", "a.exp()"), ("a.sum()", "a.sum()")]:
            mine = _per_call_ns(stmt, ours, number)
            peer = _per_call_ns(stmt, theirs, number) if theirs else None
            rows.append(Row(f"tiny op {label}, shape {shape}", "ns/op", mine, "torch", peer))
    return rows


def _elementwise_rows(torch: Any, quick: bool, threads: int) -> List[Row]:
    n = 1_000_000
    chains = {
        "arithmetic chain (x*2+1).relu()*x - x/3": "((x * 2 + 1).relu() * x - x / 3)",
        "transcendental chain (x.exp()*x).tanh().sigmoid()": "(x.exp() * x).tanh().sigmoid()",
    }
    rows = []
    reps = 5 if quick else 20
    for label, stmt in chains.items():
        mine = _per_call_ns(stmt, {"x": cg.randn(n)}, reps)
        peer = _per_call_ns(stmt, {"x": torch.randn(n)}, reps) if torch else None
        rows.append(
            Row(
                f"1M float32 {label}, {threads} thread(s)",
                "ms",
                mine / 1e6,
                "torch",
                None if peer is None else peer / 1e6,
            )
        )
    return rows


def _matmul_rows(quick: bool) -> List[Row]:
    rows = []
    for n in (256, 512, 1024):
        a, b = cg.randn(n, n), cg.randn(n, n)
        an, bn = a.numpy(), b.numpy()
        reps = 3 if quick else (20 if n < 1024 else 8)
        mine = median_time(lambda: a @ b, reps)
        peer = median_time(lambda: an @ bn, reps)
        flop = 2 * n**3
        rows.append(
            Row(
                f"float32 matmul {n}x{n}",
                "GFLOP/s",
                flop / mine / 1e9,
                "numpy",
                flop / peer / 1e9,
                higher_is_better=True,
            )
        )
    return rows


def _autograd2(lib: Any) -> None:
    x = lib.tensor([1.0, 3.0], requires_grad=True)
    n = x.norm()
    f = n * n
    f.backward()


def _torchgd1(lib: Any, steps: int) -> None:
    x = lib.tensor(0.5, requires_grad=True)
    for _ in range(steps):
        loss = x * x - 4 * x + 4
        loss.backward()
        with lib.no_grad():
            x -= 1e-3 * x.grad
            x.grad = None


def _script_rows(torch: Any, quick: bool) -> List[Row]:
    steps = 500 if quick else 5000
    runs: List[tuple] = [
        ("notes' autograd2.py, one run", "us", lambda lib: _autograd2(lib), 1e6, 200),
        (f"notes' torchGd1.py loop, {steps} steps", "ms", lambda lib: _torchgd1(lib, steps), 1e3, 1 if quick else 3),
    ]
    rows = []
    for label, unit, fn, scale, reps in runs:
        mine = median_time(lambda: fn(cg), reps) * scale
        peer = median_time(lambda: fn(torch), reps) * scale if torch else None
        rows.append(Row(label, unit, mine, "torch", peer))
    return rows


def tensor_rows(quick: bool = False, report: Callable[[str], None] = print) -> List[Row]:
    """Measures the tensor engine beside PyTorch (when installed) and numpy."""
    torch = _torch()
    report("tiny ops ...")
    rows = _tiny_rows(torch, quick)
    default_threads = cg.get_num_threads()
    for n in sorted({1, default_threads}):
        set_threads(torch, n)
        report(f"elementwise on 1M elements, {n} thread(s) ...")
        rows += _elementwise_rows(torch, quick, n)
    set_threads(torch, default_threads)
    report("matmul ...")
    rows += _matmul_rows(quick)
    report("the notes' scripts ...")
    rows += _script_rows(torch, quick)
    return rows
