"""chaingrad's element types (dtype), devices (device) and shapes (Size): the vocabulary every
other module of the Python layer shares, with no import of the tensor or its functions."""

from __future__ import annotations

import builtins
from typing import Any, Optional, Union

import numpy as np

__all__ = ["dtype", "float32", "float64", "int64", "bool_", "device", "Size"]


class dtype:
    """An element type (chaingrad.float32, float64, int64, bool)."""

    __slots__ = ("name", "itemsize", "is_floating_point", "numpy")

    def __init__(self, name: str, itemsize: int, is_floating_point: bool, numpy_type: type) -> None:
        self.name = name
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.numpy = np.dtype(numpy_type)

    def __repr__(self) -> str:
        return f"chaingrad.{self.name}"

    def __reduce__(self) -> str:
        return self.name if self.name != "bool" else "bool_"


float32 = dtype("float32", 4, True, np.float32)
float64 = dtype("float64", 8, True, np.float64)
int64 = dtype("int64", 8, False, np.int64)
bool_ = dtype("bool", 1, False, np.bool_)
_BY_NUMPY = {d.numpy: d for d in (float32, float64, int64, bool_)}
_KIND = {bool_: 0, int64: 1, float32: 2, float64: 2}  # PyTorch's promotion categories


class device:
    """Where a tensor lives: device('cpu'), device('cuda'), device('cuda:1') or device('cuda', 1)."""

    __slots__ = ("type", "index")

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
        array = array.astype(dt.numpy)
    return array
