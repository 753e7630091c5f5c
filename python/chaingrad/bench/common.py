"""Timing helpers and the row type shared by the benchmark modules."""

from __future__ import annotations

import contextlib
import gc
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import chaingrad as cg

__all__ = [
    "Spread",
    "Row",
    "median_time",
    "median_of",
    "set_repeat_hook",
    "set_threads",
    "python_calls",
    "busy_neighbour",
    "rss_bytes",
]


@dataclass(frozen=True)
class Spread:
    """A measured figure: the median over its repeats and the smallest and largest repeat."""

    median: float
    low: float
    high: float
    repeats: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> "Spread":
        """The median, minimum and maximum of samples (one per repeat)."""
        if not samples:
            raise ValueError("a Spread needs at least one sample")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    @classmethod
    def single(cls, value: float) -> "Spread":
        """A figure taken once (a count, one memory reading): no spread."""
        return cls(value, value, value, 1)

    # Scaling by a positive number keeps the order of the repeats; dividing a number by the figure
    # (work / seconds -> a rate) reverses it, so low and high swap.
    def __mul__(self, k: float) -> "Spread":
        return Spread(self.median * k, self.low * k, self.high * k, self.repeats)

    __rmul__ = __mul__

    def __truediv__(self, k: float) -> "Spread":
        return self * (1.0 / k)

    def __rtruediv__(self, k: float) -> "Spread":
        return Spread(k / self.median, k / self.high, k / self.low, self.repeats)


@dataclass
class Row:
    """One benchmark: chaingrad's figure and the peer's, each a Spread over its repeats."""

    name: str
    unit: str
    chaingrad: Spread
    peer_name: str
    peer: Optional[Spread] = None
    higher_is_better: bool = False
    extra: Dict[str, float] = field(default_factory=dict)
    # rows are made right after their measurement, so this is the thread count they ran at
    threads: int = field(default_factory=cg.get_num_threads)
    suite: str = ""

    @property
    def ratio(self) -> Optional[Spread]:
        """How many times better chaingrad is (peer / chaingrad for costs, chaingrad / peer for rates): the
        ratio of the medians, and a range from the worst to the best pairing of the two sides' repeats."""
        mine, peer = self.chaingrad, self.peer
        if peer is None or 0 in (mine.median, mine.low, peer.median, peer.low):
            return None
        repeats = min(mine.repeats, peer.repeats)
        if self.higher_is_better:
            return Spread(mine.median / peer.median, mine.low / peer.high, mine.high / peer.low, repeats)
        return Spread(peer.median / mine.median, peer.low / mine.high, peer.high / mine.low, repeats)


_repeat_hook: Callable[[], None] = lambda: None  # noqa: E731


def set_repeat_hook(hook: Optional[Callable[[], None]]) -> None:
    """Calls hook after every timed repeat, outside the timing (the progress line moves on it)."""
    global _repeat_hook
    _repeat_hook = hook if hook is not None else (lambda: None)


def median_time(fn: Callable[[], object], repeats: int, setup: Optional[Callable[[], object]] = None) -> Spread:
    """Wall-clock seconds of fn() over repeats runs (setup, if given, runs untimed before each)."""
    times: List[float] = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        _repeat_hook()
    return Spread.of(times)


def median_of(samples: Sequence[float]) -> Spread:
    """A Spread of samples timed some other way (timeit, a loop's own clock), with a progress tick."""
    _repeat_hook()
    return Spread.of(samples)


def set_threads(torch: Any, n: int) -> None:
    """Sets chaingrad's thread count and, when given, torch's to n."""
    cg.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


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
