"""chaingrad.Tensor: PyTorch's tensor API on the C++ engine (the operators live in C++ slots)."""

from __future__ import annotations

import builtins
import numbers
import operator
import weakref
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Tuple, Union, overload

import numpy as np

from chaingrad import _core, _indexing, return_types
from chaingrad._ops import TensorOps
from chaingrad._sequence_ops import SequenceOps, _numpy_spellings
from chaingrad._tensor_str import format_tensor
from chaingrad._types import (
    _ENGINE_ORDER,
    _KIND,
    Size,
    _device_of,
    _device_spec,
    _numpy_data,
    bfloat16,
    bool_,
    device,
    dtype,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from chaingrad.random import _bernoulli, _generator, _multinomial

__all__ = ["dtype", "Size", "Tensor", "float32", "float64", "int64", "bool_", "device"]

_KDL_CPU, _KDL_CUDA = 1, 2  # DLPack device types

# PyTorch's legacy tensor type names (Tensor.type())
_LEGACY_NAMES = {bool_: "Bool", int64: "Long", float32: "Float", float64: "Double", int32: "Int", int16: "Short",
                 int8: "Char", uint8: "Byte", float16: "Half", bfloat16: "BFloat16"}

# random_()'s exclusive upper bound per dtype: every integer the dtype holds exactly, as PyTorch
_RANDOM_SPAN = {float32: 2**24 + 1, float64: 2**53 + 1, float16: 2**11 + 1, bfloat16: 2**8 + 1, int64: 2**63,
                int32: 2**31, int16: 2**15, int8: 2**7, uint8: 2**8, bool_: 2}


# (builtins.int, .float and .bool in Tensor's annotations: its methods int(), float() and bool() hide them there)
_Dims = Union[None, int, Sequence[int]]


def _dims(dim: _Dims) -> list:
    if dim is None:
        return []
    if isinstance(dim, int):
        return [dim]
    return list(dim)


def _correction(unbiased: bool, correction: Optional[float]) -> float:
    """Bessel's correction for var and std: `correction` when given, else 1 unless unbiased=False."""
    return float(correction) if correction is not None else (1.0 if unbiased else 0.0)


def _shape_args(shape: Tuple[Any, ...]) -> list:
    """(2, 3), ((2, 3),) and ([2, 3],) all mean the shape [2, 3]."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = tuple(shape[0])
    try:  # ints and int-like objects (numpy ints, one-element int tensors), never floats or strings
        return list(map(operator.index, shape))
    except TypeError:
        for s in shape:
            try:
                operator.index(s)
            except TypeError:
                raise TypeError(f"size must be a tuple of ints, but got an element of type {type(s).__name__}"
                                ) from None
        raise


class RemovableHandle:
    """What register_hook returns: remove() takes the hook off again."""

    def __init__(self, tensor: "Tensor", hook_id: int) -> None:
        self._tensor = weakref.ref(tensor)
        self.id = hook_id

    def remove(self) -> None:
        """Removes the hook (nothing happens when it is gone already)."""
        t = self._tensor()
        if t is not None:
            _core.remove_hook(t, self.id)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class Tensor(TensorOps, SequenceOps, _core.TensorBase):
    """An n-d array of float32, float64, int64 or bool with autograd, as torch.Tensor."""

    __slots__ = ()
    # for type checkers: the C base stores it, and it holds a chaingrad Tensor
    grad: Optional["Tensor"]

    def __new__(cls, *data: Any) -> "Tensor":
        """Tensor(data) or Tensor(*sizes): PyTorch's legacy constructor (float32)."""
        if len(data) == 1 and not isinstance(data[0], int):
            if isinstance(data[0], Tensor):
                return data[0].detach().to(dtype=float32, copy=True)
            return _core.from_numpy(_numpy_data(data[0], float32), "always")
        return _core.full(_shape_args(data), 0.0, float32, "cpu")

    # --- printing and conversion ---
    def __repr__(self) -> str:
        return format_tensor(self)

    def __format__(self, spec: str) -> str:
        # as PyTorch: a 0-d tensor formats as its number (f"{loss}" prints 0.0), others only without a spec
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def numpy(self) -> np.ndarray:
        """The data as an ndarray sharing this tensor's memory."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return _core.to_numpy(self)

    def cpu(self) -> "Tensor":
        """This tensor on the CPU (itself when it is there already)."""
        return _core.to_device(self, "cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> "Tensor":
        """This tensor on a CUDA device (cuda:0 by default); RuntimeError naming why when none can be used."""
        spec = _device_spec("cuda" if device is None else device)
        if spec == "cpu":
            raise RuntimeError(f"Invalid device, must be cuda device (got {device!r})")
        return _core.to_device(self, spec)

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        if self.requires_grad:  # a writable view would let numpy change what autograd saved
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        data = _core.to_numpy(self)
        if dtype is not None and np.dtype(dtype) != data.dtype:
            if copy is False:  # numpy 2's protocol: copy=False must not copy
                raise ValueError(f"Unable to avoid copy while creating an array as requested: the tensor is "
                                 f"{self.dtype}, not {np.dtype(dtype)}")
            return data.astype(dtype)
        return data.copy() if copy else data

    def tolist(self) -> Any:
        """The data as (nested) Python numbers (copied to the host first for a cuda tensor)."""
        host = self.cpu()
        if host.dtype is bfloat16:  # numpy has no bfloat16: float32 holds every value exactly
            host = host.float()
        return _core.to_numpy(host).tolist()

    def __iter__(self) -> Iterator["Tensor"]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __dlpack__(self, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Optional[bool] = None) -> Any:
        """A DLPack capsule over this tensor's memory (a copy when copy=True)."""
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            raise BufferError(f"__dlpack__: cannot export a tensor on {self.device} to DLPack device {dl_device}")
        if self.is_cuda and stream == 0:
            raise ValueError("__dlpack__: stream 0 is ambiguous for CUDA; pass 1 for the legacy default stream")
        if self.is_cuda and stream is not None and stream not in (-1, 1):
            # our kernels run on the legacy default stream: the consumer's stream waits for them
            _core.cuda_stream_wait(int(stream), self.device.index or 0)  # a tensor's cuda device has an index
        versioned = max_version is not None and tuple(max_version)[0] >= 1  # the consumer reads DLPack 1.x
        return _core.to_dlpack(self.clone() if copy else self, versioned, bool(copy))

    def __dlpack_device__(self) -> Tuple[int, int]:
        spec = _core.device(self)
        return (_KDL_CPU, 0) if spec == "cpu" else (_KDL_CUDA, int(spec[5:]))

    # --- shape ---
    @overload
    def size(self, dim: None = None) -> Size: ...
    @overload
    def size(self, dim: int) -> int: ...

    def size(self, dim: Optional[int] = None) -> Union[Size, int]:
        """The shape, or the size of one dim."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        """The number of dimensions."""
        return self.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self.shape.numel()

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    def is_floating_point(self) -> builtins.bool:
        """True for float16, bfloat16, float32 and float64 tensors."""
        return self.dtype.is_floating_point

    @property
    def data(self) -> "Tensor":
        """The same data outside the graph; assigning replaces this leaf's data (any shape or dtype)."""
        return self.detach()

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        _core.set_data(self, value)

    @property
    def device(self) -> device:
        """Where this tensor's memory lives."""
        return _device_of(_core.device(self))

    @property
    def is_cuda(self) -> bool:
        """True for a tensor on a CUDA device."""
        return _core.device(self) != "cpu"

    @overload
    def stride(self, dim: None = None) -> Tuple[int, ...]: ...
    @overload
    def stride(self, dim: int) -> int: ...

    def stride(self, dim: Optional[int] = None) -> Union[Tuple[int, ...], int]:
        """Elements to skip per step along each dim."""
        strides = tuple(_core.strides(self))
        return strides if dim is None else strides[dim]

    def storage_offset(self) -> int:
        """Where the first element lies in the storage, in elements."""
        return _core.storage_offset(self)

    def is_contiguous(self) -> bool:
        """True when the elements lie in row-major order without gaps."""
        return _core.is_contiguous(self)

    def view(self, *shape: Any) -> "Tensor":
        """The same data with another shape (no copy; the tensor must be contiguous)."""
        return _core.reshape(self, _shape_args(shape), True)

    def reshape(self, *shape: Any) -> "Tensor":
        """The data with another shape: a view when possible, else a copy."""
        return _core.reshape(self, _shape_args(shape), False)

    def view_as(self, other: "Tensor") -> "Tensor":
        """view(other.shape)."""
        return self.view(other.shape)

    def reshape_as(self, other: "Tensor") -> "Tensor":
        """reshape(other.shape)."""
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """Merges dims start_dim..end_dim into one (the tensor itself when they are one dim, as PyTorch)."""
        return _core.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim: int) -> "Tensor":
        """A new size-1 dim at dim."""
        return _core.unsqueeze(self, dim)

    def squeeze(self, dim: _Dims = None) -> "Tensor":
        """Drops size-1 dims (all, or those in dim)."""
        return _core.squeeze(self, None if dim is None else _dims(dim))

    def permute(self, *dims: Any) -> "Tensor":
        """The dims in a new order."""
        return _core.permute(self, _shape_args(dims))

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        """dim0 and dim1 swapped."""
        return _core.transpose(self, dim0, dim1)

    def t(self) -> "Tensor":
        """The transpose of a matrix (a vector or scalar stays as it is)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self if self.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self) -> "Tensor":
        """All dims reversed."""
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> "Tensor":
        """The last two dims swapped."""
        return self.transpose(-2, -1)

    def expand(self, *sizes: Any) -> "Tensor":
        """A view repeating size-1 dims to sizes (-1 keeps a dim)."""
        return _core.expand(self, _shape_args(sizes))

    def expand_as(self, other: "Tensor") -> "Tensor":
        """expand(other.shape)."""
        return self.expand(other.shape)

    def contiguous(self) -> "Tensor":
        """self if contiguous, else a contiguous copy."""
        return _core.contiguous(self)

    def clone(self) -> "Tensor":
        """A copy that stays in the graph."""
        return _core.clone(self)

    # --- dtype ---
    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """The tensor on another device and/or with another dtype: to(device), to(dtype),
        to(device, dtype), to(other) (other's device and dtype); itself when nothing changes."""
        where, target = _to_arguments(args, kwargs)
        copy = bool(kwargs.get("copy", False))
        out = self if where is None else _core.to_device(self, _device_spec(where))
        if target is not None:
            return _core.to_dtype(out, target, copy and out is self)
        return self.clone() if copy and out is self else out

    def type(self, dtype_: Optional[dtype] = None) -> Union["Tensor", str]:
        """to(dtype_); without one, the legacy type name ('chaingrad.FloatTensor')."""
        if dtype_ is None:
            return f"chaingrad.{_LEGACY_NAMES[self.dtype]}Tensor"
        return self.to(dtype_)

    def int(self) -> "Tensor":
        """to(int32)."""
        return self.to(int32)

    def short(self) -> "Tensor":
        """to(int16)."""
        return self.to(int16)

    def char(self) -> "Tensor":
        """to(int8)."""
        return self.to(int8)

    def byte(self) -> "Tensor":
        """to(uint8)."""
        return self.to(uint8)

    def half(self) -> "Tensor":
        """to(float16)."""
        return self.to(float16)

    def bfloat16(self) -> "Tensor":
        """to(bfloat16)."""
        return self.to(bfloat16)

    def float(self) -> "Tensor":
        """to(float32)."""
        return self.to(float32)

    def double(self) -> "Tensor":
        """to(float64)."""
        return self.to(float64)

    def long(self) -> "Tensor":
        """to(int64)."""
        return self.to(int64)

    def bool(self) -> "Tensor":
        """to(bool)."""
        return self.to(bool_)

    # --- autograd ---
    def backward(self, gradient: Optional["Tensor"] = None, retain_graph: Optional[builtins.bool] = None,
                 create_graph: builtins.bool = False, inputs: Optional[Sequence["Tensor"]] = None) -> None:
        """Accumulates d self / d leaf into the .grad of every leaf that requires grad (or only of inputs).

        With create_graph the pass is recorded, so the gradients can be differentiated again.
        """
        retain = create_graph if retain_graph is None else bool(retain_graph)
        if inputs is None and not create_graph:  # the training-loop case, straight to C++
            _core.backward_tensor(self, gradient, retain)
            return
        from chaingrad.autograd import backward
        backward(self, gradient, retain_graph=retain, create_graph=create_graph, inputs=inputs)

    def register_hook(self, hook: Callable[["Tensor"], Optional["Tensor"]]) -> "RemovableHandle":
        """Runs hook(grad) whenever this tensor's gradient is computed; a tensor it returns replaces the gradient."""
        return RemovableHandle(self, _core.register_hook(self, hook))

    def retain_grad(self) -> None:
        """Makes backward() fill .grad of this non-leaf tensor too (a leaf's .grad is filled anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf:
            return
        ref = weakref.ref(self)  # the hook lives on the graph, which must not own this tensor

        def keep(grad: "Tensor") -> None:
            t = ref()
            if t is not None:  # under create_graph the sum keeps its graph, as PyTorch
                _core.set_grad(t, grad.clone() if t.grad is None else t.grad + grad)

        _core.retain_grad(self, keep)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> "Tensor":
        """Sets requires_grad in place; returns self."""
        self.requires_grad = requires_grad
        return self

    # --- elementwise ---
    def add(self, other: Any, alpha: builtins.float = 1) -> "Tensor":
        """self + alpha * other."""
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other: Any, alpha: builtins.float = 1) -> "Tensor":
        """self - alpha * other."""
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other: Any) -> "Tensor":
        """self * other."""
        return self * other

    def div(self, other: Any) -> "Tensor":
        """self / other."""
        return self / other

    def pow(self, exponent: Any) -> "Tensor":
        """self ** exponent (a number or a tensor, broadcast)."""
        return self ** exponent

    def neg(self) -> "Tensor":
        """-self."""
        return -self












    def clamp(self, min: Optional[builtins.float] = None, max: Optional[builtins.float] = None) -> "Tensor":
        """self limited to [min, max] (a float bound makes an integer tensor float, as PyTorch)."""
        bounds = [b for b in (min, max) if b is not None]
        if not self.dtype.is_floating_point and any(isinstance(b, builtins.float) for b in bounds):
            return _core.clamp(self.to(float32), min, max)
        if self.dtype is bool_ and any(not isinstance(b, builtins.bool) for b in bounds):
            return _core.clamp(self.to(int64), min, max)
        return _core.clamp(self, min, max)

    clip = clamp



    def matmul(self, other: "Tensor") -> "Tensor":
        """self @ other."""
        return _core.matmul(self, other)

    mm = matmul

    def dot(self, other: "Tensor") -> "Tensor":
        """The dot product of two vectors."""
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {other.ndim}D tensors")
        return _core.matmul(self, other)

    def eq(self, other: Any) -> "Tensor":
        """self == other, elementwise."""
        return self == other

    def ne(self, other: Any) -> "Tensor":
        """self != other, elementwise."""
        return self != other

    def lt(self, other: Any) -> "Tensor":
        """self < other, elementwise."""
        return self < other

    def le(self, other: Any) -> "Tensor":
        """self <= other, elementwise."""
        return self <= other

    def gt(self, other: Any) -> "Tensor":
        """self > other, elementwise."""
        return self > other

    def ge(self, other: Any) -> "Tensor":
        """self >= other, elementwise."""
        return self >= other

    # --- in place ---
    def add_(self, other: Any, alpha: builtins.float = 1) -> "Tensor":
        """self += alpha * other; returns self."""
        self += other * alpha if alpha != 1 else other
        return self

    def sub_(self, other: Any, alpha: builtins.float = 1) -> "Tensor":
        """self -= alpha * other; returns self."""
        self -= other * alpha if alpha != 1 else other
        return self

    def mul_(self, other: Any) -> "Tensor":
        """self *= other; returns self."""
        self *= other
        return self

    def div_(self, other: Any) -> "Tensor":
        """self /= other; returns self."""
        self /= other
        return self

    def fill_(self, value: builtins.float) -> "Tensor":
        """Sets every element to value; returns self."""
        if self.dtype is int64 and isinstance(value, numbers.Integral) and not isinstance(value, builtins.bool):
            # exactly: an int64 beyond 2**53 does not survive the float the fill kernel takes
            _core.copy_(self, _scalar_like(value, self))
        else:
            _core.fill_(self, float(value))
        return self

    def copy_(self, src: "Tensor") -> "Tensor":
        """Copies src (broadcast, converted) into self; returns self."""
        _core.copy_(self, src)
        return self

    # --- random fills (PyTorch's CPU stream for the generator's seed) ---------------------------
    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0, *, generator: Any = None) -> "Tensor":
        """Fills with samples of N(mean, std^2); returns self."""
        _core.normal_(self, float(mean), float(std), _generator(generator))
        return self

    def uniform_(self, from_: builtins.float = 0.0, to: builtins.float = 1.0, *, generator: Any = None) -> "Tensor":
        """Fills with samples of U(from_, to); returns self."""
        _core.uniform_(self, float(from_), float(to), _generator(generator))
        return self

    def random_(self, from_: builtins.int = 0, to: Optional[builtins.int] = None, *, generator: Any = None) -> "Tensor":
        """Fills with integers uniform in [from_, to): random_(to) starts at 0, random_() spans
        every integer the dtype holds exactly (as PyTorch); returns self."""
        if to is None:
            if from_ == 0:  # random_(): [0, 2^mantissa] for floats, [0, max] for integers
                to = _RANDOM_SPAN[self.dtype]
            else:
                from_, to = 0, from_
        from_, to = int(from_), int(to)
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        _core.random_(self, from_, to - from_, _generator(generator))
        return self

    def exponential_(self, lambd: builtins.float = 1.0, *, generator: Any = None) -> "Tensor":
        """Fills with samples of the exponential distribution of rate lambd; returns self."""
        _core.exponential_(self, float(lambd), _generator(generator))
        return self

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> "Tensor":
        """Fills with 1 (probability p, a number or a tensor of probabilities) or 0; returns self."""
        if isinstance(p, _core.TensorBase):
            _core.bernoulli_tensor_(self, p, _generator(generator))
        else:
            _core.bernoulli_(self, float(p), _generator(generator))
        return self

    def bernoulli(self, p: Optional[builtins.float] = None, *, generator: Any = None) -> "Tensor":
        """1 with probability self[i] (or p), else 0."""
        return _bernoulli(self, p, generator)

    def multinomial(self, num_samples: builtins.int, replacement: builtins.bool = False, *,
                    generator: Any = None) -> "Tensor":
        """num_samples category indices per row of self's weights."""
        return _multinomial(self, num_samples, replacement, generator)

    def clamp_(self, min: Optional[builtins.float] = None, max: Optional[builtins.float] = None) -> "Tensor":
        """clamp in place; returns self."""
        out = self.clamp(min, max)
        if _KIND[out.dtype] > _KIND[self.dtype]:  # as PyTorch: an in-place result may not widen self
            raise RuntimeError(f"result type {out.dtype.name} can't be cast to the desired output type "
                               f"{self.dtype.name}")
        _core.assign(self, out)
        return self

    # --- reductions ---
    @_numpy_spellings
    def sum(self, dim: _Dims = None, keepdim: builtins.bool = False, *,
            dtype: Optional[dtype] = None) -> "Tensor":
        """Sum over dim (one dim, several, or all when None), in dtype when given."""
        return _core.sum(self if dtype is None else self.to(dtype), _dims(dim), keepdim)

    @_numpy_spellings
    def mean(self, dim: _Dims = None, keepdim: builtins.bool = False, *,
             dtype: Optional[dtype] = None) -> "Tensor":
        """Mean over dim (one dim, several, or all when None), in dtype when given."""
        return _core.mean(self if dtype is None else self.to(dtype), _dims(dim), keepdim)

    @_numpy_spellings
    def max(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """The largest element, or (values, indices) along dim, or the elementwise max with a tensor."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return _core.max_all(self, False)
        return return_types.max(*_core.max_dim(self, dim, keepdim, False))

    @_numpy_spellings
    def min(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """The smallest element, or (values, indices) along dim, or the elementwise min with a tensor."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return _core.max_all(self, True)
        return return_types.min(*_core.max_dim(self, dim, keepdim, True))

    @_numpy_spellings
    def amax(self, dim: _Dims = None, keepdim: builtins.bool = False) -> "Tensor":
        """The largest element over dim (one dim, several, or all when None); ties share the gradient."""
        return _core.amax(self, _dims(dim), keepdim, False)

    @_numpy_spellings
    def amin(self, dim: _Dims = None, keepdim: builtins.bool = False) -> "Tensor":
        """The smallest element over dim (one dim, several, or all when None); ties share the gradient."""
        return _core.amax(self, _dims(dim), keepdim, True)

    @_numpy_spellings
    def argmax(self, dim: Optional[builtins.int] = None, keepdim: builtins.bool = False) -> "Tensor":
        """Index of the largest element (of the flattened tensor when dim is None)."""
        out = _core.argmax(self, dim, keepdim, False)
        return out.reshape([1] * self.ndim) if dim is None and keepdim else out

    @_numpy_spellings
    def argmin(self, dim: Optional[builtins.int] = None, keepdim: builtins.bool = False) -> "Tensor":
        """Index of the smallest element (of the flattened tensor when dim is None)."""
        out = _core.argmax(self, dim, keepdim, True)
        return out.reshape([1] * self.ndim) if dim is None and keepdim else out

    @_numpy_spellings
    def norm(self, p: builtins.float = 2, dim: _Dims = None,
             keepdim: builtins.bool = False) -> "Tensor":
        """The p-norm over dim (all dims when None); p may be inf, -inf or 0 (the count of nonzeros)."""
        p = float(p)
        if p == 0:
            return (self != 0).to(self.dtype).sum(dim, keepdim)
        if p in (float("inf"), float("-inf")):  # ties share the gradient, as PyTorch
            return _core.amax(self.abs(), _dims(dim), keepdim, p < 0)
        return _core.norm(self, p, _dims(dim), keepdim)

    @_numpy_spellings
    def var(self, dim: _Dims = None, unbiased: builtins.bool = True,
            keepdim: builtins.bool = False, *, correction: Optional[builtins.float] = None) -> "Tensor":
        """Variance over dim (one, several, or all when None), with Bessel's correction unless
        unbiased=False, or `correction` subtracted from the count; var(False) means unbiased=False."""
        if isinstance(dim, builtins.bool):  # PyTorch's var(unbiased) overload
            unbiased = dim
            dim = None
        return _core.var(self, _dims(dim), _correction(unbiased, correction), keepdim, False)

    @_numpy_spellings
    def std(self, dim: _Dims = None, unbiased: builtins.bool = True,
            keepdim: builtins.bool = False, *, correction: Optional[builtins.float] = None) -> "Tensor":
        """Standard deviation over dim (one, several, or all when None), with Bessel's correction unless
        unbiased=False, or `correction` subtracted from the count; std(False) means unbiased=False."""
        if isinstance(dim, builtins.bool):  # PyTorch's std(unbiased) overload
            unbiased = dim
            dim = None
        return _core.var(self, _dims(dim), _correction(unbiased, correction), keepdim, True)

    def softmax(self, dim: builtins.int) -> "Tensor":
        """exp(self) / sum(exp(self)) along dim, computed stably."""
        return _core.softmax(self, dim, False)

    def log_softmax(self, dim: builtins.int) -> "Tensor":
        """log(softmax(self)) along dim, computed stably."""
        return _core.softmax(self, dim, True)

    @_numpy_spellings
    def all(self, dim: _Dims = None, keepdim: builtins.bool = False) -> "Tensor":
        """True where every element over dim (all dims when None; none when ()) is nonzero (NaN counts as nonzero)."""
        if dim is not None and not isinstance(dim, int) and len(dim) == 0:  # as PyTorch: no dim reduced
            out = self != 0
        else:
            out = (self == 0).long().sum(dim, keepdim) == 0
        return out.to(uint8) if self.dtype is uint8 else out  # uint8 stays uint8, as PyTorch

    @_numpy_spellings
    def any(self, dim: _Dims = None, keepdim: builtins.bool = False) -> "Tensor":
        """True where some element over dim (all dims when None; none when ()) is nonzero (NaN counts as nonzero)."""
        if dim is not None and not isinstance(dim, int) and len(dim) == 0:  # as PyTorch: no dim reduced
            out = self != 0
        else:
            out = (self != 0).long().sum(dim, keepdim) > 0
        return out.to(uint8) if self.dtype is uint8 else out  # uint8 stays uint8, as PyTorch

    # --- index ops (chaingrad/_indexing.py: one function each for the method and the function) ---
    gather = _indexing.gather
    scatter = _indexing.scatter
    scatter_ = _indexing.scatter_
    scatter_add = _indexing.scatter_add
    scatter_add_ = _indexing.scatter_add_
    index_select = _indexing.index_select
    index_add = _indexing.index_add
    index_add_ = _indexing.index_add_
    index_fill = _indexing.index_fill
    index_fill_ = _indexing.index_fill_
    index_put = _indexing.index_put
    index_put_ = _indexing.index_put_
    masked_fill = _indexing.masked_fill
    masked_fill_ = _indexing.masked_fill_
    masked_select = _indexing.masked_select
    take = _indexing.take
    take_along_dim = _indexing.take_along_dim
    nonzero = _indexing.nonzero
    argwhere = _indexing.argwhere

    def __rpow__(self, base: Any, modulo: None = None) -> "Tensor":
        return _core.pow(_scalar_like(base, self), self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        host = self.cpu()
        if host.dtype is bfloat16:  # numpy has no bfloat16: its bits travel as int16
            bits = _core.to_numpy(_core.reinterpret_dtype(host, int16)).copy()
            return (_rebuild_tensor, (bits, self.requires_grad, _core.device(self), "bfloat16"))
        return (_rebuild_tensor, (_core.to_numpy(host).copy(), self.requires_grad, _core.device(self)))


def _to_arguments(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Any, Optional[dtype]]:
    """The (device, dtype) of to(device), to(dtype), to(device, dtype), to(other) or keywords;
    None where not given."""
    target, where = kwargs.get("dtype"), kwargs.get("device")
    for a in args:
        if isinstance(a, dtype):
            target = a
        elif isinstance(a, Tensor):
            target, where = a.dtype, a.device
        else:
            where = a
    return where, target


def _rebuild_tensor(array: np.ndarray, requires_grad: bool, device: str = "cpu",
                    bits_of: Optional[str] = None) -> Tensor:
    """Unpickles or deep-copies a tensor onto its device (pickles come only from
    chaingrad.load(..., weights_only=False)); bits_of="bfloat16" reads int16 data as bfloat16's bits."""
    t = _core.from_numpy(array, "always")
    if bits_of == "bfloat16" and t.dtype is int16:
        t = _core.reinterpret_dtype(t, bfloat16)
    t = _core.to_device(t, device)
    if requires_grad:
        t.requires_grad = True
    return t


def _scalar_like(value: Any, like: Tensor) -> Tensor:
    """A 0-d CPU tensor of a Python number, in like's dtype when that is floating, else the number's."""
    if like.dtype.is_floating_point:
        dt = like.dtype
    else:
        dt = float32 if isinstance(value, builtins.float) else (bool_ if isinstance(value, builtins.bool) else int64)
    if dt is int64:  # exactly: an int64 beyond 2**53 does not survive a float
        return _core.from_numpy(np.array(int(value), dtype=np.int64), "always")
    return _core.full([], float(value), dt, "cpu")


_core._register_python_types(Tensor, Size, _ENGINE_ORDER)
