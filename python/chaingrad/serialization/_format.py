"""The checkpoint format's constants and limits, shared by the writer and the reader."""

from __future__ import annotations

import os
from typing import IO, Dict, Union

import numpy as np

from chaingrad._types import bfloat16, bool_, float16, float32, float64, int8, int16, int32, int64, uint8

FileLike = Union[str, os.PathLike, IO[bytes]]

# safetensors' dtype codes: the chaingrad dtype and the numpy type of the bytes. "U8" blobs are the
# pickles' bytes unless a tensor node marks its blob as uint8 data; numpy has no bfloat16, so its
# bytes travel as int16 and are reinterpreted.
_DTYPES = {"F32": (float32, np.float32), "F64": (float64, np.float64), "I64": (int64, np.int64),
           "BOOL": (bool_, np.bool_), "U8": (None, np.uint8), "F16": (float16, np.float16),
           "BF16": (bfloat16, np.int16), "I32": (int32, np.int32), "I16": (int16, np.int16), "I8": (int8, np.int8)}
_CODE = {float32: "F32", float64: "F64", int64: "I64", bool_: "BOOL", float16: "F16", bfloat16: "BF16", int32: "I32",
         int16: "I16", int8: "I8", uint8: "U8"}
_DTYPE_NAMES = {d.name: d for d in _CODE}
_MAX_HEADER = 100 * 2**20  # safetensors' own limit
_MAX_ENTRIES = 2**20       # tensors in one file
_MAX_DEPTH = 200           # nesting of the saved object
_MAX_RANK = 64             # numpy's limit
_MAX_DIM = 2**63 - 1       # int64, as safetensors
_INT64 = (-2**63, 2**63 - 1)
_MAX_BIG_INT_DIGITS = 4300  # Python's own default limit for int(str)
# Module state that save() writes in its own fields, not among a module's plain attributes
_MODULE_INTERNALS = frozenset({"_parameters", "_buffers", "_modules", "training"})


class UnsafeCheckpointError(RuntimeError):
    """The checkpoint holds objects that only pickle can rebuild, and weights_only is True."""


def _module_types() -> Dict[str, type]:
    """The built-in module classes by name (imported late: chaingrad.nn imports this module)."""
    from chaingrad.nn.layers import BUILTIN_MODULES
    return BUILTIN_MODULES
