"""The micrograd lecture's examples on chaingrad's Value, from one expression to a small MLP.

An expression and its gradients, a neuron backpropagated node by node, a custom op defined the
lecture's way, and a small MLP trained by gradient descent; the neuron's graph is drawn with draw_dot.

Run: python -m chaingrad.demos.micrograd_lecture [--draw neuron.svg|neuron.png|neuron.dot]
(.svg and .png need Graphviz's `dot` program; .dot writes the graph's text.)
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
from typing import List, Optional, Sequence

from chaingrad import Value
from chaingrad.viz import draw_dot

__all__ = ["expression", "neuron", "custom_exp", "Neuron", "Layer", "MLP", "train_mlp", "main"]


def expression() -> Value:
    """L = (a*b + c) * f with every value labelled; prints L and dL/d(each input)."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    L.backward()
    print(f"L = {L.data}; dL/da = {a.grad}, dL/db = {b.grad}, dL/dc = {c.grad}, dL/df = {f.grad}")
    return L


def neuron() -> Value:
    """o = tanh(x1*w1 + x2*w2 + b), backpropagated one node at a time with _backward()."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.grad = 1.0
    for node in (o, n, x1w1x2w2, x2w2, x1w1):  # the reverse topological order, by hand
        node._backward()
    print(
        f"o = {o.data:.4f}; do/dx1 = {x1.grad:.4f}, do/dw1 = {w1.grad:.4f}, "
        f"do/dx2 = {x2.grad:.4f}, do/dw2 = {w2.grad:.4f}"
    )
    return o


def custom_exp(x: Value) -> Value:
    """e**x as a custom node: made from its child, with its own gradient rule."""
    out = Value(math.exp(x.data), (x,), "exp")

    def _backward() -> None:
        x.grad += out.data * out.grad

    out._backward = _backward
    return out


def tanh_from_exp() -> Value:
    """The same neuron with tanh spelled (e**2n - 1) / (e**2n + 1) through custom_exp."""
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + b
    e = custom_exp(2 * n)
    o = (e - 1) / (e + 1)
    o.backward()
    print(f"o = {o.data:.4f} again, through exp: do/dx1 = {x1.grad:.4f}, do/dw1 = {w1.grad:.4f}")
    return o


class Neuron:
    """tanh(w . x + b) with weights drawn uniformly from [-1, 1]."""

    def __init__(self, nin: int) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(random.uniform(-1, 1))

    def __call__(self, x: Sequence[float]) -> Value:
        return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

    def parameters(self) -> List[Value]:
        """The weights, then the bias."""
        return self.w + [self.b]


class Layer:
    """nout neurons over the same inputs."""

    def __init__(self, nin: int, nout: int) -> None:
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x: Sequence[float]):  # type: ignore[no-untyped-def]  # a Value or a list of them
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> List[Value]:
        """Every neuron's parameters."""
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """Layers of the given sizes, one after the other."""

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        sizes = [nin, *nouts]
        self.layers = [Layer(sizes[i], sizes[i + 1]) for i in range(len(nouts))]

    def __call__(self, x):  # type: ignore[no-untyped-def]  # a Value or a list of them
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> List[Value]:
        """Every layer's parameters."""
        return [p for layer in self.layers for p in layer.parameters()]


def train_mlp(steps: int = 20, seed: int = 0) -> List[float]:
    """The lecture's MLP(3, [4, 4, 1]) on its four examples; prints and returns the loss per step."""
    random.seed(seed)
    n = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for k in range(steps):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -0.1 * p.grad
        losses.append(loss.data)
        print(f"step {k:2d} loss {loss.data:.6f}")
    print("predictions:", " ".join(f"{n(x).data:+.4f}" for x in xs), "targets:", ys)
    return losses


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Runs the examples in the lecture's order and draws the neuron's graph."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draw", default=None, help="where to draw the neuron's graph (.svg, .png or .dot)")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    expression()
    o = neuron()
    tanh_from_exp()
    train_mlp(args.steps)
    target = args.draw or ("neuron.svg" if shutil.which("dot") else "neuron.dot")
    graph = draw_dot(o)
    if target.endswith(".dot"):
        with open(target, "w") as f:
            f.write(graph.source)
    else:
        try:
            graph.render(target, format=target.rsplit(".", 1)[-1])
        except (RuntimeError, ValueError) as err:
            raise SystemExit(f"micrograd_lecture: {err}") from None
    print(f"the neuron's graph: {target}")


if __name__ == "__main__":
    main()
