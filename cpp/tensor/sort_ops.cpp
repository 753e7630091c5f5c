// sort and topk along a dim: the kernels find the indices row by row (dim moved last), and the
// values are gathered through them, so their gradient scatters back to where each came from.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "tensor/autograd.h"
#include "tensor/device.h"
#include "tensor/factories.h"
#include "tensor/indexing.h"
#include "tensor/ops.h"
#include "tensor/sequence_ops.h"

namespace chaingrad {
namespace {

using Grads = std::vector<TensorPtr>;
using Saved = std::vector<TensorPtr>;

/// a before b in ascending order, NaN above every number.
template <class T>
bool ascending(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return (!std::isnan(a) && std::isnan(b)) || a < b;
  else return a < b;
}
/// a before b in descending order, NaN first.
template <class T>
bool descending(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return (std::isnan(a) && !std::isnan(b)) || a > b;
  else return a > b;
}

/// The values of the host tensor t gathered at indices (dim-last layout moved back to dim),
/// recorded as `name`: the gradient is scattered (added) back to where each value came from.
std::pair<TensorPtr, TensorPtr> gathered(const TensorPtr& t, std::int64_t dim, const TensorPtr& indices_last,
                                         const char* name) {
  TensorPtr indices = moved_from_last(indices_last, dim);
  TensorPtr values = gather_op(detach_op(t), dim, indices);
  if (any_requires_grad({&t})) {
    values = record(values, name, {t}, {indices}, [shape = t->shape(), dim](const TensorPtr& g, const Saved& s) {
      return Grads{scatter_op(full(shape, 0, g->dtype(), g->device()), dim, s[0], g, /*add=*/true)};
    });
  }
  return {values, indices};
}

/// An op's two results computed on the host for a CUDA tensor, moved back to its device (the
/// values differentiably).
template <class F>
std::pair<TensorPtr, TensorPtr> on_host(const TensorPtr& t, F&& op) {
  auto [values, indices] = op(to_device_op(t, Device{}));
  return {to_device_op(values, t->device()), to_device(indices, t->device())};
}

/// t as a one-element vector when 0-d (sort and topk treat it so), else t.
TensorPtr at_least_1d(const TensorPtr& t) { return t->ndim() == 0 ? reshape_op(t, {1}, false) : t; }

}  // namespace

std::pair<TensorPtr, TensorPtr> sort_op(const TensorPtr& t, std::int64_t dim_in, bool descend) {
  if (t->ndim() == 0) {
    wrap_dim(dim_in, 0);
    auto [values, indices] = sort_op(at_least_1d(t), 0, descend);
    return {reshape_op(values, {}, false), as_shape(indices, {})};
  }
  if (t->is_cuda()) return on_host(t, [&](const TensorPtr& h) { return sort_op(h, dim_in, descend); });
  const std::int64_t dim = wrap_dim(dim_in, t->ndim());
  // compared in the compute type (widening keeps the order); the values are gathered from t itself
  const TensorPtr rows = moved_to_last(cast(t, compute_dtype(t->dtype())), dim);
  TensorPtr order = empty(rows->shape(), DType::Int64);
  const std::int64_t n = t->shape()[dim], count = n == 0 ? 0 : rows->numel() / n;
  dispatch(rows->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = rows->data_as<T>();
    std::int64_t* ix = order->data_as<std::int64_t>();
    for (std::int64_t r = 0; r < count; ++r) {
      const T* row = x + r * n;
      std::int64_t* out = ix + r * n;
      std::iota(out, out + n, std::int64_t{0});
      if (descend)
        std::stable_sort(out, out + n, [row](std::int64_t a, std::int64_t b) { return descending(row[a], row[b]); });
      else std::stable_sort(out, out + n, [row](std::int64_t a, std::int64_t b) { return ascending(row[a], row[b]); });
    }
  });
  return gathered(t, dim, order, "SortBackward0");
}

std::pair<TensorPtr, TensorPtr> topk_op(const TensorPtr& t, std::int64_t k, std::int64_t dim_in, bool largest,
                                        bool sorted) {
  if (t->ndim() == 0) {
    wrap_dim(dim_in, 0);
    auto [values, indices] = topk_op(at_least_1d(t), k, 0, largest, sorted);
    return {reshape_op(values, {}, false), as_shape(indices, {})};
  }
  if (t->is_cuda()) return on_host(t, [&](const TensorPtr& h) { return topk_op(h, k, dim_in, largest, sorted); });
  const std::int64_t dim = wrap_dim(dim_in, t->ndim());
  const std::int64_t n = t->shape()[dim];
  if (k < 0 || k > n) {
    throw std::runtime_error("topk(): selected index k = " + std::to_string(k) + " is out of range for dimension " +
                             std::to_string(dim) + " of size " + std::to_string(n));
  }
  const TensorPtr rows = moved_to_last(cast(t, compute_dtype(t->dtype())), dim);
  Shape out_shape = rows->shape();
  out_shape.back() = k;
  TensorPtr picked = empty(out_shape, DType::Int64);
  const std::int64_t count = n == 0 ? 0 : rows->numel() / n;
  dispatch(rows->dtype(), [&](auto tag) {
    using T = decltype(tag);
    using Entry = std::pair<T, std::int64_t>;
    const T* x = rows->data_as<T>();
    std::int64_t* ix = picked->data_as<std::int64_t>();
    std::vector<Entry> q(static_cast<std::size_t>(n));
    // PyTorch's CPU topk picks with these standard algorithms on (value, index) pairs compared by
    // value; doing the same picks the same elements among ties
    auto first = [largest](const Entry& a, const Entry& b) {
      return largest ? descending(a.first, b.first) : ascending(a.first, b.first);
    };
    for (std::int64_t r = 0; r < count && k > 0; ++r) {
      for (std::int64_t j = 0; j < n; ++j) q[j] = Entry(x[r * n + j], j);
      if (k * 64 <= n) {
        std::partial_sort(q.begin(), q.begin() + k, q.end(), first);
      } else {
        std::nth_element(q.begin(), q.begin() + (k - 1), q.end(), first);
        if (sorted) std::sort(q.begin(), q.begin() + (k - 1), first);
      }
      for (std::int64_t j = 0; j < k; ++j) ix[r * k + j] = q[j].second;
    }
  });
  return gathered(t, dim, picked, "TopkBackward0");
}

}  // namespace chaingrad
