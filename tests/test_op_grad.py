"""First derivatives of every differentiable op of the op database, in float64: against central
finite differences, and against PyTorch's gradients."""

from typing import Any, List

import numpy as np
import pytest

import chaingrad as cg
from conftest import central_difference_arrays
from op_db import OPS, params

DIFFERENTIABLE = [op for op in OPS if op.differentiable]
MAX_NUMEL = 12  # finite differences take two forward passes per input element


def grads_of(lib: Any, op, arrays, weights) -> List[np.ndarray]:
    """d sum(op(*arrays) * weights) / d each input, zeros where the library returns none."""
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = op.call(lib, *xs)
    (out * lib.tensor(weights, dtype=lib.float64)).sum().backward()
    return [np.zeros(a.shape) if x.grad is None else x.grad.numpy() for a, x in zip(arrays, xs)]


def finite_differences(op, arrays, weights, eps: float = 1e-6) -> List[np.ndarray]:
    """Central differences of sum(op(*arrays) * weights) in float64."""
    def loss(values):
        with cg.no_grad():
            return float((op.call(cg, *[cg.tensor(v) for v in values]).numpy() * weights).sum())

    return central_difference_arrays(loss, arrays, eps)


def _weights(op, arrays, seed: int) -> np.ndarray:
    with cg.no_grad():
        shape = tuple(op.call(cg, *[cg.tensor(a) for a in arrays]).shape)
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("op", params(DIFFERENTIABLE))
def test_gradient_matches_finite_differences(op):
    if op.call(cg, cg.zeros(*op.shapes[0][0], dtype=cg.float64), *[cg.zeros(*s, dtype=cg.float64)
                                                                   for s in op.shapes[0][1:]]).dtype != cg.float64:
        pytest.skip(f"{op.name}'s output is not float64: too coarse for finite differences (PyTorch checks it)")
    for k, arrays in enumerate(op.samples(max_numel=MAX_NUMEL)):
        weights = _weights(op, arrays, k)
        for got, expected in zip(grads_of(cg, op, arrays, weights), finite_differences(op, arrays, weights)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=op.name)


@pytest.mark.parametrize("op", params(DIFFERENTIABLE))
def test_gradient_matches_torch(torch, op):
    for k, arrays in enumerate(op.samples()):
        weights = _weights(op, arrays, k)
        for got, expected in zip(grads_of(cg, op, arrays, weights), grads_of(torch, op, arrays, weights)):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=op.name)
