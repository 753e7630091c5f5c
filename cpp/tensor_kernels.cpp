#include "tensor_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gil.h"
#include "tensor_loops.h"

namespace chaingrad {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw std::runtime_error(std::string(op) + ": shapes " + shape_str(a) + " and " +
                                  shape_str(b) + " cannot be broadcast together (dim " +
                                  std::to_string(i) + ": " + std::to_string(da) + " vs " +
                                  std::to_string(db) + ")");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void copy_into(const TensorPtr& dst, const TensorPtr& src) {
  if (broadcast_shapes(dst->shape(), src->shape(), "copy") != dst->shape()) {
    throw std::runtime_error("copy: source of shape " + shape_str(src->shape()) +
                                " cannot be broadcast to destination of shape " +
                                shape_str(dst->shape()));
  }
  const Shape src_strides = broadcast_strides(*src, dst->shape());
  GilRelease unlocked(dst->numel() >= kParallelGrain);
  dispatch(dst->dtype(), [&](auto out_tag) {
    using Out = decltype(out_tag);
    dispatch(src->dtype(), [&](auto in_tag) {
      using In = decltype(in_tag);
      Out* out = dst->data_as<Out>();
      const In* in = src->data_as<In>();
      for_each_run<2>(dst->shape(), {dst->strides().data(), src_strides.data()},
                      [&](const auto& off, const auto& step, std::int64_t n) {
                        Out* o = out + off[0];
                        const In* i = in + off[1];
                        for (std::int64_t j = 0; j < n; ++j) {
                          o[j * step[0]] = static_cast<Out>(i[j * step[1]]);
                        }
                      });
    });
  });
}

TensorPtr cast(const TensorPtr& t, DType dtype, bool copy) {
  if (t->dtype() == dtype && !copy) return t;
  TensorPtr out = empty(t->shape(), dtype);
  copy_into(out, t);
  return out;
}

TensorPtr contiguous(const TensorPtr& t) {
  if (t->is_contiguous()) return t;
  return cast(t, t->dtype(), /*copy=*/true);
}

void fill(const TensorPtr& dst, double value) {
  dispatch(dst->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T v = static_cast<T>(value);
    T* out = dst->data_as<T>();
    for_each_run<1>(dst->shape(), {dst->strides().data()},
                    [&](const auto& off, const auto& step, std::int64_t n) {
                      for (std::int64_t j = 0; j < n; ++j) out[off[0] + j * step[0]] = v;
                    });
  });
}

TensorPtr scalar_tensor(double value, DType dtype) {
  TensorPtr out = empty({}, dtype);
  fill(out, value);
  return out;
}

double item(const TensorPtr& t) {
  if (t->numel() != 1) {
    throw std::runtime_error("a Tensor with " + std::to_string(t->numel()) +
                                " elements cannot be converted to Scalar");
  }
  return dispatch(t->dtype(), [&](auto tag) {
    using T = decltype(tag);
    return static_cast<double>(*t->data_as<T>());
  });
}

