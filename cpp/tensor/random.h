// Random generators and the distributions drawn from them (see Note [random generator]).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "tensor/tensor.h"

namespace chaingrad {

/// A Mersenne Twister (mt19937) whose draws, seeded alike, equal PyTorch's CPU generator's, with
/// the cached second Box-Muller sample PyTorch keeps. A mutex guards it: lock mutex() around any
/// sequence of draws (the tensor functions below do).
class Generator {
 public:
  /// PyTorch's seed for a new torch.Generator().
  static constexpr std::uint64_t kDefaultSeed = 67280421310721ULL;
  /// Bytes of get_state(): PyTorch's CPU state layout, so states move between the two.
  static constexpr std::size_t kStateBytes = 5056;

  explicit Generator(std::uint64_t seed = kDefaultSeed) { reseed(seed); }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  /// Restarts the stream from seed (its low 32 bits seed the twister; initial_seed keeps all 64).
  void manual_seed(std::uint64_t seed);
  /// Seeds from the operating system's entropy; returns the seed.
  std::uint64_t seed();
  std::uint64_t initial_seed() const;
  /// The whole state, kStateBytes bytes.
  std::vector<std::uint8_t> get_state() const;
  /// Restores a state from get_state(); std::runtime_error for a wrong size or a corrupt state.
  void set_state(const std::uint8_t* data, std::size_t nbytes);

  std::mutex& mutex() const { return mutex_; }

  // --- draws: the caller holds mutex() -------------------------------------------------------
  /// The next 32-bit output of the twister.
  std::uint32_t random32();
  /// Two 32-bit outputs, the first as the high half.
  std::uint64_t random64();
  /// Uniform [0, 1) float from the low 24 bits of one 32-bit draw.
  float uniform_float() { return static_cast<float>(random32() & 0xFFFFFFu) * (1.0f / 16777216.0f); }
  /// Uniform [0, 1) double from the low 53 bits of a 64-bit draw.
  double uniform_double() {
    return static_cast<double>(random64() & ((std::uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
  }
  /// A standard normal double: Box-Muller on two uniform doubles, the second value kept for the
  /// next call.
  double normal_double();

 private:
  void reseed(std::uint64_t seed);
  void twist();

  static constexpr int kN = 624;
  std::uint64_t initial_seed_ = 0;
  int left_ = 1;  // draws until the next twist, plus one
  int next_ = 0;  // index of the next word of state_
  std::uint32_t state_[kN] = {};
  bool normal_cached_ = false;
  double normal_next_ = 0.0;
  mutable std::mutex mutex_;
};

// --- in-place fills (the tensor's elements in memory order, as PyTorch's CPU kernels) --------
/// U(from, to) in a floating tensor.
void uniform_(const TensorPtr& t, double from, double to, Generator& gen);
/// N(mean, std^2) in a floating tensor.
void normal_(const TensorPtr& t, double mean, double std, Generator& gen);
/// Integers uniform in [low, low + range) (any dtype; range up to 2^64 - 1, so the whole int64 span fits).
void random_from_to_(const TensorPtr& t, std::int64_t low, std::uint64_t range, Generator& gen);
/// Exponential samples of rate lambd in a floating tensor.
void exponential_(const TensorPtr& t, double lambd, Generator& gen);
/// 1 with probability p, else 0.
void bernoulli_(const TensorPtr& t, double p, Generator& gen);
/// 1 with probability p[i] (p broadcast to t's shape), else 0.
void bernoulli_tensor_(const TensorPtr& t, const TensorPtr& p, Generator& gen);

// --- factories and samplers ------------------------------------------------------------------
/// Uniform [0, 1) (normal false) or standard normal samples of the given shape and dtype.
TensorPtr random_tensor(const Shape& shape, DType dtype, bool normal, const Device& device, Generator& gen);
/// Integers drawn uniformly from [low, high) in the given dtype.
TensorPtr randint(std::int64_t low, std::int64_t high, const Shape& shape, DType dtype, const Device& device,
                  Generator& gen);
/// The mask dropout multiplies by: 0 where dropped, 1/(1-p) where kept, in input's dtype and layout.
TensorPtr dropout_noise(const TensorPtr& input, double p, Generator& gen);
/// A random permutation of 0..n-1.
TensorPtr randperm(std::int64_t n, DType dtype, const Device& device, Generator& gen);
/// num_samples category indices per row of probs (1-D or 2-D, unnormalised weights).
TensorPtr multinomial(const TensorPtr& probs, std::int64_t num_samples, bool replacement, Generator& gen);

}  // namespace chaingrad
