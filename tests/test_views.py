"""Views: which reshapes share memory, and in-place ops on empty tensors."""

from __future__ import annotations

import random

import numpy as np
import pytest

import chaingrad as cg


def _random_strided(rng: random.Random, lib, base: np.ndarray):
    """A permuted, sometimes sliced view of base, built the same way in chaingrad and PyTorch."""
    t = lib.tensor(base)
    perm = list(range(base.ndim))
    rng.shuffle(perm)
    t = t.permute(perm)
    if base.ndim and rng.random() < 0.5:
        d = rng.randrange(base.ndim)
        if t.shape[d] > 1:
            index = [slice(None)] * base.ndim
            index[d] = slice(0, t.shape[d] - 1)
            t = t[tuple(index)]
    return t


def test_view_accepts_exactly_the_shapes_pytorch_accepts(torch):
    rng_shapes = random.Random(0)
    for _ in range(400):
        shape = [rng_shapes.randint(1, 4) for _ in range(rng_shapes.randint(1, 4))]
        base = np.arange(float(np.prod(shape))).reshape(shape)
        seed = rng_shapes.random()
        ours, theirs = _random_strided(random.Random(seed), cg, base), _random_strided(random.Random(seed), torch, base)
        numel, new = int(np.prod(theirs.shape)), []
        while numel > 1 and rng_shapes.random() < 0.7:
            k = rng_shapes.choice([k for k in range(1, numel + 1) if numel % k == 0])
            new.append(k)
            numel //= k
        new.append(numel)
        try:
            expected = theirs.view(new)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="view size is not compatible"):
                ours.view(new)
            continue
        got = ours.view(new)
        assert got.tolist() == expected.tolist()
        # (the stride of a size-1 dim is never used to address anything)
        assert [s for s, n in zip(got.stride(), new) if n > 1] == [s for s, n in zip(expected.stride(), new) if n > 1]


def test_view_of_a_transposed_tensor_shares_memory_and_has_a_gradient():
    x = cg.arange(24.0).reshape(2, 3, 4).permute(1, 0, 2)
    v = x.view(3, 2, 2, 2)
    v[0, 0, 0, 0] = -1.0
    assert x[0, 0, 0].item() == -1.0
    w = cg.randn(4, 6, requires_grad=True)
    (w[:, :4].view(4, 2, 2) * 3).sum().backward()
    assert w.grad[:, :4].tolist() == [[3.0] * 4] * 4 and w.grad[:, 4:].tolist() == [[0.0] * 2] * 4
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        cg.arange(6.0).reshape(2, 3).t().view(6)


def test_in_place_ops_on_empty_tensors():
    z = cg.zeros(2, 0)
    assert z.add_(1).shape == (2, 0)
    z.mul_(3)
    z.zero_()
    z.fill_(2.0)
    z += 1
    e = cg.zeros(0, 3).expand(4, 0, 3)  # expanded and empty: still nothing to alias
    e.copy_(cg.ones(4, 0, 3))
    with pytest.raises(RuntimeError, match="expanded view"):
        cg.zeros(1, 3).expand(2, 3).add_(1)


def test_repr_of_a_huge_expanded_tensor_is_a_summary():
    text = repr(cg.ones(1).expand(2**40))
    assert text == "tensor([1., 1., 1.,  ..., 1., 1., 1.])"
    assert "..." in repr(cg.zeros(1, 1).expand(2**20, 2**20))


def test_cat_refuses_a_joined_size_past_int64():
    part = cg.zeros(2**62, 0)
    with pytest.raises(OverflowError, match="joined size"):
        cg.cat([part, part])
    assert cg.cat([cg.zeros(2**61, 0), cg.zeros(2**61, 0)]).shape == (2**62, 0)
