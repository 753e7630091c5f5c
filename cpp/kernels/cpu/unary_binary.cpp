// unary() and binary() on the CPU: a loop per op and dtype for strided operands, the flat loops
// of Note [ISA dispatch] for contiguous ones. They are the heaviest template families of the
// elementwise kernels, so they live apart from elementwise.cpp and the two compile in parallel.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/gil.h"
#include "kernels/cpu/element_loops.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/parallel.h"
#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "tensor/device.h"

namespace chaingrad {

namespace {

// --- binary --------------------------------------------------------------------------------

template <class O, class T, class F>
bool flat_binary(O* z, const T* x, bool x_flat, const T* y, bool y_flat, std::int64_t n, F f) {
  if (x_flat && y_flat) {
    parallel_for(n, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) z[i] = f(x[i], y[i]);
    });
  } else if (x_flat) {
    const T v = y[0];
    parallel_for(n, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) z[i] = f(x[i], v);
    });
  } else if (y_flat) {
    const T v = x[0];
    parallel_for(n, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) z[i] = f(v, y[i]);
    });
  } else {
    return false;
  }
  return true;
}

/// True when some element of the int64 tensor t is negative (on t's device).
bool any_negative(const TensorPtr& t) {
  if (t->is_cuda()) return cuda::any_negative(*t);
  const std::int64_t* e = t->data_as<std::int64_t>();
  bool negative = false;
  for_each_run<1>(t->shape(), {t->strides().data()}, [&](const auto& off, const auto& step, std::int64_t n) {
    for (std::int64_t j = 0; j < n; ++j) negative |= e[off[0] + j * step[0]] < 0;
  });
  return negative;
}

}  // namespace

DType unary_result_dtype(UnaryOp op, DType in) {
  switch (dtype_rule(op)) {
    case DTypeRule::Float:
      return is_floating(in) ? in : DType::Float32;
    case DTypeRule::FloatOnly:
      if (!is_floating(in)) {  // PyTorch: NotImplementedError "..." not implemented for 'Long'
        throw std::invalid_argument(std::string(unary_op_name(op)) + ": not implemented for " + dtype_name(in) +
                                    " tensors (expected a floating point tensor)");
      }
      return in;
    case DTypeRule::KeepNoBool:
      if (in == DType::Bool) {
        throw std::runtime_error(std::string(unary_op_name(op)) + ": bool inputs are not supported");
      }
      return in;
    default:  // Keep
      if (in != DType::Bool || op == UnaryOp::Abs) return in;
      if (op == UnaryOp::Neg) {
        throw std::runtime_error(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead.");
      }
      return DType::Int64;
  }
}

TensorPtr unary(UnaryOp op, const TensorPtr& t, OpParams params) {
  const DType dtype = unary_result_dtype(op, t->dtype());
  if (is_storage_only(dtype)) return cast(unary(op, cast(t, compute_dtype(dtype)), params), dtype);
  const TensorPtr in = cast(t, dtype);
  TensorPtr out = empty(in->shape(), dtype, in->device());
  if (out->is_cuda()) {
    cuda::unary(op, params, *out, cuda_operand(in, out->shape()));
    return out;
  }
  GilRelease unlocked(out->numel() >= kParallelGrain);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = in->data_as<T>();
    T* y = out->data_as<T>();
    // the flat loops take the op at run time, so this path is compiled once per dtype, not per op
    if (in->is_contiguous()) {
      parallel_for(out->numel(), [&](std::int64_t b, std::int64_t e) {
        if constexpr (std::is_same_v<T, float>) flat_kernels().unary_f32(op, params, y, x, b, e);
        else if constexpr (std::is_same_v<T, double>) flat_kernels().unary_f64(op, params, y, x, b, e);
        else flat_unary<T>(op, params, y, x, b, e);
      });
      return;
    }
    with_unary(op, [&](auto op_c) {
      constexpr UnaryOp o = decltype(op_c)::value;
      for_each_run<2>(out->shape(), {out->strides().data(), in->strides().data()},
                      [&](const auto& off, const auto& step, std::int64_t n) {
                        for (std::int64_t j = 0; j < n; ++j) {
                          y[off[0] + j * step[0]] = unary_value<o, T>(x[off[1] + j * step[1]], params);
                        }
                      });
    });
  });
  return out;
}

