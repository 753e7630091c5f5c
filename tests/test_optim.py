"""Optimizers and schedulers step by step against PyTorch (same parameters, same gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import chaingrad as cg

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.5)),
]


def _loss(lib, params, x):
    w, b = params
    return ((x @ w + b).tanh() ** 2).sum()


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_steps_match_torch(torch, name, kwargs, dtype):
    rng = np.random.default_rng(0)
    w0, b0, x = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((5, 3))
    ours = [cg.tensor(w0, dtype=getattr(cg, dtype), requires_grad=True),
            cg.tensor(b0, dtype=getattr(cg, dtype), requires_grad=True)]
    theirs = [torch.tensor(w0, dtype=getattr(torch, dtype), requires_grad=True),
              torch.tensor(b0, dtype=getattr(torch, dtype), requires_grad=True)]
    opt_ours = getattr(cg.optim, name)(ours, **kwargs)
    opt_theirs = getattr(torch.optim, name)(theirs, **kwargs)
    xo, xt = cg.tensor(x, dtype=getattr(cg, dtype)), torch.tensor(x, dtype=getattr(torch, dtype))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for _ in range(6):
        for opt, params, lib, xx in ((opt_ours, ours, cg, xo), (opt_theirs, theirs, torch, xt)):
            opt.zero_grad()
            _loss(lib, params, xx).backward()
            opt.step()
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)


def test_state_dict_round_trip_continues_identically():
    def run(opt_state=None, steps=3):
        cg.manual_seed(0)
        p = cg.randn(4, requires_grad=True)
        opt = cg.optim.Adam([p], lr=0.1)
        if opt_state is not None:
            p.data.copy_(opt_state[0])
            opt.load_state_dict(opt_state[1])
        for _ in range(steps):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        return p, opt

    p, opt = run()
    saved = (p.detach().clone(), opt.state_dict())
    assert saved[1]["state"][0]["step"] == 3 and saved[1]["param_groups"][0]["params"] == [0]
    p_cont, _ = run(saved, steps=2)
    p_full, _ = run(steps=5)
    np.testing.assert_allclose(p_cont.detach().numpy(), p_full.detach().numpy(), rtol=1e-6)


def test_param_groups_and_errors():
    a = cg.zeros(2, requires_grad=True)
    b = cg.zeros(2, requires_grad=True)
    opt = cg.optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = cg.ones(2)
    b.grad = cg.ones(2)
    opt.step()
    assert a.tolist() == pytest.approx([-0.1, -0.1]) and b.tolist() == [-1.0, -1.0]
    with pytest.raises(ValueError, match="empty parameter list"):
        cg.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        cg.optim.Adam([a], lr=-1)
    with pytest.raises(ValueError, match="non-leaf"):
        cg.optim.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        cg.optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)


def test_schedulers_match_torch(torch):
    def lrs(lib, make):
        p = lib.zeros(1, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.5)
        sched = make(lib, opt)
        out = []
        for _ in range(7):
            opt.step()
            sched.step()
            out.append(opt.param_groups[0]["lr"])
        return out

    step = lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)  # noqa: E731
    lam = lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (1 + e))  # noqa: E731
    assert lrs(cg, step) == pytest.approx(lrs(torch, step))
    assert lrs(cg, lam) == pytest.approx(lrs(torch, lam))
