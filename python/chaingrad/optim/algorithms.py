"""SGD, RMSprop, Adam and AdamW with PyTorch's update rules; each step is one C++ call per group."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple

from chaingrad import _core
from chaingrad.functional import zeros_like
from chaingrad.optim.optimizer import Optimizer, Params
from chaingrad.tensor import Tensor

__all__ = ["SGD", "RMSprop", "Adam", "AdamW"]


def _check(name: str, value: float, low: float = 0.0) -> None:
    if not value >= low:
        raise ValueError(f"Invalid {name} value: {value}")


def _counted_groups(opt: Optimizer) -> Iterator[Tuple[Dict[str, Any], List[Tensor], List[Dict[str, Any]]]]:
    """Each group with its parameters that have gradients and their states, step counts advanced."""
    for group in opt.param_groups:
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            continue
        states = [opt.state.setdefault(p, {}) for p in params]
        for s in states:
            s["step"] = s.get("step", 0) + 1
        yield group, params, states


def _buffer(state: Dict[str, Any], key: str, like: Tensor) -> Tensor:
    """The state tensor `key` of a parameter: created as zeros, and moved to the parameter's device
    (and dtype) when the model moved since the last step (Module.to)."""
    buf = state.get(key)
    if buf is None:
        buf = state[key] = zeros_like(like)
    elif buf.dtype is not like.dtype or _core.device(buf) != _core.device(like):
        buf = state[key] = buf.to(like.device, like.dtype).contiguous()
    return buf


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

    def __init__(self, params: Params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False) -> None:
        _check("learning rate", lr)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def _update(self) -> None:
        """One update of every parameter that has a gradient."""
        for g in self.param_groups:
            params = self._with_grads(g)
            if g["momentum"] == 0:
                self._apply(g, params, [None] * len(params), first=False)
                continue
            fresh = [p for p in params if "momentum_buffer" not in self.state.setdefault(p, {})]
            fresh_ids = {id(p) for p in fresh}
            old = [p for p in params if id(p) not in fresh_ids]
            for batch, first in ((fresh, True), (old, False)):
                bufs = [_buffer(self.state[p], "momentum_buffer", p) for p in batch]
                self._apply(g, batch, bufs, first)

    def _apply(self, g: Dict[str, Any], params: List[Tensor], bufs: List[Optional[Tensor]], first: bool) -> None:
        if params:
            _core.sgd_step(params, [p.grad for p in params], bufs, g["lr"], g["momentum"], g["dampening"],
                           g["weight_decay"], g["nesterov"], g["maximize"], first)


class RMSprop(Optimizer):
    """Divides each step by a running root mean square of the gradients (Hinton's RMSprop)."""

    def __init__(self, params: Params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        _check("learning rate", lr)
        _check("epsilon", eps)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        _check("alpha", alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self) -> None:
        """One update of every parameter that has a gradient."""
        for g, params, states in _counted_groups(self):
            _core.rmsprop_step(
                params, [p.grad for p in params], [_buffer(s, "square_avg", p) for s, p in zip(states, params)],
                [_buffer(s, "grad_avg", p) if g["centered"] else None for s, p in zip(states, params)],
                [_buffer(s, "momentum_buffer", p) if g["momentum"] > 0 else None for s, p in zip(states, params)],
                g["lr"], g["alpha"], g["eps"], g["weight_decay"], g["momentum"], g["centered"], g["maximize"])


class Adam(Optimizer):
    """Adam (Kingma and Ba): moments of the gradient with bias correction; L2 weight decay."""

    _decoupled = False

    def __init__(self, params: Params, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        _check("learning rate", lr)
        _check("epsilon", eps)
        _check("weight_decay", weight_decay)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _update(self) -> None:
        """One update of every parameter that has a gradient."""
        for g, params, states in _counted_groups(self):
            beta1, beta2 = g["betas"]
            _core.adam_step(
                params, [p.grad for p in params], [_buffer(s, "exp_avg", p) for s, p in zip(states, params)],
                [_buffer(s, "exp_avg_sq", p) for s, p in zip(states, params)],
                [_buffer(s, "max_exp_avg_sq", p) if g["amsgrad"] else None for s, p in zip(states, params)],
                [float(s["step"]) for s in states], g["lr"], beta1, beta2, g["eps"], g["weight_decay"],
                self._decoupled, g["amsgrad"], g["maximize"])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): p *= 1 - lr * weight_decay."""

    _decoupled = True

    def __init__(self, params: Params, lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
