"""Hostile data and numerics: foreign byte orders, ints past 2**53, special norm orders and
pow at zero, each giving PyTorch's answer."""

from __future__ import annotations

import numpy as np
import pytest

import chaingrad as cg


def test_big_endian_arrays_and_large_ints():
    a = np.array([1.5, -2.0], dtype=">f8")
    assert cg.tensor(a).tolist() == [1.5, -2.0]
    with pytest.raises(ValueError, match="byte order"):  # sharing is impossible: no silent copy
        cg.from_numpy(a)
    big = 2**62 + 1
    assert int(cg.tensor(big)) == big and cg.tensor(big).item() == big
    assert [0, 1, 2][cg.tensor(1)] == 1


def test_norm_special_orders_and_pow_at_zero(torch):
    v = np.array([[3.0, -4.0, 0.0], [1.0, 0.0, -2.0]])
    for p in (0, float("inf"), float("-inf"), 1, 3):
        ours = cg.tensor(v).norm(p).item()
        theirs = torch.tensor(v).norm(p).item()
        assert ours == pytest.approx(theirs), p
    assert cg.tensor(v).norm(float("inf"), dim=1).tolist() == [4.0, 2.0]
    a = cg.tensor([0.0, 2.0], requires_grad=True)
    b = cg.tensor([0.0, 1.0], requires_grad=True)
    (a ** b).sum().backward()
    assert not np.isnan(b.grad.numpy()).any()
