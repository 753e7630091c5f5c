"""chaingrad.load: a checkpoint checked before anything is allocated, then rebuilt."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import struct
import warnings
from collections import OrderedDict
from typing import IO, Any, Dict, Iterator, List, NamedTuple, Tuple, Union

import numpy as np

from chaingrad import _core
from chaingrad._types import _device_spec, bfloat16
from chaingrad.functional import empty, from_numpy
from chaingrad.serialization._format import (
    _DTYPE_NAMES,
    _DTYPES,
    _MAX_BIG_INT_DIGITS,
    _MAX_DEPTH,
    _MAX_DIM,
    _MAX_ENTRIES,
    _MAX_HEADER,
    _MAX_RANK,
    _MODULE_INTERNALS,
    FileLike,
    UnsafeCheckpointError,
    _module_types,
)
from chaingrad.tensor import Tensor


def _json_int(text: str) -> int:
    """A JSON integer of the header, refused beyond 19 digits before converting it: Python parses
    huge integers, and arithmetic on them is what an attacker would make load spend its time on."""
    if len(text) - text.startswith("-") > 19:
        raise ValueError(f"load: corrupt checkpoint (an integer of {len(text)} digits in the header)")
    return int(text)


def _parse_json(text: Union[bytes, str], what: str) -> Any:
    """The parsed JSON, or ValueError naming what of the checkpoint does not parse."""
    try:
        return json.loads(text, parse_int=_json_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"load: corrupt checkpoint {what} ({err})") from None


def _is_int(value: Any) -> bool:
    """True for an int that is not a bool."""
    return type(value) is int  # not bool


def _check_shape(shape: Any, what: str) -> Tuple[int, ...]:
    """shape as a tuple, or ValueError unless it is a list of at most 64 int64 sizes."""
    if not (isinstance(shape, list) and len(shape) <= _MAX_RANK
            and all(_is_int(s) and 0 <= s <= _MAX_DIM for s in shape)):
        raise ValueError(f"load: corrupt shape {str(shape)[:80]} in {what}")
    return tuple(shape)


def _numel(shape: Tuple[int, ...], limit: int) -> int:
    """The product of shape, or limit + 1 as soon as it passes limit."""
    if 0 in shape:
        return 0
    n = 1
    for s in shape:
        n *= s
        if n > limit:
            return limit + 1
    return n


class _Entry(NamedTuple):
    """A header entry, checked: dtype code, shape and byte range within the data section."""

    code: str
    shape: Tuple[int, ...]
    begin: int
    end: int


def _check_entry(name: str, entry: Any, data_size: int) -> _Entry:
    """The checked entry, or ValueError saying what is wrong with it."""
    if not isinstance(entry, dict):
        raise ValueError(f"load: corrupt checkpoint (tensor entry {name!r} is not a JSON object)")
    code, offsets = entry.get("dtype"), entry.get("data_offsets")
    if not isinstance(code, str) or code not in _DTYPES:
        raise ValueError(f"load: unsupported dtype {str(code)[:40]!r} in tensor {name!r}")
    shape = _check_shape(entry.get("shape"), f"tensor {name!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= data_size):
        raise ValueError(f"load: tensor {name!r} lies outside the file (offsets {str(offsets)[:80]}, "
                         f"{data_size} data bytes): truncated or corrupt")
    nbytes = offsets[1] - offsets[0]
    itemsize = np.dtype(_DTYPES[code][1]).itemsize
    if _numel(shape, nbytes // itemsize) * itemsize != nbytes:
        raise ValueError(f"load: tensor {name!r} has {nbytes} bytes for shape {list(shape)}")
    return _Entry(code, shape, offsets[0], offsets[1])


def _check_tiling(entries: Dict[str, _Entry], data_size: int) -> List[str]:
    """The names in file order, or ValueError unless the byte ranges cover the data section exactly
    once, as safetensors requires (overlapping ranges would load the same bytes many times)."""
    order = sorted(entries, key=lambda n: (entries[n].begin, entries[n].end))
    expected = 0
    for name in order:
        if entries[name].begin != expected:
            raise ValueError(f"load: corrupt checkpoint (tensor {name!r} starts at data byte "
                             f"{entries[name].begin}, expected {expected}: byte ranges overlap or leave gaps)")
        expected = entries[name].end
    if expected != data_size:
        raise ValueError(f"load: corrupt checkpoint ({data_size - expected} bytes after the last tensor)")
    return order


def _read_into(fh: IO[bytes], out: np.ndarray) -> None:
    """Fills the array out with the next bytes of the file."""
    view = memoryview(out.view(np.uint8))
    done = 0
    while done < view.nbytes:
        n = fh.readinto(view[done:])
        if not n:
            raise ValueError("load: the file ended early (did it change while being read?)")
        done += n


class _Reader:
    """Checks the header of a checkpoint, reads its tensors and rebuilds the object it describes."""

    def __init__(self, fh: IO[bytes], weights_only: bool, device: str = "cpu") -> None:
        self.weights_only = weights_only
        self.device = device
        start = fh.tell()
        file_size = fh.seek(0, io.SEEK_END) - start
        fh.seek(start)
        prefix = fh.read(8)
        if len(prefix) < 8:
            raise ValueError("load: not a chaingrad checkpoint (file shorter than its 8-byte header length)")
        (size,) = struct.unpack("<Q", prefix)
        if size > _MAX_HEADER or 8 + size > file_size:
            raise ValueError(f"load: corrupt checkpoint (header of {size} bytes in a file of {file_size})")
        header = _parse_json(fh.read(size), "header")
        if not isinstance(header, dict):
            raise ValueError("load: corrupt checkpoint header (not a JSON object)")
        meta = header.pop("__metadata__", None)
        if len(header) > _MAX_ENTRIES:
            raise ValueError(f"load: corrupt checkpoint ({len(header)} tensors, at most {_MAX_ENTRIES})")
        data_size = file_size - 8 - size
        self.entries = {name: _check_entry(name, entry, data_size) for name, entry in header.items()}
        order = _check_tiling(self.entries, data_size)
        if not isinstance(meta, dict) or meta.get("format") != "chaingrad":
            self.description = None  # a plain safetensors file: its tensors, by name
        elif not isinstance(meta.get("object"), str):
            raise ValueError("load: corrupt checkpoint description (no object in the metadata)")
        else:
            self.description = _parse_json(meta["object"], "description")
        self.arrays = self._read_data(fh, order, data_size)
        self.bases: Dict[str, Tensor] = {}    # blob name -> the tensor over it, on the target device
        self.flats: Dict[str, Tensor] = {}    # blob name -> a CPU tensor over it, flat, for views
        self.objects: Dict[int, Any] = {}     # object id -> tensor or module, for references
        self.device_copies = data_size        # bytes that views may still copy onto a device

    def _read_data(self, fh: IO[bytes], order: List[str], data_size: int) -> Dict[str, np.ndarray]:
        """Each blob as a flat array, read in file order: the data section once, nothing more."""
        arrays = {}
        for name in order:
            entry = self.entries[name]
            np_type = _DTYPES[entry.code][1]
            try:
                arrays[name] = np.empty((entry.end - entry.begin) // np.dtype(np_type).itemsize, np_type)
            except MemoryError:
                raise MemoryError(f"load: not enough memory for tensor {name!r} ({entry.end - entry.begin} "
                                  f"bytes; the checkpoint holds {data_size} bytes of tensor data)") from None
            _read_into(fh, arrays[name])
            if np_type is np.bool_:  # bytes other than 0 and 1 become True, once per blob, in place
                raw = arrays[name].view(np.uint8)
                np.minimum(raw, 1, out=raw)
        return arrays

    def base(self, name: str) -> Tensor:
        """The tensor over a whole blob, on the target device, made once per blob."""
        t = self.bases.get(name)
        if t is None:
            t = self._typed(name, from_numpy(self.arrays[name].reshape(self.entries[name].shape)))
            if self.device != "cpu":
                t = t.to(self.device)
            self.bases[name] = t
        return t

    def _typed(self, name: str, t: Tensor) -> Tensor:
        """t over a blob's array, as the blob's dtype: a bfloat16 blob's int16 bytes reinterpreted."""
        return _core.reinterpret_dtype(t, bfloat16) if self.entries[name].code == "BF16" else t

    def view(self, name: str, spec: Any) -> Tensor:
        """A view of a blob: the same memory on the CPU; a copy on a device, within a budget of the
        file's size, since a file could otherwise name one blob's bytes many times."""
        if not isinstance(spec, dict) or not _is_int(spec.get("offset")):
            _bad(spec)
        shape = _check_shape(spec.get("shape"), f"a view of tensor {name!r}")
        stride = _check_shape(spec.get("stride"), f"a view of tensor {name!r}")
        flat = self.arrays[name]
        offset, size = spec["offset"], flat.itemsize
        numel = _numel(shape, flat.size)
        last = offset + sum((n - 1) * s for n, s in zip(shape, stride)) if numel else offset - 1
        # no larger than its storage (save() writes expanded tensors by value), so a view costs a
        # device at most the blob's size, and later use of it no more than the file's size
        if (len(stride) != len(shape) or numel > flat.size or max(stride, default=0) > _MAX_DIM // size
                or not 0 <= offset <= flat.size or last >= flat.size):
            raise ValueError(f"load: view {str(spec)[:120]} does not fit in tensor {name!r} of {flat.size} elements")
        if name not in self.flats:
            self.flats[name] = self._typed(name, from_numpy(flat))
        t = _core.storage_view(self.flats[name], list(shape), list(stride), offset)
        if self.device != "cpu":
            self.device_copies -= numel * size
            if self.device_copies < 0:
                raise ValueError(f"load: the views of this checkpoint would copy more than its own size onto "
                                 f"{self.device}; load it on the CPU, where views share memory, and move it")
            t = t.to(self.device)
        return t

    def tensor(self, node: Dict[str, Any]) -> Tensor:
        """The tensor (or Parameter) of a {"$tensor": ...} node."""
        name = node.get("$tensor")
        if not isinstance(name, str) or name not in self.entries:
            raise ValueError(f"load: corrupt checkpoint (no tensor entry {str(name)[:60]!r})")
        code = self.entries[name].code
        if _DTYPES[code][0] is None and not (code == "U8" and node.get("dtype") == "uint8"):
            raise ValueError("load: a byte blob is not a tensor")
        # a new tensor object over the blob's memory: shared with every other node naming the blob
        t = self.base(name).detach() if node.get("view") is None else self.view(name, node["view"])
        if node.get("parameter"):
            from chaingrad.nn.parameter import Parameter
            return Parameter(t, bool(node.get("requires_grad", True)))
        if node.get("requires_grad"):
            t.requires_grad_()
        return t

    def decode(self, node: Any, depth: int = 0) -> Any:
        """The object a description node stands for."""
        if depth > _MAX_DEPTH:
            raise ValueError("load: checkpoint description nests too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) == 0:
            raise ValueError(f"load: corrupt checkpoint description near {str(node)[:60]!r}")
        if "$ref" in node:
            if not _is_int(node["$ref"]) or node["$ref"] not in self.objects:
                raise ValueError(f"load: corrupt checkpoint (reference {str(node['$ref'])[:30]} to an object "
                                 "not defined before it)")
            return self.objects[node["$ref"]]
        if "$tensor" in node:
            return self.remember(node, self.tensor(node))
        if "$int" in node:
            return _big_int(node)
        if "$float" in node:
            return float(node["$float"]) if node["$float"] in ("inf", "-inf", "nan") else _bad(node)
        if "$dtype" in node:
            name = node["$dtype"]
            return (_DTYPE_NAMES.get(name) if isinstance(name, str) else None) or _bad(node)
        if "$list" in node or "$tuple" in node:
            items = [self.decode(v, depth + 1) for v in _as_list(node.get("$list", node.get("$tuple")))]
            return items if "$list" in node else tuple(items)
        if "$dict" in node or "$odict" in node:
            pairs = _as_list(node.get("$dict", node.get("$odict")))
            out = OrderedDict() if "$odict" in node else {}
            for pair in pairs:
                if not (isinstance(pair, list) and len(pair) == 2
                        and (isinstance(pair[0], (str, dict)) or _is_int(pair[0]))):
                    _bad(pair)  # the keys save() writes: str, int, or {"$int": ...}
                out[_big_int(pair[0]) if isinstance(pair[0], dict) else pair[0]] = self.decode(pair[1], depth + 1)
            return out
        if "$module" in node:
            return self.remember(node, self.module(node, depth))
        if "$pickle" in node:
            return self.unpickle(node)
        return _bad(node)

    def remember(self, node: Dict[str, Any], obj: Any) -> Any:
        """obj, kept under the node's id for the references that follow."""
        if "id" in node:
            if not _is_int(node["id"]) or node["id"] in self.objects:
                raise ValueError(f"load: corrupt checkpoint (object id {str(node['id'])[:30]} repeated or invalid)")
            self.objects[node["id"]] = obj
        return obj

    def _named(self, table: Any, what: str, cls: type) -> Dict[str, Any]:
        """A module's table of parameters, buffers or attributes, its names checked."""
        if table is None:
            return {}
        if not isinstance(table, dict):
            _bad(table)
        for name in table:
            if not name or "." in name or name.startswith("__") or name in _MODULE_INTERNALS:
                raise ValueError(f"load: {cls.__name__} has a {what} with the invalid name {name[:60]!r}")
        return table

    def module(self, node: Dict[str, Any], depth: int) -> Any:
        """The built-in module of a {"$module": ...} node, every part checked before it is used."""
        from chaingrad.nn.module import Module
        from chaingrad.nn.parameter import Parameter
        kind = node.get("$module")
        cls = _module_types().get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise ValueError(f"load: unknown module type {str(kind)[:60]!r} (only chaingrad's "
                             "own modules are rebuilt without pickle)")
        config = node.get("config", {})
        if not isinstance(config, dict) or not all(
                isinstance(v, (int, float, str, bool)) or v is None for v in config.values()):
            raise ValueError(f"load: corrupt configuration for {cls.__name__}: {str(config)[:80]}")
        # decoded in the order save() encoded them, so that a reference follows the object it names
        params = {name: None if t is None else self.decode(t, depth + 1)
                  for name, t in self._named(node.get("tensors"), "parameter", cls).items()}
        buffers = {name: None if t is None else self.decode(t, depth + 1)
                   for name, t in self._named(node.get("buffers"), "buffer", cls).items()}
        attributes = {name: self.decode(v, depth + 1)
                      for name, v in self._named(node.get("attributes"), "attribute", cls).items()}
        children = []
        for pair in _as_list(node.get("children", [])):
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                _bad(pair)
            children.append((pair[0], self.decode(pair[1], depth + 1)))
        names = [*params, *buffers, *attributes, *(name for name, _ in children)]
        if len(set(names)) != len(names):
            raise ValueError(f"load: {cls.__name__} names its parts ambiguously: {str(names)[:80]}")
        for name, value in [*params.items(), *buffers.items()]:
            if value is not None and not isinstance(value, Tensor):
                raise ValueError(f"load: {cls.__name__}.{name} should be a tensor, got {type(value).__name__}")
        for name, child in children:
            if child is not None and not isinstance(child, Module):
                raise ValueError(f"load: child {name!r} of {cls.__name__} is a {type(child).__name__}, not a module")
        module, expected = self._construct(cls, config, params.get("weight"))
        if not all(params.get(name) is not None and tuple(params[name].shape) == shape
                   for name, shape in expected.items()):
            raise ValueError(f"load: {cls.__name__} expects tensors {expected}, the checkpoint has "
                             f"{ {name: getattr(p, 'shape', None) for name, p in params.items()} }")
        for name, p in params.items():
            module.register_parameter(name, p if p is None or isinstance(p, Parameter) else Parameter(p))
        for name, b in buffers.items():
            module.register_buffer(name, b)
        for name, value in attributes.items():
            object.__setattr__(module, name, value)
        for name, child in children:
            module.add_module(name, child)
        object.__setattr__(module, "training", bool(node.get("training", True)))
        return module

    def _construct(self, cls: type, config: Dict[str, Any], weight: Any) -> Tuple[Any, Dict[str, Tuple[int, ...]]]:
        """A module of class cls from its configuration, and the shapes of the parameters it needs."""
        try:
            if cls.__name__ != "Linear":
                module = cls(**config)
                return module, {name: tuple(p.shape) for name, p in module._parameters.items() if p is not None}
            shape = tuple(weight.shape) if isinstance(weight, Tensor) else None
            if shape != (config.get("out_features"), config.get("in_features")):
                raise ValueError(f"load: Linear configured as {str(config)[:120]} but its weight has shape {shape}")
            if not set(config) <= {"in_features", "out_features", "bias"}:
                raise TypeError(f"unexpected settings {sorted(set(config) - {'in_features', 'out_features', 'bias'})}")
            # Linear(in, out) would allocate and initialise a weight only for the stored one to replace
            # it: a file naming one stored weight from many layers would make load do that many times
            module = cls(0, 0, bool(config.get("bias", True)))
        except TypeError as err:
            raise ValueError(f"load: corrupt configuration for {cls.__name__}: {err}") from None
        module.out_features, module.in_features = shape
        return module, {"weight": shape, **({"bias": shape[:1]} if module.bias is not None else {})}

    def unpickle(self, node: Dict[str, Any]) -> Any:
        """The pickled object of a {"$pickle": ...} node; UnsafeCheckpointError when weights_only."""
        cls = str(node.get("class", "an unknown class"))[:200]
        if self.weights_only:
            raise UnsafeCheckpointError(
                f"this checkpoint holds an object of class {cls}, which only pickle can rebuild, and "
                "unpickling runs code from the file. If you trust the file, load it with "
                "chaingrad.load(path, weights_only=False).")
        name = node.get("$pickle")
        if not isinstance(name, str) or name not in self.entries or self.entries[name].code != "U8":
            _bad(node)
        warnings.warn(f"chaingrad.load: unpickling an object of class {cls} (weights_only=False): this "
                      "runs code from the checkpoint", UserWarning, stacklevel=3)
        return pickle.loads(self.arrays[name])

    def result(self) -> Any:
        """The saved object (for a plain safetensors file, its tensors by name)."""
        if self.description is None:
            return OrderedDict((name, self.tensor({"$tensor": name})) for name in self.entries)
        return self.decode(self.description)


def _big_int(node: Dict[str, Any]) -> int:
    """The integer beyond int64 that save() wrote as {"$int": digits}."""
    text = node.get("$int")
    if not (isinstance(text, str) and 0 < len(text) <= _MAX_BIG_INT_DIGITS and text.isascii()
            and text.lstrip("-").isdigit()):
        _bad(node)
    return int(text)


def _as_list(value: Any) -> list:
    """value, or ValueError unless it is a list."""
    if not isinstance(value, list):
        _bad(value)
    return value


def _bad(node: Any) -> Any:
    """Raises ValueError quoting the start of a node that makes no sense."""
    raise ValueError(f"load: corrupt checkpoint description near {str(node)[:60]!r}")


@contextlib.contextmanager
def _opened(f: FileLike) -> Iterator[IO[bytes]]:
    """f as a seekable binary stream that can read into arrays (a path is opened and closed)."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh
        return
    seekable = getattr(f, "seekable", None)
    if callable(seekable) and seekable() and hasattr(f, "readinto"):
        yield f
    else:
        yield io.BytesIO(f.read())


def load(f: FileLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Reads what save() wrote, its tensors on the CPU or on map_location (a device); objects of
    user-defined classes need weights_only=False."""
    where = _device_spec(map_location)
    if where != "cpu":
        empty(0, device=where)  # RuntimeError now, naming the reason, if the device cannot be used
    with _opened(f) as fh:
        try:
            return _Reader(fh, weights_only, where).result()
        except RecursionError:
            raise ValueError("load: checkpoint description nests too deeply") from None
        except MemoryError as err:
            if str(err).startswith("load:"):
                raise
            raise MemoryError(f"load: ran out of memory rebuilding a checkpoint of {fh.seek(0, io.SEEK_END)} "
                              f"bytes ({err or 'no details'})") from None
        except (TypeError, AttributeError, KeyError, IndexError, OverflowError, RuntimeError) as err:
            if isinstance(err, UnsafeCheckpointError) or str(err).startswith("CUDA"):
                raise  # the checkpoint is fine: the device failed (out of memory, ...)
            raise ValueError(f"load: corrupt checkpoint ({type(err).__name__}: {err})") from None
