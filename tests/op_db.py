"""The tests' op database: one OpInfo per tensor op, driving the forward, gradient, second-derivative,
dtype and device-parity tests (tests/test_op_*.py).

An entry says how to call the op (`call(lib, *tensors)`, where lib is chaingrad or torch: the same
code runs on both), how to make sample inputs (float64 numpy arrays, over shapes that include
broadcasting, 0-d and empty where the op takes them), the input dtypes it accepts, a numpy reference
of its forward, whether it has a first and a second derivative, and the domain its samples keep to
(positive for log, away from kinks for finite differences). A new op gets one entry here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

Arrays = Tuple[np.ndarray, ...]
FLOATS = ("float32", "float64")
ALL_DTYPES = ("bool", "int64", "float32", "float64")

UNARY_SHAPES: List[Tuple[int, ...]] = [(), (5,), (2, 3, 2), (0, 3)]
BINARY_SHAPES: List[Tuple[Tuple[int, ...], ...]] = [((2, 3), (2, 3)), ((3, 1, 2), (2, 1)), ((), (2, 3)),
                                                     ((4,), ()), ((0, 3), (3,))]
REDUCE_SHAPES: List[Tuple[int, ...]] = [(5,), (3, 4), (2, 3, 2)]


@dataclass(frozen=True)
class Domain:
    """Where sample values lie: uniform in [low, high], and at least `gap` away from each kink."""

    low: float = -2.0
    high: float = 2.0
    kinks: Tuple[float, ...] = ()
    gap: float = 0.1

    def sample(self, rng: np.random.Generator, shape: Tuple[int, ...]) -> np.ndarray:
        """Values of `shape` in the domain (float64)."""
        x = rng.uniform(self.low, self.high, shape)
        for k in self.kinks:
            near = np.abs(x - k) < self.gap
            x = np.where(near, k + np.where(x >= k, self.gap, -self.gap) * 1.5, x)
        return np.asarray(x, dtype=np.float64)


ANY = Domain()
POSITIVE = Domain(0.2, 3.0)
NONZERO = Domain(-2.0, 2.0, kinks=(0.0,))
OPEN_UNIT = Domain(-0.9, 0.9)


@dataclass(frozen=True)
class OpInfo:
    """One op: how to call it, sample it and check it (see the module docstring)."""

    name: str
    call: Callable[..., Any]                       # call(lib, *tensors) -> tensor
    ref: Callable[..., np.ndarray]                 # numpy forward on the same arrays
    shapes: Sequence[Tuple[Tuple[int, ...], ...]]  # one tuple of input shapes per sample
    domains: Tuple[Domain, ...] = (ANY,)           # per input (the last repeats)
    dtypes: Tuple[str, ...] = FLOATS               # input dtypes the op accepts
    differentiable: bool = True
    second_derivative: bool = True
    covers: Tuple[str, ...] = ()                   # the exported names this entry tests (default: name)
    rtol: float = 1e-6                             # forward tolerance in float64 (float32: 1e-4)

    @property
    def arity(self) -> int:
        """The number of tensor inputs."""
        return len(self.shapes[0])

    def names(self) -> Tuple[str, ...]:
        """The exported names (Tensor methods, top-level functions) this entry stands for."""
        return self.covers or (self.name,)

    def samples(self, seed: int = 0, max_numel: Optional[int] = None) -> List[Arrays]:
        """One tuple of float64 arrays per sample shape (those up to max_numel elements per input)."""
        rng = np.random.default_rng(seed)
        out = []
        for shapes in self.shapes:
            if max_numel is not None and any(int(np.prod(s)) > max_numel for s in shapes):
                continue
            doms = [self.domains[min(i, len(self.domains) - 1)] for i in range(len(shapes))]
            out.append(tuple(d.sample(rng, s) for d, s in zip(doms, shapes)))
        return out


def _unary(name: str, ref: Callable[[np.ndarray], np.ndarray], domain: Domain = ANY, *,
           second: bool = True, differentiable: bool = True, dtypes: Tuple[str, ...] = FLOATS,
           covers: Tuple[str, ...] = ()) -> OpInfo:
    return OpInfo(name, lambda lib, x: getattr(x, name)(), ref, [(s,) for s in UNARY_SHAPES], (domain,),
                  dtypes, differentiable, second, covers or (name,))


def _binary(name: str, fn: Callable[[Any, Any], Any], ref: Callable[[np.ndarray, np.ndarray], np.ndarray],
            domains: Tuple[Domain, ...] = (ANY,), *, second: bool = True, differentiable: bool = True,
            dtypes: Tuple[str, ...] = FLOATS, covers: Tuple[str, ...] = ()) -> OpInfo:
    return OpInfo(name, lambda lib, a, b: fn(a, b), ref, BINARY_SHAPES, domains, dtypes, differentiable,
                  second, covers or (name,))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _activation(name: str, ref: Callable[[np.ndarray], np.ndarray], domain: Domain = ANY,
                **params: Any) -> OpInfo:
    """An activation of nn.functional (exported at the top level too), with keyword parameters."""
    label = name + "".join(f"_{k}_{v}" for k, v in params.items())
    return OpInfo(label, lambda lib, x: getattr(lib.nn.functional, name)(x, **params), ref,
                  [(s,) for s in UNARY_SHAPES], (domain,), FLOATS, True, True, (name,))


def _softmax(x: np.ndarray, dim: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _normalize(x: np.ndarray, dims: Tuple[int, ...]) -> np.ndarray:
    """(x - mean) / sqrt(biased var + 1e-5) over dims, the default eps of layer_norm and batch_norm."""
    centered = x - x.mean(dims, keepdims=True)
    return centered / np.sqrt((centered ** 2).mean(dims, keepdims=True) + 1e-5)


def _channels(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A per-channel vector shaped to broadcast against x (N, C, d...)."""
    return v.reshape((1, -1) + (1,) * (x.ndim - 2))


