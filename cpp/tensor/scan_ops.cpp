// Running sums and products along a dim (cumsum, cumprod), row by row with the dim moved last.
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "tensor/autograd.h"
#include "tensor/device.h"
#include "tensor/ops.h"
#include "tensor/sequence_ops.h"

namespace chaingrad {
namespace {

using Grads = std::vector<TensorPtr>;
using Saved = std::vector<TensorPtr>;

/// Integer and bool inputs scan in int64 unless a dtype is given, as PyTorch.
DType scan_dtype(const TensorPtr& t, std::optional<DType> dtype, const char* op) {
  const DType out = dtype ? *dtype : (is_floating(t->dtype()) ? t->dtype() : DType::Int64);  // int32 too
  if (out == DType::Bool) throw std::runtime_error(std::string(op) + "(): a bool result dtype is not supported");
  return out;
}

/// The running sums (products when `product`) along dim, from the end when reverse, in dtype; no
/// autograd. Floats accumulate in double, as PyTorch's CPU scans; integers in their own type.
TensorPtr scan(const TensorPtr& t, std::int64_t dim, DType dtype, bool reverse, bool product) {
  if (is_storage_only(dtype)) return cast(scan(t, dim, compute_dtype(dtype), reverse, product), dtype);
  if (t->ndim() == 0) return to_device(cast(to_device(t, Device{}), dtype, /*copy=*/true), t->device());
  const TensorPtr rows = moved_to_last(cast(to_device(t, Device{}), dtype), dim);
  TensorPtr out = empty(rows->shape(), dtype);
  const std::int64_t n = t->shape()[dim], count = n == 0 ? 0 : rows->numel() / n;
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    const T* x = rows->data_as<T>();
    T* o = out->data_as<T>();
    for (std::int64_t r = 0; r < count; ++r) {
      Acc acc = product ? Acc(1) : Acc(0);
      for (std::int64_t j = 0; j < n; ++j) {
        const std::int64_t at = r * n + (reverse ? n - 1 - j : j);
        const Acc v = static_cast<Acc>(x[at]);
        if constexpr (std::is_same_v<Acc, bool>) {
          acc = product ? (acc && v) : (acc || v);
        } else {  // int64 wraps around as PyTorch's (no signed-overflow UB)
          acc = product ? wrapping_mul(acc, v) : wrapping_add(acc, v);
        }
        o[at] = static_cast<T>(acc);
      }
    }
  });
  return to_device(moved_from_last(out, dim), t->device());
}

TensorPtr mul(const TensorPtr& a, const TensorPtr& b) {
  return arith(BinaryOp::Mul, a, b, promote(a->dtype(), b->dtype()));
}

/// The gradient of y = cumprod(x) along dim for the output gradient g, in differentiable ops.
/// Before a row's first zero it is reverse_cumsum(g * y) / x; at the first zero z it is
/// prod(x[:z]) * sum_{i >= z} g[i] * prod(x[z+1 .. i]); after it, 0 (every product there holds x[z]).
TensorPtr cumprod_backward(const TensorPtr& x, const TensorPtr& y, const TensorPtr& g, std::int64_t dim) {
  const TensorPtr zero = scalar_tensor(0, x->dtype()), one = scalar_tensor(1, x->dtype());
  const TensorPtr is_zero = binary(BinaryOp::Eq, x, zero, x->dtype());
  if (item(sum(is_zero, {}, false)) == 0) {
    return arith(BinaryOp::Div, cumsum_op(mul(g, y), dim, std::nullopt, true), x, x->dtype());
  }
  // masks (constants of the formula): before, at and after each row's first zero
  const TensorPtr zeros_so_far = scan(is_zero, dim, DType::Int64, false, false);
  const TensorPtr before = binary(BinaryOp::Eq, zeros_so_far, scalar_tensor(0, DType::Int64), DType::Int64);
  const TensorPtr from_first = binary(BinaryOp::Ne, before, scalar_tensor(1, DType::Bool), DType::Bool);
  const TensorPtr first =
      binary(BinaryOp::Mul, is_zero, binary(BinaryOp::Eq, zeros_so_far, scalar_tensor(1, DType::Int64), DType::Int64),
             DType::Bool);
  const TensorPtr past_first = binary(BinaryOp::Ne, from_first, first, DType::Bool);
  const TensorPtr below = arith(BinaryOp::Div, cumsum_op(mul(g, y), dim, std::nullopt, true),
                                where_op(before, x, one, x->dtype()), x->dtype());
  const TensorPtr prefix = cumprod_op(where_op(before, x, one, x->dtype()), dim, std::nullopt);
  const TensorPtr tail = cumprod_op(where_op(past_first, x, one, x->dtype()), dim, std::nullopt);
  const TensorPtr at_first = mul(prefix, sum_op(where_op(from_first, mul(g, tail), zero, x->dtype()), {dim}, true));
  return where_op(before, below, where_op(first, at_first, zero, x->dtype()), x->dtype());
}

}  // namespace

TensorPtr cumsum_op(const TensorPtr& t, std::int64_t dim_in, std::optional<DType> dtype, bool reverse) {
  const DType out_dtype = scan_dtype(t, dtype, "cumsum");
  const std::int64_t dim = t->ndim() == 0 ? (wrap_dim(dim_in, 0), 0) : wrap_dim(dim_in, t->ndim());
  TensorPtr out = scan(t, dim, out_dtype, reverse, false);
  if (!is_floating(out_dtype) || !any_requires_grad({&t})) return out;
  return record(out, "CumsumBackward0", {t}, {},
                [dim, reverse, in_dtype = t->dtype()](const TensorPtr& g, const Saved&) {
                  return Grads{to_dtype(cumsum_op(g, dim, std::nullopt, !reverse), in_dtype, false)};
                });
}

TensorPtr cumprod_op(const TensorPtr& t, std::int64_t dim_in, std::optional<DType> dtype) {
  const DType out_dtype = scan_dtype(t, dtype, "cumprod");
  const std::int64_t dim = t->ndim() == 0 ? (wrap_dim(dim_in, 0), 0) : wrap_dim(dim_in, t->ndim());
  TensorPtr out = scan(t, dim, out_dtype, false, true);
  if (!is_floating(out_dtype) || !any_requires_grad({&t})) return out;
  return record(out, "CumprodBackward0", {t}, {t, out},
                [dim, in_dtype = t->dtype(), out_dtype](const TensorPtr& g, const Saved& s) {
                  if (s[0]->ndim() == 0) return Grads{to_dtype(g, in_dtype, false)};
                  const TensorPtr x = to_dtype(s[0], out_dtype, false);
                  return Grads{to_dtype(cumprod_backward(x, s[1], g, dim), in_dtype, false)};
                });
}

}  // namespace chaingrad
