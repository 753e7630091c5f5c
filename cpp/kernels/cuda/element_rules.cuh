// The per-element rules of the CUDA elementwise kernels, the same as the CPU's (cpp/kernels/cpu/element_loops.h):
// relu(nan) is nan, maximum/minimum propagate NaN, integers wrap around, integer division by zero gives 0, bool add/max
// are "or" and mul/min "and". Host-callable too, so tests/cuda_host checks them against the CPU's
// rules without a GPU.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/kernels.h"
#include "kernels/loops.h"  // wrapping integer arithmetic, shared with the CPU

namespace chaingrad::cuda {

template <class T>
__host__ __device__ T unary_value(UnaryOp op, T x) {
  if constexpr (std::is_same_v<T, bool>) {
    return x;  // only abs reaches a bool kernel
  } else {
    switch (op) {
      case UnaryOp::Neg: return wrapping_neg(x);
      case UnaryOp::Abs:
        if constexpr (std::is_floating_point_v<T>) return fabs(x);  // abs(-0.0) is +0.0
        else return x < 0 ? wrapping_neg(x) : x;
      case UnaryOp::Relu: return x <= 0 ? T(0) : x;
      case UnaryOp::Sign: return static_cast<T>((T(0) < x) - (x < T(0)));
      case UnaryOp::Square: return wrapping_mul(x, x);
      default: break;
    }
    if constexpr (std::is_floating_point_v<T>) {
      switch (op) {
        case UnaryOp::Exp: return exp(x);
        case UnaryOp::Log: return log(x);
        case UnaryOp::Sqrt: return sqrt(x);
        case UnaryOp::Tanh: return tanh(x);
        case UnaryOp::Sigmoid: return T(1) / (T(1) + exp(-x));
        case UnaryOp::Sin: return sin(x);
        case UnaryOp::Cos: return cos(x);
        default: break;
      }
    }
    return x;  // unreachable: unary() computes transcendental ops in a floating dtype
  }
}

template <class T>
__host__ __device__ T int_pow(T base, T exponent) {
  T result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = wrapping_mul(result, base);
    base = wrapping_mul(base, base);
    exponent >>= 1;
  }
  return result;
}

template <class T>
__host__ __device__ T arith_value(BinaryOp op, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return op == BinaryOp::Add || op == BinaryOp::Maximum ? (a || b) : (a && b);
  } else {
    switch (op) {
      case BinaryOp::Add: return wrapping_add(a, b);
      case BinaryOp::Sub: return wrapping_sub(a, b);
      case BinaryOp::Mul: return wrapping_mul(a, b);
      case BinaryOp::Div:
        if constexpr (std::is_integral_v<T>) return b == 0 ? T(0) : b == T(-1) ? wrapping_neg(a) : a / b;
        else return a / b;
      case BinaryOp::Pow:
        if constexpr (std::is_integral_v<T>) return int_pow(a, b);
        else return pow(a, b);
      case BinaryOp::Maximum:
      case BinaryOp::Minimum:
        if constexpr (std::is_floating_point_v<T>) {
          if (a != a || b != b) return a + b;  // NaN
        }
        return op == BinaryOp::Maximum ? (a > b ? a : b) : (a < b ? a : b);
      default: return a;  // comparisons take compare_value
    }
  }
}

template <class T>
__host__ __device__ bool compare_value(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Eq: return a == b;
    case BinaryOp::Ne: return a != b;
    case BinaryOp::Lt: return a < b;
    case BinaryOp::Le: return a <= b;
    case BinaryOp::Gt: return a > b;
    default: return a >= b;
  }
}

}  // namespace chaingrad::cuda
