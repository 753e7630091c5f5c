"""SGD, RMSprop, Adam and AdamW with PyTorch's update rules; each step is one C++ call per group."""

from __future__ import annotations

from operator import attrgetter, itemgetter
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from chaingrad import _core
from chaingrad.functional import zeros_like
from chaingrad.optim.optimizer import Optimizer, Params
from chaingrad.tensor import Tensor

__all__ = ["SGD", "RMSprop", "Adam", "AdamW"]


def _check(name: str, value: float, low: float = 0.0) -> None:
    if not value >= low:
        raise ValueError(f"Invalid {name} value: {value}")


def _counted_groups(opt: Optimizer, groups: List[Dict[str, Any]]
                    ) -> Iterator[Tuple[Dict[str, Any], List[Tensor], List[Dict[str, Any]]]]:
    """Each group with its parameters that have gradients and their states, step counts advanced."""
    for group in groups:
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            continue
        states = [opt.state.setdefault(p, {}) for p in params]
        for s in states:
            s["step"] = s.get("step", 0) + 1
        yield group, params, states


_grad_of = attrgetter("grad")


def _steady(opt: Optimizer, group: Dict[str, Any], *keys: str) -> Optional[Tuple[List[Tensor], List[Any], List[Any]]]:
    """(params, grads, [state dicts, buffers of each key...]) of a group whose parameters all have state, else None."""
    # Note [steady optimizer steps]
    # After its first step a training loop's optimizer finds every parameter's state in place, so a
    # step gathers parameters, gradients and buffers with map() (no Python loop over parameters,
    # no formatting) and hands them to one C++ call. What this does not check, the C++ step does
    # before it writes anything: every gradient present, every buffer still of its parameter's
    # shape, dtype and device (Module.to moves parameters). When it refuses, the general path runs,
    # which creates or moves the buffers, skips parameters without gradients and raises what is
    # really wrong.
    params = group["params"]
    try:
        states = list(map(opt.state.__getitem__, params))
        buffers = [list(map(itemgetter(k), states)) for k in keys]
    except KeyError:
        return None
    return params, list(map(_grad_of, params)), [states] + buffers


def _run_steady(step: Callable[[], None], counted: Optional[List[Dict[str, Any]]] = None) -> bool:
    """Runs a steady step, then advances the counted states' steps; False when C++ refused it."""
    try:
        step()
    except RuntimeError:
        return False
    if counted:
        _core.advance_steps(counted)
    return True


class _SteadyOrGeneral(Optimizer):
    """An optimizer whose groups take the steady path when it applies, else the general one."""

    def _update(self) -> None:
        """One update of every parameter that has a gradient."""
        for g in self.param_groups:
            if not self._steady_update(g):
                self._general_update(g)

    def _steady_update(self, g: Dict[str, Any]) -> bool:
        """Steps group g by the steady path (Note [steady optimizer steps]); False when it does not apply."""
        raise NotImplementedError

    def _general_update(self, g: Dict[str, Any]) -> None:
        """Steps group g, creating or moving state as needed and skipping parameters without gradients."""
        raise NotImplementedError


def _buffer(state: Dict[str, Any], key: str, like: Tensor) -> Tensor:
    """The state tensor `key` of a parameter: created as zeros, and moved to the parameter's device
    (and dtype) when the model moved since the last step (Module.to)."""
    buf = state.get(key)
    if buf is None:
        buf = state[key] = zeros_like(like)
    elif buf.dtype is not like.dtype or _core.device(buf) != _core.device(like):
        buf = state[key] = buf.to(like.device, like.dtype).contiguous()
    return buf


class SGD(_SteadyOrGeneral):
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

    def _steady_update(self, g: Dict[str, Any]) -> bool:
        if g["momentum"] == 0:
            params = g["params"]
            found: Optional[Tuple[List[Tensor], List[Any], List[Any]]] = (params, list(map(_grad_of, params)),
                                                                          [[None] * len(params)])
        else:
            found = _steady(self, g, "momentum_buffer")
        if found is None:
            return False
        params, grads, states_and_bufs = found
        bufs = states_and_bufs[-1]
        return _run_steady(lambda: _core.sgd_step(params, grads, bufs, g["lr"], g["momentum"], g["dampening"],
                                                  g["weight_decay"], g["nesterov"], g["maximize"], False))

    def _general_update(self, g: Dict[str, Any]) -> None:
        params = self._with_grads(g)
        if g["momentum"] == 0:
            self._apply(g, params, [None] * len(params), first=False)
            return
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


class RMSprop(_SteadyOrGeneral):
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

    def _steady_update(self, g: Dict[str, Any]) -> bool:
        found = _steady(self, g, "square_avg", "grad_avg" if g["centered"] else "square_avg",
                        "momentum_buffer" if g["momentum"] > 0 else "square_avg")
        if found is None:
            return False
        params, grads, (states, square_avg, grad_avg, bufs) = found
        nones = [None] * len(params)
        return _run_steady(lambda: _core.rmsprop_step(
            params, grads, square_avg, grad_avg if g["centered"] else nones, bufs if g["momentum"] > 0 else nones,
            g["lr"], g["alpha"], g["eps"], g["weight_decay"], g["momentum"], g["centered"], g["maximize"]), states)

    def _general_update(self, group: Dict[str, Any]) -> None:
        for g, params, states in _counted_groups(self, [group]):
            _core.rmsprop_step(
                params, [p.grad for p in params], [_buffer(s, "square_avg", p) for s, p in zip(states, params)],
                [_buffer(s, "grad_avg", p) if g["centered"] else None for s, p in zip(states, params)],
                [_buffer(s, "momentum_buffer", p) if g["momentum"] > 0 else None for s, p in zip(states, params)],
                g["lr"], g["alpha"], g["eps"], g["weight_decay"], g["momentum"], g["centered"], g["maximize"])


class Adam(_SteadyOrGeneral):
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

    def _steady_update(self, g: Dict[str, Any]) -> bool:
        found = _steady(self, g, "exp_avg", "exp_avg_sq", "max_exp_avg_sq" if g["amsgrad"] else "exp_avg")
        if found is None:
            return False
        params, grads, (states, exp_avg, exp_avg_sq, max_sq) = found
        steps = _core.next_steps(states)
        beta1, beta2 = g["betas"]
        return _run_steady(lambda: _core.adam_step(
            params, grads, exp_avg, exp_avg_sq, max_sq if g["amsgrad"] else [None] * len(params), steps, g["lr"],
            beta1, beta2, g["eps"], g["weight_decay"], self._decoupled, g["amsgrad"], g["maximize"]), states)

    def _general_update(self, group: Dict[str, Any]) -> None:
        for g, params, states in _counted_groups(self, [group]):
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
