// Reductions on the GPU: sum over a set of dims and max/min along one dim with its index, with
// the CPU's results (double/int64 accumulation, NaN wins, first index on ties).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/cuda/common.cuh"

namespace chaingrad::cuda {
namespace {

/// A reduction is "long" from this many terms: one block then shares each output.
constexpr std::int64_t kLongReduction = 1024;
constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
static_assert(kThreads % kWarp == 0 && kThreads <= 1024, "block_reduce needs whole warps");

/// Blocks for a one-block-per-output kernel (a grid-stride loop takes the rest).
unsigned blocks_per_output(std::int64_t outputs) {
  return static_cast<unsigned>(std::min<std::int64_t>(std::max<std::int64_t>(outputs, 1), 65535LL * 8));
}

int sm_count(int device) {
  int sms = 0;
  CG_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

/// Offset of term j of a reduction: a single dim (the common case) needs no division.
__device__ inline std::int64_t inner_offset(const StridedIndex<1>& inner, std::int64_t j) {
  if (inner.ndim == 1) return j * inner.strides[0][0];
  return inner.offsets(j)[0];
}

// Warp shuffles exist for 32/64-bit scalars; bool and int64 go through int and long long so the
// overload is never ambiguous.
template <class V>
__device__ inline V shfl_down(V v, int delta) {
  if constexpr (std::is_same_v<V, bool>) {
    return __shfl_down_sync(kFullMask, static_cast<int>(v), delta) != 0;
  } else if constexpr (std::is_same_v<V, std::int64_t>) {
    return static_cast<std::int64_t>(__shfl_down_sync(kFullMask, static_cast<long long>(v), delta));
  } else {
    return __shfl_down_sync(kFullMask, v, delta);
  }
}

/// A candidate of max_along's block reduction; index < 0 marks "no element yet". No member
/// initializers: it lives in __shared__ memory.
template <class T>
struct Best {
  T value;
  std::int64_t index;
};

template <class T>
__device__ inline Best<T> shfl_down(Best<T> b, int delta) {
  return {shfl_down(b.value, delta), shfl_down(b.index, delta)};
}

/// Reduces v over the block with combine (associative; the order is fixed by the thread layout,
/// so results are deterministic). The result is valid in thread 0 only. Every thread of the block
/// must call it; shared holds one V per warp.
template <class V, class Combine>
__device__ V block_reduce(V v, V identity, Combine combine, V* shared) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  // A lane whose partner is past the warp gets its own value back and combines a duplicate; only
  // lane 0's result is used, and its chain never reads past the warp.
  for (int delta = kWarp / 2; delta > 0; delta /= 2) v = combine(v, shfl_down(v, delta));
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x / kWarp) ? shared[lane] : identity;
    for (int delta = kWarp / 2; delta > 0; delta /= 2) v = combine(v, shfl_down(v, delta));
  }
  __syncthreads();  // the caller's next output reuses shared
  return v;
}

// --- sum --------------------------------------------------------------------------------------

// Integer sums accumulate in uint64: wrap-around is then defined, and the bits equal int64's
// two's-complement sum.
template <class T>
using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double, unsigned long long>;
template <class T>
using SumOut = std::conditional_t<std::is_floating_point_v<T>, T, std::int64_t>;

struct Plus {
  template <class V>
  __device__ V operator()(V a, V b) const {
    return a + b;
  }
};

/// One thread per output, summing its K terms in order.
template <class T>
__global__ void sum_per_thread(const T* in, SumOut<T>* out, StridedIndex<1> outer, StridedIndex<1> inner,
                               std::int64_t outputs, std::int64_t terms) {
  using Acc = SumAcc<T>;
  for (std::int64_t o = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; o < outputs;
       o += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const T* base = in + outer.offsets(o)[0];
    Acc acc = 0;
    for (std::int64_t j = 0; j < terms; ++j) acc += static_cast<Acc>(base[inner_offset(inner, j)]);
    out[o] = static_cast<SumOut<T>>(acc);
  }
}

