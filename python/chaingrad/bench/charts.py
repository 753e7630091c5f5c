"""PNG charts of each suite's ratios to their peers (needs matplotlib; the bench says so without it)."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Sequence

from chaingrad.bench.report import suites_in
from chaingrad.bench.tables import SUITE_TITLES

__all__ = ["have_matplotlib", "ratio_chart", "write_charts"]

# ratios spanning more than this factor are drawn on a log axis, where 0.5x and 2x lie equally far from 1x
LOG_SCALE_SPAN = 20.0


def have_matplotlib() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def ratio_chart(rows: Sequence[Mapping[str, Any]], title: str, path: str) -> None:
    """One horizontal bar per row with a peer: its ratio from 1x, the range as an error bar, a line at 1x."""
    from matplotlib.figure import Figure  # no pyplot: no global figure state and no GUI backend

    rated = [r for r in rows if r["ratio"] is not None]
    labels = [f"{r['name']} (vs {r['peer_name']})" for r in rated]
    medians = [r["ratio"]["median"] for r in rated]
    lows = [r["ratio"]["min"] for r in rated]
    highs = [r["ratio"]["max"] for r in rated]
    fig = Figure(figsize=(11, 1.2 + 0.38 * max(len(rated), 1)))
    ax = fig.add_subplot()
    if rated:
        ys = list(range(len(rated)))[::-1]  # first row on top, as in the table
        colours = ["tab:green" if m >= 1 else "tab:red" for m in medians]
        ax.barh(ys, [m - 1 for m in medians], left=1, color=colours, alpha=0.75, height=0.6)
        ax.errorbar(
            medians,
            ys,
            xerr=[[m - lo for m, lo in zip(medians, lows)], [hi - m for m, hi in zip(medians, highs)]],
            fmt="none",
            ecolor="black",
            capsize=3,
            linewidth=1,
        )
        ax.set_yticks(ys)
        ax.set_yticklabels(labels, fontsize=8)
        if max(highs) / min(lows) > LOG_SCALE_SPAN:
            ax.set_xscale("log")
        for y, m, hi in zip(ys, medians, highs):
            ax.annotate(
                f"{m:.3g}x", (max(hi, 1), y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7
            )
    else:
        ax.text(0.5, 0.5, "no row has a peer here", ha="center", va="center", transform=ax.transAxes)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xlabel("ratio to the peer (above 1: chaingrad is better); bar: median, whisker: min–max")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_charts(results: Mapping[str, Any], folder: str) -> Dict[str, str]:
    """A chart per suite, ratios-SUITE.png in folder; returns suite -> file name."""
    written: Dict[str, str] = {}
    for suite, rows in suites_in(results).items():
        name = f"ratios-{suite}.png"
        ratio_chart(rows, SUITE_TITLES.get(suite, suite), os.path.join(folder, name))
        written[suite] = name
    return written
