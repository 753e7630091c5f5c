"""PyTorch's ops that split, reorder, scan and count along dims (narrow, split, chunk, unbind, flip,
roll, tril, triu, cumsum, cumprod, sort, argsort, topk, unique, bincount, count_nonzero, histc,
histogram) and the reductions prod, logsumexp, nansum, nanmean and aminmax: `SequenceOps`, a base
class of Tensor, and the same ops as chaingrad.* functions (`functions`).

The views (narrow, split, chunk, unbind) are basic indexing, and flip, roll, tril and triu are
compositions of gather and where, so all of them are differentiable through those ops' gradients;
sort, topk, cumsum and the counting ops are C++ kernels (cpp/tensor/sequence_ops.h).
"""

from __future__ import annotations

import builtins
import functools
import math
import operator
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np

from chaingrad import _core, return_types
from chaingrad._types import dtype, float32, float64, int64

if TYPE_CHECKING:  # Tensor subclasses SequenceOps: the import would be circular at runtime
    from chaingrad.tensor import Tensor

Dims = Union[int, Sequence[int]]
_Reduction = TypeVar("_Reduction", bound=Callable[..., Any])


def _wrap(dim: int, ndim: int) -> int:
    """dim in [-ndim, ndim) as an index in [0, ndim) (a 0-d tensor takes 0 and -1), else IndexError."""
    n = builtins.max(ndim, 1)
    dim = operator.index(dim)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _dim_list(dims: Any, ndim: int) -> List[int]:
    """One dim or several, wrapped, refusing repeats."""
    out = [_wrap(d, ndim) for d in ([dims] if isinstance(dims, int) else dims)]
    for d in out:
        if out.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return out


def _positions(t: Any, dim: int, values: Sequence[int]) -> Any:
    """An int64 index for gather along dim: values along dim, expanded over t's other dims."""
    shape = [1] * t.ndim
    shape[dim] = len(values)
    index = _core.from_numpy(np.asarray(values, dtype=np.int64).reshape(shape), "always")
    index = _core.to_device(index, _core.device(t))
    return _core.expand(index, list(t.shape))


