"""Factory arguments checked as PyTorch checks them: sizes are ints, ranges are finite and sized,
fill values fit the dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chaingrad as cg


@pytest.mark.parametrize("size", [2.5, "3", None, [2, 1.0]])
def test_sizes_must_be_ints(size):
    for factory in (cg.zeros, cg.ones, cg.empty, cg.randn, cg.rand):
        with pytest.raises(TypeError, match="tuple of ints"):
            factory(size)
    with pytest.raises(TypeError):
        cg.ones(3).reshape(size)


def test_int_like_sizes_are_accepted():
    assert cg.zeros(np.int64(2), cg.tensor(3)).shape == (2, 3)
    assert cg.randint(0, 5, (np.int32(4),)).shape == (4,)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e19, -1e20])
def test_full_refuses_values_int64_cannot_hold(value):
    with pytest.raises(RuntimeError, match="cannot be converted to type int64"):
        cg.full((2,), value, dtype=cg.int64)
    assert cg.full((1,), -2.0**63, dtype=cg.int64).item() == -(2**63)


@pytest.mark.parametrize("args, message", [
    ((0, math.nan), "unsupported range"),
    ((math.inf,), "unsupported range"),
    ((0, 1e20), "invalid size"),
    ((0, 1, 0), "nonzero"),
    ((0, 1, math.nan), "nonzero"),
    ((5, 0), "inconsistent with step sign"),
])
def test_arange_refuses_ranges_it_cannot_hold(args, message):
    with pytest.raises(RuntimeError, match=message):
        cg.arange(*args)


def test_arange_and_linspace_edges_match_pytorch(torch):
    for args in [(0, 0), (0, 1, 0.3), (5, 0, -1), (1.5, 2.0, 0.1), (-3, 3)]:
        assert cg.arange(*args).tolist() == pytest.approx(torch.arange(*args).tolist())
    for args in [(2, 5, 1), (2, 5, 0), (0, 1, 5), (3, -3, 2)]:
        assert cg.linspace(*args).tolist() == pytest.approx(torch.linspace(*args).tolist())
