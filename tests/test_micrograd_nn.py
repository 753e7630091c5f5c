"""chaingrad.micrograd.nn against micrograd's own: reprs, initialisation, values and gradients."""

from __future__ import annotations

import random

import pytest

from chaingrad import Value
from chaingrad.micrograd.nn import MLP, Layer, Module, Neuron


def test_reprs_and_parameter_count():
    model = MLP(2, [16, 16, 1])
    text = repr(model)
    assert text.startswith("MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2),")
    assert text.endswith("Layer of [LinearNeuron(16)]]")
    assert text.count("ReLUNeuron(16)") == 16
    assert len(model.parameters()) == 337
    assert repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"


def test_neuron_matches_the_unfused_sum():
    random.seed(0)
    n = Neuron(4)
    x = [Value(v) for v in (0.5, -1.0, 2.0, 0.25)]
    out = n(x)
    act = sum((wi * xi for wi, xi in zip(n.w, x)), n.b)
    expected = act.relu()
    assert out.data == expected.data
    out.backward()
    grads = [p.grad for p in n.parameters()] + [v.grad for v in x]
    for p in n.parameters() + x:
        p.grad = 0
    expected.backward()
    assert grads == [p.grad for p in n.parameters()] + [v.grad for v in x]


def test_layer_of_one_neuron_returns_a_value():
    out = Layer(3, 1)([1.0, 2.0, 3.0])
    assert isinstance(out, Value)
    outs = Layer(3, 2)([1.0, 2.0, 3.0])
    assert isinstance(outs, list) and len(outs) == 2


def test_numbers_as_inputs():
    random.seed(1)
    model = MLP(2, [3, 1])
    a = model([0.5, -0.25])
    b = model([Value(0.5), Value(-0.25)])
    assert a.data == b.data


def test_zero_grad_and_module_base():
    model = MLP(2, [3, 1])
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 and repr(p).endswith("grad=0)") for p in model.parameters())
    assert Module().parameters() == []


def test_subclass_call_is_honoured():
    class Doubling(Neuron):
        def __call__(self, x):
            return super().__call__(x) * 2

    random.seed(3)
    layer = Layer(2, 2)
    plain = [v.data for v in layer([1.0, 1.0])]
    layer.neurons[1].__class__ = Doubling
    out = [v.data for v in layer([1.0, 1.0])]
    assert out == [plain[0], plain[1] * 2]


def test_custom_layer_inside_mlp_is_called():
    class Shift(Module):
        def __call__(self, x):
            return [xi + 1 for xi in x]

    random.seed(4)
    model = MLP(2, [2, 1])
    before = model([0.3, 0.4]).data
    model.layers.insert(1, Shift())
    after = model([0.3, 0.4]).data
    w = model.layers[2].neurons[0].w
    assert after == pytest.approx(before + w[0].data + w[1].data, rel=1e-12)


def test_same_initialisation_forward_and_training_as_micrograd(micrograd_nn):
    random.seed(1337)
    ours = MLP(3, [4, 4, 1])
    random.seed(1337)
    theirs = micrograd_nn.MLP(3, [4, 4, 1])
    assert repr(ours) == repr(theirs)
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]

    xs = [[0.5, -1.0, 0.25], [1.5, 0.5, -0.75], [-0.3, 0.2, 0.9]]
    for _ in range(3):
        for model in (ours, theirs):
            engine = Value if model is ours else type(theirs.parameters()[0])
            scores = [model(list(map(engine, x))) for x in xs]
            loss = sum((1 + -1.0 * s).relu() for s in scores) * (1.0 / len(xs))
            model.zero_grad()
            loss.backward()
            model._last = (loss.data, [p.grad for p in model.parameters()])
            for p in model.parameters():
                p.data -= 0.1 * p.grad
        assert ours._last[0] == theirs._last[0]  # forward values are bit-identical
        assert ours._last[1] == pytest.approx(theirs._last[1], rel=1e-12, abs=1e-15)


def test_neuron_that_empties_its_layer_mid_call_does_not_crash():
    layer = Layer(2, 4)

    class Vandal(Neuron):
        def __call__(self, x):
            layer.neurons.clear()
            return Value(1.0)

    layer.neurons[1].__class__ = Vandal
    out = layer([1.0, 2.0])
    assert len(out) == 2  # neuron 0, then the vandal; the rest were removed during the call


