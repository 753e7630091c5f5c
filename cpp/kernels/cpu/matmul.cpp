#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/gil.h"
#include "kernels/cpu/parallel.h"
#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "tensor/device.h"

namespace chaingrad {
namespace {

std::string matrix_str(std::int64_t rows, std::int64_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

/// How BLAS can read a matrix view without a copy: row-major as is, or as the transpose of a
/// row-major matrix. Anything else is copied to contiguous first.
struct BlasMatrix {
  TensorPtr owner;
  bool transposed = false;
  std::int64_t ld = 0;
};

BlasMatrix blas_view(const TensorPtr& m) {  // m is 2-d
  const std::int64_t rows = m->shape()[0], cols = m->shape()[1];
  const std::int64_t rs = m->strides()[0], cs = m->strides()[1];
  if ((cs == 1 || cols == 1) && rs >= std::max<std::int64_t>(cols, 1)) return {m, false, rs};
  if ((rs == 1 || rows == 1) && cs >= std::max<std::int64_t>(rows, 1)) return {m, true, cs};
  TensorPtr c = contiguous(m);
  return {c, false, std::max<std::int64_t>(cols, 1)};
}

/// A matrix as a base pointer and strides: element (i, j) is p[i * rs + j * cs].
template <class T>
struct StridedMatrix {
  const T* p;
  std::int64_t rs, cs;
  T at(std::int64_t i, std::int64_t j) const { return p[i * rs + j * cs]; }
};

template <class T>
StridedMatrix<T> strided(const TensorPtr& m) {
  return {m->data_as<T>(), m->strides()[0], m->strides()[1]};
}

/// sum_p x[p * xs] y[p * ys] over p < k; past 16 terms in four interleaved partial sums, four
/// independent chains of adds rather than one that a long k would wait on.
template <class T>
T strided_dot(const T* x, std::int64_t xs, const T* y, std::int64_t ys, std::int64_t k) {
  if (k < 16) {
    T s = 0;
    for (std::int64_t p = 0; p < k; ++p) s = wrapping_add(s, wrapping_mul(x[p * xs], y[p * ys]));
    return s;
  }
  T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::int64_t p = 0;
  for (; p + 4 <= k; p += 4) {
    s0 = wrapping_add(s0, wrapping_mul(x[p * xs], y[p * ys]));
    s1 = wrapping_add(s1, wrapping_mul(x[(p + 1) * xs], y[(p + 1) * ys]));
    s2 = wrapping_add(s2, wrapping_mul(x[(p + 2) * xs], y[(p + 2) * ys]));
    s3 = wrapping_add(s3, wrapping_mul(x[(p + 3) * xs], y[(p + 3) * ys]));
  }
  for (; p < k; ++p) s0 = wrapping_add(s0, wrapping_mul(x[p * xs], y[p * ys]));
  return wrapping_add(wrapping_add(s0, s1), wrapping_add(s2, s3));
}

template <class T>
void store(T* c, T v, bool accumulate) {
  *c = accumulate ? wrapping_add(*c, v) : v;
}

/// c (1 x M) = a (1 x k) @ b (k x M): the M sums stay in registers across the k rows of b, in two
/// sets (even and odd rows of b) so that each chain of adds is half as long.
template <class T, int M>
void row_times_matrix(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* c, std::int64_t k, bool accumulate) {
  T even[M] = {}, odd[M] = {};
  std::int64_t p = 0;
  for (; p + 2 <= k; p += 2) {
    const T a0 = a.p[p * a.cs], a1 = a.p[(p + 1) * a.cs];
    const T* b0 = b.p + p * b.rs;
    const T* b1 = b0 + b.rs;
    for (int j = 0; j < M; ++j) {
      even[j] = wrapping_add(even[j], wrapping_mul(a0, b0[j * b.cs]));
      odd[j] = wrapping_add(odd[j], wrapping_mul(a1, b1[j * b.cs]));
    }
  }
  if (p < k) {
    const T av = a.p[p * a.cs];
    for (int j = 0; j < M; ++j) even[j] = wrapping_add(even[j], wrapping_mul(av, b.p[p * b.rs + j * b.cs]));
  }
  for (int j = 0; j < M; ++j) store(c + j, wrapping_add(even[j], odd[j]), accumulate);
}

/// c (n x 1) = a (n x K) @ b (K x 1) for a K of a few: b's K values stay in registers and each row
/// is one unrolled sum.
template <class T, int K>
void matrix_times_short_column(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* c, std::int64_t n,
                               bool accumulate) {
  T bv[K];
  for (int p = 0; p < K; ++p) bv[p] = b.p[p * b.rs];
  for (std::int64_t i = 0; i < n; ++i) {
    const T* row = a.p + i * a.rs;
    T sum = wrapping_mul(row[0], bv[0]);
    for (int p = 1; p < K; ++p) sum = wrapping_add(sum, wrapping_mul(row[p * a.cs], bv[p]));
    store(c + i, sum, accumulate);
  }
}

/// Calls f(std::integral_constant<int, w>{}) for a width w of 1 to 4 (larger ones are 4: the
/// callers have checked).
template <class F>
void with_width(std::int64_t w, F&& f) {
  switch (w) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 3:
      return f(std::integral_constant<int, 3>{});
    default:
      return f(std::integral_constant<int, 4>{});
  }
}

/// c = a @ b (+ c when accumulate) for the thin shapes of is_thin, c row-major contiguous (n x m):
/// a column (m == 1: a dot product per row) or a row times a matrix at most 4 wide (n == 1).
template <class T>
void thin_gemm(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* c, std::int64_t n, std::int64_t m,
               std::int64_t k, bool accumulate) {
  if (m == 1 && k <= 4) {
    with_width(k, [&](auto K) { matrix_times_short_column<T, K()>(a, b, c, n, accumulate); });
  } else if (m == 1) {
    for (std::int64_t i = 0; i < n; ++i) store(c + i, strided_dot(a.p + i * a.rs, a.cs, b.p, b.rs, k), accumulate);
  } else {
    with_width(m, [&](auto M) { row_times_matrix<T, M()>(a, b, c, k, accumulate); });
  }
}

/// c = a @ b (+ c when accumulate) by plain i-p-j loops (int64, which BLAS lacks).
template <class T>
void loop_gemm(const StridedMatrix<T>& a, const StridedMatrix<T>& b, T* c, std::int64_t n, std::int64_t m,
               std::int64_t k, bool accumulate) {
  for (std::int64_t i = 0; i < n; ++i) {
    T* row = c + i * m;
    if (!accumulate) std::fill(row, row + m, T(0));
    for (std::int64_t p = 0; p < k; ++p) {
      const T av = a.at(i, p);
      for (std::int64_t j = 0; j < m; ++j) row[j] = wrapping_add(row[j], wrapping_mul(av, b.at(p, j)));
    }
  }
}

// Note [small matmuls]
// OpenBLAS costs a call, a dispatch and packing before any arithmetic, and its small-matrix
// kernels are at their worst for a single column accumulated into (beta 1): the regression's
// Linear(3, 1), (2000x3)@(3x1) plus the bias, took 18-37 us there and takes 1.4 us in
// thin_gemm. Measured against OpenBLAS 0.3.34 on one thread (float32 and float64), plain loops
// win for a column from a few-wide matrix (k <= 4), a row times a few-wide matrix (m <= 4), and a
// column accumulated into; elsewhere (outer products, long dot products, square matrices from
// 8x8x8 up) BLAS is as fast or faster, and so it is past kThinGemmWork multiply-adds.
constexpr std::int64_t kThinGemmWork = 1 << 16;

bool is_thin(std::int64_t n, std::int64_t m, std::int64_t k, bool accumulate) {
  const bool shape = (m == 1 && (k <= 4 || accumulate)) || (n == 1 && m <= 4);
  // the work bound by divisions: an expanded operand's n * m * k could overflow
  return shape && k <= kThinGemmWork && m <= kThinGemmWork && n <= kThinGemmWork / (m * k);
}

/// out = a @ b + beta * out for 2-d a, b and a contiguous out (beta is 0 or 1).
template <class T>
void gemm(const TensorPtr& a, const TensorPtr& b, const TensorPtr& out, double beta = 0.0) {
  const std::int64_t n = a->shape()[0], k = a->shape()[1], m = b->shape()[1];
  if (n == 0 || m == 0) return;
  if (k == 0) {
    if (beta == 0.0) fill(out, 0.0);
    return;
  }
  if (out->is_cuda()) {
    cuda::gemm(out->dtype(), n, m, k, a->data(), a->strides()[0], a->strides()[1], b->data(), b->strides()[0],
               b->strides()[1], beta, out->data(), out->strides()[0], out->device().index);
    return;
  }
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (is_thin(n, m, k, beta != 0.0))
      return thin_gemm(strided<T>(a), strided<T>(b), out->data_as<T>(), n, m, k, beta != 0.0);
    if (n > INT_MAX || m > INT_MAX || k > INT_MAX) {
      throw std::runtime_error("matmul: matrices larger than 2^31 rows or columns are not supported");
    }
    const BlasMatrix A = blas_view(a), B = blas_view(b);
    GilRelease unlocked(n * m * k >= kParallelGrain);
    blas_gemm<T>(A.transposed, B.transposed, int(n), int(m), int(k), A.owner->data_as<T>(), int(A.ld),
                 B.owner->data_as<T>(), int(B.ld), T(beta), out->data_as<T>(), int(m));
  } else {  // int64: no BLAS
    loop_gemm(strided<T>(a), strided<T>(b), out->data_as<T>(), n, m, k, beta != 0.0);
  }
}

/// The 2-d matrix at batch position `index` of a tensor whose leading dims are broadcast to batch.
TensorPtr batch_matrix(const TensorPtr& t, const Shape& batch, const Shape& bstrides,
                       const std::vector<std::int64_t>& index) {
  std::int64_t offset = t->offset();
  for (std::size_t d = 0; d < batch.size(); ++d) offset += index[d] * bstrides[d];
  const std::int64_t nd = t->ndim();
  return make_view(t, {t->shape()[nd - 2], t->shape()[nd - 1]}, {t->strides()[nd - 2], t->strides()[nd - 1]}, offset);
}

}  // namespace

