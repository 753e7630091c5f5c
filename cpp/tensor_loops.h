// Strided iteration and dtype dispatch shared by the tensor kernels.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "tensor.h"

namespace chaingrad {

/// Calls f with a value of the C++ type of dtype (bool, int64_t, float, double).
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool: return f(bool{});
    case DType::Int64: return f(std::int64_t{});
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
  }
  throw std::logic_error("unknown dtype");
}

/// The strides that view t at shape `out` by broadcasting: right-aligned, 0 where t has size 1
/// or no dim. The caller has checked that t broadcasts to out.
inline Shape broadcast_strides(const TensorImpl& t, const Shape& out) {
  Shape strides(out.size(), 0);
  const std::size_t lead = out.size() - t.shape().size();
  for (std::size_t d = 0; d < t.shape().size(); ++d) {
    strides[lead + d] = t.shape()[d] == 1 ? 0 : t.strides()[d];
  }
  return strides;
}

/// Walks every index of shape in row-major order, one run along the last dim at a time:
/// run(offsets, inner_strides, length), where offsets[k] is operand k's element offset at the start
/// of the run and inner_strides[k] its stride along the last dim.
template <std::size_t N, class Run>
void for_each_run(const Shape& shape, const std::array<const std::int64_t*, N>& strides, Run&& run) {
  const std::int64_t total = shape_numel(shape);
  if (total == 0) return;
  std::array<std::int64_t, N> offsets{};
  std::array<std::int64_t, N> inner{};
  const std::int64_t nd = static_cast<std::int64_t>(shape.size());
  if (nd == 0) {
    run(offsets, inner, std::int64_t{1});
    return;
  }
  const std::int64_t length = shape[nd - 1];
  for (std::size_t k = 0; k < N; ++k) inner[k] = strides[k][nd - 1];
  std::vector<std::int64_t> index(static_cast<std::size_t>(nd), 0);
  for (std::int64_t done = 0; done < total; done += length) {
    run(offsets, inner, length);
    for (std::int64_t d = nd - 2; d >= 0; --d) {
      for (std::size_t k = 0; k < N; ++k) offsets[k] += strides[k][d];
      if (++index[d] < shape[d]) break;
      for (std::size_t k = 0; k < N; ++k) offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace chaingrad
