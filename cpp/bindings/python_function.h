// autograd.Function: gradient nodes whose rule is a Python callable.
#pragma once

#include <pybind11/pybind11.h>

namespace chaingrad {

/// Adds _core.function_attach, which makes tensors the outputs of a Python-defined backward.
void bind_python_function(pybind11::module_& m);

}  // namespace chaingrad
