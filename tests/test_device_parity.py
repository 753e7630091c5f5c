"""Every op, its gradient, the losses, random numbers and the optimizers on each device, against the
CPU engine in float64 (and PyTorch on the same device where it has one). On a machine without a
GPU the cuda cases skip with their reason; the cpu cases keep the comparisons themselves honest."""

from __future__ import annotations

import numpy as np
import pytest

import chaingrad as cg
from chaingrad import nn
from chaingrad.nn import functional as F

RNG = np.random.default_rng(7)


def on(device, array, dtype=cg.float64, requires_grad=False):
    """array as a leaf tensor on device."""
    t = cg.tensor(array, dtype=dtype).to(device)
    if requires_grad:
        t.requires_grad_()
    return t


def host(t):
    return t.detach().cpu().numpy()


def tol(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype is cg.float64 else dict(rtol=2e-5, atol=2e-6)


def check(fn, arrays, device, dtype=cg.float64):
    """fn on device against fn on the CPU: forward values and the gradients of every input."""
    results = []
    weights = None  # drawn once, so both devices back-propagate the same vector
    for dev in ("cpu", device):
        xs = [on(dev, a, dtype, requires_grad=True) for a in arrays]
        out = fn(*xs)
        if weights is None:
            weights = RNG.standard_normal(out.shape)
        (out * on(dev, weights, dtype)).sum().backward()
        assert out.device.type == cg.device(dev).type
        results.append((host(out), [host(x.grad) for x in xs]))
    (ref_out, ref_grads), (out, grads) = results
    np.testing.assert_allclose(out, ref_out, **tol(dtype))
    for g, rg in zip(grads, ref_grads):
        np.testing.assert_allclose(g, rg, **tol(dtype))


UNARY = {
    "neg": lambda x: -x, "abs": lambda x: x.abs(), "exp": lambda x: x.exp(), "log": lambda x: (x.abs() + 0.1).log(),
    "sqrt": lambda x: (x.abs() + 0.1).sqrt(), "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(), "sin": lambda x: x.sin(), "cos": lambda x: x.cos(), "square": lambda x: x.square(),
    "pow": lambda x: x ** 3, "clamp": lambda x: x.clamp(-0.3, 0.4), "scalar_mix": lambda x: 2.0 - x * 3 / 4.0 + 1,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [cg.float64, cg.float32])
def test_unary_ops_and_gradients(device, name, dtype):
    check(UNARY[name], [RNG.uniform(-2, 2, (5, 7))], device, dtype)


BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b.abs() + 0.5), "pow": lambda a, b: (a.abs() + 0.5) ** b,
    "maximum": lambda a, b: cg.maximum(a, b), "minimum": lambda a, b: cg.minimum(a, b),
    "where": lambda a, b: cg.where(a > b, a, b * 2),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 1, 5), (3, 1)), ((5,), (2, 3, 5)), ((), (3, 2))])
def test_binary_ops_broadcast_with_gradients(device, name, shapes):
    check(BINARY[name], [RNG.uniform(-2, 2, s) for s in shapes], device)


def test_non_contiguous_inputs(device):
    check(lambda a, b: a.t() * b[::2] + a.t().exp(), [RNG.standard_normal((3, 4)), RNG.standard_normal((8, 3))],
          device)
    check(lambda a: a.permute(2, 0, 1)[1:, :, ::2].sum(1), [RNG.standard_normal((3, 4, 5))], device)


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_and_integer_ops(device, op):
    a = RNG.integers(-3, 3, (4, 6))
    b = RNG.integers(-3, 3, (6,))
    ref = getattr(cg.tensor(a), op)(cg.tensor(b))
    got = getattr(cg.tensor(a).to(device), op)(cg.tensor(b).to(device))
    assert got.dtype is cg.bool_ and np.array_equal(host(got), host(ref))
    ia, ib = cg.tensor(a).to(device), cg.tensor(np.abs(b) + 1).to(device)
    assert np.array_equal(host(ia * ib - ia ** 2 + ia.abs()), a * (np.abs(b) + 1) - a ** 2 + np.abs(a))
    with pytest.raises(RuntimeError, match="negative integer powers"):
        ia ** cg.tensor([-1]).to(device)


