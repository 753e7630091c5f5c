"""The reductions' PyTorch API details: keepdims= and axis=, several dims, var/std corrections and
overloads, max/min's named results, all/any over dims, isclose/allclose/equal, prod through zeros,
logsumexp at infinities; and the small API: formatting a 0-d tensor, base ** tensor, linspace, and
NaN through relu, maximum, minimum, max, min and clamp as PyTorch."""

import math

import numpy as np
import pytest

import chaingrad as cg

X = np.random.default_rng(0).standard_normal((3, 4, 2))


def _both(torch, fn, *arrays, dtype="float64"):
    ours = fn(cg, *[cg.tensor(np.asarray(a, dtype=dtype)) for a in arrays])
    theirs = fn(torch, *[torch.tensor(np.asarray(a, dtype=dtype)) for a in arrays])
    return ours, theirs


def _close(ours, theirs, exact=False):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    if exact:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    else:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


REDUCTIONS = [
    lambda lib, x: x.sum(1, keepdims=True),
    lambda lib, x: lib.sum(x, axis=(0, 2)),
    lambda lib, x: x.sum(dim=[0, 2], keepdims=True),
    lambda lib, x: x.mean((0, 1), keepdim=True),
    lambda lib, x: lib.mean(x, dim=-1, keepdims=True),
    lambda lib, x: (x > 0).sum(dtype=lib.float64),
    lambda lib, x: x.amax((0, 2), keepdims=True),
    lambda lib, x: lib.amin(x, 1, keepdims=True),
    lambda lib, x: x.argmax(1, keepdims=True),
    lambda lib, x: lib.argmin(x, dim=2, keepdims=True),
    lambda lib, x: x.norm(dim=(1, 2), keepdim=True),
    lambda lib, x: x.var(0, keepdims=True),
    lambda lib, x: x.var((0, 1), unbiased=False),
    lambda lib, x: x.var(dim=1, correction=0, keepdim=True),
    lambda lib, x: x.var(False),
    lambda lib, x: x.std(0, True, True),
    lambda lib, x: x.std(dim=[0, 2], correction=2),
    lambda lib, x: lib.std(x, unbiased=False),
    lambda lib, x: lib.var(x, 1, keepdims=True),
    lambda lib, x: x.prod(1, keepdims=True),
    lambda lib, x: lib.prod(x),
    lambda lib, x: x.logsumexp((0, 2), keepdims=True),
    lambda lib, x: lib.logsumexp(x, 1),
    lambda lib, x: x.max(1, keepdims=True).values,
    lambda lib, x: lib.min(x, dim=0).indices,
    lambda lib, x: (x > 0).all(1, keepdims=True),
    lambda lib, x: lib.any(x > 1, dim=2),
    lambda lib, x: lib.all(x > -3),
]


@pytest.mark.parametrize("k", range(len(REDUCTIONS)))
def test_reduction_spellings_match_torch(torch, k):
    _close(*_both(torch, REDUCTIONS[k], X))


@pytest.mark.parametrize("fn", [lambda lib: lib.var_mean, lambda lib: lib.std_mean])
def test_var_mean_and_std_mean_match_torch(torch, fn):
    for args, kwargs in [((), {}), ((1,), {"keepdim": True}), (((0, 2),), {"correction": 0}), ((False,), {})]:
        ours, theirs = _both(torch, lambda lib, x, args=args, kwargs=kwargs: fn(lib)(x, *args, **kwargs), X)
        assert isinstance(ours, tuple) and len(ours) == 2
        for a, b in zip(ours, theirs):
            _close(a, b)


def test_max_min_dim_results_are_named_tuples_printed_as_torch(torch):
    x = [[1.0, float("nan"), 3.0], [4.0, -1.0, 2.0]]
    for fn in (
        lambda lib, t: t.max(1),
        lambda lib, t: t.max(1, keepdim=True),
        lambda lib, t: lib.min(t, dim=0),
        lambda lib, t: t.min(-1, keepdims=True),
    ):
        ours, theirs = _both(torch, fn, x, dtype="float32")
        assert repr(ours) == repr(theirs)
        assert str(ours) == str(theirs)
        values, indices = ours
        assert ours.values is values and ours[1] is indices
        _close(values, theirs.values, exact=True)


def test_binary_max_min(torch):
    a, b = X[0], X[1]
    _close(*_both(torch, lambda lib, s, t: lib.max(s, t), a, b))
    _close(*_both(torch, lambda lib, s, t: s.min(t), a, b))


