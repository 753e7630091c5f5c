"""nn/optim benchmarks beside PyTorch in one run: the notes' regressions and an MLP with Adam."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import chaingrad as cg
from chaingrad.bench.common import Row, Spread, busy_neighbour, median_time, python_calls, set_threads

__all__ = ["nn_rows", "mlp_samples_per_second", "mlp_step"]


def _torch() -> Optional[Any]:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _regression_problem(lib: Any) -> Tuple[Any, Any, Any, Any]:
    """The notes' cubic fit: inputs (x, x^2, x^3), targets, Linear(3, 1) + Flatten, summed MSE."""
    x = lib.linspace(-math.pi, math.pi, 2000)
    y = 0 + 1 * x + 2 * x**2 + 3 * x**3
    xx = x.unsqueeze(-1).pow(lib.tensor([1, 2, 3]))
    model = lib.nn.Sequential(lib.nn.Linear(3, 1), lib.nn.Flatten(0, 1))
    return xx, y, model, lib.nn.MSELoss(reduction="sum")


def _rmsprop_step(lib: Any, **options: Any) -> Callable[[], None]:
    """One step of the notes' RMSprop fit (options go to the optimizer: foreach=True for torch)."""
    xx, y, model, loss_fn = _regression_problem(lib)
    optimizer = lib.optim.RMSprop(model.parameters(), lr=1e-3, **options)

    def step() -> None:
        loss = loss_fn(model(xx), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def _manual_sgd_step(lib: Any) -> Callable[[], None]:
    """One step of the notes' fit with the update written by hand under no_grad."""
    xx, y, model, loss_fn = _regression_problem(lib)

    def step() -> None:
        loss = loss_fn(model(xx), y)
        model.zero_grad()
        loss.backward()
        with lib.no_grad():
            for param in model.parameters():
                param -= 1e-6 * param.grad

    return step


def _repeated(step: Callable[[], None], steps: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(steps):
            step()

    return run


def mlp_step(lib: Any, batch: int, device: str = "cpu", **options: Any) -> Callable[[], None]:
    """One training step of an MLP 784-256-256-10 with cross-entropy and Adam on device (options go
    to the optimizer: fused=True for torch)."""
    rng = np.random.default_rng(0)
    X = lib.tensor(rng.standard_normal((batch, 784)).astype(np.float32)).to(device)
    y = lib.tensor(rng.integers(0, 10, batch)).to(device)
    model = lib.nn.Sequential(
        lib.nn.Linear(784, 256), lib.nn.ReLU(), lib.nn.Linear(256, 256), lib.nn.ReLU(), lib.nn.Linear(256, 10)
    ).to(device)
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3, **options)

    def step() -> None:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def mlp_samples_per_second(
    lib: Any, batch: int, steps: int, device: str = "cpu", sync: Callable[[], None] = lambda: None, **options: Any
) -> Spread:
    """Training throughput of mlp_step (sync waits for the device before the clock stops)."""
    step = mlp_step(lib, batch, device, **options)
    run = _repeated(step, steps)
    step()
    sync()

    def run_and_sync() -> None:
        run()
        sync()

    return batch * steps / median_time(run_and_sync, 5)


def _regression_rows(torch: Any, quick: bool) -> List[Row]:
    """The notes' two regressions at 1 thread, beside torch eager and torch's foreach RMSprop."""
    rms_steps, sgd_steps = (1000, 200) if quick else (10_000, 2_000)
    reps = 1 if quick else 3
    rows = []
    mine = median_time(_repeated(_rmsprop_step(cg), rms_steps), reps)
    label = f"RMSprop regression, {rms_steps} steps on 2000 points, 1 thread"
    rows.append(
        Row(label, "s", mine, "torch", median_time(_repeated(_rmsprop_step(torch), rms_steps), reps) if torch else None)
    )
    rows.append(
        Row(
            label,
            "s",
            mine,
            "torch foreach=True",
            median_time(_repeated(_rmsprop_step(torch, foreach=True), rms_steps), reps) if torch else None,
        )
    )
    mine = median_time(_repeated(_manual_sgd_step(cg), sgd_steps), reps)
    rows.append(
        Row(
            f"manual SGD regression, {sgd_steps} steps, 1 thread",
            "s",
            mine,
            "torch",
            median_time(_repeated(_manual_sgd_step(torch), sgd_steps), reps) if torch else None,
        )
    )
    return rows


def _call_rows(torch: Any) -> List[Row]:
    """How many Python-level calls (Python functions and builtins) one training step makes."""
    rows = []
    for label, make in (("RMSprop regression step", _rmsprop_step), ("MLP step", lambda lib: mlp_step(lib, 128))):
        step = make(cg)
        step()
        mine = Spread.single(python_calls(step))
        peer = None
        if torch is not None:
            theirs = make(torch)
            theirs()
            peer = Spread.single(python_calls(theirs))
        rows.append(Row(f"Python-level calls per {label}", "calls", mine, "torch", peer))
    return rows


def _mlp_rows(torch: Any, threads: Sequence[int], steps: int, suffix: str = "") -> List[Row]:
    """The MLP's throughput at each thread count beside torch eager and torch's fused Adam."""
    rows = []
    for n in threads:
        set_threads(torch, n)
        label = f"MLP 784-256-256-10, batch 128, Adam, {n} thread(s){suffix}"
        mine = mlp_samples_per_second(cg, 128, steps)
        peers: Tuple[Tuple[str, Dict[str, Any]], ...] = (("torch", {}), ("torch fused=True", {"fused": True}))
        for peer_name, options in peers:
            peer = mlp_samples_per_second(torch, 128, steps, **options) if torch else None
            rows.append(Row(label, "samples/s", mine, peer_name, peer, higher_is_better=True))
    return rows


def nn_rows(quick: bool = False, report: Callable[[str], None] = print, contended: bool = False) -> List[Row]:
    """Measures the notes' nn/optim programs and an MLP beside PyTorch (when installed); with
    contended, the MLP again while a busy neighbour process spins on one core."""
    torch = _torch()
    default_threads = cg.get_num_threads()
    threads = sorted({1, default_threads})
    steps = 5 if quick else 20
    report("regressions ...")
    set_threads(torch, 1)
    rows = _regression_rows(torch, quick)
    rows += _call_rows(torch)
    report("MLP 784-256-256-10 with Adam ...")
    rows += _mlp_rows(torch, threads, steps)
    if contended:
        report("MLP again beside a busy neighbour ...")
        with busy_neighbour():
            rows += _mlp_rows(torch, threads, steps, ", busy neighbour")
    set_threads(torch, default_threads)
    return rows
