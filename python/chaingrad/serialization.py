"""chaingrad.save / chaingrad.load: checkpoints that load without running code from the file.

The file is a safetensors file: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw bytes. The object saved (a tensor, a state
dict, optimizer state, a model built from chaingrad's own modules, or nested dicts and lists of
them) is described as JSON in the header's metadata. Objects of other classes are pickled into the
file, and loading those needs `weights_only=False`, said by name: unpickling runs code from the file.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import warnings
from collections import OrderedDict
from typing import IO, Any, Dict, List, Tuple, Union

import numpy as np

from chaingrad import functional as F
from chaingrad.tensor import Size, Tensor, _device_spec, dtype as DType
from chaingrad.tensor import bool_, float32, float64, int64

__all__ = ["save", "load", "UnsafeCheckpointError"]

FileLike = Union[str, os.PathLike, IO[bytes]]

_DTYPES = {"F32": (float32, np.float32), "F64": (float64, np.float64), "I64": (int64, np.int64),
           "BOOL": (bool_, np.bool_), "U8": (None, np.uint8)}
_CODE = {float32: "F32", float64: "F64", int64: "I64", bool_: "BOOL"}
_MAX_HEADER = 100 * 2**20
_MAX_DEPTH = 200


class UnsafeCheckpointError(RuntimeError):
    """The checkpoint holds objects that only pickle can rebuild, and weights_only is True."""


def _module_types() -> Dict[str, type]:
    from chaingrad.nn.layers import BUILTIN_MODULES
    return BUILTIN_MODULES


class _Writer:
    """Turns an object into a JSON description plus a list of byte blobs."""

    def __init__(self) -> None:
        self.blobs: List[Tuple[str, str, List[int], bytes]] = []

    def _blob(self, code: str, shape: List[int], data: bytes) -> str:
        name = f"t{len(self.blobs)}"
        self.blobs.append((name, code, shape, data))
        return name

    def tensor(self, t: Tensor) -> Dict[str, Any]:
        array = np.ascontiguousarray(t.detach().cpu().numpy())
        from chaingrad.nn.parameter import Parameter
        return {"$tensor": self._blob(_CODE[t.dtype], list(array.shape), array.tobytes()),
                "requires_grad": bool(t.requires_grad), "parameter": isinstance(t, Parameter)}

    def encode(self, obj: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError("save: object nests too deeply")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, DType):
            return {"$dtype": obj.name}
        if type(obj) in (list, tuple, Size):
            return {"$list" if type(obj) is list else "$tuple": [self.encode(v, depth + 1) for v in obj]}
        if type(obj) in (dict, OrderedDict) and all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in obj):
            tag = "$odict" if type(obj) is OrderedDict else "$dict"
            return {tag: [[k, self.encode(v, depth + 1)] for k, v in obj.items()]}
        if type(obj) in _module_types().values():
            return self.module(obj, depth)
        # anything else is pickled; loading it will need weights_only=False
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        return {"$pickle": self._blob("U8", [len(data)], data),
                "class": f"{type(obj).__module__}.{type(obj).__qualname__}"}

    def module(self, m: Any, depth: int) -> Dict[str, Any]:
        own = {name: self.tensor(p) for name, p in m._parameters.items() if p is not None}
        own.update({name: self.tensor(b) for name, b in m._buffers.items() if b is not None})
        return {"$module": type(m).__name__, "config": m._config() if hasattr(m, "_config") else {},
                "tensors": own, "training": bool(m.training),
                "children": [[name, self.encode(c, depth + 1)] for name, c in m._modules.items()]}


def save(obj: Any, f: FileLike) -> None:
    """Writes obj (tensors, state dicts, optimizer state, built-in modules, ...) to a file."""
    writer = _Writer()
    description = writer.encode(obj)
    header: Dict[str, Any] = {"__metadata__": {"format": "chaingrad", "version": "1",
                                               "object": json.dumps(description, allow_nan=False)}}
    offset = 0
    for name, code, shape, data in writer.blobs:
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    head = json.dumps(header, allow_nan=False).encode()
    head += b" " * (-len(head) % 8)  # safetensors aligns the data to 8 bytes
    out = io.BytesIO()
    out.write(struct.pack("<Q", len(head)))
    out.write(head)
    for _, _, _, data in writer.blobs:
        out.write(data)
    payload = out.getvalue()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(payload)
    else:
        f.write(payload)


class _Reader:
    """Checks the header of a checkpoint and rebuilds the object it describes."""

    def __init__(self, payload: bytes, weights_only: bool, device: str = "cpu") -> None:
        self.weights_only = weights_only
        self.device = device
        if len(payload) < 8:
            raise ValueError("load: not a chaingrad checkpoint (file shorter than its 8-byte header length)")
        (size,) = struct.unpack("<Q", payload[:8])
        if size > _MAX_HEADER or 8 + size > len(payload):
            raise ValueError(f"load: corrupt checkpoint (header of {size} bytes in a file of {len(payload)})")
        try:
            header = json.loads(payload[8:8 + size].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"load: corrupt checkpoint header ({err})") from None
        if not isinstance(header, dict):
            raise ValueError("load: corrupt checkpoint header (not a JSON object)")
        meta = header.pop("__metadata__", None)
        self.data = memoryview(payload)[8 + size:]
        self.entries = header
        if not isinstance(meta, dict) or meta.get("format") != "chaingrad":
            self.description = None  # a plain safetensors file: its tensors, by name
            return
        try:
            self.description = json.loads(meta["object"])
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"load: corrupt checkpoint description ({err})") from None

    def blob(self, name: Any) -> Tuple[str, List[int], memoryview]:
        entry = self.entries.get(name) if isinstance(name, str) else None
        if not isinstance(entry, dict):
            raise ValueError(f"load: corrupt checkpoint (no tensor entry {name!r})")
        code, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if code not in _DTYPES:
            raise ValueError(f"load: unsupported dtype {code!r} in tensor {name!r}")
        if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
            raise ValueError(f"load: corrupt shape {shape!r} in tensor {name!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= len(self.data)):
            raise ValueError(f"load: tensor {name!r} lies outside the file (offsets {offsets!r}, "
                             f"{len(self.data)} data bytes): truncated or corrupt")
        itemsize = np.dtype(_DTYPES[code][1]).itemsize
        if math.prod(shape) * itemsize != offsets[1] - offsets[0]:
            raise ValueError(f"load: tensor {name!r} has {offsets[1] - offsets[0]} bytes for shape {shape}")
        return code, shape, self.data[offsets[0]:offsets[1]]

    def tensor(self, node: Dict[str, Any]) -> Tensor:
        code, shape, raw = self.blob(node.get("$tensor"))
        dt, np_type = _DTYPES[code]
        if dt is None:
            raise ValueError("load: a byte blob is not a tensor")
        array = np.frombuffer(raw, dtype=np_type).reshape(shape).copy()
        t = F.from_numpy(array)
        if self.device != "cpu":
            t = t.to(self.device)
        if node.get("parameter"):
            from chaingrad.nn.parameter import Parameter
            return Parameter(t, bool(node.get("requires_grad", True)))
        if node.get("requires_grad"):
            t.requires_grad_()
        return t

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError("load: checkpoint description nests too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or len(node) == 0:
            raise ValueError(f"load: corrupt checkpoint description near {str(node)[:60]!r}")
        if "$tensor" in node:
            return self.tensor(node)
        if "$float" in node:
            return float(node["$float"]) if node["$float"] in ("inf", "-inf", "nan") else _bad(node)
        if "$dtype" in node:
            return {"float32": float32, "float64": float64, "int64": int64, "bool": bool_}.get(node["$dtype"]) or _bad(node)
        if "$list" in node or "$tuple" in node:
            items = [self.decode(v, depth + 1) for v in _as_list(node.get("$list", node.get("$tuple")))]
            return items if "$list" in node else tuple(items)
        if "$dict" in node or "$odict" in node:
            pairs = _as_list(node.get("$dict", node.get("$odict")))
            out = OrderedDict() if "$odict" in node else {}
            for pair in pairs:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                    _bad(pair)
                out[pair[0]] = self.decode(pair[1], depth + 1)
            return out
        if "$module" in node:
            return self.module(node, depth)
        if "$pickle" in node:
            return self.unpickle(node)
        return _bad(node)

    def module(self, node: Dict[str, Any], depth: int) -> Any:
        cls = _module_types().get(node.get("$module"))
        if cls is None:
            raise ValueError(f"load: unknown module type {node.get('$module')!r} (only chaingrad's own "
                             "modules are rebuilt without pickle)")
        config = node.get("config", {})
        if not isinstance(config, dict) or not all(
                isinstance(v, (int, float, str, bool)) or v is None for v in config.values()):
            raise ValueError(f"load: corrupt configuration for {cls.__name__}: {config!r}")
        tensors = node.get("tensors", {})
        if not isinstance(tensors, dict) or not all(isinstance(t, dict) for t in tensors.values()):
            _bad(tensors)
        if cls.__name__ == "Linear":  # check the sizes against the stored weight before allocating
            weight = tensors.get("weight")
            shape = self.blob(weight.get("$tensor"))[1] if isinstance(weight, dict) else None
            if shape != [config.get("out_features"), config.get("in_features")]:
                raise ValueError(f"load: Linear configured as {config!r} but its weight has shape {shape}")
        children = [(name, self.decode(child, depth + 1)) for name, child in _as_list(node.get("children", []))]
        if cls.__name__ == "Sequential":
            module = cls(OrderedDict(children))
        else:
            try:
                module = cls(**config)
            except TypeError as err:
                raise ValueError(f"load: corrupt configuration for {cls.__name__}: {err}") from None
            for name, child in children:
                module.add_module(name, child)
        own = {name for name, p in module._parameters.items() if p is not None}
        if set(tensors) != own:
            raise ValueError(f"load: {cls.__name__} expects tensors {sorted(own)}, the checkpoint has "
                             f"{sorted(tensors)}")
        for name, t in tensors.items():
            value = self.decode(t, depth + 1)
            target = module._parameters[name]
            if not isinstance(value, Tensor) or tuple(value.shape) != tuple(target.shape):
                raise ValueError(f"load: {cls.__name__}.{name} should be a tensor of shape "
                                 f"{tuple(target.shape)}, got {getattr(value, 'shape', type(value).__name__)}")
            setattr(module, name, value if isinstance(value, type(target)) else type(target)(value))
        module.train(bool(node.get("training", True)))
        return module

    def unpickle(self, node: Dict[str, Any]) -> Any:
        cls = node.get("class", "an unknown class")
        if self.weights_only:
            raise UnsafeCheckpointError(
                f"this checkpoint holds an object of class {cls}, which only pickle can rebuild, and "
                "unpickling runs code from the file. If you trust the file, load it with "
                "chaingrad.load(path, weights_only=False).")
        code, _, raw = self.blob(node.get("$pickle"))
        if code != "U8":
            _bad(node)
        warnings.warn(f"chaingrad.load: unpickling an object of class {cls} (weights_only=False): this "
                      "runs code from the checkpoint", UserWarning, stacklevel=3)
        return pickle.loads(bytes(raw))

    def result(self) -> Any:
        if self.description is None:
            return OrderedDict((name, self.tensor({"$tensor": name})) for name in self.entries)
        return self.decode(self.description)


def _as_list(value: Any) -> list:
    if not isinstance(value, list):
        _bad(value)
    return value


def _bad(node: Any) -> Any:
    raise ValueError(f"load: corrupt checkpoint description near {str(node)[:60]!r}")


def load(f: FileLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Reads what save() wrote, its tensors on the CPU or on map_location (a device); objects of
    user-defined classes need weights_only=False."""
    where = _device_spec(map_location)
    if where != "cpu":
        F.empty(0, device=where)  # RuntimeError now, naming the reason, if the device cannot be used
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            payload = fh.read()
    else:
        payload = f.read()
    try:
        return _Reader(payload, weights_only, where).result()
    except RecursionError:
        raise ValueError("load: checkpoint description nests too deeply") from None
    except (TypeError, AttributeError, KeyError, IndexError, OverflowError, MemoryError, RuntimeError) as err:
        if isinstance(err, UnsafeCheckpointError) or str(err).startswith("CUDA"):
            raise  # the checkpoint is fine: the device failed (out of memory, ...)
        raise ValueError(f"load: corrupt checkpoint ({type(err).__name__}: {err})") from None

