#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/gil.h"
#include "kernels/cpu/parallel.h"
#include "kernels/element_rules.h"
#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "tensor/device.h"

namespace chaingrad {

std::vector<std::int64_t> normalize_dims(const std::vector<std::int64_t>& dims, std::int64_t ndim) {
  std::vector<std::int64_t> out;
  out.reserve(dims.size());
  for (std::int64_t d : dims) out.push_back(wrap_dim(d, ndim));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    throw std::runtime_error("dim " + std::to_string(*std::adjacent_find(out.begin(), out.end())) +
                             " appears multiple times in the list of dims");
  }
  if (ndim == 0) out.clear();  // dim 0 of a 0-d tensor reduces nothing
  return out;
}

namespace {

/// The shape after reducing dims (kept as size 1, or dropped), and the strides that map an input
/// index to its output element (0 along reduced dims).
struct Reduction {
  Shape kept_shape;  // reduced dims as 1
  Shape out_shape;   // as returned (reduced dims dropped unless keepdim)
  Shape gather;      // per input dim: the output stride, 0 where reduced
};

Reduction plan_reduction(const Shape& in, const std::vector<std::int64_t>& dims, bool keepdim) {
  Reduction r;
  r.kept_shape = in;
  for (std::int64_t d : dims) r.kept_shape[d] = 1;
  const Shape kept_strides = contiguous_strides(r.kept_shape);
  r.gather.resize(in.size());
  for (std::size_t d = 0; d < in.size(); ++d) {
    const bool reduced = std::find(dims.begin(), dims.end(), static_cast<std::int64_t>(d)) != dims.end();
    r.gather[d] = reduced ? 0 : kept_strides[d];
    if (!reduced || keepdim) r.out_shape.push_back(r.kept_shape[d]);
  }
  return r;
}

/// One term of a sum: the element, or its square when kSquare (taken in Acc, so float32 values
/// near 1e38 square without overflow).
template <bool kSquare, class Acc, class T>
Acc term(T x) {
  const Acc v = static_cast<Acc>(x);
  if constexpr (kSquare) return v * v;
  else return v;
}

/// in[0] + in[stride] + ... over n elements (of their squares when kSquare), with four
/// independent partial sums so the loop is not serialised on one accumulator.
template <bool kSquare, class T, class Acc>
Acc run_sum(const T* in, std::int64_t stride, std::int64_t n) {
  Acc s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::int64_t j = 0;
  if (stride == 1) {
    for (; j + 4 <= n; j += 4) {
      s0 += term<kSquare, Acc>(in[j]);
      s1 += term<kSquare, Acc>(in[j + 1]);
      s2 += term<kSquare, Acc>(in[j + 2]);
      s3 += term<kSquare, Acc>(in[j + 3]);
    }
  }
  for (; j < n; ++j) s0 += term<kSquare, Acc>(in[j * stride]);
  return (s0 + s1) + (s2 + s3);
}

/// The sum of n contiguous elements, each core summing one chunk.
template <bool kSquare, class T, class Acc>
Acc parallel_sum(const T* in, std::int64_t n) {
  constexpr int kMaxThreads = 256;
  Acc partial[kMaxThreads] = {};
  std::int64_t chunks = 1;
  if (n >= kParallelGrain) chunks = std::min<std::int64_t>(get_num_threads(), kMaxThreads);
  if (chunks == 1) return run_sum<kSquare, T, Acc>(in, 1, n);  // no parallel job for small sums
  const std::int64_t size = (n + chunks - 1) / chunks;
  parallel_chunks(static_cast<int>(chunks), [&](int c) {
    const std::int64_t b = c * size, e = std::min(n, b + size);
    if (b < e) partial[c] = run_sum<kSquare, T, Acc>(in + b, 1, e - b);
  });
  Acc total = 0;
  for (std::int64_t c = 0; c < chunks; ++c) total += partial[c];
  return total;
}

/// The sum over dims (of the squares, in float64, when kSquare).
template <bool kSquare>
TensorPtr reduce_sum(const TensorPtr& t, const std::vector<std::int64_t>& dims_in, bool keepdim) {
  std::vector<std::int64_t> dims = normalize_dims(dims_in, t->ndim());
  if (dims_in.empty()) {
    for (std::int64_t d = 0; d < t->ndim(); ++d) dims.push_back(d);
  }
  const Reduction r = plan_reduction(t->shape(), dims, keepdim);
  const DType out_dtype = kSquare ? DType::Float64 : is_floating(t->dtype()) ? t->dtype() : DType::Int64;
  TensorPtr out = empty(r.out_shape, out_dtype, t->device());
  if (out->is_cuda()) {
    cuda::sum(*out, kSquare ? *unary(UnaryOp::Square, cast(t, DType::Float64)) : *t, dims);
    return out;
  }
  // Accumulate in double (or int64): float32 sums of many terms keep their precision.
  const std::int64_t count = shape_numel(r.kept_shape);
  std::vector<double> acc_f(is_floating(out_dtype) ? count : 0, 0.0);
  std::vector<std::uint64_t> acc_i(is_floating(out_dtype) ? 0 : count, 0);
  {
    GilRelease unlocked(t->numel() >= kParallelGrain);
    dispatch(t->dtype(), [&](auto tag) {
      using T = decltype(tag);
      using Acc =
          std::conditional_t<std::is_floating_point_v<T>, double, std::uint64_t>;  // see Note [integer wrap-around]
      Acc* acc = nullptr;
      if constexpr (std::is_floating_point_v<T>) acc = acc_f.data();
      else acc = acc_i.data();
      const T* x = t->data_as<T>();
      if (count == 1 && t->is_contiguous()) {  // everything into one number: split over the cores
        acc[0] = parallel_sum<kSquare, T, Acc>(x, t->numel());
        return;
      }
      for_each_run<2>(t->shape(), {t->strides().data(), r.gather.data()},
                      [&](const auto& off, const auto& step, std::int64_t n) {
                        Acc* a = acc + off[1];
                        const T* in = x + off[0];
                        if (step[1] == 0) {  // the run is reduced into one output: keep it in a register
                          a[0] += run_sum<kSquare, T, Acc>(in, step[0], n);
                          return;
                        }
                        if (step[0] == 1 && step[1] == 1) {
                          // a contiguous row into contiguous sums (a column sum: Linear's bias
                          // gradient): unit strides the compiler can see, so the loop vectorizes
                          for (std::int64_t j = 0; j < n; ++j) a[j] += term<kSquare, Acc>(in[j]);
                          return;
                        }
                        for (std::int64_t j = 0; j < n; ++j) a[j * step[1]] += term<kSquare, Acc>(in[j * step[0]]);
                      });
    });
  }
  dispatch(out_dtype, [&](auto tag) {
    using T = decltype(tag);
    T* o = out->data_as<T>();
    for (std::int64_t i = 0; i < count; ++i) {
      if constexpr (std::is_floating_point_v<T>) o[i] = static_cast<T>(acc_f[i]);
      else o[i] = static_cast<T>(acc_i[i]);
    }
  });
  return out;
}

}  // namespace

