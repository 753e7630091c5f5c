// Ops that reorder, scan or count elements along a dim: sort and topk (sort_ops.cpp), cumulative sums and products
// (scan_ops.cpp), unique, bincount and histograms (count_ops.cpp). A CUDA tensor is processed on the host and the
// results moved back.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "tensor/tensor.h"

namespace chaingrad {

// --- dim_last.cpp ------------------------------------------------------------------------------
/// A contiguous copy of t (t itself when it already is one) with dim (wrapped already) moved last,
/// the layout the kernels below walk row by row; moved_from_last puts the last dim back at dim.
TensorPtr moved_to_last(const TensorPtr& t, std::int64_t dim);
TensorPtr moved_from_last(const TensorPtr& t, std::int64_t dim);

// --- sort_ops.cpp ------------------------------------------------------------------------------
/// The elements along dim in order (NaN above every number) and where each came from; ties keep
/// their order (a stable sort, as PyTorch's CPU sort). The values are differentiable.
std::pair<TensorPtr, TensorPtr> sort_op(const TensorPtr& t, std::int64_t dim, bool descending);
/// The k largest (smallest) elements along dim and their indices; ties are broken as PyTorch's CPU
/// topk breaks them. The values are differentiable.
std::pair<TensorPtr, TensorPtr> topk_op(const TensorPtr& t, std::int64_t k, std::int64_t dim, bool largest,
                                        bool sorted);

// --- scan_ops.cpp ------------------------------------------------------------------------------
/// Running sums along dim (from the end when reverse) in dtype: integer and bool inputs sum to
/// int64 unless dtype is given; float32 accumulates in double, as PyTorch's CPU cumsum.
/// Differentiable (CumsumBackward0: the reverse running sum of the gradient).
TensorPtr cumsum_op(const TensorPtr& t, std::int64_t dim, std::optional<DType> dtype, bool reverse = false);
/// Running products along dim in dtype (the same dtype rule and accumulation as cumsum_op).
/// Differentiable also through zeros (CumprodBackward0), twice too.
TensorPtr cumprod_op(const TensorPtr& t, std::int64_t dim, std::optional<DType> dtype);

// --- count_ops.cpp -----------------------------------------------------------------------------
/// The distinct elements of t (flattened) in ascending order, for each element of t the index of
/// its value among them (t's shape), and how often each occurs.
struct UniqueResult {
  TensorPtr values, inverse, counts;
};
UniqueResult unique_op(const TensorPtr& t);
/// How often each value 0..max occurs in the non-negative int64 vector t (weights summed instead
/// when given), at least minlength entries.
TensorPtr bincount_op(const TensorPtr& t, const TensorPtr& weights, std::int64_t minlength);
/// How bins are found for histogram_op: by binary search among the edges, or by linear
/// interpolation between the outer edges (PyTorch's histc), optionally corrected against the
/// neighbouring edges (torch.histogram with a bin count).
enum class BinSearch : std::uint8_t { Binary, Linear, LinearChecked };
/// The (weighted) count of t's elements in each bin [edges[i], edges[i+1]) (the last bin includes
/// its right edge); elements outside the edges and NaN are not counted. In edges' dtype.
TensorPtr histogram_op(const TensorPtr& t, const TensorPtr& edges, const TensorPtr& weight, BinSearch search);

}  // namespace chaingrad