/// One block per output: thread t sums terms t, t + blockDim, ..., then the block combines them.
template <class T>
__global__ void sum_per_block(const T* in, SumOut<T>* out, StridedIndex<1> outer, StridedIndex<1> inner,
                              std::int64_t outputs, std::int64_t terms) {
  using Acc = SumAcc<T>;
  __shared__ Acc shared[kThreads / kWarp];
  for (std::int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {  // uniform across the block
    const T* base = in + outer.offsets(o)[0];
    Acc acc = 0;
    for (std::int64_t j = threadIdx.x; j < terms; j += blockDim.x) {
      acc += static_cast<Acc>(base[inner_offset(inner, j)]);
    }
    acc = block_reduce(acc, Acc(0), Plus{}, shared);
    if (threadIdx.x == 0) out[o] = static_cast<SumOut<T>>(acc);
  }
}

// --- max / min along a dim --------------------------------------------------------------------

template <class T>
__device__ inline bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return isnan(v);
  else return false;
}

/// The CPU's scan step: whether candidate (seen later) replaces best. NaN wins and stays.
template <class T>
__device__ inline bool replaces(T candidate, T best, bool smallest) {
  if (is_nan(best)) return false;
  if (is_nan(candidate)) return true;
  return smallest ? candidate < best : candidate > best;
}

/// Picks the better of two candidates found in any order, so that the block's result equals the
/// CPU's left-to-right scan: the first NaN if any, else the extreme value at its first index
/// (values that compare equal, as -0.0 and 0.0, go to the lower index, as the scan keeps the first).
template <class T>
struct BetterOf {
  bool smallest;
  __device__ Best<T> operator()(const Best<T>& a, const Best<T>& b) const {
    if (a.index < 0) return b;
    if (b.index < 0) return a;
    const bool a_nan = is_nan(a.value), b_nan = is_nan(b.value);
    if (a_nan || b_nan) {
      if (a_nan && b_nan) return a.index < b.index ? a : b;
      return a_nan ? a : b;
    }
    if (smallest ? b.value < a.value : b.value > a.value) return b;
    if (smallest ? a.value < b.value : a.value > b.value) return a;
    return a.index < b.index ? a : b;
  }
};

/// One thread per row: the CPU's loop.
template <class T>
__global__ void max_per_thread(const T* in, T* values, std::int64_t* indices, StridedIndex<1> outer, std::int64_t rows,
                               std::int64_t length, std::int64_t stride, bool smallest) {
  for (std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const T* row = in + outer.offsets(r)[0];
    T best = row[0];
    std::int64_t best_i = 0;
    for (std::int64_t k = 1; k < length; ++k) {
      const T candidate = row[k * stride];
      if (replaces(candidate, best, smallest)) {
        best = candidate;
        best_i = k;
      }
    }
    values[r] = best;
    indices[r] = best_i;
  }
}

/// One block per row: each thread scans its strided share in increasing order with the CPU's
/// rule (so it holds its share's first NaN or first extreme), then BetterOf merges the shares.
template <class T>
__global__ void max_per_block(const T* in, T* values, std::int64_t* indices, StridedIndex<1> outer, std::int64_t rows,
                              std::int64_t length, std::int64_t stride, bool smallest) {
  __shared__ Best<T> shared[kThreads / kWarp];
  for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {  // uniform across the block
    const T* row = in + outer.offsets(r)[0];
    Best<T> best{T(0), -1};
    for (std::int64_t k = threadIdx.x; k < length; k += blockDim.x) {
      const T candidate = row[k * stride];
      if (best.index < 0 || replaces(candidate, best.value, smallest)) best = {candidate, k};
    }
    best = block_reduce(best, Best<T>{T(0), -1}, BetterOf<T>{smallest}, shared);
    if (threadIdx.x == 0) {
      values[r] = best.value;
      indices[r] = best.index;
    }
  }
}

}  // namespace

