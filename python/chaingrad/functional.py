"""PyTorch's top-level tensor functions (chaingrad.tensor, zeros, cat, ...), exported by chaingrad.

Several names here (sum, max, min, abs, all, any) shadow Python builtins on purpose, as in
PyTorch's namespace; this module uses the builtins through `builtins.`.
"""

from __future__ import annotations

import builtins
import numbers
from typing import TYPE_CHECKING, Any, Optional, Sequence, Tuple, Union

import numpy as np

from chaingrad import _core
from chaingrad._indexing import *  # noqa: F401,F403  the index ops (gather, scatter, nonzero, ...)
from chaingrad._indexing import __all__ as _indexing_all
from chaingrad._indexing import nonzero
from chaingrad._ops import *  # noqa: F401,F403  the op table's functions (exp, log1p, atan2, ...)
from chaingrad._ops import cos, exp, log, maximum, minimum, relu, sigmoid, sin, sqrt, square, tanh  # named in __all__
from chaingrad._sequence_ops import _numpy_spellings
from chaingrad._sequence_ops import functions as _sequence_functions
from chaingrad._types import (
    _BY_NUMPY,
    _KIND,
    _device_spec,
    _needs_cast,
    _numpy_data,
    bool_,
    dtype,
    float32,
    float64,
    int64,
)
from chaingrad.random import Generator, _bernoulli, _generator, _multinomial, manual_seed
from chaingrad.tensor import Tensor, _scalar_like, _shape_args

__all__ = [
    "tensor", "as_tensor", "from_numpy", "from_dlpack", "is_tensor", "numel",
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like",
    "rand_like", "randn_like", "randint_like", "arange", "linspace", "randn", "rand", "randint",
    "randperm", "multinomial", "bernoulli", "normal", "manual_seed",
    "cat", "concat", "stack", "where", "maximum", "minimum", "matmul", "mm", "sum", "mean", "max",
    "min", "argmax", "argmin", "abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "clamp",
    "norm", "var", "softmax", "log_softmax", "pow", "square", "flatten", "reshape", "unsqueeze",
    "squeeze", "permute", "transpose", "get_default_dtype", "promote_types", "result_type", "can_cast",
    # reductions and comparisons of whole tensors
    "std", "var_mean", "std_mean", "all", "any", "isclose", "allclose", "equal",
] + _indexing_all
# split, reorder, scan and count ops, and prod and logsumexp (chaingrad._sequence_ops)
globals().update(_sequence_functions)
__all__ += sorted(_sequence_functions)
if TYPE_CHECKING:  # the same functions spelled out for type checkers, with their methods' signatures
    from chaingrad._sequence_ops import SequenceOps as _SequenceOps

    narrow = _SequenceOps.narrow
    unbind = _SequenceOps.unbind
    split = _SequenceOps.split
    chunk = _SequenceOps.chunk
    flip = _SequenceOps.flip
    roll = _SequenceOps.roll
    tril = _SequenceOps.tril
    triu = _SequenceOps.triu
    cumsum = _SequenceOps.cumsum
    cumprod = _SequenceOps.cumprod
    sort = _SequenceOps.sort
    argsort = _SequenceOps.argsort
    topk = _SequenceOps.topk
    unique = _SequenceOps.unique
    bincount = _SequenceOps.bincount
    histc = _SequenceOps.histc
    histogram = _SequenceOps.histogram
    prod = _SequenceOps.prod
    logsumexp = _SequenceOps.logsumexp
    nansum = _SequenceOps.nansum
    nanmean = _SequenceOps.nanmean
    aminmax = _SequenceOps.aminmax
    count_nonzero = _SequenceOps.count_nonzero

Shape = Union[int, Sequence[int]]


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats: float32."""
    return float32


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The dtype tensors of type1 and type2 promote to in a binary op (torch.promote_types)."""
    return _core.promote_types(type1, type2)


