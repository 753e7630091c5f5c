"""Numbers as people read them: SI prefixes with three significant digits, and ratios as "3.04x"."""

from __future__ import annotations

import math
from typing import Optional, Tuple

__all__ = ["format_value", "format_ratio", "format_ratio_range"]

# unit numerator -> (factor to the base unit, base unit)
_TIME = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
_SYMBOL_BASES = ("FLOP", "B")
_WORD_AS_SYMBOL = {"bytes": "B"}
_PREFIX_SCALE = {"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_LARGE = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
_SMALL = [(1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n")]


def _base(numerator: str) -> Tuple[float, str, bool]:
    """(factor, base unit, is a symbol that takes an attached prefix) for a unit's numerator."""
    if numerator in _TIME:
        return _TIME[numerator], "s", True
    if numerator in _WORD_AS_SYMBOL:
        return 1.0, _WORD_AS_SYMBOL[numerator], True
    if numerator in _SYMBOL_BASES:
        return 1.0, numerator, True
    if numerator[:1] in _PREFIX_SCALE and numerator[1:] in _SYMBOL_BASES:
        return _PREFIX_SCALE[numerator[0]], numerator[1:], True
    return 1.0, numerator, False  # a counted thing: steps, samples, calls


def _mantissa(m: float) -> str:
    """Three significant digits, trailing zeros kept (1.00 ms says it was measured to 1%)."""
    if m == 0:
        return "0"
    if abs(m) >= 100:
        return f"{m:.0f}"
    if abs(m) >= 1:
        return f"{m:.1f}" if abs(m) >= 10 else f"{m:.2f}"
    return f"{m:.{2 - math.floor(math.log10(abs(m)))}f}"  # below every prefix: still no exponent


def format_value(value: Optional[float], unit: str) -> str:
    """value in unit with an SI prefix: (6.17e-4, "s") -> "617 µs", (24740, "steps/s") -> "24.7 k steps/s"."""
    if value is None or math.isnan(value):
        return "-"
    numerator, slash, denominator = unit.partition("/")
    factor, base, symbol = _base(numerator)
    rest = slash + denominator
    if math.isinf(value):
        return f"{'-' if value < 0 else ''}inf {base}{rest}"
    v = float(f"{value * factor:.3g}")  # round first, so 999.6 becomes 1.00 k and not 1000
    scale, prefix = 1.0, ""
    if v != 0:
        # seconds take only the prefixes below 1 (125 s stays 125 s); counts and FLOP/B only those above
        table = _SMALL if base == "s" else _LARGE
        for s, p in table:
            if abs(v) >= s:
                scale, prefix = s, p
                break
        else:
            scale, prefix = table[-1] if base == "s" else (1.0, "")
    # a whole count (36 calls) reads better without decimals
    text = str(int(v)) if not symbol and not prefix and v == int(value) else _mantissa(v / scale)
    if symbol:
        return f"{text} {prefix}{base}{rest}"
    return f"{text} {prefix + ' ' if prefix else ''}{base}{rest}"


def format_ratio(ratio: Optional[float], suffix: str = "x") -> str:
    """A ratio to the peer: "0.81x", "3.04x", "40.2x", "1,074x"."""
    if ratio is None or math.isnan(ratio):
        return "-"
    if ratio >= 100:
        return f"{ratio:,.0f}{suffix}"
    return f"{ratio:.1f}{suffix}" if ratio >= 10 else f"{ratio:.2f}{suffix}"


def format_ratio_range(median: Optional[float], low: Optional[float], high: Optional[float]) -> str:
    """A ratio with its range over the repeats: "3.04x (2.91–3.10)"; the median alone when it has no range."""
    if median is None:
        return "-"
    if low is None or high is None or low == high:
        return format_ratio(median)
    return f"{format_ratio(median)} ({format_ratio(low, '')}–{format_ratio(high, '')})"
