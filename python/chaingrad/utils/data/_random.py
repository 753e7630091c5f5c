"""The random draws of samplers and random_split, made as PyTorch makes them so orders match its."""

from __future__ import annotations

from typing import Any, List, Optional

import chaingrad
from chaingrad._types import int64


def randperm(n: int, generator: Optional[Any] = None) -> List[int]:
    """A random permutation of range(n) from generator (the global one when None), as a list.

    Until chaingrad.randperm exists on this branch (the random-generator work adds it), the
    permutation is the argsort of uniform draws: random, but not PyTorch's order (the one workaround)."""
    if hasattr(chaingrad, "randperm"):
        return chaingrad.randperm(n, generator=generator).tolist()
    draws = chaingrad.rand(n).tolist() if n else []
    return sorted(range(n), key=draws.__getitem__)


def seed_from(generator: Optional[Any] = None) -> int:
    """A 64-bit seed drawn as PyTorch draws one: empty((), int64).random_() from generator (or the global one)."""
    t = chaingrad.empty((), dtype=int64)
    if hasattr(t, "random_"):
        return int((t.random_(generator=generator) if generator is not None else t.random_()).item())
    return int((chaingrad.rand(()) * 2.0**62).item())


def seeded_generator(seed: int) -> Optional[Any]:
    """A new generator seeded with seed, or None (the global generator) where chaingrad has no Generator."""
    if not hasattr(chaingrad, "Generator"):
        return None
    g = chaingrad.Generator()
    g.manual_seed(seed)
    return g