def _distinct(low: float = -2.0, high: float = 2.0) -> Domain:
    """A domain for max/min-like ops: random values rarely tie, and ties are what would break the
    finite differences (kinks at equal values cannot be listed, so the samples are drawn wide)."""
    return Domain(low, high)


# --- the index ops' constant indices and numpy references ---
_GATHER = np.array([[0, 3, 3], [1, 0, 2], [2, 2, 2]])   # gather along dim 1 of (3, 4)
_SCATTER = np.array([[0, 3], [2, 1], [1, 0]])           # distinct per row: scatter writes once
_SCATTER_ADD = np.array([[0, 1, 2, 0], [0, 0, 2, 1]])   # repeats: scatter_add accumulates


def _put_along(x: np.ndarray, index: np.ndarray, src: Any, dim: int, add: bool) -> np.ndarray:
    """x with src written (or added) at index along dim, numpy's loops spelled out."""
    out = x.copy()
    src = np.broadcast_to(np.asarray(src, dtype=x.dtype), index.shape)
    for pos in np.ndindex(*index.shape):
        at = list(pos)
        at[dim] = index[pos]
        out[tuple(at)] = out[tuple(at)] + src[pos] if add else src[pos]
    return out


def _add_at(x: np.ndarray, rows: List[int], values: np.ndarray) -> np.ndarray:
    out = x.copy()
    np.add.at(out, rows, np.broadcast_to(values, (len(rows),) + x.shape[1:]))
    return out


def _setitem(x: Any, key: Any, value: Any) -> Any:
    """A copy of x (in x's graph) with x[key] = value done to it: the assignment as an expression."""
    out = x * 1
    out[key] = value
    return out


def _fill_at(x: np.ndarray, key: Any, value: Any) -> np.ndarray:
    out = x.copy()
    out[key] = value
    return out