def result_type(tensor1: Any, tensor2: Any) -> dtype:
    """The dtype a binary op between tensor1 and tensor2 (a tensor and a tensor or number) gives:
    PyTorch's rule, where 0-d tensors and numbers decide only when of a higher category."""
    return _core.result_type(tensor1, tensor2)


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether PyTorch's casting rule lets an op write a from_ result into a to tensor: never to a
    lower category (floating to integer, integer to bool)."""
    return _KIND[from_] <= _KIND[to]


def tensor(data: Any, dtype: Optional[dtype] = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of data (numbers, nested lists, an ndarray or a tensor), on
    `device` (for a tensor: on its own device unless given)."""
    if isinstance(data, Tensor):  # a copy made on the device, not through the host
        out = data.detach().to(device=data.device if device is None else device, dtype=dtype, copy=True)
    else:
        out = _core.from_numpy(_numpy_data(data, dtype), "always")
        if _needs_cast(dtype):
            out = _core.to_dtype(out, dtype, False)
        out = _core.to_device(out, _device_spec(device))
    if requires_grad:
        out.requires_grad = True
    return out


def as_tensor(data: Any, dtype: Optional[dtype] = None, device: Any = None) -> Tensor:
    """data as a tensor, sharing memory when it already is one (or a matching ndarray on the CPU)."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and data.dtype in _BY_NUMPY and (dtype is None or _BY_NUMPY[data.dtype] is dtype) \
            and _device_spec(device) == "cpu":
        return _core.from_numpy(data, "if_needed")
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing the array's memory (a copy for read-only arrays and for bool arrays holding
    bytes other than 0 and 1); ValueError for arrays that cannot be shared (non-native byte order,
    data not aligned to its elements), which chaingrad.tensor copies."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return _core.from_numpy(array, "never")


def from_dlpack(obj: Any) -> Tensor:
    """A tensor sharing the memory of an object that speaks DLPack (numpy, PyTorch, CuPy, a chaingrad
    tensor, ...), on the CPU or a CUDA device, or of a DLPack capsule (read-only memory is copied)."""
    if type(obj).__name__ == "PyCapsule":
        return _core.from_dlpack(obj)
    if isinstance(obj, Tensor):  # our own memory: share it, as PyTorch does with its tensors
        return obj.detach()
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(obj).__name__} does not support the DLPack protocol")
    kind, _ = obj.__dlpack_device__()
    # CUDA: our kernels run on the legacy default stream (1), which the producer syncs to
    stream = 1 if kind == 2 else None
    try:
        capsule = obj.__dlpack__(stream=stream, max_version=(1, 0))
    except TypeError:  # a producer from before DLPack 1.0 takes no max_version
        capsule = obj.__dlpack__(stream=stream)
    return _core.from_dlpack(capsule)


def is_tensor(obj: Any) -> bool:
    """True for a chaingrad Tensor."""
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    """The number of elements of t."""
    return t.numel()


def _factory(shape: Sequence[Any], value: float, dt: Optional[dtype], requires_grad: bool,
             dev: Any = None) -> Tensor:
    out = _core.full(_shape_args(tuple(shape)), value, dt or float32, _device_spec(dev))
    if requires_grad:
        out.requires_grad = True
    return out


def zeros(*size: Any, dtype: Optional[dtype] = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return _factory(size, 0.0, dtype, requires_grad, device)


def ones(*size: Any, dtype: Optional[dtype] = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _factory(size, 1.0, dtype, requires_grad, device)


def empty(*size: Any, dtype: Optional[dtype] = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor with unspecified contents (zeros here)."""
    return _factory(size, 0.0, dtype, requires_grad, device)


