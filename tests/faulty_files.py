"""File wrappers that fail or stall while writing, to test that save() never loses a checkpoint.
Imported by the tests and by the child processes they start."""

from __future__ import annotations

import errno
import io
import time
from typing import Any, Callable


class WrappedFile:
    """Passes everything to the wrapped file; subclasses change write()."""

    def __init__(self, f: Any) -> None:
        self._f = f

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)

    def __enter__(self) -> "WrappedFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._f.close()


class FullDisk(WrappedFile):
    """Writes fail with ENOSPC once a budget of bytes is spent."""

    def __init__(self, f: Any, budget: int) -> None:
        super().__init__(f)
        self._left = budget

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        if n > self._left:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._left -= n
        return self._f.write(data)


class Stalling(WrappedFile):
    """The first write lands on disk, says "writing" on stdout, then hangs (to be killed)."""

    def write(self, data: Any) -> int:
        n = self._f.write(data)
        self._f.flush()
        print("writing", flush=True)
        time.sleep(60)
        return n


def opener(wrap: Callable[[Any], WrappedFile], real_open: Callable[..., Any] = io.open) -> Callable[..., Any]:
    """An open() that wraps every file opened for writing with wrap."""
    def wrapped_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        f = real_open(file, mode, *args, **kwargs)
        return wrap(f) if "w" in mode else f
    return wrapped_open
