"""The results file: every row with its spread and ratio, and the environment the figures depend on."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
from importlib import metadata
from typing import Any, Dict, List, Mapping, Optional, Sequence

import chaingrad as cg
from chaingrad.bench.common import Row, Spread

__all__ = [
    "SCHEMA",
    "BenchResultsError",
    "environment",
    "load_average",
    "now_utc",
    "cpu_model",
    "build_results",
    "write_results",
    "load_results",
]

SCHEMA = "chaingrad-bench/1"
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class BenchResultsError(ValueError):
    """A file that is not a results.json written by python -m chaingrad.bench."""


def _version(distribution: str) -> Optional[str]:
    # read from the installed metadata: importing torch only to ask its version takes seconds
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux, else what platform knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def load_average() -> Optional[List[float]]:
    """The 1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def now_utc() -> str:
    """The time now, ISO-8601 in UTC to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def environment(argv: Sequence[str], threads_used: Sequence[int]) -> Dict[str, Any]:
    """What the figures depend on: versions, machine, thread settings, and how the run was started."""
    return {
        "versions": {
            "chaingrad": cg.__version__,
            "numpy": _version("numpy"),
            "torch": _version("torch"),
            "micrograd": _version("micrograd"),
            "python": platform.python_version(),
        },
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "threads": {"default": cg.get_num_threads(), "used": sorted(set(threads_used))},
        "thread_variables": {k: os.environ[k] for k in _THREAD_VARIABLES if k in os.environ},
        "command": "python -m chaingrad.bench" + "".join(" " + shlex.quote(a) for a in argv),
    }


def _spread(s: Optional[Spread]) -> Optional[Dict[str, float]]:
    if s is None:
        return None
    return {"median": s.median, "min": s.low, "max": s.high, "repeats": s.repeats}


def _row(r: Row) -> Dict[str, Any]:
    ratio = r.ratio
    return {
        "suite": r.suite,
        "name": r.name,
        "unit": r.unit,
        "higher_is_better": r.higher_is_better,
        "threads": r.threads,
        "peer_name": r.peer_name,
        "chaingrad": _spread(r.chaingrad),
        "peer": _spread(r.peer),
        "ratio": None if ratio is None else {"median": ratio.median, "min": ratio.low, "max": ratio.high},
        "extra": dict(r.extra),
    }


def build_results(
    rows: Sequence[Row], env: Mapping[str, Any], durations: Mapping[str, float], quick: bool
) -> Dict[str, Any]:
    """The results.json document for rows measured in env (durations: seconds each suite took)."""
    return {
        "schema": SCHEMA,
        "quick": quick,
        "environment": dict(env),
        "suite_seconds": {k: round(v, 1) for k, v in durations.items()},
        "rows": [_row(r) for r in rows],
    }


def write_results(results: Mapping[str, Any], path: str) -> None:
    """Writes results as indented JSON at path, making its folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, ensure_ascii=False)
        f.write("\n")


_ROW_KEYS = ("name", "unit", "peer_name", "higher_is_better", "threads", "chaingrad", "peer", "ratio")


def load_results(path: str) -> Dict[str, Any]:
    """Reads a results.json, raising BenchResultsError (with what is wrong) for any other file."""
    hint = "expected the results.json that python -m chaingrad.bench writes into its --out folder"
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise BenchResultsError(f"cannot read {path}: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BenchResultsError(f"{path} is not JSON ({e}); {hint}") from None
    if not isinstance(data, dict) or "schema" not in data:
        old = isinstance(data, dict) and "rows" in data and "environment" in data
        why = "it is from an older bench (bench/results/latest.json) that kept no spread" if old else "no 'schema'"
        raise BenchResultsError(f"{path} is not a chaingrad bench results file ({why}); {hint}")
    if data["schema"] != SCHEMA:
        raise BenchResultsError(f"{path} has schema {data['schema']!r}; this bench reads {SCHEMA!r}")
    rows = data.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) and all(k in r for k in _ROW_KEYS) for r in rows):
        raise BenchResultsError(f"{path}: 'rows' must be a list of rows with the keys {', '.join(_ROW_KEYS)}")
    return data
