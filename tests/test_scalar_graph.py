"""The fused neuron's weight cache follows every change to a Neuron, and the scalar graph's
layout (shared weight and input lists, leaves left out of the traversal) changes no number."""

from __future__ import annotations

import random

import pytest

from chaingrad import Value, _core
from chaingrad.micrograd.nn import MLP, Layer, Neuron


def _unfused(n: Neuron, x):
    """micrograd's Neuron.__call__ on chaingrad's unfused ops."""
    act = sum((wi * xi for wi, xi in zip(n.w, x)), n.b)
    return act.relu() if n.nonlin else act


def _single_layer(n: Neuron) -> Layer:
    """A layer whose only neuron is n."""
    layer = Layer(1, 1)
    layer.neurons = [n]
    return layer


def _check_like_unfused(n: Neuron, x_data):
    """The fused forward and backward of n give exactly the unfused values and gradients."""
    xs = [Value(v) for v in x_data]
    fused = _single_layer(n)(xs)
    fused.backward()
    fused_grads = [p.grad for p in n.parameters()] + [x.grad for x in xs]
    n.zero_grad()
    xs2 = [Value(v) for v in x_data]
    ref = _unfused(n, xs2)
    ref.backward()
    assert fused.data == ref.data
    assert fused_grads == [p.grad for p in n.parameters()] + [x.grad for x in xs2]
    n.zero_grad()


def test_cache_follows_replaced_list_item_bias_and_nonlin():
    random.seed(0)
    n = Neuron(3)
    _check_like_unfused(n, [0.5, -1.0, 2.0])
    n.w = [Value(0.25), Value(-0.5), Value(1.5)]  # a new list
    _check_like_unfused(n, [0.5, -1.0, 2.0])
    n.w[1] = Value(3.0)  # an item of the cached list
    _check_like_unfused(n, [0.5, -1.0, 2.0])
    n.w[0].data = -7.0  # the same Value, new data
    _check_like_unfused(n, [0.5, -1.0, 2.0])
    n.b = Value(0.125)
    _check_like_unfused(n, [0.5, -1.0, 2.0])
    n.nonlin = False
    _check_like_unfused(n, [0.5, -1.0, 2.0])
    n.w.append(Value(1.0))
    with pytest.raises(ValueError, match="expects 4 inputs, got 3"):
        _single_layer(n)([Value(1.0)] * 3)


def test_weights_as_numbers_and_tuples_and_value_subclasses():
    class MyValue(Value):
        pass

    n = Neuron(2)
    for w in ([0.5, 2], (Value(0.5), Value(2.0)), [MyValue(0.5), MyValue(2.0)]):
        n.w = w
        n.b = 1
        layer = _single_layer(n)
        for _ in range(2):  # the second call would use a cache if there were one
            out = layer([Value(3.0), Value(-1.0)])
            assert out.data == (1 + 0.5 * 3.0) + 2.0 * -1.0


def test_gradients_reach_new_weights_and_not_the_replaced_ones():
    model = MLP(2, [3, 1])
    model([1.0, 2.0]).backward()
    n = model.layers[0].neurons[1]
    old = n.w[0]
    model.zero_grad()
    n.w[0] = Value(0.75)
    model([1.0, 2.0]).backward()
    assert old.grad == 0 and n.w[0].grad != 0


def test_deleted_slot_raises_attribute_error():
    layer = Layer(2, 2)
    layer([1.0, 2.0])
    del layer.neurons[0].b
    with pytest.raises(AttributeError):
        layer([1.0, 2.0])


def test_prev_lists_bias_then_weight_input_pairs():
    n = Neuron(2)
    xs = [Value(1.0), Value(2.0)]
    out = _single_layer(n)(xs)
    assert [id(p) for p in out._prev] == [id(n.b), id(n.w[0]), id(xs[0]), id(n.w[1]), id(xs[1])]


