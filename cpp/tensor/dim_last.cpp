// The dim-last layouts that the sort, scan and count kernels walk row by row.
#include "kernels/kernels.h"
#include "tensor/sequence_ops.h"

namespace chaingrad {

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
