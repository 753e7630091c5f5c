"""draw_dot on tensors draws the autograd graph (op names, leaves by name and shape, outputs by
shape) without recursion, and the drawing shows inline in Jupyter, falling back to text."""

from __future__ import annotations

import os
import re
import stat

import pytest

import chaingrad as torch
from chaingrad import Value, nn
from chaingrad.viz import DotGraph, draw_dot


def _labels(dot: DotGraph) -> list:
    return re.findall(r'\[label="([^"]*)"', dot.source)


def _edges(dot: DotGraph) -> list:
    return re.findall(r'^  "(\w+)" -> "(\w+)";$', dot.source, re.M)


def test_mlp_graph_names_ops_leaves_and_output():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    loss = model(torch.randn(5, 3)).pow(2).mean()
    dot = draw_dot(loss, params=dict(model.named_parameters()))
    assert dot.source.startswith("digraph {") and "rankdir=TB;" in dot.source
    labels = _labels(dot)
    assert labels[0] == "output\\n()"
    for op in ("MeanBackward0", "PowBackward0", "ReluBackward0"):
        assert labels.count(op) == 1, op
    assert labels.count("AddmmBackward0") == 2
    for leaf in ("0.weight\\n(4, 3)", "0.bias\\n(4)", "2.weight\\n(1, 4)", "2.bias\\n(1)"):
        assert labels.count(leaf) == 1, leaf
    assert len(labels) == 10 and len(_edges(dot)) == 9  # a tree: every node but the output feeds one
    assert "AccumulateGrad" not in labels  # every leaf was named, with its shape


def test_a_shared_node_is_drawn_once_with_an_edge_per_use():
    w = torch.randn(2, 3, requires_grad=True)
    dot = draw_dot(w * w)
    assert _labels(dot) == ["output\\n(2, 3)", "MulBackward0", "(2, 3)"]  # an unnamed leaf: its shape
    edges = _edges(dot)
    assert len(edges) == 3 and edges[1] == edges[2]  # w enters the product twice


def test_grad_fn_objects_compare_by_node_and_an_accumulator_names_its_leaf():
    w = torch.randn(2, 3, requires_grad=True)
    y = w * w
    (a, _), (b, _) = y.grad_fn.next_functions
    assert a is not b and a == b and hash(a) == hash(b) and a != y.grad_fn
    assert len({a, b, y.grad_fn}) == 2
    assert a.variable.shape == (2, 3) and a.variable is w
    with pytest.raises(AttributeError, match="MulBackward0"):
        y.grad_fn.variable


def test_diamonds_do_not_multiply_the_graph():
    x = torch.ones(2, requires_grad=True)
    y = x
    for _ in range(60):  # 2**60 paths from the output to x
        y = (y + y) * 0.5
    labels = _labels(draw_dot(y))
    assert labels.count("AddBackward0") == 60 and labels.count("MulBackward0") == 60
    assert labels.count("(2)") == 1


