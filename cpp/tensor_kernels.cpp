#include "tensor_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gil.h"
#include "parallel.h"
#include "vec_math.h"
#include "tensor_loops.h"

namespace chaingrad {
namespace {

/// How an operand is read by a flat loop over a contiguous output: element i, or always element 0.
bool is_flat(const TensorImpl& t, const Shape& out) { return t.shape() == out && t.is_contiguous(); }
bool is_single(const TensorImpl& t) { return t.numel() == 1; }

}  // namespace

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
      if (dst->is_contiguous() && is_flat(*src, dst->shape())) {
        parallel_for(dst->numel(), [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t i = b; i < e; ++i) out[i] = static_cast<Out>(in[i]);
        });
        return;
      }
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

template <UnaryOp op, class T>
T unary_value(T x) {
  if constexpr (std::is_same_v<T, bool>) {
    return x;  // only abs reaches a bool loop; unary() computes the other ops in int64
  } else if constexpr (op == UnaryOp::Neg) {
    return -x;
  } else if constexpr (op == UnaryOp::Abs) {
    return x < 0 ? -x : x;
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
    return x > 0 ? x : T(0);  // nan > 0 is false: relu(nan) is 0, as PyTorch
  } else if constexpr (op == UnaryOp::Sign) {
    return static_cast<T>((T(0) < x) - (x < T(0)));
  } else {
    return x * x;
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
    return static_cast<T>(a + b);
  } else if constexpr (op == BinaryOp::Sub) {
    return static_cast<T>(a - b);
  } else if constexpr (op == BinaryOp::Mul) {
    return static_cast<T>(a * b);
  } else if constexpr (op == BinaryOp::Div) {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(b == 0 ? 0 : a / b);  // callers divide in float
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
template <class O, class T, class F>
bool flat_binary(O* z, const T* x, bool x_flat, const T* y, bool y_flat, std::int64_t n, F f) {
  if (x_flat && y_flat) {
    parallel_for(n, [&](std::int64_t b, std::int64_t e) { for (std::int64_t i = b; i < e; ++i) z[i] = f(x[i], y[i]); });
  } else if (x_flat) {
    const T v = y[0];
    parallel_for(n, [&](std::int64_t b, std::int64_t e) { for (std::int64_t i = b; i < e; ++i) z[i] = f(x[i], v); });
  } else if (y_flat) {
    const T v = x[0];
    parallel_for(n, [&](std::int64_t b, std::int64_t e) { for (std::int64_t i = b; i < e; ++i) z[i] = f(v, y[i]); });
  } else {
    return false;
  }
  return true;
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

}  // namespace

template <class T>
void flat_unary(UnaryOp op, T* y, const T* x, std::int64_t begin, std::int64_t end) {
  with_unary(op, [&](auto op_c) {
    constexpr UnaryOp o = decltype(op_c)::value;
    for (std::int64_t i = begin; i < end; ++i) y[i] = unary_value<o, T>(x[i]);
  });
}

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
    with_unary(op, [&](auto op_c) {
      constexpr UnaryOp o = decltype(op_c)::value;
      if (in->is_contiguous()) {
        parallel_for(out->numel(), [&](std::int64_t b, std::int64_t e) {
          flat_unary<T>(op, y, x, b, e);
        });
        return;
      }
      for_each_run<2>(out->shape(), {out->strides().data(), in->strides().data()},
                      [&](const auto& off, const auto& step, std::int64_t n) {
                        for (std::int64_t j = 0; j < n; ++j) {
                          y[off[0] + j * step[0]] = unary_value<o, T>(x[off[1] + j * step[1]]);
                        }
                      });
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
  const bool x_flat = is_flat(*x, shape), y_flat = is_flat(*y, shape);
  const bool flat = (x_flat || is_single(*x)) && (y_flat || is_single(*y));
  GilRelease unlocked(out->numel() >= kParallelGrain);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x->data_as<T>();
    const T* py = y->data_as<T>();
    with_binary(op, [&](auto op_c) {
      constexpr BinaryOp o = decltype(op_c)::value;
      using Out = decltype(binary_value<o, T>(T{}, T{}));
      Out* pz = out->data_as<Out>();
      auto f = [](T a, T b) { return binary_value<o, T>(a, b); };
      if (flat && flat_binary(pz, px, x_flat, py, y_flat, out->numel(), f)) return;
      for_each_run<3>(shape, {out->strides().data(), xs.data(), ys.data()},
                      [&](const auto& off, const auto& step, std::int64_t n) {
                        for (std::int64_t j = 0; j < n; ++j) {
                          pz[off[0] + j * step[0]] = f(px[off[1] + j * step[1]], py[off[2] + j * step[2]]);
                        }
                      });
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
