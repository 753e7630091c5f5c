#include "value_bindings.h"

#include <cmath>
#include <string>
#include <vector>

#include "scalar_ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

// ---------------------------------------------------------------------------------------------
// Reading Python numbers

/// numpy's real scalar types (integer, floating, bool_), or an empty tuple without numpy.
py::handle numpy_real_types() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage
      .call_once_and_store_result([]() -> py::object {
        try {
          py::module_ np = py::module_::import("numpy");
          return py::make_tuple(np.attr("integer"), np.attr("floating"), np.attr("bool_"));
        } catch (py::error_already_set&) {
          return py::tuple();
        }
      })
      .get_stored();
}

/// A real number read from Python: its value, and whether it was an integer (for printing).
struct Number {
  double value = 0.0;
  bool is_int = false;
};

/// Reads h as a real number: a Python int or float, or a numpy integer, floating or bool scalar.
/// Returns false for anything else (strings, None, lists, complex, arrays, Values).
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
  const int is_numpy = PyObject_IsInstance(o, numpy_real_types().ptr());
  if (is_numpy < 0) throw py::error_already_set();
  if (is_numpy == 0) return false;
  const double v = PyFloat_AsDouble(o);
  if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  out = {v, PyIndex_Check(o) != 0};
  return true;
}

std::string type_name(py::handle h) { return Py_TYPE(h.ptr())->tp_name; }

[[noreturn]] void raise_type_error(const std::string& message) {
  throw py::type_error(message);
}

ScalarPtr make_leaf(const Number& n) {
  auto leaf = std::make_shared<ScalarNode>(n.value);
  leaf->data_is_int = n.is_int;
  return leaf;
}

/// h as a graph node: a Value as itself, a number as a new constant leaf (as micrograd wraps
/// plain numbers in Value). Returns nullptr for anything else.
ScalarPtr as_operand(py::handle h) {
  py::detail::make_caster<ScalarPtr> caster;
  if (caster.load(h, /*convert=*/false)) return py::detail::cast_op<ScalarPtr>(std::move(caster));
  Number n;
  if (read_number(h, n)) return make_leaf(n);
  return nullptr;
}

/// Like as_operand, but raises TypeError naming `what` when h is neither a Value nor a number.
ScalarPtr require_operand(py::handle h, const std::string& what) {
  ScalarPtr node = as_operand(h);
  if (!node) raise_type_error(what + " must be a Value or a real number, got " + type_name(h));
  return node;
}

/// The items of a list or tuple as graph nodes.
std::vector<ScalarPtr> read_operands(py::handle seq, const std::string& what) {
  if (!PyList_Check(seq.ptr()) && !PyTuple_Check(seq.ptr())) {
    raise_type_error(what + " must be a list or tuple of Values or numbers, got " +
                     type_name(seq));
  }
  py::sequence items = py::reinterpret_borrow<py::sequence>(seq);
  const std::size_t n = items.size();
  std::vector<ScalarPtr> nodes;
  nodes.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    nodes.push_back(require_operand(items[i], what + "[" + std::to_string(i) + "]"));
  }
  return nodes;
}

