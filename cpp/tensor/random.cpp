#include "tensor/random.h"

#include <cmath>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/backend.h"
#include "kernels/kernels.h"

namespace chaingrad {

// Note [random generator]
// One generator per process, as PyTorch's default CPU generator: manual_seed() must make every
// later factory call reproducible. Normal samples use Box-Muller on the 64-bit Mersenne Twister
// so the numbers are the same on every platform (std::normal_distribution is not).
namespace {

std::mt19937_64& generator() {
  static std::mt19937_64 engine(0x5eed);
  return engine;
}

double uniform01() { return (generator()() >> 11) * (1.0 / 9007199254740992.0); }

}  // namespace

void manual_seed_cpu(std::uint64_t seed) { generator().seed(seed); }

TensorPtr random_tensor(const Shape& shape, DType dtype, bool normal, const Device& device) {
  if (!is_floating(dtype)) throw std::runtime_error("random floats need a floating point dtype");
  TensorPtr out = empty(shape, dtype, device);
  if (device.is_cuda()) {  // the device's own generator (Note [random generator])
    cuda::random(*out, normal);
    return out;
  }
  const std::int64_t n = out->numel();
  std::vector<double> values(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; i += 2) {
    if (!normal) {
      values[i] = uniform01();
      if (i + 1 < n) values[i + 1] = uniform01();
      continue;
    }
    const double u1 = 1.0 - uniform01(), u2 = uniform01();
    const double r = std::sqrt(-2.0 * std::log(u1));
    values[i] = r * std::cos(2 * M_PI * u2);
    if (i + 1 < n) values[i + 1] = r * std::sin(2 * M_PI * u2);
  }
  TensorPtr src =
      make_ref<TensorImpl>(std::make_shared<Storage>(values.data(), values.size() * sizeof(double), nullptr),
                           DType::Float64, shape, contiguous_strides(shape), 0);
  copy_into(out, src);
  return out;
}

TensorPtr randint(std::int64_t low, std::int64_t high, const Shape& shape, const Device& device) {
  if (high <= low) {
    throw std::runtime_error("random_ expects 'from' to be less than 'to', but got from=" + std::to_string(low) +
                             " >= to=" + std::to_string(high));
  }
  TensorPtr out = empty(shape, DType::Int64, device);
  if (device.is_cuda()) {
    cuda::randint(*out, low, high);
    return out;
  }
  std::uniform_int_distribution<std::int64_t> pick(low, high - 1);
  std::int64_t* p = out->data_as<std::int64_t>();
  for (std::int64_t i = 0; i < out->numel(); ++i) p[i] = pick(generator());
  return out;
}

}  // namespace chaingrad
