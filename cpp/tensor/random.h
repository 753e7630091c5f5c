// The CPU random generator and the random factories (see Note [random generator]).
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace chaingrad {

/// Reseeds the process's CPU generator.
void manual_seed_cpu(std::uint64_t seed);
/// Uniform [0, 1) (normal false) or standard normal samples of the given shape and dtype.
TensorPtr random_tensor(const Shape& shape, DType dtype, bool normal, const Device& device);
/// Integers drawn uniformly from [low, high) as int64.
TensorPtr randint(std::int64_t low, std::int64_t high, const Shape& shape, const Device& device);

}  // namespace chaingrad
