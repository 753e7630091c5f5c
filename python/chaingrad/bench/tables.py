"""The results as tables: aligned plain text for the terminal and Markdown for the report and README."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from chaingrad.bench.units import format_ratio_range, format_value

__all__ = ["SUITE_TITLES", "text_table", "suite_table", "markdown_table", "readme_table", "measured_line", "row_cells"]

SUITE_TITLES = {
    "scalar": "Scalar engine (chaingrad.Value) beside micrograd",
    "tensor": "Tensor engine beside PyTorch (CPU) and numpy",
    "nn": "nn and optim beside PyTorch (CPU)",
    "makemore": "makemore beside PyTorch (CPU)",
    "cuda": "GPU beside PyTorch on the same GPU",
}
RATIO_HEADER = "ratio, median (min–max)"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """Columns padded to their widest cell: right-aligned where right[i], else left-aligned."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right))

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _value(spread: Optional[Mapping[str, float]], unit: str) -> str:
    return "-" if spread is None else format_value(spread["median"], unit)


def _ratio(row: Mapping[str, Any]) -> str:
    ratio = row["ratio"]
    return "-" if ratio is None else format_ratio_range(ratio["median"], ratio["min"], ratio["max"])


def row_cells(row: Mapping[str, Any]) -> Dict[str, str]:
    """A results row's cells as text: name, threads, chaingrad, peer, peer_name, ratio."""
    peer_name = row["peer_name"] if row["peer"] is not None else f"{row['peer_name']} (peer missing)"
    return {
        "name": row["name"],
        "threads": str(row["threads"]),
        "chaingrad": _value(row["chaingrad"], row["unit"]),
        "peer": _value(row["peer"], row["unit"]),
        "peer_name": peer_name,
        "ratio": _ratio(row),
    }


def suite_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The terminal table of one suite's rows (ratio above 1: chaingrad is better)."""
    header = ["benchmark", "threads", "chaingrad", "peer", "vs", RATIO_HEADER]
    keys = ["name", "threads", "chaingrad", "peer", "peer_name", "ratio"]
    cells = [[row_cells(r)[k] for k in keys] for r in rows]
    return text_table(header, cells, [False, True, True, True, False, True])


def _md(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def measured_line(results: Mapping[str, Any]) -> str:
    """When, where and how the figures were measured, in one sentence."""
    env = results["environment"]
    versions = env["versions"]
    threads = env["threads"]["used"]
    thread_text = " and ".join(str(t) for t in threads) + (" thread" if threads == [1] else " threads")
    peers = ", ".join(f"{k} {versions[k]}" for k in ("torch", "micrograd", "numpy") if versions.get(k))
    load = env.get("load_average_before")
    load_text = f", load average {load[0]:.2f} at the start" if load else ""
    quick = " (--quick: fewer repeats, a smoke run)" if results.get("quick") else ""
    return (
        f"Measured {env['started_utc'][:10]} with `{env['command']}`{quick} on {env['cpu']} "
        f"({env['logical_cores']} logical cores{load_text}), at {thread_text}; chaingrad {versions['chaingrad']}, "
        f"{peers}, Python {versions['python']}. Ratio: how many times faster (or smaller) chaingrad is than "
        "the peer measured in the same run, median over the repeats (min–max: the worst and best pairing "
        "of the two sides' repeats)."
    )


def readme_table(results: Mapping[str, Any]) -> str:
    """The line saying when and where, then one table of every row: what the README's Benchmarks shows."""
    header = ["benchmark", "threads", "chaingrad", "peer", RATIO_HEADER]
    body: List[List[str]] = []
    for r in results["rows"]:
        c = row_cells(r)
        peer = c["peer_name"] if r["peer"] is None else f"{c['peer_name']} {c['peer']}"
        body.append([c["name"], c["threads"], c["chaingrad"], peer, c["ratio"]])
    return measured_line(results) + "\n\n" + markdown_table(header, body)
