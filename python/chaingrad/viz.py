"""Graphviz pictures of computation graphs without recursion: a Value's (micrograd's draw_dot) and a
tensor's autograd graph (as torchviz draws PyTorch's), rendered by Graphviz's `dot` or shown inline
in Jupyter."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from chaingrad._core import GradFn
from chaingrad.tensor import Tensor

__all__ = ["DotGraph", "trace", "draw_dot", "value_svg"]


def trace(root: Any) -> Tuple[List[Any], List[Tuple[Any, Any]]]:
    """Every value reachable from root and every (input, consumer) edge, in discovery order."""
    seen: Dict[int, Any] = {id(root): root}
    nodes, edges, stack = [root], [], [root]
    while stack:
        v = stack.pop()
        for child in v._prev:
            edges.append((child, v))
            if id(child) not in seen:
                seen[id(child)] = child
                nodes.append(child)
                stack.append(child)
    return nodes, edges


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("{", "\\{")
        .replace("}", "\\}")
        .replace("|", "\\|")
        .replace("<", "\\<")
        .replace(">", "\\>")
    )


class DotGraph:
    """DOT source for a graph; render() turns it into SVG or PNG with Graphviz's `dot` program, and
    Jupyter shows it inline (as text when `dot` is missing)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        nodes = sum(1 for line in self.source.splitlines() if "[label=" in line)
        return f"<DotGraph of {nodes} nodes: .source is the DOT text, .render(filename) draws it>"

    def pipe(self, format: str = "svg") -> bytes:
        """The rendered picture as bytes ('svg' or 'png')."""
        if format not in ("svg", "png"):
            raise ValueError(f"format must be 'svg' or 'png', got {format!r}")
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(
                "rendering needs Graphviz's `dot` program, which is not on PATH "
                "(install Graphviz, e.g. `apt-get install graphviz`); the DOT text is in .source"
            )
        done = subprocess.run([dot, f"-T{format}"], input=self.source.encode(), capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def render(self, filename: str, format: str = "svg") -> str:
        """Writes the picture to filename (format 'svg' or 'png'); returns filename."""
        data = self.pipe(format)
        with open(filename, "wb") as f:
            f.write(data)
        return filename

    def _repr_svg_(self) -> Optional[str]:
        # Jupyter calls this to display the graph: None lets it fall back to the text repr, where an
        # exception would print a traceback in the notebook instead
        try:
            return self.pipe("svg").decode()
        except (RuntimeError, OSError):
            return None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Dict[str, str]:
        # Jupyter's first choice: the picture when `dot` can draw it and it is wanted, always the text
        bundle = {"text/plain": repr(self)}
        wanted = (include is None or "image/svg+xml" in include) and not (exclude and "image/svg+xml" in exclude)
        svg = self._repr_svg_() if wanted else None
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


def draw_dot(root: Any, rankdir: Optional[str] = None, params: Optional[Mapping[str, Any]] = None) -> DotGraph:
    """The graph behind root: for a Value, one record per value (label, data, grad) and one oval per
    op, left to right; for a tensor (or a list of them), its autograd graph top to bottom, as torchviz
    draws it: one box per backward op, the leaves that params names with their names and shapes, and
    the outputs with their shapes."""
    if rankdir not in (None, "LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if isinstance(root, Tensor) or (
        isinstance(root, (list, tuple)) and root and all(isinstance(t, Tensor) for t in root)
    ):
        outputs = [root] if isinstance(root, Tensor) else list(root)
        return _tensor_graph(outputs, rankdir or "TB", _leaf_names(params or {}))
    if params is not None:
        raise TypeError(f"params names tensors of a tensor graph; draw_dot got a {type(root).__name__}")
    if not hasattr(root, "_prev"):
        raise TypeError(f"draw_dot takes a Value or a Tensor (or a list of Tensors), got {type(root).__name__}")
    return _value_graph(root, rankdir or "LR")


def _value_graph(root: Any, rankdir: str) -> DotGraph:
    nodes, edges = trace(root)
    lines = ["digraph {", f"  rankdir={rankdir};"]
    for n in nodes:
        uid = str(id(n))
        fields = [f"data {n.data:.4f}", f"grad {float(n.grad):.4f}"]
        name = getattr(n, "label", "")
        if name:
            fields.insert(0, str(name))
        label = "{ " + " | ".join(_escape(f) for f in fields) + " }"
        lines.append(f'  "{uid}" [label="{label}", shape=record];')
        if n._op:
            lines.append(f'  "{uid}{n._op}" [label="{_escape(n._op)}"];')
            lines.append(f'  "{uid}{n._op}" -> "{uid}";')
    for child, parent in edges:
        lines.append(f'  "{id(child)}" -> "{id(parent)}{parent._op}";')
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n")


def value_svg(root: Any) -> Optional[str]:
    """root's graph as SVG for Jupyter, or None (the text repr) when Graphviz's `dot` is missing."""
    if shutil.which("dot") is None:  # skips drawing the graph's text for nothing
        return None
    return draw_dot(root)._repr_svg_()


# --- tensors -------------------------------------------------------------------------------------


def _leaf_names(params: Mapping[str, Any]) -> Dict[int, str]:
    """params' names, by the id of each tensor (an AccumulateGrad node's variable is that very object)."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params must map names to tensors (e.g. dict(model.named_parameters())), got {type(params).__name__}"
        )
    named: Dict[int, str] = {}
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"params[{name!r}] is a {type(t).__name__}, not a Tensor")
        named[id(t)] = str(name)
    return named


def _label(*rows: str) -> str:
    """rows as one quoted DOT label, a row per line."""
    text = "\n".join(rows)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(t: Any) -> str:
    return "(" + ", ".join(str(n) for n in t.shape) + ")"


def _tensor_graph(outputs: Sequence[Any], rankdir: str, leaves: Dict[int, str]) -> DotGraph:
    lines = [
        "digraph {",
        f"  rankdir={rankdir};",
        '  node [shape=box, style="rounded,filled", fillcolor=gray92, fontname=monospace, fontsize=10];',
    ]
    ids: Dict[GradFn, str] = {}  # one entry per node: GradFn objects compare by the node they wrap
    stack: List[GradFn] = []  # an explicit stack: a graph can be 100k ops deep

    def visit(fn: GradFn) -> str:
        if fn not in ids:
            ids[fn] = f"n{len(ids)}"
            stack.append(fn)
        return ids[fn]

    for i, out in enumerate(outputs):
        title = "output" if len(outputs) == 1 else f"output {i}"
        lines.append(f'  "out{i}" [label={_label(title, _shape(out))}, fillcolor=darkolivegreen1];')
        if out.grad_fn is not None:
            lines.append(f'  "{visit(out.grad_fn)}" -> "out{i}";')
    while stack:
        fn = stack.pop()
        uid = ids[fn]
        if fn.name() == "AccumulateGrad":
            leaf = fn.variable
            name = leaves.get(id(leaf))  # params holds every named tensor, so its id is not reused
            rows = (name, _shape(leaf)) if name is not None else (_shape(leaf),)
            lines.append(f'  "{uid}" [label={_label(*rows)}, fillcolor=lightblue];')
        else:
            lines.append(f'  "{uid}" [label={_label(fn.name())}];')
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                lines.append(f'  "{visit(nxt)}" -> "{uid}";')
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n")
