"""Advanced indexing (integer and bool tensors, lists, ranges and ndarrays as indices), assignment
through it, and the index ops, against PyTorch: values, shapes, placement of the indexed dims,
gradients (scatter-add for repeats), in-place rules and errors. (tests/op_db.py drives the generic
gradient, second-derivative and dtype tests of the same ops.)"""

import numpy as np
import pytest

import chaingrad as cg

# PyTorch warns that it will stop reading a list of index lists as a tuple; it still does, as we do
pytestmark = pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


X = np.arange(60, dtype=np.float64).reshape(3, 4, 5) / 7.0

# keys as functions of the library, so that the same key is built from each library's tensors
KEYS = {
    "int tensor": lambda lib: lib.tensor([2, 0, 2]),
    "2-d int tensor": lambda lib: lib.tensor([[0, 1], [2, 2]]),
    "list": lambda lib: [1, 1, 0],
    "nested list": lambda lib: [[0], [2]],
    "range": lambda lib: range(2),
    "ndarray int32": lambda lib: np.array([2, 1], dtype=np.int32),
    "empty list": lambda lib: [],
    "mask": lambda lib: lib.tensor([True, False, True]),
    "2-d mask": lambda lib: lib.tensor(X[..., 0] > 3),
    "full mask": lambda lib: lib.tensor(X > 4),
    "list of bools": lambda lib: [False, True, True],
    "two tensors": lambda lib: (lib.arange(3), lib.tensor([3, 0, 1])),
    "adjacent after slice": lambda lib: (slice(None), [0, 1], [4, 2]),
    "apart": lambda lib: ([0, 2], slice(None), [4, 2]),
    "int then tensor": lambda lib: (0, slice(None), [1, 2]),
    "broadcast": lambda lib: (lib.tensor([[0], [2]]), lib.tensor([1, 3, 0])),
    "ellipsis": lambda lib: (Ellipsis, [1, -1]),
    "none around": lambda lib: (None, [1, 2], None),
    "slice and mask": lambda lib: (slice(1, None), lib.tensor([True, False, True, True])),
    "negative": lambda lib: (lib.tensor([-1, -3]),),
    "list of tensors": lambda lib: [lib.tensor([0, 1]), lib.tensor([1, 2])],
    "python bool": lambda lib: True,
    "python false": lambda lib: (False, 0),
    "0-d int tensor": lambda lib: lib.tensor(1),
    "0-d bool tensor": lambda lib: lib.tensor(True),
    "tuple in tuple": lambda lib: ((0, 1),),
}


@pytest.mark.parametrize("name", list(KEYS))
def test_reading_matches_torch(torch, name):
    key = KEYS[name]
    x, t = cg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ours, theirs = x[key(cg)], t[key(torch)]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    assert ours.is_contiguous() == theirs.is_contiguous()
    w = np.random.default_rng(0).standard_normal(tuple(theirs.shape))
    (ours * cg.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert ours.grad_fn.name() == type(theirs.grad_fn).__name__


@pytest.mark.parametrize("name", [k for k in KEYS if k not in ("python false", "empty list")])
def test_writing_matches_torch(torch, name):
    key = KEYS[name]
    x, t = cg.tensor(X), torch.tensor(X)
    shape = tuple(t[key(torch)].shape)
    v = np.random.default_rng(1).standard_normal(shape)
    x[key(cg)] = cg.tensor(v)
    t[key(torch)] = torch.tensor(v)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    x[key(cg)] = -1.5  # a number, broadcast
    t[key(torch)] = -1.5
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_the_lectures_forms(torch):
    rng = np.random.default_rng(0)
    C, Xb, ys = rng.standard_normal((27, 10)), rng.integers(0, 27, (32, 3)), rng.integers(0, 27, 32)
    ours, theirs = {}, {}
    for lib, out in ((cg, ours), (torch, theirs)):
        c = lib.tensor(C, requires_grad=True)
        xb, y = lib.tensor(Xb), lib.tensor(ys)
        emb = c[xb]  # (32, 3, 10): the embedding lookup
        logits = emb.view(32, 30) @ lib.ones(30, 27, dtype=lib.float64)
        probs = logits.softmax(1)
        loss = -probs[lib.arange(32), y].log().mean() - logits[range(32), y].mean()
        loss.backward()
        out["emb"], out["loss"], out["grad"] = emb.detach().numpy(), loss.item(), c.grad.numpy()
        x = lib.tensor(X)
        out["masked"] = x[x > 5].numpy()
        out["rows"] = x[[1, 2, 0]].numpy()
        out["pick"] = c[xb[3, 1]].detach().numpy()
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-12)


