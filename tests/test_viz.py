"""draw_dot gives the graph as DOT text and renders it when Graphviz is there."""

from __future__ import annotations

import shutil

import pytest

from chaingrad import Value
from chaingrad.viz import draw_dot, trace


def _graph():
    a, b = Value(2.0), Value(-3.0)
    out = (a * b + a).relu()
    out.backward()
    return a, b, out


def test_trace_finds_every_node_once():
    a, b, out = _graph()
    nodes, edges = trace(out)
    assert len(nodes) == 5 and len(edges) == 5  # a feeds both * and +
    assert any(n is a for n in nodes) and any(n is b for n in nodes)


def test_dot_text_has_data_grad_and_ops():
    _, _, out = _graph()
    dot = draw_dot(out)
    text = dot.source
    assert text.startswith("digraph {") and "rankdir=LR" in text
    assert "data 2.0000 \\| grad 0.0000" in text or "data 2.0000 | grad" in text
    assert '[label="ReLU"]' in text and '[label="*"]' in text and '[label="+"]' in text
    assert str(dot) == text


def test_deep_graph_does_not_recurse():
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = y + 1
    assert draw_dot(y).source.count("shape=record") == 40_001


def test_render_or_clear_message(tmp_path):
    _, _, out = _graph()
    dot = draw_dot(out)
    target = tmp_path / "g.svg"
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="Graphviz"):
            dot.render(str(target))
    else:
        dot.render(str(target))
        assert target.read_text().lstrip().startswith("<")
    with pytest.raises(ValueError):
        dot.pipe("gif")
    with pytest.raises(ValueError):
        draw_dot(out, rankdir="XY")