def test_deep_chain_does_not_recurse():
    x = torch.ones(2, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    labels = _labels(draw_dot(y))
    assert labels.count("MulBackward0") == 100_000 and labels[-1] == "(2)"


def test_several_outputs_a_graphless_tensor_and_other_params():
    w = torch.randn(2, requires_grad=True)
    frozen = torch.ones(2)
    labels = _labels(draw_dot([w * frozen, w.sum()], params={"w": w, "frozen": frozen}))
    assert labels[:2] == ["output 0\\n(2)", "output 1\\n()"]
    assert labels.count("w\\n(2)") == 1 and "frozen" not in " ".join(labels)
    with torch.no_grad():
        assert _labels(draw_dot(w * 2)) == ["output\\n(2)"]
    assert _labels(draw_dot(torch.zeros(3, 1), rankdir="LR")) == ["output\\n(3, 1)"]


def test_bad_arguments_are_refused_clearly():
    w = torch.randn(2, requires_grad=True)
    with pytest.raises(TypeError, match="params must map names to tensors"):
        draw_dot(w * 2, params=[w])
    with pytest.raises(TypeError, match=r"params\['w'\] is a float"):
        draw_dot(w * 2, params={"w": 1.0})
    with pytest.raises(TypeError, match="params names tensors"):
        draw_dot(Value(1.0), params={"w": w})
    with pytest.raises(TypeError, match="draw_dot takes a Value or a Tensor"):
        draw_dot(42)
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(w * 2, rankdir="BT")


def test_names_with_quotes_stay_one_dot_string():
    w = torch.randn(2, requires_grad=True)
    dot = draw_dot(w * 2, params={'say "hi"\\': w})
    assert '[label="say \\"hi\\"\\\\\\n(2)", fillcolor=lightblue]' in dot.source


# --- Jupyter -------------------------------------------------------------------------------------


def _fake_dot(folder, body: str) -> None:
    path = folder / "dot"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_without_dot_the_rich_repr_falls_back_to_text(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `dot`
    dot = draw_dot(torch.randn(2, requires_grad=True) * 2)
    assert dot._repr_svg_() is None
    bundle = dot._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and bundle["text/plain"] == repr(dot)
    assert repr(dot).startswith("<DotGraph of 3 nodes")
    assert Value(2.0)._repr_svg_() is None
    with pytest.raises(RuntimeError, match="Graphviz"):
        dot.pipe()


def test_with_dot_jupyter_gets_the_svg(monkeypatch, tmp_path):
    # the fake reads the DOT text and answers with an SVG naming how many bytes it read
    _fake_dot(tmp_path, 'touch "$(dirname "$0")/ran"; echo "<svg>$(wc -c) bytes $1</svg>"')
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    dot = draw_dot(torch.randn(2, requires_grad=True) * 2)
    expected = f"<svg>{len(dot.source.encode())} bytes -Tsvg</svg>\n"
    assert dot._repr_mimebundle_() == {"text/plain": repr(dot), "image/svg+xml": expected}
    assert dot._repr_mimebundle_(include=["image/svg+xml"])["image/svg+xml"] == expected
    (tmp_path / "ran").unlink()
    assert dot._repr_mimebundle_(exclude=["image/svg+xml"]) == {"text/plain": repr(dot)}
    assert dot._repr_mimebundle_(include=["text/plain"]) == {"text/plain": repr(dot)}
    assert not (tmp_path / "ran").exists()  # a picture nobody asked for is not drawn
    value = Value(2.0) * 3
    assert value._repr_svg_() == f"<svg>{len(draw_dot(value).source.encode())} bytes -Tsvg</svg>\n"


def test_a_failing_dot_falls_back_to_text(monkeypatch, tmp_path):
    _fake_dot(tmp_path, "echo 'syntax error in line 1' >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    dot = draw_dot(torch.randn(2, requires_grad=True) * 2)
    assert dot._repr_mimebundle_() == {"text/plain": repr(dot)}
    with pytest.raises(RuntimeError, match="dot failed: syntax error in line 1"):
        dot.render(str(tmp_path / "g.svg"))


def test_ipython_shows_the_drawing_and_keeps_a_tensors_text(monkeypatch, tmp_path):
    formatters = pytest.importorskip("IPython.core.formatters")
    _fake_dot(tmp_path, "cat > /dev/null; echo '<svg>graph</svg>'")
    monkeypatch.setenv("PATH", str(tmp_path))
    show = formatters.DisplayFormatter().format
    t = torch.randn(2, requires_grad=True) * 2
    data, _ = show(draw_dot(t))
    assert data["image/svg+xml"] == "<svg>graph</svg>\n" and data["text/plain"].startswith("<DotGraph")
    assert show(Value(2.0) * 3)[0]["image/svg+xml"] == "<svg>graph</svg>\n"
    data, _ = show(t)  # a tensor stays its text, as in PyTorch
    assert list(data) == ["text/plain"] and data["text/plain"].startswith("tensor([")
