"""NaN, infinities, overflow and ties: results and gradients as PyTorch gives them, and integer
arithmetic that wraps around instead of invoking undefined behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chaingrad as cg

NAN = float("nan")


def _forward_and_grad(lib, fn, values, dtype="float32"):
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    y = fn(lib, x)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name, fn", [
    ("relu", lambda lib, x: x.relu()),
    ("maximum", lambda lib, x: lib.maximum(x, lib.zeros(3))),
    ("minimum", lambda lib, x: lib.minimum(x, lib.zeros(3))),
    ("maximum_reversed", lambda lib, x: lib.maximum(lib.zeros(3), x)),
    ("clamp", lambda lib, x: x.clamp(0, 1)),
    ("max_all", lambda lib, x: x.max()),
    ("amax", lambda lib, x: x.amax()),
    ("abs", lambda lib, x: x.abs()),
    ("sigmoid", lambda lib, x: x.sigmoid()),
])
def test_nan_flows_through_masked_ops_as_in_pytorch(torch, name, fn):
    values = [NAN, -1.0, 2.0]
    ours, our_grad = _forward_and_grad(cg, fn, values)
    theirs, their_grad = _forward_and_grad(torch, fn, values)
    np.testing.assert_array_equal(ours, theirs, err_msg=name)
    np.testing.assert_array_equal(our_grad, their_grad, err_msg=name)


def test_relu_of_nan_is_nan_with_gradient_one():
    x = cg.tensor([NAN, -1.0, 0.0, 2.0], requires_grad=True)
    y = x.relu()
    y.sum().backward()
    assert math.isnan(y[0].item()) and y[1:].tolist() == [0.0, 0.0, 2.0]
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("base, exponent", [
    ([0.0, 2.0, 0.0], [0.0, 0.0, 2.0]),   # 0 ** 0: no gradient to the base, as PyTorch
    ([0.0, 0.0, 3.0], [-1.0, 2.0, 0.5]),  # 0 ** negative: the exponent's gradient is -inf
])
def test_tensor_exponent_gradients_at_zero(torch, base, exponent):
    def grads(lib):
        a = lib.tensor(base, requires_grad=True)
        b = lib.tensor(exponent, requires_grad=True)
        (a ** b).sum().backward()
        return a.grad.numpy(), b.grad.numpy()

    for ours, theirs in zip(grads(cg), grads(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("dims, keepdim", [(None, False), (1, False), ((0, 1), True), (0, True)])
def test_amax_and_amin_split_ties_evenly(torch, dims, keepdim):
    values = [[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]]
    for name in ("amax", "amin"):
        def run(lib):
            x = lib.tensor(values, requires_grad=True)
            y = getattr(x, name)() if dims is None else getattr(x, name)(dims, keepdim)
            (y * lib.arange(1.0, y.numel() + 1).reshape(y.shape)).sum().backward()
            return y.detach().numpy(), x.grad.numpy()

        for ours, theirs in zip(run(cg), run(torch)):
            np.testing.assert_allclose(ours, theirs, err_msg=f"{name}({dims}, {keepdim})")


def test_float32_std_and_norm_do_not_overflow_near_the_largest_float():
    t = cg.tensor([1e38, -1e38])
    assert t.std().item() == pytest.approx(math.sqrt(2) * 1e38, rel=1e-6)
    assert t.norm().item() == pytest.approx(math.sqrt(2) * 1e38, rel=1e-6)
    assert math.isinf(t.var().item())  # 2e76 itself does not fit in float32
    assert math.isinf(cg.tensor([3e38, 3e38]).norm().item())
    g = cg.tensor([1e38, -1e38, 0.0], requires_grad=True)
    g.std().backward()
    assert np.isfinite(g.grad.numpy()).all()


def test_std_and_var_gradients_match_pytorch(torch):
    values = np.random.default_rng(0).normal(size=(3, 5))
    for name, kwargs in [("std", {}), ("var", {}), ("std", {"dim": 1}), ("var", {"dim": 0, "keepdim": True}),
                         ("std", {"dim": 1, "correction": 0})]:
        def run(lib):
            x = lib.tensor(values, requires_grad=True)
            y = getattr(x, name)(**kwargs)
            y.sum().backward()
            return y.detach().numpy(), x.grad.numpy(), y.grad_fn.name()

        (ours, our_grad, our_name), (theirs, their_grad, their_name) = run(cg), run(torch)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        np.testing.assert_allclose(our_grad, their_grad, rtol=1e-10)
        assert our_name == their_name


def test_int64_arithmetic_wraps_around_as_pytorch(torch):
    big = [2**62, -(2**63), 2**63 - 1, 3]
    programs = {
        "mul": lambda lib, x: x * 4,
        "add": lambda lib, x: x + x,
        "sub": lambda lib, x: -x - 5,
        "neg": lambda lib, x: -x,
        "abs": lambda lib, x: x.abs(),
        "pow": lambda lib, x: x ** 40,
        "sum": lambda lib, x: x.sum(),
        "sum_dim": lambda lib, x: x.reshape(2, 2).sum(0),
        "matmul": lambda lib, x: x.reshape(2, 2) @ x.reshape(2, 2),
    }
    for name, fn in programs.items():
        ours = fn(cg, cg.tensor(big)).tolist()
        theirs = fn(torch, torch.tensor(big)).tolist()
        assert ours == theirs, name


def test_float_to_int_conversion_of_values_int64_cannot_hold(torch):
    values = [NAN, float("inf"), -float("inf"), 1e38, -1e30, 2.5, -2.5]
    for dtype in ("float32", "float64"):
        ours = cg.tensor(values, dtype=getattr(cg, dtype)).long().tolist()
        theirs = torch.tensor(values, dtype=getattr(torch, dtype)).long().tolist()
        assert ours == theirs
    assert cg.tensor([NAN, 0.0, -0.0]).bool().tolist() == [True, False, False]


def test_zero_dim_tensors_do_not_widen_the_dtype(torch):
    a, scalar = np.ones(2, np.float32), np.float64(1.5)
    cond = np.array([True, False])
    for name, fn in [("maximum", lambda lib, x, s: lib.maximum(x, s)),
                     ("minimum", lambda lib, x, s: lib.minimum(s, x)),
                     ("pow", lambda lib, x, s: lib.pow(x, s)),
                     ("where", lambda lib, x, s: lib.where(lib.tensor(cond), x, s))]:
        ours = fn(cg, cg.tensor(a), cg.tensor(scalar))
        theirs = fn(torch, torch.tensor(a), torch.tensor(scalar))
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], name
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    # a 0-d tensor of a higher kind still promotes: float over int
    assert cg.maximum(cg.tensor([1, 2]), cg.tensor(1.5)).dtype == cg.float32


def test_clamp_with_a_nan_bound_gives_nan(torch):
    for lo, hi in [(NAN, -4.0), (NAN, None), (None, NAN), (0.0, NAN)]:
        ours = cg.tensor([-4.0, 0.5, 7.0]).clamp(lo, hi)
        theirs = torch.tensor([-4.0, 0.5, 7.0]).clamp(lo, hi)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_negative_zero_survives_negation_and_abs_clears_it(torch):
    for dtype in ("float32", "float64"):
        x = cg.tensor([0.0, -0.0, 2.0], dtype=getattr(cg, dtype))
        assert np.signbit((-x).numpy()).tolist() == [True, False, True]
        assert np.signbit(x.abs().numpy()).tolist() == [False, False, False]
        assert (1 / -cg.tensor(0.0, dtype=getattr(cg, dtype))).item() == -math.inf
    assert (torch.tensor(-2.5) / -(torch.tensor(math.inf) ** -2.5)).item() == \
        (cg.tensor(-2.5) / -(cg.tensor(math.inf) ** -2.5)).item() == math.inf


def test_amax_without_reduction_is_a_new_tensor():
    x = cg.tensor(0.25)
    m = x.amax()
    m.fill_(-7.0)
    assert x.item() == 0.25


def test_int64_fills_are_exact():
    big = 2**63 - 1
    assert cg.full((2,), big).tolist() == [big, big]
    t = cg.zeros(3, dtype=cg.int64)
    t.fill_(big - 2)
    assert t.tolist() == [big - 2] * 3
    with pytest.raises(OverflowError):
        t.fill_(2**64)


def test_exponents_and_scalars_keep_their_precision(torch):
    for v in [0.0, -1.0, math.inf, 2.0]:  # 5e-324 is no float32, and must not become 0
        np.testing.assert_array_equal((cg.tensor([v]) ** 5e-324).numpy(), (torch.tensor([v]) ** 5e-324).numpy())
    assert (9223372036854775807 ** cg.tensor([0, 1])).tolist() == [1, 9223372036854775807]
    assert cg.tensor([1e-38]).norm(3).item() == pytest.approx(1e-38, rel=1e-6)  # |x|^3 underflows float32
    x = cg.tensor([2.0], requires_grad=True)
    y = x ** 0.1
    y.backward(cg.ones(1))
    assert repr(y) == "tensor([1.0718], grad_fn=<PowBackward0>)"
    assert x.grad.item() == pytest.approx(0.1 * 2.0 ** -0.9, rel=1e-6)


@pytest.mark.parametrize("p", [3, 1, 0.5, -1])
def test_p_norm_gradients_at_zero_match_pytorch(torch, p):
    for values in ([[0.0, 0.0]], [[0.0, 1.0], [-2.0, 3.0]]):
        grads = []
        for lib in (cg, torch):
            x = lib.tensor(values, requires_grad=True)
            x.norm(p, 1).sum().backward()
            grads.append(x.grad.numpy())
        np.testing.assert_allclose(*grads, rtol=1e-5, atol=1e-7)
