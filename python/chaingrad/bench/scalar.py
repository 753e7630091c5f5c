"""Scalar-engine benchmarks against micrograd: the moons training step, graph build, backward, memory."""

from __future__ import annotations

import gc
import subprocess
import sys
from typing import Any, Callable, List, Optional, Tuple

from chaingrad.bench.common import Row, Spread, median_time, rss_bytes

__all__ = ["scalar_rows"]

TREE_LEAVES = 1 << 15  # 2**15 products summed pairwise: ~98k nodes, depth 16 (micrograd's recursion copes)


def _micrograd() -> Optional[Tuple[Any, Any]]:
    try:
        from micrograd.engine import Value
        from micrograd.nn import MLP
    except ImportError:
        return None
    return Value, MLP


def _moons_step_seconds(value: Any, mlp: Any, repeats: int) -> Spread:
    from chaingrad.demos.moons import moons_data, moons_loss

    X, y = moons_data()
    model = mlp(2, [16, 16, 1])

    def step() -> None:
        total_loss, _ = moons_loss(model, X, y, value)
        model.zero_grad()
        total_loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad

    step()  # warm-up
    return median_time(step, repeats)


def _build_tree(value: Any, n: int) -> Any:
    xs = [value(0.001 * i) for i in range(n)]
    ws = [value(1.0 - 0.0005 * i) for i in range(n)]
    level = [w * x for w, x in zip(ws, xs)]
    while len(level) > 1:
        level = [level[i] + level[i + 1] for i in range(0, len(level), 2)]
    return level[0]


def _tree_nodes(n: int) -> int:
    return 2 * n + n + (n - 1)  # leaves, products, pairwise sums


def _build_and_backward_ns(value: Any, repeats: int) -> Tuple[Spread, Spread]:
    nodes = _tree_nodes(TREE_LEAVES)
    build = median_time(lambda: _build_tree(value, TREE_LEAVES), repeats)
    holder: List[Any] = []
    backward = median_time(
        lambda: holder[-1].backward(), repeats, setup=lambda: holder.append(_build_tree(value, TREE_LEAVES))
    )
    return build / nodes * 1e9, backward / nodes * 1e9


def measure_bytes_per_node(engine: str) -> float:
    """RSS growth per node while a 393k-node graph of `engine` ('chaingrad' or 'micrograd') is alive."""
    if engine == "chaingrad":
        from chaingrad import Value
    else:
        from micrograd.engine import Value  # type: ignore[no-redef]
    gc.collect()
    before = rss_bytes()
    root = _build_tree(Value, TREE_LEAVES * 4)
    after = rss_bytes()
    del root
    return (after - before) / _tree_nodes(TREE_LEAVES * 4)


def _bytes_per_node(engine: str) -> Spread:
    # A fresh process: memory freed by earlier rows would otherwise be reused and hide the growth.
    code = f"from chaingrad.bench.scalar import measure_bytes_per_node as m; print(m({engine!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # the last line: an editable install that rebuilds on import may print before it
    return Spread.single(float(done.stdout.split()[-1]))


def scalar_rows(quick: bool = False, report: Callable[[str], None] = print) -> List[Row]:
    """Measures chaingrad and, when installed, micrograd side by side."""
    from chaingrad import Value
    from chaingrad.micrograd.nn import MLP

    peer = _micrograd()
    reps = 3 if quick else 7
    rows = []

    report("moons training step ...")
    mine = _moons_step_seconds(Value, MLP, 10 if quick else 30)
    theirs = _moons_step_seconds(peer[0], peer[1], 1 if quick else 3) if peer else None
    rows.append(Row("moons demo: one training step", "s/step", mine, "micrograd", theirs))

    report("graph build and backward ...")
    build, backward = _build_and_backward_ns(Value, reps)
    p_build = p_backward = None
    if peer:
        p_build, p_backward = _build_and_backward_ns(peer[0], max(1, reps // 2))
    rows.append(Row("build a graph from Python", "ns/node", build, "micrograd", p_build))
    rows.append(Row("backward()", "ns/node", backward, "micrograd", p_backward))

    report("memory ...")
    rows.append(
        Row(
            "graph memory (RSS growth)",
            "bytes/node",
            _bytes_per_node("chaingrad"),
            "micrograd",
            _bytes_per_node("micrograd") if peer else None,
        )
    )
    return rows
