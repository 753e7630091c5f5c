"""Fuzz chaingrad's tensor ops against PyTorch with small random programs.

Run (chaingrad and torch importable; from a source tree add PYTHONPATH=python):

    python tests/fuzz/fuzz_ops.py -max_total_time=60

Replay a failing input (prints the program and what differed):

    python tests/fuzz/fuzz_ops.py CRASHFILE

With CHAINGRAD_FUZZ_FINDINGS=FILE a disagreement is noted in FILE (its input saved beside it as
finding-SHA1) and fuzzing goes on: CI's smoke run stops only for crashes and hangs.

Each input is decoded into a program: 1-3 input tensors (rank 0-3, dims 0-4, float32, float64,
int64 or bool, values including 0, -0, nan, +-inf, 1e38 and huge ints), then 1-6 statements drawn
from the ops chaingrad documents. A program is Python text in which `torch` names the engine, so
the very same text runs on chaingrad and on PyTorch, and a finding prints as a script that
reproduces it. After every statement both engines must agree: both raise (any exception), or both
succeed with equal dtype, shape, requires_grad and values (nan where nan, inf where inf, finite
values within a tolerance suited to the dtype; looser where earlier rounding differences feed
the op). After the last statement every variable is compared again (in-place writes through
views must reach the same variables), and where the last floating result requires grad, backward
runs with a fixed weighting and the leaves' gradients are compared (there any inf matches any nan:
which one a gradient through non-finite values gives is an accident of the formula). A
disagreement raises AssertionError (Finding), unless an entry of KNOWN below explains it: FILED
engine bugs being fixed, DOCUMENTED limits, INHERENT differences, and FOUND ones this fuzzer
reported that are not fixed yet.
"""

from __future__ import annotations

import faulthandler
import hashlib
import math
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, NoReturn, Optional, Tuple

import atheris
import numpy as np
import torch

with atheris.instrument_imports(include=["chaingrad"]):
    import chaingrad

# Both engines on one thread: the machine is shared, and float sums must not change order between runs.
torch.set_num_threads(1)
chaingrad.set_num_threads(1)

FLOAT_SPECIALS = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, math.nan, math.inf, -math.inf,
                  1e38, -1e38, 1e-38, 5e-324, 1e308)
INT_SPECIALS = (0, 1, -1, 2, 3, -7, 100, 2**31, -2**31, 2**62, 2**63 - 1, -2**63)
DTYPES = ("float32", "float64", "int64", "bool")
FLOATING = ("float32", "float64")
# Relative tolerances for one op on bitwise-equal inputs: float32 transcendentals are within
# 2 ulp of libm in chaingrad and PyTorch rounds differently, so a few ulp, not exact.
RTOL = {"float32": 1e-5, "float64": 1e-12}
# Looser ones once earlier rounding differences feed an op, and for gradients (several ops deep).
RTOL_LOOSE = {"float32": 1e-3, "float64": 1e-9}
GRAD_WEIGHTS = (1.0, -2.0, 0.5)


@dataclass
class Step:
    """One statement of a program, with what the checker needs to know about it."""

    code: str                        # Python text; `torch` is the engine, variables are x0.. and t0..
    op: str                          # the op's family name, which KNOWN predicates look at
    reads: Tuple[str, ...]           # the variables it uses
    out: Optional[str] = None        # the variable it defines
    mutates: Optional[str] = None    # the variable it writes in place
    discrete: bool = False           # an ulp in an input can flip the result (comparisons, argmax, casts)
    reduce_power: int = 0            # >0: an accumulation; tolerance grows with numel * scale**power
    scalars: Tuple[Any, ...] = ()    # Python numbers in the statement, for KNOWN predicates
    inputs: List[torch.Tensor] = field(default_factory=list)  # PyTorch's tensors it read, as they were


@dataclass
class Program:
    """The statements run so far: the inputs' first, then the ops'."""

    steps: List[Step] = field(default_factory=list)

    def text(self) -> str:
        lines = ["from math import inf, nan", "import numpy as np", "import torch  # or: import chaingrad as torch"]
        return "\n".join(lines + [s.code for s in self.steps])


# --- known, documented differences ----------------------------------------------------------

@dataclass
class Disagreement:
    """What a KNOWN predicate sees: how the engines differed, where, and on what."""

    kind: str                    # 'raise' (one engine raised), 'value' or 'grad'
    step: Optional[Step]         # the statement (None for gradients)
    program: Program
    exact: Dict[str, bool]       # variable -> both engines held the same bits before the step
    cg_error: str = ""           # the exception, when only that engine raised
    torch_error: str = ""
    cg_value: Optional[np.ndarray] = None     # the values that differ (a result or a gradient)
    torch_value: Optional[np.ndarray] = None


def _has(t: torch.Tensor, test: Callable[[np.ndarray], np.ndarray]) -> bool:
    a = t.numpy()
    return a.size > 0 and bool(test(a).any())


def _magnitude(a: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.float64))


def _op(d: Disagreement, *ops: str) -> bool:
    return d.step is not None and d.step.op in ops


def _inputs(d: Disagreement) -> List[torch.Tensor]:
    return d.step.inputs if d.step is not None else []


