// Random numbers on the GPU: a counter-based Philox4x32-10 generator, so every value depends only
// on (seed, counter) and no per-thread state is kept; uniform, normal and integer fills.
#include <mutex>
#include <type_traits>
#include <utility>

#include "kernels/cuda/common.cuh"

namespace chaingrad::cuda {
namespace {

// Note [CUDA generator]
// One generator for the process, as PyTorch's default generator: manual_seed() must make every
// later factory call reproducible. PyTorch keeps one per device; a single state shared by all
// devices is enough here (manual_seed resets them all anyway), it only means that drawing on one
// device moves the values later drawn on another. The state is (seed, offset): each call takes
// the next `offset` Philox counters, one per block of four 32-bit words, under the mutex (calls
// may come from several host threads).
struct Generator {
  std::mutex mutex;
  std::uint64_t seed = 0x5eed;
  std::uint64_t offset = 0;
};

Generator& generator() {
  static Generator state;
  return state;
}

/// The seed and the first of `blocks` counters reserved for one call.
std::pair<std::uint64_t, std::uint64_t> reserve(std::uint64_t blocks) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  const std::pair<std::uint64_t, std::uint64_t> taken{g.seed, g.offset};
  g.offset += blocks;
  return taken;
}

__host__ __device__ inline std::uint32_t mulhi(std::uint32_t a, std::uint32_t b) {
#ifdef __CUDA_ARCH__
  return __umulhi(a, b);
#else
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(a) * b) >> 32);
#endif
}

struct Words {
  std::uint32_t w[4];
};

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", Random123's
/// philox4x32_R(10, ...)) of the 128-bit counter (counter, 0) under the 64-bit key seed.
__host__ __device__ inline Words philox(std::uint64_t counter, std::uint64_t seed) {
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = 0, c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {  // the key is bumped between rounds
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const std::uint32_t lo0 = 0xD2511F53u * c0, hi0 = mulhi(0xD2511F53u, c0);
    const std::uint32_t lo1 = 0xCD9E8D57u * c2, hi1 = mulhi(0xCD9E8D57u, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  return {{c0, c1, c2, c3}};
}

__device__ inline std::uint64_t join(std::uint32_t hi, std::uint32_t lo) {
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

/// [0, 1) from the top 24 bits (every float32 step is exact) or the top 53 bits of 64.
__device__ inline float uniform_float(std::uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
__device__ inline double uniform_double(std::uint64_t x) {
  return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);
}

/// Values one Philox block gives: one 32-bit word per float32, two per float64 or int64.
template <class T>
constexpr int kPerBlock = sizeof(T) == 4 ? 4 : 2;

/// Fills the kPerBlock values of block b; value i of the output always comes from counter
/// offset + i / kPerBlock, whatever the launch configuration.
template <class T, class Make>
__device__ inline void for_each_block(T* out, std::int64_t n, std::uint64_t seed, std::uint64_t offset, Make make) {
  constexpr int per = kPerBlock<T>;
  const std::int64_t blocks = (n + per - 1) / per;
  for (std::int64_t b = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; b < blocks;
       b += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    T values[per];
    make(philox(offset + static_cast<std::uint64_t>(b), seed), values);
    const std::int64_t first = b * per;
#pragma unroll
    for (int q = 0; q < per; ++q) {
      if (first + q < n) out[first + q] = values[q];
    }
  }
}

template <class T>
__global__ void uniform_kernel(T* out, std::int64_t n, std::uint64_t seed, std::uint64_t offset) {
  for_each_block(out, n, seed, offset, [](const Words& r, T* v) {
    if constexpr (std::is_same_v<T, float>) {
      for (int q = 0; q < 4; ++q) v[q] = uniform_float(r.w[q]);
    } else {
      v[0] = uniform_double(join(r.w[0], r.w[1]));
      v[1] = uniform_double(join(r.w[2], r.w[3]));
    }
  });
}

/// Box-Muller on (u1, u2) with u1 in (0, 1], so the log is finite: two N(0, 1) values.
__device__ inline void box_muller(float u1, float u2, float* v) {
  const float r = sqrtf(-2.0f * logf(u1));
  float s, c;
  sincospif(2.0f * u2, &s, &c);
  v[0] = r * c;
  v[1] = r * s;
}
__device__ inline void box_muller(double u1, double u2, double* v) {
  const double r = sqrt(-2.0 * log(u1));
  double s, c;
  sincospi(2.0 * u2, &s, &c);
  v[0] = r * c;
  v[1] = r * s;
}

template <class T>
__global__ void normal_kernel(T* out, std::int64_t n, std::uint64_t seed, std::uint64_t offset) {
  for_each_block(out, n, seed, offset, [](const Words& r, T* v) {
    if constexpr (std::is_same_v<T, float>) {
      box_muller(1.0f - uniform_float(r.w[0]), uniform_float(r.w[1]), v);
      box_muller(1.0f - uniform_float(r.w[2]), uniform_float(r.w[3]), v + 2);
    } else {
      box_muller(1.0 - uniform_double(join(r.w[0], r.w[1])), uniform_double(join(r.w[2], r.w[3])), v);
    }
  });
}

/// low + (64 random bits mod range). The modulo favours the first 2^64 mod range values by one
/// part in 2^64 / range: negligible unless range approaches 2^64.
__global__ void randint_kernel(std::int64_t* out, std::int64_t n, std::uint64_t seed, std::uint64_t offset,
                               std::int64_t low, std::uint64_t range) {
  for_each_block(out, n, seed, offset, [=](const Words& r, std::int64_t* v) {
    // unsigned arithmetic wraps; the result is in [low, high), so the conversion back is exact
    v[0] = static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + join(r.w[0], r.w[1]) % range);
    v[1] = static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + join(r.w[2], r.w[3]) % range);
  });
}

template <class T>
std::uint64_t blocks_needed(std::int64_t n) {
  return static_cast<std::uint64_t>((n + kPerBlock<T> - 1) / kPerBlock<T>);
}

}  // namespace

