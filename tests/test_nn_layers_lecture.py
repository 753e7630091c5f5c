"""The nn layers and losses the lectures reach for (cross_entropy's options, Embedding,
BatchNorm1d, LayerNorm, containers), checked against PyTorch and finite differences."""

import numpy as np
import pytest

import chaingrad as cg
import chaingrad.nn as nn
import chaingrad.nn.functional as F

torch = pytest.importorskip("torch")


def both(a, requires_grad=False):
    """The same float64 data as a chaingrad and a torch tensor."""
    a = np.asarray(a)
    c = cg.tensor(a.tolist(), dtype=cg.float64 if a.dtype.kind == "f" else cg.int64)
    t = torch.tensor(a)
    if requires_grad:
        c.requires_grad_(True)
        t.requires_grad_(True)
    return c, t


def close(c, t, tol=1e-10):
    np.testing.assert_allclose(np.array(c.detach().tolist()), t.detach().numpy(), rtol=tol, atol=tol)


rng = np.random.default_rng(0)
CE_CASES = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"weight": True},
    {"ignore_index": 1},
    {"weight": True, "ignore_index": 2, "reduction": "none"},
    {"label_smoothing": 0.15},
    {"label_smoothing": 0.3, "weight": True, "reduction": "sum"},
    {"label_smoothing": 0.2, "reduction": "none"},
    {"ignore_index": -100, "label_smoothing": 0.1, "weight": True},
]


def _kwargs(kw, lib):
    out = dict(kw)
    if out.get("weight") is True:
        out["weight"] = lib[1]
    return out


@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2), (2, 3, 2, 2), (5,)])
@pytest.mark.parametrize("kw", CE_CASES)
def test_cross_entropy_class_targets_match_torch(shape, kw):
    x = rng.standard_normal(shape)
    classes = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    tgt = rng.integers(0, classes, size=tshape)
    if tgt.ndim:
        tgt.reshape(-1)[0] = kw.get("ignore_index", -100)  # an ignored target
    w = rng.random(classes)
    cx, tx = both(x, True)
    ct, tt = both(tgt)
    cw, tw = both(w)
    ours = F.cross_entropy(cx, ct, **_kwargs(kw, (None, cw)))
    ref = torch.nn.functional.cross_entropy(tx, tt, **_kwargs(kw, (None, tw)))
    close(ours, ref)
    seed = rng.standard_normal(tuple(ref.shape))
    (ours * cg.tensor(seed.tolist(), dtype=cg.float64)).sum().backward()
    (ref * torch.tensor(seed)).sum().backward()
    close(cx.grad, tx.grad)
    if not kw and len(shape) == 2:
        assert ours.grad_fn.name() == ref.grad_fn.name() == "NllLossBackward0"


@pytest.mark.parametrize(
    "kw", [{}, {"reduction": "none"}, {"reduction": "sum"}, {"weight": True}, {"label_smoothing": 0.25, "weight": True}]
)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5)])
def test_cross_entropy_probability_targets_match_torch(shape, kw):
    cx, tx = both(rng.standard_normal(shape), True)
    p = rng.random(shape)
    cp, tp = both(p / p.sum(1, keepdims=True))
    cw, tw = both(rng.random(shape[1]))
    ours = F.cross_entropy(cx, cp, **_kwargs(kw, (None, cw)))
    ref = torch.nn.functional.cross_entropy(tx, tp, **_kwargs(kw, (None, tw)))
    close(ours, ref)
    ours.sum().backward()
    ref.sum().backward()
    close(cx.grad, tx.grad)


@pytest.mark.parametrize(
    "kw", [{}, {"reduction": "none"}, {"reduction": "sum"}, {"weight": True}, {"ignore_index": 0, "weight": True}]
)
def test_nll_loss_matches_torch(kw):
    logp = np.log(rng.dirichlet(np.ones(4), size=7))
    cx, tx = both(logp, True)
    ct, tt = both(rng.integers(0, 4, size=7))
    cw, tw = both(rng.random(4))
    ours = F.nll_loss(cx, ct, **_kwargs(kw, (None, cw)))
    ref = torch.nn.functional.nll_loss(tx, tt, **_kwargs(kw, (None, tw)))
    close(ours, ref)
    assert ours.grad_fn.name() == ref.grad_fn.name()
    ours.sum().backward()
    ref.sum().backward()
    close(cx.grad, tx.grad)


