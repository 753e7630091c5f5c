// Fused forward passes for micrograd's Neuron, Layer and MLP: one C++ call instead of 2n ops each.
#pragma once

#include <pybind11/pybind11.h>

namespace chaingrad {

/// Adds neuron(), dense_layer() and mlp_forward() to the module.
void bind_neurons(pybind11::module_& m);

}  // namespace chaingrad
