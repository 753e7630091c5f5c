"""The elementwise ops added through the op table (cpp/kernels/op_table.h): forward against numpy
and PyTorch, gradients against float64 central differences and PyTorch, special values, dtypes,
the nn modules, the fused-gradient/formula pairing and the freshness of the generated stubs."""

from __future__ import annotations

import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import chaingrad as cg
import chaingrad.nn.functional as F
from chaingrad import _ops

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPECIAL = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, -1.0, -2.5, 1e-8, 0.5, 3.0, 30.0, -30.0]


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _softplus(x, beta=1.0, threshold=20.0):
    with np.errstate(over="ignore"):
        return np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


# name -> (chaingrad function, numpy reference, torch function name path, kwargs)
UNARY = {
    "log1p": (cg.log1p, np.log1p, "log1p", {}),
    "expm1": (cg.expm1, np.expm1, "expm1", {}),
    "log2": (cg.log2, np.log2, "log2", {}),
    "log10": (cg.log10, np.log10, "log10", {}),
    "rsqrt": (cg.rsqrt, lambda x: 1 / np.sqrt(x), "rsqrt", {}),
    "square": (cg.square, np.square, "square", {}),
    "sign": (cg.sign, np.sign, "sign", {}),
    "erf": (cg.erf, _erf, "erf", {}),
    "softplus": (F.softplus, _softplus, "nn.functional.softplus", {}),
    "softplus_b2": (lambda x: F.softplus(x, beta=2.0, threshold=3.0), lambda x: _softplus(x, 2.0, 3.0),
                    "nn.functional.softplus", {"beta": 2.0, "threshold": 3.0}),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x)), "nn.functional.silu", {}),
    "gelu": (F.gelu, _gelu, "nn.functional.gelu", {}),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: _gelu(x, "tanh"), "nn.functional.gelu",
                  {"approximate": "tanh"}),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), "nn.functional.leaky_relu", {}),
    "leaky_relu_02": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                      "nn.functional.leaky_relu", {"negative_slope": 0.2}),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.expm1(x)), "nn.functional.elu", {}),
    "elu_2": (lambda x: F.elu(x, alpha=2.0), lambda x: np.where(x > 0, x, 2.0 * np.expm1(x)), "nn.functional.elu",
              {"alpha": 2.0}),
    "hardtanh": (F.hardtanh, lambda x: np.clip(x, -1, 1), "nn.functional.hardtanh", {}),
    "hardtanh_wide": (lambda x: F.hardtanh(x, -2.0, 0.5), lambda x: np.clip(x, -2, 0.5), "nn.functional.hardtanh",
                      {"min_val": -2.0, "max_val": 0.5}),
    "logsigmoid": (F.logsigmoid, lambda x: np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))),
                   "nn.functional.logsigmoid", {}),
}
POSITIVE = {"log1p", "log2", "log10", "rsqrt"}  # gradients checked on x > 0 (log1p: x > -1)
# away from kinks, so central differences are exact to their own truncation error
KINKS = {"sign": [0.0], "leaky_relu": [0.0], "leaky_relu_02": [0.0], "elu": [0.0], "elu_2": [0.0],
         "hardtanh": [-1.0, 1.0], "hardtanh_wide": [-2.0, 0.5], "softplus_b2": [1.5]}

BINARY = {
    "atan2": (cg.atan2, np.arctan2, "atan2"),
    "fmod": (cg.fmod, np.fmod, "fmod"),
    "remainder": (cg.remainder, np.remainder, "remainder"),
}


def _torch_fn(path):
    torch = pytest.importorskip("torch")
    obj = torch
    for part in path.split("."):
        obj = getattr(obj, part)
    return torch, obj


def _sample(name, n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, n)
    if name in POSITIVE:
        x = np.abs(x) + 0.1
    for k in KINKS.get(name, []):
        x = np.where(np.abs(x - k) < 1e-3, x + 0.01, x)
    return x