def test_prod_gradient_through_zeros_matches_torch(torch):
    x = np.array([[2.0, 0.0, 3.0, -1.5, 0.5], [0.0, 0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0]])

    def grads(lib, fn):
        t = lib.tensor(x, requires_grad=True)
        out = fn(t)
        (g,) = lib.autograd.grad(
            (out * lib.arange(1.0, 1 + out.numel(), dtype=lib.float64).reshape(out.shape)).sum(), t, create_graph=True
        )
        (gg,) = lib.autograd.grad((g * g).sum(), t)
        return g.detach().numpy(), gg.numpy()

    for fn in (lambda t: t.prod(1), lambda t: t.prod(), lambda t: t.prod(0, keepdim=True)):
        for a, b in zip(grads(cg, fn), grads(torch, fn)):
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_prod_dtypes_like_torch(torch):
    for dtype in ("int64", "bool", "float32"):
        _close(*_both(torch, lambda lib, t: t.prod(0), [[1, 2], [3, 0], [5, 6]], dtype=dtype))
    _close(*_both(torch, lambda lib, t: t.prod(dtype=lib.float64), [1, 2, 3], dtype="int64"))


def test_logsumexp_with_infinities_matches_torch(torch):
    x = [[0.0, -math.inf, 1.0], [-math.inf, -math.inf, -math.inf], [math.inf, 1.0, 2.0], [1000.0, 1000.0, -5]]
    _close(*_both(torch, lambda lib, t: t.logsumexp(1), x))
    _close(*_both(torch, lambda lib, t: lib.logsumexp(t, 0, keepdim=True), x[:1] + x[3:]))
    _close(*_both(torch, lambda lib, t: t.logsumexp(0), [1, 2, 3], dtype="int64"))


def test_all_any_like_torch(torch):
    x = [[0.0, float("nan"), 1.0], [0.0, 0.0, 0.0]]
    for fn in (
        lambda lib, t: t.all(),
        lambda lib, t: t.any(),
        lambda lib, t: t.all(1),
        lambda lib, t: t.any(0, True),
        lambda lib, t: lib.all(t, dim=1, keepdim=True),
        lambda lib, t: lib.any(t),
    ):
        _close(*_both(torch, fn, x), exact=True)
    _close(*_both(torch, lambda lib, t: t.all(), np.zeros((0, 2))), exact=True)
    _close(*_both(torch, lambda lib, t: t.any(), np.zeros((0, 2))), exact=True)


def test_isclose_allclose_equal_like_torch(torch):
    a = [1.0, 2.0, math.inf, -math.inf, math.nan, 1e-9, 100.0]
    b = [1.0 + 1e-6, 2.1, math.inf, math.inf, math.nan, 0.0, 100.001]
    for kwargs in ({}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 1e-3, "rtol": 0}):
        _close(*_both(torch, lambda lib, s, t, kwargs=kwargs: lib.isclose(s, t, **kwargs), a, b), exact=True)
        ours, theirs = _both(torch, lambda lib, s, t, kwargs=kwargs: lib.allclose(s[:2], t[:2], **kwargs), a, b)
        assert ours is theirs
    for x, y in [([1, 2], [1, 2]), ([1, 2], [1, 3]), ([1.0, math.nan], [1.0, math.nan]), ([1], [[1]])]:
        ours, theirs = _both(torch, lambda lib, s, t: lib.equal(s, t), x, y)
        assert ours is theirs
    with pytest.raises(RuntimeError):
        cg.isclose(cg.tensor([1.0]), cg.tensor([1.0], dtype=cg.float64))


def test_nan_reductions_match_torch(torch):
    x = [[1.0, math.nan, 3.0], [math.nan, 0.5, 2.0]]

    def run(lib, fn):
        t = lib.tensor(x, requires_grad=True)
        out = fn(lib, t)
        out.sum().backward()
        return out.detach().numpy(), t.grad.numpy()

    for fn in (
        lambda lib, t: t.nansum(1),
        lambda lib, t: lib.nansum(t),
        lambda lib, t: t.nanmean(0, keepdim=True),
        lambda lib, t: lib.nanmean(t),
        lambda lib, t: t.nansum(dtype=lib.float64),
    ):
        for a, b in zip(run(cg, fn), run(torch, fn)):
            np.testing.assert_allclose(a, b)
    _close(*_both(torch, lambda lib, t: t.nansum(), [1, 2], dtype="int64"))
    _close(*_both(torch, lambda lib, t: t.nanmean(0), [[math.nan, 1.0], [math.nan, 2.0]]))  # all NaN: NaN
    with pytest.raises(RuntimeError, match="floating point"):
        cg.tensor([1, 2]).nanmean()