OPS: List[OpInfo] = [
    # --- elementwise unary ---
    _unary("abs", np.abs, NONZERO, dtypes=("int64", "float32", "float64")),
    _unary("neg", np.negative, dtypes=("int64", "float32", "float64")),
    _unary("exp", np.exp),
    _unary("log", np.log, POSITIVE),
    _unary("sqrt", np.sqrt, POSITIVE),
    _unary("tanh", np.tanh),
    _unary("sigmoid", _sigmoid),
    _unary("relu", lambda x: np.maximum(x, 0.0), NONZERO, dtypes=("int64", "float32", "float64")),
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("sign", np.sign, NONZERO, second=False, dtypes=("int64", "float32", "float64")),
    _unary("square", np.square, dtypes=("int64", "float32", "float64")),
    _unary("log1p", np.log1p, Domain(-0.8, 2.0)),
    _unary("expm1", np.expm1, dtypes=("int64", "float32", "float64")),
    _unary("log2", np.log2, POSITIVE, dtypes=("int64", "float32", "float64")),
    _unary("log10", np.log10, POSITIVE, dtypes=("int64", "float32", "float64")),
    _unary("rsqrt", lambda x: 1.0 / np.sqrt(x), POSITIVE, dtypes=("int64", "float32", "float64")),
    _unary("erf", _erf, dtypes=("int64", "float32", "float64")),
    # --- activations (nn.functional and the top level) ---
    _activation("softplus", lambda x: np.where(x > 20, x, np.log1p(np.exp(x)))),
    _activation("softplus", lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2), Domain(kinks=(1.5,)),
                beta=2, threshold=3),
    _activation("silu", lambda x: x * _sigmoid(x)),
    _activation("gelu", lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    _activation("gelu", lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
                approximate="tanh"),
    _activation("leaky_relu", lambda x: np.where(x > 0, x, 0.01 * x), NONZERO),
    _activation("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x), NONZERO, negative_slope=0.2),
    _activation("elu", lambda x: np.where(x > 0, x, np.expm1(x)), NONZERO),
    _activation("elu", lambda x: np.where(x > 0, x, 2 * np.expm1(x)), NONZERO, alpha=2.0),
    _activation("hardtanh", lambda x: np.clip(x, -1, 1), Domain(kinks=(-1.0, 1.0))),
    _activation("hardtanh", lambda x: np.clip(x, -2, 0.5), Domain(-3.0, 2.0, kinks=(-2.0, 0.5)), min_val=-2.0,
                max_val=0.5),
    _activation("logsigmoid", lambda x: -np.log1p(np.exp(-x))),
    # --- elementwise binary (broadcast) ---
    _binary("add", lambda a, b: a + b, np.add, dtypes=ALL_DTYPES[1:], covers=("add", "__add__", "__radd__")),
    _binary("sub", lambda a, b: a - b, np.subtract, dtypes=ALL_DTYPES[1:], covers=("sub", "__sub__", "__rsub__")),
    _binary("mul", lambda a, b: a * b, np.multiply, dtypes=ALL_DTYPES[1:], covers=("mul", "__mul__", "__rmul__")),
    _binary("div", lambda a, b: a / b, np.divide, (ANY, NONZERO), dtypes=ALL_DTYPES[1:],
            covers=("div", "__truediv__", "__rtruediv__")),
    _binary("pow", lambda a, b: a ** b, np.power, (POSITIVE, ANY), covers=("pow", "__pow__", "__rpow__")),
    _binary("maximum", lambda a, b: a.maximum(b), np.maximum, (_distinct(),), dtypes=ALL_DTYPES[1:]),
    _binary("minimum", lambda a, b: a.minimum(b), np.minimum, (_distinct(),), dtypes=ALL_DTYPES[1:]),
    _binary("atan2", lambda a, b: a.atan2(b), np.arctan2, (NONZERO, ANY)),
    _binary("fmod", lambda a, b: a.fmod(b), np.fmod, (Domain(0.2, 0.9), Domain(1.0, 2.0)),
            dtypes=("int64", "float32", "float64")),
    _binary("remainder", lambda a, b: a % b, np.remainder, (Domain(0.2, 0.9), Domain(1.0, 2.0)),
            dtypes=("int64", "float32", "float64"), covers=("remainder", "__mod__", "__rmod__")),
    _binary("eq", lambda a, b: a == b, np.equal, differentiable=False, dtypes=ALL_DTYPES, covers=("eq", "__eq__")),
    _binary("ne", lambda a, b: a != b, np.not_equal, differentiable=False, dtypes=ALL_DTYPES,
            covers=("ne", "__ne__")),
    _binary("lt", lambda a, b: a < b, np.less, differentiable=False, dtypes=ALL_DTYPES[1:], covers=("lt", "__lt__")),
    _binary("le", lambda a, b: a <= b, np.less_equal, differentiable=False, dtypes=ALL_DTYPES[1:],
            covers=("le", "__le__")),
    _binary("gt", lambda a, b: a > b, np.greater, differentiable=False, dtypes=ALL_DTYPES[1:],
            covers=("gt", "__gt__")),
    _binary("ge", lambda a, b: a >= b, np.greater_equal, differentiable=False, dtypes=ALL_DTYPES[1:],
            covers=("ge", "__ge__")),
    # --- with a Python scalar ---
    OpInfo("pow_scalar", lambda lib, x: x ** 3, lambda x: x ** 3, [(s,) for s in UNARY_SHAPES],
           covers=("pow", "__pow__")),
    OpInfo("pow_fractional_scalar", lambda lib, x: x ** 0.5, np.sqrt, [(s,) for s in UNARY_SHAPES], (POSITIVE,),
           covers=("pow",)),
    OpInfo("rpow_scalar", lambda lib, x: 2.0 ** x, lambda x: 2.0 ** x, [(s,) for s in UNARY_SHAPES],
           covers=("__rpow__",)),
    OpInfo("add_scalar_alpha", lambda lib, a, b: a.add(b, alpha=2.5), lambda a, b: a + 2.5 * b, BINARY_SHAPES,
           covers=("add",)),
    OpInfo("sub_scalar_alpha", lambda lib, a, b: a.sub(b, alpha=0.5), lambda a, b: a - 0.5 * b, BINARY_SHAPES,
           covers=("sub",)),
    OpInfo("clamp", lambda lib, x: x.clamp(-0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8),
           [(s,) for s in UNARY_SHAPES], (Domain(kinks=(-0.5, 0.8)),), dtypes=("float32", "float64"),
           covers=("clamp", "clip")),
    OpInfo("clamp_min", lambda lib, x: x.clamp(min=0.25), lambda x: np.maximum(x, 0.25),
           [(s,) for s in UNARY_SHAPES], (Domain(kinks=(0.25,)),), covers=("clamp",)),
    OpInfo("where", lambda lib, c, a, b: lib.where(c > 0, a, b), lambda c, a, b: np.where(c > 0, a, b),
           [((2, 3), (2, 3), (2, 3)), ((3, 1), (1, 4), (4,)), ((), (2,), ())], (NONZERO, ANY),
           covers=("where",)),
    # --- reductions ---
    OpInfo("sum", lambda lib, x: x.sum(), lambda x: np.sum(x), [(s,) for s in UNARY_SHAPES],
           dtypes=ALL_DTYPES[1:]),
    OpInfo("sum_dim", lambda lib, x: x.sum(-1, keepdim=True), lambda x: x.sum(-1, keepdims=True),
           [(s,) for s in REDUCE_SHAPES], covers=("sum",)),
    OpInfo("mean", lambda lib, x: x.mean(), lambda x: np.mean(x), [(s,) for s in REDUCE_SHAPES]),
    OpInfo("mean_dims", lambda lib, x: x.mean((0, -1)), lambda x: x.mean((0, -1)), [((3, 4),), ((2, 3, 2),)],
           covers=("mean",)),
    OpInfo("max", lambda lib, x: x.max(), lambda x: np.max(x), [(s,) for s in REDUCE_SHAPES], (_distinct(),),
           dtypes=ALL_DTYPES[1:], second_derivative=False),
    OpInfo("max_dim", lambda lib, x: x.max(1).values, lambda x: x.max(1), [((3, 4),), ((2, 3, 2),)],
           (_distinct(),), second_derivative=False, covers=("max",)),
    OpInfo("min", lambda lib, x: x.min(), lambda x: np.min(x), [(s,) for s in REDUCE_SHAPES], (_distinct(),),
           dtypes=ALL_DTYPES[1:], second_derivative=False),
    OpInfo("min_dim", lambda lib, x: x.min(0, keepdim=True).values, lambda x: x.min(0, keepdims=True),
           [((3, 4),), ((2, 3, 2),)], (_distinct(),), second_derivative=False, covers=("min",)),
    OpInfo("amax", lambda lib, x: x.amax(-1), lambda x: x.max(-1), [(s,) for s in REDUCE_SHAPES], (_distinct(),),
           second_derivative=False),
    OpInfo("amin", lambda lib, x: x.amin((0, 1)), lambda x: x.min((0, 1)), [((3, 4),), ((2, 3, 2),)],
           (_distinct(),), second_derivative=False),
    OpInfo("argmax", lambda lib, x: x.argmax(-1), lambda x: x.argmax(-1), [(s,) for s in REDUCE_SHAPES],
           (_distinct(),), differentiable=False),
    OpInfo("argmin", lambda lib, x: x.argmin(), lambda x: np.argmin(x), [(s,) for s in REDUCE_SHAPES],
           (_distinct(),), differentiable=False),
    OpInfo("var", lambda lib, x: x.var(-1), lambda x: x.var(-1, ddof=1), [(s,) for s in REDUCE_SHAPES]),
    OpInfo("var_biased", lambda lib, x: x.var(unbiased=False), lambda x: x.var(), [(s,) for s in REDUCE_SHAPES],
           covers=("var",)),
    OpInfo("std", lambda lib, x: x.std(0, keepdim=True), lambda x: x.std(0, ddof=1, keepdims=True),
           [(s,) for s in REDUCE_SHAPES]),
    OpInfo("norm", lambda lib, x: x.norm(), lambda x: np.sqrt((x ** 2).sum()), [(s,) for s in REDUCE_SHAPES]),
    OpInfo("norm_p3_dim", lambda lib, x: x.norm(3, dim=-1), lambda x: (np.abs(x) ** 3).sum(-1) ** (1 / 3),
           [(s,) for s in REDUCE_SHAPES], (NONZERO,), covers=("norm",)),
    OpInfo("softmax", lambda lib, x: x.softmax(-1), lambda x: _softmax(x, -1), [(s,) for s in REDUCE_SHAPES]),
    OpInfo("log_softmax", lambda lib, x: x.log_softmax(0), lambda x: np.log(_softmax(x, 0)),
           [(s,) for s in REDUCE_SHAPES]),
    # --- normalization and lookup layers (nn.functional) ---
    OpInfo("layer_norm", lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (x.shape[-1],), w, b),
           lambda x, w, b: _normalize(x, (-1,)) * w + b, [((3, 4), (4,), (4,)), ((2, 3, 4), (4,), (4,))]),
    OpInfo("batch_norm", lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, training=True),
           lambda x, w, b: _normalize(x, (0,) + tuple(range(2, x.ndim))) * _channels(w, x) + _channels(b, x),
           [((5, 3), (3,), (3,)), ((4, 3, 2), (3,), (3,))]),
    OpInfo("embedding", lambda lib, w: lib.nn.functional.embedding(lib.tensor([[0, 2], [1, 0]]), w),
           lambda w: w[np.array([[0, 2], [1, 0]])], [((3, 4),)]),
    # --- reductions: numpy's spellings, several dims, corrections (tests/test_reductions_api.py) ---
    OpInfo("sum_dims_keepdims", lambda lib, x: x.sum(dim=[0, 2], keepdims=True),
           lambda x: x.sum((0, 2), keepdims=True), [((2, 3, 2),), ((3, 1, 4),)], dtypes=ALL_DTYPES[1:],
           covers=("sum",)),
    OpInfo("mean_keepdims", lambda lib, x: lib.mean(x, (0, 1), keepdims=True), lambda x: x.mean((0, 1), keepdims=True),
           [((3, 4),), ((2, 3, 2),)], covers=("mean",)),
    OpInfo("var_correction", lambda lib, x: x.var(dim=(0, -1), correction=0, keepdims=True),
           lambda x: x.var((0, -1), keepdims=True), [((3, 4),), ((2, 3, 2),)], covers=("var",)),
    OpInfo("std_unbiased", lambda lib, x: lib.std(x, 1, True, True), lambda x: x.std(1, ddof=1, keepdims=True),
           [((3, 4),), ((2, 3, 2),)], covers=("std",)),
    OpInfo("var_mean", lambda lib, x: sum(r * (k + 1) for k, r in enumerate(lib.var_mean(x, 0, keepdim=True))),
           lambda x: x.var(0, ddof=1, keepdims=True) + 2 * x.mean(0, keepdims=True), [((3, 4),), ((5,),)]),
    OpInfo("std_mean", lambda lib, x: sum(r * (k + 1) for k, r in enumerate(lib.std_mean(x, correction=0))),
           lambda x: x.std() + 2 * x.mean(), [((3, 4),), ((5,),)]),
    OpInfo("prod", lambda lib, x: x.prod(), np.prod, [(s,) for s in UNARY_SHAPES], dtypes=ALL_DTYPES),
    OpInfo("prod_dim", lambda lib, x: lib.prod(x, 1, keepdim=True), lambda x: x.prod(1, keepdims=True),
           [((3, 5),), ((2, 3, 2),), ((2, 0),)], dtypes=ALL_DTYPES[1:], covers=("prod",)),
    OpInfo("logsumexp", lambda lib, x: x.logsumexp(-1), lambda x: np.log(np.exp(x).sum(-1)),
           [(s,) for s in REDUCE_SHAPES], dtypes=ALL_DTYPES[1:]),
    OpInfo("logsumexp_dims", lambda lib, x: lib.logsumexp(x, (0, 1), keepdim=True),
           lambda x: np.log(np.exp(x).sum((0, 1), keepdims=True)), [((3, 4),), ((2, 3, 2),)], covers=("logsumexp",)),
    OpInfo("nansum", lambda lib, x: x.nansum(1), lambda x: x.sum(1), [((3, 4),), ((2, 3, 2),)],
           dtypes=ALL_DTYPES[1:]),
    OpInfo("nanmean", lambda lib, x: lib.nanmean(x, (0, 1), keepdim=True), lambda x: x.mean((0, 1), keepdims=True),
           [((3, 4),), ((2, 3, 2),)]),
    OpInfo("aminmax", lambda lib, x: lib.aminmax(x, dim=1).min - 2 * x.aminmax(dim=1).max,
           lambda x: x.min(1) - 2 * x.max(1), [((3, 4),), ((2, 3, 2),)], (_distinct(),), dtypes=ALL_DTYPES[1:],
           second_derivative=False),
    OpInfo("count_nonzero", lambda lib, x: lib.count_nonzero(x > 0.5, dim=0), lambda x: (x > 0.5).sum(0),
           [((3, 4),), ((2, 3, 2),)], differentiable=False, dtypes=ALL_DTYPES[1:]),
    OpInfo("all", lambda lib, x: x.all(1), lambda x: (x != 0).all(1), [((3, 4),), ((2, 3, 2),)],
           (Domain(-1.0, 1.0),), differentiable=False, dtypes=ALL_DTYPES),
    OpInfo("any", lambda lib, x: lib.any(x > 0.5, dim=0, keepdim=True), lambda x: (x > 0.5).any(0, keepdims=True),
           [((3, 4),), ((2, 3, 2),)], differentiable=False, dtypes=ALL_DTYPES[1:]),
    OpInfo("isclose", lambda lib, a, b: lib.isclose(a, a + b * 1e-6), lambda a, b: np.isclose(a, a + b * 1e-6),
           [((2, 3), (2, 3)), ((3, 1, 2), (2, 1))], (ANY, Domain(-20.0, 20.0)), differentiable=False),
    # --- split, reorder, scan, count (tests/test_shape_ops.py) ---
    OpInfo("narrow", lambda lib, x: x.narrow(1, -3, 2), lambda x: x[:, -3:-1], [((2, 4),), ((3, 3, 2),)],
           dtypes=ALL_DTYPES),
    OpInfo("unbind", lambda lib, x: lib.stack(lib.unbind(x, 1)[::-1], 0), lambda x: np.moveaxis(x, 1, 0)[::-1],
           [((2, 3),), ((3, 2, 2),)], dtypes=ALL_DTYPES),
    OpInfo("split", lambda lib, x: lib.cat(x.split(2, 1)[::-1], 1), lambda x: np.concatenate([x[:, 4:], x[:, 2:4],
                                                                                               x[:, :2]], 1),
           [((2, 5),), ((1, 5, 2),)], dtypes=ALL_DTYPES),
    OpInfo("split_sizes", lambda lib, x: lib.split(x, [1, 3], -1)[1] * 2, lambda x: x[..., 1:] * 2,
           [((2, 4),), ((4,),)], covers=("split",)),
    OpInfo("chunk", lambda lib, x: lib.cat(lib.chunk(x, 3)[::-1], 0), lambda x: np.concatenate([x[4:], x[2:4], x[:2]]),
           [((5,),), ((5, 2),)], dtypes=ALL_DTYPES),
    OpInfo("flip", lambda lib, x: x.flip(0, -1), lambda x: x[::-1, ..., ::-1], [((3, 4),), ((2, 3, 2),), ((1, 4),)],
           dtypes=ALL_DTYPES),
    OpInfo("roll", lambda lib, x: lib.roll(x, (1, -5), (0, 1)), lambda x: np.roll(x, (1, -5), (0, 1)),
           [((3, 4),), ((2, 3, 2),)], dtypes=ALL_DTYPES),
    OpInfo("roll_flat", lambda lib, x: x.roll(2), lambda x: np.roll(x, 2), [((3, 4),), ((5,),)], covers=("roll",)),
    OpInfo("tril", lambda lib, x: x.tril(), np.tril, [((3, 4),), ((2, 3, 3),), ((4, 2),)], dtypes=ALL_DTYPES),
    OpInfo("triu", lambda lib, x: lib.triu(x, 1), lambda x: np.triu(x, 1), [((3, 4),), ((2, 3, 3),)],
           dtypes=ALL_DTYPES),
    OpInfo("tril_diagonal", lambda lib, x: lib.tril(x, diagonal=-1), lambda x: np.tril(x, -1), [((4, 3),)],
           covers=("tril",)),
    OpInfo("cumsum", lambda lib, x: x.cumsum(0), lambda x: np.cumsum(x, 0) if x.ndim else x,
           [(s,) for s in UNARY_SHAPES], dtypes=ALL_DTYPES),
    OpInfo("cumsum_dim", lambda lib, x: lib.cumsum(x, dim=-1), lambda x: np.cumsum(x, -1), [((3, 4),), ((2, 3, 2),)],
           covers=("cumsum",)),
    OpInfo("cumprod", lambda lib, x: x.cumprod(-1), lambda x: np.cumprod(x, -1) if x.ndim else x,
           [(s,) for s in UNARY_SHAPES], (NONZERO,), dtypes=ALL_DTYPES),
    OpInfo("cumprod_dim", lambda lib, x: lib.cumprod(x, 0, dtype=lib.float64), lambda x: np.cumprod(x, 0),
           [((3, 4),), ((2, 3, 2),)], covers=("cumprod",)),
    OpInfo("sort", lambda lib, x: x.sort(1).values, lambda x: np.sort(x, 1), [((3, 4),), ((2, 5, 2),)],
           dtypes=ALL_DTYPES[1:]),
    OpInfo("sort_descending", lambda lib, x: lib.sort(x, 0, descending=True)[0], lambda x: -np.sort(-x, 0),
           [((5,),), ((3, 4),)], dtypes=ALL_DTYPES[1:], covers=("sort",)),
    OpInfo("argsort", lambda lib, x: x.argsort(-1, descending=True), lambda x: np.argsort(-x, -1, kind="stable"),
           [((3, 4),), ((6,),)], differentiable=False, dtypes=ALL_DTYPES[1:]),
    OpInfo("topk", lambda lib, x: x.topk(2).values, lambda x: -np.sort(-x, -1)[..., :2], [((3, 4),), ((2, 3, 5),)],
           dtypes=ALL_DTYPES[1:]),
    OpInfo("topk_smallest", lambda lib, x: lib.topk(x, 3, 0, largest=False)[0], lambda x: np.sort(x, 0)[:3],
           [((4, 2),), ((5,),)], dtypes=ALL_DTYPES[1:], covers=("topk",)),
    OpInfo("unique", lambda lib, x: lib.unique((x * 2).long()), lambda x: np.unique((x * 2).astype(np.int64)),
           [((3, 4),), ((7,),)], differentiable=False),
    OpInfo("bincount", lambda lib, x: lib.bincount((x * 3).abs().long(), minlength=9),
           lambda x: np.bincount(np.abs(x * 3).astype(np.int64), minlength=9), [((12,),), ((0,),)],
           differentiable=False),
    OpInfo("histc", lambda lib, x: x.histc(6, -1, 1), lambda x: np.histogram(x, 6, (-1, 1))[0],
           [((20,),), ((4, 5),)], differentiable=False, rtol=0.0),
    OpInfo("histogram", lambda lib, x: lib.histogram(x, 5, range=(-1.0, 1.5)).hist,
           lambda x: np.histogram(x, 5, (-1.0, 1.5))[0], [((20,),), ((4, 5),)], differentiable=False, rtol=0.0),
    # --- linear algebra ---
    OpInfo("matmul", lambda lib, a, b: a @ b, np.matmul,
           [((3, 4), (4, 2)), ((2, 3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 1, 2, 3), (3, 3, 2))],
           dtypes=FLOATS, covers=("matmul", "mm", "__matmul__", "__rmatmul__")),
    OpInfo("dot", lambda lib, a, b: a.dot(b), np.dot, [((5,), (5,))]),
    OpInfo("linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), lambda x, w, b: x @ w.T + b,
           [((3, 4), (2, 4), (2,)), ((2, 3, 4), (5, 4), (5,))], covers=("linear",)),
    # --- views and copies ---
    OpInfo("reshape", lambda lib, x: x.reshape(3, -1), lambda x: x.reshape(3, -1), [((2, 3, 2),), ((3, 4),)],
           dtypes=ALL_DTYPES, covers=("reshape", "reshape_as")),
    OpInfo("view", lambda lib, x: x.view(-1), lambda x: x.reshape(-1), [((2, 3, 2),), ((),)], dtypes=ALL_DTYPES,
           covers=("view", "view_as")),
    OpInfo("flatten", lambda lib, x: x.flatten(1), lambda x: x.reshape(x.shape[0], -1), [((2, 3, 2),), ((3, 4),)],
           dtypes=ALL_DTYPES),
    OpInfo("permute", lambda lib, x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), [((2, 3, 4),)],
           dtypes=ALL_DTYPES),
    OpInfo("transpose", lambda lib, x: x.transpose(0, -1), lambda x: np.swapaxes(x, 0, -1),
           [((2, 3, 4),), ((3, 4),)], dtypes=ALL_DTYPES, covers=("transpose", "t", "T", "mT")),
    OpInfo("expand", lambda lib, x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
           [((3, 1),), ((4,),), ((),)], dtypes=ALL_DTYPES, covers=("expand", "expand_as")),
    OpInfo("squeeze", lambda lib, x: x.squeeze(), np.squeeze, [((1, 3, 1),), ((2, 3),), ((1,),)], dtypes=ALL_DTYPES),
    OpInfo("unsqueeze", lambda lib, x: x.unsqueeze(1), lambda x: np.expand_dims(x, 1), [((2, 3),), ((4,),)],
           dtypes=ALL_DTYPES),
    OpInfo("cat", lambda lib, a, b: lib.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1),
           [((2, 3), (2, 2)), ((2, 0), (2, 3))], dtypes=ALL_DTYPES, covers=("cat", "concat")),
    OpInfo("stack", lambda lib, a, b: lib.stack([a, b], -1), lambda a, b: np.stack([a, b], -1),
           [((2, 3), (2, 3)), ((), ())], dtypes=ALL_DTYPES),
    OpInfo("index", lambda lib, x: x[1:, ::2], lambda x: x[1:, ::2], [((3, 5),), ((4, 3, 2),)], dtypes=ALL_DTYPES,
           covers=("__getitem__",)),
    OpInfo("index_int", lambda lib, x: x[-1], lambda x: x[-1], [((3, 5),), ((4,),)], dtypes=ALL_DTYPES,
           covers=("__getitem__",)),
    # --- advanced indexing and the index ops (cpp/tensor/indexing.cpp) ---
    OpInfo("index_tensor", lambda lib, x: x[lib.tensor([2, 0, 2])], lambda x: x[[2, 0, 2]], [((3, 4),), ((4, 2, 3),)],
           dtypes=ALL_DTYPES, covers=("__getitem__",)),
    OpInfo("index_tensors_apart", lambda lib, x: x[lib.tensor([[0], [2]]), 1:, lib.tensor([1, 0, 1])],
           lambda x: x[np.array([[0], [2]]), 1:, np.array([1, 0, 1])], [((3, 4, 2),)], dtypes=ALL_DTYPES,
           covers=("__getitem__",)),
    OpInfo("index_tensors_adjacent", lambda lib, x: x[:, [1, 1, 0], [2, 0, -1]], lambda x: x[:, [1, 1, 0], [2, 0, -1]],
           [((2, 3, 4),)], dtypes=ALL_DTYPES, covers=("__getitem__",)),
    OpInfo("index_mask", lambda lib, x: x[x > 0], lambda x: x[x > 0], [((3, 4),), ((5,),), ((0, 3),)], (NONZERO,),
           dtypes=ALL_DTYPES, covers=("__getitem__",)),
    OpInfo("index_range_list", lambda lib, x: x[range(3), [3, 0, 1]], lambda x: x[[0, 1, 2], [3, 0, 1]],
           [((3, 4),)], dtypes=ALL_DTYPES, covers=("__getitem__",)),
    OpInfo("setitem_tensor_index", lambda lib, x, v: _setitem(x, (range(3), lib.tensor([3, 0, 3])), v),
           lambda x, v: _fill_at(x, (range(3), [3, 0, 3]), v), [((3, 4), (3,)), ((3, 4), ())],
           covers=("__getitem__",)),
    OpInfo("setitem_mask", lambda lib, x, v: _setitem(x, x > 0, v), lambda x, v: _fill_at(x, x > 0, v),
           [((3, 4), ())], (NONZERO,), covers=("__getitem__",)),
    OpInfo("setitem_slice", lambda lib, x, v: _setitem(x, (slice(1, None), 0), v),
           lambda x, v: _fill_at(x, (slice(1, None), 0), v), [((3, 4), (2,)), ((3, 4), ())],
           covers=("__getitem__",)),
    OpInfo("index_put", lambda lib, x, v: x.index_put((lib.tensor([0, 2, 0]),), v, accumulate=True),
           lambda x, v: _add_at(x, [0, 2, 0], v), [((3, 4), (3, 4)), ((3, 4), (4,))]),
    OpInfo("index_put_", lambda lib, x, v: x.clone().index_put_((lib.tensor([2, 0]), lib.tensor([1, 1])), v),
           lambda x, v: _fill_at(x, ([2, 0], [1, 1]), v), [((3, 4), (2,)), ((3, 4), ())]),
    OpInfo("gather", lambda lib, x: x.gather(1, lib.tensor(_GATHER)), lambda x: np.take_along_axis(x, _GATHER, 1),
           [((3, 4),)], dtypes=ALL_DTYPES),
    OpInfo("take_along_dim", lambda lib, x: lib.take_along_dim(x, lib.tensor([[0], [3], [1]]), 1),
           lambda x: np.take_along_axis(x, np.array([[0], [3], [1]]), 1), [((3, 4),)], dtypes=ALL_DTYPES),
    OpInfo("scatter", lambda lib, x, s: x.scatter(1, lib.tensor(_SCATTER), s),
           lambda x, s: _put_along(x, _SCATTER, s, 1, False), [((3, 4), (3, 2))]),
    OpInfo("scatter_value", lambda lib, x: x.scatter(1, lib.tensor(_SCATTER), 1.5),
           lambda x: _put_along(x, _SCATTER, 1.5, 1, False), [((3, 4),)], covers=("scatter",)),
    OpInfo("scatter_", lambda lib, x, s: x.clone().scatter_(1, lib.tensor(_SCATTER), s),
           lambda x, s: _put_along(x, _SCATTER, s, 1, False), [((3, 4), (3, 2))]),
    OpInfo("scatter_add", lambda lib, x, s: x.scatter_add(0, lib.tensor(_SCATTER_ADD), s),
           lambda x, s: _put_along(x, _SCATTER_ADD, s, 0, True), [((3, 4), (2, 4))], dtypes=FLOATS + ("int64",)),
    OpInfo("scatter_add_", lambda lib, x, s: x.clone().scatter_add_(0, lib.tensor(_SCATTER_ADD), s),
           lambda x, s: _put_along(x, _SCATTER_ADD, s, 0, True), [((3, 4), (2, 4))]),
    OpInfo("index_select", lambda lib, x: x.index_select(1, lib.tensor([3, 0, 3])), lambda x: x[:, [3, 0, 3]],
           [((3, 4),), ((2, 4, 2),)], dtypes=ALL_DTYPES),
    OpInfo("index_add", lambda lib, x, s: x.index_add(0, lib.tensor([2, 0, 2]), s, alpha=2),
           lambda x, s: _add_at(x, [2, 0, 2], 2 * s), [((3, 4), (3, 4))], dtypes=FLOATS + ("int64",)),
    OpInfo("index_add_", lambda lib, x, s: x.clone().index_add_(0, lib.tensor([2, 0, 2]), s),
           lambda x, s: _add_at(x, [2, 0, 2], s), [((3, 4), (3, 4))]),
    OpInfo("index_fill", lambda lib, x: x.index_fill(1, lib.tensor([0, 2]), -1.5),
           lambda x: _fill_at(x, (slice(None), [0, 2]), -1.5), [((3, 4),), ((2, 4, 2),)]),
    OpInfo("index_fill_", lambda lib, x: x.clone().index_fill_(0, lib.tensor([1]), 0.5),
           lambda x: _fill_at(x, 1, 0.5), [((3, 4),)]),
    OpInfo("masked_fill", lambda lib, x: x.masked_fill(x > 0, 0.5), lambda x: np.where(x > 0, 0.5, x),
           [((3, 4),), ((5,),), ((),)], (NONZERO,)),
    OpInfo("masked_fill_tensor", lambda lib, x, v: x.masked_fill(x < 0, v), lambda x, v: np.where(x < 0, v, x),
           [((3, 4), ()), ((), ())], (NONZERO,), covers=("masked_fill",)),
    OpInfo("masked_fill_", lambda lib, x: x.clone().masked_fill_(x > 0, -0.5), lambda x: np.where(x > 0, -0.5, x),
           [((3, 4),)], (NONZERO,)),
    OpInfo("masked_select", lambda lib, x: x.masked_select(x > 0), lambda x: x[x > 0], [((3, 4),), ((5,),)],
           (NONZERO,), dtypes=ALL_DTYPES),
    OpInfo("take", lambda lib, x: lib.take(x, lib.tensor([[0, -1], [5, 0]])),
           lambda x: x.reshape(-1)[np.array([[0, -1], [5, 0]])], [((3, 4),), ((2, 3),)], dtypes=ALL_DTYPES),
    OpInfo("nonzero", lambda lib, x: lib.nonzero(x > 0), lambda x: np.argwhere(x > 0),
           [((3, 4),), ((5,),), ((0, 3),), ((),)], (NONZERO,), dtypes=ALL_DTYPES, differentiable=False,
           covers=("nonzero", "argwhere")),
    OpInfo("clone", lambda lib, x: x.clone(), np.copy, [(s,) for s in UNARY_SHAPES], dtypes=ALL_DTYPES),
    OpInfo("contiguous", lambda lib, x: x.transpose(0, 1).contiguous(), lambda x: np.ascontiguousarray(x.T),
           [((3, 4),)], dtypes=ALL_DTYPES),
    OpInfo("to_float64", lambda lib, x: x.to(lib.float64), lambda x: x.astype(np.float64),
           [(s,) for s in UNARY_SHAPES], dtypes=ALL_DTYPES, covers=("to", "double", "type")),
    OpInfo("to_float32", lambda lib, x: x.float(), lambda x: x.astype(np.float32), [(s,) for s in UNARY_SHAPES],
           dtypes=ALL_DTYPES, covers=("to", "float")),
    OpInfo("to_int64", lambda lib, x: x.long(), lambda x: x.astype(np.int64), [(s,) for s in UNARY_SHAPES],
           differentiable=False, dtypes=ALL_DTYPES, covers=("long",)),
    OpInfo("to_bool", lambda lib, x: x.bool(), lambda x: x.astype(bool), [(s,) for s in UNARY_SHAPES],
           differentiable=False, dtypes=ALL_DTYPES, covers=("bool",)),
]