TensorPtr addmm(const TensorPtr& bias, const TensorPtr& a, const TensorPtr& b) {
  if (a->ndim() != 2 || b->ndim() != 2 || a->shape()[1] != b->shape()[0]) {
    throw std::runtime_error("addmm: shapes " + shape_str(a->shape()) + " and " + shape_str(b->shape()) +
                             " cannot be multiplied");
  }
  if (a->dtype() != b->dtype() || (bias && bias->dtype() != a->dtype())) {
    throw std::runtime_error("addmm: expected all operands to have the same dtype");
  }
  if (is_storage_only(a->dtype())) {  // the product accumulates in the compute type, then rounds once
    const DType wide = compute_dtype(a->dtype());
    return cast(addmm(bias ? cast(bias, wide) : bias, cast(a, wide), cast(b, wide)), a->dtype());
  }
  const Device device = common_device("addmm", {bias.get(), a.get(), b.get()});
  TensorPtr out = empty({a->shape()[0], b->shape()[1]}, a->dtype(), device);
  // broadcast the bias over the rows, then accumulate into it; a contiguous bias of a row's length
  // on the CPU is copied row by row, without copy_into's general broadcast walk
  const bool bias_rows =
      bias && !out->is_cuda() && bias->ndim() == 1 && bias->shape()[0] == out->shape()[1] && bias->is_contiguous();
  if (bias && !bias_rows) copy_into(out, bias);
  dispatch(a->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      if (bias_rows) {
        const T* row = bias->data_as<T>();
        T* o = out->data_as<T>();
        const std::int64_t n = out->shape()[0], m = out->shape()[1];
        for (std::int64_t i = 0; i < n; ++i) {
          for (std::int64_t j = 0; j < m; ++j) o[i * m + j] = row[j];  // no memmove call per short row
        }
      }
      gemm<T>(a, b, out, bias ? 1.0 : 0.0);
    }
  });
  return out;
}

