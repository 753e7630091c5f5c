"""The regression workload's fast paths: thin matmuls, broadcast copies as fills, the fused MSE loss."""

from __future__ import annotations

import numpy as np
import pytest

import chaingrad as cg
import chaingrad.nn.functional as F
from conftest import central_difference_arrays

try:
    import torch
except ImportError:  # pragma: no cover - torch is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")

# (n, k, m): the thin shapes the loops take (a column from a few-wide matrix, a row times a
# few-wide matrix), the ones beside them that stay with BLAS, and the int64 loop
THIN_SHAPES = [(2000, 3, 1), (7, 1, 1), (5, 4, 1), (1, 2000, 3), (1, 9, 2), (1, 1, 4), (1, 5, 1), (3, 2000, 1),
               (2000, 1, 3), (6, 5, 7)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n,k,m", THIN_SHAPES)
def test_thin_matmul_matches_numpy(dtype: str, n: int, k: int, m: int) -> None:
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    a, b = rng.standard_normal((n, k)).astype(dtype), rng.standard_normal((k, m)).astype(dtype)
    want = a.astype(np.float64) @ b.astype(np.float64)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose((cg.tensor(a) @ cg.tensor(b)).numpy(), want, rtol=rtol, atol=rtol * np.sqrt(k))
    # transposed views of both operands read in place
    at, bt = cg.tensor(np.ascontiguousarray(a.T)).t(), cg.tensor(np.ascontiguousarray(b.T)).t()
    np.testing.assert_allclose((at @ bt).numpy(), want, rtol=rtol, atol=rtol * np.sqrt(k))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows,features,out", [(2000, 3, 1), (10, 1, 1), (9, 7, 1), (50, 41, 1), (1, 30, 3),
                                               (4, 3, 5)])
def test_linear_accumulating_into_the_bias_matches_numpy(dtype: str, rows: int, features: int, out: int) -> None:
    rng = np.random.default_rng(rows + features + out)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((rows, features), (out, features), (out,)))
    got = F.linear(cg.tensor(x), cg.tensor(w), cg.tensor(b)).numpy()
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, x.astype(np.float64) @ w.T.astype(np.float64) + b, rtol=rtol, atol=rtol)


def test_thin_matmul_reads_expanded_operands() -> None:
    row = np.array([[1.0, 2.0, 3.0]])
    col = np.array([[0.5], [0.25], [2.0]])
    got = cg.tensor(row).expand(5, 3) @ cg.tensor(col)
    np.testing.assert_array_equal(got.numpy(), np.broadcast_to(row, (5, 3)) @ col)
    got = cg.tensor(row) @ cg.tensor(col).expand(3, 4)
    np.testing.assert_array_equal(got.numpy(), row @ np.broadcast_to(col, (3, 4)))


def test_int64_matmul_is_exact() -> None:
    rng = np.random.default_rng(1)
    for n, k, m in ((5, 3, 1), (1, 7, 3), (4, 6, 5)):
        a, b = rng.integers(-9, 9, (n, k)), rng.integers(-9, 9, (k, m))
        np.testing.assert_array_equal((cg.tensor(a) @ cg.tensor(b)).numpy(), a @ b)


@needs_torch
def test_regression_linear_gradients_match_torch() -> None:
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2000, 3)), rng.standard_normal((1, 3)), rng.standard_normal(1)
    ours = [cg.tensor(v, requires_grad=True) for v in (x, w, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    F.linear(*ours).pow(2).sum().backward()
    torch.nn.functional.linear(*theirs).pow(2).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("src_shape,dst_shape", [((1,), (2000, 1)), ((3,), (4, 3)), ((1, 1), (5, 1, 1)),
                                                 ((2, 1), (2, 3)), ((), (3, 2))])
def test_broadcast_copies_fill(src_shape: tuple, dst_shape: tuple) -> None:
    src = np.arange(1, 1 + int(np.prod(src_shape)), dtype=np.float32).reshape(src_shape)
    got = cg.tensor(src).expand(*dst_shape).contiguous().numpy()
    np.testing.assert_array_equal(got, np.broadcast_to(src, dst_shape))
    dst = cg.zeros(*dst_shape, dtype=cg.float64)
    dst[...] = cg.tensor(src)
    np.testing.assert_array_equal(dst.numpy(), np.broadcast_to(src, dst_shape))


def test_fill_of_a_strided_view() -> None:
    t = cg.zeros(4, 1, 6)
    t[:, :, ::2] = 5.0
    want = np.zeros((4, 1, 6), dtype=np.float32)
    want[:, :, ::2] = 5.0
    np.testing.assert_array_equal(t.numpy(), want)


def _composed_mse(input: cg.Tensor, target: cg.Tensor, reduction: str) -> cg.Tensor:
    loss = (input - target) ** 2
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


@pytest.mark.parametrize("dtype", [cg.float32, cg.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_gives_the_bits_of_its_composition(dtype: cg.dtype, reduction: str) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((50, 3)), rng.standard_normal((50, 3))
    results = []
    for fn in (F.mse_loss, _composed_mse):
        a, b = cg.tensor(x, dtype=dtype, requires_grad=True), cg.tensor(y, dtype=dtype, requires_grad=True)
        loss = fn(a, b, reduction)
        (loss if reduction != "none" else loss * cg.tensor(x, dtype=dtype)).sum().backward()
        results.append((loss.detach().numpy(), a.grad.numpy(), b.grad.numpy()))
    for ours, composed in zip(*results):
        np.testing.assert_array_equal(ours, composed)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_gradients_by_central_differences(reduction: str) -> None:
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    weights = rng.standard_normal((4, 3))

    def scalar(arrays: list) -> float:
        loss = F.mse_loss(cg.tensor(arrays[0]), cg.tensor(arrays[1]), reduction)
        return float((loss * cg.tensor(weights)).sum().item()) if reduction == "none" else float(loss.item())

    a, b = cg.tensor(x, requires_grad=True), cg.tensor(y, requires_grad=True)
    loss = F.mse_loss(a, b, reduction)
    assert loss.grad_fn.name() == "MseLossBackward0"
    (loss * cg.tensor(weights)).sum().backward() if reduction == "none" else loss.backward()
    want_a, want_b = central_difference_arrays(scalar, [x, y])
    np.testing.assert_allclose(a.grad.numpy(), want_a, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.grad.numpy(), want_b, rtol=1e-6, atol=1e-8)


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target_grad", [False, True])
def test_mse_loss_as_torch(reduction: str, target_grad: bool) -> None:
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    a, b = cg.tensor(x, requires_grad=True), cg.tensor(y, requires_grad=target_grad)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=target_grad)
    ours, theirs = cg.nn.MSELoss(reduction=reduction)(a, b), torch.nn.MSELoss(reduction=reduction)(ta, tb)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-14)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-14)
    assert (b.grad is None) == (tb.grad is None)
    if target_grad:
        np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-14)


