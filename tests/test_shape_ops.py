"""The split, reorder, scan and count ops (narrow, split, chunk, unbind, flip, roll, tril, triu,
cumsum, sort, argsort, topk, unique, bincount, histc, histogram) against PyTorch: values, index
tie-breaking, gradients where the op database's samples do not reach (ties, zeros), named results
and errors. The op database (tests/op_db.py) checks their forward, first and second derivatives."""

import numpy as np
import pytest

import chaingrad as cg


def _both(torch, fn, *arrays, dtype="float64"):
    """fn on chaingrad and on PyTorch tensors of the same arrays."""
    ours = fn(cg, *[cg.tensor(np.asarray(a, dtype=dtype)) for a in arrays])
    theirs = fn(torch, *[torch.tensor(np.asarray(a, dtype=dtype)) for a in arrays])
    return ours, theirs


def _same(ours, theirs):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(np.asarray(ours.tolist()), np.asarray(theirs.tolist()))  # bfloat16 has no numpy


# --- sort, argsort, topk: ties and NaN as PyTorch ----------------------------------------------

TIES = np.array([[1.0, 3, 3, 2, 3, np.nan, 1, 3], [0, 0, 0, 0, 0, 0, 0, 0], [np.nan, 2, np.nan, -1, 2, 2, 5, -1]])


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_is_stable_and_puts_nan_last_like_torch(torch, descending, dim):
    ours, theirs = _both(torch, lambda lib, x: lib.sort(x, dim, descending=descending), TIES)
    _same(ours.values, theirs.values)
    _same(ours.indices, theirs.indices)
    _same(*_both(torch, lambda lib, x: x.argsort(dim, descending=descending), TIES))


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_sort_other_dtypes_like_torch(torch, dtype):
    x = np.random.default_rng(0).integers(-3, 3, (4, 9))
    for descending in (False, True):
        ours, theirs = _both(
            torch, lambda lib, t, descending=descending: t.sort(descending=descending, stable=True), x, dtype=dtype
        )
        _same(ours.values, theirs.values)
        _same(ours.indices, theirs.indices)


def test_topk_breaks_ties_as_torch(torch):
    rng = np.random.default_rng(1)
    for _ in range(60):
        n = int(rng.integers(1, 200))
        x = rng.integers(0, 4, n).astype(np.float64)
        if rng.random() < 0.3:
            x[rng.integers(0, n, 3)] = np.nan
        k = int(rng.integers(0, n + 1))
        for largest in (True, False):
            for srt in (True, False):
                ours, theirs = _both(
                    torch, lambda lib, t, k=k, largest=largest, srt=srt: t.topk(k, largest=largest, sorted=srt), x
                )
                _same(ours.indices, theirs.indices)
                _same(ours.values, theirs.values)


def test_topk_along_a_dim_and_0d(torch):
    x = np.random.default_rng(2).integers(0, 3, (3, 4, 5)).astype(np.float64)
    for dim in (0, 1, -1):
        ours, theirs = _both(torch, lambda lib, t, dim=dim: lib.topk(t, 2, dim), x)
        _same(ours.indices, theirs.indices)
    ours, theirs = _both(torch, lambda lib, t: t.topk(1), 3.5)
    _same(ours.values, theirs.values)
    _same(ours.indices, theirs.indices)


def test_sort_and_topk_gradients_with_ties_match_torch(torch):
    def grad(lib, fn):
        x = lib.tensor(TIES[1:2].repeat(2, 0) + np.arange(8) % 3, requires_grad=True)
        fn(x).backward(
            lib.ones(fn(x).shape, dtype=lib.float64)
            * lib.arange(1, 1 + fn(x).numel(), dtype=lib.float64).reshape(fn(x).shape)
        )
        return x.grad.numpy()

    for fn in (
        lambda x: x.sort(1, descending=True).values,
        lambda x: x.topk(3).values,
        lambda x: x.topk(2, 0, largest=False).values,
    ):
        np.testing.assert_array_equal(grad(cg, fn), grad(torch, fn))


def test_sort_results_are_named_tuples_printed_as_torch(torch):
    ours, theirs = _both(torch, lambda lib, x: x.sort(), [3.0, 1.0, 2.0], dtype="float32")
    values, indices = ours
    assert ours[0] is values and ours.indices is indices
    assert repr(ours) == repr(theirs)
    ours, theirs = _both(torch, lambda lib, x: x.topk(2), [3.0, 1.0, 2.0], dtype="float32")
    assert repr(ours) == repr(theirs)
    assert isinstance(ours, tuple) and len(ours) == 2


