"""chaingrad's element types (dtype), devices (device) and shapes (Size): the vocabulary every
other module of the Python layer shares, with no import of the tensor or its functions."""

from __future__ import annotations

import builtins
from typing import Any, Optional, Union

import numpy as np

__all__ = ["dtype", "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool_",
           "device", "Size", "finfo", "iinfo"]


class dtype:
    """An element type (chaingrad.float32, float64, float16, bfloat16, int64, int32, int16, int8,
    uint8, bool)."""

    __slots__ = ("name", "itemsize", "is_floating_point", "is_signed", "numpy", "_attr")

    def __init__(self, name: str, itemsize: int, is_floating_point: bool, numpy_type: Optional[str],
                 attr: Optional[str] = None) -> None:
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.is_signed = name not in ("bool", "uint8")
        # the numpy type of the data; bfloat16 has none and travels through numpy as float32
        self.numpy = np.dtype(numpy_type if numpy_type is not None else "float32")
        self._attr = attr or name

    @property
    def is_complex(self) -> bool:
        """False: chaingrad has no complex dtypes."""
        return False

    def to_real(self) -> "dtype":
        """The dtype itself (every chaingrad dtype is real)."""
        return self

    def __repr__(self) -> str:
        return f"chaingrad.{self.name}"

    def __reduce__(self) -> str:
        return self._attr


# In the engine's order (cpp/tensor/tensor.h, DType): the C++ side indexes dtypes by position.
bool_ = dtype("bool", 1, False, "bool", "bool_")
int64 = dtype("int64", 8, False, "int64")
float32 = dtype("float32", 4, True, "float32")
float64 = dtype("float64", 8, True, "float64")
int32 = dtype("int32", 4, False, "int32")
int16 = dtype("int16", 2, False, "int16")
int8 = dtype("int8", 1, False, "int8")
uint8 = dtype("uint8", 1, False, "uint8")
float16 = dtype("float16", 2, True, "float16")
bfloat16 = dtype("bfloat16", 2, True, None)
_ENGINE_ORDER = (bool_, int64, float32, float64, int32, int16, int8, uint8, float16, bfloat16)
_BY_NUMPY = {d.numpy: d for d in _ENGINE_ORDER if d is not bfloat16}
_BY_NAME = {d.name: d for d in _ENGINE_ORDER}
_KIND = {d: 2 if d.is_floating_point else 0 if d is bool_ else 1 for d in _ENGINE_ORDER}  # PyTorch's categories


class finfo:
    """Machine limits of a floating dtype (torch.finfo): bits, eps, max, min, tiny, resolution."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    # bits, eps, max, smallest normal, resolution (10**-digits)
    _TABLE = {
        "float16": (16, 2.0**-10, 65504.0, 2.0**-14, 0.001),
        "bfloat16": (16, 2.0**-7, float.fromhex("0x1.fep127"), 2.0**-126, 0.01),
        "float32": (32, 2.0**-23, float.fromhex("0x1.fffffep127"), 2.0**-126, 1e-06),
        "float64": (64, 2.0**-52, float.fromhex("0x1.fffffffffffffp1023"), 2.0**-1022, 1e-15),
    }

    def __init__(self, type: Optional[dtype] = None) -> None:
        d = float32 if type is None else type
        if not isinstance(d, dtype) or not d.is_floating_point:
            raise TypeError(f"finfo(): expected a floating point dtype, got {d!r}")
        self.bits, self.eps, self.max, self.tiny, self.resolution = self._TABLE[d.name]
        self.min = -self.max
        self.smallest_normal = self.tiny
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min:.6g}, max={self.max:.6g}, eps={self.eps:.6g}, "
                f"smallest_normal={self.smallest_normal:.6g}, tiny={self.tiny:.6g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (torch.iinfo): bits, min, max."""

    __slots__ = ("bits", "min", "max", "dtype")

    def __init__(self, type: dtype) -> None:
        if not isinstance(type, dtype) or type.is_floating_point:
            raise TypeError(f"iinfo(): expected an integer dtype, got {type!r}")
        if type is bool_:
            raise TypeError("chaingrad.bool is not supported by iinfo")
        info = np.iinfo(type.numpy)
        self.bits, self.min, self.max = info.bits, builtins.int(info.min), builtins.int(info.max)
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:.6g}, max={self.max:.6g}, dtype={self.dtype})"