def _torch_refused(pattern: str, *ops: str) -> Callable[[Disagreement], bool]:
    """chaingrad succeeded where PyTorch raised an error matching pattern (in one of ops, if given)."""
    return lambda d: (d.kind == "raise" and not d.cg_error and re.search(pattern, d.torch_error) is not None
                      and (not ops or _op(d, *ops)))


def _chaingrad_refused(pattern: str, *ops: str) -> Callable[[Disagreement], bool]:
    """chaingrad raised an error matching pattern where PyTorch succeeded."""
    return lambda d: (d.kind == "raise" and not d.torch_error and re.search(pattern, d.cg_error) is not None
                      and (not ops or _op(d, *ops)))












def _after(d: Disagreement, test: Callable[[Step], bool]) -> bool:
    """A gradient disagreement in a program with a step that passes test."""
    return d.kind == "grad" and any(test(s) for s in d.program.steps)


def _huge(t: torch.Tensor) -> bool:
    """Large enough that a product of two such overflows the dtype."""
    return t.is_floating_point() and _has(t, lambda a: _magnitude(a) > (1e18 if a.dtype == np.float32 else 1e150))


def _squares_overflow(d: Disagreement, dtype: torch.dtype) -> bool:
    """var/std/norm (this step, or any before a gradient) of dtype values whose squares overflow."""
    def test(s: Step) -> bool:
        return s.op in ("var", "std", "norm") and any(t.dtype == dtype and _huge(t) for t in s.inputs)
    return (d.step is not None and test(d.step)) or _after(d, test)




def _tiny(t: torch.Tensor) -> bool:
    """Small enough (and not 0) that its square underflows the dtype."""
    return t.is_floating_point() and _has(
        t, lambda a: (a != 0) & (_magnitude(a) < (1e-19 if a.dtype == np.float32 else 1e-154)))




def _dtype_refused_on_empty(d: Disagreement) -> bool:
    return (d.kind == "raise" and not d.torch_error and any(t.numel() == 0 for t in _inputs(d))
            and re.search(r"expected a floating point|not supported for bool|same dtype", d.cg_error) is not None)


def _number_over_subnormal(step: Step) -> bool:
    """number / tensor where the tensor holds a subnormal value."""
    return re.match(r"t\d+ = [-\w.+]+ / ", step.code) is not None and any(
        _has(t, lambda a: (a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny))
        for t in step.inputs if t.is_floating_point())