@needs_torch
def test_mse_loss_second_derivative_as_torch() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    a, ta = cg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = cg.autograd.grad(F.mse_loss(a * a, cg.tensor(y)), [a], create_graph=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.mse_loss(ta * ta, torch.tensor(y)), [ta], create_graph=True)
    g.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)


def test_mse_loss_errors() -> None:
    with pytest.raises(ValueError, match="target size"):
        F.mse_loss(cg.ones(3), cg.ones(3, 1))
    with pytest.raises(ValueError, match="reduction must be"):
        F.mse_loss(cg.ones(3), cg.ones(3), "avg")
    with pytest.raises(RuntimeError, match="floating point"):
        F.mse_loss(cg.tensor([1, 2]), cg.tensor([1, 3]))
    with pytest.raises(TypeError):
        F.mse_loss(cg.ones(3), "target")


def test_mse_loss_mixed_dtypes_promote() -> None:
    a = cg.tensor([1.0, 2.0], dtype=cg.float32, requires_grad=True)
    loss = F.mse_loss(a, cg.tensor([0.5, 0.0], dtype=cg.float64), "sum")
    assert loss.dtype == cg.float64
    loss.backward()
    assert a.grad.dtype == cg.float32
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 4.0])


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01))])
def test_steady_steps_skip_parameters_without_gradients(name: str, kwargs: dict) -> None:
    a, b = cg.tensor([1.0, 2.0], requires_grad=True), cg.tensor([3.0], requires_grad=True)
    opt = getattr(cg.optim, name)([a, b], **kwargs)
    for _ in range(2):
        opt.zero_grad()
        ((a * a).sum() + (b * b).sum()).backward()
        opt.step()
    before = b.detach().clone()
    opt.zero_grad()
    (a * a).sum().backward()  # b has no gradient this step: neither it nor its state moves
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), before.numpy())
    if name != "SGD":
        assert opt.state[a]["step"] == 3 and opt.state[b]["step"] == 2


def test_steady_steps_follow_buffers_to_a_new_dtype() -> None:
    model = cg.nn.Linear(2, 1)
    opt = cg.optim.RMSprop(model.parameters(), lr=0.01)
    x = cg.ones(4, 2)
    model(x).sum().backward()
    opt.step()
    model.to(cg.float64)
    opt.zero_grad()
    model(x.double()).sum().backward()
    opt.step()
    assert opt.state[model.weight]["square_avg"].dtype == cg.float64 and opt.state[model.weight]["step"] == 2


def test_flatten_as_torch() -> None:
    t = cg.arange(24.0).reshape(2, 3, 4)
    assert t.flatten().shape == (24,) and t.flatten(1).shape == (2, 12) and t.flatten(0, 1).shape == (6, 4)
    assert t.flatten(1, 1) is t
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        t.flatten(2, 1)
    scalar = cg.tensor(3.0)
    assert scalar.flatten().shape == (1,) and scalar.flatten(-1, 0).shape == (1,)
    with pytest.raises(IndexError, match="Dimension out of range"):
        scalar.flatten(5)  # a 0-d tensor takes dims 0 and -1 only, as in PyTorch


