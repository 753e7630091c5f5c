// The random half of chaingrad._core: the Generator type and the samplers.
#pragma once

#include <pybind11/pybind11.h>

namespace chaingrad {

/// Adds GeneratorBase and the random functions (each takes its generator) to the module.
void bind_random(pybind11::module_& m);

}  // namespace chaingrad
