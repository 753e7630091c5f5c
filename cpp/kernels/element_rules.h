// The per-element rules of the elementwise kernels, for the CPU and for CUDA alike.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/loops.h"  // CG_HOST_DEVICE, wrapping integer arithmetic, saturate_value
#include "kernels/op_table.h"
#include "kernels/vec_math.h"

namespace chaingrad {

// Note [one rule for both devices]
// Each op's value for one element is written once, here, as a host-and-device function. The CPU
// loops (kernels/cpu/element_loops.h, compiled again for AVX2 and AVX-512) call unary_value<op>
// with the op as a template argument, so each loop is specialised and vectorised; the CUDA kernels
// (kernels/cuda/elementwise.cu) call the runtime-op overloads below, which switch over the op
// table to the very same templates (one kernel per dtype rather than per op keeps the CUDA build
// small). The float32 fast paths (fast_expf, fast_tanhf, fast_sigmoidf) are host-and-device too,
// and CUDA is built with --fmad=false as the CPU with -ffp-contract=off, so both devices give the
// same bits by construction. The rules themselves:
//   - relu(nan) is nan; maximum/minimum propagate NaN; comparisons follow IEEE;
//   - integers wrap around (Note [integer wrap-around]); integer division by zero gives 0 (the
//     callers divide in float; fmod and remainder refuse an integer zero before the kernel);
//   - bool add/maximum are "or", mul/minimum "and" (the other ops never reach a bool loop).
// Ops of the Float and FloatOnly rules never reach an integer loop (unary() computes them in a
// floating dtype or refuses); their integer instantiations return x only so that every switch
// compiles.
namespace {  // internal linkage: see Note [one copy per translation unit] in kernels/cpu/element_loops.h

/// e^x and tanh(x): the vectorizable polynomials for float32, libm for float64.
template <class T>
CG_HOST_DEVICE inline T exp_of(T x) {
  if constexpr (std::is_same_v<T, float>) return fast_expf(x);
  else return std::exp(x);
}
template <class T>
CG_HOST_DEVICE inline T tanh_of(T x) {
  if constexpr (std::is_same_v<T, float>) return fast_tanhf(x);
  else return std::tanh(x);
}

template <UnaryOp op, class T>
CG_HOST_DEVICE inline T unary_value(T x, OpParams p = {}) {
  constexpr DTypeRule rule = dtype_rule(op);
  if constexpr (std::is_same_v<T, bool>) {
    return x;  // only abs reaches a bool loop; unary() computes the other ops in int64
  } else if constexpr (!std::is_floating_point_v<T> && (rule == DTypeRule::Float || rule == DTypeRule::FloatOnly)) {
    return x;  // unreachable (see the Note)
  } else if constexpr (op == UnaryOp::Neg) {
    return wrapping_neg(x);
  } else if constexpr (op == UnaryOp::Abs) {
    if constexpr (std::is_floating_point_v<T>) return std::abs(x);  // abs(-0.0) is +0.0
    else return x < 0 ? wrapping_neg(x) : x;
  } else if constexpr (op == UnaryOp::Exp) {
    return exp_of(x);
  } else if constexpr (op == UnaryOp::Log) {
    return std::log(x);
  } else if constexpr (op == UnaryOp::Sqrt) {
    return std::sqrt(x);
  } else if constexpr (op == UnaryOp::Tanh) {
    return tanh_of(x);
  } else if constexpr (op == UnaryOp::Sigmoid) {
    if constexpr (std::is_same_v<T, float>) return fast_sigmoidf(x);
    else return T(1) / (T(1) + std::exp(-x));
  } else if constexpr (op == UnaryOp::Relu) {
    return x <= 0 ? T(0) : x;  // relu(nan) is nan, as PyTorch
  } else if constexpr (op == UnaryOp::Sin) {
    return std::sin(x);
  } else if constexpr (op == UnaryOp::Cos) {
    return std::cos(x);
  } else if constexpr (op == UnaryOp::Sign) {
    return static_cast<T>((T(0) < x) - (x < T(0)));
  } else if constexpr (op == UnaryOp::Square) {
    return wrapping_mul(x, x);
  } else if constexpr (op == UnaryOp::Log1p) {
    return std::log1p(x);
  } else if constexpr (op == UnaryOp::Expm1) {
    return std::expm1(x);
  } else if constexpr (op == UnaryOp::Log2) {
    return std::log2(x);
  } else if constexpr (op == UnaryOp::Log10) {
    return std::log10(x);
  } else if constexpr (op == UnaryOp::Rsqrt) {
    return T(1) / std::sqrt(x);
  } else if constexpr (op == UnaryOp::Erf) {
    return std::erf(x);
  } else if constexpr (op == UnaryOp::Softplus) {  // a = beta, b = threshold; linear past it, as PyTorch
    const T beta = static_cast<T>(p.a), bx = x * beta;
    return bx > static_cast<T>(p.b) ? x : std::log1p(exp_of(bx)) / beta;
  } else if constexpr (op == UnaryOp::Silu) {
    return x / (T(1) + exp_of(-x));
  } else if constexpr (op == UnaryOp::Gelu) {  // a = 0: exact (erf); a = 1: the tanh approximation
    if (p.a == 0.0) return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
    const T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);  // sqrt(2/pi)
    return T(0.5) * x * (T(1) + tanh_of(inner));
  } else if constexpr (op == UnaryOp::LeakyRelu) {  // a = negative_slope
    return x > 0 ? x : x * static_cast<T>(p.a);
  } else if constexpr (op == UnaryOp::Elu) {  // a = alpha
    return x <= 0 ? static_cast<T>(p.a) * std::expm1(x) : x;
  } else if constexpr (op == UnaryOp::Hardtanh) {  // a = min_val, b = max_val; NaN stays NaN
    const T lo = saturate_value<T>(p.a), hi = saturate_value<T>(p.b);
    return x < lo ? lo : x > hi ? hi : x;
  } else if constexpr (op == UnaryOp::LogSigmoid) {  // min(x, 0) - log1p(e^-|x|): no overflow
    return (x < T(0) ? x : T(0)) - std::log1p(exp_of(-std::abs(x)));
  } else {
    static_assert(op != op, "an op of the table has no per-element rule");
    return x;
  }
}

/// Calls f(std::integral_constant<UnaryOp, op>{}) for the runtime op, so loops see a constant.
template <class F>
void with_unary(UnaryOp op, F&& f) {
  switch (op) {
#define CG_CASE(Enum, ...) \
  case UnaryOp::Enum:      \
    return f(std::integral_constant<UnaryOp, UnaryOp::Enum>{});
    CG_UNARY_OPS(CG_CASE)
#undef CG_CASE
  }
}

template <class T>
CG_HOST_DEVICE inline T int_pow(T base, T exponent) {
  T result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = wrapping_mul(result, base);
    base = wrapping_mul(base, base);
    exponent >>= 1;
  }
  return result;
}

