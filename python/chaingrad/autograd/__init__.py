"""Gradient-mode switches and functional autograd, as torch.autograd."""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable, List, Optional, Sequence, Tuple, TypeVar, Union

from chaingrad import _core
from chaingrad.tensor import Tensor

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "grad", "backward",
           "clear_grads", "functional", "Function", "FunctionCtx", "once_differentiable"]

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode:
    """A context manager and decorator that sets grad mode inside and restores it after."""

    enabled = True

    def __enter__(self) -> None:
        self._previous = _core.is_grad_enabled()
        _core.set_grad_enabled(self.enabled)

    def __exit__(self, *exc: Any) -> None:
        _core.set_grad_enabled(self._previous)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Inside it, ops record no graph: results do not require grad (context manager or decorator)."""

    enabled = False


class enable_grad(_GradMode):
    """Turns recording back on inside a no_grad block (context manager or decorator)."""

    enabled = True


class set_grad_enabled(_GradMode):
    """Sets grad mode now; as a context manager, restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self._previous = _core.is_grad_enabled()
        self.enabled = bool(mode)
        _core.set_grad_enabled(self.enabled)

    def __enter__(self) -> None:
        _core.set_grad_enabled(self.enabled)

    def __call__(self, fn: F) -> F:
        raise TypeError("set_grad_enabled(mode) is not a decorator; use no_grad or enable_grad")


def is_grad_enabled() -> bool:
    """Whether ops record the graph on this thread."""
    return _core.is_grad_enabled()


def _tensors(value: Union[Tensor, Sequence[Tensor]], what: str) -> List[Tensor]:
    """value as a list of tensors (one tensor becomes a list of one)."""
    items = [value] if isinstance(value, Tensor) else list(value)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}[{i}]: expected a Tensor, got {type(t).__name__}")
    return items


def _seeds(grads: Optional[Union[Tensor, Sequence[Optional[Tensor]]]], count: int, what: str) -> List[Optional[Tensor]]:
    """One gradient (or None) per output."""
    if grads is None:
        return [None] * count
    seeds = [grads] if isinstance(grads, Tensor) else list(grads)
    if len(seeds) != count:
        raise RuntimeError(f"{what}: got {len(seeds)} gradients for {count} tensors")
    return seeds


def grad(outputs: Union[Tensor, Sequence[Tensor]], inputs: Union[Tensor, Sequence[Tensor]],
         grad_outputs: Optional[Union[Tensor, Sequence[Optional[Tensor]]]] = None,
         retain_graph: Optional[bool] = None, create_graph: bool = False,
         allow_unused: bool = False, only_inputs: bool = True,
         materialize_grads: bool = False) -> Tuple[Optional[Tensor], ...]:
    """The gradients of outputs (weighted by grad_outputs) with respect to inputs, as a tuple.

    Leaves' .grad are not touched. With create_graph the result carries a graph of its own, so it
    can be differentiated again (grad of grad, Hessian-vector products, gradient penalties).
    """
    outs = _tensors(outputs, "outputs")
    ins = _tensors(inputs, "inputs")
    if not ins:
        raise RuntimeError("grad requires non-empty inputs")
    seeds = _seeds(grad_outputs, len(outs), "grad")
    retain = create_graph if retain_graph is None else bool(retain_graph)
    result = _core.grad(outs, seeds, ins, retain, bool(create_graph), bool(allow_unused or materialize_grads))
    if materialize_grads:
        result = tuple(g if g is not None else _zeros_like(t) for g, t in zip(result, ins))
    return result


def _zeros_like(t: Tensor) -> Tensor:
    """Zeros of t's shape, dtype and device."""
    from chaingrad.functional import zeros
    return zeros(*t.shape, dtype=t.dtype, device=t.device)


def backward(tensors: Union[Tensor, Sequence[Tensor]],
             grad_tensors: Optional[Union[Tensor, Sequence[Optional[Tensor]]]] = None,
             retain_graph: Optional[bool] = None, create_graph: bool = False,
             inputs: Optional[Union[Tensor, Sequence[Tensor]]] = None) -> None:
    """Accumulates the gradients of tensors (weighted by grad_tensors) into the leaves' .grad, in one pass.

    With inputs, only those tensors' .grad receive their gradient.
    """
    roots = _tensors(tensors, "tensors")
    seeds = _seeds(grad_tensors, len(roots), "backward")
    retain = create_graph if retain_graph is None else bool(retain_graph)
    if create_graph and inputs is None:
        warnings.warn("backward(create_graph=True) makes each leaf's .grad hold a graph that leads back to the "
                      "leaf: a reference cycle that keeps both alive until .grad is set to None (zero_grad() does "
                      "that). autograd.grad(..., create_graph=True) returns the gradients without the cycle.",
                      UserWarning, stacklevel=3)
    if inputs is None:
        _core.backward(roots, seeds, retain, bool(create_graph))
        return
    targets = _tensors(inputs, "inputs")
    if not targets:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty")
    grads = _core.grad(roots, seeds, targets, retain, bool(create_graph), True)
    for t, g in zip(targets, grads):
        if g is None or t.retains_grad:  # retain_grad's hook stored it during the pass
            continue
        if create_graph:  # out of place, keeping the graph (as the accumulation of a full backward)
            with enable_grad():
                _core.set_grad(t, g.clone() if t.grad is None else t.grad + g)
        elif t.grad is None:
            t.grad = g.clone()
        else:  # in place, as a full backward: a reference to the old .grad sees the sum
            with no_grad():
                t.grad.add_(g)


def clear_grads(params: Sequence[Tensor], set_to_none: bool = True) -> None:
    """Clears the .grad of each tensor: to None, or to zeros in place (Module and Optimizer zero_grad)."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.zero_()


from chaingrad.autograd import functional  # noqa: E402  (uses grad above)
from chaingrad.autograd.function import Function, FunctionCtx, once_differentiable  # noqa: E402
