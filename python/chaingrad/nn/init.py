"""torch.nn.init: in-place initialisers, drawing from chaingrad's seeded generator."""

from __future__ import annotations

import math
from typing import Tuple

from chaingrad import autograd
from chaingrad.functional import rand, randn
from chaingrad.tensor import Tensor

__all__ = ["uniform_", "normal_", "zeros_", "ones_", "constant_", "kaiming_uniform_",
           "xavier_uniform_", "calculate_gain"]


def _fans(t: Tensor) -> Tuple[int, int]:
    if t.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in t.shape[2:]:
        receptive *= s
    return t.shape[1] * receptive, t.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float = None) -> float:  # type: ignore[assignment]
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    if nonlinearity in ("linear", "sigmoid", "conv1d", "conv2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fills t with U(a, b)."""
    with autograd.no_grad():
        t.copy_(rand(*t.shape, dtype=t.dtype, device=t.device) * (b - a) + a)
    return t


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fills t with N(mean, std^2)."""
    with autograd.no_grad():
        t.copy_(randn(*t.shape, dtype=t.dtype, device=t.device) * std + mean)
    return t


def constant_(t: Tensor, value: float) -> Tensor:
    """Fills t with value."""
    with autograd.no_grad():
        t.fill_(value)
    return t


def zeros_(t: Tensor) -> Tensor:
    """Fills t with 0."""
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    """Fills t with 1."""
    return constant_(t, 1.0)


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al.)."""
    fan_in, fan_out = _fans(t)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan) if fan else 0.0
    return uniform_(t, -bound, bound)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio)."""
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)
