"""The index ops (gather, scatter, index_select, masked_fill, nonzero, ...) as PyTorch spells them.

Each is a function here; chaingrad.Tensor takes the same functions as methods, and chaingrad
exports them, so `x.gather(1, i)` and `torch.gather(x, 1, i)` are one code path. The kernels and
gradients live in C++ (cpp/tensor/indexing.cpp).
"""

from __future__ import annotations

import numbers
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from chaingrad import _core

__all__ = [
    "gather",
    "scatter",
    "scatter_add",
    "index_select",
    "index_add",
    "index_fill",
    "index_put",
    "masked_fill",
    "masked_select",
    "take",
    "take_along_dim",
    "nonzero",
    "argwhere",
]

_Tensor = Any  # chaingrad.Tensor, not imported: tensor.py imports this module


def _value_tensor(value: Any) -> _Tensor:
    """value as a 0-d tensor (a tensor value as itself, keeping its graph)."""
    if isinstance(value, _core.TensorBase):
        return value
    if not isinstance(value, numbers.Real):
        raise TypeError(f"expected a number or a Tensor as the value, got {type(value).__name__}")
    # numpy keeps an int exact (a float would round past 2**53); the op converts it to the tensor's dtype
    return _core.from_numpy(np.array(value), "always")


def gather(input: _Tensor, dim: int, index: _Tensor, *, sparse_grad: bool = False) -> _Tensor:
    """out[i][j] = input[index[i][j]][j] (dim 0): the values at index along dim."""
    return _core.gather(input, dim, index)


def scatter(
    input: _Tensor, dim: int, index: _Tensor, src: Any = None, *, value: Any = None, reduce: Optional[str] = None
) -> _Tensor:
    """A copy of input with src (a tensor, or a number) written at index along dim; reduce='add'
    adds instead."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() needs src or value")
    if reduce not in (None, "add"):
        raise NotImplementedError(f"scatter(reduce={reduce!r}) is not supported (only 'add')")
    if reduce == "add":
        if not isinstance(src, _core.TensorBase):
            src = _value_tensor(src).to(input.dtype).expand(*index.shape)
        return _core.scatter(input, dim, index, src, True)
    if isinstance(src, _core.TensorBase):
        return _core.scatter(input, dim, index, src, False)
    return _core.scatter_value(input, dim, index, float(src))


def scatter_add(input: _Tensor, dim: int, index: _Tensor, src: _Tensor) -> _Tensor:
    """A copy of input with src's elements added at index along dim (repeats accumulate)."""
    return _core.scatter(input, dim, index, src, True)


def index_select(input: _Tensor, dim: int, index: _Tensor) -> _Tensor:
    """The slices of input at a 1-d index along dim."""
    return _core.index_select(input, dim, index)


def index_add(input: _Tensor, dim: int, index: _Tensor, source: _Tensor, *, alpha: float = 1) -> _Tensor:
    """A copy of input with alpha * source's slices added at index along dim (repeats accumulate)."""
    return _core.index_add(input, dim, index, source, float(alpha))


def index_fill(input: _Tensor, dim: int, index: _Tensor, value: Any) -> _Tensor:
    """A copy of input with the slices at index along dim set to value."""
    return _core.index_fill(input, dim, index, float(value))


def index_put(
    input: _Tensor, indices: Sequence[Optional[_Tensor]], values: _Tensor, accumulate: bool = False
) -> _Tensor:
    """A copy of input with values put (accumulate: added) where input[indices] looks."""
    return _core.index_put(input, list(indices), values, accumulate)


def masked_fill(input: _Tensor, mask: _Tensor, value: Any) -> _Tensor:
    """input with value (a number or a 0-d tensor) where mask is true."""
    return _core.masked_fill(input, mask, _value_tensor(value), isinstance(value, _core.TensorBase))


def masked_select(input: _Tensor, mask: _Tensor) -> _Tensor:
    """The elements of input where mask (broadcast with it) is true, as a 1-d tensor."""
    return _core.masked_select(input, mask)


def take(input: _Tensor, index: _Tensor) -> _Tensor:
    """input's elements in row-major order at the positions in index, in index's shape."""
    return _core.take(input, index)


def take_along_dim(input: _Tensor, indices: _Tensor, dim: Optional[int] = None) -> _Tensor:
    """The values at indices along dim, input and indices broadcast in the other dims (flattened
    when dim is None)."""
    if dim is None:
        return _core.gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.dim() != indices.dim():
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {input.dim()} dimensions for input, and {indices.dim()} dimensions for indices"
        )
    d = dim + input.dim() if dim < 0 else dim
    sizes = []
    for k, (a, b) in enumerate(zip(input.shape, indices.shape)):
        if k != d and a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {k}"
            )
        sizes.append(max(a, b) if a != 0 and b != 0 else 0)
    in_sizes = [input.shape[k] if k == d else s for k, s in enumerate(sizes)]
    ix_sizes = [indices.shape[k] if k == d else s for k, s in enumerate(sizes)]
    source = input if list(input.shape) == in_sizes else input.expand(*in_sizes)
    index = indices if list(indices.shape) == ix_sizes else indices.expand(*ix_sizes)
    return _core.gather(source, d, index)


def nonzero(input: _Tensor, *, as_tuple: bool = False) -> Union[_Tensor, Tuple[_Tensor, ...]]:
    """The coordinates of the nonzero elements: an int64 (n, ndim) tensor, or with as_tuple one
    1-d tensor per dim."""
    out = _core.nonzero(input)
    if not as_tuple:
        return out
    if input.dim() == 0:
        return (_core.nonzero(input.reshape(1))[:, 0],)
    return tuple(out[:, k] for k in range(input.dim()))


def argwhere(input: _Tensor) -> _Tensor:
    """The coordinates of the nonzero elements, int64 (n, ndim) (nonzero without as_tuple)."""
    return _core.nonzero(input)


# --- in-place forms (Tensor methods) ---


def _assign(self: _Tensor, out: _Tensor) -> _Tensor:
    _core.assign(self, out)
    return self


def scatter_(
    self: _Tensor, dim: int, index: _Tensor, src: Any = None, *, value: Any = None, reduce: Optional[str] = None
) -> _Tensor:
    """scatter in place; returns self."""
    return _assign(self, scatter(self, dim, index, src, value=value, reduce=reduce))


def scatter_add_(self: _Tensor, dim: int, index: _Tensor, src: _Tensor) -> _Tensor:
    """scatter_add in place; returns self."""
    return _assign(self, scatter_add(self, dim, index, src))


def index_add_(self: _Tensor, dim: int, index: _Tensor, source: _Tensor, *, alpha: float = 1) -> _Tensor:
    """index_add in place; returns self."""
    return _assign(self, index_add(self, dim, index, source, alpha=alpha))


def index_fill_(self: _Tensor, dim: int, index: _Tensor, value: Any) -> _Tensor:
    """index_fill in place; returns self."""
    return _assign(self, index_fill(self, dim, index, value))


def index_put_(
    self: _Tensor, indices: Sequence[Optional[_Tensor]], values: _Tensor, accumulate: bool = False
) -> _Tensor:
    """Puts (accumulate: adds) values where self[indices] looks, in place; returns self."""
    _core.index_put_(self, list(indices), values, accumulate)
    return self


def masked_fill_(self: _Tensor, mask: _Tensor, value: Any) -> _Tensor:
    """Sets self to value where mask is true, in place; returns self."""
    _core.masked_fill_(self, mask, _value_tensor(value), isinstance(value, _core.TensorBase))
    return self