TensorPtr sum(const TensorPtr& t, const std::vector<std::int64_t>& dims, bool keepdim) {
  // the narrow integers sum to int64 like int64 does; float16 and bfloat16 sum in float32 and
  // round back (see Note [storage dtypes])
  if (is_storage_only(t->dtype())) {
    const TensorPtr wide = reduce_sum<false>(cast(t, compute_dtype(t->dtype())), dims, keepdim);
    return is_floating(t->dtype()) ? cast(wide, t->dtype()) : wide;
  }
  return reduce_sum<false>(t, dims, keepdim);
}

TensorPtr sum_of_squares(const TensorPtr& t, const std::vector<std::int64_t>& dims, bool keepdim) {
  if (!is_floating(t->dtype())) throw std::logic_error("sum_of_squares: expected a floating point tensor");
  if (is_storage_only(t->dtype())) return reduce_sum<true>(cast(t, compute_dtype(t->dtype())), dims, keepdim);
  return reduce_sum<true>(t, dims, keepdim);
}

std::pair<TensorPtr, TensorPtr> max_along(const TensorPtr& t, std::int64_t dim_in, bool keepdim, bool smallest) {
  const char* name = smallest ? "min" : "max";
  if (t->ndim() == 0) {
    TensorPtr values = cast(t, t->dtype(), /*copy=*/true);
    TensorPtr index = to_device(scalar_tensor(0, DType::Int64), t->device());
    wrap_dim(dim_in, 0);
    return {values, index};
  }
  if (is_storage_only(t->dtype())) {  // a selection: exact in the compute type
    auto [values, indices] = max_along(cast(t, compute_dtype(t->dtype())), dim_in, keepdim, smallest);
    return {cast(values, t->dtype()), indices};
  }
  const std::int64_t dim = wrap_dim(dim_in, t->ndim());
  const std::int64_t length = t->shape()[dim];
  if (length == 0) {  // IndexError, as PyTorch
    throw std::out_of_range(std::string(name) + "(): Expected reduction dim " + std::to_string(dim) +
                            " to have non-zero size.");
  }
  const Reduction r = plan_reduction(t->shape(), {dim}, keepdim);
  TensorPtr values = empty(r.out_shape, t->dtype(), t->device());
  TensorPtr indices = empty(r.out_shape, DType::Int64, t->device());
  if (t->is_cuda()) {
    cuda::max_along(*values, *indices, *t, dim, smallest);
    return {values, indices};
  }
  // Walk the output positions; the inner loop runs along dim.
  Shape outer_shape = t->shape();
  outer_shape[dim] = 1;
  const Shape out_strides = contiguous_strides(r.kept_shape);
  dispatch(t->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = t->data_as<T>();
    T* v = values->data_as<T>();
    std::int64_t* ix = indices->data_as<std::int64_t>();
    const std::int64_t stride = t->strides()[dim];
    for_each_run<2>(outer_shape, {t->strides().data(), out_strides.data()},
                    [&](const auto& off, const auto& step, std::int64_t n) {
                      for (std::int64_t j = 0; j < n; ++j) {
                        const T* row = x + off[0] + j * step[0];
                        T best = row[0];
                        std::int64_t best_i = 0;
                        for (std::int64_t k = 1; k < length; ++k) {
                          const T candidate = row[k * stride];
                          bool better = smallest ? candidate < best : candidate > best;
                          if constexpr (std::is_floating_point_v<T>) {
                            if (std::isnan(best)) better = false;  // NaN wins and stays, as PyTorch
                            else if (std::isnan(candidate)) better = true;
                          }
                          if (better) {
                            best = candidate;
                            best_i = k;
                          }
                        }
                        v[off[1] + j * step[1]] = best;
                        ix[off[1] + j * step[1]] = best_i;
                      }
                    });
  });
  return {values, indices};
}

