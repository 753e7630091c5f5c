#include "bindings/neurons.h"

#include <string>
#include <vector>

#include "bindings/operands.h"
#include "bindings/value_type.h"
#include "scalar/ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

using Nodes = std::vector<ScalarPtr>;

/// act(b + w . x) as one node (relu when nonlin), reading w item by item.
ScalarPtr neuron_node(py::handle w, py::handle b, const Nodes& x, bool nonlin) {
  PyObject* wo = w.ptr();
  if (!PyList_Check(wo) && !PyTuple_Check(wo)) {
    throw py::type_error("Neuron.w must be a list of Values, got " + type_name(w));
  }
  const std::size_t n = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(wo));
  if (n != x.size()) {
    throw py::value_error("Neuron(" + std::to_string(n) + ") expects " + std::to_string(n) + " inputs, got " +
                          std::to_string(x.size()));
  }
  std::vector<NodePtr> inputs;
  inputs.reserve(2 * n + 1);
  inputs.push_back(require_operand(b, "Neuron.b"));
  for (std::size_t i = 0; i < n; ++i) {
    // fetched one at a time: reading a numpy scalar may run Python code that changes the list
    if (static_cast<std::size_t>(PySequence_Fast_GET_SIZE(wo)) != n) {
      throw std::runtime_error("Neuron.w changed size during the forward pass");
    }
    py::object weight = py::reinterpret_borrow<py::object>(PySequence_Fast_GET_ITEM(wo, static_cast<Py_ssize_t>(i)));
    inputs.push_back(require_operand(weight, "Neuron.w", static_cast<long>(i)));
    inputs.push_back(x[i]);
  }
  return weighted_sum(std::move(inputs), nonlin);
}

/// The names of the Python attributes read on every call, interned once and never freed (a static
/// py::object would be destroyed after the interpreter has gone).
struct AttrNames {
  py::handle w = PyUnicode_InternFromString("w");
  py::handle b = PyUnicode_InternFromString("b");
  py::handle nonlin = PyUnicode_InternFromString("nonlin");
  py::handle neurons = PyUnicode_InternFromString("neurons");
};

const AttrNames& attr_names() {
  static const AttrNames names;
  return names;
}

/// Reads the plain attributes of exact Neuron objects. Looking each one up in the instance dict
/// skips the class-hierarchy search of a full getattr, a fifth of a fused forward's time; a name
/// missing from the dict falls back to getattr, which raises the usual AttributeError.
class InstanceAttrs {
 public:
  explicit InstanceAttrs(py::handle obj)
      : obj_(obj), dict_(py::reinterpret_steal<py::object>(PyObject_GenericGetDict(obj.ptr(), nullptr))) {
    if (!dict_) PyErr_Clear();
  }
  py::object get(py::handle name) const {
    if (dict_) {
      PyObject* found = PyDict_GetItemWithError(dict_.ptr(), name.ptr());
      if (found != nullptr) return py::reinterpret_borrow<py::object>(found);
      if (PyErr_Occurred()) throw py::error_already_set();
    }
    return obj_.attr(name);
  }

 private:
  py::handle obj_;
  py::object dict_;
};

py::list to_python(const Nodes& nodes) {
  py::list out(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) out[i] = wrap_value(nodes[i]);
  return out;
}

/// The inputs of a layer as nodes: a list or tuple, or a single Value (the output of a one-neuron
/// layer, which micrograd's Layer returns unwrapped).
Nodes layer_inputs(py::handle x) {
  if (const ScalarPtr* held = value_holder(x)) return Nodes{*held};
  return read_operands(x, "Layer input");
}

/// The item at i of a list, or a null object once i is past its end. Python code called while a
/// list is walked (a custom neuron or layer) may shrink it, so the length is read on every step.
py::object list_item(py::handle list, Py_ssize_t i) {
  if (i >= PyList_GET_SIZE(list.ptr())) return py::object();
  return py::reinterpret_borrow<py::object>(PyList_GET_ITEM(list.ptr(), i));
}

/// Every neuron of `neurons` on x. A neuron not exactly of neuron_type may define its own
/// __call__, so it is called through Python.
Nodes layer_nodes(py::handle neurons, const Nodes& x, py::handle neuron_type) {
  if (!PyList_Check(neurons.ptr())) {
    throw py::type_error("Layer.neurons must be a list, got " + type_name(neurons));
  }
  const AttrNames& names = attr_names();
  Nodes out;
  out.reserve(static_cast<std::size_t>(PyList_GET_SIZE(neurons.ptr())));
  py::object x_python;  // built only if some neuron needs a Python call
  for (Py_ssize_t i = 0;; ++i) {
    py::object n = list_item(neurons, i);
    if (!n) break;
    if (n.get_type().ptr() == neuron_type.ptr()) {
      const InstanceAttrs attrs(n);
      const bool nonlin = py::bool_(attrs.get(names.nonlin));
      out.push_back(neuron_node(attrs.get(names.w), attrs.get(names.b), x, nonlin));
      continue;
    }
    if (!x_python) x_python = to_python(x);
    out.push_back(require_operand(n(x_python), "a neuron's output"));
  }
  return out;
}

py::object unwrap_single(const Nodes& out) {
  if (out.size() == 1) return wrap_value(out[0]);
  return to_python(out);
}

py::object neuron(py::handle w, py::handle b, py::handle x, bool nonlin) {
  return wrap_value(neuron_node(w, b, read_operands(x, "Neuron input"), nonlin));
}

py::object dense_layer(py::handle neurons, py::handle x, py::handle neuron_type) {
  return unwrap_single(layer_nodes(neurons, layer_inputs(x), neuron_type));
}

/// Runs every layer in turn; only the final outputs become Python objects. Layers not exactly of
/// layer_type are called through Python with the current activations.
py::object mlp_forward(py::handle layers, py::handle x, py::handle layer_type, py::handle neuron_type) {
  if (!PyList_Check(layers.ptr())) {
    throw py::type_error("MLP.layers must be a list, got " + type_name(layers));
  }
  if (PyList_GET_SIZE(layers.ptr()) == 0) return py::reinterpret_borrow<py::object>(x);
  Nodes current = layer_inputs(x);
  for (Py_ssize_t i = 0;; ++i) {
    py::object layer = list_item(layers, i);
    if (!layer) break;
    if (layer.get_type().ptr() == layer_type.ptr()) {
      current = layer_nodes(layer.attr(attr_names().neurons), current, neuron_type);
    } else {
      current = layer_inputs(layer(unwrap_single(current)));
    }
  }
  return unwrap_single(current);
}

}  // namespace

void bind_neurons(py::module_& m) {
  m.def("neuron", &neuron, py::arg("w"), py::arg("b"), py::arg("x"), py::arg("nonlin"),
        "relu(b + sum(w_i * x_i)) (without relu when nonlin is False) as one graph node, summed "
        "in micrograd's order.");
  m.def("dense_layer", &dense_layer, py::arg("neurons"), py::arg("x"), py::arg("neuron_type"),
        "Every neuron of a layer on input x in one call (a single Value when there is one neuron).");
  m.def("mlp_forward", &mlp_forward, py::arg("layers"), py::arg("x"), py::arg("layer_type"), py::arg("neuron_type"),
        "Every layer of an MLP on input x in one call.");
}

}  // namespace chaingrad
