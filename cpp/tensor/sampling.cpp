// randperm and multinomial: samplers that draw indices (see Note [random generator]).
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "tensor/device.h"
#include "tensor/random.h"

namespace chaingrad {
namespace {

/// The largest n for which 0 .. n-1 are all exact in dtype.
std::int64_t largest_exact_count(DType dtype) {
  switch (dtype) {
    case DType::Int8:
      return std::int64_t{1} << 7;
    case DType::UInt8:
    case DType::BFloat16:  // 8 significant bits
      return std::int64_t{1} << 8;
    case DType::Float16:  // 11 significant bits
      return std::int64_t{1} << 11;
    case DType::Int16:
      return std::int64_t{1} << 15;
    case DType::Float32:
      return std::int64_t{1} << 24;
    case DType::Int32:
      return std::int64_t{1} << 31;
    default:
      return std::numeric_limits<std::int64_t>::max();
  }
}

}  // namespace

TensorPtr randperm(std::int64_t n, DType dtype, const Device& device, Generator& gen) {
  if (n < 0) throw std::runtime_error("randperm: n must be non-negative, got " + std::to_string(n));
  if (dtype == DType::Bool) throw std::runtime_error("randperm: bool is not a supported dtype");
  if (n > largest_exact_count(dtype)) {
    throw std::runtime_error(std::string("randperm: n is too large for ") + dtype_name(dtype) +
                             " to count exactly (n=" + std::to_string(n) + ")");
  }
  // a Fisher-Yates shuffle from the front: position i swaps with i + draw % (n - i)
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) perm[i] = i;
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    for (std::int64_t i = 0; i + 1 < n; ++i) {
      const std::uint64_t left = static_cast<std::uint64_t>(n - i);
      const std::uint64_t z = left > 0xFFFFFFFFull ? gen.random64() % left : gen.random32() % left;
      std::swap(perm[i], perm[i + static_cast<std::int64_t>(z)]);
    }
  }
  TensorPtr out = empty({n}, DType::Int64);
  std::copy(perm.begin(), perm.end(), out->data_as<std::int64_t>());
  if (dtype != DType::Int64) out = cast(out, dtype);  // exact: n was checked against the dtype above
  return device.is_cuda() ? to_device(out, device) : out;
}

namespace {

// One row's draws with replacement: the normalised running sum of the weights (in the weights'
// precision), searched for the first entry not below a double uniform.
template <class T>
void sample_with_replacement(const T* w, std::int64_t k, std::int64_t num_samples, std::int64_t* out, Generator& gen) {
  std::vector<T> cum(static_cast<std::size_t>(k));
  T total = 0;
  for (std::int64_t i = 0; i < k; ++i) cum[i] = total = total + w[i];
  for (std::int64_t i = 0; i < k; ++i) cum[i] = cum[i] / total;
  for (std::int64_t s = 0; s < num_samples; ++s) {
    const double u = gen.uniform_double();
    std::int64_t lo = 0, hi = k;
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      if (static_cast<double>(cum[mid]) < u) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    out[s] = std::min(lo, k - 1);
  }
}

// One row's draws without replacement, and PyTorch's way to draw a single sample with replacement
// too: the num_samples largest of w[i] / e[i], e exponential (drawn for the whole tensor
// beforehand), largest first.
template <class T>
void sample_without_replacement(const T* w, const T* e, std::int64_t k, std::int64_t num_samples, std::int64_t* out) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(k));
  std::vector<T> key(static_cast<std::size_t>(k));
  for (std::int64_t i = 0; i < k; ++i) {
    idx[i] = i;
    key[i] = w[i] / e[i];
  }
  std::partial_sort(idx.begin(), idx.begin() + num_samples, idx.end(),
                    [&](std::int64_t a, std::int64_t b) { return key[a] > key[b] || (key[a] == key[b] && a < b); });
  std::copy(idx.begin(), idx.begin() + num_samples, out);
}

