"""chaingrad: a backpropagation engine with a C++ graph core.

`Value` is micrograd's scalar autograd type; `Tensor` and the functions below follow PyTorch, so
the notes' PyTorch scripts run with `import chaingrad as torch`. `chaingrad.micrograd` mirrors
micrograd's modules, `chaingrad.net` is the course's gate network, and `chaingrad.demos` runs the
notes' programs.
"""

import os as _os

from chaingrad._core import Value, get_num_threads, set_num_threads
from chaingrad._types import (
    Size, bfloat16, bool_, device, dtype, finfo, float16, float32, float64, iinfo, int8, int16, int32, int64, uint8,
)
from chaingrad.tensor import Tensor
from chaingrad import autograd, backends, cuda, nn, optim, utils
from chaingrad.serialization import load, save
from chaingrad import random
from chaingrad.random import Generator, default_generator, get_rng_state, initial_seed, seed, set_rng_state
from chaingrad import _indexing, _ops
from chaingrad import viz as _viz
from chaingrad._ops import *  # noqa: F401,F403  the op table's functions (exp, log1p, atan2, ...)
from chaingrad._indexing import *  # noqa: F401,F403  the index ops (gather, scatter, nonzero, ...)
from chaingrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from chaingrad.functional import (
    abs, amax, amin, arange, argmax, argmin, as_tensor, cat, clamp, concat, empty, empty_like, exp, flatten,
    can_cast, from_dlpack, from_numpy, full, full_like, get_default_dtype, is_tensor, linspace, log,
    log_softmax, manual_seed, matmul, max, maximum, mean, min, minimum, mm, norm, numel, ones,
    ones_like, permute, pow, rand, rand_like, randint, randn, randn_like, relu, reshape, sigmoid,
    bernoulli, multinomial, normal, randint_like, randperm,
    sin, cos, softmax, sqrt, square, squeeze, stack, sum, tanh, tensor, transpose, unsqueeze, var,
    where, promote_types, result_type,
    zeros, zeros_like,
)
from chaingrad.functional import (  # reductions, comparisons and the split, reorder, scan and count ops
    all, allclose, aminmax, any, argsort, bincount, chunk, count_nonzero, cumprod, cumsum, equal, flip, histc,
    histogram, isclose, logsumexp, nanmean, nansum, narrow, prod, roll, sort, split, std, std_mean, topk, tril,
    triu, unbind, unique, var_mean,
)
from chaingrad import return_types

# Jupyter shows a Value as the picture of its graph (when Graphviz's `dot` is installed).
Value._repr_svg_ = _viz.value_svg  # type: ignore[method-assign,assignment]  # a Python function as the method

# A forked child has none of the parent's worker threads; it starts on one thread, as PyTorch's.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=lambda: set_num_threads(1))

# PyTorch's dtype aliases
float = float32
double = float64
long = int64
bool = bool_
int = int32
short = int16
half = float16

__version__ = "0.1.0"
__all__ = [
    "Value", "Tensor", "get_num_threads", "set_num_threads", "Size", "dtype", "device", "float32",
    "float64", "int64", "bool_", "float", "double", "long", "bool", "float16", "bfloat16", "int32", "int16", "int8",
    "uint8", "int", "short", "half", "finfo", "iinfo", "autograd", "backends", "cuda",
    "nn", "optim", "utils", "save", "load", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "abs", "amax", "amin", "arange", "argmax", "argmin", "as_tensor", "cat", "clamp", "concat",
    "empty", "empty_like", "exp", "flatten", "from_dlpack", "from_numpy", "full", "full_like",
    "get_default_dtype", "is_tensor", "linspace", "log", "log_softmax", "manual_seed", "matmul",
    "max", "maximum", "mean", "min", "minimum", "mm", "norm", "numel", "ones", "ones_like",
    "permute", "pow", "rand", "rand_like", "randint", "randn", "randn_like", "relu", "reshape",
    "sigmoid", "sin", "cos", "softmax", "sqrt", "square", "squeeze", "stack", "sum", "tanh",
    "tensor", "transpose", "unsqueeze", "var", "where", "zeros", "zeros_like", "__version__",
    "promote_types", "result_type", "can_cast",
]
__all__ += ["random", "Generator", "default_generator", "seed", "initial_seed", "get_rng_state", "set_rng_state",
            "bernoulli", "multinomial", "normal", "randint_like", "randperm"]
__all__ += [
    "all", "allclose", "aminmax", "any", "argsort", "bincount", "chunk", "count_nonzero", "cumprod", "cumsum",
    "equal", "flip", "histc", "histogram", "isclose", "logsumexp", "nanmean", "nansum", "narrow", "prod", "roll",
    "sort", "split", "std", "std_mean", "topk", "tril", "triu", "unbind", "unique", "var_mean", "return_types",
]
__all__ += [name for name in _ops.__all__ if name not in __all__]
__all__ += _indexing.__all__
