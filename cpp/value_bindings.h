// Python face of the scalar engine: the Value type and the fused neuron and layer calls.
#pragma once

#include <pybind11/pybind11.h>

namespace chaingrad {

/// Adds Value, neuron() and dense_layer() to the module.
void bind_value(pybind11::module_& m);

}  // namespace chaingrad