def test_cross_entropy_fused_path_unchanged():
    cx, tx = both(rng.standard_normal((8, 5)).astype(np.float32), True)
    ct, tt = both(rng.integers(0, 5, size=8))
    ours = F.cross_entropy(cx.float(), ct)
    assert ours.grad_fn.name() == "NllLossBackward0"
    close(ours, torch.nn.functional.cross_entropy(tx.float(), tt), 1e-6)


@pytest.mark.parametrize("kw", [{}, {"weight": True, "ignore_index": 1}, {"label_smoothing": 0.2}])
def test_cross_entropy_double_backward_matches_torch(kw):
    cx, tx = both(rng.standard_normal((5, 4)), True)
    ct, tt = both(np.array([0, 1, 3, 1, 2]))
    cw, tw = both(rng.random(4))
    (cg_g,) = cg.autograd.grad(F.cross_entropy(cx, ct, **_kwargs(kw, (None, cw))), cx, create_graph=True)
    (t_g,) = torch.autograd.grad(
        torch.nn.functional.cross_entropy(tx, tt, **_kwargs(kw, (None, tw))), tx, create_graph=True
    )
    close(cg_g, t_g)
    (cg_gg,) = cg.autograd.grad((cg_g * cg_g).sum(), cx)
    (t_gg,) = torch.autograd.grad((t_g * t_g).sum(), tx)
    close(cg_gg, t_gg)


def test_nll_loss_gradient_matches_finite_differences():
    x = cg.tensor(np.log(rng.dirichlet(np.ones(3), size=4)).tolist(), dtype=cg.float64, requires_grad=True)
    t = cg.tensor([0, 2, 1, -100])
    w = cg.tensor([0.5, 2.0, 1.0], dtype=cg.float64)
    F.nll_loss(x, t, weight=w).backward()
    base = np.array(x.detach().tolist())
    h = 1e-6
    for i in range(4):
        for j in range(3):
            up, down = base.copy(), base.copy()
            up[i, j] += h
            down[i, j] -= h
            f = [F.nll_loss(cg.tensor(a.tolist(), dtype=cg.float64), t, weight=w).item() for a in (up, down)]
            assert abs((f[0] - f[1]) / (2 * h) - x.grad[i, j].item()) < 1e-6