def test_layer_that_empties_the_mlp_mid_call_does_not_crash():
    model = MLP(2, [3, 3, 1])

    class Vandal(Module):
        def __call__(self, x):
            model.layers.clear()
            return x

    model.layers.insert(1, Vandal())
    out = model([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3


@pytest.mark.concurrency
def test_backward_from_threads_sharing_parameters():
    import threading

    random.seed(5)
    model = MLP(2, [8, 1])
    errors = []

    def work():
        try:
            for _ in range(50):
                model([0.5, -0.5]).backward()
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    model.zero_grad()
    model([0.5, -0.5]).backward()
    single = [p.grad for p in model.parameters()]
    model.zero_grad()
    for t in [threading.Thread(target=lambda: model([0.5, -0.5]).backward()) for _ in range(4)]:
        t.start()
        t.join()
    assert [p.grad for p in model.parameters()] == pytest.approx([4 * g for g in single])


def _python_parameters(module: Module) -> list:
    """micrograd's own parameters(): nested lists built in Python."""
    if isinstance(module, MLP):
        return [p for layer in module.layers for p in _python_parameters(layer)]
    if isinstance(module, Layer):
        return [p for n in module.neurons for p in n.parameters()]
    return module.parameters()


def test_fused_parameters_are_micrograds_list():
    model = MLP(3, [4, 5, 1])
    params = model.parameters()
    assert [id(p) for p in params] == [id(p) for p in _python_parameters(model)]
    assert len(params) == 4 * 4 + 5 * 5 + 6
    layer = model.layers[1]
    assert [id(p) for p in layer.parameters()] == [id(p) for p in _python_parameters(layer)]
    layer.neurons[0].w[1] = Value(7)  # edited lists are read afresh
    assert layer.parameters()[1] is layer.neurons[0].w[1]


def test_fused_parameters_call_other_modules_through_python():
    class Extra(Module):
        def parameters(self) -> list:
            return (self.p for self.p in [Value(1.0)])  # any iterable extends the list

    class MyNeuron(Neuron):
        def parameters(self) -> list:
            return [self.b]

    model = MLP(2, [2, 1])
    model.layers.append(Extra())
    model.layers[0].neurons.append(MyNeuron(2))
    params = model.parameters()
    assert len(params) == 2 * 3 + 3 + 1 + 1
    assert params[6] is model.layers[0].neurons[2].b
    model.layers[0].neurons[0].w = tuple(model.layers[0].neurons[0].w)
    with pytest.raises(TypeError):  # Neuron.parameters' own error: tuple + list
        model.parameters()
    model.layers[0].neurons = ()
    with pytest.raises(TypeError, match="list of modules"):
        model.parameters()


def test_layer_listing_itself_raises_recursion_error():
    layer = Layer(2, 1)
    layer.neurons.append(layer)
    with pytest.raises(RecursionError):
        layer.parameters()


def test_zero_grads_sets_int_zero_on_values_and_attributes_elsewhere():
    class Holder:
        grad = 5

    model = MLP(2, [3, 1])
    out = model([Value(1.0), Value(-2.0)])
    out.backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 and isinstance(p.grad, int) for p in model.parameters())
    h = Holder()
    from chaingrad._core import zero_grads
    zero_grads(iter([Value(2.0), h]))
    assert h.grad == 0
    with pytest.raises(TypeError):
        zero_grads(3)
    with pytest.raises(AttributeError):
        zero_grads([object()])


def test_forward_sees_every_weight_write():
    """A layer's weight values are cached between calls; any .data write must show in the next call."""
    random.seed(5)
    model = MLP(3, [5, 4, 1])
    x = [Value(0.25), Value(-1.5), Value(2.0)]

    def unfused() -> float:
        acts = [v.data for v in x]
        for layer in model.layers:
            acts = [max(0.0, s) if n.nonlin else s for n in layer.neurons
                    for s in [sum((wi.data * xi for wi, xi in zip(n.w, acts)), n.b.data)]]
        return acts[0]

    assert model(x).data == unfused()
    for p in model.parameters()[::3]:
        p.data = p.data * 0.5 - 0.125
        assert model(x).data == unfused()
    model.layers[1].neurons[2].b.data = 3  # an int
    assert model(x).data == unfused()
    model.layers[0].neurons[1].w[0] = Value(9.0)  # a new weight object
    assert model(x).data == unfused()