def test_sort_and_topk_errors():
    x = cg.ones(2, 3)
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="out of range"):
        x.topk(-1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sort(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.topk(1, dim=-3)


# --- cumsum -------------------------------------------------------------------------------------


def test_cumsum_dtypes_and_values_like_torch(torch):
    x = np.random.default_rng(3).standard_normal((3, 4)) * 1e3
    for dtype in ("float32", "float64", "int64", "bool"):
        for dim in (0, 1):
            ours, theirs = _both(
                torch, lambda lib, t, dim=dim: t.cumsum(dim), x > 0 if dtype == "bool" else x, dtype=dtype
            )
            _same(ours, theirs)
    ours, theirs = _both(torch, lambda lib, t: lib.cumsum(t, 0, dtype=lib.float64), [1, 2, 3], dtype="int64")
    _same(ours, theirs)


def test_cumsum_float32_accumulates_as_torch(torch):
    x = np.random.default_rng(4).standard_normal(10000).astype(np.float32)
    _same(*_both(torch, lambda lib, t: t.cumsum(0), x, dtype="float32"))


def test_cumsum_gradient_to_another_dtype(torch):
    def grad(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x.cumsum(0, dtype=lib.float64) * lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64)).sum().backward()
        return x.grad

    ours, theirs = grad(cg), grad(torch)
    _same(ours, theirs)


# --- views: narrow, split, chunk, unbind ----------------------------------------------------------


@pytest.mark.parametrize("size,chunks", [(5, 3), (6, 3), (6, 4), (1, 3), (7, 7), (0, 2)])
def test_chunk_pieces_like_torch(torch, size, chunks):
    ours, theirs = _both(torch, lambda lib, t: t.chunk(chunks), np.arange(size))
    assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]


@pytest.mark.parametrize("split", [2, 1, 5, 9, [1, 4], [0, 5, 0]])
def test_split_pieces_like_torch(torch, split):
    ours, theirs = _both(torch, lambda lib, t: lib.split(t, split, 1), np.zeros((2, 5)))
    assert [tuple(p.shape) for p in ours] == [tuple(p.shape) for p in theirs]


def test_views_share_memory_and_carry_gradients():
    x = cg.arange(12.0).reshape(3, 4)
    a, b = x.split([1, 3], 1)
    a.fill_(-1)  # a view: the write shows in x
    assert x[0, 0].item() == -1
    rows = x.unbind(0)
    assert len(rows) == 3 and tuple(rows[1].shape) == (4,)
    w = cg.ones(3, 4, requires_grad=True)
    sum(p.sum() * (i + 1) for i, p in enumerate(w.chunk(2, 1))).backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1, 2, 2]] * 3)