def test_non_leaf_weights_and_a_shared_input_list():
    # Weights computed from other values make the weight list non-leaf; the two layers share
    # inputs, so the traversal must not skip the shared list before its items are finished.
    random.seed(5)
    scale = Value(0.5)
    first = Layer(2, 3)
    second = Layer(3, 2)
    for n in second.neurons:
        n.w = [w * scale for w in n.w]
    xs = [Value(0.3), Value(-0.7)]
    h = first(xs)
    out = sum(second(h)) + sum(h)
    out.backward()
    got = [scale.grad] + [x.grad for x in xs] + [p.grad for p in first.parameters()]

    scale.grad = 0
    first.zero_grad()
    xs2 = [Value(0.3), Value(-0.7)]
    h2 = [_unfused(n, xs2) for n in first.neurons]
    out2 = sum(_unfused(n, h2) for n in second.neurons) + sum(h2)
    out2.backward()
    assert out.data == out2.data
    assert got == pytest.approx([scale.grad] + [x.grad for x in xs2] + [p.grad for p in first.parameters()],
                                rel=1e-12)


def test_million_deep_chain_of_weighted_sums():
    x = Value(1.0)
    y = x
    w, b = Value(1.0), Value(0.0)
    for _ in range(1_000_000):
        y = _core.neuron([w], b, [y], False)
    y.backward()
    assert x.grad == 1.0 and w.grad == 1_000_000.0
    del y  # freed in a loop through the shared lists: no stack overflow


def test_million_deep_chain_of_squares_frees_without_recursion():
    y = Value(1.0)
    for _ in range(1_000_000):
        y = y * y  # the same input twice: released twice by the teardown
    y.backward()
    del y


def test_passes_of_different_sizes_in_turn():
    """Each pass starts from a clean order and stack, whatever size the previous pass had."""
    def chain(n: int):
        x = Value(0.5)
        y = x
        for _ in range(n):
            y = y * 1.0 + 0.0
        return x, y

    for n in (3, 200_000, 5, 70_000, 1):
        x, y = chain(n)
        y.backward()
        assert x.grad == 1.0 and y.grad == 1
    leaf = Value(2.0)
    leaf.backward()  # a leaf root: no traversal at all
    assert leaf.grad == 1.0


def test_neuron_class_with_only_a_fused_slot_is_read_by_getattr():
    """neuron_type's instances are read as Neurons; missing slots raise, never read out of bounds."""
    class Odd:
        __slots__ = ("_fused",)

        def __init__(self) -> None:
            self._fused = None

    with pytest.raises(AttributeError, match="'w'"):
        _core.dense_layer([Odd(), Odd()], [Value(1.5)], Odd)


def test_foreign_slot_descriptor_and_non_type_neuron_class_do_not_crash():
    # a member descriptor copied from another class holds an offset into that class's instances
    # (here past a Neuron's end); the fused forward must not read the slot at that offset, and a
    # neuron_type that is no type at all must not be read as one (both segfaulted)
    class Big:
        __slots__ = tuple(f"s{i}" for i in range(400))

    m = MLP(2, [2, 1])
    original = Neuron.__dict__["w"]
    try:
        Neuron.w = Big.__dict__["s399"]
        with pytest.raises(TypeError):  # what the descriptor itself raises on a Neuron
            m([Value(1.0), Value(2.0)])
    finally:
        Neuron.w = original
    out = _core.dense_layer(m.layers[0].neurons, [Value(1.0), Value(2.0)], "not a type")
    assert len(out) == 2


def test_class_attributes_replacing_slots_are_read_by_getattr():
    # Neuron.w as a property, or Neuron.nonlin as a plain class attribute, leaves no slot offset to
    # read: the cache must not be consulted at the missing offset (it read at offset -1)
    random.seed(5)
    m = MLP(2, [3, 1])
    x = [Value(1.0), Value(-2.0)]
    want = m(x).data
    slot, nonlin = Neuron.__dict__["w"], Neuron.__dict__["nonlin"]
    try:
        Neuron.w = property(lambda self: slot.__get__(self), lambda self, v: slot.__set__(self, v))
        assert m(x).data == want
        Neuron.nonlin = True  # now every neuron's, the last layer's too
        h = x
        for layer in m.layers:
            h = [_unfused(n, h) for n in layer.neurons]
        assert m(x).data == h[0].data
    finally:
        Neuron.w, Neuron.nonlin = slot, nonlin
    assert m(x).data == want