void sum(const TensorImpl& out, const TensorImpl& in, const std::vector<std::int64_t>& dims) {
  const std::int64_t outputs = out.numel();
  if (outputs == 0) return;
  const bool floating = is_floating(in.dtype());
  const DType expected = floating ? in.dtype() : DType::Int64;
  if (out.dtype() != expected) {
    throw std::logic_error(std::string("cuda::sum: expected a ") + dtype_name(expected) + " output, got " +
                           dtype_name(out.dtype()));
  }
  const int device = in.device().index;
  DeviceGuard guard(device);
  if (in.numel() == 0) {  // a sum of no terms; zero bytes are 0 in every output dtype
    CG_CUDA_CHECK(cudaMemsetAsync(out.data(), 0, static_cast<std::size_t>(outputs) * itemsize(out.dtype()), stream()));
    return;
  }
  const std::int64_t terms = in.numel() / outputs;

  // Split in's dims into the kept ones (walked by the output index) and the reduced ones (walked
  // by the term index), each with in's strides.
  const std::int64_t ndim = in.ndim();
  std::vector<bool> reduced(static_cast<std::size_t>(ndim), false);
  for (std::int64_t d : dims) {
    if (ndim == 0) break;  // dim 0 of a 0-d tensor reduces nothing
    if (d < 0 || d >= ndim) throw std::logic_error("cuda::sum: dim out of range");
    reduced[static_cast<std::size_t>(d)] = true;
  }
  Shape kept_shape, kept_strides, red_shape, red_strides;
  for (std::int64_t d = 0; d < ndim; ++d) {
    const auto u = static_cast<std::size_t>(d);
    (reduced[u] ? red_shape : kept_shape).push_back(in.shape()[u]);
    (reduced[u] ? red_strides : kept_strides).push_back(in.strides()[u]);
  }
  const StridedIndex<1> outer = make_index<1>(kept_shape, {&kept_strides});
  const StridedIndex<1> inner = make_index<1>(red_shape, {&red_strides});

  // Long sums (or too few outputs to fill the GPU one thread each) share each output over a block.
  // Either way every output's terms are added in an order fixed by the shapes and the device.
  const bool per_block = terms >= kLongReduction || (terms > 1 && outputs < 4LL * sm_count(device));
  dispatch(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = reinterpret_cast<const T*>(in.data());
    auto* o = reinterpret_cast<SumOut<T>*>(out.data());
    if (per_block) {
      sum_per_block<T><<<blocks_per_output(outputs), kThreads, 0, stream()>>>(x, o, outer, inner, outputs, terms);
      CG_CHECK_LAUNCH("sum_per_block");
    } else {
      sum_per_thread<T><<<blocks_for(outputs), kThreads, 0, stream()>>>(x, o, outer, inner, outputs, terms);
      CG_CHECK_LAUNCH("sum_per_thread");
    }
  });
}

void max_along(const TensorImpl& values, const TensorImpl& indices, const TensorImpl& in, std::int64_t dim,
               bool smallest) {
  const std::int64_t rows = values.numel();
  if (rows == 0) return;
  if (dim < 0 || dim >= in.ndim()) throw std::logic_error("cuda::max_along: dim out of range");
  const auto d = static_cast<std::size_t>(dim);
  const std::int64_t length = in.shape()[d], stride = in.strides()[d];
  if (length <= 0) throw std::logic_error("cuda::max_along: empty reduction dim");
  if (values.dtype() != in.dtype() || indices.dtype() != DType::Int64) {
    throw std::logic_error("cuda::max_along: unexpected output dtypes");
  }
  const int device = in.device().index;
  DeviceGuard guard(device);
  // The rows are walked over in's shape with dim set to 1, in output (row-major) order.
  Shape outer_shape = in.shape();
  outer_shape[d] = 1;
  const StridedIndex<1> outer = make_index<1>(outer_shape, {&in.strides()});
  const bool per_block = length >= kLongReduction || (length >= 64 && rows < 4LL * sm_count(device));
  dispatch(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = reinterpret_cast<const T*>(in.data());
    T* v = reinterpret_cast<T*>(values.data());
    auto* ix = reinterpret_cast<std::int64_t*>(indices.data());
    if (per_block) {
      max_per_block<T>
          <<<blocks_per_output(rows), kThreads, 0, stream()>>>(x, v, ix, outer, rows, length, stride, smallest);
      CG_CHECK_LAUNCH("max_per_block");
    } else {
      max_per_thread<T><<<blocks_for(rows), kThreads, 0, stream()>>>(x, v, ix, outer, rows, length, stride, smallest);
      CG_CHECK_LAUNCH("max_per_thread");
    }
  });
}

}  // namespace chaingrad::cuda
