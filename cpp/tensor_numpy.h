// Tensors over numpy memory and numpy arrays over tensor memory.
#pragma once

#include <pybind11/numpy.h>

#include "tensor.h"

namespace chaingrad {

/// A tensor over the array's memory (kept alive by the tensor), or over a copy when `copy` or when
/// the array is read-only. TypeError for dtypes other than float32/64, int64 and bool.
TensorPtr from_numpy(pybind11::array array, bool copy);

/// An ndarray over the tensor's memory (which it keeps alive).
pybind11::array to_numpy(const TensorPtr& t);

}  // namespace chaingrad
