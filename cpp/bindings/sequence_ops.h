// The bindings of the sort, scan and count ops (tensor/sequence_ops.h).
#pragma once

#include <pybind11/pybind11.h>

namespace chaingrad {

/// Adds sort, topk, cumsum, cumprod, unique, bincount and histogram to the module.
void bind_sequence_ops(pybind11::module_& m);

}  // namespace chaingrad