# name -> (what differs, predicate). A disagreement that none of these explains is a finding.
# Every entry says where it comes from: FILED (an engine bug being fixed), DOCUMENTED (README),
# INHERENT (not a bug on either side), FOUND (reported by this fuzzer, not fixed yet; drop the
# entry once fixed so the fuzzer checks the fix).
KNOWN: Dict[str, Tuple[str, Callable[[Disagreement], bool]]] = {
    "expanded-write": ("DOCUMENTED: a write into an expanded view raises",
                       _chaingrad_refused(r"refers to a single memory location \(an expanded view\)")),
    "graph-write": ("DOCUMENTED: zero_/fill_/slice assignment into a tensor of a graph raise",
                    _chaingrad_refused(r"is not recorded by autograd|requires grad into a slice is not supported")),
    "view-inplace-grad": ("DOCUMENTED: in-place autograd through views raises",
                          _chaingrad_refused(r"on a view of a tensor that requires grad are not supported")),
    "rounding-divergence": ("INHERENT: a comparison, argmax, cast or sign flips because an earlier op rounded "
                            "its last bit differently (float32 transcendentals, sums accumulated in double)",
                            lambda d: d.step is not None and d.step.discrete
                            and not all(d.exact.get(v, True) for v in d.step.reads)),
    "torch-internal-assert": ("INHERENT: PyTorch fails an internal assert (a PyTorch bug)",
                              lambda d: "INTERNAL ASSERT FAILED" in d.torch_error),
    "no-grad-write": ("INHERENT: after an in-place write under no_grad into a tensor of the graph, gradients "
                      "are undefined (PyTorch uses the new values, drops a view's history, or refuses)",
                      lambda d: _after(d, lambda s: s.code.startswith("with torch.no_grad()") and s.mutates)),
    "nan-minmax-grad": ("INHERENT: which side of maximum/minimum gets the gradient at nan (PyTorch gives it "
                        "to both, doubling it for maximum(x, x))",
                        lambda d: _after(d, lambda s: s.op in ("maximum", "minimum")
                                         and any(_has(t, np.isnan) for t in s.inputs if t.is_floating_point()))),
    "amax-nan-grad": ("INHERENT: PyTorch's amax gradient at nan is nan (0/0 of its tie count); chaingrad's is 1",
                      lambda d: _after(d, lambda s: s.op == "amax" and _has(s.inputs[0], np.isnan))),
    "overflow-order": ("INHERENT: where partial sums overflow (matmul, sum, mean of huge values), inf or nan "
                       "depends on the order of accumulation",
                       lambda d: d.kind == "value" and d.step is not None and d.step.reduce_power > 0
                       and any(_huge(t) for t in _inputs(d))),
    "cancellation": ("INHERENT: a sum whose huge terms cancel (1e38 - 1e38 + 2) keeps or loses the small ones "
                     "depending on the order of accumulation, and later steps see the difference",
                     lambda d: d.kind == "value" and any(
                         s.reduce_power > 0 and any(_has(t, lambda a: np.abs(a) >= 1e30) for t in s.inputs
                                                    if t.is_floating_point())
                         for s in d.program.steps)),
    "norm-float32-in-double": ("INHERENT: chaingrad computes float32 norms in double, where PyTorch's |x|^p "
                               "overflows or underflows float32 (its value or gradient then inf, nan or 0)",
                               lambda d: _after(d, lambda s: s.op == "norm" and any(
                                   t.dtype == torch.float32 and (_huge(t) or _tiny(t)) for t in s.inputs))),
    "torch-uint64-scalar": ("INHERENT: PyTorch takes -2**63 as a uint64 scalar and refuses to promote it",
                            lambda d: "Promotion for uint16, uint32, uint64" in d.torch_error),
    "number-over-subnormal": ("INHERENT: PyTorch computes number / tensor as number * (1 / tensor), so a "
                              "subnormal divisor gives nan or inf",
                              lambda d: _number_over_subnormal(d.step) if d.step is not None
                              else _after(d, _number_over_subnormal)),
    "torch-saved-more": ("INHERENT: PyTorch's backward refuses because an in-place write changed a tensor its "
                         "node saved; chaingrad's node did not need it (norm with p != 2 recomputes, copy_ drops "
                         "the old history)",
                         lambda d: d.kind == "grad" and not d.cg_error and "modified by an inplace" in d.torch_error),
    "pow-half-is-sqrt": ("INHERENT: PyTorch computes x ** 0.5 as sqrt(x) and x ** -0.5 as rsqrt(x): nan at -inf "
                         "and -inf at -0.0, where C's pow (and chaingrad) give +inf",
                         lambda d: _op(d, "pow") and any(v in (0.5, -0.5) for v in d.step.scalars)
                         and any(_has(t, lambda a: np.isneginf(a) | ((a == 0) & np.signbit(a)))
                                 for t in _inputs(d) if t.is_floating_point())),
    "legacy-empty-cat": ("INHERENT: PyTorch's cat skips 1-d empty tensors whatever their rank (legacy rule)",
                         lambda d: _op(d, "cat") and not d.torch_error
                         and any(t.shape == (0,) for t in _inputs(d))),
    "empty-skips-dtype-check": ("INHERENT: PyTorch skips its dtype check on zero-size tensors",
                                _dtype_refused_on_empty),
    "pow-bool-exponent": ("INHERENT: PyTorch's gradient of x ** False at x = 0 is nan (0 * 0 ** -1), while "
                          "x ** 0 gives 0 there; chaingrad takes False as 0",
                          lambda d: _after(d, lambda s: s.op == "pow" and any(v is False for v in s.scalars))),
    "scalar-rounded": ("FOUND: a Python float float32 cannot hold, next to a float32 tensor, is rounded (1e308 "
                       "to inf, 5e-324 to 0); PyTorch keeps the number in double where it computes gradients "
                       "(1e308 / x, 5e-324 ** x)",
                       lambda d: _after(d, lambda s: any(
                           isinstance(v, float) and math.isfinite(v) and v != 0
                           and not 1.18e-38 <= abs(v) <= 3.4e38 for v in s.scalars))),
    "int-beyond-int64": ("FOUND: a Python int beyond int64 (2**63, as in -9223372036854775808 ** x) raises "
                         "OverflowError or, next to a float tensor, is taken as a float; PyTorch takes it as uint64",
                         lambda d: "too large to convert" in d.cg_error or _after(d, lambda s: any(
                             isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63 for v in s.scalars))),
    "view-of-inplace-base": ("FOUND: a view taken before an in-place op on its base keeps the base's old history "
                             "(PyTorch rebases the view's grad_fn)",
                             lambda d: d.kind == "grad" and any(s.mutates for s in d.program.steps)
                             and any(re.search(r"squeeze|unsqueeze|reshape|view|\[|transpose|permute|expand|flatten",
                                               s.code) for s in d.program.steps)),
    "norm-inf-nan-grad": ("FOUND: norm(p=inf) over a tensor holding nan: chaingrad's gradient is nan (its amax "
                          "rule), PyTorch's 0",
                          lambda d: _after(d, lambda s: s.op == "norm" and "inf," in s.code
                                           and any(_has(t, np.isnan) for t in s.inputs if t.is_floating_point()))),
    "f64-square-overflow": ("FOUND: float64 norm/var/std overflow for |x| near 1e308 (as the filed float32 one)",
                            lambda d: _squares_overflow(d, torch.float64)),
    "sign-bool": ("FOUND: sign of a bool tensor is int64 (PyTorch: bool)",
                  lambda d: _op(d, "sign") and any(t.dtype == torch.bool for t in _inputs(d))),
    "norm-p0-grad": ("FOUND: norm(p=0) of a tensor that requires grad does not require grad",
                     lambda d: _op(d, "norm") and "p=0," in d.step.code),
    "copy-number": ("FOUND: copy_ refuses a Python number", _chaingrad_refused(r"src must be a Tensor")),
    "int-pow-negative-tensor": ("FOUND: int ** negative int tensor raises (PyTorch raises only for a number "
                                "exponent)", _chaingrad_refused(r"negative integer powers", "pow")),
    "0d-dims-unchecked": ("FOUND: transpose/flatten of a 0-d tensor accept any dims",
                          _torch_refused(r"Dimension out of range", "view")),
    "where-non-bool": ("FOUND: where accepts a non-bool condition",
                       _torch_refused(r"where expected condition to be a boolean")),
    "bool-arith": ("FOUND: bool tensors accepted by -, pow, abs, relu, argmax/argmin, norm",
                   _torch_refused(r"Subtraction, the `-` operator, with a bool|\"pow\" not implemented for 'Bool'|"
                                  r"abs_cpu\" not implemented for 'Bool'|Boolean inputs not supported|"
                                  r"does not support bool input|Expected a floating point or complex tensor")),
    "setitem-leading-ones": ("FOUND: x[...] = src refuses a src with extra leading size-1 dims (PyTorch drops them)",
                             _chaingrad_refused(r"cannot be broadcast to destination", "setitem")),
    "bool-pow": ("FOUND: bool ** bool raises (PyTorch: bool)", _chaingrad_refused(r"not supported for two bool")),
    "copy-broadcast-grad": ("FOUND: copy_ that broadcasts a source requiring grad raises",
                            _chaingrad_refused(r"in-place copy that broadcasts a tensor requiring grad")),
    "duplicate-dims": ("FOUND: squeeze/amax accept a dim listed twice", _torch_refused(r"appears multiple times")),
    "scalar-overflow": ("FOUND: a Python number beyond the tensor's dtype becomes inf instead of an error",
                        _torch_refused(r"cannot be converted to type .* without overflow")),
    "int-pow-grad-f32-log": ("FOUND: int64 ** float64: the exponent's gradient uses log(base) in float32",
                             lambda d: _after(d, lambda s: s.op == "pow" and {t.dtype for t in s.inputs}
                                              >= {torch.int64, torch.float64})),
    "copy-overlap": ("FOUND: copy_ between overlapping memory is not refused",
                     _torch_refused(r"refer to a single memory location")),
}


