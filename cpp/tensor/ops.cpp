#include "tensor/ops.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "tensor/autograd.h"
#include "tensor/device.h"

namespace chaingrad {
namespace {

using Grads = std::vector<TensorPtr>;
using Saved = std::vector<TensorPtr>;

TensorPtr div_k(const TensorPtr& a, const TensorPtr& b) {
  return binary(BinaryOp::Div, a, b, promote(a->dtype(), b->dtype()));
}
TensorPtr sub_k(const TensorPtr& a, const TensorPtr& b) {
  return binary(BinaryOp::Sub, a, b, promote(a->dtype(), b->dtype()));
}
TensorPtr scalar_like(double v, const TensorPtr& t) { return scalar_tensor(v, t->dtype()); }

}  // namespace

// Note [gradient formulas]
// Every gradient rule below is written in the differentiable ops (this namespace's helpers wrap
// them), never in raw kernels: a pass runs with grad mode set to create_graph (Note [create_graph]
// in tensor/autograd.cpp), so the same formula computes the gradient and, when asked, records the
// graph that differentiates it again. Masks and counts are constants of a formula: their values
// do not depend on the inputs smoothly, so no gradient flows through them.
namespace formula {

TensorPtr add(const TensorPtr& a, const TensorPtr& b) {
  return arith(BinaryOp::Add, a, b, promote(a->dtype(), b->dtype()));
}
TensorPtr sub(const TensorPtr& a, const TensorPtr& b) {
  return arith(BinaryOp::Sub, a, b, promote(a->dtype(), b->dtype()));
}
TensorPtr mul(const TensorPtr& a, const TensorPtr& b) {
  return arith(BinaryOp::Mul, a, b, promote(a->dtype(), b->dtype()));
}
TensorPtr div(const TensorPtr& a, const TensorPtr& b) {
  return arith(BinaryOp::Div, a, b, promote(a->dtype(), b->dtype()));
}
/// A 0-d constant in t's dtype on the CPU (a wrapped scalar to every device's kernels).
TensorPtr constant(double v, const TensorPtr& t) { return scalar_tensor(v, t->dtype()); }
/// g where mask holds and 0 elsewhere: selected, not multiplied, so an inf or NaN in g does not
/// turn the masked-out places into NaN (PyTorch's masked_fill).
TensorPtr select(const TensorPtr& mask, const TensorPtr& g) { return where_op(mask, g, constant(0, g), g->dtype()); }
/// The gradient for an input of `shape` and `dtype`, reduced over broadcast dims.
TensorPtr reduce_to(const TensorPtr& g, const Shape& shape, DType dtype) {
  return to_dtype(sum_to_op(g, shape), dtype, false);
}
/// g (reduced over dims, without them unless keepdim) broadcast back to the input's shape.
TensorPtr unreduce(const TensorPtr& g, const Shape& in_shape, const std::vector<std::int64_t>& dims, bool keepdim) {
  Shape kept = in_shape;
  for (std::int64_t d : dims) kept[d] = 1;
  if (!grad_enabled()) {
    // outside create_graph: the same values as one contiguous tensor, which AccumulateGrad can
    // adopt without another copy (the training loops' common case)
    TensorPtr out = empty(in_shape, g->dtype(), g->device());
    copy_into(out, keepdim ? g : as_shape(g, kept));
    return out;
  }
  return expand_op(keepdim ? g : reshape_op(g, kept, false), in_shape);
}
/// The last two dims swapped.
TensorPtr transposed(const TensorPtr& t) {
  if (grad_enabled()) return transpose_op(t, -1, -2);
  Shape shape = t->shape(), strides = t->strides();  // the same view, without the op's bookkeeping
  const std::size_t n = shape.size();
  std::swap(shape[n - 1], shape[n - 2]);
  std::swap(strides[n - 1], strides[n - 2]);
  return make_view(t, shape, strides, t->offset());
}

}  // namespace formula

TensorPtr clamp_op(const TensorPtr& t, std::optional<double> lo, std::optional<double> hi) {
  if (!lo && !hi) throw std::runtime_error("clamp: at least one of 'min' or 'max' must not be None");
  TensorPtr out = clamp(t, lo ? &*lo : nullptr, hi ? &*hi : nullptr);
  if (!any_requires_grad({&t})) return out;
  // The gradient passes where lo <= x <= hi. The mask is saved rather than x, so that clamp_ may
  // overwrite x.
  TensorPtr inside = scalar_tensor(1, DType::Bool);
  if (lo) inside = binary(BinaryOp::Mul, inside, binary(BinaryOp::Ge, t, scalar_like(*lo, t), t->dtype()), DType::Bool);
  if (hi) inside = binary(BinaryOp::Mul, inside, binary(BinaryOp::Le, t, scalar_like(*hi, t), t->dtype()), DType::Bool);
  if (!any_requires_grad({&t})) return out;
  return record(out, "ClampBackward1", {t}, {inside},
                [](const TensorPtr& g, const Saved& s) { return Grads{formula::select(s[0], g)}; });
}

TensorPtr where_op(const TensorPtr& cond, const TensorPtr& a, const TensorPtr& b, DType dtype) {
  TensorPtr out = where(cond, a, b, dtype);
  if (!any_requires_grad({&a, &b})) return out;
  return record(
      out, "WhereBackward0", {a, b}, {cond},
      [sa = a->shape(), sb = b->shape(), da = a->dtype(), db = b->dtype()](const TensorPtr& g, const Saved& s) {
        const TensorPtr zero = formula::constant(0, g);
        return Grads{formula::reduce_to(where_op(s[0], g, zero, g->dtype()), sa, da),
                     formula::reduce_to(where_op(s[0], zero, g, g->dtype()), sb, db)};
      });
}

TensorPtr to_device_op(const TensorPtr& t, const Device& device) {
  if (t->device() == device) return t;
  if (!any_requires_grad({&t})) return to_device(t, device);
  return record(to_device(t, device), "ToCopyBackward0", {t}, {},
                [from = t->device()](const TensorPtr& g, const Saved&) { return Grads{to_device_op(g, from)}; });
}

TensorPtr to_dtype(const TensorPtr& t, DType dtype, bool copy) {
  if (t->dtype() == dtype && !copy) return t;
  TensorPtr out = cast(t, dtype, /*copy=*/true);
  if (!is_floating(dtype)) return out;  // integer results do not carry gradients
  if (!any_requires_grad({&t})) return out;
  return record(out, "ToCopyBackward0", {t}, {},
                [from = t->dtype()](const TensorPtr& g, const Saved&) { return Grads{to_dtype(g, from, false)}; });
}

// --- reductions ------------------------------------------------------------------------------

namespace {

std::vector<std::int64_t> all_dims_if_empty(const std::vector<std::int64_t>& dims, std::int64_t ndim) {
  if (!dims.empty()) return normalize_dims(dims, ndim);
  std::vector<std::int64_t> all;
  for (std::int64_t d = 0; d < ndim; ++d) all.push_back(d);
  return all;
}

std::int64_t reduced_count(const Shape& shape, const std::vector<std::int64_t>& dims) {
  std::int64_t n = 1;
  for (std::int64_t d : dims) n *= shape[d];
  return n;
}

}  // namespace

TensorPtr sum_op(const TensorPtr& t, const std::vector<std::int64_t>& dims_in, bool keepdim) {
  const std::vector<std::int64_t> dims = all_dims_if_empty(dims_in, t->ndim());
  TensorPtr out = sum(t, dims, keepdim);
  if (!any_requires_grad({&t})) return out;
  return record(out, dims_in.empty() ? "SumBackward0" : "SumBackward1", {t}, {},
                [shape = t->shape(), dims, keepdim](const TensorPtr& g, const Saved&) {
                  return Grads{formula::unreduce(g, shape, dims, keepdim)};
                });
}

TensorPtr sum_to_op(const TensorPtr& g, const Shape& shape) {
  if (g->shape() == shape) return g;
  if (!any_requires_grad({&g})) return sum_to(g, shape);
  return record(sum_to(g, shape), "SumBackward1", {g}, {},
                [from = g->shape()](const TensorPtr& gg, const Saved&) { return Grads{expand_op(gg, from)}; });
}

TensorPtr mean_op(const TensorPtr& t, const std::vector<std::int64_t>& dims_in, bool keepdim) {
  if (!is_floating(t->dtype())) {
    throw std::runtime_error(std::string("mean(): could not infer output dtype. Input dtype must be "
                                         "either a floating point or complex dtype. Got: ") +
                             dtype_name(t->dtype()));
  }
  const std::vector<std::int64_t> dims = all_dims_if_empty(dims_in, t->ndim());
  const double count = static_cast<double>(reduced_count(t->shape(), dims));
  // float16 and bfloat16 sum and divide in float32 and round once, as PyTorch
  const TensorPtr wide = cast(t, compute_dtype(t->dtype()));
  TensorPtr out =
      cast(binary(BinaryOp::Div, sum(wide, dims, keepdim), scalar_like(count, wide), wide->dtype()), t->dtype());
  if (!any_requires_grad({&t})) return out;
  return record(out, dims_in.empty() ? "MeanBackward0" : "MeanBackward1", {t}, {},
                [shape = t->shape(), dims, keepdim, count](const TensorPtr& g, const Saved&) {
                  return Grads{formula::unreduce(formula::div(g, formula::constant(count, g)), shape, dims, keepdim)};
                });
}

std::pair<TensorPtr, TensorPtr> max_dim_op(const TensorPtr& t, std::int64_t dim, bool keepdim, bool smallest) {
  auto [values, indices] = max_along(t, dim, keepdim, smallest);
  if (t->ndim() == 0)
    return {record(values, smallest ? "MinBackward0" : "MaxBackward0", {t}, {},
                   [](const TensorPtr& g, const Saved&) { return Grads{g}; }),
            indices};
  const std::int64_t d = wrap_dim(dim, t->ndim());
  values = record(values, smallest ? "MinBackward0" : "MaxBackward0", {t}, {indices},
                  [shape = t->shape(), d, keepdim](const TensorPtr& g, const Saved& s) {
                    // g goes to the chosen index along d: a mask of positions equal to the index
                    Shape kept = shape;
                    kept[d] = 1;
                    const TensorPtr gk = keepdim ? g : reshape_op(g, kept, false);
                    const TensorPtr ik = keepdim ? s[0] : as_shape(s[0], kept);
                    Shape arange_shape(shape.size(), 1);
                    arange_shape[d] = shape[d];
                    TensorPtr positions = empty(arange_shape, DType::Int64);
                    for (std::int64_t k = 0; k < shape[d]; ++k) positions->data_as<std::int64_t>()[k] = k;
                    positions = to_device(positions, g->device());
                    const TensorPtr chosen = binary(BinaryOp::Eq, positions, ik, DType::Int64);
                    return Grads{where_op(chosen, expand_op(gk, shape), formula::constant(0, g), g->dtype())};
                  });
  return {values, indices};
}

TensorPtr max_all_op(const TensorPtr& t, bool smallest) {
  TensorPtr out = max_all(t, smallest);
  if (!any_requires_grad({&t})) return out;
  return record(out, smallest ? "MinBackward1" : "MaxBackward1", {t}, {t, out}, [](const TensorPtr& g, const Saved& s) {
    // ties share the gradient evenly, as PyTorch's rule; a NaN result came from the
    // NaN elements, which then share it
    const TensorPtr &x = s[0], &out = s[1];
    const TensorPtr out_nan = binary(BinaryOp::Ne, out, out, out->dtype());
    TensorPtr hit =
        where(out_nan, binary(BinaryOp::Ne, x, x, x->dtype()), binary(BinaryOp::Eq, x, out, x->dtype()), DType::Bool);
    TensorPtr count = cast(sum(hit, {}, false), g->dtype());
    return Grads{where_op(hit, expand_op(formula::div(g, count), x->shape()), formula::constant(0, g), g->dtype())};
  });
}

TensorPtr amax_op(const TensorPtr& t, const std::vector<std::int64_t>& dims_in, bool keepdim, bool smallest) {
  const std::vector<std::int64_t> dims = all_dims_if_empty(dims_in, t->ndim());
  TensorPtr kept = t;
  for (std::int64_t d : dims) kept = max_along(kept, d, true, smallest).first;
  if (kept.get() == t.get()) kept = cast(t, t->dtype(), /*copy=*/true);  // nothing reduced: a new tensor all the same
  Shape out_shape;
  for (std::int64_t d = 0; d < t->ndim(); ++d) {
    const bool reduced = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (!reduced || keepdim) out_shape.push_back(reduced ? 1 : t->shape()[d]);
  }
  TensorPtr out = as_shape(kept, out_shape);
  if (!any_requires_grad({&t})) return out;
  return record(out, smallest ? "AminBackward0" : "AmaxBackward0", {t}, {t, out},
                [shape = t->shape(), dims, keepdim](const TensorPtr& g, const Saved& s) {
                  // every element equal to the extreme gets an equal share; multiplied by the mask,
                  // not selected, as PyTorch's amax (a NaN result gives NaN gradients)
                  const TensorPtr& x = s[0];
                  Shape kept_shape = shape;
                  for (std::int64_t d : dims) kept_shape[d] = 1;
                  const TensorPtr extreme = keepdim ? s[1] : as_shape(s[1], kept_shape);
                  TensorPtr hit = cast(binary(BinaryOp::Eq, x, extreme, x->dtype()), g->dtype());
                  TensorPtr count = sum(hit, dims, keepdim);
                  return Grads{formula::mul(hit, formula::unreduce(formula::div(g, count), shape, dims, keepdim))};
                });
}

TensorPtr norm_op(const TensorPtr& t, double p, const std::vector<std::int64_t>& dims_in, bool keepdim) {
  if (!is_floating(t->dtype())) {
    throw std::runtime_error(std::string("linalg.vector_norm: Expected a floating point tensor as input. Got ") +
                             dtype_name(t->dtype()));
  }
  const std::vector<std::int64_t> dims = all_dims_if_empty(dims_in, t->ndim());
  if (p != 2.0) {  // general p: (sum |x|^p)^(1/p)
    // in double (float32's |x|^p under- or overflows where the norm itself fits)
    const TensorPtr x = cast(t, DType::Float64);
    const TensorPtr powers = binary(BinaryOp::Pow, unary(UnaryOp::Abs, x), scalar_like(p, x), DType::Float64);
    const TensorPtr n = binary(BinaryOp::Pow, sum(powers, dims, keepdim), scalar_like(1.0 / p, x), DType::Float64);
    TensorPtr out = cast(n, t->dtype());
    if (!any_requires_grad({&t})) return out;
    return record(out, "LinalgVectorNormBackward0", {t}, {t, out},
                  [shape = t->shape(), dims, keepdim, p](const TensorPtr& g, const Saved& s) {
                    // g * sign(x) |x|^(p-1) / ||x||^(p-1), as PyTorch: 0 where x is 0 (|x|^(p-1) is
                    // inf there for p < 1) and where the norm is 0; in double, as the forward
                    const TensorPtr x64 = to_dtype(s[0], DType::Float64, false);
                    const TensorPtr nk = formula::unreduce(to_dtype(s[1], DType::Float64, false), shape, dims, keepdim);
                    const TensorPtr gk = formula::unreduce(to_dtype(g, DType::Float64, false), shape, dims, keepdim);
                    const TensorPtr zero = formula::constant(0, x64);
                    const TensorPtr x_nonzero = binary(BinaryOp::Ne, s[0], scalar_like(0, s[0]), s[0]->dtype());
                    const TensorPtr scaled =
                        formula::select(x_nonzero, formula::mul(apply_unary(UnaryOp::Sign, x64),
                                                                pow_scalar(apply_unary(UnaryOp::Abs, x64), p - 1)));
                    const TensorPtr ratio = formula::div(scaled, pow_scalar(nk, p - 1));
                    const TensorPtr norm_nonzero = binary(BinaryOp::Ne, nk, zero, DType::Float64);
                    return Grads{to_dtype(formula::select(norm_nonzero, formula::mul(ratio, gk)), g->dtype(), false)};
                  });
  }
  // squared and summed in double: float32 values near 1e38 have a norm float32 can hold
  TensorPtr out = cast(unary(UnaryOp::Sqrt, sum_of_squares(t, dims, keepdim)), t->dtype());
  if (!any_requires_grad({&t})) return out;
  return record(out, "LinalgVectorNormBackward0", {t}, {t, out}, [dims, keepdim](const TensorPtr& g, const Saved& s) {
    // x / ||x|| * g, and 0 where the norm is 0; the norm and g stay reduced-shaped and broadcast
    const TensorPtr &x = s[0], &n = s[1];
    Shape kept = x->shape();
    for (std::int64_t d : dims) kept[d] = 1;
    const TensorPtr nk = keepdim ? n : reshape_op(n, kept, false);
    const TensorPtr gk = keepdim ? g : reshape_op(g, kept, false);
    const TensorPtr nonzero = binary(BinaryOp::Ne, nk, scalar_like(0, nk), nk->dtype());
    const TensorPtr safe = where_op(nonzero, nk, formula::constant(1, nk), nk->dtype());
    const TensorPtr grad = formula::mul(formula::div(x, safe), gk);  // x / n first: it stays in range
    return Grads{where_op(nonzero, grad, formula::constant(0, grad), grad->dtype())};
  });
}

TensorPtr var_op(const TensorPtr& t, const std::vector<std::int64_t>& dims_in, double correction, bool keepdim,
                 bool take_sqrt) {
  if (!is_floating(t->dtype())) {
    throw std::runtime_error(std::string(take_sqrt ? "std" : "var") + "(): expected a floating point tensor, got " +
                             dtype_name(t->dtype()));
  }
  const std::vector<std::int64_t> dims = all_dims_if_empty(dims_in, t->ndim());
  const double n = static_cast<double>(reduced_count(t->shape(), dims));
  const double denom = std::max(n - correction, 0.0);
  // In double: the squares of float32 values near 1e38 overflow float32, their root mean does not.
  const TensorPtr x = cast(t, DType::Float64);
  const TensorPtr mean = div_k(sum(x, dims, true), scalar_like(n, x));
  const TensorPtr centered = sub_k(x, mean);
  TensorPtr v = div_k(sum(unary(UnaryOp::Square, centered), dims, keepdim), scalar_like(denom, x));
  if (take_sqrt) v = unary(UnaryOp::Sqrt, v);
  TensorPtr out = cast(v, t->dtype());
  if (!any_requires_grad({&t})) return out;
  return record(
      out, take_sqrt ? "StdBackward0" : "VarBackward0", {t}, take_sqrt ? Saved{t, out} : Saved{t},
      [shape = t->shape(), dims, keepdim, n, denom, take_sqrt](const TensorPtr& g, const Saved& s) {
        // var: g * 2 (x - mean) / denom;  std: g * (x - mean) / (denom * std); in double,
        // as the forward
        const TensorPtr x64 = to_dtype(s[0], DType::Float64, false);
        const TensorPtr c = formula::sub(x64, formula::div(sum_op(x64, dims, true), formula::constant(n, x64)));
        TensorPtr scale = formula::unreduce(to_dtype(g, DType::Float64, false), shape, dims, keepdim);
        if (take_sqrt) {
          const TensorPtr sd = formula::unreduce(to_dtype(s[1], DType::Float64, false), shape, dims, keepdim);
          // where the spread is 0 the gradient is 0, as PyTorch
          const TensorPtr spread = binary(BinaryOp::Ne, sd, scalar_like(0, sd), sd->dtype());
          scale = formula::select(spread, formula::div(scale, formula::mul(sd, formula::constant(denom, sd))));
        } else {
          scale = formula::mul(scale, formula::constant(2.0 / denom, scale));
        }
        return Grads{to_dtype(formula::mul(c, scale), g->dtype(), false)};
      });
}

TensorPtr softmax_op(const TensorPtr& t, std::int64_t dim, bool log) {
  if (!is_floating(t->dtype())) throw std::runtime_error("softmax: expected a floating point tensor");
  if (is_storage_only(t->dtype())) {  // float16/bfloat16: float32 arithmetic rounded once, as PyTorch
    return to_dtype(softmax_op(to_dtype(t, compute_dtype(t->dtype()), false), dim, log), t->dtype(), false);
  }
  const std::int64_t d = wrap_dim(dim, t->ndim());
  if (t->numel() == 0) {  // nothing to normalise (and no max to shift by)
    return record(empty(t->shape(), t->dtype(), t->device()), log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", {t}, {},
                  [](const TensorPtr& g, const Saved&) { return Grads{empty(g->shape(), g->dtype(), g->device())}; });
  }
  const std::vector<std::int64_t> dims = t->ndim() == 0 ? std::vector<std::int64_t>{} : std::vector<std::int64_t>{d};
  // stable: shift by the max along dim before exponentiating
  TensorPtr shift = t->ndim() == 0 ? t : max_along(t, d, true, false).first;
  TensorPtr shifted = binary(BinaryOp::Sub, t, shift, t->dtype());
  TensorPtr e = unary(UnaryOp::Exp, shifted);
  TensorPtr total = sum(e, dims, true);
  if (log) {
    TensorPtr out = binary(BinaryOp::Sub, shifted, unary(UnaryOp::Log, total), t->dtype());
    if (!any_requires_grad({&t})) return out;
    return record(out, "LogSoftmaxBackward0", {t}, {out}, [dims](const TensorPtr& g, const Saved& s) {
      // g - softmax * sum(g)
      const TensorPtr soft = apply_unary(UnaryOp::Exp, s[0]);
      return Grads{formula::sub(g, formula::mul(soft, sum_op(g, dims, true)))};
    });
  }
  TensorPtr out = binary(BinaryOp::Div, e, total, t->dtype());
  if (!any_requires_grad({&t})) return out;
  return record(out, "SoftmaxBackward0", {t}, {out}, [dims](const TensorPtr& g, const Saved& s) {
    // y * (g - sum(g * y))
    const TensorPtr& y = s[0];
    return Grads{formula::mul(y, formula::sub(g, sum_op(formula::mul(g, y), dims, true)))};
  });
}

TensorPtr cross_entropy_op(const TensorPtr& x, const TensorPtr& target, LossReduction reduction) {
  auto [loss, stats] = cross_entropy_rows(x, target);
  const std::int64_t rows = x->shape()[0], classes = x->shape()[1];
  // reduced as mean_op and sum_op reduce the composite's per-sample losses: the same bits
  if (reduction == LossReduction::Sum) loss = sum(loss, {}, false);
  if (reduction == LossReduction::Mean) {
    loss = binary(BinaryOp::Div, sum(loss, {}, false), scalar_like(static_cast<double>(rows), loss), loss->dtype());
  }
  if (!any_requires_grad({&x})) return loss;
  // PyTorch names cross_entropy's node NllLossBackward0 whatever the reduction
  return record(loss, "NllLossBackward0", {x}, {x, target, stats},
                [reduction, rows, classes](const TensorPtr& g, const Saved& s) {
                  const TensorPtr &x_ = s[0], &t = s[1];
                  // each row's weight: g (per sample, or one for all), divided by N for the mean
                  TensorPtr w = reduction == LossReduction::Mean
                                    ? formula::div(g, formula::constant(static_cast<double>(rows), g))
                                    : g;
                  if (!grad_enabled()) return Grads{cross_entropy_backward(x_, t, s[2], w)};
                  // a create_graph pass: w (softmax(x) - onehot) in differentiable ops
                  if (reduction == LossReduction::None) w = reshape_op(w, {rows, 1}, false);
                  TensorPtr positions = empty({1, classes}, DType::Int64);
                  for (std::int64_t c = 0; c < classes; ++c) positions->data_as<std::int64_t>()[c] = c;
                  const TensorPtr onehot =
                      cast(binary(BinaryOp::Eq, positions, as_shape(t, {rows, 1}), DType::Int64), x_->dtype());
                  return Grads{formula::mul(w, formula::sub(softmax_op(x_, 1, false), onehot))};
                });
}

TensorPtr matmul_op(const TensorPtr& a, const TensorPtr& b) {
  TensorPtr out = matmul(a, b);
  const char* name = a->ndim() == 1 && b->ndim() == 1   ? "DotBackward0"
                     : a->ndim() == 2 && b->ndim() == 1 ? "MvBackward0"
                     : a->ndim() <= 2 && b->ndim() == 2 ? "MmBackward0"
                                                        : "BmmBackward0";
  const bool ga = a->requires_grad, gb = b->requires_grad;
  if (!any_requires_grad({&a, &b})) return out;
  return record(out, name, {a, b}, {a, b}, [ga, gb](const TensorPtr& g, const Saved& s) {
    const TensorPtr &a_ = s[0], &b_ = s[1];
    // 1-d operands and the gradient as matrices, as the forward treated them
    const TensorPtr A = a_->ndim() == 1 ? unsqueeze_op(a_, 0) : a_;
    const TensorPtr B = b_->ndim() == 1 ? unsqueeze_op(b_, 1) : b_;
    Shape gshape(g->shape());
    if (a_->ndim() == 1) gshape.insert(gshape.end() - (b_->ndim() == 1 ? 0 : 1), 1);
    if (b_->ndim() == 1) gshape.push_back(1);
    const TensorPtr G = reshape_op(g, gshape, false);
    TensorPtr grad_a, grad_b;
    if (ga) grad_a = reshape_op(sum_to_op(matmul_op(G, formula::transposed(B)), A->shape()), a_->shape(), false);
    if (gb) grad_b = reshape_op(sum_to_op(matmul_op(formula::transposed(A), G), B->shape()), b_->shape(), false);
    return Grads{grad_a, grad_b};
  });
}

TensorPtr linear_op(const TensorPtr& x, const TensorPtr& weight, const TensorPtr& bias) {
  if (x->ndim() == 0 || weight->ndim() != 2 || x->shape().back() != weight->shape()[1]) {
    throw std::runtime_error("linear: input of shape " + shape_str(x->shape()) + " and weight of shape " +
                             shape_str(weight->shape()) +
                             " do not fit (the input's last dim must be the "
                             "weight's second)");
  }
  if (!is_floating(x->dtype()) || x->dtype() != weight->dtype() || (bias && bias->dtype() != x->dtype())) {
    throw std::runtime_error("linear: expected floating point input, weight and bias of one dtype");
  }
  if (bias && (bias->ndim() != 1 || bias->shape()[0] != weight->shape()[0])) {
    throw std::runtime_error("linear: bias of shape " + shape_str(bias->shape()) + " does not match " +
                             std::to_string(weight->shape()[0]) + " output features");
  }
  const std::int64_t in = weight->shape()[1], out_features = weight->shape()[0];
  const TensorPtr x2 = contiguous(x);
  const std::int64_t rows = shape_numel(Shape(x->shape().begin(), x->shape().end() - 1));
  const TensorPtr flat = make_view(x2, {rows, in}, {in, 1}, x2->offset());
  const TensorPtr wt =
      make_view(weight, {in, out_features}, {weight->strides()[1], weight->strides()[0]}, weight->offset());
  TensorPtr out2 = addmm(bias, flat, wt);
  Shape out_shape = x->shape();
  out_shape.back() = out_features;
  TensorPtr out = make_view(out2, out_shape, contiguous_strides(out_shape), 0);
  std::vector<TensorPtr> inputs{x, weight};
  if (bias) inputs.push_back(bias);
  const bool gx = x->requires_grad, gw = weight->requires_grad, gb = bias && bias->requires_grad;
  // x itself is saved, not its matrix view, so that a create_graph pass differentiates through it
  if (!any_requires_grad(inputs)) return out;
  return record(out, bias ? "AddmmBackward0" : "MmBackward0", inputs, {x, weight},
                [gx, gw, gb, rows, in, out_features](const TensorPtr& g, const Saved& s) {
                  const TensorPtr &x_ = s[0], &w = s[1];
                  const TensorPtr g2 = reshape_op(g, {rows, out_features}, false);
                  Grads grads(3);
                  if (gx) grads[0] = reshape_op(matmul_op(g2, w), x_->shape(), false);
                  if (gw) grads[1] = matmul_op(formula::transposed(g2), reshape_op(x_, {rows, in}, false));
                  if (gb) grads[2] = sum_op(g2, {0}, false);
                  return grads;
                });
}

TensorPtr mse_loss_op(const TensorPtr& input, const TensorPtr& target, Reduction reduction) {
  if (input->shape() != target->shape()) {
    throw std::invalid_argument("mse_loss: target size " + shape_str(target->shape()) + " differs from input size " +
                                shape_str(input->shape()) + "; they must match (no silent broadcasting)");
  }
  if (!is_floating(input->dtype()) || !is_floating(target->dtype())) {
    throw std::runtime_error(std::string("mse_loss: expected floating point input and target, got ") +
                             dtype_name(input->dtype()) + " and " + dtype_name(target->dtype()));
  }
  const DType dtype = promote(input->dtype(), target->dtype());
  // the values of sum((input - target)^2) computed op by op, to the bit: the square is d * d, as
  // pow(d, 2), and the reductions are sum's and mean's kernels
  TensorPtr out = binary(BinaryOp::Sub, input, target, dtype);
  binary_into(BinaryOp::Mul, out, out, out, dtype);  // squared in place: the difference is not kept
  const std::int64_t count = out->numel();
  if (reduction != Reduction::None) out = sum(out, all_dims_if_empty({}, out->ndim()), false);
  if (reduction == Reduction::Mean) out = binary(BinaryOp::Div, out, scalar_like(double(count), out), dtype);
  if (!any_requires_grad({&input, &target})) return out;
  const bool gi = input->requires_grad, gt = target->requires_grad;
  // input and target are saved, as PyTorch does, and the difference taken again in the backward:
  // a graph of the backward pass (create_graph) then differentiates through both
  return record(out, "MseLossBackward0", {input, target}, {input, target},
                [gi, gt, reduction, count](const TensorPtr& g, const Saved& s) {
                  const TensorPtr& in = s[0];
                  const TensorPtr& tg = s[1];
                  // g * (input - target) * 2, g first divided by the count for a mean: the bits of
                  // pow's and sub's gradients under sum's or mean's
                  const TensorPtr scaled =
                      reduction == Reduction::Mean ? formula::div(g, formula::constant(double(count), g)) : g;
                  TensorPtr grad;
                  if (!grad_enabled() && scaled->dtype() == in->dtype() && in->dtype() == tg->dtype()) {
                    // no graph of this pass is wanted: the same three ops, written into one buffer
                    grad = binary(BinaryOp::Sub, in, tg, in->dtype());
                    binary_into(BinaryOp::Mul, grad, scaled, grad, grad->dtype());
                    binary_into(BinaryOp::Mul, grad, grad, formula::constant(2, grad), grad->dtype());
                  } else {
                    grad = formula::mul(formula::mul(scaled, formula::sub(in, tg)), formula::constant(2, in));
                  }
                  return Grads{
                      gi ? formula::reduce_to(grad, in->shape(), in->dtype()) : nullptr,
                      gt ? formula::reduce_to(apply_unary(UnaryOp::Neg, grad), tg->shape(), tg->dtype()) : nullptr};
                });
}

// --- in place ----------------------------------------------------------------------------------

void check_in_place(const TensorPtr& self, bool other_requires_grad, const char* op) {
  for (std::int64_t d = 0; d < self->ndim() && self->numel() > 0; ++d) {  // an empty tensor has no element to alias
    if (self->strides()[d] == 0 && self->shape()[d] > 1) {
      throw std::runtime_error(std::string(op) +
                               ": unsupported operation: more than one element of the written-to tensor "
                               "refers to a single memory location (an expanded view). Please clone() "
                               "the tensor before performing the operation.");
    }
  }
  if (!grad_enabled()) return;
  refresh_view_history(*self);
  if (self->requires_grad && !self->grad_fn) {
    throw std::runtime_error(std::string("a leaf Variable that requires grad is being used in an "
                                         "in-place operation (") +
                             op + "); wrap it in no_grad()");
  }
  if ((self->requires_grad || other_requires_grad) && self->is_view) {
    // recorded on the view's base (see Note [in-place ops on views])
    const TensorImpl* base = self->view_base.get();
    if (base == nullptr) {
      throw std::runtime_error(std::string(op) +
                               ": in-place operations on a view of a tensor that requires grad are "
                               "not supported; use an out-of-place op or .clone() first");
    }
    if (base->requires_grad && !base->grad_fn) {
      throw std::runtime_error(std::string("a view of a leaf Variable that requires grad is being used in an "
                                           "in-place operation (") +
                               op + ")");
    }
    view_geometry(*self, op);  // throws where the write could not be followed
  }
}

void check_untracked_write(const TensorPtr& self, const char* op) {
  if (grad_enabled() && self->requires_grad && self->grad_fn) {
    throw std::runtime_error(std::string(op) +
                             ": writing into a tensor that requires grad (it is part of a "
                             "graph) is not recorded by autograd; use an out-of-place op, or no_grad()");
  }
}

void assign_in_place(const TensorPtr& self, const TensorPtr& value, const char* op) {
  check_in_place(self, value->requires_grad, op);
  // an integer or bool tensor cannot carry a gradient: copying into it records nothing
  const bool recording = grad_enabled() && value->requires_grad && is_floating(self->dtype());
  if (recording && value->shape() != self->shape()) {
    throw std::runtime_error(std::string(op) + ": an in-place copy that broadcasts a tensor requiring grad (" +
                             shape_str(value->shape()) + " into " + shape_str(self->shape()) +
                             ") is not supported; expand() it first");
  }
  if (!recording) check_untracked_write(self, op);
  // self now holds value's data, so its history is value's; a leaf gets a node that passes the
  // gradient on to it
  // (from another device: through a copy node, so the gradient goes back to value's device)
  const TensorPtr history = !recording                          ? value
                            : value->device() != self->device() ? to_device_op(value, self->device())
                            : !value->grad_fn                   ? clone_op(value)
                                                                : value;
  copy_into(self, value);
  self->storage()->bump_version();
  if (recording) {
    const NodePtr previous = self->grad_fn;
    if (self->view_base) {
      record_view_write(self, history);
    } else {
      self->requires_grad = true;
      self->grad_fn = history->grad_fn;
      ++self->history_version;  // its views read the new history (see Note [in-place ops on views])
    }
    if (self->retains_grad && previous && previous.get() != self->grad_fn.get()) {
      static_cast<TensorNode&>(*self->grad_fn).hooks().take_last(static_cast<TensorNode&>(*previous).hooks());
    }
  }
}

}  // namespace chaingrad
