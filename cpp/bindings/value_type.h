// The Python type Value: a CPython object wrapping one scalar graph node.
#pragma once

#include <pybind11/pybind11.h>

#include "scalar/ops.h"

namespace chaingrad {

/// Creates the Value type and adds it to module m.
void add_value_type(pybind11::module_& m);

/// The node held by h when h is a Value (or an instance of a subclass), else nullptr.
const ScalarPtr* value_holder(pybind11::handle h);

/// The node held by o when o is exactly a Value (not a subclass), else nullptr: the cheapest check.
const ScalarPtr* exact_value_holder(PyObject* o);

/// The Python Value for node: the object already wrapping it if there is one, else a new one.
pybind11::object wrap_value(const ScalarPtr& node);

}  // namespace chaingrad
