// The elementwise ops, each declared once (see Note [op table]).
#pragma once

#include <cstdint>

namespace chaingrad {

// Note [op table]
// Every elementwise op is one row of CG_UNARY_OPS or CG_BINARY_OPS below (an X-macro list: the
// rows are expanded by whoever needs them, so nothing can fall out of step with the list). A row
// gives the enum name, the Python name, the dtype rule, PyTorch's grad_fn name, the op's
// parameters and where Python exposes it. From the rows come:
//   - the UnaryOp/BinaryOp enums and the op metadata below (names, dtype rules);
//   - with_unary/with_binary, the switches that turn a runtime op into a compile-time one, and the
//     runtime-op rules of the CUDA kernels (kernels/element_rules.h);
//   - `_core.op_table()` and the bindings `_core.unary`/`_core.binary`, which take a row's index,
//     from which python/chaingrad/_ops.py makes the Tensor methods, chaingrad.* functions and
//     nn.functional functions calling them by that index (their typed stub,
//     _ops.pyi, is written by tools/gen_op_stubs.py, and a test fails when it is stale).
// What a row cannot hold is code; each op's code lives in exactly two more places, keyed by the
// enum: its per-element rule in kernels/element_rules.h (one rule for the CPU and CUDA) and its
// gradient formula in tensor/elementwise_ops.cpp. A new elementwise op therefore touches this
// file, those two, a test-database entry and the README (plus the regenerated stub).
//
// Columns:
//   unary:  X(Enum, "name", rule, "GradFn", "params", "expose")
//   binary: X(Enum, "name", rule, "GradFn", "GradFn with a Python-number other", "expose")
// rule: the DTypeRule below. params: "name=default" pairs, comma-separated, read by the rule as
// OpParams::a, ::b in order; a default written "none|tanh" is a choice, passed as its index.
// expose: m = Tensor method, t = chaingrad.* function, f = chaingrad.nn.functional function (an op
// with none is used through operators or hand-written wrappers only).

/// How an op's computing dtype follows its input's dtype.
enum class DTypeRule : std::uint8_t {
  Keep,        ///< integers stay integers; bool computes in int64 (abs keeps bool, -bool is refused)
  Float,       ///< integers and bool compute in float32, as PyTorch's transcendental ops
  FloatOnly,   ///< floating inputs only: integers raise, as PyTorch's activation functions
  KeepNoBool,  ///< integers stay integers, bool raises (hardtanh, fmod, remainder)
  Compare,     ///< computed in the operands' common dtype, the result is bool
};

// clang-format off
#define CG_UNARY_OPS(X)                                                                        \
  X(Neg,        "neg",        Keep,       "NegBackward0",        "",                       "mt") \
  X(Abs,        "abs",        Keep,       "AbsBackward0",        "",                       "mt") \
  X(Exp,        "exp",        Float,      "ExpBackward0",        "",                       "mt") \
  X(Log,        "log",        Float,      "LogBackward0",        "",                       "mt") \
  X(Sqrt,       "sqrt",       Float,      "SqrtBackward0",       "",                       "mt") \
  X(Tanh,       "tanh",       Float,      "TanhBackward0",       "",                       "mtf") \
  X(Sigmoid,    "sigmoid",    Float,      "SigmoidBackward0",    "",                       "mtf") \
  X(Relu,       "relu",       Keep,       "ReluBackward0",       "",                       "mtf") \
  X(Sign,       "sign",       Keep,       "SignBackward0",       "",                       "mt") \
  X(Square,     "square",     Keep,       "PowBackward0",        "",                       "mt") \
  X(Sin,        "sin",        Float,      "SinBackward0",        "",                       "mt") \
  X(Cos,        "cos",        Float,      "CosBackward0",        "",                       "mt") \
  X(Log1p,      "log1p",      Float,      "Log1PBackward0",      "",                       "mt") \
  X(Expm1,      "expm1",      Float,      "Expm1Backward0",      "",                       "mt") \
  X(Log2,       "log2",       Float,      "Log2Backward0",       "",                       "mt") \
  X(Log10,      "log10",      Float,      "Log10Backward0",      "",                       "mt") \
  X(Rsqrt,      "rsqrt",      Float,      "RsqrtBackward0",      "",                       "mt") \
  X(Erf,        "erf",        Float,      "ErfBackward0",        "",                       "mt") \
  X(Softplus,   "softplus",   FloatOnly,  "SoftplusBackward0",   "beta=1.0,threshold=20.0","f") \
  X(Silu,       "silu",       FloatOnly,  "SiluBackward0",       "",                       "f") \
  X(Gelu,       "gelu",       FloatOnly,  "GeluBackward0",       "approximate=none|tanh",  "f") \
  X(LeakyRelu,  "leaky_relu", FloatOnly,  "LeakyReluBackward0",  "negative_slope=0.01",    "f") \
  X(Elu,        "elu",        FloatOnly,  "EluBackward0",        "alpha=1.0",              "f") \
  X(Hardtanh,   "hardtanh",   KeepNoBool, "HardtanhBackward0",   "min_val=-1.0,max_val=1.0", "f") \
  X(LogSigmoid, "logsigmoid", FloatOnly,  "LogSigmoidBackward0", "",                       "f")

// Arithmetic rows come before the comparisons: the kernels test `op < BinaryOp::Eq`.
#define CG_BINARY_OPS(X)                                                                        \
  X(Add,       "add",       Keep,       "AddBackward0",       "AddBackward0",       "")   \
  X(Sub,       "sub",       Keep,       "SubBackward0",       "SubBackward0",       "")   \
  X(Mul,       "mul",       Keep,       "MulBackward0",       "MulBackward0",       "")   \
  X(Div,       "div",       Float,      "DivBackward0",       "DivBackward0",       "")   \
  X(Pow,       "pow",       Keep,       "PowBackward1",       "PowBackward0",       "")   \
  X(Maximum,   "maximum",   Keep,       "MaximumBackward0",   "MaximumBackward0",   "mt") \
  X(Minimum,   "minimum",   Keep,       "MinimumBackward0",   "MinimumBackward0",   "mt") \
  X(Atan2,     "atan2",     Float,      "Atan2Backward0",     "Atan2Backward0",     "mt") \
  X(Fmod,      "fmod",      KeepNoBool, "FmodBackward1",      "FmodBackward0",      "mt") \
  X(Remainder, "remainder", KeepNoBool, "RemainderBackward1", "RemainderBackward0", "mt") \
  X(Eq,        "eq",        Compare,    "",                   "",                   "")   \
  X(Ne,        "ne",        Compare,    "",                   "",                   "")   \
  X(Lt,        "lt",        Compare,    "",                   "",                   "")   \
  X(Le,        "le",        Compare,    "",                   "",                   "")   \
  X(Gt,        "gt",        Compare,    "",                   "",                   "")   \
  X(Ge,        "ge",        Compare,    "",                   "",                   "")
// clang-format on

#define CG_OP_ENUM(Enum, ...) Enum,
enum class UnaryOp : std::uint8_t { CG_UNARY_OPS(CG_OP_ENUM) };
enum class BinaryOp : std::uint8_t { CG_BINARY_OPS(CG_OP_ENUM) };
#undef CG_OP_ENUM

/// One row of the table as data (for the binding, error messages and dtype decisions).
struct OpInfo {
  const char* name;
  DTypeRule rule;
  const char* grad_fn;
  const char* extra;  ///< unary: the parameter spec; binary: grad_fn with a Python-number other
  const char* expose;
};

#define CG_OP_INFO(Enum, name, rule, grad_fn, extra, expose) OpInfo{name, DTypeRule::rule, grad_fn, extra, expose},
inline constexpr OpInfo kUnaryOps[] = {CG_UNARY_OPS(CG_OP_INFO)};
inline constexpr OpInfo kBinaryOps[] = {CG_BINARY_OPS(CG_OP_INFO)};
#undef CG_OP_INFO

inline constexpr int kUnaryOpCount = static_cast<int>(sizeof(kUnaryOps) / sizeof(kUnaryOps[0]));
inline constexpr int kBinaryOpCount = static_cast<int>(sizeof(kBinaryOps) / sizeof(kBinaryOps[0]));

/// The row of op (a value outside the enum, which only a bad cast makes, gets a row named "?").
inline constexpr OpInfo kUnknownOp{"?", DTypeRule::Keep, "", "", ""};
constexpr const OpInfo& op_info(UnaryOp op) {
  return static_cast<int>(op) < kUnaryOpCount ? kUnaryOps[static_cast<int>(op)] : kUnknownOp;
}
constexpr const OpInfo& op_info(BinaryOp op) {
  return static_cast<int>(op) < kBinaryOpCount ? kBinaryOps[static_cast<int>(op)] : kUnknownOp;
}
constexpr DTypeRule dtype_rule(UnaryOp op) { return op_info(op).rule; }
constexpr DTypeRule dtype_rule(BinaryOp op) { return op_info(op).rule; }
constexpr bool is_comparison(BinaryOp op) { return dtype_rule(op) == DTypeRule::Compare; }

static_assert(!is_comparison(BinaryOp::Remainder) && is_comparison(BinaryOp::Eq) &&
                  static_cast<int>(BinaryOp::Eq) == kBinaryOpCount - 6,
              "the comparisons are the last six binary rows (kernels test op < BinaryOp::Eq)");

/// An op's parameters (softplus's beta and threshold, leaky_relu's slope, ...), in the order of the
/// table's params column; ops without parameters ignore them. Plain doubles, so one struct passes
/// by value to CPU loops and CUDA kernels alike.
struct OpParams {
  double a = 0.0;
  double b = 0.0;
};

}  // namespace chaingrad
