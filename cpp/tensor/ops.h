// Differentiable tensor ops: each computes its forward with the kernels and records its
// gradient rule (see tensor/autograd.h) when an input requires grad.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "kernels/kernels.h"
#include "tensor/tensor.h"

namespace chaingrad {

// --- elementwise ---------------------------------------------------------------------------
// The ops of the op table (kernels/op_table.h), in tensor/elementwise_ops.cpp.
/// a op b computed in dtype, with broadcasting: any binary row of the table (a comparison gives a
/// bool tensor and records nothing). other_is_number picks the grad_fn name PyTorch gives when b
/// was a Python number (FmodBackward0 rather than FmodBackward1).
TensorPtr arith(BinaryOp op, const TensorPtr& a, const TensorPtr& b, DType dtype, bool other_is_number = false);
/// Whether arith(op, a, b) saves a for its gradient, so an in-place `a op= b` must pass a copy of a.
bool arith_saves_first(BinaryOp op, bool b_requires_grad);
/// a ** exponent for a Python-number exponent (PowBackward0).
TensorPtr pow_scalar(const TensorPtr& a, double exponent);
/// op(t) with the op's parameters (see the table's params column).
TensorPtr apply_unary(UnaryOp op, const TensorPtr& t, OpParams params = {});
TensorPtr clamp_op(const TensorPtr& t, std::optional<double> lo, std::optional<double> hi);
TensorPtr where_op(const TensorPtr& cond, const TensorPtr& a, const TensorPtr& b, DType dtype);
/// t on another device (ToCopyBackward0: the gradient goes back to t's device); t itself when it is
/// there already.
TensorPtr to_device_op(const TensorPtr& t, const Device& device);
/// A copy converted to dtype (ToCopyBackward0); t itself when the dtype matches and !copy.
TensorPtr to_dtype(const TensorPtr& t, DType dtype, bool copy);

// --- reductions ----------------------------------------------------------------------------
TensorPtr sum_op(const TensorPtr& t, const std::vector<std::int64_t>& dims, bool keepdim);
/// g summed over the dims that broadcasting added or expanded, back to `shape` (the reverse of
/// expand; g itself when it has that shape already). Gradient formulas reduce with it.
TensorPtr sum_to_op(const TensorPtr& g, const Shape& shape);
TensorPtr mean_op(const TensorPtr& t, const std::vector<std::int64_t>& dims, bool keepdim);
/// Values and indices along dim.
std::pair<TensorPtr, TensorPtr> max_dim_op(const TensorPtr& t, std::int64_t dim, bool keepdim, bool smallest);
TensorPtr max_all_op(const TensorPtr& t, bool smallest);
/// The largest (smallest) element over dims (all when empty); ties share the gradient evenly.
TensorPtr amax_op(const TensorPtr& t, const std::vector<std::int64_t>& dims, bool keepdim, bool smallest);
/// The p-norm over dims (all when empty).
TensorPtr norm_op(const TensorPtr& t, double p, const std::vector<std::int64_t>& dims, bool keepdim);
/// Variance (its square root when take_sqrt: the standard deviation) over dims with Bessel's
/// correction `correction`, computed in double.
TensorPtr var_op(const TensorPtr& t, const std::vector<std::int64_t>& dims, double correction, bool keepdim,
                 bool take_sqrt);
TensorPtr softmax_op(const TensorPtr& t, std::int64_t dim, bool log);
/// How a loss reduces its per-sample values.
enum class LossReduction : std::uint8_t { None, Mean, Sum };
/// Softmax cross-entropy of CPU logits x (N, C) against int64 class indices (N,), fused: one pass
/// per row forward and backward, the same numbers as log_softmax, the target's pick, negation and
/// the reduction. Its grad_fn is the composite's last (NegBackward0, MeanBackward0, SumBackward0).
TensorPtr cross_entropy_op(const TensorPtr& x, const TensorPtr& target, LossReduction reduction);

// --- linear algebra ------------------------------------------------------------------------
TensorPtr matmul_op(const TensorPtr& a, const TensorPtr& b);
/// x @ weight.T + bias (nn.Linear) for x of any leading shape, as one GEMM.
TensorPtr linear_op(const TensorPtr& x, const TensorPtr& weight, const TensorPtr& bias);
/// How a loss reduces its elementwise values (PyTorch's numbering).
enum class Reduction : std::uint8_t { None = 0, Mean = 1, Sum = 2 };
/// (input - target)^2, reduced, as one recorded op (MseLossBackward0); shapes must match.
TensorPtr mse_loss_op(const TensorPtr& input, const TensorPtr& target, Reduction reduction);

// --- views and copies ----------------------------------------------------------------------
/// shape with one -1 resolved against numel; throws naming the shape when impossible.
Shape infer_shape(const Shape& shape, std::int64_t numel);
TensorPtr reshape_op(const TensorPtr& t, const Shape& shape, bool must_view);
/// Dims start_dim..end_dim merged into one (a view when the layout allows); t itself when they are one dim.
TensorPtr flatten_op(const TensorPtr& t, std::int64_t start_dim, std::int64_t end_dim);
TensorPtr permute_op(const TensorPtr& t, const std::vector<std::int64_t>& dims);
TensorPtr transpose_op(const TensorPtr& t, std::int64_t d0, std::int64_t d1);
TensorPtr unsqueeze_op(const TensorPtr& t, std::int64_t dim);
/// Without dims: every size-1 dim; with dims: those of them that have size 1.
TensorPtr squeeze_op(const TensorPtr& t, const std::optional<std::vector<std::int64_t>>& dims);
TensorPtr expand_op(const TensorPtr& t, const Shape& sizes);
TensorPtr contiguous_op(const TensorPtr& t);
TensorPtr clone_op(const TensorPtr& t);
/// A view of t's storage with the given sizes, strides and offset (in elements from the storage's
/// start), checked to stay inside it; no gradient flows through it (the checkpoint loader's views).
TensorPtr storage_view(const TensorPtr& t, const Shape& shape, const Shape& strides, std::int64_t offset);
TensorPtr detach_op(const TensorPtr& t);
/// Where a view lies in its base: its sizes and strides, and its offset from the base's first
/// element (in elements). See Note [in-place ops on views].
struct ViewGeometry {
  Shape shape, strides;
  std::int64_t offset = 0;
};
/// view's geometry in its base; throws a RuntimeError naming `op` where autograd cannot follow a
/// write through it (a base that is not contiguous, a view whose elements overlap).
ViewGeometry view_geometry(const TensorImpl& view, const char* op);
/// The elements of t (contiguous, or copied to be) where geo looks, as a tensor of geo's shape.
TensorPtr as_strided_op(const TensorPtr& t, const ViewGeometry& geo);
/// A copy of t with src written where geo looks.
TensorPtr as_strided_scatter_op(const TensorPtr& t, const TensorPtr& src, const ViewGeometry& geo);
/// Makes out (which holds t with src written where geo looks) the result of a node `name` whose
/// gradient goes to t (with geo's region zeroed) and to src (geo's region): as_strided_scatter's
/// node, and CopySlices.
TensorPtr record_as_strided_scatter(TensorPtr out, const char* name, const TensorPtr& t, const TensorPtr& src,
                                    const ViewGeometry& geo);
TensorPtr cat_op(const std::vector<TensorPtr>& tensors, std::int64_t dim);
TensorPtr stack_op(const std::vector<TensorPtr>& tensors, std::int64_t dim);

/// One item of a basic index: an integer, a slice, None (new axis) or ... (filled in by the caller).
struct IndexItem {
  enum class Kind : std::uint8_t { Integer, Slice, NewAxis } kind;
  std::int64_t start = 0, stop = 0, step = 1;  // Integer uses start; Slice has resolved bounds
};
/// The view t[items] (items already expanded to cover every dim).
TensorPtr index_op(const TensorPtr& t, const std::vector<IndexItem>& items);
/// Zeros of `shape` with g written where index_op(·, items) looks: index_op's gradient, itself
/// differentiable.
TensorPtr index_backward_op(const TensorPtr& g, const Shape& shape, const std::vector<IndexItem>& items);

// --- in place --------------------------------------------------------------------------------
/// Writes value (broadcast, converted) into self, bumps its version and, when autograd is
/// recording, makes `history` (the out-of-place result) self's new grad_fn (for a view: records
/// the write on its base, see Note [in-place ops on views]).
void assign_in_place(const TensorPtr& self, const TensorPtr& value, const char* op);
/// Refuses a write that autograd cannot record (fill_, zero_, slice assignment) into a tensor that
/// is part of a graph.
void check_untracked_write(const TensorPtr& self, const char* op);
/// Checks that an in-place op on self is allowed under the current grad mode.
void check_in_place(const TensorPtr& self, bool other_requires_grad, const char* op);

}  // namespace chaingrad