template <class T>
void check_weights(const T* w, std::int64_t rows, std::int64_t k, bool replacement, std::int64_t num_samples) {
  for (std::int64_t r = 0; r < rows; ++r) {
    T total = 0;
    std::int64_t positive = 0;
    for (std::int64_t i = 0; i < k; ++i) {
      const T v = w[r * k + i];
      if (!std::isfinite(v) || v < 0) {
        throw std::runtime_error("multinomial: probability tensor contains either inf, nan or element < 0");
      }
      total += v;
      positive += v > 0;
    }
    if (!(total > 0)) {
      throw std::runtime_error("multinomial: invalid distribution (sum of probabilities <= 0) in row " +
                               std::to_string(r));
    }
    if (!replacement && positive < num_samples) {
      throw std::runtime_error("multinomial: row " + std::to_string(r) + " has " + std::to_string(positive) +
                               " categories of non-zero probability, fewer than the " + std::to_string(num_samples) +
                               " samples drawn without replacement");
    }
  }
}

template <class T>
TensorPtr multinomial_typed(const TensorPtr& weights, std::int64_t rows, std::int64_t k, std::int64_t num_samples,
                            bool replacement, Generator& gen) {
  const T* w = weights->data_as<T>();
  check_weights(w, rows, k, replacement, num_samples);
  TensorPtr out = empty({rows, num_samples}, DType::Int64);
  std::int64_t* o = out->data_as<std::int64_t>();
  if (replacement && num_samples > 1) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    for (std::int64_t r = 0; r < rows; ++r)
      sample_with_replacement(w + r * k, k, num_samples, o + r * num_samples, gen);
    return out;
  }
  TensorPtr e = empty({rows, k}, weights->dtype());
  exponential_(e, 1.0, gen);
  for (std::int64_t r = 0; r < rows; ++r) {
    sample_without_replacement(w + r * k, e->data_as<T>() + r * k, k, num_samples, o + r * num_samples);
  }
  return out;
}

}  // namespace

TensorPtr multinomial(const TensorPtr& probs, std::int64_t num_samples, bool replacement, Generator& gen) {
  if (probs->ndim() != 1 && probs->ndim() != 2) {
    throw std::runtime_error("multinomial: prob_dist must be 1 or 2 dim, got " + std::to_string(probs->ndim()) +
                             " dims");
  }
  if (!is_floating(probs->dtype())) {
    throw std::runtime_error(std::string("multinomial only supports floating-point dtypes for input, got ") +
                             dtype_name(probs->dtype()));
  }
  if (num_samples <= 0) {
    throw std::runtime_error("multinomial: cannot sample num_samples <= 0 samples (got " + std::to_string(num_samples) +
                             ")");
  }
  const std::int64_t k = probs->shape().back();
  const std::int64_t rows = probs->ndim() == 2 ? probs->shape()[0] : 1;
  if (k == 0) throw std::runtime_error("multinomial: the probability tensor has no categories");
  if (k > (std::int64_t{1} << 24)) throw std::runtime_error("multinomial: number of categories cannot exceed 2^24");
  if (!replacement && num_samples > k) {
    throw std::runtime_error("multinomial: cannot sample num_samples=" + std::to_string(num_samples) + " > " +
                             std::to_string(k) + " categories without replacement");
  }
  // a half type's weights are read in float32 (their values exactly)
  TensorPtr w = empty({rows, k}, compute_dtype(probs->dtype()));
  const TensorPtr src = probs->is_cuda() ? to_device(probs, Device{}) : probs;
  copy_into(w,
            make_view(src, {rows, k}, src->ndim() == 2 ? src->strides() : Shape{0, src->strides()[0]}, src->offset()));
  TensorPtr out = w->dtype() == DType::Float32 ? multinomial_typed<float>(w, rows, k, num_samples, replacement, gen)
                                               : multinomial_typed<double>(w, rows, k, num_samples, replacement, gen);
  if (probs->ndim() == 1) out = make_view(out, {num_samples}, {1}, 0);
  return probs->is_cuda() ? to_device(out, probs->device()) : out;
}

}  // namespace chaingrad
