// gather and its adjoint scatter_add along one dim, and the dim-last layouts that the sort, scan
// and count kernels work in.
#include <stdexcept>
#include <string>

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

/// f(coords) for every coordinate of shape, in row-major order.
template <class F>
void walk(const Shape& shape, F&& f) {
  const std::int64_t n = shape_numel(shape);
  Shape c(shape.size(), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    f(c);
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++c[d] < shape[d]) break;
      c[d] = 0;
    }
  }
}

std::int64_t offset_of(const Shape& coords, const Shape& strides) {
  std::int64_t off = 0;
  for (std::size_t d = 0; d < coords.size(); ++d) off += coords[d] * strides[d];
  return off;
}

/// Checks an index for gather (against t) or scatter (against src, and the output's shape).
void check_index(const char* op, const TensorPtr& index, const Shape& target, std::int64_t dim) {
  if (index->dtype() != DType::Int64) {
    throw std::runtime_error(std::string(op) + "(): Expected dtype int64 for index, got " + dtype_name(index->dtype()));
  }
  if (index->ndim() != static_cast<std::int64_t>(target.size())) {
    throw std::runtime_error(std::string(op) + "(): Index tensor must have the same number of dimensions (" +
                             std::to_string(index->ndim()) + ") as the input tensor (" + std::to_string(target.size()) +
                             ")");
  }
  for (std::int64_t d = 0; d < index->ndim(); ++d) {
    if (d != dim && index->shape()[d] > target[d]) {
      throw std::runtime_error(std::string(op) + "(): Size does not match at dimension " + std::to_string(d) +
                               ": expected index " + shape_str(index->shape()) + " to be no larger than " +
                               shape_str(target) + " apart from dimension " + std::to_string(dim));
    }
  }
}

[[noreturn]] void index_out_of_bounds(const char* op, std::int64_t j, std::int64_t dim, std::int64_t size) {
  throw std::runtime_error(std::string(op) + "(): index " + std::to_string(j) + " is out of bounds for dimension " +
                           std::to_string(dim) + " with size " + std::to_string(size));
}

TensorPtr host(const TensorPtr& t) { return t ? to_device(t, Device{}) : t; }

}  // namespace

TensorPtr gather_values(const TensorPtr& t, std::int64_t dim_in, const TensorPtr& index) {
  if (t->ndim() == 0) {  // as the one-element vector it holds (a 0-d index)
    wrap_dim(dim_in, 0);
    check_index("gather", index, t->shape(), 0);
    return as_shape(gather_values(as_shape(t, {1}), 0, as_shape(index, {1})), {});
  }
  const std::int64_t dim = wrap_dim(dim_in, t->ndim());
  check_index("gather", index, t->shape(), dim);
  if (t->is_cuda() || index->is_cuda()) return to_device(gather_values(host(t), dim, host(index)), t->device());
  TensorPtr out = empty(index->shape(), t->dtype());
  const std::int64_t size = t->shape()[dim], stride = t->strides()[dim];
  dispatch_storage(t->dtype(), [&](auto tag) {  // elements are only moved: any dtype as it is stored
    using T = decltype(tag);
    const T* x = t->data_as<T>();
    const std::int64_t* ix = index->data_as<std::int64_t>();
    T* o = out->data_as<T>();
    std::int64_t k = 0;
    walk(index->shape(), [&](Shape& c) {
      const std::int64_t j = ix[offset_of(c, index->strides())];
      if (j < 0 || j >= size) index_out_of_bounds("gather", j, dim, size);
      const std::int64_t cj = c[dim];
      c[dim] = 0;
      o[k++] = x[offset_of(c, t->strides()) + j * stride];
      c[dim] = cj;
    });
  });
  return out;
}

TensorPtr gather_op(const TensorPtr& t, std::int64_t dim, const TensorPtr& index) {
  TensorPtr out = gather_values(t, dim, index);
  if (!any_requires_grad({&t})) return out;
  return record(out, "GatherBackward0", {t}, {index}, [shape = t->shape(), dim](const TensorPtr& g, const Saved& s) {
    return Grads{scatter_add_op(shape, dim, s[0], g)};
  });
}

TensorPtr scatter_add_op(const Shape& shape, std::int64_t dim_in, const TensorPtr& index, const TensorPtr& src) {
  if (index->shape() != src->shape()) {
    throw std::runtime_error("scatter_add(): index of shape " + shape_str(index->shape()) + " and source of shape " +
                             shape_str(src->shape()) + " differ");
  }
  if (shape.empty()) {  // a 0-d target (and index and source): as one-element vectors
    wrap_dim(dim_in, 0);
    check_index("scatter_add", index, shape, 0);
    return reshape_op(scatter_add_op({1}, 0, as_shape(index, {1}), reshape_op(src, {1}, false)), {}, false);
  }
  const std::int64_t dim = wrap_dim(dim_in, std::int64_t(shape.size()));
  check_index("scatter_add", index, shape, dim);
  TensorPtr out;
  if (src->is_cuda() || index->is_cuda()) {
    out = to_device(scatter_add_op(shape, dim, host(index), host(src)), src->device());
  } else if (is_storage_only(src->dtype())) {  // summed in the compute type, stored back
    out = cast(scatter_add_op(shape, dim, index, cast(src, compute_dtype(src->dtype()))), src->dtype());
  } else {
    out = empty(shape, src->dtype());
    fill(out, 0);
    const std::int64_t size = shape[dim];
    const Shape out_strides = contiguous_strides(shape);
    dispatch(src->dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* x = src->data_as<T>();
      const std::int64_t* ix = index->data_as<std::int64_t>();
      T* o = out->data_as<T>();
      walk(index->shape(), [&](Shape& c) {
        const std::int64_t j = ix[offset_of(c, index->strides())];
        if (j < 0 || j >= size) index_out_of_bounds("scatter_add", j, dim, size);
        const T v = x[offset_of(c, src->strides())];
        const std::int64_t cj = c[dim];
        c[dim] = j;
        T& slot = o[offset_of(c, out_strides)];
        if constexpr (std::is_same_v<T, bool>) slot = slot || v;
        else slot = static_cast<T>(slot + v);
        c[dim] = cj;
      });
    });
  }
  if (!any_requires_grad({&src})) return out;
  return record(out, "ScatterAddBackward0", {src}, {index},
                [dim](const TensorPtr& g, const Saved& s) { return Grads{gather_op(g, dim, s[0])}; });
}

TensorPtr moved_to_last(const TensorPtr& t, std::int64_t dim) {
  Shape shape, strides;
  for (std::int64_t d = 0; d < t->ndim(); ++d) {
    if (d == dim) continue;
    shape.push_back(t->shape()[d]);
    strides.push_back(t->strides()[d]);
  }
  shape.push_back(t->shape()[dim]);
  strides.push_back(t->strides()[dim]);
  return contiguous(make_view(t, shape, strides, t->offset()));
}

TensorPtr moved_from_last(const TensorPtr& t, std::int64_t dim) {
  const std::int64_t nd = t->ndim();
  Shape shape(nd), strides(nd);
  for (std::int64_t d = 0, k = 0; d < nd; ++d) {
    const std::int64_t from = d == dim ? nd - 1 : k++;
    shape[d] = t->shape()[from];
    strides[d] = t->strides()[from];
  }
  return contiguous(make_view(t, shape, strides, t->offset()));
}

}  // namespace chaingrad
