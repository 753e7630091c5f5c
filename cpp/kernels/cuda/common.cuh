// What every CUDA kernel file shares: error checks, the device guard, launch sizes and the strided
// index calculator. Host code here throws std::runtime_error, which the bindings turn into
// Python's RuntimeError.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/backend.h"
#include "kernels/loops.h"  // dispatch(): dtype to C++ type, shared with the CPU kernels

namespace chaingrad::cuda {

/// Throws naming the CUDA error and the call that returned it.
inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the process stays usable
  throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorName(status) + ": " +
                           cudaGetErrorString(status));
}
#define CG_CUDA_CHECK(call) ::chaingrad::cuda::check((call), #call)
/// Checks that the kernel launch just queued was accepted (bad configuration, no image for this GPU).
#define CG_CHECK_LAUNCH(name) ::chaingrad::cuda::check(cudaGetLastError(), name)

/// Makes `index` the current device for the guard's lifetime (kernels and allocations go to the
/// current device), restoring the previous one after.
class DeviceGuard {
 public:
  explicit DeviceGuard(int index) {
    CG_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != index) CG_CUDA_CHECK(cudaSetDevice(index));
    changed_ = previous_ != index;
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;
  ~DeviceGuard() {
    if (changed_) cudaSetDevice(previous_);
  }

 private:
  int previous_ = 0;
  bool changed_ = false;
};

/// The stream every kernel goes to: the device's legacy default stream, which orders chaingrad's
/// kernels among themselves and with other libraries' blocking streams (PyTorch's default too).
inline cudaStream_t stream() { return cudaStreamLegacy; }

constexpr int kThreads = 256;

/// Blocks for a grid-stride loop over n elements: enough to fill the GPU, no more.
inline unsigned blocks_for(std::int64_t n) {
  const std::int64_t wanted = (n + kThreads - 1) / kThreads;
  const std::int64_t cap = 65535LL * 8;  // grid-stride loops take the rest
  return static_cast<unsigned>(wanted < 1 ? 1 : (wanted > cap ? cap : wanted));
}

/// The most dims an elementwise or reduction kernel walks after merging contiguous runs of dims.
constexpr int kMaxDims = 16;

/// Element offsets of N operands (std::array is host-only in device code).
template <int N>
struct Offsets {
  std::int64_t v[N];
  __host__ __device__ std::int64_t operator[](int k) const { return v[k]; }
};

/// Maps a linear output index to the element offsets of N operands. Host code builds it from the
/// output shape and each operand's strides, merging dims that every operand walks contiguously, so
/// a contiguous tensor of any rank costs one division per element or none.
template <int N>
struct StridedIndex {
  int ndim = 0;
  std::int64_t sizes[kMaxDims] = {};
  std::int64_t strides[N][kMaxDims] = {};

  __host__ __device__ Offsets<N> offsets(std::int64_t linear) const {
    Offsets<N> off{};
    if (ndim == 1) {  // contiguous and single-dim walks (the common case): no division
      for (int k = 0; k < N; ++k) off.v[k] = linear * strides[k][0];
      return off;
    }
    for (int d = ndim - 1; d >= 0; --d) {
      const std::int64_t size = sizes[d];
      const std::int64_t i = linear % size;
      linear /= size;
      for (int k = 0; k < N; ++k) off.v[k] += i * strides[k][d];
    }
    return off;
  }
};

/// Builds a StridedIndex over shape for operands with the given strides (one Shape each).
template <int N>
StridedIndex<N> make_index(const Shape& shape, const std::array<const Shape*, N>& operand_strides) {
  StridedIndex<N> index;
  // Walk from the innermost dim, merging dim d into the run after it when every operand steps
  // across the boundary exactly as one longer dim would.
  std::int64_t sizes[kMaxDims];
  std::int64_t strides[N][kMaxDims];
  int nd = 0;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    const std::int64_t size = shape[d];
    if (size == 1) continue;  // a size-1 dim never moves any offset
    bool merge = nd > 0;
    for (int k = 0; k < N && merge; ++k) {
      merge = (*operand_strides[k])[d] == strides[k][nd - 1] * sizes[nd - 1];
    }
    if (merge) {
      sizes[nd - 1] *= size;
      continue;
    }
    if (nd == kMaxDims) {
      throw std::runtime_error("CUDA kernels walk at most " + std::to_string(kMaxDims) +
                               " non-mergeable dims; got a tensor of shape " + shape_str(shape) +
                               " (call .contiguous() first)");
    }
    sizes[nd] = size;
    for (int k = 0; k < N; ++k) strides[k][nd] = (*operand_strides[k])[d];
    ++nd;
  }
  index.ndim = nd;
  for (int d = 0; d < nd; ++d) {  // stored outermost first
    index.sizes[d] = sizes[nd - 1 - d];
    for (int k = 0; k < N; ++k) index.strides[k][d] = strides[k][nd - 1 - d];
  }
  return index;
}

}  // namespace chaingrad::cuda
