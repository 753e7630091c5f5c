"""Toy data sets made with numpy alone."""

from __future__ import annotations

import numbers
from typing import Optional, Tuple, Union

import numpy as np

__all__ = ["make_moons"]

Seed = Union[None, int, np.random.RandomState]


def _random_state(seed: Seed) -> np.random.RandomState:
    """The generator scikit-learn would use for seed: numpy's global one for None."""
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, np.random.RandomState):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    raise TypeError(f"random_state must be None, an int or a numpy RandomState, got {type(seed).__name__}")


def make_moons(
    n_samples: Union[int, Tuple[int, int]] = 100,
    *,
    shuffle: bool = True,
    noise: Optional[float] = None,
    random_state: Seed = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: the same points as scikit-learn's make_moons for the same arguments and seed."""
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        n_out = int(n_samples) // 2
        n_in = int(n_samples) - n_out
    else:
        try:
            n_out, n_in = (int(k) for k in n_samples)  # type: ignore[union-attr]
        except (TypeError, ValueError) as err:
            raise ValueError("n_samples must be an int or a pair of ints") from err
    if n_out < 0 or n_in < 0:
        raise ValueError(f"n_samples must not be negative, got {n_samples!r}")
    generator = _random_state(random_state)

    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    xs = np.append(np.cos(outer), 1 - np.cos(inner))
    ys = np.append(np.sin(outer), 1 - np.sin(inner) - 0.5)
    X = np.vstack([xs, ys]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])

    if shuffle:
        order = np.arange(n_out + n_in)
        generator.shuffle(order)
        X, y = X[order], y[order]
    if noise is not None:
        X += generator.normal(scale=noise, size=X.shape)
    return X, y