def test_cross_entropy_errors_as_torch():
    x = cg.randn(4, 5)
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(x, cg.tensor([0, 1, 5, 2]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(x, cg.tensor([0, 1, -1, 2]))
    with pytest.raises(ValueError, match="batch_size"):
        F.cross_entropy(x, cg.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, cg.tensor([0, 1, 2, 3]), weight=cg.ones(3))
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(x, cg.rand(4, 5), ignore_index=1)
    with pytest.raises(RuntimeError, match="Long"):
        F.cross_entropy(x, cg.rand(4))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(x, cg.tensor([0, 1, 2, 3]), label_smoothing=1.5)
    assert np.isnan(F.cross_entropy(x, cg.tensor([-100] * 4)).item())  # all ignored: 0/0, as torch


def test_embedding_matches_torch():
    w = rng.standard_normal((10, 3))
    idx = np.array([[1, 0, 4], [9, 4, 0]])
    cw, tw = both(w, True)
    ci, ti = both(idx)
    ours = F.embedding(ci, cw, padding_idx=0)
    ref = torch.nn.functional.embedding(ti, tw, padding_idx=0)
    close(ours, ref)
    assert ours.grad_fn.name() == ref.grad_fn.name() == "EmbeddingBackward0"
    seed = rng.standard_normal((2, 3, 3))
    (ours * cg.tensor(seed.tolist(), dtype=cg.float64)).sum().backward()
    (ref * torch.tensor(seed)).sum().backward()
    close(cw.grad, tw.grad)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(cg.tensor([10]), cw)


def test_embedding_max_norm_renormalizes_as_torch():
    w = rng.standard_normal((6, 4)) * 3
    cw, tw = both(w)
    ci, ti = both(np.array([1, 3, 3]))
    close(F.embedding(ci, cw, max_norm=1.5), torch.nn.functional.embedding(ti, tw, max_norm=1.5), 1e-7)
    close(cw, tw, 1e-7)


def test_embedding_module():
    e = nn.Embedding(10, 3, padding_idx=-1)
    assert repr(e) == repr(torch.nn.Embedding(10, 3, padding_idx=-1)) == "Embedding(10, 3, padding_idx=9)"
    assert e.weight[9].tolist() == [0.0, 0.0, 0.0]
    assert list(e.state_dict()) == ["weight"]
    assert e(cg.tensor([[1, 2]])).shape == (1, 2, 3)
    assert e(cg.tensor([4])).shape == (1, 3) and e(cg.tensor(4)).shape == (3,)  # one index keeps its dims
    frozen = nn.Embedding.from_pretrained(cg.ones(4, 2))
    assert not frozen.weight.requires_grad and frozen(cg.tensor([[3]])).shape == (1, 1, 2)
    if hasattr(cg, "Generator"):  # the normal_ draws equal torch's once the random-generator work is merged
        cg.manual_seed(3)
        torch.manual_seed(3)
        close(nn.Embedding(5, 2).weight, torch.nn.Embedding(5, 2).weight, 1e-6)


@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm1d_matches_torch(momentum, shape, affine):
    ours = nn.BatchNorm1d(4, momentum=momentum, affine=affine).double()
    ref = torch.nn.BatchNorm1d(4, momentum=momentum, affine=affine).double()
    if affine:
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(rng.random(4)))
            ref.bias.copy_(torch.tensor(rng.standard_normal(4)))
        ours.load_state_dict(
            {
                k: cg.tensor(v.tolist(), dtype=cg.float64 if v.is_floating_point() else cg.int64)
                for k, v in ref.state_dict().items()
            }
        )
    assert list(ours.state_dict()) == list(ref.state_dict())
    for step in range(3):
        cx, tx = both(rng.standard_normal(shape) * 2 + 1, True)
        y, ry = ours(cx), ref(tx)
        close(y, ry)
        seed = rng.standard_normal(shape)
        (y * cg.tensor(seed.tolist(), dtype=cg.float64)).sum().backward()
        (ry * torch.tensor(seed)).sum().backward()
        close(cx.grad, tx.grad, 1e-9)
        if affine:
            close(ours.weight.grad, ref.weight.grad, 1e-9)
            close(ours.bias.grad, ref.bias.grad, 1e-9)
        close(ours.running_mean, ref.running_mean)
        close(ours.running_var, ref.running_var)
        assert ours.num_batches_tracked.item() == ref.num_batches_tracked.item() == step + 1
    ours.eval()
    ref.eval()
    cx, tx = both(rng.standard_normal(shape))
    close(ours(cx), ref(tx))


def test_batchnorm1d_settings_and_errors():
    assert repr(nn.BatchNorm1d(3)) == repr(torch.nn.BatchNorm1d(3))
    bn = nn.BatchNorm1d(3, track_running_stats=False)
    assert bn.running_mean is None and list(bn.state_dict()) == ["weight", "bias"]
    bn.eval()
    cx, tx = both(rng.standard_normal((4, 3)))
    close(bn.double()(cx), torch.nn.BatchNorm1d(3, track_running_stats=False).double().eval()(tx))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(cg.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(cg.randn(1, 3))
    seq = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    assert list(seq.state_dict()) == list(ref.state_dict())


def test_batch_norm_gradient_matches_finite_differences():
    x = cg.tensor(rng.standard_normal((5, 3)).tolist(), dtype=cg.float64, requires_grad=True)
    w = cg.tensor(rng.standard_normal(3).tolist(), dtype=cg.float64)
    seed = cg.tensor(rng.standard_normal((5, 3)).tolist(), dtype=cg.float64)

    def f(a):
        return (F.batch_norm(a, None, None, w, None, training=True) * seed).sum()

    f(x).backward()
    base = np.array(x.detach().tolist())
    h = 1e-6
    for i, j in [(0, 0), (2, 1), (4, 2)]:
        up, down = base.copy(), base.copy()
        up[i, j] += h
        down[i, j] -= h
        numeric = (
            f(cg.tensor(up.tolist(), dtype=cg.float64)).item() - f(cg.tensor(down.tolist(), dtype=cg.float64)).item()
        ) / (2 * h)
        assert abs(numeric - x.grad[i, j].item()) < 1e-5


@pytest.mark.parametrize("shape,norm", [((4, 6), (6,)), ((2, 3, 4), (3, 4)), ((3, 5), 5)])
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, True)])
def test_layernorm_matches_torch(shape, norm, affine, bias):
    ours = nn.LayerNorm(norm, elementwise_affine=affine, bias=bias).double()
    ref = torch.nn.LayerNorm(norm, elementwise_affine=affine, bias=bias).double()
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    cx, tx = both(rng.standard_normal(shape) * 3, True)
    y, ry = ours(cx), ref(tx)
    close(y, ry, 1e-9)
    y.sum().backward() if False else (y * y).sum().backward()
    (ry * ry).sum().backward()
    close(cx.grad, tx.grad, 1e-8)
    if affine:
        close(ours.weight.grad, ref.weight.grad, 1e-8)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        ours(cg.randn(2, 7))