TensorPtr max_all(const TensorPtr& t, bool smallest) {
  if (t->numel() == 0) {
    throw std::runtime_error(std::string(smallest ? "min" : "max") +
                             "(): Expected reduction dim to be specified for input.numel() == 0. "
                             "Specify the reduction dim with the 'dim' argument.");
  }
  TensorPtr flat = contiguous(t);
  TensorPtr view = make_view(flat, {flat->numel()}, {1}, flat->offset());
  return max_along(view, 0, false, smallest).first;
}

TensorPtr argmax_all(const TensorPtr& t, bool smallest) {
  if (t->numel() == 0) throw std::runtime_error("argmax(): cannot take the argmax of an empty tensor");
  TensorPtr flat = contiguous(t);
  TensorPtr view = make_view(flat, {flat->numel()}, {1}, flat->offset());
  return max_along(view, 0, false, smallest).second;
}

TensorPtr sum_to(const TensorPtr& grad, const Shape& shape) {
  if (grad->shape() == shape) return grad;
  const std::int64_t lead = grad->ndim() - static_cast<std::int64_t>(shape.size());
  if (lead < 0) {
    throw std::runtime_error("sum_to: gradient of shape " + shape_str(grad->shape()) + " has fewer dims than " +
                             shape_str(shape));
  }
  std::vector<std::int64_t> dims;
  for (std::int64_t d = 0; d < grad->ndim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && grad->shape()[d] != 1)) dims.push_back(d);
  }
  for (std::int64_t d = lead; d < grad->ndim(); ++d) {
    const std::int64_t want = shape[d - lead], have = grad->shape()[d];
    if (want != have && want != 1) {
      throw std::runtime_error("sum_to: gradient of shape " + shape_str(grad->shape()) + " does not reduce to " +
                               shape_str(shape));
    }
  }
  TensorPtr reduced = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  // drop the leading dims that broadcasting added
  TensorPtr c = contiguous(reduced);
  return make_view(c, shape, contiguous_strides(shape), c->offset());
}

