// The fused optimizer steps as functions of chaingrad._core.
#pragma once

#include <pybind11/pybind11.h>

namespace chaingrad {

/// Adds sgd_step, rmsprop_step and adam_step to the module.
void bind_optim(pybind11::module_& m);

}  // namespace chaingrad
