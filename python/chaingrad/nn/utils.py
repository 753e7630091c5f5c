"""torch.nn.utils: gradient clipping."""

from __future__ import annotations

from typing import Iterable, Union

from chaingrad import autograd
from chaingrad.functional import stack, tensor
from chaingrad.tensor import Tensor

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(parameters: Union[Tensor, Iterable[Tensor]], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scales the gradients so their joint norm is at most max_norm; returns the norm before."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return tensor(0.0)
    with autograd.no_grad():
        if norm_type == float("inf"):
            total = stack([g.abs().max().to(grads[0].dtype) for g in grads]).max()
        else:
            total = stack([g.norm(norm_type).to(grads[0].dtype) for g in grads]).norm(norm_type)
        if error_if_nonfinite or not total.is_cuda:
            value = total.item()
            if error_if_nonfinite and (value != value or value in (float("inf"), float("-inf"))):
                raise RuntimeError(f"The total norm of order {norm_type} for gradients is non-finite, so "
                                   "it cannot be clipped.")
        if total.is_cuda:  # a 0-d tensor on the GPU: clipping never waits for it (as PyTorch)
            coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
            for g in grads:
                g.mul_(coef)
        elif max_norm / (value + 1e-6) < 1:  # on the CPU, gradients under the norm are left untouched
            for g in grads:
                g.mul_(max_norm / (value + 1e-6))
    return total
