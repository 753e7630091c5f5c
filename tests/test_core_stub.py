"""_core.pyi against the compiled _core: every function, class and class member in both, with the
parameter names and counts pybind11's signatures give; and mypy accepts a typed user program."""

import ast
import os
import pathlib
import re
import subprocess
import sys
import textwrap
from typing import Dict, List, Optional, Tuple

import pytest

from chaingrad import _core

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "python" / "chaingrad"
STUB = PACKAGE / "_core.pyi"
# Class attributes every class has, or that pybind11/CPython add on their own: not part of the API.
IMPLICIT_MEMBERS = {"__new__", "__doc__", "__module__", "__dict__", "__weakref__", "_pybind11_conduit_v1_"}
# tp_richcompare fills all six comparison slots, but GradFn answers only == and != (ordering raises
# TypeError), so its stub leaves the orderings out for type checkers to catch
UNORDERED = {"GradFn": {"__lt__", "__le__", "__gt__", "__ge__"}}


def _stub() -> Dict[str, ast.stmt]:
    tree = ast.parse(STUB.read_text())
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _split_params(text: str) -> List[str]:
    """A parameter list split at its top-level commas (brackets nest)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _runtime_params(fn: object) -> Optional[List[Tuple[str, bool]]]:
    """(name, has_default) per parameter from pybind11's docstring line `name(a: T, b: U = x) -> R`;
    None when the docstring gives none (overloads, C slots)."""
    first = (getattr(fn, "__doc__", None) or "").split("\n")[0]
    name = getattr(fn, "__name__", "")
    m = re.match(re.escape(name) + r"\((.*)\) -> ", first)
    if not m or "*args" in m.group(1):
        return None
    return [(p.split(":")[0].split("=")[0].strip(), "=" in p) for p in _split_params(m.group(1))]


def _stub_params(node: ast.FunctionDef) -> List[Tuple[str, bool]]:
    args = node.args.args
    first_default = len(args) - len(node.args.defaults)
    return [(a.arg, i >= first_default) for i, a in enumerate(args)]


def _runtime_names() -> Dict[str, object]:
    return {n: getattr(_core, n) for n in dir(_core) if not n.startswith("__")}


def test_every_core_function_and_class_is_in_the_stub_and_nothing_else():
    runtime, stub = set(_runtime_names()), set(_stub())
    assert sorted(runtime - stub) == [], "in _core but missing from _core.pyi"
    assert sorted(stub - runtime) == [], "in _core.pyi but not in _core"


@pytest.mark.parametrize("name", sorted(n for n, o in _runtime_names().items() if not isinstance(o, type)))
def test_function_parameters_match(name):
    node = _stub().get(name)
    assert isinstance(node, ast.FunctionDef), f"{name} is not a function in _core.pyi"
    runtime = _runtime_params(getattr(_core, name))
    if runtime is None:
        pytest.skip(f"pybind11 gives no signature for {name}")
    stub = _stub_params(node)
    assert len(stub) == len(runtime), f"{name}: stub takes {len(stub)} parameters, _core {len(runtime)}"
    for (s_name, s_default), (r_name, r_default) in zip(stub, runtime):
        if not re.fullmatch(r"arg\d+", r_name):  # pybind11 names only the py::arg()-declared ones
            assert s_name == r_name, f"{name}: parameter {s_name!r} is {r_name!r} in _core"
        assert s_default == r_default, f"{name}: parameter {s_name!r} default differs"


@pytest.mark.parametrize("cls", sorted(n for n, o in _runtime_names().items() if isinstance(o, type)))
def test_class_members_match(cls):
    node = _stub()[cls]
    assert isinstance(node, ast.ClassDef)
    stub = set()
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            stub.add(item.name)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            stub.add(item.target.id)
    runtime = set(vars(getattr(_core, cls))) - IMPLICIT_MEMBERS - UNORDERED.get(cls, set())
    assert sorted(runtime - stub) == [], f"{cls}: members missing from _core.pyi"
    assert sorted(stub - runtime) == [], f"{cls}: members of _core.pyi that _core lacks"


USER_PROGRAM = """
    import chaingrad as torch
    import chaingrad.nn.functional as F
    from chaingrad import nn, optim

    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.sum().backward()
    g: "torch.Tensor | None" = x.grad if isinstance(x.grad, torch.Tensor) else None
    model = nn.Linear(3, 1)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    out = F.relu(model(x.detach().unsqueeze(0)))
    loss = (out - 1.0).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    shape: torch.Size = out.shape
    value: float = float(loss.item())
    print(g, shape, value)
"""


def test_mypy_accepts_a_typed_user_program(tmp_path):
    pytest.importorskip("mypy")
    program = tmp_path / "user.py"
    program.write_text(textwrap.dedent(USER_PROGRAM))
    cmd = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
           "--cache-dir", str(tmp_path / "cache"), str(program)]
    # the package from the source tree (an editable install's import hook is invisible to mypy)
    env = {"MYPYPATH": str(PACKAGE.parent), "PATH": os.environ.get("PATH", "")}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
