// Python's t[key] and t[key] = value for tensors (every key PyTorch takes), and the index ops'
// bindings.
#pragma once

#include <pybind11/pybind11.h>

#include "tensor/tensor.h"

namespace chaingrad {

/// t[key]: integers, slices, None, Ellipsis, bool and integer tensors, (nested) lists, ranges and
/// ndarrays, alone or in a tuple, with PyTorch's rules.
TensorPtr index_by_key(const TensorPtr& t, PyObject* key);
/// t[key] = value, recorded by autograd when t or value requires grad. value_is_number: value came
/// from a Python number (converted to t's dtype; a tensor written through an integer or bool
/// tensor index must have t's dtype, as in PyTorch).
void assign_by_key(const TensorPtr& t, PyObject* key, const TensorPtr& value, bool value_is_number);

/// Adds the index ops (gather, scatter, index_select, nonzero, ...) to the module.
void bind_indexing(pybind11::module_& m);

}  // namespace chaingrad
