"""The progress line: which suite and phase is running, the time so far and an estimate of the rest.

The estimate comes from the planned suites' usual durations (SUITE_SECONDS, measured on the
project's 2-core machine), rescaled by how long the finished suites took here against their usual
durations, so a slower machine soon gets a fitting estimate. On a terminal the line is redrawn in
place with a carriage return; into a file or a pipe each phase gets one plain line instead."""

from __future__ import annotations

import shutil
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

from chaingrad._progress import ProgressLine

__all__ = ["SUITE_SECONDS", "expected_seconds", "format_duration", "Progress"]

# seconds on the project's 2-core machine (a full run on 2026-11-30, shared: load average 5-7), as (full
# run, --quick run) with 1 and 2 threads measured; how SUITE_SECONDS splits into a part run once per
# thread count and a part run once is _PER_THREAD_COUNT; --contended repeats nn's per-thread part
SUITE_SECONDS: Dict[str, Tuple[float, float]] = {
    "scalar": (26.0, 15.0),
    "tensor": (79.0, 50.0),
    "nn": (39.0, 20.0),
    "makemore": (75.0, 30.0),
    "cuda": (120.0, 40.0),  # a guess: this machine has no GPU
}
_PER_THREAD_COUNT = {"tensor": 0.1, "nn": 0.5, "makemore": 1.0}
_REDRAW_SECONDS = 0.5


def expected_seconds(suite: str, quick: bool, thread_counts: int, contended: bool = False) -> float:
    """How long suite usually takes with thread_counts thread counts measured (1, or 1 and the default)."""
    base = SUITE_SECONDS[suite][1 if quick else 0]
    per_thread = _PER_THREAD_COUNT.get(suite, 0.0)
    seconds = base * (1 - per_thread) + base * per_thread * (thread_counts / 2)  # the table is for 2 counts
    if suite == "nn" and contended:
        seconds += base * per_thread * (thread_counts / 2)
    return seconds


def format_duration(seconds: float) -> str:
    """m:ss (h:mm:ss from an hour on)."""
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Tracks the planned suites and draws the progress line on stream."""

    def __init__(
        self,
        plan: Sequence[Tuple[str, float]],
        stream: Optional[TextIO] = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.plan = list(plan)
        self.out = ProgressLine(stream if stream is not None else sys.stderr)
        self.redraw = self.out.tty
        self.clock = clock
        self.start = self.clock()
        self.index = -1
        self.suite_start = self.start
        self.phase_text = ""
        self.done: List[Tuple[float, float]] = []  # (expected, actual) of finished suites
        self.last_draw = float("-inf")

    def start_suite(self, suite: str) -> None:
        """Marks the end of the running suite, if any, and the start of the next planned one, suite."""
        now = self.clock()
        if self.index >= 0:
            self.done.append((self.plan[self.index][1], now - self.suite_start))
        self.index = [name for name, _ in self.plan].index(suite)
        self.suite_start = now
        self.phase(suite)

    def phase(self, message: str) -> None:
        """A suite says what it measures next (this is the suites' report callback)."""
        self.phase_text = message.rstrip(". ").strip()
        self._draw(force=True)

    def tick(self) -> None:
        """A repeat finished: redraw the line now and then (only on a terminal, where it is in place)."""
        if self.redraw:
            self._draw(force=False)

    def remaining(self) -> float:
        """Estimated seconds left: the rest of the running suite and the planned ones after it."""
        expected_done = sum(e for e, _ in self.done)
        scale = sum(a for _, a in self.done) / expected_done if expected_done > 0 else 1.0
        if self.index < 0:
            return scale * sum(e for _, e in self.plan)
        in_suite = self.clock() - self.suite_start
        # a suite running past its usual time is taken as nearly done, not done: "0:00 left" would be a lie
        current = max(self.plan[self.index][1] * scale - in_suite, 0.1 * in_suite)
        return current + scale * sum(e for _, e in self.plan[self.index + 1 :])

    def line(self) -> str:
        """The progress text: [k/n suite] phase, elapsed, estimate left."""
        suite = self.plan[self.index][0] if self.index >= 0 else ""
        head = f"[{self.index + 1}/{len(self.plan)} {suite}]"
        elapsed = format_duration(self.clock() - self.start)
        return f"{head} {self.phase_text} · {elapsed} elapsed, about {format_duration(self.remaining())} left"

    def _draw(self, force: bool) -> None:
        now = self.clock()
        if not force and now - self.last_draw < _REDRAW_SECONDS:
            return
        self.last_draw = now
        text = self.line()
        if self.redraw:
            self.out.draw(text[: shutil.get_terminal_size().columns - 1])  # a wrapped line cannot be redrawn
        else:
            self.out.line(text)

    def finish(self) -> float:
        """Clears the line on a terminal; returns the total seconds."""
        self.out.clear()
        return self.clock() - self.start