# --- decoding a program from the fuzzer's bytes ---------------------------------------------

class _Builder:
    """Draws a program from a FuzzedDataProvider; shapes and dtypes come from PyTorch's run so
    far, so parameters are mostly valid (and sometimes deliberately not)."""

    def __init__(self, fdp: atheris.FuzzedDataProvider) -> None:
        self.fdp = fdp
        self.leaves: List[str] = []  # x0.. (the inputs)
        self.names: List[str] = []   # every variable defined so far: the inputs, then t0..

    def bool(self) -> bool:
        return self.fdp.ConsumeBool()

    def int(self, lo: int, hi: int) -> int:
        return self.fdp.ConsumeIntInRange(lo, hi)

    def pick(self, options: Any) -> Any:
        return self.fdp.PickValueInList(list(options))

    def value(self, dtype: str) -> Any:
        if dtype == "bool":
            return self.bool()
        if dtype == "int64":
            return self.pick(INT_SPECIALS) if self.bool() else self.int(-4, 4)
        return self.pick(FLOAT_SPECIALS) if self.bool() else self.int(-16, 16) / 4

    def scalar(self) -> Any:
        return self.value(self.pick(("float32", "int64", "int64", "bool")))

    def dim(self, ndim: int) -> int:
        """A dim index: valid for a rank-ndim tensor, or one past either end."""
        n = max(ndim, 1)
        return self.int(-n - 1, n)

    def input(self, index: int) -> Step:
        """x<index>: from a list with a dtype, or from an ndarray of that dtype."""
        dtype = self.pick(DTYPES)
        shape = [self.int(0, 4) for _ in range(self.int(0, 3))]
        values = [self.value(dtype) for _ in range(math.prod(shape))]
        data = f"np.array({values!r}, dtype={dtype!r})" if self.bool() else f"{values!r}, dtype=torch.{dtype}"
        grad = ".requires_grad_()" if dtype in FLOATING and self.bool() else ""
        name = f"x{index}"
        self.leaves.append(name)
        return Step(f"{name} = torch.tensor({data}).reshape({shape}){grad}", "tensor", (), name,
                    scalars=tuple(values))


def _shape_for(b: _Builder, t: torch.Tensor) -> List[int]:
    """A shape with t's element count (sometimes with -1), or now and then an arbitrary one."""
    if b.int(0, 3) == 0:
        return [b.int(-1, 5) for _ in range(b.int(0, 3))]
    n, shape = t.numel(), []
    for _ in range(b.int(0, 2)):
        divisors = [d for d in range(1, 5) if n % d == 0] if n else [0, 1, 2]
        d = b.pick(divisors)
        shape.append(d)
        n = n // d if d else n
    shape.append(n)
    if b.bool():
        shape[b.int(0, len(shape) - 1)] = -1
    return shape