TensorPtr matmul(const TensorPtr& a_in, const TensorPtr& b_in) {
  if (a_in->ndim() == 0 || b_in->ndim() == 0) {
    throw std::runtime_error("matmul: both arguments need at least 1 dimension, got " + std::to_string(a_in->ndim()) +
                             "D and " + std::to_string(b_in->ndim()) + "D tensors");
  }
  if (a_in->dtype() != b_in->dtype()) {
    throw std::runtime_error(std::string("matmul: expected both operands to have the same dtype, got ") +
                             dtype_name(a_in->dtype()) + " and " + dtype_name(b_in->dtype()));
  }
  const Device device = common_device("matmul", {a_in.get(), b_in.get()});
  if (a_in->dtype() == DType::Bool) throw std::runtime_error("matmul: not supported for bool tensors");
  if (is_storage_only(a_in->dtype())) {  // the product accumulates in the compute type, then rounds once
    const DType wide = compute_dtype(a_in->dtype());
    return cast(matmul(cast(a_in, wide), cast(b_in, wide)), a_in->dtype());
  }
  // 1-d operands become a row (left) or a column (right), removed again from the result.
  const bool a_vec = a_in->ndim() == 1, b_vec = b_in->ndim() == 1;
  TensorPtr a = a_vec ? make_view(a_in, {1, a_in->shape()[0]}, {0, a_in->strides()[0]}, a_in->offset()) : a_in;
  TensorPtr b = b_vec ? make_view(b_in, {b_in->shape()[0], 1}, {b_in->strides()[0], 0}, b_in->offset()) : b_in;
  const std::int64_t n = a->shape()[a->ndim() - 2], k = a->shape()[a->ndim() - 1];
  const std::int64_t k2 = b->shape()[b->ndim() - 2], m = b->shape()[b->ndim() - 1];
  if (k != k2) {
    throw std::runtime_error("matmul: shapes " + shape_str(a_in->shape()) + " and " + shape_str(b_in->shape()) +
                             " cannot be multiplied (" + matrix_str(n, k) + " and " + matrix_str(k2, m) + ")");
  }
  const Shape a_batch(a->shape().begin(), a->shape().end() - 2);
  const Shape b_batch(b->shape().begin(), b->shape().end() - 2);
  const Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(n);
  out_shape.push_back(m);
  TensorPtr out = empty(out_shape, a->dtype(), device);

  // batch strides of a and b, broadcast (0 on expanded dims)
  auto batch_strides = [&](const TensorPtr& t) {
    Shape s(batch.size(), 0);
    const std::size_t tb = static_cast<std::size_t>(t->ndim() - 2);
    const std::size_t lead = batch.size() - tb;
    for (std::size_t d = 0; d < tb; ++d) s[lead + d] = t->shape()[d] == 1 ? 0 : t->strides()[d];
    return s;
  };
  const Shape as = batch_strides(a), bs = batch_strides(b);
  const std::int64_t batches = shape_numel(batch);
  std::vector<std::int64_t> index(batch.size(), 0);
  for (std::int64_t i = 0; i < batches; ++i) {
    TensorPtr am = batch_matrix(a, batch, as, index);
    TensorPtr bm = batch_matrix(b, batch, bs, index);
    TensorPtr om = make_view(out, {n, m}, {m, 1}, i * n * m);
    dispatch(a->dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, bool>) gemm<T>(am, bm, om);
    });
    for (std::int64_t d = static_cast<std::int64_t>(batch.size()) - 1; d >= 0; --d) {
      if (++index[d] < batch[d]) break;
      index[d] = 0;
    }
  }
  if (a_vec || b_vec) {
    Shape final_shape = batch;
    if (!a_vec) final_shape.push_back(n);
    if (!b_vec) final_shape.push_back(m);
    return make_view(out, final_shape, contiguous_strides(final_shape), 0);
  }
  return out;
}

}  // namespace chaingrad