class device:
    """Where a tensor lives: device('cpu'), device('cuda'), device('cuda:1') or device('cuda', 1)."""

    __slots__ = ("type", "index")
    type: str  # "cpu" or "cuda"
    index: Optional[builtins.int]

    def __init__(self, spec: Union[str, int, "device"] = "cpu", index: Optional[int] = None) -> None:
        if isinstance(spec, device):
            kind, idx = spec.type, spec.index
        elif isinstance(spec, builtins.int) and not isinstance(spec, builtins.bool):
            kind, idx = "cuda", spec  # device(1) is cuda:1, as in PyTorch
        elif isinstance(spec, str):
            kind, sep, rest = spec.partition(":")
            idx = None
            if sep:
                if not rest.isdigit():
                    raise RuntimeError(f"Invalid device string: {spec!r}")
                idx = builtins.int(rest)
        else:
            raise TypeError(f"device() expects a string, an int or a device, got {type(spec).__name__}")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {spec}")
        if index is not None:
            if idx is not None:
                raise RuntimeError(f"device(): the index is given twice ({spec!r} and {index})")
            idx = builtins.int(index)
        if idx is not None and idx < 0:
            raise RuntimeError(f"Device index must not be negative, got {idx}")
        self.type, self.index = kind, idx

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


def _device_spec(dev: Any) -> str:
    """The engine's name for a device argument: 'cpu' or 'cuda:N' ('cuda' alone is cuda:0)."""
    if dev is None:
        return "cpu"
    d = dev if isinstance(dev, device) else device(dev)
    return "cpu" if d.type == "cpu" else f"cuda:{d.index or 0}"


_DEVICES = {"cpu": device("cpu")}


def _device_of(spec: str) -> device:
    """The (shared) device object for an engine device name."""
    d = _DEVICES.get(spec)
    if d is None:
        d = _DEVICES[spec] = device(spec)
    return d


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as chaingrad.Size([...])."""

    def __repr__(self) -> str:
        return f"chaingrad.Size({list(self)})"

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n


def _numpy_data(data: Any, dt: Optional[dtype]) -> np.ndarray:
    """data (not a Tensor) as an ndarray of a chaingrad dtype, inferring it as PyTorch does."""
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
        if dt is None and array.dtype not in _BY_NUMPY:
            kind = array.dtype.kind
            if kind in "iu":
                array = array.astype(np.int64)
            elif kind == "f":
                array = array.astype(np.float32)
            elif kind != "b":
                raise TypeError(f"can't convert np.ndarray of type {array.dtype}. The only supported "
                                "types are: float64, float32, int64 and bool.")
    else:
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as err:
            raise ValueError(f"tensor(): could not build a tensor from {type(data).__name__}: {err}") from None
        kind = array.dtype.kind
        if kind == "f":
            if dt is None:  # a dtype asked for is taken from numpy's float64, not through float32
                array = array.astype(np.float32)
        elif kind in "iu":
            if kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
                raise OverflowError("tensor(): value does not fit in int64")
            array = array.astype(np.int64)
        elif kind != "b":
            raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__} "
                            f"(numpy made {array.dtype}); pass numbers, bools or nested lists of them")
    if dt is not None:
        if not isinstance(dt, dtype):
            raise TypeError(f"dtype must be a chaingrad dtype, got {type(dt).__name__}")
        if dt in _STORAGE_ONLY:
            if not isinstance(data, (np.ndarray, np.generic)) and array.dtype.kind in "iuf":
                _check_range(array, dt)
            # the engine converts (float16 and bfloat16 through float32, as PyTorch): the caller
            # casts this carrier array's tensor with _core.to_dtype
            return array.astype(np.float64 if array.dtype.kind == "f" else np.int64) if array.dtype.kind != "b" \
                else array
        array = array.astype(dt.numpy)
    return array


# The dtypes the engine only stores (see Note [storage dtypes] in cpp/tensor/tensor.h).
_STORAGE_ONLY = frozenset((int32, int16, int8, uint8, float16, bfloat16))


def _check_range(array: np.ndarray, dt: dtype) -> None:
    """Refuses Python numbers that an integer dtype cannot hold, as PyTorch (a negative whole
    number may wrap into uint8)."""
    if dt.is_floating_point or array.size == 0:
        return
    info = np.iinfo(dt.numpy)
    lo, hi = builtins.float(array.min()), builtins.float(array.max())
    low_limit = -builtins.float(info.max) if dt is uint8 and bool(np.all(array == np.floor(array))) else info.min
    if lo < low_limit or hi > info.max:
        bad = lo if lo < low_limit else hi
        raise RuntimeError(f"value {bad:g} cannot be converted to type {dt.name} without overflow")


def _needs_cast(dt: Optional[dtype]) -> bool:
    """True when _numpy_data(data, dt) gives a carrier array that still has to be cast to dt."""
    return dt is not None and dt in _STORAGE_ONLY