/// a % b for integers with b != 0 (checked before the kernel); b == -1 gives 0 without computing
/// INT64_MIN % -1, which overflows.
template <class T>
CG_HOST_DEVICE inline T int_fmod(T a, T b) {
  return b == 0 || b == T(-1) ? T(0) : static_cast<T>(a % b);
}

template <BinaryOp op, class T>
CG_HOST_DEVICE inline auto binary_value(T a, T b) {
  if constexpr (op == BinaryOp::Eq) return a == b;
  else if constexpr (op == BinaryOp::Ne) return a != b;
  else if constexpr (op == BinaryOp::Lt) return a < b;
  else if constexpr (op == BinaryOp::Le) return a <= b;
  else if constexpr (op == BinaryOp::Gt) return a > b;
  else if constexpr (op == BinaryOp::Ge) return a >= b;
  else if constexpr (std::is_same_v<T, bool>) {
    if constexpr (op == BinaryOp::Add || op == BinaryOp::Maximum) return static_cast<bool>(a || b);
    else return static_cast<bool>(a && b);  // Mul, Minimum; the others are refused or computed in float
  } else if constexpr (op == BinaryOp::Add) {
    return wrapping_add(a, b);
  } else if constexpr (op == BinaryOp::Sub) {
    return wrapping_sub(a, b);
  } else if constexpr (op == BinaryOp::Mul) {
    return wrapping_mul(a, b);
  } else if constexpr (op == BinaryOp::Div) {
    // callers divide in float; INT64_MIN / -1 overflows, so -1 takes the wrapping negation
    if constexpr (std::is_integral_v<T>) return b == 0 ? T(0) : b == T(-1) ? wrapping_neg(a) : static_cast<T>(a / b);
    else return static_cast<T>(a / b);
  } else if constexpr (op == BinaryOp::Pow) {
    if constexpr (std::is_integral_v<T>) return int_pow(a, b);
    else return static_cast<T>(std::pow(a, b));
  } else if constexpr (op == BinaryOp::Maximum || op == BinaryOp::Minimum) {
    if constexpr (std::is_floating_point_v<T>) {  // NaN propagates
      if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN();
    }
    return op == BinaryOp::Maximum ? (a > b ? a : b) : (a < b ? a : b);
  } else if constexpr (op == BinaryOp::Atan2) {
    if constexpr (std::is_floating_point_v<T>) return std::atan2(a, b);
    else return a;                              // unreachable: computed in float
  } else if constexpr (op == BinaryOp::Fmod) {  // the sign of a, as C's fmod
    if constexpr (std::is_floating_point_v<T>) return std::fmod(a, b);
    else return int_fmod(a, b);
  } else if constexpr (op == BinaryOp::Remainder) {  // the sign of b, as Python's % (PyTorch's rule)
    T m;
    if constexpr (std::is_floating_point_v<T>) m = std::fmod(a, b);
    else m = int_fmod(a, b);
    return m != T(0) && ((b < T(0)) != (m < T(0))) ? static_cast<T>(m + b) : m;
  } else {
    static_assert(op != op, "an op of the table has no per-element rule");
    return a;
  }
}

