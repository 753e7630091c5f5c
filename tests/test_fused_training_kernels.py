"""The MLP step's fused kernels: cross-entropy in one pass per row, the branch-free masked
gradients (relu, where) and the column sums of bias gradients, against their composite forms,
finite differences, numpy and PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chaingrad as cg
import chaingrad.nn.functional as F
from conftest import central_difference_arrays

RNG = np.random.default_rng(12)


def _composite_cross_entropy(x: Any, target: Any, reduction: str) -> Any:
    """cross_entropy as it was composed before the fused kernel: log_softmax, then nll_loss."""
    return F.nll_loss(x.log_softmax(1), target, reduction=reduction)


@pytest.mark.parametrize("dtype", [cg.float32, cg.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_gives_the_composite_bits_and_grad_fn(dtype, reduction):
    x = RNG.standard_normal((37, 10)) * 4
    target = cg.tensor(RNG.integers(0, 10, 37))
    fused_x = cg.tensor(x, dtype=dtype, requires_grad=True)
    composite_x = cg.tensor(x, dtype=dtype, requires_grad=True)
    fused = F.cross_entropy(fused_x, target, reduction=reduction)
    composite = _composite_cross_entropy(composite_x, target, reduction)
    assert fused.grad_fn.name() == composite.grad_fn.name()
    assert np.array_equal(fused.detach().numpy(), composite.detach().numpy())
    seed = cg.tensor(RNG.standard_normal(37), dtype=dtype) if reduction == "none" else None
    fused.backward(seed)
    composite.backward(seed)
    assert np.array_equal(fused_x.grad.numpy(), composite_x.grad.numpy())


def test_fused_cross_entropy_matches_finite_differences():
    x = RNG.standard_normal((5, 4))
    t = RNG.integers(0, 4, 5)
    weights = RNG.standard_normal(5)

    def f(arrays):
        return float((F.cross_entropy(cg.tensor(arrays[0]), cg.tensor(t), reduction="none")
                      * cg.tensor(weights)).sum().item())

    xt = cg.tensor(x, requires_grad=True)
    (F.cross_entropy(xt, cg.tensor(t), reduction="none") * cg.tensor(weights)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), central_difference_arrays(f, [x])[0], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_second_derivatives_match_torch(torch, reduction):
    x = RNG.standard_normal((6, 5))
    t = RNG.integers(0, 5, 6)
    v = RNG.standard_normal((6, 5))
    results = []
    for lib in (cg, torch):
        xt = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(xt, lib.tensor(t), reduction=reduction)
        (g,) = lib.autograd.grad(loss.sum(), [xt], create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(v)).sum(), [xt])
        results.append((loss.detach().numpy(), g.detach().numpy(), h.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_fused_cross_entropy_on_a_non_contiguous_view_and_its_errors():
    x = cg.tensor(RNG.standard_normal((4, 6)), requires_grad=True)
    F.cross_entropy(x[:, :4], cg.tensor([0, 1, 2, 3])).backward()  # strided rows
    expected = np.zeros((4, 6))
    soft = np.exp(x.detach().numpy()[:, :4])
    soft /= soft.sum(1, keepdims=True)
    expected[:, :4] = (soft - np.eye(4)) / 4
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-15)
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):  # PyTorch's message
        F.cross_entropy(cg.ones(2, 3), cg.tensor([-1, 1]))
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(cg.ones(2, 3), cg.tensor([0, 1]), reduction="avg")
    with pytest.raises(TypeError, match="'weight'.*must be Tensor, not str"):  # the third argument is weight
        F.cross_entropy(cg.ones(2, 3), cg.tensor([0, 1]), "sum")


def test_fused_cross_entropy_keeps_nan_and_inf_rows_as_the_composite():
    x = np.array([[0.0, np.nan, 1.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0]], dtype=np.float32)
    t = cg.tensor([0, 1, 2])
    fused = F.cross_entropy(cg.tensor(x), t, reduction="none").numpy()
    composite = _composite_cross_entropy(cg.tensor(x), t, "none").numpy()
    np.testing.assert_array_equal(fused[:2], composite[:2])  # NaN where either row has NaN or +inf
    assert np.isfinite(fused[2])  # -inf elsewhere in the row: 0 * -inf no longer poisons the pick


@pytest.mark.parametrize("dtype", [cg.float32, cg.float64])
def test_relu_gradient_is_the_threshold_rule(dtype):
    x = RNG.standard_normal(100_000)
    x[:5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    g = RNG.standard_normal(100_000)
    g[5] = np.inf
    xt = cg.tensor(x, dtype=dtype, requires_grad=True)
    xt.relu().backward(cg.tensor(g, dtype=dtype))
    y = np.maximum(x, 0)
    y[2] = np.nan
    expected = np.where(y <= 0, 0.0, g).astype(xt.grad.numpy().dtype)
    np.testing.assert_array_equal(xt.grad.numpy(), expected)  # NaN passes g, 0 and below give 0


@pytest.mark.parametrize("shapes", [((7, 5), (7, 5), (7, 5)), ((7, 5), (7, 5), ()), ((7, 5), (), (7, 5)),
                                    ((), (7, 5), (7, 5)), ((1,), (7, 5), ()), ((7, 5), (5,), (7, 1)),
                                    ((300, 500), (300, 500), ())])
@pytest.mark.parametrize("dtype", [cg.float32, cg.float64, cg.int64, cg.bool_])
def test_where_matches_numpy_for_flat_single_and_broadcast_operands(shapes, dtype):
    c = RNG.random(shapes[0]) < 0.5
    a = (RNG.standard_normal(shapes[1]) * 10).astype(np.float64)
    b = (RNG.standard_normal(shapes[2]) * 10).astype(np.float64)
    out = cg.where(cg.tensor(c), cg.tensor(a).to(dtype), cg.tensor(b).to(dtype))
    expected = np.where(c, cg.tensor(a).to(dtype).numpy(), cg.tensor(b).to(dtype).numpy())
    np.testing.assert_array_equal(out.numpy(), expected)


def test_masked_gradients_select_rather_than_multiply():
    x = cg.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    x.clamp(-1.0, 1.0).backward(cg.tensor([np.inf, 2.0, np.nan]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 0.0])


@pytest.mark.parametrize("dtype", [cg.float32, cg.float64])
def test_bias_gradient_is_the_column_sum_of_the_output_gradient(dtype):
    x = RNG.standard_normal((129, 33))
    layer = cg.nn.Linear(33, 17).to(dtype)
    g = RNG.standard_normal((129, 17))
    layer(cg.tensor(x, dtype=dtype)).backward(cg.tensor(g, dtype=dtype))
    g_in = cg.tensor(g, dtype=dtype).numpy().astype(np.float64)
    expected = np.zeros(17)
    for row in g_in:  # the sum's order: row by row, in double
        expected += row
    np.testing.assert_array_equal(layer.bias.grad.numpy(), expected.astype(layer.bias.grad.numpy().dtype))
