"""The micrograd lecture's Value API on chaingrad's Value: label, custom nodes with their own
_backward, node-by-node backward, the lecture's tanh and its draw_dot."""

from __future__ import annotations

import gc
import math
import threading
import weakref

import pytest

from chaingrad import Value
from chaingrad.viz import draw_dot, value_svg


def _half(x: Value) -> Value:
    """A custom op written the lecture's way: a node from children plus a closure for its gradient."""
    out = Value(x.data * 0.5, (x,), "half")

    def _backward() -> None:
        x.grad += 0.5 * out.grad

    out._backward = _backward
    return out


def test_label_is_readable_and_writable() -> None:
    a = Value(2.0, label="a")
    b = Value(-3.0)
    assert a.label == "a" and b.label == ""
    e = a * b
    e.label = "e"
    assert e.label == "e"
    # The label lives on the node: a wrapper made again for it through _prev still has it.
    d = e + 1.0
    del e
    gc.collect()
    assert d._prev[0].label == "e"
    with pytest.raises(TypeError, match="label must be a str"):
        a.label = 3
    with pytest.raises(TypeError):
        Value(1.0, label=5)


def test_constructor_takes_the_lectures_arguments() -> None:
    x = Value(1.5)
    y = Value(2.0, (x,), "exp", label="y")
    assert y._op == "exp" and y.label == "y" and y._prev == (x,)
    assert Value(1.0, (), "")._prev == ()
    with pytest.raises(TypeError, match="every child must be a Value"):
        Value(1.0, (1.0,), "bad")
    with pytest.raises(TypeError):
        Value(1.0, 5, "bad")


def test_custom_node_backward_runs_the_users_rule() -> None:
    x = Value(3.0)
    y = _half(_half(x)) * 2.0
    y.backward()
    assert x.grad == 0.5
    assert y._prev[0]._op == "half"


def test_custom_node_without_a_rule_passes_nothing() -> None:
    x = Value(3.0)
    y = Value(6.0, (x,), "twice") + 1.0
    y.backward()
    assert x.grad == 0


def test_exception_in_a_rule_propagates() -> None:
    x = Value(1.0)
    q = Value(1.0, (x,), "q")

    def fails() -> None:
        raise ValueError("boom")

    q._backward = fails
    with pytest.raises(ValueError, match="boom"):
        (q * 2.0).backward()
    with pytest.raises(TypeError, match="must be callable"):
        q._backward = 3


def test_a_rule_may_call_backward_itself() -> None:
    x = Value(2.0)
    inner_x = Value(5.0)
    q = Value(2.0, (x,), "q")

    def rule() -> None:
        (inner_x * 3.0).backward()  # a nested sweep on the same thread must not deadlock
        x.grad += q.grad

    q._backward = rule
    (q * 4.0).backward()
    assert x.grad == 4.0 and inner_x.grad == 3.0


def test_node_by_node_backward_as_in_the_lecture() -> None:
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, s, x2w2, x1w1):
        node._backward()
    assert n.grad == 1 - o.data**2
    assert x1.grad == w1.data * x1w1.grad and w1.grad == x1.data * x1w1.grad
    # the same numbers as backward() gives from scratch
    grads = [v.grad for v in (x1, x2, w1, w2, b)]
    for v in (x1, x2, w1, w2, b):
        v.grad = 0.0
    o.backward()
    assert [v.grad for v in (x1, x2, w1, w2, b)] == grads


def test_backward_getter_returns_the_users_rule() -> None:
    x = Value(1.0)
    y = _half(x)
    assert callable(y._backward)
    y.grad = 2.0
    y._backward()
    assert x.grad == 1.0
    del y._backward
    y._backward()  # the built-in rule of a custom node passes nothing
    assert x.grad == 1.0


@pytest.mark.parametrize("x", [-800.0, -20.0, -1.5, -1e-3, 0.0, 1e-9, 0.5, 0.8813735870195432, 3.0, 19.0, 400.0])
def test_tanh_is_the_lectures_formula(x: float) -> None:
    e = math.exp(2 * x) if x < 350 else math.inf
    expected = 1.0 if math.isinf(e) else (e - 1) / (e + 1)
    assert Value(x).tanh().data == expected
    assert math.isclose(Value(x).tanh().data, math.tanh(x), rel_tol=1e-6, abs_tol=1e-15)
    assert math.isnan(Value(math.nan).tanh().data)


def test_graph_with_rules_is_collected() -> None:
    x = Value(0.25)
    y = x
    for _ in range(20):
        y = _half(y)
    refs = []
    node = y
    while node._prev:
        refs.append(weakref.ref(node))
        node = node._prev[0]
    del node
    y.backward()
    assert x.grad == 0.5**20
    del y
    # One collection frees the outermost node; each further one frees the next (Note [user
    # gradient rules] in value_type.cpp): a bounded number of passes, never a leak.
    for _ in range(len(refs) + 1):
        gc.collect()
    assert all(r() is None for r in refs)


def test_rules_from_two_threads() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                x = Value(1.0)
                y = _half(x) * 3.0
                y.backward()
                assert x.grad == 1.5
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_draw_dot_shows_labels() -> None:
    a = Value(2.0, label="a")
    L = a * 3.0
    L.label = "L"
    src = draw_dot(L).source
    assert "{ L | data 6.0000 | grad 0.0000 }" in src and "{ a | data 2.0000" in src


def test_repr_svg_without_or_with_graphviz() -> None:
    import shutil

    v = Value(1.0, label="v") + 2.0
    svg = value_svg(v)
    assert svg is None if shutil.which("dot") is None else svg.lstrip().startswith("<")
    assert Value._repr_svg_ is not None


def test_lecture_draw_dot_with_graphviz_package() -> None:
    graphviz = pytest.importorskip("graphviz")
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    root = e.tanh()
    root.label = "o"
    root.backward()
    nodes, edges, stack = set(), set(), [root]
    while stack:
        v = stack.pop()
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                stack.append(child)
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    for n in nodes:
        dot.node(name=str(id(n)), label=f"{{ {n.label} | data {n.data:.4f} | grad {n.grad:.4f} }}", shape="record")
        if n._op:
            dot.node(name=str(id(n)) + n._op, label=n._op)
            dot.edge(str(id(n)) + n._op, str(id(n)))
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    assert "{ o | data" in dot.source and "tanh" in dot.source and len(nodes) == 4
