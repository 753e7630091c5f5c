"""Deep graphs back up and free without recursion; graphs are freed when unreferenced."""

from __future__ import annotations

import gc

from chaingrad import Value
from chaingrad.bench.common import rss_bytes
from chaingrad.micrograd.nn import MLP
from conftest import skip_unless_rss_measures_leaks


def test_million_node_chain_backward_and_free():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0 + 0.0  # two nodes per step, plus a constant leaf each
    y.backward()
    assert x.grad == 1.0
    del y  # frees ~4,000,000 nodes in a loop: no stack overflow
    assert x.grad == 1.0


def test_million_deep_chain_of_single_op():
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y.relu()
    y.backward()
    assert x.grad == 1.0
    assert y.data == 0.5


def test_deep_chain_freed_while_python_holds_a_middle_node():
    x = Value(1.0)
    y = x
    middle = None
    for i in range(300_000):
        y = y + 1
        if i == 150_000:
            middle = y
    del y
    gc.collect()
    assert middle.data == 150_002.0
    middle.backward()
    assert x.grad == 1.0


def _rss_mib() -> float:
    gc.collect()
    return rss_bytes() / 2**20


def test_graph_memory_is_returned():
    skip_unless_rss_measures_leaks()
    baseline = None
    for _ in range(5):
        x = Value(1.0)
        y = x
        for _ in range(200_000):
            y = y * 1.000001 + x
        y.backward()
        del x, y
        now = _rss_mib()
        baseline = now if baseline is None else baseline
    assert now - baseline < 8, f"RSS grew from {baseline:.1f} to {now:.1f} MiB"


def test_memory_flat_over_1000_training_steps():
    skip_unless_rss_measures_leaks()
    model = MLP(3, [8, 8, 1])
    data = [[0.1 * i, -0.2 * i, 0.05 * i * i] for i in range(8)]
    targets = [1.0 if i % 2 else -1.0 for i in range(8)]

    def step():
        scores = [model(x) for x in data]
        loss = sum((1 + -t * s).relu() for t, s in zip(targets, scores)) * (1.0 / len(data))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.01 * p.grad

    for _ in range(100):
        step()
    start = _rss_mib()
    for _ in range(1000):
        step()
    end = _rss_mib()
    assert end - start < 4, f"RSS grew from {start:.1f} to {end:.1f} MiB over 1000 steps"