def test_split_and_narrow_errors():
    x = cg.zeros(2, 5)
    with pytest.raises(RuntimeError, match="sum exactly to 5"):
        x.split([2, 2], 1)
    with pytest.raises(RuntimeError, match="non-negative"):
        x.split(-1)
    with pytest.raises(RuntimeError, match="greater than 0"):
        x.chunk(0)
    with pytest.raises(IndexError):
        x.narrow(1, 3, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.unbind(2)


# --- flip, roll, tril, triu -------------------------------------------------------------------------


def test_flip_roll_like_torch(torch):
    x = np.arange(24).reshape(2, 3, 4)
    _same(*_both(torch, lambda lib, t: t.flip(1), x, dtype="int64"))
    _same(*_both(torch, lambda lib, t: lib.flip(t, (0, 2)), x, dtype="int64"))
    _same(*_both(torch, lambda lib, t: t.flip([]), x, dtype="int64"))
    for shifts, dims in [(1, 0), (-7, 2), ((1, 2), (0, 1)), (5, None), (0, 1)]:
        _same(*_both(torch, lambda lib, t, shifts=shifts, dims=dims: lib.roll(t, shifts, dims), x, dtype="int64"))


def test_flip_and_roll_errors():
    x = cg.zeros(2, 3)
    with pytest.raises(RuntimeError, match="multiple times"):
        x.flip(0, -2)
    with pytest.raises(RuntimeError, match="align"):
        x.roll((1, 2), 0)
    with pytest.raises(IndexError):
        x.flip(2)


@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
def test_tril_triu_like_torch(torch, diagonal):
    x = np.arange(1, 1 + 2 * 3 * 4).reshape(2, 3, 4)
    for name in ("tril", "triu"):
        _same(*_both(torch, lambda lib, t, name=name: getattr(t, name)(diagonal), x, dtype="float32"))
        _same(*_both(torch, lambda lib, t, name=name: getattr(lib, name)(t > 5, diagonal=diagonal), x, dtype="int64"))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cg.ones(3).tril()


# --- unique, bincount, histc, histogram -------------------------------------------------------------


def test_unique_like_torch(torch):
    x = np.array([[3, 1, 2], [3, 1, -5]])
    for dtype in ("int64", "float32", "bool"):
        data = x > 1 if dtype == "bool" else x
        ours, theirs = _both(
            torch, lambda lib, t: lib.unique(t, return_inverse=True, return_counts=True), data, dtype=dtype
        )
        for a, b in zip(ours, theirs):
            _same(a, b)
    ours, theirs = _both(torch, lambda lib, t: t.unique(sorted=False), x, dtype="int64")
    _same(ours, theirs)
    ours, theirs = _both(torch, lambda lib, t: t.unique(return_counts=True), np.zeros(0), dtype="float32")
    for a, b in zip(ours, theirs):
        _same(a, b)


def test_bincount_like_torch(torch):
    x = [1, 1, 3, 0, 7]
    _same(*_both(torch, lambda lib, t: lib.bincount(t), x, dtype="int64"))
    _same(*_both(torch, lambda lib, t: t.bincount(minlength=10), x, dtype="int64"))
    _same(*_both(torch, lambda lib, t: t.bincount(minlength=3), [], dtype="int64"))
    for wdtype in ("float32", "float64", "int64"):
        ours = cg.tensor(x).bincount(cg.tensor([0.5, 1, 2, 3, 4], dtype=getattr(cg, wdtype)))
        theirs = torch.tensor(x).bincount(torch.tensor([0.5, 1, 2, 3, 4], dtype=getattr(torch, wdtype)))
        _same(ours, theirs)


def test_bincount_errors():
    with pytest.raises(RuntimeError, match="non-negative"):
        cg.tensor([1, -1]).bincount()
    with pytest.raises(RuntimeError, match="1-d"):
        cg.tensor([[1]]).bincount()
    with pytest.raises(RuntimeError, match="minlength"):
        cg.tensor([1]).bincount(minlength=-1)
    with pytest.raises(RuntimeError, match="same length"):
        cg.tensor([1, 2]).bincount(cg.tensor([1.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_bins_like_torch(torch, dtype):
    rng = np.random.default_rng(5)
    for _ in range(30):
        bins = int(rng.integers(1, 40))
        lo, hi = rng.uniform(-3, 0), rng.uniform(0.1, 3)
        edges = np.linspace(lo, hi, bins + 1)
        x = np.concatenate([edges, rng.uniform(lo - 1, hi + 1, 60), [np.nan]])
        _same(*_both(torch, lambda lib, t, bins=bins, lo=lo, hi=hi: t.histc(bins, lo, hi), x, dtype=dtype))
    _same(*_both(torch, lambda lib, t: lib.histc(t, 7), rng.standard_normal(50), dtype=dtype))
    _same(*_both(torch, lambda lib, t: t.histc(3), [2.0, 2.0], dtype=dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histogram_like_torch(torch, dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(200)
    w = rng.uniform(0, 2, 200)
    cases = [
        lambda lib, t, w: lib.histogram(t),
        lambda lib, t, w: t.histogram(13, density=True),
        lambda lib, t, w: lib.histogram(t, 9, range=(-1.0, 2.0), weight=w),
        lambda lib, t, w: lib.histogram(
            t, lib.tensor([-2.0, -0.5, 0.0, 0.1, 3.0], dtype=t.dtype), weight=w, density=True
        ),
        lambda lib, t, w: lib.histogram(t[:1] * 0, 4),
    ]
    for fn in cases:
        ours, theirs = _both(torch, fn, x, w, dtype=dtype)
        assert repr(type(ours).__name__) == repr(type(theirs).__name__)
        np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-6)
        _same(ours.bin_edges, theirs.bin_edges)
    ours, theirs = _both(torch, lambda lib, t: lib.histogram(t, 3), [1.0, 2, 1, 4], dtype="float32")
    assert repr(ours) == repr(theirs)


def test_histogram_errors():
    with pytest.raises(RuntimeError):
        cg.tensor([1, 2]).histc()
    with pytest.raises(RuntimeError, match="bins"):
        cg.tensor([1.0]).histogram(0)
    with pytest.raises(RuntimeError, match="increase"):
        cg.tensor([1.0]).histogram(cg.tensor([1.0, 0.0]))
    with pytest.raises(RuntimeError, match="weight"):
        cg.tensor([1.0]).histogram(2, weight=cg.tensor([1.0, 2.0]))


# --- one_hot ---------------------------------------------------------------------------------------


def test_one_hot_like_torch(torch):
    import torch.nn.functional as TF

    import chaingrad.nn.functional as F

    for data, n in [([0, 2, 1], -1), ([0, 2, 1], 5), ([[1], [2]], 3), (3, 4)]:
        ours, theirs = F.one_hot(cg.tensor(data), n), TF.one_hot(torch.tensor(data), n)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tuple(F.one_hot(cg.zeros(0, dtype=cg.int64), 3).shape) == (0, 3)
    for bad, n, message in [
        ([0, 3], 3, "smaller than num_classes"),
        ([-1], 3, "non-negative"),
        ([0.0], 3, "LongTensor"),
        ([True], 2, "LongTensor"),
    ]:
        with pytest.raises(RuntimeError, match=message):
            F.one_hot(cg.tensor(bad), n)
        with pytest.raises(RuntimeError):
            TF.one_hot(torch.tensor(bad), n)
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(cg.zeros(0, dtype=cg.int64))


# --- cumprod through zeros ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    [[2.0, 0.5, -1.5, 3.0], [0.0, 2.0, 3.0, 0.5], [2.0, 0.0, 3.0, 0.0], [1.5, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]],
)
def test_cumprod_gradients_through_zeros_match_torch(torch, row):
    x = np.array([row, row[::-1]])

    def grads(lib, dim):
        t = lib.tensor(x if dim == 1 else x.T.copy(), requires_grad=True)
        out = t.cumprod(dim)
        weights = lib.tensor(np.arange(1.0, 1 + out.numel()).reshape(tuple(out.shape)))
        (g,) = lib.autograd.grad((out * weights).sum(), t, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), t)
        return out.detach().numpy(), g.detach().numpy(), gg.numpy()

    for dim in (0, 1):
        for a, b in zip(grads(cg, dim), grads(torch, dim)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_cumprod_dtypes_like_torch(torch):
    for dtype in ("int64", "bool", "float32"):
        _same(*_both(torch, lambda lib, t: t.cumprod(1), [[1, 2, 3], [0, 4, 5]], dtype=dtype))
    _same(*_both(torch, lambda lib, t: lib.cumprod(t, 0, dtype=lib.float64), [1, 2, 3], dtype="int64"))


def test_storage_dtypes_like_torch(torch):
    x = [0.5, 1.0, -0.2, 0.7, 0.7]
    for name in ("float16", "bfloat16"):
        ours, theirs = cg.tensor(x).to(getattr(cg, name)), torch.tensor(x).to(getattr(torch, name))
        for fn in (
            lambda lib, t: t.histc(4),
            lambda lib, t: t.cumsum(0),
            lambda lib, t: t.sort(descending=True)[1],
            lambda lib, t: t.topk(2)[1],
            lambda lib, t: t.unique(),
            lambda lib, t: t.flip(0),
        ):
            _same(fn(cg, ours), fn(torch, theirs))
        with pytest.raises(NotImplementedError):
            cg.histogram(ours, 3)
    # float16's bin edges are PyTorch's to the bit (bfloat16's linspace rounds differently: not checked)
    ours, theirs = cg.tensor(x).to(cg.float16), torch.tensor(x).to(torch.float16)
    _same(
        cg.histogram(ours, 3, range=(-1.0, 1.0), density=True).hist,
        torch.histogram(theirs, 3, range=(-1.0, 1.0), density=True).hist,
    )
    counts = [1, 3, 1]
    for name in ("int32", "int8", "uint8"):
        ours, theirs = cg.tensor(counts).to(getattr(cg, name)), torch.tensor(counts).to(getattr(torch, name))
        _same(ours.bincount(), theirs.bincount())
        _same(ours.bincount(cg.ones(3, dtype=cg.float16)), theirs.bincount(torch.ones(3, dtype=torch.float16)))
        _same(ours.cumsum(0), theirs.cumsum(0))
        _same(ours.all(), theirs.all())
