"""nn/optim benchmarks beside PyTorch in one run: the notes' regressions and an MLP with Adam."""

from __future__ import annotations

import math
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

import chaingrad as cg
from chaingrad.bench.common import Row, median_time

__all__ = ["nn_rows", "mlp_samples_per_second"]


def _torch() -> Optional[Any]:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _regression_problem(lib: Any) -> Tuple[Any, Any, Any, Any]:
    """The notes' cubic fit: inputs (x, x^2, x^3), targets, Linear(3, 1) + Flatten, summed MSE."""
    x = lib.linspace(-math.pi, math.pi, 2000)
    y = 0 + 1 * x + 2 * x ** 2 + 3 * x ** 3
    xx = x.unsqueeze(-1).pow(lib.tensor([1, 2, 3]))
    model = lib.nn.Sequential(lib.nn.Linear(3, 1), lib.nn.Flatten(0, 1))
    return xx, y, model, lib.nn.MSELoss(reduction="sum")


def _regression_rmsprop(lib: Any, steps: int) -> None:
    xx, y, model, loss_fn = _regression_problem(lib)
    optimizer = lib.optim.RMSprop(model.parameters(), lr=1e-3)
    for _ in range(steps):
        loss = loss_fn(model(xx), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _regression_manual_sgd(lib: Any, steps: int) -> None:
    xx, y, model, loss_fn = _regression_problem(lib)
    for _ in range(steps):
        loss = loss_fn(model(xx), y)
        model.zero_grad()
        loss.backward()
        with lib.no_grad():
            for param in model.parameters():
                param -= 1e-6 * param.grad


def mlp_samples_per_second(lib: Any, batch: int, steps: int, device: str = "cpu",
                           sync: Callable[[], None] = lambda: None) -> float:
    """Training throughput of an MLP 784-256-256-10 with cross-entropy and Adam on device (sync
    waits for the device before the clock stops)."""
    rng = np.random.default_rng(0)
    X = lib.tensor(rng.standard_normal((batch, 784)).astype(np.float32)).to(device)
    y = lib.tensor(rng.integers(0, 10, batch)).to(device)
    model = lib.nn.Sequential(lib.nn.Linear(784, 256), lib.nn.ReLU(), lib.nn.Linear(256, 256), lib.nn.ReLU(),
                              lib.nn.Linear(256, 10)).to(device)
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def run() -> None:
        for _ in range(steps):
            step()
        sync()

    step()
    sync()
    return batch * steps / median_time(run, 5)


def _set_threads(torch: Any, n: int) -> None:
    cg.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


def nn_rows(quick: bool = False, report: Callable[[str], None] = print) -> List[Row]:
    """Measures the notes' nn/optim programs and an MLP beside PyTorch (when installed)."""
    torch = _torch()
    rows = []
    default_threads = cg.get_num_threads()
    _set_threads(torch, default_threads)
    report("regressions ...")
    rms_steps, sgd_steps = (1000, 200) if quick else (10_000, 2_000)
    for label, fn, steps in ((f"RMSprop regression, {rms_steps} steps on 2000 points", _regression_rmsprop, rms_steps),
                             (f"manual SGD regression, {sgd_steps} steps", _regression_manual_sgd, sgd_steps)):
        reps = 1 if quick else 3
        mine = median_time(lambda: fn(cg, steps), reps)
        peer = median_time(lambda: fn(torch, steps), reps) if torch else None
        rows.append(Row(label, "s", mine, "torch", peer))
    report("MLP 784-256-256-10 with Adam ...")
    for threads in (1, default_threads):
        _set_threads(torch, threads)
        mine = mlp_samples_per_second(cg, 128, 5 if quick else 20)
        peer = mlp_samples_per_second(torch, 128, 5 if quick else 20) if torch else None
        rows.append(Row(f"MLP 784-256-256-10, batch 128, Adam, {threads} thread(s)", "samples/s", mine, "torch",
                        peer, higher_is_better=True))
    _set_threads(torch, default_threads)
    return rows
