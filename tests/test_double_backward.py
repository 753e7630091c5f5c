"""Gradients of gradients: create_graph, autograd.functional, tensor hooks and retain_grad, against PyTorch."""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest

import chaingrad as cg
from chaingrad.autograd import functional as AF

torch = pytest.importorskip("torch")


def _pair(values, requires_grad=True):
    """The same float64 values as a chaingrad and a torch tensor."""
    arr = np.asarray(values, dtype=np.float64)
    return (cg.tensor(arr.tolist(), dtype=cg.float64, requires_grad=requires_grad),
            torch.tensor(arr, dtype=torch.float64, requires_grad=requires_grad))


def _close(ours, theirs, tol=1e-10):
    """ours (a chaingrad tensor) equals theirs (a torch tensor) to tol."""
    np.testing.assert_allclose(np.asarray(ours.tolist()), theirs.detach().numpy(), rtol=tol, atol=tol)


# (name, function of one input written once for both libraries (x, lib), input values)
FUNCTIONS = [
    ("x*x*x", lambda x, m: (x * x * x).sum(), [0.5, -1.5, 2.0]),
    ("tanh", lambda x, m: x.tanh().sum(), [0.3, -0.7, 1.1]),
    ("sigmoid", lambda x, m: x.sigmoid().sum(), [0.3, -0.7, 1.1]),
    ("exp*log", lambda x, m: (x.exp() * x.log()).sum(), [0.5, 1.5, 2.5]),
    ("sqrt/x", lambda x, m: (x.sqrt() / x).sum(), [0.5, 1.5, 2.5]),
    ("sin*cos", lambda x, m: (x.sin() * x.cos()).sum(), [0.5, 1.5, 2.5]),
    ("pow 3", lambda x, m: (x ** 3).sum(), [0.5, -1.5, 2.0]),
    ("pow 2.5", lambda x, m: (x ** 2.5).sum(), [0.5, 1.5, 2.0]),
    ("x ** x", lambda x, m: (x ** x).sum(), [0.5, 1.5, 2.0]),
    ("abs*x", lambda x, m: (x.abs() * x).sum(), [0.5, -1.5, 2.0]),
    ("relu*x", lambda x, m: (x.relu() * x).sum(), [0.5, -1.5, 2.0]),
    ("max", lambda x, m: (x * x).max() * x.sum(), [0.5, -1.5, 2.0]),
    ("amax", lambda x, m: (x * x).reshape(3, 1).amax(0).sum() * x.sum(), [0.5, -1.5, 2.0]),
    ("mean var", lambda x, m: x.var() * x.mean(), [0.5, -1.5, 2.0, 4.0]),
    ("std", lambda x, m: x.std() * x.sum(), [0.5, -1.5, 2.0, 4.0]),
    ("norm", lambda x, m: x.norm() * x.sum(), [0.5, -1.5, 2.0]),
    ("norm 3", lambda x, m: x.norm(3) * x.sum(), [0.5, -1.5, 2.0]),
    ("softmax", lambda x, m: (x.softmax(0) * x).sum(), [0.5, -1.5, 2.0]),
    ("log_softmax", lambda x, m: (x.log_softmax(0) * x).sum(), [0.5, -1.5, 2.0]),
    ("matmul", lambda x, m: (x.reshape(2, 2) @ x.reshape(2, 2)).sum(), [0.5, -1.5, 2.0, 0.25]),
    ("mv", lambda x, m: ((x.reshape(2, 2) @ x[:2]) ** 2).sum(), [0.5, -1.5, 2.0, 0.25]),
    ("dot", lambda x, m: x.dot(x) * x.sum(), [0.5, -1.5, 2.0]),
    ("views", lambda x, m: (x.reshape(2, 2).t().unsqueeze(0).expand(3, 2, 2) ** 2).sum(),
     [0.5, -1.5, 2.0, 0.25]),
    ("index", lambda x, m: (x[1:] * x[:-1]).sum() * x[0], [0.5, -1.5, 2.0, 0.25]),
    ("cat", lambda x, m: (m.cat([x, x * x]) ** 2).sum(), [0.5, -1.5, 2.0]),
    ("where clamp", lambda x, m: (m.where(x > 0, x * x, x) * x.clamp(-1, 1)).sum(), [0.5, -1.5, 2.0]),
    ("broadcast", lambda x, m: (x.reshape(3, 1) * x.reshape(1, 3)).sum() * x.sum(), [0.5, -1.5, 2.0]),
    ("to dtype", lambda x, m: (x.float().double() ** 2).sum(), [0.5, -1.5, 2.0]),
]


