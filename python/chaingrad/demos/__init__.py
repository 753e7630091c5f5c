"""The notes' programs, each runnable as `python -m chaingrad.demos.<name>`; `python -m chaingrad.demos` lists them."""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
from pathlib import Path
from typing import Dict

__all__ = ["summaries"]


def summaries() -> Dict[str, str]:
    """Every demo module here, by name, with its docstring's summary line; read without importing them."""
    out = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        # Several demos are the notes' scripts, which run at import: read their source instead.
        name = f"{__name__}.{info.name}"
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        source = Path(origin).read_text(encoding="utf-8") if origin and origin.endswith(".py") else None
        doc = ast.get_docstring(ast.parse(source)) if source else None
        out[info.name] = doc.splitlines()[0] if doc else ""
    return out
