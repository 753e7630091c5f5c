#include "value_bindings.h"

#include <cmath>
#include <string>

#include "py_operands.h"
#include "scalar_ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

py::object as_python_number(double value, bool is_int) {
  if (is_int && std::isfinite(value)) {
    return py::reinterpret_steal<py::object>(PyLong_FromDouble(value));
  }
  return py::float_(value);
}

std::string op_string(const ScalarNode& node) {
  if (node.op() != ScalarOp::Pow) return scalar_op_name(node.op());
  return "**" + py::repr(as_python_number(node.exponent(), node.exponent_is_int)).cast<std::string>();
}

py::tuple prev_tuple(const ScalarNode& node) {
  const auto& inputs = node.inputs();
  py::tuple out(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    out[i] = py::cast(std::static_pointer_cast<ScalarNode>(inputs[i]));
  }
  return out;
}

std::string value_repr(const ScalarNode& node) {
  py::str data = py::repr(as_python_number(node.data(), node.data_is_int));
  py::str grad = py::repr(as_python_number(node.grad(), node.grad_is_int));
  return "Value(data=" + data.cast<std::string>() + ", grad=" + grad.cast<std::string>() + ")";
}

// Note [operator slots]
// Arithmetic is what micrograd-style code does most, and pybind11's generic dispatch (method
// lookup, argument casters, overload loop) costs more than the op itself. Value's number slots
// therefore point straight at these functions: Python calls nb_add(a, b) with the Value on either
// side, a Value or a number on the other; anything else gives NotImplemented, so Python raises its
// own TypeError naming both operand types. The named methods (__add__, ...) remain for explicit calls.
using BinaryOp = ScalarPtr (*)(const ScalarPtr&, const ScalarPtr&);

template <BinaryOp op>
PyObject* number_slot(PyObject* a, PyObject* b) {
  try {
    const ScalarPtr* held_a = value_holder(a);
    ScalarPtr lhs = held_a ? *held_a : as_operand(a);
    ScalarPtr rhs = held_a ? as_operand(b) : nullptr;
    if (!held_a) {
      const ScalarPtr* held_b = value_holder(b);
      if (held_b) rhs = *held_b;
    }
    if (!lhs || !rhs) Py_RETURN_NOTIMPLEMENTED;
    return py::cast(op(lhs, rhs)).release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

template <BinaryOp op, bool reflected>
py::object binary_method(py::handle self, py::handle other) {
  PyObject* out = reflected ? number_slot<op>(other.ptr(), self.ptr()) : number_slot<op>(self.ptr(), other.ptr());
  if (out == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(out);
}

void install_number_slots(py::handle type) {
  PyNumberMethods* slots = reinterpret_cast<PyTypeObject*>(type.ptr())->tp_as_number;
  slots->nb_add = &number_slot<add>;
  slots->nb_subtract = &number_slot<sub>;
  slots->nb_multiply = &number_slot<mul>;
  slots->nb_true_divide = &number_slot<div>;
  PyType_Modified(reinterpret_cast<PyTypeObject*>(type.ptr()));
}

py::object pow_op(const ScalarPtr& self, py::handle exponent) {
  Number e;
  if (!read_number(exponent, e)) {
    throw py::type_error(
        "Value ** exponent: the exponent must be an int or float (as in micrograd), got " +
        type_name(exponent));
  }
  ScalarPtr out = pow(self, e.value);
  out->exponent_is_int = e.is_int;
  return py::cast(out);
}

}  // namespace

void bind_value(py::module_& m) {
  py::class_<ScalarNode, std::shared_ptr<ScalarNode>> value(
      m, "Value",
      "A float64 scalar in a computation graph, with the gradient backward() leaves in it.");
  set_value_type(value);
  value
      .def(py::init([](py::handle data) { return make_leaf(require_number(data, "Value(data)")); }),
           py::arg("data"), "A leaf holding data (an int, float or numpy scalar).")
      .def_property(
          "data", [](const ScalarNode& v) { return as_python_number(v.data(), v.data_is_int); },
          [](ScalarNode& v, py::handle h) {
            const Number n = require_number(h, "Value.data");
            v.set_data(n.value);
            v.data_is_int = n.is_int;
          },
          "The value (float64; one set from an int prints as an int, as in micrograd).")
      .def_property(
          "grad", [](const ScalarNode& v) { return as_python_number(v.grad(), v.grad_is_int); },
          [](ScalarNode& v, py::handle h) {
            const Number n = require_number(h, "Value.grad");
            v.set_grad(n.value);
            v.grad_is_int = n.is_int;
          },
          "d(root)/d(this value) after root.backward(); leaves accumulate over calls.")
      .def_property_readonly("_op", &op_string, "The op that produced this value ('' for a leaf).")
      .def_property_readonly("_prev", &prev_tuple,
                             "The values this one was computed from, in the order the op took them.")
      .def(
          "backward",
          [](const ScalarPtr& self) {
            py::gil_scoped_release unlocked;
            scalar_backward(*self);
          },
          "Backpropagates from this value: its grad becomes 1 and every value it depends on gets "
          "d(this)/d(value) added to its grad.")
      .def("relu", [](const ScalarPtr& v) { return relu(v); }, "max(0, x).")
      .def("tanh", [](const ScalarPtr& v) { return tanh(v); }, "tanh(x).")
      .def("exp", [](const ScalarPtr& v) { return exp(v); }, "e**x.")
      .def("log", [](const ScalarPtr& v) { return log(v); },
           "Natural log (IEEE: -inf at 0, nan below 0).")
      .def("sigmoid", [](const ScalarPtr& v) { return sigmoid(v); }, "1 / (1 + e**-x).")
      .def("__add__", &binary_method<add, false>, py::is_operator())
      .def("__radd__", &binary_method<add, true>, py::is_operator())
      .def("__sub__", &binary_method<sub, false>, py::is_operator())
      .def("__rsub__", &binary_method<sub, true>, py::is_operator())
      .def("__mul__", &binary_method<mul, false>, py::is_operator())
      .def("__rmul__", &binary_method<mul, true>, py::is_operator())
      .def("__truediv__", &binary_method<div, false>, py::is_operator())
      .def("__rtruediv__", &binary_method<div, true>, py::is_operator())
      .def("__pow__", &pow_op, py::is_operator())
      .def("__neg__", [](const ScalarPtr& v) { return neg(v); })
      .def("__repr__", &value_repr);
  // numpy scalars on the left (np.int64(-1) * v) must defer to Value's reflected operators
  // instead of building a 0-d object array.
  value.attr("__array_ufunc__") = py::none();
  install_number_slots(value);
}

}  // namespace chaingrad