REDUCTIONS = {
    "sum_all": lambda x: x.sum(), "sum_dim": lambda x: x.sum(1), "sum_dims_keep": lambda x: x.sum((0, 2), keepdim=True),
    "mean": lambda x: x.mean(-1), "max_dim": lambda x: x.max(1).values, "min_all": lambda x: x.min(),
    "norm": lambda x: x.norm(), "var": lambda x: x.var(0), "std": lambda x: x.std(), "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(-1),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_and_gradients(device, name):
    check(REDUCTIONS[name], [RNG.standard_normal((3, 5, 4))], device)


@pytest.mark.parametrize("shape,dim", [((3, 5000), 1), ((5000, 3), 0), ((70000,), 0), ((2, 300, 7), 1)])
def test_long_and_wide_reductions(device, shape, dim):
    """Shapes that take the GPU's block-per-output and thread-per-output kernels."""
    x = RNG.standard_normal(shape)
    x.flat[17] = 9.0  # a unique maximum
    t = cg.tensor(x).to(device)
    np.testing.assert_allclose(host(t.sum(dim)), x.sum(dim), rtol=1e-12, atol=1e-9)
    values, indices = t.max(dim)
    assert np.array_equal(host(values), x.max(dim)) and np.array_equal(host(indices), x.argmax(dim))
    assert np.array_equal(host(t.argmin(dim)), x.argmin(dim))


def test_max_keeps_first_index_and_nan(device):
    t = cg.tensor([[1.0, 3.0, 3.0, float("nan"), float("nan")], [2.0, 2.0, 1.0, 0.0, 2.0]]).to(device)
    values, indices = t.max(1)
    assert np.isnan(host(values)[0]) and host(indices).tolist() == [3, 0]
    assert host(t.min(1).indices).tolist() == [3, 3]


def test_integer_and_bool_sums(device):
    x = RNG.integers(-5, 5, (30, 40))
    t = cg.tensor(x).to(device)
    assert t.sum().item() == x.sum() and host(t.sum(0)).tolist() == x.sum(0).tolist()
    assert (t > 0).sum().item() == (x > 0).sum()


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 6)), ((4,), (4, 3)), ((3, 4), (4,)),
                                    ((2, 1, 3, 4), (5, 4, 2)), ((1, 7), (7, 1))])
def test_matmul_shapes_and_gradients(device, shapes):
    check(lambda a, b: a @ b, [RNG.standard_normal(s) for s in shapes], device)


def test_matmul_of_transposed_views_and_float32(device):
    check(lambda a, b: a.t() @ b.t(), [RNG.standard_normal((6, 4)), RNG.standard_normal((5, 6))], device)
    check(lambda a, b: a @ b, [RNG.standard_normal((33, 70)), RNG.standard_normal((70, 17))], device, cg.float32)
    ints = cg.tensor(RNG.integers(-4, 4, (5, 6))), cg.tensor(RNG.integers(-4, 4, (6, 3)))
    assert np.array_equal(host(ints[0].to(device) @ ints[1].to(device)), host(ints[0] @ ints[1]))


def test_views_cat_stack_and_indexing(device):
    check(lambda a, b: cg.cat([a, b * 2], 1)[:, 1:4], [RNG.standard_normal((3, 2)), RNG.standard_normal((3, 5))],
          device)
    check(lambda a, b: cg.stack([a, b], 0).reshape(-1, 3).flatten(), [RNG.standard_normal((2, 3))] * 2, device)
    check(lambda a: a.unsqueeze(1).expand(4, 3, 5).squeeze() if False else a.unsqueeze(1).expand(4, 3, 5),
          [RNG.standard_normal((4, 5))], device)
    check(lambda a: a[1, ::2] * a[None, 0, 1:4].sum(), [RNG.standard_normal((3, 6))], device)