def _numeric_grad(f, x, eps=1e-6):
    g = np.empty_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[i] += eps
        xm.flat[i] -= eps
        g.flat[i] = (f(xp).sum() - f(xm).sum()) / (2 * eps)
    return g


def _ours(fn, x, *rest):
    return fn(cg.tensor(x, dtype=cg.float64), *rest).numpy()


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_against_numpy(name):
    fn, ref, _, _ = UNARY[name]
    x = np.concatenate([_sample(name), np.array([v for v in SPECIAL if v == v and abs(v) != float("inf")])])
    with np.errstate(all="ignore"):
        want = ref(x)
    np.testing.assert_allclose(_ours(fn, x), want, rtol=1e-12, atol=1e-14, equal_nan=True)
    got32 = fn(cg.tensor(x, dtype=cg.float32)).numpy()
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, want.astype(np.float32), rtol=2e-6, atol=2e-7, equal_nan=True)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_forward_and_special_values_against_torch(name, dtype):
    fn, _, path, kwargs = UNARY[name]
    torch, tfn = _torch_fn(path)
    special = SPECIAL
    if name.startswith("gelu") and dtype == "float32":  # PyTorch's float32 gelu(inf) is nan, its float64 inf
        special = [v for v in SPECIAL if abs(v) != float("inf")]
    x = np.concatenate([_sample(name), np.array(special)]).astype(dtype)
    got = fn(cg.tensor(x)).numpy()
    want = tfn(torch.tensor(x), **kwargs).numpy()
    tol = dict(rtol=2e-6, atol=1e-7) if dtype == "float32" else dict(rtol=1e-13, atol=1e-15)
    if name == "gelu" and dtype == "float32":  # 1 + erf(x / sqrt 2) cancels for x < -2 in either library
        tol = dict(rtol=2e-4, atol=1e-7)
    np.testing.assert_allclose(got, want, equal_nan=True, **tol)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradient_against_finite_differences(name):
    fn, _, _, _ = UNARY[name]
    x = _sample(name, n=12, seed=1)
    t = cg.tensor(x, dtype=cg.float64, requires_grad=True)
    fn(t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), _numeric_grad(lambda v: _ours(fn, v), x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradient_and_grad_fn_against_torch(name):
    fn, _, path, kwargs = UNARY[name]
    torch, tfn = _torch_fn(path)
    x = np.concatenate([_sample(name, n=12, seed=2), np.array([0.0, -0.0, 30.0, -30.0, float("nan")])])
    t = cg.tensor(x, requires_grad=True)
    y = fn(t)
    tt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    ty = tfn(tt, **kwargs)
    assert y.grad_fn.name() == ty.grad_fn.name()
    g = np.linspace(-1, 1, x.size).astype(np.float32)
    y.backward(cg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_forward_gradient_and_grad_fn(name):
    fn, ref, tname = BINARY[name]
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.uniform(-5, 5, (4, 5))
    b = rng.uniform(0.3, 3, (5,)) * np.where(rng.uniform(size=5) < 0.5, -1, 1)
    np.testing.assert_allclose(fn(cg.tensor(a), cg.tensor(b)).numpy(), ref(a, b), rtol=1e-12)
    ta, tb = cg.tensor(a, requires_grad=True), cg.tensor(b, requires_grad=True)
    y = fn(ta, tb)
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    py_ = getattr(torch, tname)(pa, pb)
    assert y.grad_fn.name() == py_.grad_fn.name()
    y.sum().backward()
    py_.sum().backward()
    np.testing.assert_allclose(ta.grad.numpy(), pa.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), pb.grad.numpy(), rtol=1e-12, atol=1e-12)
    # against central differences, away from the jumps of fmod and remainder
    if name != "atan2":
        return
    num_a = _numeric_grad(lambda v: fn(cg.tensor(v), cg.tensor(b)).numpy(), a)
    num_b = _numeric_grad(lambda v: fn(cg.tensor(a), cg.tensor(v)).numpy(), b)
    np.testing.assert_allclose(ta.grad.numpy(), num_a, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(tb.grad.numpy(), num_b, rtol=1e-6, atol=1e-7)


def test_binary_special_values_and_scalars_against_torch():
    torch = pytest.importorskip("torch")
    v = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, -3.0, 3.0, 2.5, -2.5, 1e-300]
    a = np.array([x for x in v for _ in v])
    b = np.array([y for _ in v for y in v])
    for name in BINARY:
        got = getattr(cg, name)(cg.tensor(a), cg.tensor(b)).numpy()
        want = getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()
        if name == "atan2":  # libm and PyTorch's SLEEF differ by an ulp
            np.testing.assert_allclose(got, want, rtol=1e-15, atol=0, equal_nan=True, err_msg=name)
        else:  # fmod and remainder are exact
            np.testing.assert_array_equal(got, want, err_msg=name)
        ok = ~np.isnan(want)  # signed zeros as PyTorch (a NaN's sign bit means nothing)
        np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]), err_msg=name)
    x = cg.tensor([-3.0, 3.0, 5.5], requires_grad=True)
    tx = torch.tensor([-3.0, 3.0, 5.5], requires_grad=True)
    for ours, theirs in [(x % 2, tx % 2), (x.fmod(2), tx.fmod(2)), (x.remainder(-2.5), tx.remainder(-2.5))]:
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
        assert ours.grad_fn.name() == theirs.grad_fn.name()
    # a number % tensor (PyTorch has no gradient formula for it; ours is RemainderBackward1's)
    np.testing.assert_array_equal((7 % x).detach().numpy(), (7 % tx).detach().numpy())
    # PyTorch's floor division in remainder's gradient: 1 // 0.1 is 9, not 10
    a, b = cg.tensor([1.0], dtype=cg.float64), cg.tensor([0.1], dtype=cg.float64, requires_grad=True)
    cg.remainder(a, b).backward(cg.tensor([1.0], dtype=cg.float64))
    assert b.grad.item() == -9.0