SMALL_EXPONENTS = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent", SMALL_EXPONENTS)
def test_small_exponents_as_torch(dtype: str, exponent: float) -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(0.1, 3.0, 40), -rng.uniform(0.1, 3.0, 40),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, 1e30]]).astype(dtype)
    ours, theirs = cg.tensor(x) ** exponent, torch.tensor(x) ** exponent
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=3e-7 if dtype == "float32" else 1e-15)
    numbers = ~np.isnan(theirs.numpy())  # a NaN's sign is no promise of either
    np.testing.assert_array_equal(np.signbit(ours.numpy()[numbers]), np.signbit(theirs.numpy()[numbers]))
    a, ta = cg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (a ** exponent).sum().backward()
    (ta ** exponent).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-6 if dtype == "float32" else 1e-14)


@pytest.mark.parametrize("exponent", SMALL_EXPONENTS)
def test_small_exponent_gradients_by_central_differences(exponent: float) -> None:
    x = np.array([0.3, 1.7, 2.5])

    def scalar(arrays: list) -> float:
        return float((cg.tensor(arrays[0]) ** exponent).sum().item())

    a = cg.tensor(x, requires_grad=True)
    (a ** exponent).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), central_difference_arrays(scalar, [x])[0], rtol=1e-6, atol=1e-9)


@needs_torch
@pytest.mark.parametrize("exponent", [e for e in SMALL_EXPONENTS if e != 0])  # x^0's gradient is a constant 0
def test_small_exponent_second_derivatives_as_torch(exponent: float) -> None:
    x = np.array([0.3, 1.7, 2.5])
    a, ta = cg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (g,) = cg.autograd.grad((a ** exponent).sum(), [a], create_graph=True)
    (tg,) = torch.autograd.grad((ta ** exponent).sum(), [ta], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-14)
    g.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-14)


def test_small_exponents_of_integers_keep_pytorchs_dtypes() -> None:
    t = cg.tensor([1, 2, 3])
    assert (t ** 2).dtype == cg.int64 and (t ** 2).tolist() == [1, 4, 9]
    assert (t ** 0.5).dtype == cg.float32
    np.testing.assert_allclose((t ** -0.5).numpy(), [1.0, 2 ** -0.5, 3 ** -0.5], rtol=1e-7)
    with pytest.raises(RuntimeError, match="negative integer powers"):
        t ** -1


def test_modules_and_parameters_in_named_order_each_once() -> None:
    inner = cg.nn.Sequential(cg.nn.Linear(3, 3), cg.nn.ReLU())
    model = cg.nn.Sequential(cg.nn.Linear(2, 3), inner, cg.nn.Linear(3, 1))
    model.add_module("again", inner)  # a shared submodule is listed once
    model.add_module("empty", None)  # and an empty slot not at all
    assert [id(m) for m in model.modules()] == [id(m) for _, m in model.named_modules()]
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]
    assert len(list(model.parameters())) == 6 and len(list(model.parameters(recurse=False))) == 0


@needs_torch
def test_adam_steady_steps_count_a_tensor_step_as_torch() -> None:
    """A step count loaded as a tensor (PyTorch's own layout) keeps counting, and drives the bias correction."""
    values = np.array([1.0, -2.0])
    ours, theirs = cg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    opts = cg.optim.Adam([ours], lr=0.1), torch.optim.Adam([theirs], lr=0.1)
    for p, opt, lib in ((ours, opts[0], cg), (theirs, opts[1], torch)):
        for i in range(3):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            if i == 0:
                opt.state[p]["step"] = lib.tensor(5.0)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    assert float(opts[0].state[ours]["step"]) == float(opts[1].state[theirs]["step"]) == 7.0


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_takes_an_integer_target_as_pytorch(reduction: str) -> None:
    # the fused op takes floating operands only; an int64 target worked before it and works in
    # PyTorch (promoted), so it must not raise
    x = np.array([1.0, 2.5, -1.0], np.float32)
    target = np.array([0, 1, 2], np.int64)
    ours = cg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    got = F.mse_loss(ours, cg.tensor(target), reduction)
    want = torch.nn.functional.mse_loss(theirs, torch.tensor(target), reduction=reduction)
    np.testing.assert_allclose(np.asarray(got.detach().numpy()), want.detach().numpy(), rtol=1e-6)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(np.asarray(ours.grad.numpy()), theirs.grad.numpy(), rtol=1e-6)


def test_linear_reads_a_weight_re_registered_as_a_plain_tensor_and_subclass_properties() -> None:
    # pruning-style reparametrisation: the weight leaves the parameter table for a plain attribute
    lin = cg.nn.Linear(3, 2)
    w = lin.weight.detach()
    del lin.weight
    lin.weight = w * 2
    x = cg.ones(1, 3)
    np.testing.assert_allclose(np.asarray(lin(x).detach().numpy()),
                               np.asarray((x @ (w * 2).t() + lin.bias).detach().numpy()), rtol=1e-6)

    class Masked(cg.nn.Linear):
        @property
        def weight(self):
            return self._parameters["weight"] * 0

        @weight.setter
        def weight(self, value):
            self._parameters["weight"] = value

    m = Masked(3, 2)
    np.testing.assert_array_equal(np.asarray(m(x).detach().numpy()), np.asarray(m.bias.detach().numpy())[None])