Number require_number(py::handle h, const std::string& what) {
  Number n;
  if (!read_number(h, n)) {
    raise_type_error(what + " must be a real number (int, float or numpy scalar), got " +
                     type_name(h));
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Value's Python attributes

py::object as_python_number(double value, bool is_int) {
  if (is_int && std::isfinite(value)) return py::reinterpret_steal<py::object>(PyLong_FromDouble(value));
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

// ---------------------------------------------------------------------------------------------
// Operators: a Value or a number on either side; NotImplemented for anything else, so Python
// raises its own TypeError naming both operand types.

using BinaryOp = ScalarPtr (*)(const ScalarPtr&, const ScalarPtr&);

template <BinaryOp op>
py::object forward_op(const ScalarPtr& self, py::handle other) {
  ScalarPtr rhs = as_operand(other);
  if (!rhs) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  return py::cast(op(self, rhs));
}

template <BinaryOp op>
py::object reflected_op(const ScalarPtr& self, py::handle other) {
  ScalarPtr lhs = as_operand(other);
  if (!lhs) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  return py::cast(op(lhs, self));
}

py::object pow_op(const ScalarPtr& self, py::handle exponent) {
  Number e;
  if (!read_number(exponent, e)) {
    raise_type_error("Value ** exponent: the exponent must be an int or float (as in micrograd), got " +
                     type_name(exponent));
  }
  ScalarPtr out = pow(self, e.value);
  out->exponent_is_int = e.is_int;
  return py::cast(out);
}

// ---------------------------------------------------------------------------------------------
// Fused neurons: one call computes act(b + sum w_i x_i) for a neuron or a whole layer.

ScalarPtr neuron_forward(py::handle w, py::handle b, const std::vector<ScalarPtr>& x,
                         bool nonlin) {
  std::vector<ScalarPtr> weights = read_operands(w, "Neuron.w");
  if (weights.size() != x.size()) {
    throw py::value_error("Neuron(" + std::to_string(weights.size()) + ") expects " +
                          std::to_string(weights.size()) + " inputs, got " +
                          std::to_string(x.size()));
  }
  ScalarPtr out = weighted_sum(weights, require_operand(b, "Neuron.b"), x);
  return nonlin ? relu(out) : out;
}

py::object neuron(py::handle w, py::handle b, py::handle x, bool nonlin) {
  return py::cast(neuron_forward(w, b, read_operands(x, "Neuron input"), nonlin));
}

py::object dense_layer(py::handle neurons, py::handle x, py::handle neuron_type) {
  // Interned once and never freed: a static py::object would be destroyed after the interpreter.
  static const py::handle w_name = PyUnicode_InternFromString("w");
  static const py::handle b_name = PyUnicode_InternFromString("b");
  static const py::handle nonlin_name = PyUnicode_InternFromString("nonlin");
  const std::vector<ScalarPtr> inputs = read_operands(x, "Layer input");
  if (!PyList_Check(neurons.ptr())) {
    raise_type_error("Layer.neurons must be a list, got " + type_name(neurons));
  }
  py::list items = py::reinterpret_borrow<py::list>(neurons);
  py::list out(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    py::handle n = items[i];
    if (n.get_type().ptr() != neuron_type.ptr()) {
      out[i] = n(x);  // a subclass may define its own __call__: honour it
      continue;
    }
    const bool nonlin = py::bool_(n.attr(nonlin_name));
    out[i] = py::cast(neuron_forward(n.attr(w_name), n.attr(b_name), inputs, nonlin));
  }
  return std::move(out);
}

}  // namespace

void bind_value(py::module_& m) {
  py::class_<ScalarNode, std::shared_ptr<ScalarNode>> value(
      m, "Value", "A float64 scalar in a computation graph, with the gradient backward() leaves in it.");
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
          "The value (float64; an int prints as an int, as in micrograd).")
      .def_property(
          "grad", [](const ScalarNode& v) { return as_python_number(v.grad(), v.grad_is_int); },
          [](ScalarNode& v, py::handle h) {
            const Number n = require_number(h, "Value.grad");
            v.set_grad(n.value);
            v.grad_is_int = n.is_int;
          },
          "d(root)/d(this value) after root.backward(); accumulates over calls.")
      .def_property_readonly("_op", &op_string, "The op that produced this value ('' for a leaf).")
      .def_property_readonly("_prev", &prev_tuple, "The values this one was computed from, in order.")
      .def(
          "backward",
          [](const ScalarPtr& self) {
            py::gil_scoped_release unlocked;
            scalar_backward(*self);
          },
          "Backpropagates from this value: its grad becomes 1, every value it depends on gets "
          "d(this)/d(value) added to its grad.")
      .def("relu", [](const ScalarPtr& v) { return relu(v); }, "max(0, x).")
      .def("tanh", [](const ScalarPtr& v) { return tanh(v); }, "tanh(x).")
      .def("exp", [](const ScalarPtr& v) { return exp(v); }, "e**x.")
      .def("log", [](const ScalarPtr& v) { return log(v); }, "Natural log (IEEE: -inf at 0, nan below).")
      .def("sigmoid", [](const ScalarPtr& v) { return sigmoid(v); }, "1 / (1 + e**-x).")
      .def("__add__", &forward_op<add>, py::is_operator())
      .def("__radd__", &reflected_op<add>, py::is_operator())
      .def("__sub__", &forward_op<sub>, py::is_operator())
      .def("__rsub__", &reflected_op<sub>, py::is_operator())
      .def("__mul__", &forward_op<mul>, py::is_operator())
      .def("__rmul__", &reflected_op<mul>, py::is_operator())
      .def("__truediv__", &forward_op<div>, py::is_operator())
      .def("__rtruediv__", &reflected_op<div>, py::is_operator())
      .def("__pow__", &pow_op, py::is_operator())
      .def("__neg__", [](const ScalarPtr& v) { return neg(v); })
      .def("__repr__", &value_repr);
  // numpy scalars on the left (np.int64(-1) * v) must defer to Value's reflected operators
  // instead of building a 0-d object array.
  value.attr("__array_ufunc__") = py::none();

  m.def("neuron", &neuron, py::arg("w"), py::arg("b"), py::arg("x"), py::arg("nonlin"),
        "relu(b + sum(w_i * x_i)) (or without relu) as one graph node, summed in micrograd's order.");
  m.def("dense_layer", &dense_layer, py::arg("neurons"), py::arg("x"), py::arg("neuron_type"),
        "Every neuron of a layer on input x in one call; neurons not exactly of neuron_type are "
        "called through Python.");
}

}  // namespace chaingrad
