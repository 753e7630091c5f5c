"""GPU benchmarks beside PyTorch on the same GPU in one run: elementwise bandwidth against the
device-to-device copy, float32 matmul, tiny-op latency from Python, the MLP with Adam and the tensor
moons demo. Without a CUDA device the suite reports why and measures nothing.

Each measurement takes the device as an argument so that the suite's code can be smoke-tested on
the CPU (tests/test_bench_cuda.py); the figures only mean something on a GPU."""

from __future__ import annotations

import time
from typing import Any, Callable, List, Optional

import chaingrad as cg
from chaingrad.bench.common import Row, Spread, median_of, median_time
from chaingrad.bench.nn import mlp_samples_per_second

__all__ = ["cuda_rows", "measure_rows"]


def _cuda_torch() -> Optional[Any]:
    """PyTorch when it is installed with a usable GPU, else None."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 means float32 on both sides
    return torch


def _sync(lib: Any, device: str) -> Callable[[], None]:
    """Waits for lib's kernels on device (nothing to wait for on the CPU)."""
    return lib.cuda.synchronize if device != "cpu" else (lambda: None)


def _seconds(fn: Callable[[], object], sync: Callable[[], None], repeats: int) -> Spread:
    """Seconds of fn() over repeats runs with the device drained before and after each run."""

    def run() -> None:
        fn()
        sync()

    sync()
    run()  # warm-up: first launches, cuBLAS heuristics, the allocator's blocks
    return median_time(run, repeats)


def _elementwise_rows(torch: Any, quick: bool, device: str, log2n: int) -> List[Row]:
    n = 1 << log2n
    reps = 5 if quick else 20
    a, b = cg.rand(n, device=device), cg.rand(n, device=device)
    add_gbs = 3 * 4 * n / _seconds(lambda: a + b, _sync(cg, device), reps) / 1e9
    extra = {}
    if torch is not None:  # the copy ceiling: torch's device-to-device copy_ of the same size
        ta, tb = torch.rand(n, device=device), torch.empty(n, device=device)
        copy_gbs = 2 * 4 * n / _seconds(lambda: tb.copy_(ta), _sync(torch, device), reps) / 1e9
        extra["torch add GB/s"] = (3 * 4 * n / _seconds(lambda: ta + ta, _sync(torch, device), reps) / 1e9).median
    else:  # without torch, our own copy kernel stands in for the ceiling
        copy_gbs = 2 * 4 * n / _seconds(lambda: a.clone(), _sync(cg, device), reps) / 1e9
    return [
        Row(
            f"add of 2^{log2n} float32 (bar: 0.8 of copy)",
            "GB/s",
            add_gbs,
            "device-to-device copy",
            copy_gbs,
            higher_is_better=True,
            extra=extra,
        )
    ]


def _matmul_rows(torch: Any, device: str, sizes: List[int]) -> List[Row]:
    rows = []
    for n in sizes:
        a, b = cg.randn(n, n, device=device), cg.randn(n, n, device=device)
        reps = 3 if n >= 4096 else 10
        mine = 2 * n**3 / _seconds(lambda: a @ b, _sync(cg, device), reps) / 1e12
        peer = None
        if torch is not None:
            ta, tb = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
            peer = 2 * n**3 / _seconds(lambda: ta @ tb, _sync(torch, device), reps) / 1e12
        rows.append(
            Row(
                f"float32 matmul {n} (bar: 0.9x torch; cuBLAS: {cg.cuda.cublas_status() or 'yes'})",
                "TFLOP/s",
                mine,
                "torch",
                peer,
                higher_is_better=True,
            )
        )
    return rows


def _tiny_op_rows(torch: Any, device: str, ops: int) -> List[Row]:
    def per_op(lib: Any) -> Spread:
        x = lib.ones(3, device=device)
        sync = _sync(lib, device)

        def run() -> None:
            for _ in range(ops):
                x + x
            sync()

        run()
        return median_time(run, 5) / ops * 1e6

    return [
        Row(
            "tiny op a + a on (3,) from Python, launch included (bar: 0.7x torch)",
            "us/op",
            per_op(cg),
            "torch",
            per_op(torch) if torch is not None else None,
        )
    ]


def _mlp_rows(torch: Any, device: str, steps: int) -> List[Row]:
    rows = []
    for batch, bar in ((128, "1.2x"), (4096, "1x")):
        mine = mlp_samples_per_second(cg, batch, steps, device, _sync(cg, device))
        peer = mlp_samples_per_second(torch, batch, steps, device, _sync(torch, device)) if torch else None
        rows.append(
            Row(
                f"MLP 784-256-256-10 on {device}, batch {batch}, Adam (bar: {bar} torch)",
                "samples/s",
                mine,
                "torch",
                peer,
                higher_is_better=True,
            )
        )
    return rows


def _moons_seconds(lib: Any, device: str, steps: int) -> float:
    """The tensor moons demo's training loop (MLP 2-16-16-1, max-margin loss, SGD, the accuracy read
    back every step as the demo prints it) on device."""
    from chaingrad.demos.moons import moons_data

    X_np, y_np = moons_data()
    lib.manual_seed(1337)
    X = lib.tensor(X_np, dtype=lib.float32).to(device)
    y = lib.tensor(y_np, dtype=lib.float32).to(device)
    model = lib.nn.Sequential(
        lib.nn.Linear(2, 16), lib.nn.ReLU(), lib.nn.Linear(16, 16), lib.nn.ReLU(), lib.nn.Linear(16, 1)
    ).to(device)
    optimizer = lib.optim.SGD(model.parameters(), lr=1.0)
    start = time.perf_counter()
    for k in range(steps):
        scores = model(X).squeeze(-1)
        loss = (1 - y * scores).relu().mean()
        ((y > 0) == (scores > 0)).long().sum().item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.param_groups[0]["lr"] = 1.0 - 0.9 * k / steps
        optimizer.step()
    loss.item()
    return time.perf_counter() - start


def measure_rows(torch: Any, quick: bool, device: str) -> List[Row]:
    """Every GPU row on device, with torch (on the same device) as the peer when given."""
    rows = _elementwise_rows(torch, quick, device, 24 if quick else 26)
    rows += _matmul_rows(torch, device, [256] if device == "cpu" else [1024, 4096] if quick else [1024, 4096, 8192])
    rows += _tiny_op_rows(torch, device, 2000 if quick else 20000)
    rows += _mlp_rows(torch, device, 10 if quick else 50)
    steps = 20 if quick else 100
    mine = median_of([_moons_seconds(cg, device, steps) for _ in range(3)])
    peer = median_of([_moons_seconds(torch, device, steps) for _ in range(3)]) if torch else None
    rows.append(Row(f"tensor moons demo on {device}, {steps} steps", "s", mine, "torch", peer))
    return rows


def cuda_rows(quick: bool = False, report: Callable[[str], None] = print) -> List[Row]:
    """Measures the GPU rows beside PyTorch on the same GPU; none without a CUDA device."""
    if not cg.cuda.is_available():
        report(f"cuda: skipped ({cg.cuda.unavailable_reason()})")
        return []
    torch = _cuda_torch()
    report(f"cuda: {cg.cuda.get_device_name()}; torch {'on the same GPU' if torch else 'not available'} ...")
    return measure_rows(torch, quick, "cuda")
