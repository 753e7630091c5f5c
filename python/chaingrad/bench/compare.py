"""--compare: each row of an earlier results.json beside this run's, flagging changes beyond the noise.

A row's noise band is the min–max range of its repeats, widened to at least ±NOISE_FLOOR of its
median (a figure taken once, or repeats that happened to agree, still varies from run to run). A
change is flagged when the old and the new band do not overlap: every repeat of one run was faster
than every repeat of the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from chaingrad.bench.tables import text_table
from chaingrad.bench.units import format_ratio, format_value

__all__ = ["NOISE_FLOOR", "Change", "compare_results", "comparison_table"]

NOISE_FLOOR = 0.02


@dataclass
class Change:
    """One row in both runs or in one: its figures, the change in % and whether it is beyond the noise."""

    name: str
    peer_name: str
    threads: int
    unit: str
    old: Optional[Mapping[str, Any]]
    new: Optional[Mapping[str, Any]]

    @property
    def percent(self) -> Optional[float]:
        """The change of chaingrad's median, in % of the old one."""
        if self.old is None or self.new is None or self.old["chaingrad"]["median"] == 0:
            return None
        return 100.0 * (self.new["chaingrad"]["median"] / self.old["chaingrad"]["median"] - 1.0)

    @property
    def beyond_noise(self) -> bool:
        """Whether the two runs' noise bands do not overlap."""
        if self.old is None or self.new is None:
            return False
        old_low, old_high = _band(self.old["chaingrad"])
        new_low, new_high = _band(self.new["chaingrad"])
        return new_low > old_high or new_high < old_low

    @property
    def better(self) -> Optional[bool]:
        """Whether chaingrad's figure moved the good way (None when it did not move or is in one run only)."""
        percent = self.percent
        if percent is None or percent == 0:
            return None
        higher_is_better = bool((self.new or self.old or {}).get("higher_is_better"))
        return (percent > 0) == higher_is_better


def _band(spread: Mapping[str, float]) -> Tuple[float, float]:
    median = spread["median"]
    return min(spread["min"], median * (1 - NOISE_FLOOR)), max(spread["max"], median * (1 + NOISE_FLOOR))


def _key(row: Mapping[str, Any]) -> Tuple[str, str, int]:
    return row["name"], row["peer_name"], row["threads"]


def compare_results(old: Mapping[str, Any], new: Mapping[str, Any]) -> List[Change]:
    """The new run's rows in order, each with its old counterpart, then the rows only the old run has."""
    old_rows: Dict[Tuple[str, str, int], Mapping[str, Any]] = {_key(r): r for r in old["rows"]}
    changes = []
    for r in new["rows"]:
        changes.append(Change(r["name"], r["peer_name"], r["threads"], r["unit"], old_rows.pop(_key(r), None), r))
    for r in old_rows.values():
        changes.append(Change(r["name"], r["peer_name"], r["threads"], r["unit"], r, None))
    return changes


def _ratio(row: Optional[Mapping[str, Any]]) -> str:
    return "-" if row is None or row["ratio"] is None else format_ratio(row["ratio"]["median"])


def _verdict(c: Change) -> str:
    if c.old is None:
        return "only in the new run"
    if c.new is None:
        return "only in the old run"
    if not c.beyond_noise:
        return "within noise"
    return "BETTER" if c.better else "WORSE"


def comparison_table(changes: List[Change]) -> str:
    """The comparison as an aligned table: old and new chaingrad figures, change, ratios, verdict."""
    header = ["benchmark", "vs", "threads", "old", "new", "change", "ratio old → new", "verdict"]
    rows = []
    for c in changes:
        old = "-" if c.old is None else format_value(c.old["chaingrad"]["median"], c.unit)
        new = "-" if c.new is None else format_value(c.new["chaingrad"]["median"], c.unit)
        percent = "-" if c.percent is None else f"{c.percent:+.1f}%"
        rows.append(
            [c.name, c.peer_name, str(c.threads), old, new, percent, f"{_ratio(c.old)} → {_ratio(c.new)}", _verdict(c)]
        )
    flagged = sum(c.beyond_noise for c in changes)
    one_sided = sum(c.old is None or c.new is None for c in changes)
    summary = (
        f"{flagged} of {len(changes)} rows changed beyond the noise (min–max of the repeats, at least "
        f"±{NOISE_FLOOR:.0%}); {one_sided} in one run only"
    )
    return text_table(header, rows, [False, False, True, True, True, True, True, False]) + "\n" + summary
