"""chaingrad.save: an object described as JSON plus its tensors' bytes, written atomically."""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import secrets
import stat
import struct
from collections import OrderedDict
from typing import IO, Any, Callable, Dict, List, NamedTuple, Optional, Set, Tuple, Union

import numpy as np

from chaingrad import _core
from chaingrad._types import Size, bfloat16, int16, uint8
from chaingrad._types import dtype as DType
from chaingrad.serialization._format import (
    _CODE,
    _INT64,
    _MAX_DEPTH,
    _MODULE_INTERNALS,
    FileLike,
    _module_types,
)
from chaingrad.tensor import Tensor


class _Blob(NamedTuple):
    """One byte range of the file: a tensor written only when the file is (one at a time), a host
    array (a shared storage) or pickled bytes."""

    code: str
    shape: List[int]
    nbytes: int
    data: Union[Tensor, np.ndarray, bytes]


def _host_array(t: Tensor) -> np.ndarray:
    """An ndarray over a CPU tensor's memory; a bfloat16 tensor's bytes seen as int16 (numpy has no
    bfloat16)."""
    return _core.to_numpy(_core.reinterpret_dtype(t, int16) if t.dtype is bfloat16 else t)


def _host_span(t: Tensor) -> Optional[Tuple[int, int, np.ndarray]]:
    """The [first, end) byte addresses of a CPU tensor's elements and an array over them, to find
    tensors sharing memory; None for tensors saved by value: empty, on a device, or with more
    elements than their memory holds (expanded: load refuses views larger than their storage)."""
    if t.is_cuda or t.numel() == 0:
        return None
    array = _host_array(t)
    if any(s < 0 for s in array.strides):
        return None
    lo = array.__array_interface__["data"][0]
    end = lo + sum((n - 1) * s for n, s in zip(array.shape, array.strides)) + array.itemsize
    return (lo, end, array) if array.nbytes <= end - lo else None


