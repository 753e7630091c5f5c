// Tensors over numpy memory and numpy arrays over tensor memory.
#pragma once

#include <pybind11/numpy.h>

#include <optional>

#include "tensor/tensor.h"

namespace chaingrad {

/// When from_numpy copies: always (chaingrad.tensor), when the array cannot be shared (as_tensor,
/// operands; a read-only array is copied in every mode), or never (from_numpy: such arrays raise).
enum class NumpyCopy { Always, IfNeeded, Never };

/// The chaingrad dtype of a numpy dtype; none for the types chaingrad lacks (uint16, uint32,
/// uint64, longdouble, complex, ...).
std::optional<DType> dtype_of_numpy(const pybind11::dtype& dt);

/// A tensor over the array's memory (kept alive by the tensor), or over a copy as `mode` says.
/// Arrays the kernels cannot read in place (non-native byte order, data not aligned to its
/// elements) cannot be shared; bool arrays holding bytes other than 0 and 1 are normalised into a
/// copy. TypeError for dtypes chaingrad lacks.
TensorPtr from_numpy(pybind11::array array, NumpyCopy mode);

/// An ndarray over the tensor's memory (which it keeps alive); TypeError for bfloat16, which numpy
/// lacks.
pybind11::array to_numpy(const TensorPtr& t);

}  // namespace chaingrad