def test_integer_and_bool_dtypes_as_torch():
    torch = pytest.importorskip("torch")
    i = [-3, 0, 2, 7]
    for name in ["log1p", "expm1", "log2", "log10", "rsqrt", "erf"]:
        got, want = getattr(cg, name)(cg.tensor(i)), getattr(torch, name)(torch.tensor(i))
        assert got.dtype == cg.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, equal_nan=True)
    assert cg.sign(cg.tensor(i)).tolist() == [-1, 0, 1, 1] and cg.sign(cg.tensor(i)).dtype == cg.int64
    assert cg.square(cg.tensor(i)).tolist() == [9, 0, 4, 49]
    assert cg.atan2(cg.tensor(i), cg.tensor([1, 1, 1, 1])).dtype == cg.float32
    d = [2, -2, 3, -4]
    for name in ["fmod", "remainder"]:
        got = getattr(cg, name)(cg.tensor(i), cg.tensor(d))
        assert got.dtype == cg.int64
        assert got.tolist() == getattr(torch, name)(torch.tensor(i), torch.tensor(d)).tolist()
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            getattr(cg, name)(cg.tensor(i), cg.tensor([1, 0, 1, 1]))
        with pytest.raises((TypeError, RuntimeError, ValueError), match=name):
            getattr(cg, name)(cg.tensor([True]), cg.tensor([True]))
    assert (cg.tensor(i) % 2).tolist() == (torch.tensor(i) % 2).tolist()
    assert (cg.tensor(i) % 2.5).dtype == cg.float32
    assert cg.remainder(cg.tensor([-2**63]), cg.tensor([-1])).tolist() == [0]
    assert F.hardtanh(cg.tensor(i)).tolist() == [-1, 0, 1, 1]
    for name in ["gelu", "silu", "softplus", "elu", "leaky_relu", "logsigmoid"]:
        with pytest.raises((TypeError, ValueError, RuntimeError, NotImplementedError), match=f"{name}.*int64"):
            getattr(F, name)(cg.tensor(i))
    with pytest.raises(RuntimeError, match="hardtanh"):
        F.hardtanh(cg.tensor([True]))
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(cg.tensor([1.0]), approximate="fast")