LOSSES = {
    "mse": lambda x, y: F.mse_loss(x, y), "l1": lambda x, y: F.l1_loss(x, y, reduction="sum"),
    "bce_logits": lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
    "cross_entropy_probs": lambda x, y: F.cross_entropy(x, y.softmax(1)),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_and_gradients(device, name):
    check(LOSSES[name], [RNG.standard_normal((6, 4)), RNG.standard_normal((6, 4))], device)


def test_cross_entropy_with_class_indices(device):
    target = RNG.integers(0, 4, 6)
    check(lambda x: F.cross_entropy(x, cg.tensor(target).to(x.device)), [RNG.standard_normal((6, 4))], device)
    x = cg.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, cg.tensor([0, 3]).to(device))


def test_random_numbers_follow_the_seed_and_their_distributions(device):
    cg.manual_seed(123)
    a = cg.randn(50000, device=device)
    cg.manual_seed(123)
    b = cg.randn(50000, device=device)
    assert a.device.type == cg.device(device).type and np.array_equal(host(a), host(b))
    assert abs(a.mean().item()) < 0.02 and abs(a.std().item() - 1) < 0.02
    u = cg.rand(50000, dtype=cg.float64, device=device)
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.01
    k = cg.randint(-3, 4, (5000,), device=device)
    assert k.min().item() == -3 and k.max().item() == 3
    assert not np.array_equal(host(cg.randn(100, device=device)), host(cg.randn(100, device=device)))


def test_dropout_keeps_the_expectation(device):
    x = cg.ones(20000, device=device)
    y = F.dropout(x, 0.25)
    kept = host(y) != 0
    assert y.device.type == cg.device(device).type and abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(host(y)[kept], 1 / 0.75)


OPTIMIZERS = {
    "sgd": lambda p: cg.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "rmsprop": lambda p: cg.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5),
    "adam": lambda p: cg.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda p: cg.optim.AdamW(p, lr=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_training_matches_the_cpu(device, name):
    """A small MLP trained five steps on each device ends with the same parameters (float64)."""
    x, y = RNG.standard_normal((16, 3)), RNG.integers(0, 2, 16)
    finals = []
    for dev in ("cpu", device):
        cg.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).to(cg.float64).to(dev)
        opt = OPTIMIZERS[name](model.parameters())
        xs, ys = cg.tensor(x).to(dev), cg.tensor(y).to(dev)
        for _ in range(5):
            opt.zero_grad()
            loss = F.cross_entropy(model(xs), ys)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        finals.append([host(p) for p in model.parameters()])
    for a, b in zip(*finals):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_results_come_back_to_the_host(device):
    t = cg.tensor([[1.5, -2.0]]).to(device)
    assert t.tolist() == [[1.5, -2.0]] and t[0, 1].item() == -2.0 and float(t.sum()) == -0.5
    assert int(cg.tensor([7]).to(device)) == 7
    assert "tensor([[ 1.5000, -2.0000]]" in repr(t)


# --- only with a GPU -------------------------------------------------------------------------------

def test_cuda_repr_numpy_and_mixing_rules(cuda_device):
    t = cg.ones(2, device=cuda_device)
    assert repr(t) == "tensor([1., 1.], device='cuda:0')" and t.is_cuda and t.device == "cuda:0"
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        t.numpy()
    assert (t + cg.tensor(2.0)).device == "cuda:0"  # a 0-d CPU tensor mixes as a scalar
    with pytest.raises(RuntimeError, match="cuda:0 and cpu"):
        t + cg.ones(2)
    with pytest.raises(RuntimeError, match="same device"):
        cg.cat([t, cg.ones(2)])
    with pytest.raises(RuntimeError, match="located on"):
        cg.ones(2).grad = t
    t2 = cg.zeros(2)
    t2.copy_(t)  # copies may cross devices
    assert t2.tolist() == [1.0, 1.0]


