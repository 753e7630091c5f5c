#include "bindings/neurons.h"

#include <structmember.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings/operands.h"
#include "bindings/value_type.h"
#include "scalar/ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

using Nodes = std::vector<ScalarPtr>;

/// The weights of list-or-tuple w as a list of nodes, checked against the inputs' count.
ScalarListPtr read_weights(py::handle w, std::size_t inputs) {
  PyObject* wo = w.ptr();
  if (!PyList_Check(wo) && !PyTuple_Check(wo)) {
    throw py::type_error("Neuron.w must be a list of Values, got " + type_name(w));
  }
  const std::size_t n = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(wo));
  if (n != inputs) {
    throw py::value_error("Neuron(" + std::to_string(n) + ") expects " + std::to_string(n) + " inputs, got " +
                          std::to_string(inputs));
  }
  return make_ref<ScalarList>(read_operands(w, "Neuron.w"));
}

/// act(b + w . x) as one node (relu when nonlin).
ScalarPtr neuron_node(ScalarListPtr weights, py::handle b, const ScalarListPtr& xs, bool nonlin) {
  if (weights->size() != xs->size()) {
    throw std::runtime_error("Neuron.w changed size during the forward pass");
  }
  return weighted_sum(require_operand(b, "Neuron.b"), std::move(weights), xs, nonlin);
}

// Note [neuron weight cache]
// micrograd's Neuron keeps its weights in a Python list that users may replace (n.w = [...]) or
// edit (n.w[0] = Value(1)) at any time. Reading the list afresh on every call costs a type check
// and two reference counts per weight; instead the exact Neuron class declares __slots__ (w, b,
// nonlin and _fused), read here at their fixed offsets, and _fused holds the ScalarList built from
// w at the last call. A call reuses it when w still has the same length and every item is a Value
// wrapping the cached node, which is one pointer compare per weight. The cache holds its nodes, so
// an address cannot be reused by another node while it is compared against; anything else (a
// number among the weights, a Value subclass, a changed list) rebuilds it.
constexpr const char* kWeightCacheName = "chaingrad.neuron_weights";

void free_weight_cache(PyObject* capsule) {
  delete static_cast<ScalarListPtr*>(PyCapsule_GetPointer(capsule, kWeightCacheName));
}

/// The Value objects' nodes in items, when they are exactly the cached list's.
bool cache_matches(const ScalarList& cached, PyObject* const* items, std::size_t n) {
  if (cached.size() != n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const ScalarPtr* held = exact_value_holder(items[i]);
    if (held == nullptr || held->get() != cached[i].get()) return false;
  }
  return true;
}

/// The exact Neuron class's slots, found once per forward call from the class's descriptors. A
/// class without them (dense_layer and mlp_forward accept any neuron class) is read by getattr.
class NeuronSlots {
 public:
  explicit NeuronSlots(py::handle neuron_type)
      : w_(offset(neuron_type, "w")),
        b_(offset(neuron_type, "b")),
        nonlin_(offset(neuron_type, "nonlin")),
        fused_(offset(neuron_type, "_fused")) {}

  /// act(b + w . x) for neuron n, an instance of exactly the class given to the constructor.
  ScalarPtr forward(py::handle n, const ScalarListPtr& xs) const {
    // Owned references: reading a weight or nonlin may run Python code that reassigns the slots.
    const py::object w = get(n, w_, "w");
    const py::object b = get(n, b_, "b");
    const py::object nonlin_object = get(n, nonlin_, "nonlin");
    const bool nonlin = nonlin_object.ptr() == Py_True || (nonlin_object.ptr() != Py_False && py::bool_(nonlin_object));
    return neuron_node(weights(n, w, xs->size()), b, xs, nonlin);
  }

 private:
  static constexpr Py_ssize_t kNoSlot = -1;

  static Py_ssize_t offset(py::handle type, const char* name) {
    PyObject* descr = PyDict_GetItemString(reinterpret_cast<PyTypeObject*>(type.ptr())->tp_dict, name);
    if (descr == nullptr || Py_TYPE(descr) != &PyMemberDescr_Type) return kNoSlot;
    const PyMemberDef* member = reinterpret_cast<PyMemberDescrObject*>(descr)->d_member;
    return member->type == T_OBJECT_EX ? member->offset : kNoSlot;
  }

