// Running sums along a dim (cumsum), row by row with the dim moved last.
#include <stdexcept>
#include <type_traits>

#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "tensor/autograd.h"
#include "tensor/device.h"
#include "tensor/ops.h"
#include "tensor/sequence_ops.h"

namespace chaingrad {

TensorPtr cumsum_op(const TensorPtr& t, std::int64_t dim_in, std::optional<DType> dtype, bool reverse) {
  const DType out_dtype = dtype ? *dtype : (is_floating(t->dtype()) ? t->dtype() : DType::Int64);
  if (out_dtype == DType::Bool) throw std::runtime_error("cumsum(): a bool result dtype is not supported");
  const std::int64_t dim = t->ndim() == 0 ? (wrap_dim(dim_in, 0), 0) : wrap_dim(dim_in, t->ndim());
  TensorPtr out;
  if (t->ndim() == 0) {
    out = cast(to_device(t, Device{}), out_dtype, /*copy=*/true);
  } else {
    TensorPtr rows = moved_to_last(cast(to_device(t, Device{}), out_dtype), dim);
    TensorPtr sums = empty(rows->shape(), out_dtype);
    const std::int64_t n = t->shape()[dim], count = n == 0 ? 0 : rows->numel() / n;
    dispatch(out_dtype, [&](auto tag) {
      using T = decltype(tag);
      // floats accumulate in double, as PyTorch's CPU cumsum; integers in their own type
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      const T* x = rows->data_as<T>();
      T* o = sums->data_as<T>();
      for (std::int64_t r = 0; r < count; ++r) {
        Acc acc = 0;
        for (std::int64_t j = 0; j < n; ++j) {
          const std::int64_t at = r * n + (reverse ? n - 1 - j : j);
          acc = static_cast<Acc>(acc + static_cast<Acc>(x[at]));
          o[at] = static_cast<T>(acc);
        }
      }
    });
    out = moved_from_last(sums, dim);
  }
  out = to_device(out, t->device());
  if (!is_floating(out_dtype) || !any_requires_grad({&t})) return out;
  return record(out, "CumsumBackward0", {t}, {},
                [dim, reverse, in_dtype = t->dtype()](const TensorPtr& g, const std::vector<TensorPtr>&) {
                  return std::vector<TensorPtr>{to_dtype(cumsum_op(g, dim, std::nullopt, !reverse), in_dtype, false)};
                });
}

}  // namespace chaingrad