namespace {

/// x (N, C) and target (N,) as the cross-entropy kernels read them: contiguous CPU tensors of
/// matching rows, every class index in [0, C).
void check_cross_entropy(const TensorPtr& x, const TensorPtr& target) {
  if (x->ndim() != 2 || !is_floating(x->dtype()) || x->is_cuda() || !x->is_contiguous()) {
    throw std::logic_error("cross_entropy: expected contiguous CPU floating logits (N, C), got " +
                           shape_str(x->shape()));
  }
  if (target->ndim() != 1 || target->dtype() != DType::Int64 || target->is_cuda() || !target->is_contiguous() ||
      target->shape()[0] != x->shape()[0]) {
    throw std::logic_error("cross_entropy: expected contiguous CPU int64 targets (" + std::to_string(x->shape()[0]) +
                           ",), got " + shape_str(target->shape()));
  }
  const std::int64_t rows = x->shape()[0], classes = x->shape()[1];
  const std::int64_t* t = target->data_as<std::int64_t>();
  if (rows == 0) return;
  const auto [lo, hi] = std::minmax_element(t, t + rows);
  if (*lo < 0 || *hi >= classes) {  // the message of the composite path (nn.functional.one_hot)
    throw std::out_of_range("Class values must be in [0, " + std::to_string(classes) + "), got [" +
                            std::to_string(*lo) + ", " + std::to_string(*hi) + "]");
  }
}

/// log_softmax(row)[c] exactly as softmax_op computes it: (x - max) - log(sum of e^(x - max)).
template <class T>
T log_probability(T x, T max, T log_total) {
  return (x - max) - log_total;
}

/// Calls body(n, row, target[n]) for each row n of the checked logits x (row points at its C
/// values, typed), over the cores for large inputs.
template <class Body>
void for_each_logit_row(const TensorPtr& x, const TensorPtr& target, Body&& body) {
  GilRelease unlocked(x->numel() >= kParallelGrain);
  dispatch(x->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* px = x->data_as<T>();
      const std::int64_t* pt = target->data_as<std::int64_t>();
      const std::int64_t classes = x->shape()[1];
      parallel_for(x->shape()[0], [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t n = begin; n < end; ++n) body(n, px + n * classes, pt[n]);
      });
    }
  });
}

}  // namespace

std::pair<TensorPtr, TensorPtr> cross_entropy_rows(const TensorPtr& x, const TensorPtr& target) {
  if (is_storage_only(x->dtype())) {  // float16/bfloat16 logits: float32 arithmetic, float32 stats
    auto [loss, stats] = cross_entropy_rows(cast(x, compute_dtype(x->dtype())), target);
    return {cast(loss, x->dtype()), stats};
  }
  check_cross_entropy(x, target);
  const std::int64_t rows = x->shape()[0], classes = x->shape()[1];
  TensorPtr loss = empty({rows}, x->dtype());
  TensorPtr stats = empty({rows, 2}, x->dtype());
  for_each_logit_row(x, target, [&](std::int64_t n, const auto* row, std::int64_t t) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(row)>>;
    T max = row[0];  // max_along's rule: a NaN wins
    for (std::int64_t c = 1; c < classes; ++c) {
      const T v = row[c];
      if (v != v || (max == max && v > max)) max = v;
    }
    std::vector<T> e(static_cast<std::size_t>(classes));
    for (std::int64_t c = 0; c < classes; ++c) e[c] = exp_of(row[c] - max);
    // summed as sum() sums a contiguous run (in double, four partial sums), then logged in T
    const T log_total = std::log(static_cast<T>(run_sum<false, T, double>(e.data(), 1, classes)));
    T* ps = stats->data_as<T>() + 2 * n;
    ps[0] = max;
    ps[1] = log_total;
    loss->data_as<T>()[n] = -log_probability(row[t], max, log_total);
  });
  return {loss, stats};
}

TensorPtr cross_entropy_backward(const TensorPtr& x, const TensorPtr& target, const TensorPtr& stats,
                                 const TensorPtr& weight_in) {
  if (is_storage_only(x->dtype())) {
    const DType wide = compute_dtype(x->dtype());
    return cast(cross_entropy_backward(cast(x, wide), target, stats, weight_in), x->dtype());
  }
  check_cross_entropy(x, target);
  const std::int64_t rows = x->shape()[0], classes = x->shape()[1];
  if (stats->shape() != Shape{rows, 2} || stats->dtype() != x->dtype() || !stats->is_contiguous() ||
      (weight_in->numel() != 1 && weight_in->numel() != rows) || weight_in->is_cuda()) {
    throw std::logic_error("cross_entropy_backward: the saved statistics or the weights do not fit the logits");
  }
  const TensorPtr weight = contiguous(cast(weight_in, x->dtype()));
  const bool per_row = weight->numel() == rows;
  TensorPtr out = empty(x->shape(), x->dtype());
  for_each_logit_row(x, target, [&](std::int64_t n, const auto* row, std::int64_t t) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(row)>>;
    // the composite path's arithmetic: the incoming -w at the target (0 elsewhere) minus
    // softmax * (the row's sum of it, -w)
    const T* ps = stats->data_as<T>() + 2 * n;
    const T neg_w = -weight->data_as<T>()[per_row ? n : 0], max = ps[0], log_total = ps[1];
    T* o = out->data_as<T>() + n * classes;
    for (std::int64_t c = 0; c < classes; ++c) o[c] = T(0) - exp_of(log_probability(row[c], max, log_total)) * neg_w;
    o[t] = neg_w - exp_of(log_probability(row[t], max, log_total)) * neg_w;
  });
  return out;
}

}  // namespace chaingrad
