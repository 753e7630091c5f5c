"""The notes' programs, each runnable as `python -m chaingrad.demos.<name>`; `python -m chaingrad.demos` lists them."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict

__all__ = ["summaries"]


def summaries() -> Dict[str, str]:
    """Every demo module here, by name, with its docstring's summary line; read without importing them."""
    out = {}
    for path in sorted(Path(__file__).parent.glob("[!_]*.py")):
        # Several demos are the notes' scripts, which run at import: read their source instead.
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        out[path.stem] = doc.splitlines()[0] if doc else ""
    return out