namespace {

// --- unary ---------------------------------------------------------------------------------

template <class T>
T apply_unary(UnaryOp op, T x) {
  if constexpr (std::is_same_v<T, bool>) {
    return x;  // only abs reaches a bool loop; unary() computes the other ops in int64
  } else {
    switch (op) {
      case UnaryOp::Neg: return -x;
      case UnaryOp::Abs: return x < 0 ? -x : x;
      case UnaryOp::Exp: return std::exp(x);
      case UnaryOp::Log: return std::log(x);
      case UnaryOp::Sqrt: return std::sqrt(x);
      case UnaryOp::Tanh: return std::tanh(x);
      case UnaryOp::Sigmoid: return T(1) / (T(1) + std::exp(-x));
      case UnaryOp::Relu: return x > 0 ? x : T(0);  // nan > 0 is false: relu(nan) is 0, as PyTorch
      case UnaryOp::Sign: return static_cast<T>((T(0) < x) - (x < T(0)));
      case UnaryOp::Square: return x * x;
    }
    return x;
  }
}

bool is_transcendental(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Tanh ||
         op == UnaryOp::Sigmoid;
}

// --- binary --------------------------------------------------------------------------------

template <class T>
T int_pow(T base, T exponent) {
  T result = 1;
  while (exponent > 0) {
    if (exponent & 1) result *= base;
    base *= base;
    exponent >>= 1;
  }
  return result;
}

template <class T>
T apply_binary(BinaryOp op, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (op) {
      case BinaryOp::Add: case BinaryOp::Maximum: return a || b;
      case BinaryOp::Mul: case BinaryOp::Minimum: return a && b;
      default: return a;  // rejected before the loop
    }
  } else {
    switch (op) {
      case BinaryOp::Add: return a + b;
      case BinaryOp::Sub: return a - b;
      case BinaryOp::Mul: return a * b;
      case BinaryOp::Div:
        if constexpr (std::is_integral_v<T>) return b == 0 ? 0 : a / b;  // callers divide in float
        else return a / b;
      case BinaryOp::Pow:
        if constexpr (std::is_integral_v<T>) return int_pow(a, b);
        else return std::pow(a, b);
      case BinaryOp::Maximum:
        if constexpr (std::is_floating_point_v<T>) {
          if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
        }
        return a > b ? a : b;
      case BinaryOp::Minimum:
        if constexpr (std::is_floating_point_v<T>) {
          if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
        }
        return a < b ? a : b;
      default: return a;  // comparisons go through apply_compare
    }
  }
}

template <class T>
bool apply_compare(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Eq: return a == b;
    case BinaryOp::Ne: return a != b;
    case BinaryOp::Lt: return a < b;
    case BinaryOp::Le: return a <= b;
    case BinaryOp::Gt: return a > b;
    case BinaryOp::Ge: return a >= b;
    default: return false;
  }
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

}  // namespace

TensorPtr unary(UnaryOp op, const TensorPtr& t) {
  DType dtype = t->dtype();
  if (is_transcendental(op) && !is_floating(dtype)) dtype = DType::Float32;
  if (dtype == DType::Bool && op != UnaryOp::Abs) {
    if (op == UnaryOp::Neg) {
      throw std::runtime_error(
          "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
          "invert a mask, use the `~` or `logical_not()` operator instead.");
    }
    dtype = DType::Int64;
  }
  const TensorPtr in = cast(t, dtype);
  TensorPtr out = empty(in->shape(), dtype);
  GilRelease unlocked(out->numel() >= kParallelGrain);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = in->data_as<T>();
    T* y = out->data_as<T>();
    for_each_run<2>(out->shape(), {out->strides().data(), in->strides().data()},
                    [&](const auto& off, const auto& step, std::int64_t n) {
                      for (std::int64_t j = 0; j < n; ++j) {
                        y[off[0] + j * step[0]] = apply_unary<T>(op, x[off[1] + j * step[1]]);
                      }
                    });
  });
  return out;
}

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
    case BinaryOp::Pow: return "pow";
    case BinaryOp::Maximum: return "maximum";
    case BinaryOp::Minimum: return "minimum";
    case BinaryOp::Eq: return "eq";
    case BinaryOp::Ne: return "ne";
    case BinaryOp::Lt: return "lt";
    case BinaryOp::Le: return "le";
    case BinaryOp::Gt: return "gt";
    case BinaryOp::Ge: return "ge";
  }
  return "?";
}