void manual_seed(std::uint64_t seed) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.offset = 0;
}

void random(const TensorImpl& out, bool normal) {
  if (!is_floating(out.dtype())) throw std::runtime_error("random floats need a floating point dtype");
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device().index);
  dispatch(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const std::uint64_t blocks = blocks_needed<T>(n);
      const auto [seed, offset] = reserve(blocks);
      T* o = reinterpret_cast<T*>(out.data());
      const unsigned grid = blocks_for(static_cast<std::int64_t>(blocks));
      if (normal) {
        normal_kernel<T><<<grid, kThreads, 0, stream()>>>(o, n, seed, offset);
        CG_CHECK_LAUNCH("normal_kernel");
      } else {
        uniform_kernel<T><<<grid, kThreads, 0, stream()>>>(o, n, seed, offset);
        CG_CHECK_LAUNCH("uniform_kernel");
      }
    }
  });
}

void randint(const TensorImpl& out, std::int64_t low, std::int64_t high) {
  if (high <= low) {
    throw std::runtime_error("random_ expects 'from' to be less than 'to', but got from=" + std::to_string(low) +
                             " >= to=" + std::to_string(high));
  }
  if (out.dtype() != DType::Int64) throw std::logic_error("cuda::randint: expected an int64 output");
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device().index);
  const std::uint64_t range = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);  // >= 1
  const std::uint64_t blocks = blocks_needed<std::int64_t>(n);
  const auto [seed, offset] = reserve(blocks);
  randint_kernel<<<blocks_for(static_cast<std::int64_t>(blocks)), kThreads, 0, stream()>>>(
      reinterpret_cast<std::int64_t*>(out.data()), n, seed, offset, low, range);
  CG_CHECK_LAUNCH("randint_kernel");
}

}  // namespace chaingrad::cuda
