// Counting ops: unique, bincount and histograms. Their results are counts and positions, so they
// record no gradient; they run on the host.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "tensor/device.h"
#include "tensor/indexing.h"
#include "tensor/ops.h"
#include "tensor/sequence_ops.h"

namespace chaingrad {
namespace {

/// t's elements in row-major order, contiguous on the host.
TensorPtr host_flat(const TensorPtr& t) {
  const TensorPtr c = contiguous(to_device(t, Device{}));
  return make_view(c, {c->numel()}, {1}, c->offset());
}

}  // namespace

UniqueResult unique_op(const TensorPtr& t) {
  const TensorPtr flat = host_flat(t);
  // compared in the compute type (widening keeps order and equality); values gathered from flat
  const TensorPtr keys = cast(flat, compute_dtype(flat->dtype()));
  const std::int64_t n = flat->numel();
  TensorPtr inverse = empty(t->shape(), DType::Int64);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::vector<std::int64_t> firsts, counts;  // per distinct value: where it first occurs in order
  dispatch(keys->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = keys->data_as<T>();
    auto before = [x](std::int64_t a, std::int64_t b) {
      if constexpr (std::is_floating_point_v<T>) return (!std::isnan(x[a]) && std::isnan(x[b])) || x[a] < x[b];
      else return x[a] < x[b];
    };
    std::stable_sort(order.begin(), order.end(), before);
    std::int64_t* inv = inverse->data_as<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      // NaN never equals itself: each NaN is a value of its own, as in PyTorch
      if (i == 0 || !(x[order[i]] == x[order[i - 1]])) {
        firsts.push_back(order[i]);
        counts.push_back(0);
      }
      ++counts.back();
      inv[order[i]] = static_cast<std::int64_t>(firsts.size()) - 1;
    }
  });
  const std::int64_t m = static_cast<std::int64_t>(firsts.size());
  TensorPtr positions = empty({m}, DType::Int64), count_t = empty({m}, DType::Int64);
  std::copy(firsts.begin(), firsts.end(), positions->data_as<std::int64_t>());
  std::copy(counts.begin(), counts.end(), count_t->data_as<std::int64_t>());
  TensorPtr values = gather_op(flat, 0, positions);
  return {to_device(values, t->device()), to_device(inverse, t->device()), to_device(count_t, t->device())};
}

TensorPtr bincount_op(const TensorPtr& t, const TensorPtr& weights, std::int64_t minlength) {
  if (t->ndim() != 1 || is_floating(t->dtype()) || t->dtype() == DType::Bool) {
    throw std::runtime_error("bincount only supports 1-d non-negative integral inputs (got a " +
                             std::string(dtype_name(t->dtype())) + " tensor of shape " + shape_str(t->shape()) + ")");
  }
  if (minlength < 0) throw std::runtime_error("bincount(): minlength should be >= 0, got " + std::to_string(minlength));
  if (weights && (weights->ndim() != 1 || weights->shape()[0] != t->shape()[0])) {
    throw std::runtime_error("bincount(): weights should be 1-d and have the same length as input (got " +
                             shape_str(weights->shape()) + " for an input of " + shape_str(t->shape()) + ")");
  }
  const TensorPtr x = host_flat(cast(t, DType::Int64));
  const std::int64_t* v = x->data_as<std::int64_t>();
  std::int64_t bins = minlength;
  for (std::int64_t i = 0; i < x->numel(); ++i) {
    if (v[i] < 0) {
      throw std::runtime_error("bincount only supports 1-d non-negative integral inputs (found " +
                               std::to_string(v[i]) + ")");
    }
    if (v[i] >= bins) {
      if (v[i] > (std::int64_t{1} << 48)) {
        throw std::runtime_error("bincount(): value " + std::to_string(v[i]) + " would need more bins than memory");
      }
      bins = v[i] + 1;
    }
  }
  if (!weights) {
    TensorPtr out = empty({bins}, DType::Int64);
    fill(out, 0);
    std::int64_t* o = out->data_as<std::int64_t>();
    for (std::int64_t i = 0; i < x->numel(); ++i) ++o[v[i]];
    return to_device(out, t->device());
  }
  // summed in double, returned in float32 for float32 weights and in float64 for all others, as PyTorch
  const TensorPtr w = host_flat(cast(weights, DType::Float64));
  const double* wv = w->data_as<double>();
  TensorPtr out = empty({bins}, DType::Float64);
  fill(out, 0);
  double* o = out->data_as<double>();
  for (std::int64_t i = 0; i < x->numel(); ++i) o[v[i]] += wv[i];
  return to_device(cast(out, weights->dtype() == DType::Float32 ? DType::Float32 : DType::Float64), t->device());
}

