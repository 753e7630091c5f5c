// The per-element functions of the elementwise kernels and the flat loops over them, compiled
// once per instruction set (see Note [ISA dispatch] in kernels/cpu/isa.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "kernels/cpu/vec_math.h"

namespace chaingrad {
// Note [one copy per translation unit]
// Everything here has internal linkage (an unnamed namespace): the AVX2 and AVX-512 translation
// units include this header too, and if the linker merged their copies with the baseline ones a
// CPU without those instructions could end up running them.
namespace {

template <UnaryOp op, class T>
T unary_value(T x) {
  if constexpr (std::is_same_v<T, bool>) {
    return x;  // only abs reaches a bool loop; unary() computes the other ops in int64
  } else if constexpr (op == UnaryOp::Neg) {
    return wrapping_neg(x);
  } else if constexpr (op == UnaryOp::Abs) {
    if constexpr (std::is_floating_point_v<T>) return std::abs(x);  // abs(-0.0) is +0.0
    else return x < 0 ? wrapping_neg(x) : x;
  } else if constexpr (op == UnaryOp::Exp) {
    if constexpr (std::is_same_v<T, float>) return fast_expf(x);
    else return std::exp(x);
  } else if constexpr (op == UnaryOp::Log) {
    return std::log(x);
  } else if constexpr (op == UnaryOp::Sqrt) {
    return std::sqrt(x);
  } else if constexpr (op == UnaryOp::Tanh) {
    if constexpr (std::is_same_v<T, float>) return fast_tanhf(x);
    else return std::tanh(x);
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
  } else {
    return wrapping_mul(x, x);
  }
}

/// Calls f(std::integral_constant<UnaryOp, op>{}) for the runtime op, so loops see a constant.
template <class F>
void with_unary(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::Neg: return f(std::integral_constant<UnaryOp, UnaryOp::Neg>{});
    case UnaryOp::Abs: return f(std::integral_constant<UnaryOp, UnaryOp::Abs>{});
    case UnaryOp::Exp: return f(std::integral_constant<UnaryOp, UnaryOp::Exp>{});
    case UnaryOp::Log: return f(std::integral_constant<UnaryOp, UnaryOp::Log>{});
    case UnaryOp::Sqrt: return f(std::integral_constant<UnaryOp, UnaryOp::Sqrt>{});
    case UnaryOp::Tanh: return f(std::integral_constant<UnaryOp, UnaryOp::Tanh>{});
    case UnaryOp::Sigmoid: return f(std::integral_constant<UnaryOp, UnaryOp::Sigmoid>{});
    case UnaryOp::Relu: return f(std::integral_constant<UnaryOp, UnaryOp::Relu>{});
    case UnaryOp::Sign: return f(std::integral_constant<UnaryOp, UnaryOp::Sign>{});
    case UnaryOp::Square: return f(std::integral_constant<UnaryOp, UnaryOp::Square>{});
    case UnaryOp::Sin: return f(std::integral_constant<UnaryOp, UnaryOp::Sin>{});
    case UnaryOp::Cos: return f(std::integral_constant<UnaryOp, UnaryOp::Cos>{});
  }
}

template <class T>
T int_pow(T base, T exponent) {
  T result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = wrapping_mul(result, base);
    base = wrapping_mul(base, base);
    exponent >>= 1;
  }
  return result;
}

template <BinaryOp op, class T>
auto binary_value(T a, T b) {
  if constexpr (op == BinaryOp::Eq) return a == b;
  else if constexpr (op == BinaryOp::Ne) return a != b;
  else if constexpr (op == BinaryOp::Lt) return a < b;
  else if constexpr (op == BinaryOp::Le) return a <= b;
  else if constexpr (op == BinaryOp::Gt) return a > b;
  else if constexpr (op == BinaryOp::Ge) return a >= b;
  else if constexpr (std::is_same_v<T, bool>) {
    if constexpr (op == BinaryOp::Add || op == BinaryOp::Maximum) return static_cast<bool>(a || b);
    else return static_cast<bool>(a && b);  // Mul, Minimum; Sub/Div/Pow are rejected before
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
  } else if constexpr (std::is_floating_point_v<T>) {  // Maximum, Minimum propagate NaN
    if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN();
    return op == BinaryOp::Maximum ? (a > b ? a : b) : (a < b ? a : b);
  } else {
    return op == BinaryOp::Maximum ? (a > b ? a : b) : (a < b ? a : b);
  }
}