def test_repeated_indices_accumulate_their_gradients():
    c = cg.ones(4, 2, requires_grad=True)
    c[[1, 1, 3, 1]].sum().backward()
    assert c.grad[:, 0].tolist() == [0.0, 3.0, 0.0, 1.0]
    c.grad = None
    c[cg.tensor([[1, 1], [0, 1]])].sum().backward()
    assert c.grad[:, 1].tolist() == [1.0, 3.0, 0.0, 0.0]


def test_augmented_assignment_through_an_index(torch):
    rng = np.random.default_rng(2)
    logits, ys = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    ours, theirs = [], []
    for lib, out in ((cg, ours), (torch, theirs)):
        lg = lib.tensor(logits, requires_grad=True)
        d = lg.softmax(1) + 0  # in a graph: the write is recorded (softmax keeps its own output)
        d[range(5), lib.tensor(ys)] -= 1
        n = lib.zeros(3, 3)
        n[1, 2] += 1
        n[lib.tensor([0, 0]), lib.tensor([1, 1])] += 1  # repeats write once, as PyTorch
        (d * lib.tensor(logits)).sum().backward()
        out += [
            d.detach().numpy(),
            n.numpy(),
            lg.grad.numpy(),
            type(d.grad_fn).__name__ if lib is torch else d.grad_fn.name(),
        ]
    for a, b in zip(ours, theirs):
        if isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)