template <class F>
void with_binary(BinaryOp op, F&& f) {
  switch (op) {
#define CG_CASE(Enum, ...) \
  case BinaryOp::Enum:     \
    return f(std::integral_constant<BinaryOp, BinaryOp::Enum>{});
    CG_BINARY_OPS(CG_CASE)
#undef CG_CASE
  }
}

// --- the runtime-op forms, for the CUDA kernels -------------------------------------------------

template <class T>
CG_HOST_DEVICE inline T unary_value(UnaryOp op, T x, OpParams p) {
  switch (op) {
#define CG_CASE(Enum, ...) \
  case UnaryOp::Enum:      \
    return unary_value<UnaryOp::Enum, T>(x, p);
    CG_UNARY_OPS(CG_CASE)
#undef CG_CASE
  }
  return x;
}

/// An arithmetic (not comparison) op's value.
template <class T>
CG_HOST_DEVICE inline T arith_value(BinaryOp op, T a, T b) {
  switch (op) {
#define CG_CASE(Enum, ...)                                                                      \
  case BinaryOp::Enum:                                                                          \
    if constexpr (!is_comparison(BinaryOp::Enum)) return binary_value<BinaryOp::Enum, T>(a, b); \
    break;
    CG_BINARY_OPS(CG_CASE)
#undef CG_CASE
  }
  return a;  // comparisons take compare_value
}

/// A comparison's value.
template <class T>
CG_HOST_DEVICE inline bool compare_value(BinaryOp op, T a, T b) {
  switch (op) {
#define CG_CASE(Enum, ...)                                                                     \
  case BinaryOp::Enum:                                                                         \
    if constexpr (is_comparison(BinaryOp::Enum)) return binary_value<BinaryOp::Enum, T>(a, b); \
    break;
    CG_BINARY_OPS(CG_CASE)
#undef CG_CASE
  }
  return false;
}

}  // namespace
}  // namespace chaingrad