template <class F>
void with_binary(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add: return f(std::integral_constant<BinaryOp, BinaryOp::Add>{});
    case BinaryOp::Sub: return f(std::integral_constant<BinaryOp, BinaryOp::Sub>{});
    case BinaryOp::Mul: return f(std::integral_constant<BinaryOp, BinaryOp::Mul>{});
    case BinaryOp::Div: return f(std::integral_constant<BinaryOp, BinaryOp::Div>{});
    case BinaryOp::Pow: return f(std::integral_constant<BinaryOp, BinaryOp::Pow>{});
    case BinaryOp::Maximum: return f(std::integral_constant<BinaryOp, BinaryOp::Maximum>{});
    case BinaryOp::Minimum: return f(std::integral_constant<BinaryOp, BinaryOp::Minimum>{});
    case BinaryOp::Eq: return f(std::integral_constant<BinaryOp, BinaryOp::Eq>{});
    case BinaryOp::Ne: return f(std::integral_constant<BinaryOp, BinaryOp::Ne>{});
    case BinaryOp::Lt: return f(std::integral_constant<BinaryOp, BinaryOp::Lt>{});
    case BinaryOp::Le: return f(std::integral_constant<BinaryOp, BinaryOp::Le>{});
    case BinaryOp::Gt: return f(std::integral_constant<BinaryOp, BinaryOp::Gt>{});
    case BinaryOp::Ge: return f(std::integral_constant<BinaryOp, BinaryOp::Ge>{});
  }
}

/// out[i] = f(x[i], y[i]) over a contiguous output, on every core for large outputs. Operands are
/// flat (same shape, contiguous) or single elements; anything else takes the strided walk.
template <class T>
void flat_unary(UnaryOp op, T* y, const T* x, std::int64_t begin, std::int64_t end) {
  with_unary(op, [&](auto op_c) {
    constexpr UnaryOp o = decltype(op_c)::value;
    for (std::int64_t i = begin; i < end; ++i) y[i] = unary_value<o, T>(x[i]);
  });
}

/// z[i] = op(x[i], y[i]) for i in [begin, end): x or y may be one broadcast element (step 0).
template <BinaryOp op, class T>
void flat_binary_loop(T* z, const T* x, bool x_step, const T* y, bool y_step, std::int64_t begin,
                      std::int64_t end) {
  if (x_step && y_step) {
    for (std::int64_t i = begin; i < end; ++i) z[i] = binary_value<op, T>(x[i], y[i]);
  } else if (x_step) {
    const T v = y[0];
    for (std::int64_t i = begin; i < end; ++i) z[i] = binary_value<op, T>(x[i], v);
  } else {
    const T v = x[0];
    for (std::int64_t i = begin; i < end; ++i) z[i] = binary_value<op, T>(v, y[i]);
  }
}

/// The arithmetic ops (not comparisons) of flat_binary_loop, chosen at run time.
template <class T>
void flat_arith(BinaryOp op, T* z, const T* x, bool x_step, const T* y, bool y_step, std::int64_t begin,
                std::int64_t end) {
  with_binary(op, [&](auto op_c) {
    constexpr BinaryOp o = decltype(op_c)::value;
    if constexpr (o < BinaryOp::Eq) flat_binary_loop<o, T>(z, x, x_step, y, y_step, begin, end);
  });
}

}  // namespace
}  // namespace chaingrad