BY_NAME = {op.name: op for op in OPS}
assert len(BY_NAME) == len(OPS), "op names must be unique"

# Exported names that are not tensor ops, or are ops tested elsewhere; each with why.
NOT_OPS = {
    # factories, conversions and construction (tests/test_factories.py, test_numpy_interop.py)
    "tensor", "as_tensor", "from_numpy", "from_dlpack", "zeros", "ones", "full", "empty", "zeros_like",
    "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "arange", "linspace", "randn", "rand",
    "randint", "manual_seed", "get_default_dtype", "is_tensor", "numel", "numpy", "tolist", "item", "cpu",
    "cuda",
    # random samplers and the generator's state: no gradient, checked against torch's stream in
    # tests/test_random_stream.py
    "bernoulli", "bernoulli_", "exponential_", "multinomial", "normal", "normal_", "randint_like", "random_",
    "randperm", "uniform_", "seed", "initial_seed", "get_rng_state", "set_rng_state",
    # in-place forms of entries above and setters (tests/test_tensor_autograd.py, test_views.py)
    "add_", "sub_", "mul_", "div_", "fill_", "copy_", "clamp_", "zero_", "requires_grad_",
    "__iadd__", "__isub__", "__imul__", "__itruediv__", "__setitem__", "__delitem__",
    # comparisons of whole tensors to a Python bool (tests/test_reductions_api.py)
    "allclose", "equal",
    # the unary operators, aliases of neg/abs above
    "__neg__", "__pos__", "__abs__",
    # autograd and graph plumbing (tests/test_tensor_autograd.py, tests/test_double_backward.py)
    "backward", "detach", "data", "grad", "grad_fn", "requires_grad", "is_leaf", "is_grad_enabled",
    "register_hook", "retain_grad", "retains_grad",
    # checkpoints (tests/test_serialization.py, test_checkpoint_*.py)
    "save", "load",
    # nn.functional's losses, dropout and one_hot: compositions of the ops above, compared with
    # PyTorch in tests/test_nn.py
    "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "dropout", "one_hot",
    # metadata (tests/test_tensor_api.py)
    "size", "dim", "nelement", "element_size", "stride", "storage_offset", "is_contiguous", "shape", "ndim",
    "dtype", "device", "is_cuda",
    # conversions to the storage dtypes and dtype queries (tests/test_dtypes_storage.py)
    "int", "short", "char", "byte", "half", "bfloat16", "is_floating_point", "promote_types", "result_type",
    "can_cast",
}



def as_dtype(a: np.ndarray, dtype: str) -> np.ndarray:
    """A float64 sample in another dtype; integers round away from zero so that a positive or
    nonzero domain stays so."""
    if dtype in FLOATS:
        return a.astype(dtype)
    rounded = np.sign(a) * np.ceil(np.abs(a))
    return rounded.astype(np.int64) if dtype == "int64" else rounded != 0


def params(ops: Sequence[OpInfo]) -> List[Any]:
    """pytest parameters for ops, with their names as ids."""
    import pytest

    return [pytest.param(op, id=op.name) for op in ops]
