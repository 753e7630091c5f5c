"""Helpers for the tensor tests: gradient checks against finite differences and PyTorch."""

from __future__ import annotations

from typing import Callable, List, Sequence

import numpy as np

import chaingrad as cg


def make_inputs(shapes: Sequence[tuple], low: float = -1.0, high: float = 1.0, seed: int = 0) -> List[np.ndarray]:
    """Random float64 arrays of the given shapes."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, s) for s in shapes]


def weighted_sum(out, weights: np.ndarray, lib):
    """sum(out * weights): a scalar whose gradient exercises every output element."""
    return (out * lib.tensor(weights, dtype=out.dtype)).sum()


def numeric_grads(fn: Callable, arrays: List[np.ndarray], weights: np.ndarray, eps: float = 1e-6) -> List[np.ndarray]:
    """Central differences of sum(fn(*xs) * weights) with respect to every input element."""
    def loss(values: List[np.ndarray]) -> float:
        with cg.no_grad():
            out = fn(*[cg.tensor(v, dtype=cg.float64) for v in values])
            return float((out.numpy() * weights).sum())

    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            up = [x.copy() for x in arrays]
            down = [x.copy() for x in arrays]
            up[i][idx] += eps
            down[i][idx] -= eps
            g[idx] = (loss(up) - loss(down)) / (2 * eps)
        grads.append(g)
    return grads


def check_gradients(fn: Callable, shapes: Sequence[tuple], low: float = -1.0, high: float = 1.0,
                    seed: int = 0, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """fn's analytic gradients equal central differences in float64."""
    arrays = make_inputs(shapes, low, high, seed)
    xs = [cg.tensor(a, dtype=cg.float64, requires_grad=True) for a in arrays]
    out = fn(*xs)
    weights = np.random.default_rng(seed + 1).standard_normal(tuple(out.shape))
    weighted_sum(out, weights, cg).backward()
    for x, expected in zip(xs, numeric_grads(fn, arrays, weights)):
        assert x.grad is not None
        np.testing.assert_allclose(x.grad.numpy(), expected, rtol=rtol, atol=atol)


def check_against_torch(torch, fn: Callable, shapes: Sequence[tuple], low: float = -1.0, high: float = 1.0,
                        seed: int = 0) -> None:
    """fn gives the same values and gradients on chaingrad and on PyTorch (float64)."""
    arrays = make_inputs(shapes, low, high, seed)
    ours = [cg.tensor(a, dtype=cg.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, tout = fn(*ours), fn(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert tuple(out.shape) == tuple(tout.shape)
    weights = np.random.default_rng(seed + 1).standard_normal(tuple(out.shape))
    weighted_sum(out, weights, cg).backward()
    weighted_sum(tout, weights, torch).backward()
    for x, t in zip(ours, theirs):
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(t.shape) if x.grad is None else x.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
