"""torch.nn.functional's activations, layers and losses on chaingrad tensors.

An op that is also a top-level function (relu, tanh, sigmoid, softmax, log_softmax, flatten) is
the same function object, re-exported from chaingrad.functional: each op has one definition."""

from __future__ import annotations

from typing import Optional

from chaingrad import _core
from chaingrad._types import int64
from chaingrad.functional import arange, flatten, log_softmax, softmax, stack
from chaingrad.nn import _ops as _table_ops
from chaingrad.nn._ops import *  # noqa: F401,F403  the op table's activations (relu, gelu, silu, ...)
from chaingrad.random import _generator
from chaingrad.tensor import Tensor

__all__ = ["linear", "softmax", "log_softmax", "dropout", "flatten",
           "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits",
           "one_hot"] + _table_ops.__all__


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    _check_reduction(reduction, op)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: target size {tuple(target.shape)} differs from input size "
                         f"{tuple(input.shape)}; they must match (no silent broadcasting)")


def linear(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """input @ weight.T + bias, as one GEMM that accumulates into the broadcast bias."""
    return _core.linear(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes each element with probability p and scales the rest by 1/(1-p) (identity in eval)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    # the mask as PyTorch draws it (bernoulli(1 - p) in input's memory order, scaled by 1/(1-p)),
    # so the same seed drops the same elements
    noise = _core.dropout_noise(input, float(p), _generator(None))
    return input.mul_(noise) if inplace else input * noise


_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(input - target)^2, reduced, as one op (grad_fn MseLossBackward0)."""
    _check_reduction(reduction, "mse_loss")
    floating = getattr(getattr(input, "dtype", None), "is_floating_point", None)
    target_floating = getattr(getattr(target, "dtype", None), "is_floating_point", None)
    if floating is True and target_floating is False:
        # an integer target, promoted as PyTorch does: the fused op takes floating operands only
        _same_shape(input, target, "mse_loss")
        return _reduce((input - target) ** 2, reduction, "mse_loss")
    return _core.mse_loss(input, target, _REDUCTIONS[reduction])


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced."""
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def one_hot(target: Tensor, num_classes: int = -1) -> Tensor:
    """int64 class indices as rows of zeros with a one at the index."""
    if target.dtype.is_floating_point:
        raise RuntimeError("one_hot is only applicable to index tensor (int64)")
    if target.numel():
        lo, hi = stack([target.min(), target.max()]).tolist()  # one wait for a cuda target, not two
        if num_classes < 0:
            num_classes = hi + 1
        if lo < 0 or hi >= num_classes:
            raise IndexError(f"Class values must be in [0, {num_classes}), got [{lo}, {hi}]")
    elif num_classes < 0:
        raise RuntimeError("one_hot: can not infer the number of classes of an empty tensor")
    return (target.unsqueeze(-1) == arange(num_classes, device=target.device)).long()


def nll_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] for log-probabilities input (N, C), reduced."""
    if input.ndim != 2 or target.ndim != 1 or target.shape[0] != input.shape[0]:
        raise ValueError(f"nll_loss: expected input (N, C) and target (N,), got {tuple(input.shape)} "
                         f"and {tuple(target.shape)}")
    picked = (input * one_hot(target, input.shape[1]).to(input.dtype)).sum(1)
    return _reduce(-picked, reduction, "nll_loss")


def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits (N, C, d...) (or (C,)) against class indices (N, d...) or
    class probabilities shaped like the input; the classes are dim 1, as in PyTorch."""
    if input.ndim == 1:  # one unbatched sample
        loss = cross_entropy(input.unsqueeze(0), target.unsqueeze(0), "none")[0]
        return _reduce(loss, reduction, "cross_entropy")
    if input.ndim > 2:  # (N, C, d...) -> (N*d..., C)
        classes = input.shape[1]
        moved = input.permute(0, *range(2, input.ndim), 1)
        rest = tuple(moved.shape[:-1])
        flat_target = target.permute(0, *range(2, target.ndim), 1).reshape(-1, classes) \
            if target.dtype.is_floating_point else target.reshape(-1)
        loss = cross_entropy(moved.reshape(-1, classes), flat_target, "none").reshape(*rest)
        return _reduce(loss, reduction, "cross_entropy")
    if target.dtype == int64 and input.dtype.is_floating_point and not input.is_cuda and target.ndim == 1 \
            and not target.is_cuda and target.shape[0] == input.shape[0]:
        _check_reduction(reduction, "cross_entropy")
        return _core.cross_entropy(input, target, reduction)  # log_softmax and the pick in one pass
    logp = input.log_softmax(1)
    if target.dtype.is_floating_point:
        _same_shape(input, target, "cross_entropy")
        return _reduce(-(logp * target).sum(1), reduction, "cross_entropy")
    return nll_loss(logp, target, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(input) against target, computed stably from the logits."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    target = target.to(input.dtype)
    # max(x, 0) - x*y + log(1 + e^-|x|)
    loss = input.relu() - input * target + ((-input.abs()).exp() + 1.0).log()
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


