"""PyTorch's printing of tensors: 4 decimals, aligned columns, summaries of large tensors."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, List

import numpy as np

from chaingrad._types import bfloat16, bool_, float32, int64

if TYPE_CHECKING:
    from chaingrad.tensor import Tensor

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


class _Formatter:
    """Chooses one format (integer-valued, fixed or scientific) and width for all elements."""

    def __init__(self, values: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        lo, hi = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if self.int_mode:
            if hi / lo > 1000.0 or hi > 1.0e8:
                self.sci_mode = True
                widths = [len(f"{v:.{PRECISION}e}") for v in finite.tolist()]
            else:
                widths = [len(f"{v:.0f}") + 1 for v in finite.tolist()]
        elif hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
            self.sci_mode = True
            widths = [len(f"{v:.{PRECISION}e}") for v in finite.tolist()]
        else:
            widths = [len(f"{v:.{PRECISION}f}") for v in finite.tolist()]
        self.max_width = max([self.max_width] + widths)

    def format(self, value: object) -> str:
        """One element, right-aligned to the common width."""
        if self.floating:
            v = float(value)  # type: ignore[arg-type]
            if self.sci_mode:
                text = f"{v:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                text = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
            else:
                text = f"{v:.{PRECISION}f}"
        else:
            text = str(value)
        return " " * (self.max_width - len(text)) + text


def _summarized(values: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows (EDGEITEMS from each end of every dim)."""
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * EDGEITEMS:
        parts = [values[:EDGEITEMS], values[-EDGEITEMS:]]
    else:
        parts = [values]
    return np.concatenate([np.stack([_summarized(row) for row in p]) if values.ndim > 1 else p
                           for p in parts])


def _vector(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, int(math.floor((LINEWIDTH - indent) / (fmt.max_width + 2))))
    if summarize and values.shape[0] > 2 * EDGEITEMS:  # slice first: an expanded row may be huge
        data = [fmt.format(v) for v in values[:EDGEITEMS].tolist()] + [" ..."] + \
               [fmt.format(v) for v in values[-EDGEITEMS:].tolist()]
    else:
        data = [fmt.format(v) for v in values.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, fmt)
    rows = range(values.shape[0])
    if summarize and values.shape[0] > 2 * EDGEITEMS:
        slices: List[str] = [_nested(values[i], indent + 1, summarize, fmt) for i in rows[:EDGEITEMS]]
        slices.append("...")
        slices += [_nested(values[i], indent + 1, summarize, fmt) for i in rows[-EDGEITEMS:]]
    else:
        slices = [_nested(values[i], indent + 1, summarize, fmt) for i in rows]
    sep = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(slices) + "]"


def format_tensor(t: "Tensor") -> str:
    """repr(t) as PyTorch prints it, with chaingrad's names."""
    host = t.detach().cpu()
    values = (host.float() if host.dtype is bfloat16 else host).numpy()  # numpy has no bfloat16
    prefix = "tensor("
    suffixes = []
    default_dtypes = (float32, int64, bool_)
    if values.size == 0:
        body = "[]"
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
    else:
        summarize = values.size > THRESHOLD
        shown = _summarized(values) if summarize else values
        fmt = _Formatter(shown, t.dtype.is_floating_point)
        body = _nested(values, len(prefix), summarize, fmt)
    if t.is_cuda:
        suffixes.append(f"device='{t.device}'")
    if t.dtype not in default_dtypes:
        suffixes.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, len(prefix))


def _with_suffixes(text: str, suffixes: List[str], indent: int) -> str:
    """text followed by the suffixes (", dtype=..."), each moved onto a line of its own, indented,
    when it would take the line past LINEWIDTH, as PyTorch prints them."""
    parts = [text]
    line = len(text) - text.rfind("\n") + 1  # PyTorch counts the closing bracket and one more
    for suffix in suffixes:
        if line + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"
