"""The Python layer's import structure: no import circle, one definition per op, F is nn.functional."""

import ast
import pathlib
import subprocess
import sys
from typing import Dict, List, Set

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "python" / "chaingrad"
CORE_MODULES = ["chaingrad._types", "chaingrad._tensor_str", "chaingrad.tensor", "chaingrad.functional",
                "chaingrad.nn.functional", "chaingrad.nn.layers"]


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Dict[str, pathlib.Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: pathlib.Path, modules: Dict[str, pathlib.Path]) -> Set[str]:
    """The package modules `name` imports, at load time or deferred inside a function; not those
    under `if TYPE_CHECKING:`. Package __init__ modules are left out as targets: Python imports a
    parent package before any submodule, and the package's __init__ imports everything."""
    out: Set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(stmts: List[ast.stmt]) -> None:
        for node in stmts:
            if isinstance(node, ast.If):
                if not _is_type_checking(node):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With, ast.For, ast.While)):
                visit(node.body)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + [base]).rstrip(".")
                out.add(base)
                out.update(f"{base}.{a.name}" for a in node.names)

    visit(ast.parse(path.read_text()).body)
    return {m for m in out if m in modules and m != name and modules[m].name != "__init__.py"}


def test_no_import_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    state: Dict[str, int] = {}  # 1: on the current path, 2: done

    def cycle_from(node: str, path: List[str]) -> List[str]:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = cycle_from(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            cycle = cycle_from(start, [start])
            assert not cycle, "import cycle: " + " -> ".join(cycle)
    # the layering the cycle's end rests on
    assert graph["chaingrad._types"] == set()
    assert "chaingrad.tensor" not in graph["chaingrad._tensor_str"]
    assert "chaingrad.functional" not in graph["chaingrad.tensor"]


@pytest.mark.parametrize("first", CORE_MODULES)
def test_each_module_imports_first_in_a_fresh_interpreter(first):
    """Whichever core module a program imports first, the rest follow and the package comes up whole."""
    order = [first] + [m for m in CORE_MODULES if m != first]
    script = (f"import importlib\nfor m in {order!r}: importlib.import_module(m)\n"
              "import chaingrad\nassert chaingrad.tensor([1.0]).dtype is chaingrad.float32\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_nn_functional_reexports_the_top_level_op():
    import chaingrad
    import chaingrad.nn.functional as F

    for name in ("relu", "tanh", "sigmoid", "softmax", "log_softmax", "flatten"):
        assert getattr(F, name) is getattr(chaingrad, name), name


def test_F_means_nn_functional_everywhere_in_the_package():
    """As in PyTorch, the alias F names chaingrad.nn.functional (or, in code that runs on either
    library, torch.nn.functional); chaingrad.functional goes by other names."""
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.asname == "F":
                        target = alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
                        assert target in ("chaingrad.nn.functional", "torch.nn.functional"), f"{name}: F is {target}"