@pytest.mark.parametrize("name,fn,values", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_grad_of_grad_matches_torch(name, fn, values):
    """d/dx sum(d f / dx) and a Hessian-vector product agree with PyTorch's double backward."""
    x, xt = _pair(values)
    g, = cg.autograd.grad(fn(x, cg), x, create_graph=True)
    gt, = torch.autograd.grad(fn(xt, torch), xt, create_graph=True)
    _close(g, gt)
    assert g.requires_grad, f"{name}: the gradient carries no graph"
    v = [0.25 * (i + 1) for i in range(len(values))]
    hv, = cg.autograd.grad(g, x, cg.tensor(v, dtype=cg.float64))
    hvt, = torch.autograd.grad(gt, xt, torch.tensor(v, dtype=torch.float64))
    tol = 1e-6 if "float" in name or "dtype" in name else 1e-9
    _close(hv, hvt, tol)


@pytest.mark.parametrize("name,fn,values", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_grad_of_grad_matches_finite_differences(name, fn, values):
    """The Hessian column by column equals central differences of the first gradient."""
    if "dtype" in name:
        pytest.skip("float32 round trip: differences are too coarse")
    x0 = np.asarray(values, dtype=np.float64)

    def gradient(point):
        x = cg.tensor(point.tolist(), dtype=cg.float64, requires_grad=True)
        g, = cg.autograd.grad(fn(x, cg), x)
        return np.asarray(g.tolist())

    x = cg.tensor(x0.tolist(), dtype=cg.float64, requires_grad=True)
    g, = cg.autograd.grad(fn(x, cg), x, create_graph=True)
    eps = 1e-6
    for i in range(len(values)):
        row, = cg.autograd.grad(g[i], x, retain_graph=True)
        numeric = np.empty(len(values))
        for j in range(len(values)):
            step = np.zeros(len(values))
            step[j] = eps
            numeric[j] = (gradient(x0 + step)[i] - gradient(x0 - step)[i]) / (2 * eps)
        np.testing.assert_allclose(np.asarray(row.tolist()), numeric, rtol=1e-5, atol=1e-5)


def test_backward_create_graph_accumulates_a_differentiable_grad():
    """x.grad after backward(create_graph=True) has a graph; a gradient penalty trains through it."""
    x, xt = _pair([0.5, -1.5, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    (xt ** 3).sum().backward(create_graph=True)
    _close(x.grad, xt.grad)
    assert x.grad.grad_fn is not None
    penalty = (x.grad ** 2).sum()
    penalty_t = (xt.grad ** 2).sum()
    gx, = cg.autograd.grad(penalty, x)
    gxt, = torch.autograd.grad(penalty_t, xt)
    _close(gx, gxt)


def test_backward_create_graph_twice_adds_out_of_place():
    """A second create_graph backward adds to .grad out of place, as PyTorch, keeping both graphs."""
    x, xt = _pair([0.5, -1.5])
    for t in (x, xt):
        (t * t).sum().backward(create_graph=True)
        first = t.grad
        (t * t * t).sum().backward(create_graph=True)
        assert t.grad is not first
    _close(x.grad, xt.grad)
    gx, = cg.autograd.grad(x.grad.sum(), x)
    gxt, = torch.autograd.grad(xt.grad.sum(), xt)
    _close(gx, gxt)


def test_gradient_penalty_on_a_linear_layer_matches_torch():
    """WGAN-GP style: the norm of d out / d input, differentiated with respect to the layer's weights."""
    cg.manual_seed(0)
    torch.manual_seed(0)
    w = np.random.default_rng(0).normal(size=(4, 3))
    b = np.random.default_rng(1).normal(size=4)
    inp = np.random.default_rng(2).normal(size=(5, 3))
    results = []
    for lib in (cg, torch):
        layer = lib.nn.Linear(3, 4).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(w.tolist(), dtype=lib.float64))
            layer.bias.copy_(lib.tensor(b.tolist(), dtype=lib.float64))
        x = lib.tensor(inp.tolist(), dtype=lib.float64, requires_grad=True)
        out = lib.tanh(layer(x)).sum()
        g, = lib.autograd.grad(out, x, create_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        results.append((layer.weight.grad, layer.bias.grad))
    _close(results[0][0], results[1][0])
    _close(results[0][1], results[1][1])


def test_hvp_of_the_notes_regression_loss_matches_torch():
    """The Hessian-vector product of the notes' regression loss (Linear(3, 1) on x, x^2, x^3, MSE) equals PyTorch's."""
    xs = np.linspace(-math.pi, math.pi, 200)
    feats = np.stack([xs, xs ** 2, xs ** 3], axis=1)
    target = 0 + 1 * xs + 2 * xs ** 2 + 3 * xs ** 3
    w0, b0 = [[0.1, -0.2, 0.3]], [0.05]
    vw, vb = [[1.0, 0.5, -0.25]], [2.0]
    out = []
    for lib in (cg, torch):
        X = lib.tensor(feats.tolist(), dtype=lib.float64)
        Y = lib.tensor(target.tolist(), dtype=lib.float64)

        def loss(w, b, X=X, Y=Y, lib=lib):
            pred = lib.nn.functional.linear(X, w, b).flatten(0, 1)
            return lib.mean((pred - Y) ** 2)

        w = lib.tensor(w0, dtype=lib.float64)
        b = lib.tensor(b0, dtype=lib.float64)
        mod = AF if lib is cg else torch.autograd.functional
        value, hv = mod.hvp(loss, (w, b), (lib.tensor(vw, dtype=lib.float64), lib.tensor(vb, dtype=lib.float64)))
        out.append((value, hv))
    _close(out[0][0], out[1][0], 1e-9)
    for ours, theirs in zip(out[0][1], out[1][1]):
        _close(ours, theirs, 1e-9)


def _f_two(x, y, lib):
    return (x.tanh() * y.reshape(3, 1)).sum(0) + x.sum(0).exp()


@pytest.mark.parametrize("helper", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
def test_autograd_functional_matches_torch(helper):
    """Every torch.autograd.functional helper gives PyTorch's result on a two-input function."""
    xv = np.random.default_rng(3).normal(size=(3, 2))
    yv = np.random.default_rng(4).normal(size=3)
    vx = np.random.default_rng(5).normal(size=(3, 2))
    vy = np.random.default_rng(6).normal(size=3)
    vo = np.random.default_rng(7).normal(size=2)
    results = []
    for lib, mod in ((cg, AF), (torch, torch.autograd.functional)):
        x = lib.tensor(xv.tolist(), dtype=lib.float64)
        y = lib.tensor(yv.tolist(), dtype=lib.float64)
        t = lambda a, lib=lib: lib.tensor(a.tolist(), dtype=lib.float64)  # noqa: E731
        vec = lambda a, b: (a * b.reshape(3, 1)).tanh().sum() + (a ** 2).sum() * b.sum()  # noqa: E731
        f = lambda a, b, lib=lib: _f_two(a, b, lib)  # noqa: E731
        if helper == "jacobian":
            r = mod.jacobian(f, (x, y))
            flat = [r[0][0], r[0][1]]
        elif helper == "hessian":
            r = mod.hessian(vec, (x, y))
            flat = [r[i][j] for i in range(2) for j in range(2)]
        elif helper == "vjp":
            out, r = mod.vjp(f, (x, y), t(vo))
            flat = [out, *r]
        elif helper == "jvp":
            out, r = mod.jvp(f, (x, y), (t(vx), t(vy)))
            flat = [out, r]
        else:
            out, r = getattr(mod, helper)(vec, (x, y), (t(vx), t(vy)))
            flat = [out, *r]
        results.append(flat)
    for ours, theirs in zip(*results):
        assert tuple(ours.shape) == tuple(theirs.shape)
        _close(ours, theirs, 1e-9)


def test_functional_single_tensor_shapes_and_create_graph():
    """A single input and output give a tensor (not a tuple); create_graph keeps the result differentiable."""
    x = cg.tensor([0.5, 1.5], dtype=cg.float64, requires_grad=True)
    jac = AF.jacobian(lambda a: a ** 3, x)
    assert isinstance(jac, cg.Tensor) and tuple(jac.shape) == (2, 2) and not jac.requires_grad
    np.testing.assert_allclose(np.asarray(jac.tolist()), np.diag([0.75, 6.75]))
    hess = AF.hessian(lambda a: (a ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(np.asarray(hess.tolist()), np.diag([3.0, 9.0]))
    assert hess.requires_grad
    third, = cg.autograd.grad(hess.sum(), x)
    np.testing.assert_allclose(np.asarray(third.tolist()), [6.0, 6.0])
    with pytest.raises(RuntimeError, match="single element"):
        AF.hessian(lambda a: a ** 3, x)
    with pytest.raises(TypeError, match="must be a Tensor"):
        AF.jacobian(lambda a: a, [1.0])


def test_grad_of_grad_without_create_graph_is_a_clear_error():
    """Differentiating a gradient computed without create_graph names the problem."""
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    g, = cg.autograd.grad((x * x).sum(), x)
    assert not g.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        cg.autograd.grad(g.sum(), x)


def test_several_outputs_in_one_pass():
    """autograd.grad and autograd.backward over several outputs with their gradients, as PyTorch."""
    x, xt = _pair([0.5, -1.5, 2.0])
    outs = [(x * x), x.sum() * 2]
    outs_t = [(xt * xt), xt.sum() * 2]
    seeds = [cg.tensor([1.0, 2.0, 3.0], dtype=cg.float64), None]
    seeds_t = [torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), None]
    g, = cg.autograd.grad(outs, x, seeds, retain_graph=True)
    gt, = torch.autograd.grad(outs_t, xt, seeds_t, retain_graph=True)
    _close(g, gt)
    cg.autograd.backward(outs, seeds)
    torch.autograd.backward(outs_t, seeds_t)
    _close(x.grad, xt.grad)


def test_backward_inputs_only_fills_those():
    """backward(inputs=[a]) accumulates into a.grad only."""
    a = cg.tensor([1.0, 2.0], requires_grad=True)
    b = cg.tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 4.0] and b.grad is None


def test_register_hook_on_leaf_and_non_leaf_matches_torch():
    """Hooks see the gradient as it arrives and may replace it; remove() takes them off."""
    seen = {"cg": [], "torch": []}
    for lib, key in ((cg, "cg"), (torch, "torch")):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g, key=key: seen[key].append(("y", g.tolist())))
        h = y.register_hook(lambda g: g * 10)
        x.register_hook(lambda g, key=key: seen[key].append(("x", g.tolist())))
        (y * y).sum().backward(retain_graph=True)
        first = x.grad.tolist()
        h.remove()
        x.grad = None
        (y * y).sum().backward()
        seen[key].append(("grads", first, x.grad.tolist()))
    assert seen["cg"] == seen["torch"]


def test_hook_errors_propagate_and_leave_the_graph_usable():
    """An exception raised in a hook reaches the caller; nothing is left half-done."""
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3

    def boom(g):
        raise ValueError("hook failed")

    h = y.register_hook(boom)
    with pytest.raises(ValueError, match="hook failed"):
        y.sum().backward(retain_graph=True)
    h.remove()
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cg.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError):
        y2 = x * 2
        y2.register_hook(lambda g: "not a tensor")
        y2.sum().backward()


def test_backward_from_a_hook_is_refused_not_deadlocked():
    """A hook that calls backward() or autograd.grad gets a RuntimeError (the pass it is in holds the lock)."""
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    other = cg.tensor([3.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: (other * 2).sum().backward())
    with pytest.raises(RuntimeError, match="inside a backward pass"):
        y.sum().backward()
    z = x * 3
    z.register_hook(lambda g: cg.autograd.grad((other * 2).sum(), other))
    with pytest.raises(RuntimeError, match="inside a backward pass"):
        z.sum().backward()
    (x * 4).sum().backward()  # the lock and the pass state were released
    assert x.grad.tolist() == [4.0, 4.0]


def test_backward_create_graph_warns_about_the_leaf_cycle():
    """backward(create_graph=True) warns, as PyTorch, that .grad and the leaf now keep each other alive."""
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="reference cycle"):
        (x * x).sum().backward(create_graph=True)
    x.grad = None


@pytest.mark.parametrize("bad", ["shape", "dtype", "0-d"])
@pytest.mark.parametrize("where", ["leaf", "non-leaf"])
def test_a_hook_may_not_change_shape_or_dtype(bad, where):
    """A hook returning a tensor of another shape or dtype is refused, naming both, as PyTorch does."""
    replacement = {"shape": cg.ones(2, 2), "dtype": cg.tensor([1, 2]), "0-d": cg.tensor(1.0)}[bad]
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    (x if where == "leaf" else y).register_hook(lambda g: replacement)
    with pytest.raises(RuntimeError, match="a hook may change the values only"):
        (y * y).sum().backward()
    assert x.grad is None


def test_retain_grad_matches_torch():
    """retain_grad fills a non-leaf's .grad, accumulating over passes, after the other hooks ran."""
    grads = []
    for lib in (cg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.retain_grad()
        y.register_hook(lambda g: g * 2)  # registered later, runs before retain_grad's, as PyTorch
        assert y.retains_grad and not x.retains_grad
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        grads.append((y.grad.tolist(), x.grad.tolist()))
    assert grads[0] == grads[1]


def test_retain_grad_does_not_keep_the_tensor_alive():
    """The retain_grad hook holds no strong reference to its tensor (no cycle through the graph)."""
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.retain_grad()
    z = y.sum()
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None
    z.backward()  # the hook finds its tensor gone and does nothing
    assert x.grad.tolist() == [2.0, 4.0]


def test_create_graph_pass_leaves_no_cycle():
    """A create_graph pass whose gradients are dropped frees its graph (no reference cycle via received gradients)."""
    np_buf = np.ones(1000, dtype=np.float32)
    x = cg.from_numpy(np_buf).requires_grad_()
    holder = weakref.ref(x)
    for _ in range(3):
        y = (x.exp() * x.tanh()).sum()
        g, = cg.autograd.grad(y, x, create_graph=True)
        g.sum().backward()
        del y, g
    x.grad = None
    del x
    assert holder() is None


def test_deep_chain_with_create_graph_is_safe():
    """Double backward through a chain of 300,000 ops neither overflows the stack building nor freeing it."""
    a, c, n = 0.99999, 1e-6, 100_000
    x = cg.tensor([0.5], dtype=cg.float64, requires_grad=True)
    y = x
    for _ in range(n):  # y_n = a^n x + c x^2 (1 - a^n) / (1 - a)
        y = y * a + x * x * c
    g, = cg.autograd.grad(y.sum(), x, create_graph=True)
    geometric = (1 - a ** n) / (1 - a)
    np.testing.assert_allclose(g.tolist(), [a ** n + 2 * c * 0.5 * geometric], rtol=1e-9)
    gg, = cg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.tolist(), [2 * c * geometric], rtol=1e-9)
    del y, g


def test_grad_runs_only_the_part_of_the_graph_that_leads_to_inputs():
    """autograd.grad stops at its inputs, as PyTorch: what lies beyond them is untouched (freed, changed, hooked)."""
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    h = x.sin()
    h.exp().sum().backward()  # frees sin's saved tensors
    h2 = h * 1
    g, = cg.autograd.grad((h2 ** 2).sum(), h2)
    np.testing.assert_allclose(g.tolist(), (2 * np.sin([1.0, 2.0])).tolist(), rtol=1e-6)
    fired = []
    x.register_hook(lambda grad: fired.append(grad))
    h = x * 3
    g, = cg.autograd.grad((h ** 2).sum(), h)
    assert g.tolist() == [6.0, 12.0] and fired == []
    w = x.clone()
    h = w.sin()
    w.add_(1)  # sin saved w: only a pass through sin would notice
    g, = cg.autograd.grad((h * 3).sum(), h)
    assert g.tolist() == [3.0, 3.0]


def test_target_hooks_still_run_in_grad():
    """A hook on a tensor differentiated by autograd.grad sees (and may change) its gradient."""
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.register_hook(lambda g: g * 10)
    g, = cg.autograd.grad(h.sum(), h)
    assert g.tolist() == [10.0, 10.0]


def test_backward_inputs_with_retain_grad_counts_once_and_adds_in_place():
    """backward(inputs=[h]) with h.retain_grad() stores h's gradient once; a second call adds into the same .grad."""
    results = []
    for lib in (cg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        (h ** 2).sum().backward(inputs=[h], retain_graph=True)
        first = h.grad.tolist()
        x.grad = lib.tensor([10.0, 10.0])
        kept = x.grad
        (x * x).sum().backward(inputs=[x])
        results.append((first, x.grad.tolist(), kept.tolist(), x.grad is kept))
    assert results[0] == results[1]


def test_create_graph_keeps_the_graph_of_retained_and_input_grads():
    """Under create_graph, retain_grad's .grad and backward(inputs=)'s .grad carry their graph, as PyTorch."""
    import warnings
    results = []
    for lib in (cg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x ** 2
        h.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (h ** 2).sum().backward(create_graph=True)
        a, = lib.autograd.grad(h.grad.sum(), x)
        y = lib.tensor([1.0, 2.0], requires_grad=True)
        (y ** 3).sum().backward(inputs=[y], create_graph=True)
        b, = lib.autograd.grad(y.grad.sum(), y)
        results.append((a.tolist(), b.tolist()))
    assert results[0] == results[1]


def test_retain_grad_follows_an_in_place_op():
    """After h.mul_(3), h.grad is the gradient of h's new value, as PyTorch."""
    results = []
    for lib in (cg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.retain_grad()
        h.mul_(3)
        (h ** 2).sum().backward()
        results.append((h.grad.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


def test_functional_strict_and_empty_inputs_are_refused():
    """strict=True with create_graph refuses a derivative that does not depend on the input; grad needs inputs."""
    x = cg.tensor([1.0, 2.0], dtype=cg.float64)
    with pytest.raises(RuntimeError, match="strict"):
        AF.jacobian(lambda a: 2 * a, x, strict=True, create_graph=True)
    y = cg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-empty inputs"):
        cg.autograd.grad((y * 2).sum(), [])