def _dims_arg(b: _Builder, ndim: int) -> Any:
    """A dim argument for a reduction: None, one dim, or a tuple of dims."""
    choice = b.int(0, 3)
    if choice == 0:
        return None
    if choice == 3 and ndim >= 2:
        return tuple(sorted({b.dim(ndim) for _ in range(b.int(1, ndim))}))
    return b.dim(ndim)


def _index(b: _Builder, ndim: int) -> str:
    """A basic index: ints (some out of range), slices, None and at most one ellipsis (PyTorch
    accepts several, numpy and chaingrad do not; not worth a finding)."""
    parts: List[str] = []
    for _ in range(b.int(1, ndim + 1)):
        kind = b.int(0, 4)
        if kind == 0:
            parts.append(str(b.int(-5, 4)))
        elif kind == 1:
            parts.append("None")
        elif kind == 2 and "..." not in parts:
            parts.append("...")
        else:
            start = b.pick(("", "0", "1", "-1", "-3", "5"))
            stop = b.pick(("", "0", "2", "-1", "9"))
            step = b.pick(("", "", ":2", ":3"))
            parts.append(f"{start}:{stop}{step}")
    return ", ".join(parts)


BINARY_OPS = ("+", "-", "*", "/", "**")
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")
UNARY = ("abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "sign", "square", "neg")
UNARY_FUNCTIONS = ("abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "square")
CASTS = ("float", "double", "long", "bool")


def _operand(b: _Builder) -> Tuple[str, Optional[str], Tuple[Any, ...]]:
    """A tensor variable or a Python number: (text, variable or None, scalars)."""
    if b.int(0, 2) == 0:
        v = b.scalar()
        return repr(v), None, (v,)
    name = b.pick(b.names)
    return name, name, ()


@atheris.instrument_func  # coverage of which statements were drawn guides the fuzzer too
def _step(b: _Builder, ns: Dict[str, Any]) -> Step:
    """One random statement over the variables defined so far."""
    a = b.pick(b.names)
    t = ns[a]
    out = f"t{len(b.names) - len(b.leaves)}"
    kind = b.int(0, 11)
    if kind == 0:  # arithmetic, either side a number or both tensors
        op = b.pick(BINARY_OPS)
        rhs, var, scalars = _operand(b)
        reads = (a,) + ((var,) if var else ())
        code = f"{out} = {rhs} {op} {a}" if var is None and b.bool() else f"{out} = {a} {op} {rhs}"
        return Step(code, "pow" if op == "**" else "arith", reads, out, scalars=scalars)
    if kind == 1:  # comparisons
        rhs, var, scalars = _operand(b)
        return Step(f"{out} = {a} {b.pick(COMPARE_OPS)} {rhs}", "compare", (a,) + ((var,) if var else ()),
                    out, discrete=True, scalars=scalars)
    if kind == 2:  # unary math and casts
        name = b.pick(UNARY + CASTS)
        if name in CASTS:
            return Step(f"{out} = {a}.{name}()", "cast", (a,), out, discrete=True)
        code = f"{out} = torch.{name}({a})" if name in UNARY_FUNCTIONS and b.bool() else f"{out} = {a}.{name}()"
        return Step(code, name, (a,), out, discrete=name == "sign")
    if kind == 3:  # clamp, maximum/minimum, where
        choice = b.int(0, 2)
        if choice == 0:
            lo = b.scalar() if b.bool() else None
            hi = b.scalar() if b.bool() else None
            return Step(f"{out} = {a}.clamp({lo!r}, {hi!r})", "clamp", (a,), out,
                        scalars=tuple(v for v in (lo, hi) if v is not None))
        other = b.pick(b.names)
        if choice == 1:
            fn = b.pick(("maximum", "minimum"))
            return Step(f"{out} = torch.{fn}({a}, {other})", fn, (a, other), out)
        x, xv, xs = _operand(b)
        y, yv, ys = _operand(b)
        reads = (a,) + tuple(v for v in (xv, yv) if v)
        return Step(f"{out} = torch.where({a}, {x}, {y})", "where", reads, out, scalars=xs + ys)
    if kind == 4:  # sum, mean, all, any
        fn = b.pick(("sum", "mean", "all", "any"))
        if fn in ("all", "any"):
            return Step(f"{out} = {a}.{fn}()", fn, (a,), out)
        dims, keep = _dims_arg(b, t.ndim), b.bool()
        return Step(f"{out} = {a}.{fn}(dim={dims!r}, keepdim={keep})", fn, (a,), out, reduce_power=1)
    if kind == 5:  # max/min/amax/argmax/argmin
        fn = b.pick(("max", "min", "amax", "argmax", "argmin"))
        if fn in ("max", "min") and b.bool():
            return Step(f"{out} = {a}.{fn}()", fn, (a,), out)
        dim = _dims_arg(b, t.ndim) if fn == "amax" else b.dim(t.ndim)
        if fn.startswith("arg") and b.bool():
            dim = None
        field_ = b.pick((".values", ".indices", "[0]", "[1]")) if fn in ("max", "min") else ""
        return Step(f"{out} = {a}.{fn}(dim={dim!r}, keepdim={b.bool()}){field_}", fn, (a,), out,
                    discrete=fn != "amax" and field_ not in (".values", "[0]"))
    if kind == 6:  # norm, var, std
        fn = b.pick(("norm", "var", "std"))
        dims, keep = _dims_arg(b, t.ndim), b.bool()
        if fn == "norm":
            p = b.pick((2, 1, 3, 0.5, 0, math.inf, -math.inf))
            return Step(f"{out} = {a}.norm(p={p!r}, dim={dims!r}, keepdim={keep})", fn, (a,), out,
                        reduce_power=1)
        return Step(f"{out} = {a}.{fn}(dim={dims!r}, unbiased={b.bool()}, keepdim={keep})", fn, (a,), out,
                    reduce_power=2)
    if kind == 7:  # matmul, softmax
        if b.bool():
            other = b.pick(b.names)
            code = f"{out} = {a} @ {other}" if b.bool() else f"{out} = torch.matmul({a}, {other})"
            return Step(code, "matmul", (a, other), out, reduce_power=2)
        fn = b.pick(("softmax", "log_softmax"))
        return Step(f"{out} = {a}.{fn}({b.dim(t.ndim)})", fn, (a,), out, reduce_power=1)
    if kind == 8:  # views
        choice = b.int(0, 8)
        if choice == 0:
            return Step(f"{out} = {a}.{b.pick(('reshape', 'view'))}({_shape_for(b, t)})", "view", (a,), out)
        if choice == 1:
            dims = list(range(t.ndim))
            for i in range(len(dims) - 1, 0, -1):  # Fisher-Yates from the fuzzer's bytes
                j = b.int(0, i)
                dims[i], dims[j] = dims[j], dims[i]
            if b.int(0, 4) == 0:
                dims.append(b.int(-1, 3))
            return Step(f"{out} = {a}.permute({dims})", "view", (a,), out)
        if choice == 2:
            return Step(f"{out} = {a}.transpose({b.dim(t.ndim)}, {b.dim(t.ndim)})", "view", (a,), out)
        if choice == 3:
            return Step(f"{out} = {a}.{b.pick(('t()', 'T', 'mT', 'contiguous()', 'clone()', 'detach()'))}",
                        "view", (a,), out)
        if choice == 4:
            sizes = [b.pick((-1, 1, 2, 3, s)) for s in t.shape]
            sizes = [b.int(1, 3) for _ in range(b.int(0, 1))] + sizes
            return Step(f"{out} = {a}.expand({sizes})", "view", (a,), out)
        if choice == 5:
            return Step(f"{out} = {a}.unsqueeze({b.int(-t.ndim - 2, t.ndim + 1)})", "view", (a,), out)
        if choice == 6:
            dims = _dims_arg(b, t.ndim)
            return Step(f"{out} = {a}.squeeze({'' if dims is None else repr(dims)})", "view", (a,), out)
        if choice == 7:
            return Step(f"{out} = {a}.flatten({b.dim(t.ndim)}, {b.dim(t.ndim)})", "view", (a,), out)
        return Step(f"{out} = {a}[{_index(b, t.ndim)}]", "view", (a,), out)
    if kind == 9:  # cat, stack
        others = [b.pick(b.names) for _ in range(b.int(1, 2))]
        fn = b.pick(("cat", "stack"))
        return Step(f"{out} = torch.{fn}([{a}, {', '.join(others)}], {b.dim(t.ndim + (fn == 'stack'))})", fn,
                    (a, *others), out)
    # in place, sometimes under no_grad (kinds 10 and 11)
    choice = b.int(0, 6)
    scalars: Tuple[Any, ...] = ()
    reads: Tuple[str, ...] = (a,)
    if choice <= 2:
        rhs, var, scalars = _operand(b)
        reads += (var,) if var else ()
        if choice == 0:
            code, op = f"{a} {b.pick(('+=', '-=', '*=', '/='))} {rhs}", "inplace"
        elif choice == 1:
            code, op = f"{a}.{b.pick(('add_', 'sub_', 'mul_', 'div_'))}({rhs})", "inplace"
        else:
            code, op = f"{a}.copy_({rhs})", "copy"
    elif choice == 3:
        v = b.scalar()
        scalars = (v,)
        code, op = (f"{a}.fill_({v!r})", "fill") if b.bool() else (f"{a}.zero_()", "fill")
    elif choice == 4:
        lo, hi = b.scalar(), b.scalar()
        scalars = (lo, hi)
        code, op = f"{a}.clamp_({lo!r}, {hi!r})", "clamp"
    else:
        rhs, var, scalars = _operand(b)
        reads += (var,) if var else ()
        code, op = f"{a}[{_index(b, t.ndim)}] = {rhs}", "setitem"
    if b.bool():
        code = f"with torch.no_grad(): {code}"
    return Step(code, op, reads, None, mutates=a, scalars=scalars)


# --- running and comparing -------------------------------------------------------------------

def _namespace(engine: Any) -> Dict[str, Any]:
    return {"torch": engine, "np": np, "nan": math.nan, "inf": math.inf}


def _run(code: Any, ns: Dict[str, Any]) -> Optional[BaseException]:
    try:
        exec(code, ns)
    except Exception as err:  # any Python exception counts as "raised"; a crash ends the process
        return err
    return None


def _exact(c: np.ndarray, t: np.ndarray) -> bool:
    """Equal bit for bit (the sign of zero included), nan matching nan."""
    if c.dtype.kind != "f":
        return np.array_equal(c, t)
    same = (c == t) & (np.signbit(c) == np.signbit(t))
    return bool((same | (np.isnan(c) & np.isnan(t))).all())


def _scale(tensors: List[torch.Tensor]) -> float:
    """The largest finite magnitude among the inputs (at least 1)."""
    top = 1.0
    for t in tensors:
        a = t.detach().numpy().astype(np.float64)
        a = np.abs(a[np.isfinite(a)])
        if a.size:
            top = max(top, float(a.max()))
    return top


def _dtype_name(t: torch.Tensor) -> str:
    return str(t.dtype).replace("torch.", "")


def _compare(c: Any, t: torch.Tensor, rtol: float, atol: float, grad: bool = False) -> Optional[str]:
    """Why chaingrad's tensor c differs from PyTorch's t, or None. nan and inf must match exactly,
    except in a gradient (grad=True), where any non-finite value matches any other: a gradient
    through inf or nan is nan or inf by accident of how each engine writes its formula."""
    if not isinstance(c, chaingrad.Tensor):
        return f"chaingrad gave {type(c).__name__}, torch a tensor"
    tname = _dtype_name(t)
    if c.dtype.name != tname:
        return f"dtype chaingrad {c.dtype.name} vs torch {tname}"
    if tuple(c.shape) != tuple(t.shape):
        return f"shape chaingrad {tuple(c.shape)} vs torch {tuple(t.shape)}"
    if c.requires_grad != t.requires_grad:
        return f"requires_grad chaingrad {c.requires_grad} vs torch {t.requires_grad}"
    cv, tv = c.detach().numpy(), t.detach().numpy()
    if cv.dtype.kind != "f":
        if np.array_equal(cv, tv):
            return None
    else:
        c64, t64 = cv.astype(np.float64), tv.astype(np.float64)
        finite = np.isfinite(t64)
        same_special = ~np.isfinite(c64) if grad else (c64 == t64) | (np.isnan(c64) & np.isnan(t64))
        with np.errstate(invalid="ignore", over="ignore"):
            close = np.where(finite, np.abs(c64 - t64) <= atol + rtol * np.abs(t64), same_special)
        if close.all():
            return None
    return f"values chaingrad {cv.tolist()} vs torch {tv.tolist()}"


def _tolerance(step: Step, exact: Dict[str, bool], dtype: str) -> Tuple[float, float]:
    """(rtol, atol) for a result of `step` in `dtype`."""
    if dtype not in RTOL or step.op == "tensor":
        return 0.0, 0.0
    same_inputs = all(exact.get(v, True) for v in step.reads)
    rtol = RTOL[dtype] if same_inputs else RTOL_LOOSE[dtype]
    scale = _scale(step.inputs)
    # inputs that differ in their last bits may cancel: allow an error relative to their magnitude
    atol = 0.0 if same_inputs else rtol * scale
    if step.reduce_power:
        n = max([t.numel() for t in step.inputs] + [1])
        # cancellation in a sum leaves an error of about n ulp of the largest term (of its square for var)
        atol = max(atol, rtol * n * math.prod([scale] * step.reduce_power))  # inf, not OverflowError
        if step.op in ("std", "norm"):  # the square root of a variance or sum that cancelled
            atol = max(atol, math.sqrt(rtol * n) * scale)
    return rtol, atol


def _explain(d: Disagreement) -> Optional[str]:
    """The first KNOWN entry that explains d, or None."""
    return next((name for name, (_, predicate) in KNOWN.items() if predicate(d)), None)


class Finding(AssertionError):
    """chaingrad and PyTorch disagree on a program (the message holds the program)."""


def _fail(program: Program, where: str, why: str) -> NoReturn:
    raise Finding(f"{where}: {why}\n--- program ---\n{program.text()}")


# CI's smoke run gates on crashes and hangs only: with CHAINGRAD_FUZZ_FINDINGS set to a file, a
# disagreement is appended there, its input saved beside it, instead of stopping the fuzzer.
FINDINGS_FILE = os.environ.get("CHAINGRAD_FUZZ_FINDINGS")


def _error_text(err: Optional[BaseException]) -> str:
    return "" if err is None else f"{type(err).__name__}: {err}"


def _outcome(c_err: Optional[BaseException], t_err: Optional[BaseException]) -> str:
    return (f"chaingrad {'raised ' + repr(c_err) if c_err else 'succeeded'}, "
            f"torch {'raised ' + repr(t_err) if t_err else 'succeeded'}")


def check(program_bytes: bytes) -> Optional[str]:
    """Decodes one program and runs it on both engines. Returns the KNOWN entry that explains a
    disagreement, None when they agreed, and raises Finding for any other disagreement."""
    b = _Builder(atheris.FuzzedDataProvider(program_bytes))
    program = Program()
    cg_ns, t_ns = _namespace(chaingrad), _namespace(torch)
    exact: Dict[str, bool] = {}  # variable -> both engines hold the same bits
    n_inputs, n_ops = b.int(1, 3), b.int(1, 6)
    for i in range(n_inputs + n_ops):
        step = b.input(i) if i < n_inputs else _step(b, t_ns)
        program.steps.append(step)
        step.inputs = [t_ns[v].detach().clone() for v in step.reads if isinstance(t_ns[v], torch.Tensor)]
        code = compile(step.code, "<step>", "exec")
        c_err, t_err = _run(code, cg_ns), _run(code, t_ns)
        if c_err and t_err:
            return None  # both refused; the steps after it would use what it did not make
        if c_err or t_err:
            known = _explain(Disagreement("raise", step, program, exact, _error_text(c_err), _error_text(t_err)))
            if known:
                return known
            _fail(program, step.code, _outcome(c_err, t_err))
        for var in (step.out, step.mutates):
            if var is None:
                continue
            rtol, atol = _tolerance(step, exact, _dtype_name(t_ns[var]))
            why = _compare(cg_ns[var], t_ns[var], rtol, atol)
            if why:
                known = _explain(Disagreement("value", step, program, exact, cg_value=cg_ns[var].detach().numpy(),
                                              torch_value=t_ns[var].detach().numpy()))
                if known:
                    return known
                _fail(program, step.code, f"{var}: {why}")
            exact[var] = _exact(cg_ns[var].detach().numpy(), t_ns[var].detach().numpy())
        if step.out:
            b.names.append(step.out)
    for var in b.names:  # an in-place write must have reached the same aliases in both engines
        rtol = RTOL_LOOSE.get(_dtype_name(t_ns[var]), 0.0)
        why = _compare(cg_ns[var], t_ns[var], rtol, rtol * _scale([t_ns[var]]))
        if why:
            known = _explain(Disagreement("value", program.steps[-1], program, exact))
            if known:
                return known
            _fail(program, f"after the program, {var}", why)
    return _check_grads(program, b, cg_ns, t_ns, exact)




def _check_grads(program: Program, b: _Builder, cg_ns: Dict[str, Any], t_ns: Dict[str, Any],
                 exact: Dict[str, bool]) -> Optional[str]:
    """Backward from the last result that requires grad, with weights 1, -2, 0.5, ... so that a
    gradient sent to the wrong element shows; the leaves' gradients must agree."""
    target = next((v for v in reversed(b.names[len(b.leaves):])
                   if isinstance(t_ns[v], torch.Tensor) and t_ns[v].requires_grad), None)
    if target is None:
        return None
    t = t_ns[target]
    weights = [GRAD_WEIGHTS[i % 3] for i in range(t.numel())]
    line = f"{target}.backward(torch.tensor({weights!r}, dtype={target}.dtype).reshape({list(t.shape)}))"
    program.steps.append(Step(line, "backward", (target,)))
    code = compile(line, "<backward>", "exec")
    c_err, t_err = _run(code, cg_ns), _run(code, t_ns)
    if c_err and t_err:
        return None
    if c_err or t_err:
        d = Disagreement("grad", None, program, exact, _error_text(c_err), _error_text(t_err))
        why = _outcome(c_err, t_err)
    else:
        d = why = None
        for leaf in b.leaves:
            cg_grad, t_grad = cg_ns[leaf].grad, t_ns[leaf].grad
            if t_grad is None or cg_grad is None:
                if t_grad is not None or cg_grad is not None:
                    d, why = Disagreement("grad", None, program, exact), \
                        f"{leaf}.grad: chaingrad {cg_grad!r} vs torch {t_grad!r}"
                    break
                continue
            # a float64 gradient that flowed through a float32 op carries float32 rounding
            through_f32 = any(t.dtype == torch.float32 for step in program.steps for t in step.inputs)
            rtol = RTOL_LOOSE["float32" if through_f32 else _dtype_name(t_grad)] if t_grad.is_floating_point() else 0.0
            why = _compare(cg_grad, t_grad, rtol, rtol * _scale([t_grad]), grad=True)
            if why:
                d = Disagreement("grad", None, program, exact, cg_value=cg_grad.numpy(), torch_value=t_grad.numpy())
                why = f"{leaf}.grad: {why}"
                break
    if d is None:
        return None
    known = _explain(d)
    if known:
        return known
    _fail(program, line, why)


def TestOneInput(data: bytes) -> None:
    """The fuzz target: raises Finding when chaingrad and PyTorch disagree on the program (or notes
    it in FINDINGS_FILE)."""
    try:
        check(data)
    except Finding as finding:
        if FINDINGS_FILE is None:
            raise
        replay = os.path.join(os.path.dirname(FINDINGS_FILE), "finding-" + hashlib.sha1(data).hexdigest())
        with open(replay, "wb") as raw:
            raw.write(data)
        with open(FINDINGS_FILE, "a") as out:
            out.write(f"{finding}\n--- replay: python tests/fuzz/fuzz_ops.py {replay}\n\n")


def main() -> None:
    warnings.simplefilter("ignore")  # overflow and degrees-of-freedom warnings are expected here
    faulthandler.enable()  # a crash inside chaingrad still prints the Python stack that led there
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
