#include <climits>
#include <stdexcept>
#include <string>

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
    if (n > INT_MAX || m > INT_MAX || k > INT_MAX) {
      throw std::runtime_error("matmul: matrices larger than 2^31 rows or columns are not supported");
    }
    const BlasMatrix A = blas_view(a), B = blas_view(b);
    GilRelease unlocked(n * m * k >= kParallelGrain);
    blas_gemm<T>(A.transposed, B.transposed, int(n), int(m), int(k), A.owner->data_as<T>(), int(A.ld),
                 B.owner->data_as<T>(), int(B.ld), T(beta), out->data_as<T>(), int(m));
  } else {  // int64: no BLAS; a plain i-k-j loop
    const T* pa = a->data_as<T>();
    const T* pb = b->data_as<T>();
    T* pc = out->data_as<T>();
    const std::int64_t as0 = a->strides()[0], as1 = a->strides()[1];
    const std::int64_t bs0 = b->strides()[0], bs1 = b->strides()[1];
    for (std::int64_t i = 0; i < n; ++i) {
      if (beta == 0.0) {
        for (std::int64_t j = 0; j < m; ++j) pc[i * m + j] = 0;
      }
      for (std::int64_t p = 0; p < k; ++p) {
        const T av = pa[i * as0 + p * as1];
        for (std::int64_t j = 0; j < m; ++j)
          pc[i * m + j] = wrapping_add(pc[i * m + j], wrapping_mul(av, pb[p * bs0 + j * bs1]));
      }
    }
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
  const Device device = common_device("addmm", {bias.get(), a.get(), b.get()});
  TensorPtr out = empty({a->shape()[0], b->shape()[1]}, a->dtype(), device);
  if (bias) copy_into(out, bias);  // broadcast the bias over the rows, then accumulate into it
  dispatch(a->dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) gemm<T>(a, b, out, bias ? 1.0 : 0.0);
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
