"""Timing helpers and the result table shared by the benchmark modules."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional

__all__ = ["Row", "median_time", "python_calls", "busy_neighbour", "rss_bytes", "print_table", "write_json",
           "environment"]


@dataclass
class Row:
    """One measurement: chaingrad's figure, the peer's, and how many times better chaingrad is."""

    name: str
    unit: str
    chaingrad: float
    peer_name: str
    peer: Optional[float] = None
    higher_is_better: bool = False
    extra: Dict[str, float] = field(default_factory=dict)

    @property
    def speedup(self) -> Optional[float]:
        """peer / chaingrad for costs, chaingrad / peer for rates (above 1: chaingrad is better)."""
        if self.peer is None or self.chaingrad == 0 or self.peer == 0:
            return None
        return self.chaingrad / self.peer if self.higher_is_better else self.peer / self.chaingrad


def median_time(fn: Callable[[], object], repeats: int, setup: Optional[Callable[[], object]] = None) -> float:
    """Median wall-clock seconds of fn() over repeats runs (setup, if given, runs untimed before each)."""
    times: List[float] = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def python_calls(fn: Callable[[], object]) -> int:
    """How many calls of Python functions and builtins one fn() makes (counted by a profile hook)."""
    count = 0

    def hook(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count - 1  # the hook also sees the setprofile call that removes it


@contextlib.contextmanager
def busy_neighbour() -> Iterator["subprocess.Popen[bytes]"]:
    """Runs a process that spins on one core for the duration of the block (a shared machine)."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it reach the run queue
        yield proc
    finally:
        proc.kill()
        proc.wait()


def rss_bytes() -> int:
    """The process's resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def environment() -> Dict[str, str]:
    """What the figures depend on: machine, Python, thread settings."""
    keys = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    env = {k: os.environ.get(k, "") for k in keys}
    env.update(python=platform.python_version(), machine=platform.machine(),
               processor=platform.processor() or "", cpus=str(os.cpu_count()))
    return env


def print_table(rows: List[Row]) -> None:
    """Prints the rows with their ratio to the peer."""
    print(f"{'benchmark':44} {'unit':10} {'chaingrad':>12} {'peer':>12}  {'ratio':>9}  peer")
    for r in rows:
        peer = f"{r.peer:12.4g}" if r.peer is not None else f"{'-':>12}"
        ratio = f"{r.speedup:8.1f}x" if r.speedup is not None else f"{'-':>9}"
        note = r.peer_name if r.peer is not None else f"{r.peer_name} (peer missing)"
        print(f"{r.name:44} {r.unit:10} {r.chaingrad:12.4g} {peer}  {ratio}  {note}")


def write_json(rows: List[Row], path: str) -> None:
    """Saves the rows and the environment as JSON."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    payload = {"environment": environment(),
               "rows": [dict(asdict(r), speedup=r.speedup) for r in rows]}
    with open(path, "w") as f:
        json.dump(payload, f, indent=2)
