"""Derivatives of whole functions, as torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp.

Each takes a function of tensors and the point to differentiate at. Results are detached from the
graph unless create_graph=True, in which case they can be differentiated again.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from chaingrad.autograd import enable_grad, grad
from chaingrad.functional import ones, stack, zeros
from chaingrad.tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

Tensors = Union[Tensor, Tuple[Tensor, ...]]


def _as_tuple(value: Any, what: str, fn: str) -> Tuple[bool, Tuple[Tensor, ...]]:
    """(whether value was a tuple or list, its tensors as a tuple), checking every item is a Tensor."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            where = f"{what}[{i}]" if is_tuple else what
            raise TypeError(f"The {where} given to {fn} must be a Tensor, got {type(t).__name__}")
    return is_tuple, items


def _prepare(inputs: Tuple[Tensor, ...], create_graph: bool) -> Tuple[Tensor, ...]:
    """The inputs as fresh differentiable tensors: graph-keeping views under create_graph, else detached leaves."""
    with enable_grad():
        return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                     for t in inputs)


def _finish(values: Sequence[Optional[Tensor]], like: Sequence[Tensor], create_graph: bool) -> Tuple[Tensor, ...]:
    """Gradients with None replaced by zeros, detached unless create_graph."""
    out: List[Tensor] = []
    for g, t in zip(values, like):
        if g is None:
            g = zeros(*t.shape, dtype=t.dtype, device=t.device)
        out.append(g if create_graph else g.detach())
    return tuple(out)


def _grad(outputs: Sequence[Tensor], inputs: Sequence[Tensor], seeds: Sequence[Optional[Tensor]],
          create_graph: bool, strict: bool, fn: str) -> Tuple[Optional[Tensor], ...]:
    """autograd.grad over the outputs that require grad; with strict, an unused input is an error."""
    pairs = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
    if not pairs:
        if strict:
            raise RuntimeError(f"{fn}: the output of the function does not require grad (strict=True)")
        return tuple(None for _ in inputs)
    grads = grad([o for o, _ in pairs], inputs, [s for _, s in pairs], retain_graph=True,
                 create_graph=create_graph, allow_unused=True)
    if strict:
        for i, g in enumerate(grads):
            if g is None:
                raise RuntimeError(f"{fn}: the output of the function is independent of input {i} (strict=True)")
            if create_graph and not g.requires_grad:
                raise RuntimeError(f"{fn}: the derivative with respect to input {i} does not depend on the inputs, "
                                   "which strict=True refuses when create_graph=True")
    return grads


def _check_scalar(outputs: Tuple[Tensor, ...], fn: str) -> None:
    """Refuses a function whose single output is not a one-element tensor."""
    if len(outputs) != 1 or outputs[0].numel() != 1:
        raise RuntimeError(f"The function given to {fn} should return a single Tensor with a single element")


def _call(func: Callable[..., Any], inputs: Tuple[Tensor, ...], fn: str) -> Tuple[bool, Tuple[Tensor, ...]]:
    """func(*inputs) under grad mode, with its outputs checked."""
    with enable_grad():
        result = func(*inputs)
    return _as_tuple(result, "outputs of the user-provided function", fn)


def _pack(is_tuple: bool, values: Tuple[Any, ...]) -> Any:
    """values as a tuple, or its one item when the caller passed a single tensor."""
    return values if is_tuple else values[0]


