// The Python type Value: a CPython object wrapping one scalar graph node.
#pragma once

#include <pybind11/pybind11.h>

#include "scalar/ops.h"

namespace chaingrad {

/// Creates the Value type and adds it to module m.
void add_value_type(pybind11::module_& m);

/// The node held by h when h is a Value (or an instance of a subclass), else nullptr.
const ScalarPtr* value_holder(pybind11::handle h);

namespace detail {

// Note [Value as a CPython type]
// micrograd-style code spends its time creating Values and reading .data and .grad. Through
// pybind11 a `Value + Value` cost about 210 ns, most of it the generic dispatcher and the
// instance registry; as a plain CPython type with number slots it costs a third of that. The
// object holds one counted reference to its node; the node points back at the object (not owned)
// so that a node reached again through _prev comes back as the same Python object.
struct ValueObject {
  PyObject_HEAD ScalarPtr node;
  PyObject* weakrefs;
};

/// The Value type, created once by add_value_type and never replaced.
extern PyTypeObject* value_type;

}  // namespace detail

/// The node held by o when o is exactly a Value (not a subclass), else nullptr: the cheapest check,
/// inline for the fused neurons' per-weight loop.
inline const ScalarPtr* exact_value_holder(PyObject* o) {
  return Py_TYPE(o) == detail::value_type ? &reinterpret_cast<detail::ValueObject*>(o)->node : nullptr;
}

/// The Python Value for node: the object already wrapping it if there is one, else a new one.
pybind11::object wrap_value(const ScalarPtr& node);

}  // namespace chaingrad
