"""The GPU benchmark suite's code, run on the CPU with tiny sizes: its figures mean nothing here,
but a GPU machine's first run must not be the first time the code runs."""

from __future__ import annotations

import pytest

import chaingrad as cg
from chaingrad.bench import cuda as bench_cuda
from chaingrad.bench.common import Spread


def test_gpu_bench_rows_run_on_the_cpu(monkeypatch):
    monkeypatch.setattr(
        bench_cuda, "mlp_samples_per_second", lambda lib, batch, steps, device, sync: Spread.single(1.0)
    )
    rows = bench_cuda.measure_rows(None, quick=True, device="cpu")
    names = [r.name for r in rows]
    assert any("add of 2^24" in n for n in names) and any("matmul 256" in n for n in names)
    assert any("tiny op" in n for n in names) and any("moons" in n for n in names)
    assert all(r.chaingrad.median > 0 and r.peer is None for r in rows if "copy" not in r.peer_name)


def test_gpu_bench_without_a_gpu_reports_why():
    if cg.cuda.is_available():
        pytest.skip("a CUDA device is present")
    messages = []
    assert bench_cuda.cuda_rows(quick=True, report=messages.append) == []
    assert "skipped" in messages[0]