namespace {

/// True when some element of the int64 tensor t is 0 (on t's device; the int64 divisor check of
/// fmod and remainder, which PyTorch refuses with ZeroDivisionError).
bool any_zero(const TensorPtr& t) {
  const TensorPtr zeros = binary(BinaryOp::Eq, t, scalar_tensor(0, DType::Int64), DType::Int64);
  return item(sum(zeros, {}, false)) != 0.0;
}

/// binary() into out, which the caller made (or checked) of the broadcast shape and result dtype,
/// contiguous, on `device`.
void run_binary(BinaryOp op, const TensorPtr& out, const TensorPtr& a, const TensorPtr& b, DType dtype,
                const Device& device) {
  const Shape& shape = out->shape();
  if (dtype == DType::Bool && (op == BinaryOp::Sub || op == BinaryOp::Div || op == BinaryOp::Pow)) {
    throw std::runtime_error(std::string(binary_op_name(op)) +
                             ": not supported for two bool tensors; convert one with .int()");
  }
  const TensorPtr x = cast(a, dtype);
  const TensorPtr y = cast(b, dtype);
  if (op == BinaryOp::Pow && dtype == DType::Int64 && any_negative(y)) {
    throw std::runtime_error("pow: integers to negative integer powers are not allowed");
  }
  if (dtype_rule(op) == DTypeRule::KeepNoBool && dtype == DType::Bool) {
    throw std::invalid_argument(std::string(binary_op_name(op)) + ": not implemented for bool tensors");
  }
  if ((op == BinaryOp::Fmod || op == BinaryOp::Remainder) && dtype == DType::Int64 && any_zero(y)) {
    throw std::runtime_error(std::string(binary_op_name(op)) + ": ZeroDivisionError (integer division by zero)");
  }
  if (device.is_cuda()) {
    cuda::binary(op, dtype, *out, cuda_operand(x, shape), cuda_operand(y, shape));
    return;
  }
  const Shape xs = broadcast_strides(*x, shape);
  const Shape ys = broadcast_strides(*y, shape);
  const bool x_flat = is_flat(*x, shape), y_flat = is_flat(*y, shape);
  const bool flat = (x_flat || is_single(*x)) && (y_flat || is_single(*y));
  GilRelease unlocked(out->numel() >= kParallelGrain);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x->data_as<T>();
    const T* py = y->data_as<T>();
    if constexpr (std::is_floating_point_v<T>) {
      if (flat && op < BinaryOp::Eq) {  // the widest instruction set's loop (see Note [ISA dispatch])
        T* pz = out->data_as<T>();      // it takes the op at run time: compiled once per dtype
        parallel_for(out->numel(), [&](std::int64_t b, std::int64_t e) {
          if constexpr (std::is_same_v<T, float>) flat_kernels().arith_f32(op, pz, px, x_flat, py, y_flat, b, e);
          else flat_kernels().arith_f64(op, pz, px, x_flat, py, y_flat, b, e);
        });
        return;
      }
    }
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
}

}  // namespace

namespace {

/// binary() for a storage dtype, before the narrowing: the result in the compute type (bool for
/// comparisons). The operands first take dtype (a number wraps into int8, rounds to float16), then
/// the op runs in the compute type. PyTorch reads the 0-d operand of float16 arithmetic (h * 0.1,
/// 0.1 + h) in float32 unrounded: the second operand of a subtraction or division, either
/// operand of the commutative + and *. For the integers' ring ops the wrap commutes with the op, so
/// an operand is only widened.
TensorPtr storage_binary_wide(BinaryOp op, const TensorPtr& a, const TensorPtr& b, DType dtype) {
  const bool ring = op == BinaryOp::Add || op == BinaryOp::Sub || op == BinaryOp::Mul;
  const bool arith = ring || op == BinaryOp::Div;
  const bool commutes = op == BinaryOp::Add || op == BinaryOp::Mul;
  const bool floating = is_floating(dtype);
  const bool raw_b = floating ? arith && b->ndim() == 0 : ring && !is_floating(b->dtype());
  const bool raw_a = floating ? commutes && a->ndim() == 0 && b->ndim() > 0 : ring && !is_floating(a->dtype());
  return binary(op, raw_a ? a : cast(a, dtype), raw_b ? b : cast(b, dtype), compute_dtype(dtype));
}

}  // namespace

TensorPtr binary(BinaryOp op, const TensorPtr& a, const TensorPtr& b, DType dtype) {
  if (is_storage_only(dtype)) {
    const TensorPtr wide = storage_binary_wide(op, a, b, dtype);
    return is_comparison(op) ? wide : cast(wide, dtype);
  }
  const Shape shape = broadcast_shapes(a->shape(), b->shape(), binary_op_name(op));
  const Device device = common_device(binary_op_name(op), {a.get(), b.get()});
  TensorPtr out = empty(shape, is_comparison(op) ? DType::Bool : dtype, device);
  run_binary(op, out, a, b, dtype, device);
  return out;
}

void binary_into(BinaryOp op, const TensorPtr& out, const TensorPtr& a, const TensorPtr& b, DType dtype) {
  if (is_storage_only(dtype)) {
    if (out->dtype() != (is_comparison(op) ? DType::Bool : dtype)) {
      throw std::logic_error(std::string(binary_op_name(op)) + ": output dtype does not fit the operands");
    }
    copy_into(out, storage_binary_wide(op, a, b, dtype));  // narrows as it copies
    return;
  }
  const Device device = common_device(binary_op_name(op), {out.get(), a.get(), b.get()});
  if (broadcast_shapes(a->shape(), b->shape(), binary_op_name(op)) != out->shape() || !out->is_contiguous() ||
      out->dtype() != (is_comparison(op) ? DType::Bool : dtype) || out->device() != device) {
    throw std::logic_error(std::string(binary_op_name(op)) + ": output of shape " + shape_str(out->shape()) +
                           " does not fit the operands");
  }
  run_binary(op, out, a, b, dtype, device);
}

}  // namespace chaingrad
