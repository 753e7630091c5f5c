"""The course's gate network (net.py of the notes): a list of two-input gates with hand-written derivatives.

A `Net` records gates in creation order. `forward` runs them in order, `backward` seeds the output
with g = 1 and runs them in reverse, each adding local derivative * output g to its inputs, and
`adjust(step)` moves every gate's two inputs by -step * g, then clears their g. A node that a gate
reads twice (x*x) is therefore moved twice, which is what the notes' net2 printout shows.
Values keep their Python type (ints stay ints), so the printouts match the notes digit for digit.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Union

Number = Union[int, float]
Derivative = Callable[[Number, Number], Number]

__all__ = ["Node", "Gate", "Net"]


class Node:
    """A value v and the gradient g of the network's output with respect to it."""

    def __init__(self, v: Number = 0, g: Number = 0) -> None:
        self.v = v
        self.g = g

    def __str__(self) -> str:
        return f"v:{self.v} g:{self.g}"

    __repr__ = __str__


class Gate:
    """o = f(x, y), with the partial derivatives gfx = df/dx and gfy = df/dy."""

    def __init__(self, o: Node, x: Node, y: Node, f: Callable[[Number, Number], Number],
                 gfx: Derivative, gfy: Derivative) -> None:
        self.o, self.x, self.y = o, x, y
        self.f, self.gfx, self.gfy = f, gfx, gfy

    def forward(self) -> Number:
        """Computes o.v from the inputs' values."""
        self.o.v = self.f(self.x.v, self.y.v)
        return self.o.v

    def backward(self) -> None:
        """Adds the output's gradient, times each local derivative, to the inputs' gradients."""
        x, y, o = self.x, self.y, self.o
        x.g += self.gfx(x.v, y.v) * o.g
        y.g += self.gfy(x.v, y.v) * o.g

    def adjust(self, step: float = 0.01) -> None:
        """Moves both inputs against their gradients by step, then clears the gradients."""
        x, y = self.x, self.y
        x.v -= step * x.g
        y.v -= step * y.g
        x.g = 0
        y.g = 0


class Net:
    """A network of gates, built with variable/add/mul and trained with gradient_descendent."""

    def __init__(self) -> None:
        self.gates: List[Gate] = []
        self.o: Optional[Node] = None

    def variable(self, v: Number, g: Number = 0) -> Node:
        """A new input node holding v."""
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"Net.variable: v must be an int or float, got {type(v).__name__}")
        return Node(v, g)

    def op(self, x: Node, y: Node, f: Callable[[Number, Number], Number],
           gfx: Derivative, gfy: Derivative) -> Node:
        """Appends the gate o = f(x, y) and makes o the network's output."""
        for name, node in (("x", x), ("y", y)):
            if not isinstance(node, Node):
                raise TypeError(f"Net gate input {name} must be a Node, got {type(node).__name__}")
        o = Node()
        self.gates.append(Gate(o, x, y, f, gfx, gfy))
        self.o = o
        return o

    def add(self, x: Node, y: Node) -> Node:
        """o = x + y."""
        return self.op(x, y, lambda a, b: a + b, lambda a, b: 1, lambda a, b: 1)

    def mul(self, x: Node, y: Node) -> Node:
        """o = x * y."""
        return self.op(x, y, lambda a, b: a * b, lambda a, b: b, lambda a, b: a)

    def _output(self) -> Node:
        if self.o is None:
            raise RuntimeError("Net has no gates: build one with add() or mul() first")
        return self.o

    def forward(self) -> Number:
        """Runs every gate in order; returns the output's value."""
        out = self._output()
        for gate in self.gates:
            gate.forward()
        return out.v

    def backward(self) -> None:
        """Sets the output's g to 1 and runs every gate's backward in reverse order."""
        self._output().g = 1
        for gate in reversed(self.gates):
            gate.backward()

    def adjust(self, step: float = 0.01) -> None:
        """Lets every gate move its inputs by -step * g (see the module docstring)."""
        for gate in self.gates:
            gate.adjust(step)

    def gradient_descendent(self, maxLoops: int = 100, dumpPeriod: int = 1,
                            step: float = 0.01) -> Number:
        """Repeats forward, print, backward, adjust; returns the last forward value."""
        value: Number = 0
        for loop in range(maxLoops):
            value = self.forward()
            if loop % dumpPeriod == 0:
                print(loop, " => ", value)
            self.backward()
            self.adjust(step)
        return value
