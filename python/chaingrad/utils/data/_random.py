"""The random draws of samplers and random_split, made as PyTorch makes them so orders match its."""

from __future__ import annotations

from typing import Any, List, Optional

import chaingrad
from chaingrad._types import int64


def randperm(n: int, generator: Optional[Any] = None) -> List[int]:
    """A random permutation of range(n) from generator (the global one when None), as a list."""
    return chaingrad.randperm(n, generator=generator).tolist()


def seed_from(generator: Optional[Any] = None) -> int:
    """A 64-bit seed drawn as PyTorch draws one: empty((), int64).random_() from generator (or the global one)."""
    return int(chaingrad.empty((), dtype=int64).random_(generator=generator).item())


def seeded_generator(seed: int) -> Any:
    """A new generator seeded with seed."""
    return chaingrad.Generator().manual_seed(seed)
