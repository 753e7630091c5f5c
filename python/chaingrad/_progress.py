"""A progress line (the demos' training loops, the bench): redrawn in place on a terminal, plain lines
in a log file or pipe."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

__all__ = ["ProgressLine"]


class ProgressLine:
    """A status line for a training loop; `draw` updates it on a terminal only, `line` always prints."""

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        # resolved now, not at import, so that a redirected or captured sys.stdout is the one used
        self.stream = sys.stdout if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty()) if callable(isatty) else False
        self._shown = 0  # width of the line now on screen, to blank what a shorter one leaves
        self.restart()

    def restart(self) -> None:
        """Starts the clock that rate() measures from."""
        self._start = time.perf_counter()

    def rate(self, done: int) -> float:
        """Steps per second since the clock started, for `done` steps."""
        return done / max(time.perf_counter() - self._start, 1e-9)

    def draw(self, text: str) -> None:
        """Replaces the line on a terminal; does nothing elsewhere, where `\\r` would pile up."""
        if self.tty:
            self.stream.write("\r" + text.ljust(self._shown))
            self.stream.flush()
            self._shown = len(text)

    def line(self, text: str) -> None:
        """Prints text as a finished line: on a terminal it replaces the line being redrawn."""
        if self.tty and self._shown:
            self.stream.write("\r" + text.ljust(self._shown) + "\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._shown = 0

    def clear(self) -> None:
        """Blanks the line being redrawn, if any, leaving the cursor at its start."""
        if self.tty and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
        self._shown = 0
