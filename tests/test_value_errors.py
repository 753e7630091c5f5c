"""Bad input raises a clear TypeError; math outside an op's domain follows IEEE; nothing crashes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chaingrad import Value

BAD = ["text", None, [1.0], (1.0,), {"a": 1}, 1 + 2j, np.array([1.0, 2.0]), object()]


@pytest.mark.parametrize("bad", BAD, ids=lambda b: type(b).__name__)
def test_constructor_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", BAD, ids=lambda b: type(b).__name__)
def test_operators_reject_non_numbers(bad):
    v = Value(1.0)
    for op in (lambda: v + bad, lambda: bad + v, lambda: v - bad, lambda: bad - v,
               lambda: v * bad, lambda: v / bad, lambda: bad / v):
        with pytest.raises(TypeError):
            op()


@pytest.mark.parametrize("bad", BAD + [Value(2.0)], ids=lambda b: type(b).__name__)
def test_exponent_must_be_a_number(bad):
    with pytest.raises(TypeError, match="exponent must be an int or float.*got"):
        Value(2.0) ** bad


@pytest.mark.parametrize("bad", BAD, ids=lambda b: type(b).__name__)
def test_data_and_grad_reject_non_numbers(bad):
    v = Value(1.0)
    with pytest.raises(TypeError, match=f"Value.data must be a real number.*got .*{type(bad).__name__}"):
        v.data = bad
    with pytest.raises(TypeError, match=f"Value.grad must be a real number.*got .*{type(bad).__name__}"):
        v.grad = bad
    assert v.data == 1.0 and v.grad == 0


def test_value_of_value_is_rejected():
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))


def test_huge_int_overflows_cleanly():
    with pytest.raises(OverflowError):
        Value(10 ** 400)
    with pytest.raises(OverflowError):
        Value(1.0) + 10 ** 400


def test_value_created_by_new_alone_is_a_valid_zero():
    v = Value.__new__(Value)
    assert v.data == 0.0 and (v + 1).data == 1.0
    with pytest.raises(TypeError, match="Value"):
        Value()
    with pytest.raises(TypeError):
        Value(1.0, 2.0)


def test_subclass_with_its_own_init():
    class Labeled(Value):
        def __init__(self, data, label=""):
            super().__init__(data)
            self.label = label

    v = Labeled(2.0, label="x")
    w = v * 3
    w.backward()
    assert v.label == "x" and v.grad == 3.0 and type(w) is Value and w._prev[0] is v


def test_domain_edges_follow_ieee():
    assert math.isnan(Value(-1.0).log().data)
    assert Value(0.0).log().data == -math.inf
    assert Value(0.0) ** -1 is not None and (Value(0.0) ** -1).data == math.inf
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)
    assert (Value(1.0) / 0).data == math.inf
    assert (Value(1000.0).exp()).data == math.inf
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert math.isnan((Value(math.nan) + 1).data)
    assert Value(math.nan).relu().data != Value(math.nan).relu().data  # nan passes through


def test_gradients_at_domain_edges_do_not_crash():
    x = Value(0.0)
    y = x.log()
    y.backward()
    assert x.grad == math.inf
    z = Value(-1.0)
    (z ** 0.5).backward()
    assert math.isnan(z.grad)


def test_neuron_input_errors():
    from chaingrad.micrograd.nn import MLP, Layer, Neuron

    n = Neuron(3)
    with pytest.raises(ValueError, match="Neuron\\(3\\) expects 3 inputs, got 2"):
        n([1.0, 2.0])
    with pytest.raises(TypeError, match="Neuron input\\[1\\] must be a Value or a real number, got str"):
        n([1.0, "x", 2.0])
    with pytest.raises(TypeError, match="must be a list or tuple"):
        n(5.0)
    with pytest.raises(TypeError, match="Layer input"):
        Layer(2, 2)(None)
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        MLP(2, [4, 1])([1.0, 2.0, 3.0])
    n.w[1] = "oops"
    with pytest.raises(TypeError, match="Neuron.w\\[1\\] must be a Value or a real number, got str"):
        n([1.0, 2.0, 3.0])