  static PyObject* slot(py::handle n, Py_ssize_t offset) {
    return *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(n.ptr()) + offset);
  }

  /// The attribute's value; an unset slot raises the usual AttributeError through getattr.
  static py::object get(py::handle n, Py_ssize_t offset, const char* name) {
    PyObject* value = offset == kNoSlot ? nullptr : slot(n, offset);
    if (value == nullptr) return n.attr(name);
    return py::reinterpret_borrow<py::object>(value);
  }

  ScalarListPtr weights(py::handle n, py::handle w, std::size_t inputs) const {
    if (fused_ == kNoSlot) return read_weights(w, inputs);
    PyObject* wo = w.ptr();
    PyObject* cache = slot(n, fused_);
    if (PyList_Check(wo) && cache != nullptr && PyCapsule_IsValid(cache, kWeightCacheName)) {
      const ScalarListPtr& cached = *static_cast<ScalarListPtr*>(PyCapsule_GetPointer(cache, kWeightCacheName));
      const auto n_items = static_cast<std::size_t>(PyList_GET_SIZE(wo));
      if (n_items == inputs && cache_matches(*cached, PySequence_Fast_ITEMS(wo), n_items)) return cached;
    }
    ScalarListPtr fresh = read_weights(w, inputs);
    auto held = std::make_unique<ScalarListPtr>(fresh);
    py::object capsule =
        py::reinterpret_steal<py::object>(PyCapsule_New(held.get(), kWeightCacheName, free_weight_cache));
    if (!capsule) throw py::error_already_set();
    held.release();  // now owned by the capsule
    if (PyObject_SetAttrString(n.ptr(), "_fused", capsule.ptr()) < 0) throw py::error_already_set();
    return fresh;
  }

  Py_ssize_t w_, b_, nonlin_, fused_;
};

/// The names of the Python attributes read on every call, interned once and never freed (a static
/// py::object would be destroyed after the interpreter has gone).
py::handle neurons_attr_name() {
  static const py::handle name = PyUnicode_InternFromString("neurons");
  return name;
}

/// The nodes (a Nodes or a ScalarList) as a Python list of Values.
template <class List>
py::list to_python(const List& nodes) {
  py::list out(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) out[i] = wrap_value(nodes[i]);
  return out;
}

/// The inputs of a layer as nodes: a list or tuple, or a single Value (the output of a one-neuron
/// layer, which micrograd's Layer returns unwrapped).
ScalarListPtr layer_inputs(py::handle x) {
  if (const ScalarPtr* held = value_holder(x)) return make_ref<ScalarList>(Nodes{*held});
  return make_ref<ScalarList>(read_operands(x, "Layer input"));
}

/// The item at i of a list, or a null object once i is past its end. Python code called while a
/// list is walked (a custom neuron or layer) may shrink it, so the length is read on every step.
py::object list_item(py::handle list, Py_ssize_t i) {
  if (i >= PyList_GET_SIZE(list.ptr())) return py::object();
  return py::reinterpret_borrow<py::object>(PyList_GET_ITEM(list.ptr(), i));
}

/// Every neuron of `neurons` on xs. A neuron not exactly of neuron_type may define its own
/// __call__, so it is called through Python.
Nodes layer_nodes(py::handle neurons, const ScalarListPtr& xs, py::handle neuron_type, const NeuronSlots& slots) {
  if (!PyList_Check(neurons.ptr())) {
    throw py::type_error("Layer.neurons must be a list, got " + type_name(neurons));
  }
  Nodes out;
  out.reserve(static_cast<std::size_t>(PyList_GET_SIZE(neurons.ptr())));
  py::object x_python;  // built only if some neuron needs a Python call
  for (Py_ssize_t i = 0;; ++i) {
    py::object n = list_item(neurons, i);
    if (!n) break;
    if (n.get_type().ptr() == neuron_type.ptr()) {
      out.push_back(slots.forward(n, xs));
      continue;
    }
    if (!x_python) x_python = to_python(*xs);
    out.push_back(require_operand(n(x_python), "a neuron's output"));
  }
  return out;
}

template <class List>
py::object unwrap_single(const List& out) {
  if (out.size() == 1) return wrap_value(out[0]);
  return to_python(out);
}

py::object neuron(py::handle w, py::handle b, py::handle x, bool nonlin) {
  ScalarListPtr xs = make_ref<ScalarList>(read_operands(x, "Neuron input"));
  return wrap_value(neuron_node(read_weights(w, xs->size()), b, xs, nonlin));
}

py::object dense_layer(py::handle neurons, py::handle x, py::handle neuron_type) {
  return unwrap_single(layer_nodes(neurons, layer_inputs(x), neuron_type, NeuronSlots(neuron_type)));
}

/// Runs every layer in turn; only the final outputs become Python objects. Layers not exactly of
/// layer_type are called through Python with the current activations.
py::object mlp_forward(py::handle layers, py::handle x, py::handle layer_type, py::handle neuron_type) {
  if (!PyList_Check(layers.ptr())) {
    throw py::type_error("MLP.layers must be a list, got " + type_name(layers));
  }
  if (PyList_GET_SIZE(layers.ptr()) == 0) return py::reinterpret_borrow<py::object>(x);
  const NeuronSlots slots(neuron_type);
  py::handle neurons_name = neurons_attr_name();
  ScalarListPtr current = layer_inputs(x);
  for (Py_ssize_t i = 0;; ++i) {
    py::object layer = list_item(layers, i);
    if (!layer) break;
    if (layer.get_type().ptr() == layer_type.ptr()) {
      current = make_ref<ScalarList>(layer_nodes(layer.attr(neurons_name), current, neuron_type, slots));
    } else {
      current = layer_inputs(layer(unwrap_single(*current)));
    }
  }
  return unwrap_single(*current);
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
