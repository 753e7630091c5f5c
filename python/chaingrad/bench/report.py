"""report.md: the README-ready table with when and where it was measured, the environment, and
each suite's rows with both sides' spread and its chart."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence

from chaingrad.bench.tables import SUITE_TITLES, markdown_table, readme_table, row_cells
from chaingrad.bench.units import format_value

__all__ = ["suites_in", "markdown_report"]


def suites_in(results: Mapping[str, Any]) -> Dict[str, List[Mapping[str, Any]]]:
    """The rows grouped by suite, in the order they ran."""
    groups: Dict[str, List[Mapping[str, Any]]] = {}
    for r in results["rows"]:
        groups.setdefault(r["suite"], []).append(r)
    return groups


def _range(spread: Any, unit: str) -> str:
    if spread is None:
        return "-"
    if spread["repeats"] == 1:
        return "1 repeat"
    return f"{format_value(spread['min'], unit)} – {format_value(spread['max'], unit)} ({spread['repeats']} repeats)"


def _environment_table(results: Mapping[str, Any]) -> str:
    env = results["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
    items = [
        ("started (UTC)", env["started_utc"]),
        ("finished (UTC)", env["finished_utc"]),
        ("command", f"`{env['command']}`"),
        ("versions", versions),
        ("CPU", env["cpu"]),
        ("logical cores", str(env["logical_cores"])),
        ("platform", env["platform"]),
        ("threads", f"default {env['threads']['default']}, measured at {env['threads']['used']}"),
        ("thread variables", ", ".join(f"{k}={v}" for k, v in env["thread_variables"].items()) or "none set"),
        ("load average before / after (1, 5, 15 min)", f"{env['load_average_before']} / {env['load_average_after']}"),
        ("seconds per suite", ", ".join(f"{k} {v:.0f}" for k, v in results["suite_seconds"].items())),
    ]
    return markdown_table(["", ""], [[k, v] for k, v in items])


def markdown_report(results: Mapping[str, Any], charts: Mapping[str, str], notes: Sequence[str] = ()) -> str:
    """The whole report.md (charts: suite -> PNG file name beside it)."""
    parts = ["# chaingrad benchmarks", "", readme_table(results), "", "## Environment", "", _environment_table(results)]
    parts += ["", *notes] if notes else []
    for suite, rows in suites_in(results).items():
        parts += ["", f"## {SUITE_TITLES.get(suite, suite)}", ""]
        header = [
            "benchmark",
            "threads",
            "chaingrad",
            "chaingrad min – max",
            "vs",
            "peer",
            "peer min – max",
            "ratio, median (min–max)",
        ]
        body = []
        for r in rows:
            c = row_cells(r)
            body.append(
                [
                    c["name"],
                    c["threads"],
                    c["chaingrad"],
                    _range(r["chaingrad"], r["unit"]),
                    c["peer_name"],
                    c["peer"],
                    _range(r["peer"], r["unit"]),
                    c["ratio"],
                ]
            )
        parts.append(markdown_table(header, body))
        if suite in charts:
            parts += ["", f"![{suite}: ratio to the peer]({charts[suite]})"]
    return "\n".join(parts) + "\n"