class _Writer:
    """Turns an object into a JSON description plus a list of byte blobs."""

    def __init__(self) -> None:
        self.blobs: List[_Blob] = []
        self.tensors: List[Tuple[Tensor, Dict[str, Any]]] = []  # each tensor object once, with its node
        self.memo: Dict[int, Tuple[Any, Dict[str, Any]]] = {}   # id -> (object kept alive, its node)
        self.open_modules: Set[int] = set()  # being encoded: a reference back to one is a cycle
        self.ids = 0  # objects referenced more than once so far

    def _blob(self, code: str, shape: List[int], nbytes: int, data: Union[Tensor, np.ndarray, bytes]) -> str:
        """Adds a blob and returns its name in the header."""
        self.blobs.append(_Blob(code, shape, nbytes, data))
        return f"t{len(self.blobs) - 1}"

    def _seen(self, obj: Any) -> Optional[Dict[str, Any]]:
        """A reference node when obj was encoded before (its first node gets an id), else None."""
        seen = self.memo.get(id(obj))
        if seen is None:
            return None
        if id(obj) in self.open_modules:
            raise ValueError(f"save: a {type(obj).__name__} module contains itself, which a checkpoint "
                             "cannot describe")
        node = seen[1]
        if "id" not in node:
            node["id"] = self.ids
            self.ids += 1
        return {"$ref": node["id"]}

    def tensor(self, t: Tensor) -> Dict[str, Any]:
        """The node of a tensor seen for the first time."""
        from chaingrad.nn.parameter import Parameter
        node = {"$tensor": None, "requires_grad": bool(t.requires_grad), "parameter": isinstance(t, Parameter)}
        if t.dtype is uint8:  # its "U8" blob holds tensor data, not a pickle's bytes
            node["dtype"] = "uint8"
        self.memo[id(t)] = (t, node)
        self.tensors.append((t, node))  # finish() names the blob, once it knows what shares memory
        return node

    def encode(self, obj: Any, depth: int = 0) -> Any:
        """The JSON description of obj."""
        if depth > _MAX_DEPTH:
            raise ValueError("save: object nests too deeply")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            # load refuses JSON integers beyond int64 (huge ones cost time to parse): bigger ones are text
            return obj if _INT64[0] <= obj <= _INT64[1] else {"$int": str(obj)}
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if isinstance(obj, Tensor):
            return self._seen(obj) or self.tensor(obj)
        if isinstance(obj, DType):
            return {"$dtype": obj.name}
        if type(obj) in (list, tuple, Size):
            return {"$list" if type(obj) is list else "$tuple": [self.encode(v, depth + 1) for v in obj]}
        if type(obj) in (dict, OrderedDict) and all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in obj):
            tag = "$odict" if type(obj) is OrderedDict else "$dict"
            return {tag: [[self.encode(k), self.encode(v, depth + 1)] for k, v in obj.items()]}
        if type(obj) in _module_types().values():
            return self._seen(obj) or self.module(obj, depth)
        # anything else is pickled; loading it will need weights_only=False
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        return {"$pickle": self._blob("U8", [len(data)], len(data), data),
                "class": f"{type(obj).__module__}.{type(obj).__qualname__}"}

    def module(self, m: Any, depth: int) -> Dict[str, Any]:
        """The node of a built-in module: configuration, parameters, buffers, plain attributes, children."""
        node: Dict[str, Any] = {"$module": type(m).__name__}
        self.memo[id(m)] = (m, node)
        self.open_modules.add(id(m))
        config = m._config() if hasattr(m, "_config") else {}

        def tensors(table: Dict[str, Optional[Tensor]]) -> Dict[str, Any]:
            return {name: None if t is None else self.encode(t, depth + 1) for name, t in table.items()}

        # the keys are written in the order load() decodes them, so a reference follows its object
        node.update({
            "config": config, "tensors": tensors(m._parameters), "buffers": tensors(m._buffers),
            "attributes": {name: self.encode(v, depth + 1) for name, v in vars(m).items()
                           if name not in _MODULE_INTERNALS and name not in config},
            "training": bool(m.training),
            "children": [[name, self.encode(c, depth + 1)] for name, c in m._modules.items()]})
        self.open_modules.discard(id(m))
        return node

    def finish(self) -> List[_Blob]:
        """Names each tensor's blob: CPU tensors whose memory overlaps share one (their storage, as
        views of it); every other tensor is saved by value in its own shape."""
        spans = []
        for t, node in self.tensors:
            span = _host_span(t)
            if span is None:
                self._by_value(t, node)
            else:
                spans.append((*span, t, node))
        spans.sort(key=lambda s: s[0])
        group: List[Tuple[int, int, np.ndarray, Tensor, Dict[str, Any]]] = []
        end = 0
        for span in spans:
            if group and span[0] >= end:
                self._share(group, end)
                group = []
            group.append(span)
            end = max(end, span[1]) if len(group) > 1 else span[1]
        if group:
            self._share(group, end)
        return self.blobs

    def _by_value(self, t: Tensor, node: Dict[str, Any]) -> None:
        node["$tensor"] = self._blob(_CODE[t.dtype], list(t.shape), t.numel() * t.element_size(), t)

    def _share(self, group: List[Tuple[int, int, np.ndarray, Tensor, Dict[str, Any]]], end: int) -> None:
        """One blob for tensors whose memory overlaps, [first address of group[0], end)."""
        lo, first = group[0][0], group[0][2]
        size = first.itemsize
        if len(group) == 1 or any(a.dtype != first.dtype or (start - lo) % size or any(s % size for s in a.strides)
                                  for start, _, a, _, _ in group):
            for _, _, _, t, node in group:
                self._by_value(t, node)
            return
        code = _CODE[group[0][3].dtype]
        if len({(start, a.shape, a.strides) for start, _, a, _, _ in group}) == 1 and first.flags.c_contiguous:
            name = self._blob(code, list(first.shape), first.nbytes, first)  # the same memory, seen as one tensor
            for _, _, _, _, node in group:
                node["$tensor"] = name
            return
        # every byte of [lo, end) lies in some tensor of the group, hence in live memory
        storage = np.lib.stride_tricks.as_strided(first, ((end - lo) // size,), (size,), writeable=False)
        name = self._blob(code, [storage.size], storage.nbytes, storage)
        for start, _, a, _, node in group:
            node["$tensor"] = name
            node["view"] = {"offset": (start - lo) // size, "shape": list(a.shape),
                            "stride": [s // size for s in a.strides]}


def _write_checkpoint(fh: IO[bytes], head: bytes, blobs: List[_Blob]) -> None:
    """Writes the header, then each blob's bytes straight from its memory."""
    fh.write(struct.pack("<Q", len(head)))
    fh.write(head)
    for blob in blobs:
        _write_blob(fh, blob.data)


def _write_blob(fh: IO[bytes], data: Union[Tensor, np.ndarray, bytes]) -> None:
    """Writes one blob; a tensor becomes a contiguous host array only now, so at most one copy of
    one tensor exists at a time."""
    if isinstance(data, Tensor):
        data = np.ascontiguousarray(_host_array(data.detach().cpu()))
    fh.write(data if isinstance(data, bytes) else memoryview(data.reshape(-1).view(np.uint8)))


def _replace_atomically(path: Union[str, os.PathLike], write: Callable[[IO[bytes]], None]) -> None:
    """Writes a file through write() into a temporary file next to it, then renames it over the
    target, so that a crash or an error leaves either the old file or the new one, never half of it."""
    target = os.path.realpath(os.fsdecode(os.fspath(path)))  # through a symlink, as open(path, "wb") would
    folder, base = os.path.split(target)
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    # mode 0o666 so that the umask applies, as it does for open(path, "wb")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))  # overwriting keeps the permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a power cut once the folder is synced
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(obj: Any, f: FileLike) -> None:
    """Writes obj (tensors, state dicts, optimizer state, built-in modules, ...) to a file; a path
    is replaced atomically (a crash mid-save leaves the old file)."""
    writer = _Writer()
    description = writer.encode(obj)
    blobs = writer.finish()
    header: Dict[str, Any] = {"__metadata__": {"format": "chaingrad", "version": "2",
                                               "object": json.dumps(description, allow_nan=False)}}
    offset = 0
    for i, blob in enumerate(blobs):
        header[f"t{i}"] = {"dtype": blob.code, "shape": blob.shape, "data_offsets": [offset, offset + blob.nbytes]}
        offset += blob.nbytes
    head = json.dumps(header, allow_nan=False).encode()
    head += b" " * (-len(head) % 8)  # safetensors aligns the data to 8 bytes
    if isinstance(f, (str, os.PathLike)):
        _replace_atomically(f, lambda fh: _write_checkpoint(fh, head, blobs))
    else:
        _write_checkpoint(f, head, blobs)
