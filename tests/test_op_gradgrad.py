"""Second derivatives of every op of the op database that has one (gradgradcheck-style, float64):
the gradient of <grad(op), v> against PyTorch's double backward and against central finite
differences of chaingrad's own first gradient. Skips, saying why, until chaingrad's
autograd.grad(..., create_graph=True) exists."""

from typing import Any, List

import numpy as np
import pytest

import chaingrad as cg
from conftest import central_difference_arrays
from op_db import OPS, params

TWICE_DIFFERENTIABLE = [op for op in OPS if op.differentiable and op.second_derivative]
MAX_NUMEL = 8


@pytest.fixture(scope="module", autouse=True)
def create_graph_supported():
    x = cg.tensor([1.0, 2.0], dtype=cg.float64, requires_grad=True)
    try:
        cg.autograd.grad((x * x).sum(), [x], create_graph=True)
    except NotImplementedError as err:
        pytest.skip(f"chaingrad.autograd.grad(..., create_graph=True) is not implemented yet: {err}")


def first_grads(lib: Any, op, xs, weights, create_graph: bool):
    """d sum(op(*xs) * weights) / d xs (zeros for an input the output does not depend on)."""
    out = op.call(lib, *xs)
    loss = (out * lib.tensor(weights, dtype=lib.float64)).sum()
    grads = lib.autograd.grad(loss, list(xs), create_graph=create_graph, allow_unused=True)
    return [lib.zeros_like(x) if g is None else g for x, g in zip(xs, grads)]


def second_grads(lib: Any, op, arrays, weights, directions) -> List[np.ndarray]:
    """d <first_grads, directions> / d inputs."""
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    grads = first_grads(lib, op, xs, weights, create_graph=True)
    inner = sum((g * lib.tensor(v, dtype=lib.float64)).sum() for g, v in zip(grads, directions))
    if not inner.requires_grad:  # the first gradient is constant: the second derivative is zero
        return [np.zeros(a.shape) for a in arrays]
    seconds = lib.autograd.grad(inner, xs, allow_unused=True)
    # plus a zeros tensor: PyTorch may answer a ZeroTensor, which numpy() refuses
    return [np.zeros(a.shape) if s is None else (s.detach() + lib.zeros(tuple(s.shape), dtype=lib.float64)).numpy()
            for a, s in zip(arrays, seconds)]


def finite_differences_of_first_grad(op, arrays, weights, directions, eps: float = 1e-6) -> List[np.ndarray]:
    def inner(values) -> float:
        xs = [cg.tensor(v, dtype=cg.float64, requires_grad=True) for v in values]
        grads = first_grads(cg, op, xs, weights, create_graph=False)
        return float(sum((g.numpy() * v).sum() for g, v in zip(grads, directions)))

    return central_difference_arrays(inner, arrays, eps)


def _case(op, arrays, seed):
    rng = np.random.default_rng(seed)
    with cg.no_grad():
        shape = tuple(op.call(cg, *[cg.tensor(a) for a in arrays]).shape)
    return rng.standard_normal(shape), [rng.standard_normal(a.shape) for a in arrays]


@pytest.mark.parametrize("op", params(TWICE_DIFFERENTIABLE))
def test_second_derivative_matches_torch(torch, op):
    for k, arrays in enumerate(op.samples()):
        weights, directions = _case(op, arrays, k)
        ours = second_grads(cg, op, arrays, weights, directions)
        theirs = second_grads(torch, op, arrays, weights, directions)
        for got, expected in zip(ours, theirs):
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11, err_msg=op.name)


@pytest.mark.parametrize("op", params(TWICE_DIFFERENTIABLE))
def test_second_derivative_matches_finite_differences(op):
    for k, arrays in enumerate(op.samples(max_numel=MAX_NUMEL)):
        weights, directions = _case(op, arrays, k)
        ours = second_grads(cg, op, arrays, weights, directions)
        for got, expected in zip(ours, finite_differences_of_first_grad(op, arrays, weights, directions)):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=op.name)