def test_aminmax_and_count_nonzero_match_torch(torch):
    x = [[1, 5, 0], [3, 2, 0]]
    for kwargs in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}):
        ours, theirs = _both(torch, lambda lib, t, kwargs=kwargs: lib.aminmax(t, **kwargs), x, dtype="int64")
        assert repr(ours) == repr(theirs)
    ours, theirs = _both(torch, lambda lib, t: t.aminmax(), [[1.0, math.nan]], dtype="float32")
    assert repr(ours) == repr(theirs)
    for fn in (
        lambda lib, t: lib.count_nonzero(t),
        lambda lib, t: t.count_nonzero(1),
        lambda lib, t: t.count_nonzero((0, 1)),
    ):
        _close(*_both(torch, fn, x, dtype="float32"), exact=True)
    with pytest.raises(RuntimeError, match="empty"):
        cg.zeros(0).aminmax()


def test_all_any_over_no_dims_reduce_nothing(torch):
    for name in ("all", "any"):
        _close(*_both(torch, lambda lib, t, name=name: getattr(t, name)(()), [[0.0, 2.0]]), exact=True)


def test_reduction_errors():
    x = cg.zeros(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(keepdims=True, dim=2)
    with pytest.raises(RuntimeError, match="multiple times"):
        x.mean((0, 0))
    with pytest.raises(IndexError):
        x.prod(3)
    with pytest.raises(IndexError):
        x.logsumexp(2)
    with pytest.raises(TypeError, match="keepdim"):
        x.prod(keepdim=True)
    with pytest.raises(IndexError, match="non-zero size"):  # IndexError, as PyTorch
        cg.zeros(2, 0).max(1)


# --- the small API -------------------------------------------------------------------------------


def test_format_of_a_0d_tensor_is_its_number(torch):
    for value, dtype in [(0.0, "float32"), (1.23456, "float64"), (3, "int64"), (True, "bool")]:
        ours, theirs = cg.tensor(value, dtype=getattr(cg, dtype)), torch.tensor(value, dtype=getattr(torch, dtype))
        assert f"{ours}" == f"{theirs}"
        assert f"x={ours}" == f"x={theirs}"
        if dtype != "float64":  # (whose repr names the library)
            assert f"{ours=}".replace("ours", "t") == f"{theirs=}".replace("theirs", "t")
        if dtype != "bool":
            assert f"{ours:.4f}" == f"{theirs:.4f}"
    vec = cg.tensor([1.0, 2.0])
    assert f"{vec}" == str(vec)
    with pytest.raises(TypeError, match="unsupported format string"):
        format(vec, ".2f")


def test_rpow_values_and_gradients_match_torch(torch):
    def run(lib, base):
        x = lib.tensor([-1.0, 0.0, 0.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = base**x
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return y.detach().numpy(), g.detach().numpy(), gg.numpy()

    for base in (10, 2.5, 0.5):
        for a, b in zip(run(cg, base), run(torch, base)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert (2 ** cg.tensor([1, 3])).tolist() == [2, 8]


@pytest.mark.parametrize("steps", [0, 1, 2, 7, 100, 1000])
def test_linspace_matches_torch_bit_for_bit(torch, steps):
    for dtype in ("float32", "float64"):
        for start, end in [(-3, 0), (0.1, 7.3), (5, -2)]:
            ours = cg.linspace(start, end, steps, dtype=getattr(cg, dtype))
            theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
            _close(ours, theirs, exact=True)
    with pytest.raises(RuntimeError, match="non-negative"):
        cg.linspace(0, 1, -1)


NANS = [[1.0, math.nan, -2.0], [math.nan, 0.0, 3.0]]


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.relu(),
        lambda lib, x: lib.maximum(x, x.flip(0)),
        lambda lib, x: lib.minimum(x, lib.tensor(0.5, dtype=x.dtype)),
        lambda lib, x: lib.max(x, x.flip(1)),
        lambda lib, x: x.min(x.flip(0)),
        lambda lib, x: x.max(),
        lambda lib, x: x.min(1).values,
        lambda lib, x: x.amax(0),
        lambda lib, x: x.clamp(-1, 0.5),
        lambda lib, x: x.clamp(min=0),
        lambda lib, x: x.clamp(max=0),
    ],
)
def test_nan_propagates_as_in_torch(torch, fn):
    _close(*_both(torch, fn, NANS), exact=True)


def test_nelement_numel_log10(torch):
    x = cg.zeros(2, 3)
    assert x.nelement() == x.numel() == cg.numel(x) == 6
    _close(*_both(torch, lambda lib, t: t.log10(), [1.0, 10.0, 1e-3]))
