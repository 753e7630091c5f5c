"""Hostile programs against the Python layer (nn, optim, pickling): each must raise a clear error
or give PyTorch's answer."""

from __future__ import annotations

import numpy as np
import pytest

import chaingrad as cg


def test_optimizer_refuses_duplicate_parameters():
    p = cg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="duplicate parameters"):
        cg.optim.SGD([p, p], lr=0.1)


def test_review_of_the_python_layer():
    import io
    import json
    import struct

    # a tiny checkpoint asking for a huge Linear is refused before allocating anything
    desc = {"$module": "Linear", "config": {"in_features": 60000, "out_features": 60000, "bias": True},
            "tensors": {}, "children": []}
    head = json.dumps({"__metadata__": {"format": "chaingrad", "version": "1", "object": json.dumps(desc)}}).encode()
    with pytest.raises(ValueError, match="weight has shape"):
        cg.load(io.BytesIO(struct.pack("<Q", len(head)) + head))
    for bad in ({"$dtype": [1]}, {"$module": "Sequential", "config": {}, "tensors": {}, "children": [5]},
                {"$module": "Sequential", "config": {}, "tensors": {}, "children": [["0", {"$dict": []}]]}):
        head = json.dumps({"__metadata__": {"format": "chaingrad", "version": "1", "object": json.dumps(bad)}}).encode()
        with pytest.raises(ValueError):
            cg.load(io.BytesIO(struct.pack("<Q", len(head)) + head))
    # modules: a plain tensor cannot replace a parameter; buffers update; to() keeps Parameter objects
    lin = cg.nn.Linear(4, 3)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        lin.weight = cg.randn(3, 4)
    lin.register_buffer("rm", cg.zeros(3))
    lin.rm = cg.ones(3)
    assert lin.state_dict()["rm"].tolist() == [1.0, 1.0, 1.0]
    opt = cg.optim.SGD(lin.parameters(), lr=0.1)
    before = lin.weight
    lin.double()
    assert lin.weight is before and lin.weight.dtype is cg.float64
    lin(cg.ones(2, 4, dtype=cg.float64)).sum().backward()
    old = lin.weight.tolist()
    opt.step()
    assert lin.weight.tolist() != old
    assert list(lin.state_dict(prefix="m.")) == ["m.weight", "m.bias", "m.rm"]
    # promotion of Python scalars, randint(high, size), int64 overflow
    assert cg.where(cg.tensor([True, False]), cg.tensor([1, 2]), 0.5).tolist() == [1.0, 0.5]
    assert (2.5 ** cg.tensor([1, 2])).tolist() == [2.5, 6.25]
    assert cg.randint(10, (3,)).shape == (3,)
    with pytest.raises(OverflowError):
        cg.tensor([2**63])
    # optimizers take a closure and refuse a bare tensor
    p = cg.ones(2, requires_grad=True)
    opt = cg.optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 2.0 and p.tolist() == [0.0, 0.0]
    with pytest.raises(TypeError, match="iterable"):
        cg.optim.SGD(p, lr=0.1)
    with pytest.raises(IndexError):
        cg.ones(2, 3).flatten(5)
    assert cg.ones(2, 3, 4).amax((0, 2)).shape == (3,)
    assert list(cg.nn.Sequential(cg.nn.ReLU(), cg.nn.Tanh(), cg.nn.Sigmoid())[1:]._modules) == ["1", "2"]
    assert cg.load(io.BytesIO(_saved({"shape": cg.ones(2, 3).shape})))["shape"] == (2, 3)


def _saved(obj):
    import io
    buf = io.BytesIO()
    cg.save(obj, buf)
    return buf.getvalue()


def test_cross_entropy_with_spatial_dims_and_unbatched(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4))
    t_idx = rng.integers(0, 3, (2, 4))
    probs = rng.random((2, 3, 4))
    probs /= probs.sum(1, keepdims=True)
    for target in (t_idx, probs):
        ours = cg.nn.functional.cross_entropy(cg.tensor(x), cg.tensor(target))
        theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(target))
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)
    ours = cg.nn.functional.cross_entropy(cg.tensor(x[0, :, 0]), cg.tensor(1))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x[0, :, 0]), torch.tensor(1))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)