TensorPtr binary(BinaryOp op, const TensorPtr& a, const TensorPtr& b, DType dtype) {
  const Shape shape = broadcast_shapes(a->shape(), b->shape(), binary_op_name(op));
  if (dtype == DType::Bool && (op == BinaryOp::Sub || op == BinaryOp::Div || op == BinaryOp::Pow)) {
    throw std::runtime_error(std::string(binary_op_name(op)) +
                                ": not supported for two bool tensors; convert one with .int()");
  }
  const TensorPtr x = cast(a, dtype);
  const TensorPtr y = cast(b, dtype);
  if (op == BinaryOp::Pow && dtype == DType::Int64) {
    const std::int64_t* e = y->data_as<std::int64_t>();
    bool negative = false;
    for_each_run<1>(y->shape(), {y->strides().data()}, [&](const auto& off, const auto& step, std::int64_t n) {
      for (std::int64_t j = 0; j < n; ++j) negative |= e[off[0] + j * step[0]] < 0;
    });
    if (negative) throw std::runtime_error("pow: integers to negative integer powers are not allowed");
  }
  const Shape xs = broadcast_strides(*x, shape);
  const Shape ys = broadcast_strides(*y, shape);
  TensorPtr out = empty(shape, is_comparison(op) ? DType::Bool : dtype);
  GilRelease unlocked(out->numel() >= kParallelGrain);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x->data_as<T>();
    const T* py = y->data_as<T>();
    if (is_comparison(op)) {
      bool* pz = out->data_as<bool>();
      for_each_run<3>(shape, {out->strides().data(), xs.data(), ys.data()},
                      [&](const auto& off, const auto& step, std::int64_t n) {
                        for (std::int64_t j = 0; j < n; ++j) {
                          pz[off[0] + j * step[0]] =
                              apply_compare<T>(op, px[off[1] + j * step[1]], py[off[2] + j * step[2]]);
                        }
                      });
      return;
    }
    T* pz = out->data_as<T>();
    for_each_run<3>(shape, {out->strides().data(), xs.data(), ys.data()},
                    [&](const auto& off, const auto& step, std::int64_t n) {
                      for (std::int64_t j = 0; j < n; ++j) {
                        pz[off[0] + j * step[0]] =
                            apply_binary<T>(op, px[off[1] + j * step[1]], py[off[2] + j * step[2]]);
                      }
                    });
  });
  return out;
}

TensorPtr where(const TensorPtr& cond, const TensorPtr& a, const TensorPtr& b, DType dtype) {
  const Shape shape = broadcast_shapes(cond->shape(), broadcast_shapes(a->shape(), b->shape(), "where"),
                                       "where");
  const TensorPtr c = cast(cond, DType::Bool);
  const TensorPtr x = cast(a, dtype);
  const TensorPtr y = cast(b, dtype);
  const Shape cs = broadcast_strides(*c, shape), xs = broadcast_strides(*x, shape),
              ys = broadcast_strides(*y, shape);
  TensorPtr out = empty(shape, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const bool* pc = c->data_as<bool>();
    const T* px = x->data_as<T>();
    const T* py = y->data_as<T>();
    T* pz = out->data_as<T>();
    for_each_run<4>(shape, {out->strides().data(), cs.data(), xs.data(), ys.data()},
                    [&](const auto& off, const auto& step, std::int64_t n) {
                      for (std::int64_t j = 0; j < n; ++j) {
                        pz[off[0] + j * step[0]] = pc[off[1] + j * step[1]] ? px[off[2] + j * step[2]]
                                                                          : py[off[3] + j * step[3]];
                      }
                    });
  });
  return out;
}

TensorPtr clamp(const TensorPtr& t, const double* lo, const double* hi) {
  if (t->dtype() == DType::Bool) throw std::runtime_error("clamp is not supported for bool tensors");
  TensorPtr out = empty(t->shape(), t->dtype());
  dispatch(t->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = t->data_as<T>();
    T* y = out->data_as<T>();
    for_each_run<2>(out->shape(), {out->strides().data(), t->strides().data()},
                    [&](const auto& off, const auto& step, std::int64_t n) {
                      for (std::int64_t j = 0; j < n; ++j) {
                        T v = x[off[1] + j * step[1]];
                        if (lo && v < static_cast<T>(*lo)) v = static_cast<T>(*lo);
                        if (hi && v > static_cast<T>(*hi)) v = static_cast<T>(*hi);
                        y[off[0] + j * step[0]] = v;
                      }
                    });
  });
  return out;
}

}  // namespace chaingrad