def test_containers_and_shape_modules():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Tanh()])
    ml.append(nn.Linear(2, 1))
    assert len(ml) == 3 and isinstance(ml[-1], nn.Linear) and len(list(ml.parameters())) == 4
    assert list(ml.state_dict()) == list(
        torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1)]).state_dict()
    )
    md = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and "a" in md and list(md.state_dict()) == ["a.weight", "a.bias"]
    x = cg.randn(2, 6)
    assert nn.Unflatten(1, (2, 3))(x).shape == (2, 2, 3)
    assert repr(nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))
    assert nn.Identity()(x) is x and nn.Flatten()(cg.randn(2, 3, 4)).shape == (2, 12)


def test_module_written_the_lecture_way():
    class Block(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.emb = nn.Embedding(5, n)
            self.layers = nn.ModuleList([nn.Linear(n, n), nn.BatchNorm1d(n)])
            self.register_buffer("scratch", cg.zeros(1), persistent=False)

        def forward(self, idx):
            x = self.emb(idx)
            for layer in self.layers:
                x = layer(x)
            return x

    m = Block(4)
    assert m.training and all(c.training for c in m.modules())
    m.eval()
    assert not m.training and not m.layers[1].training
    m.train()
    out = m(cg.tensor([0, 1, 2]))
    F.cross_entropy(out, cg.tensor([0, 1, 3])).backward()
    assert all(p.grad is not None for p in m.parameters())
    assert "scratch" not in m.state_dict() and "layers.1.num_batches_tracked" in m.state_dict()


def test_loss_modules_take_torch_arguments():
    cw, tw = both(rng.random(3))
    cx, tx = both(rng.standard_normal((5, 3)))
    ct, tt = both(np.array([0, 2, 1, -100, 2]))
    ours = nn.CrossEntropyLoss(weight=cw, label_smoothing=0.1)
    ref = torch.nn.CrossEntropyLoss(weight=tw, label_smoothing=0.1)
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]
    close(ours(cx, ct), ref(tx, tt))
    close(
        nn.NLLLoss(reduction="sum", ignore_index=2)(cx.log_softmax(1), ct.abs() % 3),
        torch.nn.NLLLoss(reduction="sum", ignore_index=2)(tx.log_softmax(1), tt.abs() % 3),
    )


def test_module_apply_visits_children_first_as_torch():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Sequential(lib.nn.Tanh(), lib.nn.Linear(3, 1)))

    order, ref_order = [], []
    build(cg).apply(lambda m: order.append(type(m).__name__))
    build(torch).apply(lambda m: ref_order.append(type(m).__name__))
    assert order == ref_order
    m = build(cg)
    assert m.get_submodule("1.1") is m[1][1]


@pytest.mark.parametrize("kind", ["batch_train", "batch_eval", "layer"])
def test_norm_names_and_double_backward_match_torch(kind):
    shape = (6, 3, 2) if kind != "layer" else (4, 5)
    cx, tx = both(rng.standard_normal(shape), True)
    channels = shape[1] if kind != "layer" else shape[-1]
    cw, tw = both(rng.random(channels) + 0.5, True)
    cb, tb = both(rng.standard_normal(channels), True)
    cm, tm = both(rng.standard_normal(channels))
    cv, tv = both(rng.random(channels) + 0.5)

    def run(lib, x, w, b, m, v):
        f = lib.nn.functional
        if kind == "layer":
            return f.layer_norm(x, (channels,), w, b)
        return f.batch_norm(x, m, v, w, b, training=kind == "batch_train")

    y, ry = run(cg, cx, cw, cb, cm, cv), run(torch, tx, tw, tb, tm, tv)
    assert y.grad_fn.name() == ry.grad_fn.name()
    close(y, ry, 1e-9)
    seed = rng.standard_normal(shape)
    grads = cg.autograd.grad(
        (y * y * cg.tensor(seed.tolist(), dtype=cg.float64)).sum(), [cx, cw, cb], create_graph=True
    )
    rgrads = torch.autograd.grad((ry * ry * torch.tensor(seed)).sum(), [tx, tw, tb], create_graph=True)
    for g, rg in zip(grads, rgrads):
        close(g, rg, 1e-8)
    second = cg.autograd.grad(sum((g * g).sum() for g in grads), [cx, cw], allow_unused=True)
    rsecond = torch.autograd.grad(sum((g * g).sum() for g in rgrads), [tx, tw], allow_unused=True)
    for g, rg in zip(second, rsecond):
        close(g, rg, 1e-7)
