"""Forward results of tensor ops against numpy, float32 and float64, over broadcast shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chaingrad as cg

DTYPES = {"float32": (cg.float32, np.float32), "float64": (cg.float64, np.float64)}
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a.abs() ** b, lambda a, b: np.abs(a) ** b),
    "maximum": (lambda a, b: a.maximum(b), np.maximum),
    "minimum": (lambda a, b: a.minimum(b), np.minimum),
    "gt": (lambda a, b: a > b, np.greater),
    "le": (lambda a, b: a <= b, np.less_equal),
    "eq": (lambda a, b: a == b, np.equal),
}

UNARY = {
    "neg": (lambda a: -a, np.negative),
    "abs": (lambda a: a.abs(), np.abs),
    "exp": (lambda a: a.exp(), np.exp),
    "log": (lambda a: a.abs().log(), lambda a: np.log(np.abs(a))),
    "sqrt": (lambda a: a.abs().sqrt(), lambda a: np.sqrt(np.abs(a))),
    "tanh": (lambda a: a.tanh(), np.tanh),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    "relu": (lambda a: a.relu(), lambda a: np.maximum(a, 0)),
    "sin": (lambda a: a.sin(), np.sin),
    "cos": (lambda a: a.cos(), np.cos),
    "clamp": (lambda a: a.clamp(-0.3, 0.4), lambda a: np.clip(a, -0.3, 0.4)),
}

shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)


def _arrays(draw_shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    out = []
    for s in draw_shapes:
        a = rng.uniform(-3, 3, s).astype(dtype)
        a[np.abs(a) < 1e-2] = 0.5
        out.append(a)
    return out


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(shapes=shapes, seed=st.integers(0, 1000))
def test_binary_broadcasting_matches_numpy(name, dtype, shapes, seed):
    ours, ref = BINARY[name]
    cg_dtype, np_dtype = DTYPES[dtype]
    a, b = _arrays(shapes.input_shapes, np_dtype, seed)
    out = ours(cg.tensor(a), cg.tensor(b))
    expected = ref(a, b)
    assert tuple(out.shape) == expected.shape
    if expected.dtype == bool:
        assert out.dtype is cg.bool and np.array_equal(out.numpy(), expected)
    else:
        assert out.dtype is cg_dtype
        np.testing.assert_allclose(out.numpy(), expected, **TOL[dtype])


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=15, deadline=None)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5), seed=st.integers(0, 1000))
def test_unary_matches_numpy(name, dtype, shape, seed):
    ours, ref = UNARY[name]
    cg_dtype, np_dtype = DTYPES[dtype]
    (a,) = _arrays([shape], np_dtype, seed)
    out = ours(cg.tensor(a))
    assert out.dtype is cg_dtype
    np.testing.assert_allclose(out.numpy(), ref(a), **TOL[dtype])


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@settings(max_examples=30, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), seed=st.integers(0, 1000),
       data=st.data())
def test_reductions_match_numpy(dtype, shape, seed, data):
    cg_dtype, np_dtype = DTYPES[dtype]
    (a,) = _arrays([shape], np_dtype, seed)
    t = cg.tensor(a)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keep = data.draw(st.booleans())
    tol = TOL[dtype]
    np.testing.assert_allclose(t.sum().numpy(), a.sum(dtype=np.float64), **tol)
    np.testing.assert_allclose(t.sum(dim, keepdim=keep).numpy(), a.sum(dim, keepdims=keep), **tol)
    np.testing.assert_allclose(t.mean(dim, keepdim=keep).numpy(), a.mean(dim, keepdims=keep), **tol)
    np.testing.assert_array_equal(t.max(dim, keepdim=keep).values.numpy(), a.max(dim, keepdims=keep))
    np.testing.assert_array_equal(t.min(dim).indices.numpy(), a.argmin(dim))
    np.testing.assert_array_equal(t.argmax().numpy(), a.argmax())
    np.testing.assert_allclose(t.norm().numpy(), np.linalg.norm(a.astype(np.float64)), **tol)
    if a.shape[dim] > 1:
        np.testing.assert_allclose(t.var(dim).numpy(), a.var(dim, ddof=1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                   ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 4)), ((1, 0), (0, 2))])
def test_matmul_matches_numpy(dtype, sa, sb):
    cg_dtype, np_dtype = DTYPES[dtype]
    a, b = _arrays([sa, sb], np_dtype, 7)
    np.testing.assert_allclose((cg.tensor(a) @ cg.tensor(b)).numpy(), a @ b, rtol=1e-5, atol=1e-5)


def test_matmul_on_strided_views_and_int64():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    t = cg.tensor(a)
    np.testing.assert_allclose((t[:, ::2] @ t.t()[::2]).numpy(), a[:, ::2] @ a.T[::2])
    i = np.arange(6, dtype=np.int64).reshape(2, 3)
    np.testing.assert_array_equal((cg.tensor(i) @ cg.tensor(i.T)).numpy(), i @ i.T)


def test_large_matmul_matches_numpy():
    a, b = _arrays([(300, 200), (200, 250)], np.float64, 3)
    np.testing.assert_allclose((cg.tensor(a) @ cg.tensor(b)).numpy(), a @ b, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), data=st.data())
def test_views_match_numpy(shape, data):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    t = cg.tensor(a)
    perm = data.draw(st.permutations(range(len(shape))))
    np.testing.assert_array_equal(t.permute(*perm).numpy(), a.transpose(perm))
    np.testing.assert_array_equal(t.reshape(-1).numpy(), a.reshape(-1))
    np.testing.assert_array_equal(t.permute(*perm).reshape(-1).numpy(), a.transpose(perm).reshape(-1))
    np.testing.assert_array_equal(t.unsqueeze(0).numpy(), a[None])
    np.testing.assert_array_equal(t.flatten().numpy(), a.flatten())
    index = tuple(data.draw(st.one_of(st.integers(-s, s - 1), st.slices(s))) for s in shape)
    if any(isinstance(i, slice) and i.step is not None and i.step < 0 for i in index):
        return
    np.testing.assert_array_equal(t[index].numpy(), a[index])


def test_cat_stack_where_expand():
    a = np.arange(6.0).reshape(2, 3)
    b = np.ones((2, 2))
    np.testing.assert_array_equal(cg.cat([cg.tensor(a), cg.tensor(b)], 1).numpy(), np.concatenate([a, b], 1))
    np.testing.assert_array_equal(cg.stack([cg.tensor(a), cg.tensor(a)], -1).numpy(), np.stack([a, a], -1))
    np.testing.assert_array_equal(cg.where(cg.tensor(a) > 2, cg.tensor(a), 0.0).numpy(), np.where(a > 2, a, 0))
    np.testing.assert_array_equal(cg.tensor([[1.0], [2.0]]).expand(2, 3).numpy(), np.array([[1.0] * 3, [2.0] * 3]))


def test_softmax_is_stable_and_normalised():
    x = cg.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    s = x.softmax(-1)
    assert np.all(np.isfinite(s.numpy()))
    np.testing.assert_allclose(s.sum(-1).numpy(), [1.0, 1.0], rtol=1e-6)
    ls = x.log_softmax(-1).numpy()
    np.testing.assert_allclose(ls[0], [-2.4076059, -1.4076059, -0.4076059], rtol=1e-5)


def test_linspace_arange_match_numpy():
    # computed in float32, as PyTorch (tests/test_reductions_api.py checks its bits): within an ulp
    np.testing.assert_allclose(cg.linspace(-np.pi, np.pi, 2000).numpy(),
                               np.linspace(-np.pi, np.pi, 2000).astype(np.float32), rtol=0, atol=2.5e-7)
    assert cg.linspace(0, 1, 5).tolist()[-1] == 1.0
    assert cg.arange(5).tolist() == [0, 1, 2, 3, 4] and cg.arange(5).dtype is cg.int64
    np.testing.assert_allclose(cg.arange(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75])


@pytest.mark.parametrize("name,ref", [("exp", np.exp), ("tanh", np.tanh),
                                      ("sigmoid", lambda v: 1 / (1 + np.exp(-v)))])
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_float32_transcendentals_within_two_ulp(name, ref):
    x = np.concatenate([np.linspace(-87, 88.7, 200001), np.linspace(-1e-3, 1e-3, 2001)]).astype(np.float32)
    ours = getattr(cg.from_numpy(x), name)().numpy().astype(np.float64)
    expected = ref(x.astype(np.float64))
    ok = np.abs(expected) > 1e-37
    assert np.max(np.abs(ours[ok] - expected[ok]) / np.abs(expected[ok])) < 2.5e-7
    special = cg.tensor([np.nan, np.inf, -np.inf, 0.0, -0.0, 100.0, -100.0])
    got = getattr(special, name)().numpy()
    want = ref(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 100.0, -100.0], dtype=np.float32))
    np.testing.assert_array_equal(np.signbit(got[3:5]), np.signbit(want[3:5]))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=3e-45)  # exp(-100) is a denormal
