"""Hostile shapes and views: each must raise a clear error (or give the right answer), never crash
the interpreter or corrupt memory."""

from __future__ import annotations

import pytest

import chaingrad as cg


def test_reshape_to_an_overflowing_shape():
    with pytest.raises(OverflowError):
        cg.zeros(0).reshape(2**32, 2**32)


def test_linear_with_zero_input_features():
    y = cg.nn.functional.linear(cg.zeros(1000, 0), cg.zeros(1000, 0))
    assert y.shape == (1000, 1000) and y.abs().sum().item() == 0
    y.zero_()


def test_expand_with_invalid_sizes():
    with pytest.raises(RuntimeError, match="invalid size -2"):
        cg.ones(1, 1).expand(-2, -2)


def test_broadcasting_copy_of_a_tensor_that_requires_grad():
    w = cg.randn(300, 400, requires_grad=True)
    with pytest.raises(RuntimeError, match="broadcasts a tensor requiring grad"):
        cg.zeros(2, 400, 300).copy_(w.t())
    leaf = cg.tensor([1.0, 2.0], requires_grad=True)
    x = cg.zeros(2)
    x.copy_(leaf)
    (x * 3).sum().backward()
    assert leaf.grad.tolist() == [3.0, 3.0]


def test_overlapping_slice_assignment_reads_the_old_values():
    x = cg.tensor([1.0, 2.0, 3.0, 4.0])
    x[1:] = x[:-1]
    assert x.tolist() == [1.0, 1.0, 2.0, 3.0]
