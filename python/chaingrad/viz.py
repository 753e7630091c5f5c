"""Graphviz pictures of a Value's computation graph (micrograd's draw_dot), without recursion."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any, Dict, List, Optional, Tuple

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
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "\\{").replace("}", "\\}") \
        .replace("|", "\\|").replace("<", "\\<").replace(">", "\\>")


class DotGraph:
    """DOT source for a graph; render() turns it into SVG or PNG with Graphviz's `dot` program."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __str__(self) -> str:
        return self.source

    def pipe(self, format: str = "svg") -> bytes:
        """The rendered picture as bytes ('svg' or 'png')."""
        if format not in ("svg", "png"):
            raise ValueError(f"format must be 'svg' or 'png', got {format!r}")
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(
                "rendering needs Graphviz's `dot` program, which is not on PATH "
                "(install Graphviz, e.g. `apt-get install graphviz`); the DOT text is in .source")
        done = subprocess.run([dot, f"-T{format}"], input=self.source.encode(), capture_output=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def render(self, filename: str, format: str = "svg") -> str:
        """Writes the picture to filename (format 'svg' or 'png'); returns filename."""
        data = self.pipe(format)
        with open(filename, "wb") as f:
            f.write(data)
        return filename

    def _repr_svg_(self) -> str:
        return self.pipe("svg").decode()


def draw_dot(root: Any, rankdir: str = "LR") -> DotGraph:
    """The graph behind root: one record per value (label, data, grad) and one oval per op."""
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
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
    if shutil.which("dot") is None:
        return None
    return draw_dot(root)._repr_svg_()