def test_writes_under_autograd_give_gradients_to_the_value_and_the_rest(torch):
    rng = np.random.default_rng(3)
    base, val = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    grads = []
    for lib in (cg, torch):
        b, v = lib.tensor(base, requires_grad=True), lib.tensor(val, requires_grad=True)
        x = b * 2
        x[lib.tensor([3, 0])] = v * 3
        y = lib.zeros(4, 3, dtype=lib.float64)
        y[x[:, 0] > 0] = 7.0
        y[1:, 1] = v[0, :]  # a basic index, value in a graph (CopySlices)
        (x * x).sum().backward()
        (y * lib.tensor(base)).sum().backward()
        grads.append((b.grad.numpy(), v.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_index_put_accumulates_and_checks_dtypes(torch):
    x = cg.zeros(3, 2, dtype=cg.float64)
    x.index_put_((cg.tensor([0, 0, 2]),), cg.tensor(1.0, dtype=cg.float64), accumulate=True)
    assert x[:, 0].tolist() == [2.0, 0.0, 1.0]
    with pytest.raises(RuntimeError, match="dtypes match"):
        x.index_put_((cg.tensor([0]),), cg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="dtypes match"):
        x[cg.tensor([0])] = cg.tensor([1, 2])
    x[cg.tensor([0])] = 5  # numbers convert
    assert x[0].tolist() == [5.0, 5.0]


def test_in_place_rules():
    leaf = cg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf[cg.tensor([0])] = 2.0
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.index_put_((cg.tensor([0]),), cg.tensor(1.0))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        leaf.masked_fill_(leaf > 0, 0.0)
    with cg.no_grad():
        leaf[leaf > 0] = 0.5
    assert leaf.tolist() == [0.5, 0.5, 0.5]
    # a tensor saved for a gradient and then overwritten through an index: backward refuses
    y = leaf * 1
    z = y * y
    version = y._version
    y[[0, 2]] = 0.0
    assert y._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


ERRORS = [
    (lambda x: x[cg.tensor([3])], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[:, cg.tensor([-5])], IndexError, "index -5 is out of bounds for dimension 0 with size 4"),
    (lambda x: x[cg.arange(3), cg.tensor([0, 1, 9])], IndexError, "index 9 is out of bounds for dimension 1"),
    (lambda x: x[cg.tensor([0.5])], IndexError, "tensors used as indices must be long, int, byte or bool tensors"),
    (lambda x: x[[0.5]], IndexError, "tensors used as indices must be long"),
    (lambda x: x[cg.tensor([True, False])], IndexError, "The shape of the mask \\[2\\] at index 0 does not match"),
    (lambda x: x[[0, 1], [0, 1, 2]], IndexError, "shape mismatch: indexing tensors could not be broadcast"),
    (lambda x: x[[0], [0], [0], [0]], IndexError, "too many indices for tensor of dimension 3"),
    (lambda x: x[1.5], IndexError, "valid indices"),
    (
        lambda x: x.__setitem__(cg.tensor([0, 1]), cg.ones(3, dtype=cg.float64)),
        RuntimeError,
        "cannot be broadcast to indexing result",
    ),
    (lambda x: x.__setitem__(cg.tensor([0, 7]), 1.0), IndexError, "index 7 is out of bounds"),
    (lambda x: x.gather(1, cg.tensor([[[9]]])), RuntimeError, "index 9 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.gather(1, cg.tensor([[[-1]]])), RuntimeError, "index -1 is out of bounds"),
    (lambda x: x.gather(1, cg.tensor([1])), RuntimeError, "same number of dimensions"),
    (lambda x: x.gather(1, cg.tensor([[[1.0]]])), RuntimeError, "Expected dtype int32/int64 for index"),
    (lambda x: x.scatter(0, cg.tensor([[[3]]]), 1.0), RuntimeError, "index 3 is out of bounds"),
    (lambda x: x.scatter_add(0, cg.tensor([[[0]]]), cg.ones(1, 1, 1)), RuntimeError, "self.dtype to be equal"),
    (lambda x: x.index_select(0, cg.tensor([3])), IndexError, "index out of range in self"),
    (lambda x: x.index_select(0, cg.tensor([[0]])), IndexError, "Index is supposed to be a vector"),
    (lambda x: x.index_add(0, cg.tensor([0]), x), RuntimeError, "Number of indices \\(1\\) should be equal"),
    (lambda x: x.masked_fill(x, 0.0), RuntimeError, "only supports boolean masks"),
    (lambda x: x.masked_fill(x > 0, cg.ones(2)), RuntimeError, "0-dimensional value tensor"),
    (lambda x: cg.take(x, cg.tensor([60])), IndexError, "tried to access index 60 on a tensor of 60 elements"),
]


@pytest.mark.parametrize("fn,error,message", ERRORS)
def test_errors_name_the_index_and_touch_nothing(fn, error, message):
    x = cg.tensor(X)
    with pytest.raises(error, match=message):
        fn(x)
    np.testing.assert_array_equal(x.numpy(), X)  # a failed write leaves the tensor as it was


def test_index_ops_match_torch(torch):
    rng = np.random.default_rng(4)
    a, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    calls = [
        lambda lib, x, s: x.gather(0, lib.tensor([[2, 0, 1, 1]])),
        lambda lib, x, s: lib.gather(x, 1, lib.tensor([[3], [0], [0]])),
        lambda lib, x, s: lib.scatter(x, 1, lib.tensor([[1], [0], [3]]), s[:, :1]),
        lambda lib, x, s: lib.scatter_add(x, 1, lib.tensor([[1, 1], [0, 1], [3, 3]]), s[:, :2]),
        lambda lib, x, s: x.clone().scatter_(0, lib.tensor([[1, 0]]), -2.0),
        lambda lib, x, s: lib.index_select(x, 0, lib.tensor(1)),
        lambda lib, x, s: lib.index_add(x, 1, lib.tensor([0, 0, 3, 3]), s, alpha=-0.5),
        lambda lib, x, s: lib.index_fill(x, 0, lib.tensor([2]), 4.0),
        lambda lib, x, s: lib.masked_fill(x, lib.tensor([True, False, False, True]), s[0, 0]),
        lambda lib, x, s: lib.masked_select(x, lib.tensor([[True], [False], [True]])),
        lambda lib, x, s: lib.take(x, lib.tensor([11, -12, 3])),
        lambda lib, x, s: lib.take_along_dim(x, lib.tensor([[0, 3]]), 1),
        lambda lib, x, s: lib.take_along_dim(x, lib.tensor([[2], [0], [1]]), 0),
        lambda lib, x, s: lib.take_along_dim(x, lib.tensor([0, 11])),
        lambda lib, x, s: x.index_put((lib.tensor([1, 1]),), s[:2], accumulate=True),
    ]
    np.testing.assert_array_equal(  # reduce= has no gradient in PyTorch
        cg.tensor(a).scatter(0, cg.tensor([[2, 0, 1, 1]]), 9.0, reduce="add").numpy(),
        torch.tensor(a).scatter(0, torch.tensor([[2, 0, 1, 1]]), 9.0, reduce="add").numpy(),
    )
    for k, call in enumerate(calls):
        results = []
        for lib in (cg, torch):
            x, s = lib.tensor(a, requires_grad=True), lib.tensor(src, requires_grad=True)
            out = call(lib, x, s)
            w = lib.tensor(np.random.default_rng(k).standard_normal(tuple(out.shape)))
            (out * w).sum().backward()
            results.append([out.detach().numpy(), x.grad.numpy(), None if s.grad is None else s.grad.numpy()])
        for o, t in zip(*results):
            if t is None:
                assert o is None or not o.any(), k
            else:
                np.testing.assert_allclose(o, t, rtol=1e-12, err_msg=str(k))


def test_nonzero_argwhere_and_where_with_one_argument(torch):
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    assert cg.nonzero(cg.tensor(x)).tolist() == torch.nonzero(torch.tensor(x)).tolist()
    assert cg.argwhere(cg.tensor(x)).tolist() == torch.argwhere(torch.tensor(x)).tolist()
    ours, theirs = cg.tensor(x).nonzero(as_tuple=True), torch.tensor(x).nonzero(as_tuple=True)
    assert [t.tolist() for t in ours] == [t.tolist() for t in theirs]
    assert [t.tolist() for t in cg.where(cg.tensor(x) > 0)] == [t.tolist() for t in torch.where(torch.tensor(x) > 0)]
    for v in (0.0, 3.0):
        assert tuple(cg.nonzero(cg.tensor(v)).shape) == tuple(torch.nonzero(torch.tensor(v)).shape)
        assert [t.tolist() for t in cg.nonzero(cg.tensor(v), as_tuple=True)] == [
            t.tolist() for t in torch.nonzero(torch.tensor(v), as_tuple=True)
        ]
    assert cg.nonzero(cg.zeros(0, 3)).shape == (0, 2)


def test_masked_fill_in_place_and_masked_assignment():
    x = cg.tensor([[1.0, -2.0], [3.0, -4.0]])
    x[x < 0] = 0
    assert x.tolist() == [[1.0, 0.0], [3.0, 0.0]]
    x.masked_fill_(x > 2, -1.0)
    assert x.tolist() == [[1.0, 0.0], [-1.0, 0.0]]
    y = cg.arange(6)
    y[y % 2 == 0] = cg.tensor([7, 8, 9])
    assert y.tolist() == [7, 1, 8, 3, 9, 5]


def test_a_0d_integer_index_is_a_view():
    x = cg.zeros(3, 2)
    row = x[cg.tensor(1)]
    row[0] = 5.0
    assert x[1, 0].item() == 5.0
    copy = x[cg.tensor([1])]
    copy[0, 1] = 7.0
    assert x[1, 1].item() == 0.0  # an advanced index copies


def test_index_graphs_free_and_double_backward():
    c = cg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cg.float64, requires_grad=True)
    (g,) = cg.autograd.grad((c[[1, 1, 0]] ** 3).sum(), [c], create_graph=True)
    assert g.tolist() == [[3.0, 12.0], [54.0, 96.0]]
    (gg,) = cg.autograd.grad(g.sum(), [c])
    assert gg.tolist() == [[6.0, 12.0], [36.0, 48.0]]


def test_values_lose_leading_ones_and_indices_in_the_written_memory(torch):
    for lib in (cg, torch):
        logits = lib.zeros(3, 4, dtype=lib.float64)
        w = lib.ones(1, 1, 4, dtype=lib.float64, requires_grad=True)
        logits[1] = (w * 2)[0]  # (1, 4) into a row, as the lectures' logits[i] = model(x[[i]])
        logits[[0, 2]] = w * 3
        logits.sum().backward()
        assert logits.tolist() == [[3.0] * 4, [2.0] * 4, [3.0] * 4]
        assert w.grad.tolist() == [[[8.0] * 4]]
    y = cg.tensor([2, 0, 1, 5, 4])
    y[y[:3]] = 7  # the index is a view of the memory being written
    assert y.tolist() == [7, 7, 7, 5, 4]
    w = cg.tensor([1, 0, 3])
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        w[w] = 5
    assert w.tolist() == [1, 0, 3]


def _random_key(rng, shape, lib):
    """A random key over `shape` mixing every part kind, built for one library (the same key for
    the same rng state)."""
    parts, dim = [], 0
    while dim < len(shape) and rng.random() < 0.85:
        size = shape[dim]
        kind = rng.integers(0, 7)
        if kind == 0:
            parts.append(int(rng.integers(-size, size)))
        elif kind == 1:
            a, b = sorted(rng.integers(-size - 1, size + 2, 2).tolist())
            parts.append(slice(a, b, int(rng.integers(1, 3))))
        elif kind == 2:
            parts.append(None)
            continue
        elif kind in (3, 4):
            n = tuple(rng.integers(1, 3, int(rng.integers(1, 3))).tolist())
            idx = rng.integers(-size, size, n)
            parts.append(lib.tensor(idx) if kind == 3 else idx.tolist())
        elif kind == 5:
            span = int(rng.integers(1, min(2, len(shape) - dim) + 1))
            parts.append(lib.tensor(rng.random(shape[dim : dim + span]) < 0.5))
            dim += span
            continue
        else:
            parts.append(range(0, size, 2))
        dim += 1
    if rng.random() < 0.3:
        parts.insert(int(rng.integers(0, len(parts) + 1)), Ellipsis)
    return tuple(parts)


def test_random_keys_read_and_write_as_torch(torch):
    data = np.arange(120, dtype=np.float64).reshape(2, 3, 4, 5)
    for seed in range(300):
        keys = [_random_key(np.random.default_rng(seed), data.shape, lib) for lib in (cg, torch)]
        x, t = cg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        try:
            theirs = t[keys[1]]
        except IndexError:  # broadcast mismatches of random index shapes: we must refuse them too
            with pytest.raises(IndexError):
                x[keys[0]]
            continue
        ours = x[keys[0]]
        assert tuple(ours.shape) == tuple(theirs.shape), (seed, keys[1])
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
        w = np.random.default_rng(seed).standard_normal(tuple(theirs.shape))
        (ours * cg.tensor(w)).sum().backward()
        (theirs * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, err_msg=str(keys[1]))
        if any(isinstance(p, (list, range)) or hasattr(p, "dtype") and p.dtype != torch.bool for p in keys[1]):
            continue  # repeated positions: PyTorch leaves the written value unspecified
        y, u = cg.tensor(data), torch.tensor(data)
        y[keys[0]] = cg.tensor(-w)
        u[keys[1]] = torch.tensor(-w)
        np.testing.assert_array_equal(y.numpy(), u.numpy())


def test_memory_flat_over_training_steps_through_the_index_ops():
    from chaingrad.bench.common import rss_bytes
    from conftest import skip_unless_rss_measures_leaks

    skip_unless_rss_measures_leaks()
    rng = np.random.default_rng(5)
    c = cg.randn(27, 64, requires_grad=True)
    xs = cg.tensor(rng.integers(0, 27, (2000, 3)))

    def step(k: int) -> None:
        emb = c[xs[k * 3 % 1900 :][:512]]  # (512, 3, 64)
        out = emb.clone()
        out[emb[..., 0] > 0] = 0.0
        out = out.gather(2, cg.zeros(512, 3, 1, dtype=cg.int64)).masked_fill(out[..., :1] < -1, 2.0)
        loss = out.sum() + emb.index_select(0, cg.tensor([0, 0, 5])).sum()
        c.grad = None
        loss.backward()

    for k in range(50):
        step(k)
    start = rss_bytes()
    for k in range(300):
        step(k)
    grown = (rss_bytes() - start) / 2**20
    assert grown < 4, f"RSS grew by {grown:.1f} MiB over 300 steps"


def test_list_key_emptied_by_index_is_safe() -> None:
    """__index__ of a list key's item may empty the list: the items parsed stay alive."""
    x = cg.tensor([1.0, 5.0, 9.0, 3.0])

    class Evil:
        def __index__(self) -> int:
            key.clear()
            return 1

    key = [slice(1, 3), Evil()]
    with pytest.raises(IndexError):
        x[key]  # a tuple (slice, 1) on a 1-d tensor: too many indices


def test_scatter_with_a_0d_index_checks_an_empty_src() -> None:
    with pytest.raises(RuntimeError, match="no larger than src"):
        cg.zeros(3).scatter(0, cg.tensor(1), cg.zeros(0))
    assert cg.zeros(3).scatter(0, cg.tensor(1), cg.ones(1)).tolist() == [0.0, 1.0, 0.0]


def test_index_add_checks_source_shape() -> None:
    with pytest.raises(RuntimeError, match="must match self tensor shape"):
        cg.zeros(2, 6).index_add(1, cg.tensor([0, 1, 2]), cg.arange(6.0).reshape(1, 3, 2))
    out = cg.zeros(2, 6).index_add(1, cg.tensor([0, 1, 2]), cg.arange(6.0).reshape(2, 3))
    assert out.tolist() == [[0, 1, 2, 0, 0, 0], [3, 4, 5, 0, 0, 0]]


@pytest.mark.parametrize("name", ["int32", "int16", "int8", "uint8", "float16", "bfloat16"])
def test_nonzero_on_storage_dtypes(name: str) -> None:
    t = cg.tensor([1, 0, 2, 0], dtype=getattr(cg, name))
    assert t.nonzero().tolist() == [[0], [2]] and t.argwhere().tolist() == [[0], [2]]
    assert cg.where(t)[0].tolist() == [0, 2]


def test_index_changed_by_another_thread_is_never_read_out_of_bounds() -> None:
    """The plan reads its own copy of the index: a concurrent write to the caller's index cannot
    slip an unchecked position past the bounds check (the kernel runs with the GIL released)."""
    import threading

    idx = cg.zeros(1 << 18, dtype=cg.int64)
    x = cg.zeros(1000)
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            idx[-1] = 10**12
            idx[-1] = 0

    t = threading.Thread(target=flip)
    t.start()
    try:
        for _ in range(50):
            try:
                assert x[idx].shape == (1 << 18,)
            except IndexError:
                pass  # the check saw the out-of-range value: refused, as it must be
    finally:
        stop.set()
        t.join()
