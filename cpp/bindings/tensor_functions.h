// The tensor half of chaingrad._core.
#pragma once

#include <pybind11/pybind11.h>

namespace chaingrad {

/// Adds TensorBase, GradFn and the tensor functions to the module.
void bind_tensors(pybind11::module_& m);

}  // namespace chaingrad
