#include "bindings/operands.h"

#include "bindings/value_type.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

/// numpy's real scalar types (integer, floating, bool_), all null without numpy. The references
/// are kept for the life of the process (numpy cannot be unloaded); plain pointers spare every
/// number read an iterator over a tuple.
struct NumpyRealTypes {
  PyTypeObject* types[3] = {nullptr, nullptr, nullptr};
};

const NumpyRealTypes& numpy_real_types() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<NumpyRealTypes> storage;
  return storage
      .call_once_and_store_result([]() {
        NumpyRealTypes found;
        try {
          py::module_ np = py::module_::import("numpy");
          const char* names[] = {"integer", "floating", "bool_"};
          for (int i = 0; i < 3; ++i) {
            found.types[i] = reinterpret_cast<PyTypeObject*>(py::object(np.attr(names[i])).release().ptr());
          }
        } catch (py::error_already_set&) {
          found = NumpyRealTypes();
        }
        return found;
      })
      .get_stored();
}

}  // namespace

bool read_number(py::handle h, Number& out) {
  PyObject* o = h.ptr();
  if (PyFloat_Check(o)) {
    out = {PyFloat_AS_DOUBLE(o), false};
    return true;
  }
  if (PyLong_Check(o)) {
    const double v = PyLong_AsDouble(o);  // OverflowError for ints beyond float range
    if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    out = {v, true};
    return true;
  }
  // A subtype check on the real type: isinstance() would consult a user-defined __class__.
  bool is_numpy = false;
  for (PyTypeObject* type : numpy_real_types().types) {
    is_numpy = is_numpy || (type != nullptr && PyType_IsSubtype(Py_TYPE(o), type));
  }
  if (!is_numpy) return false;
  const double v = PyFloat_AsDouble(o);
  if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  out = {v, PyIndex_Check(o) != 0};
  return true;
}

Number require_number(py::handle h, const char* what) {
  Number n;
  if (!read_number(h, n)) {
    throw py::type_error(std::string(what) + " must be a real number (int, float or numpy scalar), got " +
                         type_name(h));
  }
  return n;
}

std::string type_name(py::handle h) { return Py_TYPE(h.ptr())->tp_name; }

ScalarPtr make_leaf(const Number& n) {
  auto leaf = make_ref<ScalarNode>(n.value);
  leaf->data_is_int = n.is_int;
  return leaf;
}

ScalarPtr as_operand(py::handle h) {
  if (const ScalarPtr* held = value_holder(h)) return *held;
  Number n;
  if (read_number(h, n)) return make_leaf(n);
  return nullptr;
}

ScalarPtr require_operand(py::handle h, const char* what, long index) {
  ScalarPtr node = as_operand(h);
  if (!node) {
    std::string where = what;
    if (index >= 0) where += "[" + std::to_string(index) + "]";
    throw py::type_error(where + " must be a Value or a real number, got " + type_name(h));
  }
  return node;
}

std::vector<ScalarPtr> read_operands(py::handle seq, const char* what) {
  PyObject* o = seq.ptr();
  if (!PyList_Check(o) && !PyTuple_Check(o)) {
    throw py::type_error(std::string(what) + " must be a list or tuple of Values or numbers, got " + type_name(seq));
  }
  std::vector<ScalarPtr> nodes;
  nodes.reserve(static_cast<std::size_t>(PySequence_Fast_GET_SIZE(o)));
  // Items are fetched one at a time (and held) because reading a numpy scalar may run Python code
  // that changes the list.
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(o); ++i) {
    py::object item = py::reinterpret_borrow<py::object>(PySequence_Fast_GET_ITEM(o, i));
    nodes.push_back(require_operand(item, what, i));
  }
  return nodes;
}

}  // namespace chaingrad