def test_cuda_memory_is_cached_counted_and_out_of_memory_is_an_error(cuda_device):
    cg.cuda.synchronize()
    before = cg.cuda.memory_allocated()
    x = cg.empty(1 << 20, device=cuda_device)
    assert cg.cuda.memory_allocated() >= before + 4 * (1 << 20)
    del x
    assert cg.cuda.memory_allocated() == before
    assert cg.cuda.max_memory_allocated() >= before + 4 * (1 << 20)
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        cg.empty(1 << 44, device=cuda_device)
    assert cg.ones(3, device=cuda_device).sum().item() == 3.0  # still usable
    cg.cuda.empty_cache()
    assert isinstance(cg.cuda.get_device_name(), str)


def test_cuda_dlpack_with_torch(cuda_device, torch):
    if not torch.cuda.is_available():
        pytest.skip("this torch has no CUDA")
    x = cg.arange(6, dtype=cg.float32, device=cuda_device).reshape(2, 3)
    tt = torch.from_dlpack(x)
    assert tt.is_cuda and tt.cpu().tolist() == x.tolist()
    tt[0, 0] = 5.0
    assert x[0, 0].item() == 5.0  # shared memory
    back = cg.from_dlpack(torch.ones(4, device="cuda") * 2)
    assert back.is_cuda and back.tolist() == [2.0] * 4


def test_cuda_matches_torch_on_the_same_gpu(cuda_device, torch):
    if not torch.cuda.is_available():
        pytest.skip("this torch has no CUDA")
    a, b = RNG.standard_normal((64, 48)), RNG.standard_normal((48, 32))
    ours = (cg.tensor(a, dtype=cg.float32, device="cuda") @ cg.tensor(b, dtype=cg.float32, device="cuda")).tanh()
    theirs = (torch.tensor(a, dtype=torch.float32, device="cuda") @ torch.tensor(b, dtype=torch.float32,
                                                                                 device="cuda")).tanh()
    np.testing.assert_allclose(host(ours), theirs.cpu().numpy(), rtol=1e-4, atol=1e-5)


# --- against PyTorch on the same device (its CPU here; its GPU on a GPU machine) ------------------

TORCH_OPS = {
    "unary_chain": (lambda lib, x, y: (x.exp() * x.tanh() - x.sigmoid() + x.relu() * x.sin().cos()).abs().sqrt(), 1),
    "broadcast_arith": (lambda lib, x, y: (x * y[0] - x / (y[1:2].abs() + 1) + x ** 2).sum(0), 2),
    "max_min_where": (lambda lib, x, y: lib.where(x > y[0], lib.maximum(x, y[0]), lib.minimum(x, y[1])), 2),
    "reductions": (lambda lib, x, y: x.sum(1) + x.mean(1) * x.amax(1) - x.norm(dim=1) + x.var(1), 1),
    "softmax_matmul": (lambda lib, x, y: (x.softmax(1) @ y.t()).log_softmax(0), 2),
    "cat_stack_views": (lambda lib, x, y: lib.cat([x.t(), y.t()], 1).reshape(-1)[::3] * lib.stack([x, y])[1, 0, 0], 2),
}


@pytest.mark.parametrize("name", sorted(TORCH_OPS))
def test_forward_and_gradients_match_torch_on_the_same_device(device, torch, name):
    fn, n_inputs = TORCH_OPS[name]
    arrays = [RNG.uniform(-1.5, 1.5, (4, 5)) for _ in range(2)]
    weights = None
    results = []
    for lib in (cg, torch):
        xs = [lib.tensor(a, dtype=lib.float64, device=device, requires_grad=True) for a in arrays]
        out = fn(lib, *xs)
        if weights is None:
            weights = RNG.standard_normal(tuple(out.shape))
        (out * lib.tensor(weights, dtype=lib.float64, device=device)).sum().backward()
        grads = [x.grad for x in xs[:n_inputs]]
        results.append((out.detach().cpu().numpy(), [g.cpu().numpy() for g in grads]))
    (ours, our_grads), (theirs, their_grads) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    for a, b in zip(our_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