def test_tensor_methods_and_inplace_remainder():
    x = cg.tensor([0.5, 2.0, 4.0])
    for name in ["log1p", "expm1", "log2", "log10", "rsqrt", "square", "sign", "erf"]:
        np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(cg, name)(x).numpy())
    y = cg.tensor([5.0, -5.0, 7.5])
    y %= 2
    assert y.tolist() == [1.0, 1.0, 1.5]
    assert cg.tensor([1.0, -1.0]).atan2(cg.tensor([-1.0, -1.0])).tolist() == pytest.approx(
        [math.atan2(1, -1), math.atan2(-1, -1)])


def test_nn_modules_and_repr():
    torch = pytest.importorskip("torch")
    x = np.linspace(-4, 4, 17)
    for ours, theirs in [(cg.nn.GELU(), torch.nn.GELU()), (cg.nn.GELU("tanh"), torch.nn.GELU("tanh")),
                         (cg.nn.SiLU(), torch.nn.SiLU()), (cg.nn.LeakyReLU(), torch.nn.LeakyReLU()),
                         (cg.nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (cg.nn.ELU(), torch.nn.ELU()),
                         (cg.nn.ELU(alpha=2.0), torch.nn.ELU(alpha=2.0)), (cg.nn.Softplus(), torch.nn.Softplus()),
                         (cg.nn.Softplus(2, 10), torch.nn.Softplus(2, 10)), (cg.nn.Hardtanh(), torch.nn.Hardtanh()),
                         (cg.nn.Hardtanh(-2, 3), torch.nn.Hardtanh(-2, 3)),
                         (cg.nn.LogSigmoid(), torch.nn.LogSigmoid())]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(cg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-15)
    seq = cg.nn.Sequential(cg.nn.Linear(3, 4), cg.nn.GELU(), cg.nn.Linear(4, 1))
    seq(cg.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in seq.parameters())


@pytest.mark.parametrize("row", [r for r in _ops.TABLE if r.fused], ids=lambda r: r.name)
def test_fused_gradient_equals_formula(row):
    """An op with a fused gradient kernel (chosen when grad mode is off during backward) and its
    formula in differentiable ops (chosen under grad mode: create_graph) give the same gradient."""
    x = cg.tensor([-2.0, -0.0, 0.0, 1.5, float("nan"), float("inf"), -float("inf"), 3.0], requires_grad=True)
    g = cg.tensor([1.0, 2.0, 3.0, float("inf"), 5.0, float("nan"), 7.0, -1.0])
    grads = []
    for create_graph in (False, True):  # a pass runs with grad mode = create_graph
        y = getattr(x, row.name)()
        seed = g.detach().requires_grad_(create_graph)  # under create_graph the formula records a node
        grad, = cg.autograd.grad(y, x, seed, create_graph=create_graph)
        assert grad.requires_grad == create_graph
        grads.append(grad.detach().numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_generated_stubs_are_fresh():
    """_ops.pyi and nn/_ops.pyi are what tools/gen_op_stubs.py writes from the table."""
    for rel, text in _ops.stub_sources().items():
        assert (ROOT / rel).read_text() == text, f"{rel} is stale: run python tools/gen_op_stubs.py"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_op_stubs.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_rows_are_exposed():
    for row in _ops.TABLE:
        if "m" in row.expose:
            assert callable(getattr(cg.Tensor, row.name))
        if "t" in row.expose:
            assert getattr(cg, row.name) is _ops.functions[row.name] and row.name in cg.__all__
        if "f" in row.expose:
            assert getattr(F, row.name) is _ops.nn_functions[row.name] and row.name in F.__all__