def _vectors(v: Any, like: Tuple[Tensor, ...], what: str, fn: str) -> Tuple[Tensor, ...]:
    """The vectors v, one per tensor of `like` with its shape."""
    _, vs = _as_tuple(v, what, fn)
    if len(vs) != len(like):
        raise RuntimeError(f"{fn}: {what} has {len(vs)} tensors but {len(like)} were expected")
    for i, (a, b) in enumerate(zip(vs, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{fn}: entry {i} of {what} has shape {tuple(a.shape)} but shape {tuple(b.shape)} "
                               "was expected")
    return vs


def vjp(func: Callable[..., Any], inputs: Tensors, v: Optional[Tensors] = None, create_graph: bool = False,
        strict: bool = False) -> Tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product of func at inputs."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call(func, ins, "vjp")
    if v is None:
        _check_scalar(outs, "vjp")
        seeds: Tuple[Optional[Tensor], ...] = (None,)
    else:
        seeds = _vectors(v, outs, "v", "vjp")
    grads = _grad(outs, ins, seeds, create_graph, strict, "vjp")
    return (_pack(out_tuple, _finish(outs, outs, create_graph)),
            _pack(in_tuple, _finish(grads, ins, create_graph)))


def jvp(func: Callable[..., Any], inputs: Tensors, v: Optional[Tensors] = None, create_graph: bool = False,
        strict: bool = False) -> Tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by differentiating a vector-Jacobian product again."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
    ins = _prepare(ins, create_graph)
    vs = _input_vectors(v, ins, "jvp")
    out_tuple, outs = _call(func, ins, "jvp")
    # J v = d/du (u^T J) v: u is a dummy cotangent the first pass keeps a graph of
    dummies = tuple(_ones_like(o).requires_grad_(True) for o in outs)
    with enable_grad():
        first = _grad(outs, ins, dummies, True, strict, "jvp")
    second = _weighted_again(first, vs, dummies, create_graph)
    if strict and any(g is None for g in second):
        raise RuntimeError("jvp: the output of the function is independent of its input (strict=True)")
    return (_pack(out_tuple, _finish(outs, outs, create_graph)),
            _pack(out_tuple, _finish(second, outs, create_graph)))


def _input_vectors(v: Optional[Tensors], ins: Tuple[Tensor, ...], fn: str) -> Tuple[Tensor, ...]:
    """The vectors v, one per input; None is allowed for a single one-element input (a vector of one)."""
    if v is not None:
        return _vectors(v, ins, "v", fn)
    if len(ins) != 1 or ins[0].numel() != 1:
        raise RuntimeError(f"{fn}: v can only be None if the input to the user-provided function is a single "
                           "Tensor with a single element")
    return (_ones_like(ins[0]),)


def _weighted_again(first: Sequence[Optional[Tensor]], vs: Sequence[Tensor], wrt: Sequence[Tensor],
                    create_graph: bool) -> Tuple[Optional[Tensor], ...]:
    """The gradient of sum(first[i] . vs[i]) with respect to wrt: a first gradient differentiated again."""
    pairs = [(g, w) for g, w in zip(first, vs) if g is not None and g.requires_grad]
    if not pairs:
        return tuple(None for _ in wrt)
    return grad([g for g, _ in pairs], wrt, [w for _, w in pairs], retain_graph=True, create_graph=create_graph,
                allow_unused=True)


def _ones_like(t: Tensor) -> Tensor:
    """Ones of t's shape, dtype and device."""
    return ones(*t.shape, dtype=t.dtype, device=t.device)


def _jacobian_rows(outs: Tuple[Tensor, ...], ins: Tuple[Tensor, ...], create_graph: bool, strict: bool,
                   fn: str) -> List[List[Tensor]]:
    """J[i][j]: d outs[i] / d ins[j] of shape outs[i].shape + ins[j].shape, one backward pass per output element."""
    table: List[List[Tensor]] = []
    for out in outs:
        flat = out.reshape(-1)
        rows: List[List[Tensor]] = [[] for _ in ins]
        for k in range(flat.numel()):
            if flat.requires_grad:
                grads = _grad([flat[k]], ins, [None], create_graph, strict, fn)
            else:
                if strict:
                    raise RuntimeError(f"{fn}: the output of the function does not require grad (strict=True)")
                grads = tuple(None for _ in ins)
            for j, (g, t) in enumerate(zip(grads, ins)):
                if g is None:
                    g = zeros(*t.shape, dtype=t.dtype, device=t.device)
                rows[j].append(g if create_graph else g.detach())
        entry = []
        for j, t in enumerate(ins):
            if rows[j]:
                block = stack(rows[j], 0)
            else:  # an empty output: a Jacobian with no rows
                block = zeros(0, *t.shape, dtype=t.dtype, device=t.device)
            entry.append(block.reshape(*out.shape, *t.shape))
        table.append(entry)
    return table


def jacobian(func: Callable[..., Any], inputs: Tensors, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of func at inputs: one tensor of shape out.shape + in.shape per (output, input) pair."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f'jacobian: expected strategy to be either "forward-mode" or "reverse-mode", got {strategy!r}')
    in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    ins = _prepare(ins, create_graph)
    out_tuple, outs = _call(func, ins, "jacobian")
    table = _jacobian_rows(outs, ins, create_graph, strict, "jacobian")
    rows = tuple(_pack(in_tuple, tuple(r)) for r in table)
    return _pack(out_tuple, rows)


def hessian(func: Callable[..., Any], inputs: Tensors, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar func at inputs: H[i][j] of shape in_i.shape + in_j.shape."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs: Tensor) -> Tuple[Tensor, ...]:
        _, outs = _call(func, xs, "hessian")
        _check_scalar(outs, "hessian")
        grads = _grad(outs, xs, (None,), True, strict, "hessian")
        return tuple(g if g is not None else zeros(*x.shape, dtype=x.dtype, device=x.device).requires_grad_(True)
                     for g, x in zip(grads, xs))

    result = jacobian(gradient, ins, create_graph=create_graph, strict=strict)
    # jacobian saw a tuple of gradients: unwrap both levels for a single input
    return result if in_tuple else result[0][0]


def vhp(func: Callable[..., Any], inputs: Tensors, v: Optional[Tensors] = None, create_graph: bool = False,
        strict: bool = False) -> Tuple[Tensor, Any]:
    """(func(inputs), v^T H): the vector-Hessian product of a scalar func."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Tensors, v: Optional[Tensors] = None, create_graph: bool = False,
        strict: bool = False) -> Tuple[Tensor, Any]:
    """(func(inputs), H v): the Hessian-vector product of a scalar func (H is symmetric, so it equals v^T H)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func: Callable[..., Any], inputs: Tensors, v: Optional[Tensors], create_graph: bool,
                     strict: bool, fn: str) -> Tuple[Tensor, Any]:
    """(func(inputs), v^T H) by differentiating the gradient's dot product with v."""
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    ins = _prepare(ins, create_graph)
    vs = _input_vectors(v, ins, fn)
    _, outs = _call(func, ins, fn)
    _check_scalar(outs, fn)
    with enable_grad():
        first = _grad(outs, ins, (None,), True, strict, fn)
    second = _weighted_again(first, vs, ins, create_graph)
    if strict and any(g is None for g in second):
        raise RuntimeError(f"{fn}: the gradient of the function is independent of an input (strict=True)")
    return _finish(outs, outs, create_graph)[0], _pack(in_tuple, _finish(second, ins, create_graph))