def full(size: Shape, fill_value: Union[int, builtins.float, builtins.bool], *,
         dtype: Optional[dtype] = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with fill_value (its dtype follows fill_value when not given)."""
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, builtins.bool) else \
            int64 if isinstance(fill_value, numbers.Integral) else float32
    shape = [size] if isinstance(size, int) else list(size)
    if dtype is int64 and isinstance(fill_value, numbers.Integral):  # exactly, past 2**53 too
        return _factory(shape, 0.0, dtype, requires_grad, device).fill_(fill_value)
    return _factory(shape, float(fill_value), dtype, requires_grad, device)


def _like(t: Tensor, dt: Optional[dtype]) -> dtype:
    return dt or t.dtype


def zeros_like(t: Tensor, dtype: Optional[dtype] = None, requires_grad: bool = False,
               device: Any = None) -> Tensor:
    """zeros with t's shape (and dtype and device)."""
    return _factory(t.shape, 0.0, _like(t, dtype), requires_grad, device or t.device)


def ones_like(t: Tensor, dtype: Optional[dtype] = None, requires_grad: bool = False,
              device: Any = None) -> Tensor:
    """ones with t's shape (and dtype and device)."""
    return _factory(t.shape, 1.0, _like(t, dtype), requires_grad, device or t.device)


def empty_like(t: Tensor, dtype: Optional[dtype] = None, requires_grad: bool = False,
               device: Any = None) -> Tensor:
    """empty with t's shape (and dtype and device)."""
    return _factory(t.shape, 0.0, _like(t, dtype), requires_grad, device or t.device)


def full_like(t: Tensor, fill_value: builtins.float, dtype: Optional[dtype] = None,
              requires_grad: bool = False, device: Any = None) -> Tensor:
    """full with t's shape (and dtype and device)."""
    return _factory(t.shape, float(fill_value), _like(t, dtype), requires_grad, device or t.device)


def rand_like(t: Tensor, dtype: Optional[dtype] = None, device: Any = None, *,
              generator: Optional[Generator] = None, requires_grad: bool = False) -> Tensor:
    """rand with t's shape (and dtype and device)."""
    return rand(*t.shape, dtype=_like(t, dtype), device=device or t.device, generator=generator,
                requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Optional[dtype] = None, device: Any = None, *,
               generator: Optional[Generator] = None, requires_grad: bool = False) -> Tensor:
    """randn with t's shape (and dtype and device)."""
    return randn(*t.shape, dtype=_like(t, dtype), device=device or t.device, generator=generator,
                 requires_grad=requires_grad)


def randint_like(t: Tensor, low: int, high: Optional[int] = None, *, dtype: Optional[dtype] = None,
                 device: Any = None, generator: Optional[Generator] = None) -> Tensor:
    """randint with t's shape (and dtype and device)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(t.shape), dtype=_like(t, dtype), device=device or t.device,
                   generator=generator)


def arange(start: builtins.float, end: Optional[builtins.float] = None, step: builtins.float = 1, *,
           dtype: Optional[dtype] = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """start, start+step, ... below end (int64 when all arguments are ints)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = builtins.all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = int64 if ints else float32
    out = _core.arange(float(start), float(end), float(step), dtype, _device_spec(device))
    if requires_grad:
        out.requires_grad = True
    return out


def linspace(start: builtins.float, end: builtins.float, steps: int, *, dtype: Optional[dtype] = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """steps evenly spaced values from start to end inclusive."""
    out = _core.linspace(float(start), float(end), int(steps), dtype or float32, _device_spec(device))
    if requires_grad:
        out.requires_grad = True
    return out


def _random_factory(fn: Any, size: Any, dtype: Optional[dtype], device: Any, generator: Optional[Generator],
                    requires_grad: bool) -> Tensor:
    if dtype is not None and not dtype.is_floating_point:
        raise TypeError(f"{fn.__name__}: expected a floating point dtype, got {dtype}")
    out = fn(_shape_args(size), dtype or float32, _device_spec(device), _generator(generator))
    if requires_grad:
        out.requires_grad = True
    return out


def randn(*size: Any, generator: Optional[Generator] = None, dtype: Optional[dtype] = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal distribution (PyTorch's stream for the generator's seed)."""
    return _random_factory(_core.randn, size, dtype, device, generator, requires_grad)


def rand(*size: Any, generator: Optional[Generator] = None, dtype: Optional[dtype] = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Samples of the uniform distribution on [0, 1) (PyTorch's stream for the generator's seed)."""
    return _random_factory(_core.rand, size, dtype, device, generator, requires_grad)


def randint(low: Any = None, high: Any = None, size: Any = None, *, generator: Optional[Generator] = None,
            dtype: Optional[dtype] = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high): randint(high, size) or randint(low, high, size)."""
    if size is None and low is not None:  # randint(high, size)
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if size is None or high is None:
        raise TypeError("randint() needs high and size: randint(high, size) or randint(low, high, size)")
    if low is None:
        low = 0
    if isinstance(size, numbers.Integral):
        raise TypeError(f"randint(): size must be a tuple of ints, not int ({size})")
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, builtins.bool) or not isinstance(v, numbers.Integral):
            if not (isinstance(v, builtins.float) and v.is_integer()):
                raise TypeError(f"randint(): {name} must be an int, got {v!r}")
    if not (-(2**63) <= int(low) and int(high) <= 2**63 - 1):
        raise RuntimeError(f"randint(): low and high must be int64 values, got low={int(low)}, high={int(high)}")
    if int(low) >= int(high):
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={int(low)} >= to={int(high)}")
    out = _core.randint(int(low), int(high), _shape_args(tuple(size)), dtype or int64, _device_spec(device),
                        _generator(generator))
    if requires_grad:
        out.requires_grad = True
    return out


def randperm(n: int, *, generator: Optional[Generator] = None, dtype: Optional[dtype] = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (PyTorch's shuffle for the generator's seed)."""
    if isinstance(n, builtins.bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"randperm(): n must be an int, got {type(n).__name__}")
    out = _core.randperm(int(n), dtype or int64, _device_spec(device), _generator(generator))
    if requires_grad:
        out.requires_grad = True
    return out


def multinomial(input: Tensor, num_samples: int, replacement: builtins.bool = False, *,
                generator: Optional[Generator] = None) -> Tensor:
    """num_samples category indices per row of input (1-D or 2-D non-negative weights)."""
    return _multinomial(input, num_samples, replacement, generator)


def bernoulli(input: Tensor, p: Optional[builtins.float] = None, *,
              generator: Optional[Generator] = None) -> Tensor:
    """1 with probability input[i] (or p), else 0, in input's dtype."""
    return _bernoulli(input, p, generator)


def normal(mean: builtins.float, std: builtins.float = 1.0, size: Any = None, *,
           generator: Optional[Generator] = None, dtype: Optional[dtype] = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2) of the given size (float mean and std)."""
    if size is None or isinstance(mean, Tensor) or isinstance(std, Tensor):
        raise TypeError("normal(): chaingrad supports normal(mean: float, std: float, size) only")
    out = empty(size, dtype=dtype or float32, device=device)
    _core.normal_(out, builtins.float(mean), builtins.float(std), _generator(generator))
    if requires_grad:
        out.requires_grad = True
    return out


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dim."""
    return _core.cat(list(tensors), dim)


concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along a new dim."""
    return _core.stack(list(tensors), dim)


def _as(t: Any, like: Tensor) -> Tensor:
    return t if isinstance(t, Tensor) else _scalar_like(t, like)


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """input where condition holds, else other (broadcast); where(condition) alone is
    nonzero(condition, as_tuple=True)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if isinstance(input, Tensor):
        return _core.where(condition, input, _as(other, input))
    if isinstance(other, Tensor):
        return _core.where(condition, _as(input, other), other)
    return _core.where(condition, tensor(input), tensor(other))




def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product (batched and broadcast as in PyTorch)."""
    return _core.matmul(input, other)


mm = matmul


@_numpy_spellings
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Optional[dtype] = None) -> Tensor:
    """input.sum(dim, keepdim, dtype=dtype)."""
    return input.sum(dim, keepdim, dtype=dtype)


@_numpy_spellings
def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Optional[dtype] = None) -> Tensor:
    """input.mean(dim, keepdim, dtype=dtype)."""
    return input.mean(dim, keepdim, dtype=dtype)


@_numpy_spellings
def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """input.max(dim, keepdim)."""
    return input.max(dim, keepdim)


@_numpy_spellings
def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """input.min(dim, keepdim)."""
    return input.min(dim, keepdim)


@_numpy_spellings
def amax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """input.amax(dim, keepdim)."""
    return input.amax(dim, keepdim)


@_numpy_spellings
def amin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """input.amin(dim, keepdim)."""
    return input.amin(dim, keepdim)


@_numpy_spellings
def argmax(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """input.argmax(dim, keepdim)."""
    return input.argmax(dim, keepdim)


@_numpy_spellings
def argmin(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """input.argmin(dim, keepdim)."""
    return input.argmin(dim, keepdim)












def clamp(input: Tensor, min: Optional[builtins.float] = None,
          max: Optional[builtins.float] = None) -> Tensor:
    """input limited to [min, max]."""
    return input.clamp(min, max)


@_numpy_spellings
def norm(input: Tensor, p: builtins.float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm."""
    return input.norm(p, dim, keepdim)


def var(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Variance: input.var(dim, unbiased, keepdim, correction=...)."""
    return input.var(*args, **kwargs)


def std(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Standard deviation: input.std(dim, unbiased, keepdim, correction=...)."""
    return input.std(*args, **kwargs)


def var_mean(input: Tensor, *args: Any, **kwargs: Any) -> Tuple[Tensor, Tensor]:
    """(input.var(...), input.mean(...)) over the same dims."""
    return input.var(*args, **kwargs), _mean_as_var(input, *args, **kwargs)


def std_mean(input: Tensor, *args: Any, **kwargs: Any) -> Tuple[Tensor, Tensor]:
    """(input.std(...), input.mean(...)) over the same dims."""
    return input.std(*args, **kwargs), _mean_as_var(input, *args, **kwargs)


@_numpy_spellings
def _mean_as_var(input: Tensor, dim: Any = None, unbiased: Any = True, keepdim: bool = False,
                 *, correction: Any = None) -> Tensor:
    """The mean over the dims that var(dim, unbiased, keepdim) reduces."""
    return input.mean(None if isinstance(dim, builtins.bool) else dim, keepdim)


@_numpy_spellings
def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """input.all(dim, keepdim): True where every element is nonzero."""
    return input.all(dim, keepdim)


@_numpy_spellings
def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """input.any(dim, keepdim): True where some element is nonzero."""
    return input.any(dim, keepdim)


def isclose(input: Tensor, other: Tensor, rtol: builtins.float = 1e-05, atol: builtins.float = 1e-08,
            equal_nan: builtins.bool = False) -> Tensor:
    """Where |input - other| <= atol + rtol * |other| (or they are equal, infinities included; or both
    NaN with equal_nan), elementwise with broadcasting; the dtypes must match, as PyTorch."""
    if input.dtype is not other.dtype:
        raise RuntimeError(f"isclose(): {input.dtype} did not match {other.dtype}")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose(): rtol ({rtol}) and atol ({atol}) must be non-negative")
    a, b = input.detach(), other.detach()
    close = a == b
    if a.dtype is bool_:
        return close
    if equal_nan:  # or both NaN
        close = _core.where(close, close, _core.where(a != a, b != b, close))
    actual = (a - b).abs().to(float64)
    # infinities are close only to themselves (their difference is not finite)
    within = _core.where(actual != float("inf"), actual <= atol + rtol * b.abs().to(float64), close)
    return _core.where(close, close, within)


def allclose(input: Tensor, other: Tensor, rtol: builtins.float = 1e-05, atol: builtins.float = 1e-08,
             equal_nan: builtins.bool = False) -> builtins.bool:
    """True when isclose holds everywhere."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def equal(input: Tensor, other: Tensor) -> builtins.bool:
    """True when both have the same shape and the same elements (NaN equals nothing)."""
    return input.shape == other.shape and builtins.bool((input == other).all().item())


def softmax(input: Tensor, dim: int) -> Tensor:
    """Softmax along dim."""
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """Log-softmax along dim."""
    return input.log_softmax(dim)


def pow(input: Any, exponent: Any) -> Tensor:
    """input ** exponent."""
    return input ** exponent


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """input.flatten(start_dim, end_dim)."""
    return input.flatten(start_dim, end_dim)


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    """input.reshape(shape)."""
    return input.reshape(shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """input.unsqueeze(dim)."""
    return input.unsqueeze(dim)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """input.squeeze(dim)."""
    return input.squeeze(dim)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    """input.permute(dims)."""
    return input.permute(*dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """input.transpose(dim0, dim1)."""
    return input.transpose(dim0, dim1)