TensorPtr histogram_op(const TensorPtr& t, const TensorPtr& edges_in, const TensorPtr& weight, BinSearch search) {
  if (!is_floating(t->dtype()) || edges_in->dtype() != t->dtype()) {
    throw std::runtime_error(std::string("histogram: expected a floating point input and bins of its dtype, got ") +
                             dtype_name(t->dtype()) + " and " + dtype_name(edges_in->dtype()));
  }
  if (edges_in->ndim() != 1 || edges_in->numel() < 2) {
    throw std::runtime_error("histogram: bins must be a 1-d tensor of at least 2 edges, got shape " +
                             shape_str(edges_in->shape()));
  }
  if (weight && (weight->shape() != t->shape() || weight->dtype() != t->dtype())) {
    throw std::runtime_error("histogram: weight must have the input's shape " + shape_str(t->shape()) + " and dtype " +
                             dtype_name(t->dtype()) + ", got " + shape_str(weight->shape()) + " " +
                             dtype_name(weight->dtype()));
  }
  // float16 and bfloat16 count in float32 and store back
  const DType ct = compute_dtype(t->dtype());
  const TensorPtr x = host_flat(cast(t, ct)), edges = host_flat(cast(edges_in, ct));
  const TensorPtr w = weight ? host_flat(cast(weight, ct)) : weight;
  const std::int64_t nb = edges->numel() - 1;
  TensorPtr out = empty({nb}, ct);
  fill(out, 0);
  dispatch(ct, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* xv = x->data_as<T>();
      const T* e = edges->data_as<T>();
      const T* wv = w ? w->data_as<T>() : nullptr;
      T* o = out->data_as<T>();
      for (std::int64_t i = 1; i <= nb; ++i) {
        if (!(e[i - 1] <= e[i])) throw std::runtime_error("histogram: bin edges must increase monotonically");
      }
      const T lo = e[0], hi = e[nb];
      if (search != BinSearch::Binary && !(hi > lo)) {
        throw std::runtime_error("histogram: the outer bin edges must differ for evenly spaced bins");
      }
      for (std::int64_t i = 0; i < x->numel(); ++i) {
        const T v = xv[i];
        if (!(v >= lo && v <= hi)) continue;  // outside, or NaN
        std::int64_t pos;
        if (search == BinSearch::Binary) {
          pos = (std::upper_bound(e, e + nb + 1, v) - e) - 1;
        } else {
          // clamped before the conversion: an infinite or NaN ratio (edges near the type's limits)
          // must not reach the integer cast
          const T ratio = (v - lo) * static_cast<T>(nb) / (hi - lo);
          pos = ratio >= static_cast<T>(nb) ? nb - 1 : ratio >= T(0) ? static_cast<std::int64_t>(ratio) : 0;
          if (search == BinSearch::LinearChecked) {
            pos = std::clamp<std::int64_t>(pos, 0, nb - 1);
            if (e[pos] > v) --pos;
            else if (pos + 1 < nb && e[pos + 1] <= v) ++pos;
          }
        }
        pos = std::clamp<std::int64_t>(pos, 0, nb - 1);  // the right edge belongs to the last bin
        o[pos] += wv ? wv[i] : T(1);
      }
    }
  });
  return to_device(cast(out, t->dtype()), t->device());
}

}  // namespace chaingrad