def _numpy_spellings(reduction: _Reduction) -> _Reduction:
    """Lets a reduction take keepdims= and axis= for keepdim= and dim=, as PyTorch does (type checkers
    keep the reduction's own signature, which names only dim= and keepdim=)."""

    @functools.wraps(reduction)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
        return reduction(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _zero_like(t: Any) -> Any:
    return _core.full([], 0.0, t.dtype, "cpu")


class SequenceOps:
    """The split, reorder, scan and count ops as Tensor methods (a base class of Tensor)."""

    __slots__ = ()

    def narrow(self: Any, dim: int, start: int, length: int) -> "Tensor":
        """The view of `length` elements along dim from start (start may be negative)."""
        d = _wrap(dim, self.ndim)
        if self.ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        size = self.shape[d]
        start = operator.index(start) + (size if start < 0 else 0)
        if not 0 <= start <= size or length < 0 or start + length > size:
            raise IndexError(
                f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({size}) "
                f"of dim {d}, or one of them is negative"
            )
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def unbind(self: Any, dim: int = 0) -> Tuple["Tensor", ...]:
        """The slices along dim, each without that dim (views)."""
        if self.ndim == 0:
            raise IndexError("unbind(): a 0-d tensor has no dim to unbind")
        d = _wrap(dim, self.ndim)
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    def split(self: Any, split_size_or_sections: Union[int, Sequence[int]], dim: int = 0) -> Tuple["Tensor", ...]:
        """Views of consecutive pieces along dim: of split_size each (the last may be smaller), or of
        the listed sizes, which must add up to the dim's size."""
        if self.ndim == 0:
            raise RuntimeError("split expects at least a 1-dimensional tensor")
        d = _wrap(dim, self.ndim)
        size = self.shape[d]
        if isinstance(split_size_or_sections, int):
            step = split_size_or_sections
            if step < 0:
                raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
            if step == 0 and size != 0:
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
            sizes = [builtins.min(step, size - s) for s in range(0, size, step)] if size else [0]
        else:
            sizes = [operator.index(s) for s in split_size_or_sections]
            if builtins.any(s < 0 for s in sizes) or builtins.sum(sizes) != size:
                raise RuntimeError(
                    f"split_with_sizes expects split_sizes to sum exactly to {size} (input "
                    f"tensor's size at dimension {d}), but got split_sizes={sizes}"
                )
        out, start = [], 0
        for s in sizes:
            out.append(self.narrow(d, start, s))
            start += s
        return tuple(out)

    def chunk(self: Any, chunks: int, dim: int = 0) -> Tuple["Tensor", ...]:
        """At most `chunks` views along dim, of equal size rounded up (the last may be smaller)."""
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        if self.ndim == 0:
            raise RuntimeError("chunk expects at least a 1-dimensional tensor")
        d = _wrap(dim, self.ndim)
        size = self.shape[d]
        if size == 0:  # as PyTorch: `chunks` empty pieces
            return tuple(self.narrow(d, 0, 0) for _ in range(chunks))
        return self.split(-(-size // chunks), d)

    def flip(self: Any, *dims: Any) -> "Tensor":
        """The elements in reverse order along each of dims (a copy)."""
        dims = dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims
        out = self
        for d in _dim_list(dims, self.ndim):
            if self.ndim and self.shape[d] > 1:
                out = _core.gather(out, d, _positions(self, d, range(self.shape[d] - 1, -1, -1)))
        return _core.clone(out) if out is self else out

    def roll(self: Any, shifts: Dims, dims: Optional[Dims] = None) -> "Tensor":
        """The elements shifted along dims, those pushed off the end coming back at the start; without
        dims the flattened tensor is rolled and the shape restored."""
        shift_list = [shifts] if isinstance(shifts, int) else list(shifts)
        if dims is None:
            if len(shift_list) != 1:
                raise RuntimeError(f"roll: shifts ({len(shift_list)}) must be one number when dims is not given")
            return self.flatten().roll(shift_list[0], 0).reshape(self.shape)
        dim_list = [dims] if isinstance(dims, int) else list(dims)
        if len(shift_list) != len(dim_list):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shift_list)}, dims:{len(dim_list)}")
        out = self
        for s, dim in zip(shift_list, dim_list):
            d = _wrap(dim, self.ndim)
            n = self.shape[d] if self.ndim else 1
            if n and operator.index(s) % n:
                out = _core.gather(out, d, _positions(self, d, [(i - s) % n for i in range(n)]))
        return _core.clone(out) if out is self else out

    def _triangle(self: Any, diagonal: int, lower: bool, name: str) -> Any:
        if self.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        rows, cols = self.shape[-2], self.shape[-1]
        dev = _core.device(self)
        r = _core.reshape(_core.arange(0.0, float(rows), 1.0, int64, dev), [rows, 1], True)
        c = _core.reshape(_core.arange(0.0, float(cols), 1.0, int64, dev), [1, cols], True)
        offset = c - r
        keep = offset <= diagonal if lower else offset >= diagonal
        return _core.where(keep, self, _zero_like(self))

    def tril(self: Any, diagonal: int = 0) -> "Tensor":
        """The lower triangle of the last two dims (on and below the diagonal-th diagonal), zeros above."""
        return self._triangle(diagonal, True, "tril")

    def triu(self: Any, diagonal: int = 0) -> "Tensor":
        """The upper triangle of the last two dims (on and above the diagonal-th diagonal), zeros below."""
        return self._triangle(diagonal, False, "triu")

    def cumsum(self: Any, dim: int, *, dtype: Optional[dtype] = None) -> "Tensor":
        """Running sums along dim (integers and bools sum to int64 unless dtype is given)."""
        return _core.cumsum(self, dim, dtype)

    def cumprod(self: Any, dim: int, *, dtype: Optional[dtype] = None) -> "Tensor":
        """Running products along dim (integers and bools in int64 unless dtype is given);
        differentiable also where elements are 0."""
        return _core.cumprod(self, dim, dtype)

    def sort(self: Any, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
        """(values, indices) in order along dim, NaN above every number; ties keep their order (the
        sort is always stable, as PyTorch's on the CPU, so `stable` changes nothing)."""
        return return_types.sort(*_core.sort(self, dim, descending))

    def argsort(self: Any, dim: int = -1, descending: bool = False, *, stable: bool = False) -> "Tensor":
        """The indices that sort along dim (sort(...).indices)."""
        return _core.sort(self, dim, descending)[1]

    def topk(self: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """(values, indices) of the k largest (smallest) elements along dim, ties broken as PyTorch's."""
        return return_types.topk(*_core.topk(self, operator.index(k), dim, largest, sorted))

    def unique(
        self: Any,
        sorted: bool = True,
        return_inverse: bool = False,
        return_counts: bool = False,
        dim: Optional[int] = None,
    ) -> Any:
        """The distinct elements in ascending order (always sorted, as PyTorch on the CPU), with the
        inverse indices (input's shape) and the counts when asked for."""
        if dim is not None:
            raise NotImplementedError("unique(dim=...) is not supported; unique over the flattened tensor only")
        values, inverse, counts = _core.unique(self)
        extra = ([inverse] if return_inverse else []) + ([counts] if return_counts else [])
        return (values, *extra) if extra else values

    def bincount(self: Any, weights: Any = None, minlength: int = 0) -> "Tensor":
        """How often each value 0..max occurs in this non-negative int64 vector (or the summed weights)."""
        return _core.bincount(self, weights, operator.index(minlength))

    def histc(self: Any, bins: int = 100, min: float = 0, max: float = 0) -> "Tensor":
        """Counts in `bins` equal bins over [min, max] (the data's range when both are 0); values
        outside are ignored."""
        if not self.dtype.is_floating_point:
            raise RuntimeError(f'"histogram_cpu" not implemented for {self.dtype.name!r}')
        if bins <= 0:
            raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
        lo, hi = float(min), float(max)
        if lo == hi and self.numel() > 0:
            lo, hi = self.detach().min().item(), self.detach().max().item()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if lo > hi:
            raise RuntimeError(f"torch.histc: max must be larger than min, got min {lo} and max {hi}")
        edges = _core.linspace(lo, hi, bins + 1, self.dtype, _core.device(self))
        # the bins are found between the outer edges, as PyTorch's histc finds them
        return _core.histogram(self.detach(), edges, None, "linear")

    def histogram(
        self: Any,
        bins: Any = 100,
        *,
        range: Optional[Sequence[float]] = None,
        weight: Any = None,
        density: bool = False,
    ) -> Any:
        """(hist, bin_edges): counts (or summed weights) of the elements in `bins` equal bins over range
        (the data's range by default) or between the given edges; density=True divides by the total
        and the bin widths."""
        x = self.detach()
        if not x.dtype.is_floating_point or (
            range is None and isinstance(bins, int) and x.dtype not in (float32, float64)
        ):
            # as PyTorch, which has no kernel for these (nor finds float16's range itself)
            raise NotImplementedError(f'"histogramdd" not implemented for {x.dtype.name!r}')
        if not isinstance(bins, int):
            edges = bins.detach()
            hist = _core.histogram(x, edges, weight, "binary")
        else:
            if bins <= 0:
                raise RuntimeError(f"histogram(): bins must be > 0, but got {bins} for dimension 0")
            if range is not None:
                lo, hi = float(range[0]), float(range[1])
            elif x.numel() > 0:
                lo, hi = x.min().item(), x.max().item()
            else:
                lo, hi = 0.0, 0.0
            if lo > hi:
                raise ValueError(f"histogram(): range min ({lo}) must not be larger than max ({hi})")
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            edges = _core.linspace(lo, hi, bins + 1, x.dtype, _core.device(x))
            hist = _core.histogram(x, edges, None if weight is None else weight.detach(), "linear_checked")
        if density:
            widths = edges[1:] - edges[:-1]
            hist = hist / (hist.sum() * widths)
        return return_types.histogram(hist, edges)

    @_numpy_spellings
    def prod(self: Any, dim: Optional[int] = None, keepdim: bool = False, *, dtype: Optional[dtype] = None) -> "Tensor":
        """The product over dim (all elements when None), integers and bools in int64; differentiable
        also where elements are 0 (products of halves, not a division)."""
        x = self if dtype is None else self.to(dtype)
        if not x.dtype.is_floating_point:
            x = x.to(int64)
        if dim is None:
            if keepdim:
                raise TypeError("prod(): keepdim=True needs a dim, as in PyTorch")
            return _product(x.reshape(-1), 0).reshape([])
        d = _wrap(dim, x.ndim)
        if x.ndim == 0:
            return _core.clone(x)
        out = _product(x, d)
        return out if keepdim else out.squeeze(d)

    @_numpy_spellings
    def logsumexp(self: Any, dim: Dims, keepdim: bool = False) -> "Tensor":
        """log(sum(exp(self))) over dim, computed stably (shifted by the max, which gets no gradient)."""
        x = self if self.dtype.is_floating_point else self.to(float32)
        dims = _dim_list(dim, x.ndim) if x.ndim else []
        if x.numel() == 0:
            return x.exp().sum(dims, keepdim).log()
        shift = x.detach().amax(dims, True)
        shift = _core.where(shift.abs() == float("inf"), _zero_like(shift), shift)
        out = (x - shift).exp().sum(dims, True).log() + shift
        return out if keepdim or not dims else out.squeeze(dims)

    @_numpy_spellings
    def nansum(
        self: Any, dim: Optional[Dims] = None, keepdim: bool = False, *, dtype: Optional[dtype] = None
    ) -> "Tensor":
        """The sum over dim (all dims when None) with NaN counted as 0 (they get no gradient)."""
        x = self if dtype is None else self.to(dtype)
        if x.dtype.is_floating_point:
            x = _core.where(x != x, _zero_like(x), x)
        return x.sum(dim, keepdim)

    @_numpy_spellings
    def nanmean(
        self: Any, dim: Optional[Dims] = None, keepdim: bool = False, *, dtype: Optional[dtype] = None
    ) -> "Tensor":
        """The mean over dim (all dims when None) of the elements that are not NaN."""
        x = self if dtype is None else self.to(dtype)
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got {x.dtype.name}")
        return x.nansum(dim, keepdim) / (x == x).sum(dim, keepdim)

    def aminmax(self: Any, *, dim: Optional[int] = None, keepdim: bool = False) -> Any:
        """(min, max): amin and amax over dim (all dims when None)."""
        if self.numel() == 0 or (dim is not None and self.ndim and self.shape[_wrap(dim, self.ndim)] == 0):
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
            )
        return return_types.aminmax(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def count_nonzero(self: Any, dim: Optional[Dims] = None) -> "Tensor":
        """How many elements over dim (all dims when None) are not zero, as int64."""
        return (self != 0).sum(dim)


def _product(x: Any, d: int) -> Any:
    """The product along d, keeping d with size 1: pairs of halves multiplied until one slice is left."""
    n = x.shape[d]
    if n == 0:  # the empty product, 1, still in the graph (its gradient is empty)
        return x.sum(d, True) + 1
    while n > 1:
        half = n // 2
        product = x.narrow(d, 0, half) * x.narrow(d, half, half)
        x = _core.cat([product, x.narrow(d, 2 * half, 1)], d) if n % 2 else product
        n = x.shape[d]
    return x


def _function(name: str) -> Callable[..., Any]:
    method = getattr(SequenceOps, name)

    @functools.wraps(method)
    def fn(input: Any, *args: Any, **kwargs: Any) -> Any:
        return method(input, *args, **kwargs)

    fn.__module__ = "chaingrad.functional"
    return fn


functions: Dict[str, Callable[..., Any]] = {
    name: _function(name)
    for name in (
        "narrow",
        "unbind",
        "split",
        "chunk",
        "flip",
        "roll",
        "tril",
        "triu",
        "cumsum",
        "cumprod",
        "sort",
        "argsort",
        "topk",
        "unique",
        "bincount",
        "histc",
        "histogram",
        "prod",
        "logsumexp",
        "nansum",
        "nanmean",
        "aminmax",
        "count_nonzero",
    )
}
