"""Gradient-mode switches and functional autograd, as torch.autograd."""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional, Sequence, Tuple, TypeVar, Union

from chaingrad import _core
from chaingrad.tensor import Tensor

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "grad", "backward",
           "clear_grads"]

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


def grad(outputs: Union[Tensor, Sequence[Tensor]], inputs: Union[Tensor, Sequence[Tensor]],
         grad_outputs: Optional[Union[Tensor, Sequence[Tensor]]] = None,
         retain_graph: Optional[bool] = None, create_graph: bool = False,
         allow_unused: bool = False) -> Tuple[Optional[Tensor], ...]:
    """d outputs / d inputs as a tuple, leaving every .grad untouched."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported yet")
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    gouts = [grad_outputs] if isinstance(grad_outputs, Tensor) or grad_outputs is None else list(grad_outputs)
    if len(outs) != 1 or len(gouts) != 1:
        raise NotImplementedError("grad() of several outputs: sum them into one scalar first")
    return _core.grad(outs[0], ins, gouts[0], bool(retain_graph), allow_unused)


def backward(tensors: Union[Tensor, Sequence[Tensor]],
             grad_tensors: Optional[Union[Tensor, Sequence[Tensor]]] = None,
             retain_graph: Optional[bool] = None) -> None:
    """tensors.backward(grad_tensors) for one tensor or a list of them."""
    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    gs = [grad_tensors] * len(ts) if isinstance(grad_tensors, Tensor) or grad_tensors is None \
        else list(grad_tensors)
    for t, g in zip(ts, gs):
        t.backward(g, retain_graph=retain_graph)


def clear_grads(params: Sequence[Tensor], set_to_none: bool = True) -> None:
    """Clears the .grad of each tensor: to None, or to zeros in place (Module and Optimizer zero_grad)."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.zero_()
