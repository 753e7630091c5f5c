// Forward kernels on tensors (no autograd): casts, elementwise ops with broadcasting, reductions,
// matmul. Every function checks shapes and dtypes before touching memory and throws
// std::runtime_error (ValueError/RuntimeError in Python) naming the op and the shapes.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/op_table.h"
#include "tensor/tensor.h"

namespace chaingrad {

/// The broadcast shape of a and b (numpy rules); throws naming `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

/// t converted to dtype (a new contiguous tensor; t itself when the dtype already matches and
/// copy is false).
TensorPtr cast(const TensorPtr& t, DType dtype, bool copy = false);
/// t itself when contiguous, else a contiguous copy.
TensorPtr contiguous(const TensorPtr& t);
/// t's elements (row-major) viewed with another shape of the same size, copying only when t is
/// not contiguous; the view keeps t's storage offset.
TensorPtr as_shape(const TensorPtr& t, const Shape& shape);
/// Writes src (broadcast to dst's shape, converted to dst's dtype) into dst's elements.
void copy_into(const TensorPtr& dst, const TensorPtr& src);
/// Sets every element of dst to value.
void fill(const TensorPtr& dst, double value);
/// A 0-d tensor holding value.
TensorPtr scalar_tensor(double value, DType dtype);
/// The single element of a one-element tensor as a double.
double item(const TensorPtr& t);

// UnaryOp and BinaryOp are the rows of the op table (kernels/op_table.h).

/// The dtype unary(op, t) computes in and returns for an input of dtype `in`, by the op's
/// DTypeRule; throws (naming the op and the dtype) where the rule refuses the dtype.
DType unary_result_dtype(UnaryOp op, DType in);
/// op applied elementwise with the op's parameters (see the table). Transcendental ops on integer
/// tensors compute in float32, as PyTorch.
TensorPtr unary(UnaryOp op, const TensorPtr& t, OpParams params = {});

/// op applied elementwise with broadcasting, computed in `dtype` (comparisons return bool).
TensorPtr binary(BinaryOp op, const TensorPtr& a, const TensorPtr& b, DType dtype);
/// binary() written into out: a contiguous tensor of the broadcast shape and result dtype, on the
/// operands' device. out may be a or b itself (x += y) but must not otherwise overlap them.
void binary_into(BinaryOp op, const TensorPtr& out, const TensorPtr& a, const TensorPtr& b, DType dtype);
/// The op's name for messages ("add", "mul", ...).
inline const char* binary_op_name(BinaryOp op) { return op_info(op).name; }
inline const char* unary_op_name(UnaryOp op) { return op_info(op).name; }

/// g where y > 0, else 0 (the gradient of relu given its output y), in one pass.
TensorPtr relu_backward(const TensorPtr& g, const TensorPtr& y);

/// cond ? a : b elementwise with broadcasting, computed in dtype.
TensorPtr where(const TensorPtr& cond, const TensorPtr& a, const TensorPtr& b, DType dtype);
/// t limited to [lo, hi] (either bound may be absent).
TensorPtr clamp(const TensorPtr& t, const double* lo, const double* hi);

/// Sum over dims (all dims when empty); bool and int64 sum to int64.
TensorPtr sum(const TensorPtr& t, const std::vector<std::int64_t>& dims, bool keepdim);
/// The sum of the squares over dims, squared and summed in float64 (a float64 result).
TensorPtr sum_of_squares(const TensorPtr& t, const std::vector<std::int64_t>& dims, bool keepdim);
/// The largest (or smallest) element along dim, and its index (the first one on ties).
std::pair<TensorPtr, TensorPtr> max_along(const TensorPtr& t, std::int64_t dim, bool keepdim, bool smallest);
/// The largest (or smallest) element of the whole tensor, as a 0-d tensor.
TensorPtr max_all(const TensorPtr& t, bool smallest);
/// Index of the largest element of the flattened tensor, as a 0-d int64 tensor.
TensorPtr argmax_all(const TensorPtr& t, bool smallest);

/// Softmax cross-entropy of the rows of CPU logits x (N, C, floating) against int64 class indices
/// target (N,), checked to lie in [0, C) (std::out_of_range otherwise): the losses (N,), and per
/// row the max and the log of the shifted exponentials' sum (N, 2), which the backward reads. The
/// same arithmetic as log_softmax followed by picking the target's entry, in one pass per row.
std::pair<TensorPtr, TensorPtr> cross_entropy_rows(const TensorPtr& x, const TensorPtr& target);
/// weight[n] * (softmax(x)[n, c] - [c == target[n]]), the gradient of cross_entropy_rows' losses,
/// from its stats; weight holds one value per row or a single value for every row.
TensorPtr cross_entropy_backward(const TensorPtr& x, const TensorPtr& target, const TensorPtr& stats,
                                 const TensorPtr& weight);

/// Sums grad over the dims that broadcasting added or expanded, back to `shape`.
TensorPtr sum_to(const TensorPtr& grad, const Shape& shape);

/// Matrix product with PyTorch's matmul semantics (1-d, 2-d, batched with broadcasting).
TensorPtr matmul(const TensorPtr& a, const TensorPtr& b);

/// bias + a @ b for matrices a (n, k), b (k, m) and a bias broadcast to (n, m) (or none), with
/// the bias accumulated by the GEMM itself.
TensorPtr addmm(const TensorPtr& bias, const TensorPtr& a, const TensorPtr& b);

/// Dims normalised against ndim, sorted, without duplicates (throws on a repeat).
std::vector<std::int64_t> normalize_dims(const std::vector<std::int64_t>& dims, std::int64_t ndim);

}  // namespace chaingrad
