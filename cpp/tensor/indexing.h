// Advanced indexing (integer and bool tensors as indices, PyTorch's rules) and the index ops built
// on it: gather, scatter, index_select, index_add, index_fill, masked_fill, nonzero, take.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "tensor/ops.h"
#include "tensor/tensor.h"

namespace chaingrad {

/// t as an index: a bool tensor stays a mask, any integer dtype converts to int64 here (the one
/// place where index dtypes convert); a floating tensor is an IndexError.
TensorPtr as_index_tensor(const TensorPtr& t);

/// An advanced index resolved against a shape: bool masks expanded into int64 positions (one
/// index per dim they cover), every index's shape broadcast together.
struct IndexPlan {
  std::vector<std::int64_t> dims;  // the indexed dims, increasing
  std::vector<TensorPtr> indices;  // int64, one per indexed dim, each of the broadcast shape
  Shape index_shape;               // the broadcast shape of the indices
  bool adjacent = true;            // indexed dims consecutive: the index shape replaces them in place, else leads
  Shape source_shape;              // the shape indexed
  Shape result_shape;              // the shape of source[indices]
};
using IndexPlanPtr = std::shared_ptr<const IndexPlan>;

/// The plan for source_shape indexed by `indices` (PyTorch's at::index list: entry k indexes the
/// next dim, null takes the whole dim, a bool mask covers as many dims as it has). Checks masks'
/// shapes and the broadcast (IndexError); the positions are checked when used.
IndexPlanPtr make_index_plan(const Shape& source_shape, const std::vector<TensorPtr>& indices);

/// source[indices] (IndexBackward0), a new tensor.
TensorPtr index_tensor_op(const TensorPtr& source, const std::vector<TensorPtr>& indices);
/// source[plan] (IndexBackward0; `name` overrides it for the ops built on this one).
TensorPtr index_plan_op(const TensorPtr& source, const IndexPlanPtr& plan, const char* name = "IndexBackward0");
/// A copy of self with values (broadcast to the indexed shape) written, or added when accumulate,
/// where self[indices] looks (IndexPutBackward0). values must have self's dtype.
TensorPtr index_put_op(const TensorPtr& self, const std::vector<TensorPtr>& indices, const TensorPtr& values,
                       bool accumulate);
TensorPtr index_put_plan_op(const TensorPtr& self, const IndexPlanPtr& plan, const TensorPtr& values, bool accumulate);
/// RuntimeError unless values has self's dtype (PyTorch's rule for index_put_).
void check_index_put_dtypes(const TensorPtr& self, const TensorPtr& values);
/// Writes (accumulate: adds) values (of self's dtype) into self where self[plan] looks, recording
/// nothing (the caller checked the in-place rules); bumps self's version.
void index_put_into(const TensorPtr& self, const IndexPlan& plan, const TensorPtr& values, bool accumulate);

/// A copy of self with value (broadcast) written into the basic view self[items] (CopySlices).
TensorPtr slice_scatter_op(const TensorPtr& self, const std::vector<IndexItem>& items, const TensorPtr& value);

/// The positions of the nonzero elements, one row of coordinates each: int64 (n, ndim).
TensorPtr nonzero(const TensorPtr& t);

/// out[..i..] = self[..index[..i..]..] along dim (GatherBackward0).
TensorPtr gather_op(const TensorPtr& self, std::int64_t dim, const TensorPtr& index);
/// A copy of self with src's elements written (add: added) at index along dim (ScatterBackward0,
/// ScatterAddBackward0).
TensorPtr scatter_op(const TensorPtr& self, std::int64_t dim, const TensorPtr& index, const TensorPtr& src, bool add);
/// A copy of self with value written at index along dim (ScatterBackward1).
TensorPtr scatter_value_op(const TensorPtr& self, std::int64_t dim, const TensorPtr& index, double value);
/// The slices of self at the positions of a 1-d (or 0-d) index along dim (IndexSelectBackward0).
TensorPtr index_select_op(const TensorPtr& self, std::int64_t dim, const TensorPtr& index);
/// A copy of self with alpha * source's slices added at index along dim (IndexAddBackward0).
TensorPtr index_add_op(const TensorPtr& self, std::int64_t dim, const TensorPtr& index, const TensorPtr& source,
                       double alpha);
/// A copy of self with the slices at index along dim set to value (IndexFillBackward0).
TensorPtr index_fill_op(const TensorPtr& self, std::int64_t dim, const TensorPtr& index, double value);
/// self where mask is false, value (a 0-d tensor) where it is true, broadcast (MaskedFillBackward0,
/// or MaskedFillBackward1 when the value was given as a tensor).
TensorPtr masked_fill_op(const TensorPtr& self, const TensorPtr& mask, const TensorPtr& value, bool value_is_tensor);
/// The elements of self where mask (broadcast together) is true, as a 1-d tensor (MaskedSelectBackward0).
TensorPtr masked_select_op(const TensorPtr& self, const TensorPtr& mask);
/// self's elements (row-major) at the positions in index, in index's shape (TakeBackward0).
TensorPtr take_op(const TensorPtr& self, const TensorPtr& index);

}  // namespace chaingrad
