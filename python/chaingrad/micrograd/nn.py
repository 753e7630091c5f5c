"""micrograd.nn on chaingrad: Module, Neuron, Layer and MLP with micrograd's API and initialisation.

A neuron's weighted sum, and a whole layer's, is one call into C++ instead of 2n Python-level ops;
values and gradients are the same as micrograd's to the last bit.
"""

from __future__ import annotations

import random
from typing import List, Sequence, Union

from chaingrad._core import Value, dense_layer, mlp_forward, module_parameters, neuron, zero_grads

Number = Union[int, float]
Input = Sequence[Union[Value, Number]]

__all__ = ["Module", "Neuron", "Layer", "MLP"]


class Module:
    """Base class: something with parameters whose gradients can be cleared."""

    def zero_grad(self) -> None:
        """Sets the gradient of every parameter to 0."""
        zero_grads(self.parameters())  # `for p in ...: p.grad = 0` in one C loop

    def parameters(self) -> List[Value]:
        """The trainable Values of this module."""
        return []


class Neuron(Module):
    """One unit: relu(w . x + b), or w . x + b when nonlin is False."""

    # Slots, read by the fused forward at fixed offsets; _fused caches w as C++ nodes, checked
    # against w on every call (see Note [neuron weight cache] in cpp/bindings/neurons.cpp).
    __slots__ = ("w", "b", "nonlin", "_fused")

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Input) -> Value:
        return neuron(self.w, self.b, x, self.nonlin)

    def parameters(self) -> List[Value]:
        """The weights, then the bias."""
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """nout neurons reading the same nin inputs."""

    def __init__(self, nin: int, nout: int, **kwargs: bool) -> None:
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Input) -> Union[Value, List[Value]]:
        return dense_layer(self.neurons, x, Neuron)  # a single Value for a one-neuron layer

    def parameters(self) -> List[Value]:
        """Every neuron's parameters, neuron by neuron."""
        return module_parameters(self.neurons, Layer, Neuron)  # one C pass, same list

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A stack of layers: ReLU on every layer but the last, which is linear."""

    def __init__(self, nin: int, nouts: List[int]) -> None:
        sizes = [nin] + nouts
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))
        ]

    def __call__(self, x: Input) -> Union[Value, List[Value]]:
        return mlp_forward(self.layers, x, Layer, Neuron)

    def parameters(self) -> List[Value]:
        """Every layer's parameters, layer by layer."""
        return module_parameters(self.layers, Layer, Neuron)  # one C pass, same list

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
