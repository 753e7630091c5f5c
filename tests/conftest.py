"""Shared test helpers: finite differences and optional peers (torch, micrograd)."""

from __future__ import annotations

import os
from typing import Callable, List, Sequence

import numpy as np
import pytest

from chaingrad.bench.common import rss_bytes


def central_difference(f: Callable[[List[float]], float], xs: Sequence[float],
                       eps: float = 1e-6) -> List[float]:
    """d f / d x_i at xs by central differences in float64."""
    grads = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += eps
        down[i] -= eps
        grads.append((f(up) - f(down)) / (2 * eps))
    return grads


def central_difference_arrays(f: Callable[[List[np.ndarray]], float], arrays: Sequence[np.ndarray],
                              eps: float = 1e-6) -> List[np.ndarray]:
    """d f / d arrays[i][idx] for every element of every array, by central differences in float64."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            up, down = [x.copy() for x in arrays], [x.copy() for x in arrays]
            up[i][idx] += eps
            down[i][idx] -= eps
            g[idx] = (f(up) - f(down)) / (2 * eps)
        grads.append(g)
    return grads


@pytest.fixture
def torch():
    """PyTorch, or a clean skip where it is not installed."""
    return pytest.importorskip("torch")


@pytest.fixture
def micrograd_engine():
    """micrograd.engine (the PyPI package), or a clean skip where it is not installed."""
    return pytest.importorskip("micrograd.engine")


@pytest.fixture
def micrograd_nn():
    """micrograd.nn (the PyPI package), or a clean skip where it is not installed."""
    return pytest.importorskip("micrograd.nn")


def _cuda_skip_reason() -> str:
    import chaingrad
    return "" if chaingrad.cuda.is_available() else "no CUDA device: " + chaingrad.cuda.unavailable_reason()


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Each device test runs on the CPU and on CUDA; the CUDA case skips, with the reason, without one."""
    if request.param == "cuda":
        reason = _cuda_skip_reason()
        if reason:
            pytest.skip(reason)
    return request.param


@pytest.fixture
def cuda_device():
    """'cuda', or a skip naming why no CUDA device can be used."""
    reason = _cuda_skip_reason()
    if reason:
        pytest.skip(reason)
    return "cuda"


def skip_unless_rss_measures_leaks() -> None:
    """RSS says nothing without /proc, or under AddressSanitizer, whose quarantine holds freed memory."""
    if rss_bytes() == 0:
        pytest.skip("no /proc/self/statm")
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("AddressSanitizer keeps freed memory in quarantine: RSS does not show leaks")
