// Tensors made from numbers: filled, ranges and evenly spaced points.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace chaingrad {

/// A tensor of shape filled with value.
TensorPtr full(const Shape& shape, double value, DType dtype, const Device& device);
/// start, start + step, ... up to (not including) end, as PyTorch's arange.
TensorPtr arange(double start, double end, double step, DType dtype);
/// steps evenly spaced points from start to end, both included.
TensorPtr linspace(double start, double end, std::int64_t steps, DType dtype);

}  // namespace chaingrad
