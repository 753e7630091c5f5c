#include "bindings/neurons.h"

#include <structmember.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings/errors.h"
#include "bindings/operands.h"
#include "bindings/value_type.h"
#include "scalar/ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

using Nodes = std::vector<ScalarPtr>;

/// [b, w0, w1, ...] as nodes, w a list or tuple of as many weights as the neuron has inputs.
ScalarListPtr read_params(py::handle b, py::handle w, std::size_t inputs) {
  PyObject* wo = w.ptr();
  if (!PyList_Check(wo) && !PyTuple_Check(wo)) {
    throw py::type_error("Neuron.w must be a list of Values, got " + type_name(w));
  }
  const auto n = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(wo));
  if (n != inputs) {
    throw py::value_error("Neuron(" + std::to_string(n) + ") expects " + std::to_string(n) + " inputs, got " +
                          std::to_string(inputs));
  }
  Nodes params{require_operand(b, "Neuron.b")};
  Nodes weights = read_operands(w, "Neuron.w");
  if (weights.size() != inputs) throw std::runtime_error("Neuron.w changed size during the forward pass");
  params.insert(params.end(), std::make_move_iterator(weights.begin()), std::make_move_iterator(weights.end()));
  return make_ref<ScalarList>(std::move(params));
}

// Note [neuron weight cache]
// micrograd's Neuron keeps its weights in a Python list that users may replace (n.w = [...]) or
// edit (n.w[0] = Value(1)) at any time. Reading the list afresh on every call costs a type check
// and two reference counts per weight; instead the exact Neuron class declares __slots__ (w, b,
// nonlin and _fused), read here at their fixed offsets, and _fused holds what the last call read:
// the Value objects b, w0, w1, ... (owned) and their nodes as one ScalarList. A call reuses the
// list when b and the items of w are still those objects, one memcmp over the list's item
// pointers: holding the objects means no other object can take their addresses meanwhile, and a
// Value never changes its node. Only exact Values are cached (a subclass instance could refer
// back to the neuron and make a cycle the cache does not report to the garbage collector); a
// number among the weights, or a tuple for w, reads them afresh on every call.
struct WeightCacheObject {
  PyObject_HEAD ScalarListPtr params;
  std::vector<PyObject*> objects;  // b, w0, w1, ...: owned (see weight_cache_dealloc)
};

PyTypeObject* weight_cache_type = nullptr;  // created once by bind_neurons, never replaced

void weight_cache_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  auto* cache = reinterpret_cast<WeightCacheObject*>(self);
  for (PyObject* o : cache->objects) Py_DECREF(o);
  cache->objects.~vector();
  cache->params.~ScalarListPtr();
  type->tp_free(self);
  Py_DECREF(type);  // instances of heap types own a reference to their type
}

PyType_Slot weight_cache_slots[] = {
    {Py_tp_doc, const_cast<char*>("A Neuron's bias and weights as graph nodes, cached by the fused forward pass.")},
    {Py_tp_dealloc, reinterpret_cast<void*>(weight_cache_dealloc)},
    {0, nullptr}};

PyType_Spec weight_cache_spec = {"chaingrad._core.NeuronWeights", sizeof(WeightCacheObject), 0, Py_TPFLAGS_DEFAULT,
                                 weight_cache_slots};

/// A cache of b and the items of list w, or None when they are not all exactly Values.
py::object new_weight_cache(PyObject* b, PyObject* w, const ScalarListPtr& params) {
  const auto n = static_cast<std::size_t>(PyList_GET_SIZE(w));
  if (params->size() != n + 1 || exact_value_holder(b) == nullptr) return py::none();
  std::vector<PyObject*> objects{b};
  for (std::size_t i = 0; i < n; ++i) {
    PyObject* item = PyList_GET_ITEM(w, static_cast<Py_ssize_t>(i));
    const ScalarPtr* held = exact_value_holder(item);
    if (held == nullptr || held->get() != (*params)[i + 1].get()) return py::none();
    objects.push_back(item);
  }
  if (exact_value_holder(b)->get() != (*params)[0].get()) return py::none();
  PyObject* self = weight_cache_type->tp_alloc(weight_cache_type, 0);
  if (self == nullptr) throw py::error_already_set();
  auto* cache = reinterpret_cast<WeightCacheObject*>(self);
  for (PyObject* o : objects) Py_INCREF(o);
  new (&cache->objects) std::vector<PyObject*>(std::move(objects));
  new (&cache->params) ScalarListPtr(params);
  return py::reinterpret_steal<py::object>(self);
}

/// The cached parameters when b and the items of list w are the objects cached, else nullptr.
const ScalarListPtr* cached_params(PyObject* cache, PyObject* b, PyObject* w) {
  if (cache == nullptr || Py_TYPE(cache) != weight_cache_type) return nullptr;
  const auto& c = *reinterpret_cast<const WeightCacheObject*>(cache);
  const auto n = static_cast<std::size_t>(PyList_GET_SIZE(w));
  if (c.objects.size() != n + 1 || c.objects[0] != b) return nullptr;
  PyObject* const* items = PySequence_Fast_ITEMS(w);
  std::uintptr_t differ = 0;  // no early exit: a few pointers compare faster than a memcmp call
  for (std::size_t i = 0; i < n; ++i) {
    differ |= reinterpret_cast<std::uintptr_t>(c.objects[i + 1]) ^ reinterpret_cast<std::uintptr_t>(items[i]);
  }
  return differ == 0 ? &c.params : nullptr;
}

/// The names of the Python attributes read on every call, interned once and never freed (a static
/// py::object would be destroyed after the interpreter has gone): looking a name up from a C
/// string makes and hashes a new str each time, which cost a tenth of a small MLP's forward call.
struct AttrNames {
  py::handle w, b, nonlin, fused, neurons;
};

const AttrNames& attr_names() {
  static const AttrNames names{PyUnicode_InternFromString("w"), PyUnicode_InternFromString("b"),
                               PyUnicode_InternFromString("nonlin"), PyUnicode_InternFromString("_fused"),
                               PyUnicode_InternFromString("neurons")};
  return names;
}

/// The exact Neuron class's slots, found once per forward call from the class's descriptors. A
/// class without them (dense_layer and mlp_forward accept any neuron class) is read by getattr.
class NeuronSlots {
 public:
  explicit NeuronSlots(py::handle neuron_type)
      : w_(offset(neuron_type, attr_names().w)),
        b_(offset(neuron_type, attr_names().b)),
        nonlin_(offset(neuron_type, attr_names().nonlin)),
        fused_(offset(neuron_type, attr_names().fused)) {
    // the cache is read at all four offsets: a class whose w, b or nonlin is not its own slot
    // (Neuron.nonlin = False, a property for w) is read by getattr only
    if (w_ == kNoSlot || b_ == kNoSlot || nonlin_ == kNoSlot) fused_ = kNoSlot;
  }

  /// Neuron n (an instance of exactly the class given to the constructor) from its cache, when
  /// the cache is still valid and nonlin a bool; runs no Python code.
  bool cached(py::handle n, std::size_t inputs, NeuronSpec& spec) const {
    // A class given to dense_layer may declare _fused without the other slots.
    if (fused_ == kNoSlot || w_ == kNoSlot || b_ == kNoSlot || nonlin_ == kNoSlot) return false;
    PyObject* w = slot(n, w_);
    PyObject* nonlin = slot(n, nonlin_);
    if (w == nullptr || !PyList_Check(w) || PyList_GET_SIZE(w) != static_cast<Py_ssize_t>(inputs) ||
        (nonlin != Py_True && nonlin != Py_False)) {
      return false;
    }
    const ScalarListPtr* params = cached_params(slot(n, fused_), slot(n, b_), w);
    if (params == nullptr) return false;
    spec.params = *params;
    spec.relu = nonlin == Py_True;
    return true;
  }

  /// Appends n's w items then b to out, as Neuron.parameters lists them; false (nothing
  /// appended) when the slots are missing, unset or w is not a list.
  bool append_parameters(py::handle n, py::list& out) const {
    if (w_ == kNoSlot || b_ == kNoSlot) return false;
    PyObject* w = slot(n, w_);
    PyObject* b = slot(n, b_);
    if (w == nullptr || b == nullptr || !PyList_Check(w)) return false;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(w); ++i) {
      if (PyList_Append(out.ptr(), PyList_GET_ITEM(w, i)) < 0) throw py::error_already_set();
    }
    if (PyList_Append(out.ptr(), b) < 0) throw py::error_already_set();
    return true;
  }

  /// act(b + w . x) for neuron n, reading its attributes afresh and caching its weights.
  ScalarPtr forward(py::handle n, const ScalarListPtr& xs) const {
    // Owned references: reading a weight or nonlin may run Python code that reassigns the slots.
    const py::object w = get(n, w_, "w");
    const py::object b = get(n, b_, "b");
    const py::object nonlin_object = get(n, nonlin_, "nonlin");
    const bool nonlin = nonlin_object.ptr() == Py_True || (nonlin_object.ptr() != Py_False && py::bool_(nonlin_object));
    ScalarListPtr params = read_params(b, w, xs->size());
    if (fused_ != kNoSlot && PyList_Check(w.ptr())) {
      if (PyObject_SetAttrString(n.ptr(), "_fused", new_weight_cache(b.ptr(), w.ptr(), params).ptr()) < 0) {
        throw py::error_already_set();
      }
    }
    return weighted_sum(std::move(params), xs, nonlin);
  }

 private:
  static constexpr Py_ssize_t kNoSlot = -1;

  /// The offset of slot `name` declared by type itself; kNoSlot when type is not a type (the
  /// argument comes from Python) or the attribute is not that type's own slot: a member descriptor
  /// copied from another class (Neuron.w = Other.__dict__["x"]) holds an offset into that class's
  /// instances, possibly past a Neuron's end.
  static Py_ssize_t offset(py::handle type, py::handle name) {
    if (!PyType_Check(type.ptr())) return kNoSlot;
    PyObject* descr = PyDict_GetItem(reinterpret_cast<PyTypeObject*>(type.ptr())->tp_dict, name.ptr());
    if (descr == nullptr || Py_TYPE(descr) != &PyMemberDescr_Type) return kNoSlot;
    if (reinterpret_cast<PyDescrObject*>(descr)->d_type != reinterpret_cast<PyTypeObject*>(type.ptr())) return kNoSlot;
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

  Py_ssize_t w_, b_, nonlin_, fused_;
};

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
  // Neurons served from their caches wait here and are summed together (Note [interleaved sums])
  // before any Python code can run: the values they read are those a call in order would read.
  std::array<NeuronSpec, 16> pending;  // on the stack: no allocation per layer
  std::size_t count = 0;
  auto flush = [&] {
    weighted_sums(pending.data(), count, xs, out);
    for (std::size_t k = 0; k < count; ++k) pending[k] = NeuronSpec();
    count = 0;
  };
  py::object x_python;  // built only if some neuron needs a Python call
  NeuronSpec spec;
  for (Py_ssize_t i = 0;; ++i) {
    py::object n = list_item(neurons, i);
    if (!n) break;
    if (Py_TYPE(n.ptr()) == reinterpret_cast<PyTypeObject*>(neuron_type.ptr())) {
      if (slots.cached(n, xs->size(), spec)) {
        if (count == pending.size()) flush();
        pending[count++] = std::move(spec);
        continue;
      }
      flush();
      out.push_back(slots.forward(n, xs));
      continue;
    }
    flush();
    if (!x_python) x_python = to_python(*xs);
    out.push_back(require_operand(n(x_python), "a neuron's output"));
  }
  flush();
  return out;
}

template <class List>
py::object unwrap_single(const List& out) {
  if (out.size() == 1) return wrap_value(out[0]);
  return to_python(out);
}

py::object neuron(py::handle w, py::handle b, py::handle x, bool nonlin) {
  ScalarListPtr xs = make_ref<ScalarList>(read_operands(x, "Neuron input"));
  return wrap_value(weighted_sum(read_params(b, w, xs->size()), xs, nonlin));
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
  py::handle neurons_name = attr_names().neurons;
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

/// mlp_forward as a METH_FASTCALL function: MLP.__call__ runs it once per sample, and pybind11's
/// dispatcher cost a tenth of a whole forward pass of the moons model.
PyObject* mlp_forward_fastcall(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4) {
    PyErr_Format(PyExc_TypeError, "mlp_forward() takes 4 positional arguments (%zd given)", nargs);
    return nullptr;
  }
  return guarded<PyObject*>(nullptr, [&] { return mlp_forward(args[0], args[1], args[2], args[3]).release().ptr(); });
}

// Note [fused parameters]
// A training step walks model.parameters() twice (zero_grad and the update), and micrograd's
// Python version builds it from a list per neuron and a list per layer: for the moons model that
// cost as much as a tenth of the step's own Python work. module_parameters builds the same list
// in one pass: an exact Neuron contributes w's items then b, read from its slots as
// Neuron.parameters would; an exact Layer contributes its neurons' parameters as Layer.parameters
// would. Any other item, or a Neuron whose w is not a list (Neuron.parameters then raises its
// own TypeError), is asked for .parameters() through Python, whose result extends the list.
// Like mlp_forward, the exact classes' methods are taken to be theirs (not monkey-patched).

/// Appends the parameters of every module in list `modules` to out (see Note [fused parameters]).
/// Only the top level expands exact Layers in place: a Layer listed among a Layer's neurons goes
/// through Python, so a list that contains itself fails with Python's RecursionError.
void append_parameters(py::handle modules, py::handle layer_type, py::handle neuron_type, const NeuronSlots& slots,
                       py::list& out, bool top = true) {
  if (!PyList_Check(modules.ptr())) {
    throw py::type_error("module_parameters: expected a list of modules, got " + type_name(modules));
  }
  for (Py_ssize_t i = 0;; ++i) {
    py::object m = list_item(modules, i);
    if (!m) break;
    PyTypeObject* type = Py_TYPE(m.ptr());
    if (type == reinterpret_cast<PyTypeObject*>(neuron_type.ptr()) && slots.append_parameters(m, out)) continue;
    if (top && type == reinterpret_cast<PyTypeObject*>(layer_type.ptr())) {
      append_parameters(m.attr(attr_names().neurons), layer_type, neuron_type, slots, out, false);
      continue;
    }
    const py::object extra = m.attr("parameters")();
    PyObject* extended = PySequence_InPlaceConcat(out.ptr(), extra.ptr());  // `params += ...`
    if (extended == nullptr) throw py::error_already_set();
    Py_DECREF(extended);
  }
}

/// module_parameters(modules, layer_type, neuron_type): the parameters of every module in the list.
PyObject* module_parameters_fastcall(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 3) {
    PyErr_Format(PyExc_TypeError, "module_parameters() takes 3 positional arguments (%zd given)", nargs);
    return nullptr;
  }
  return guarded<PyObject*>(nullptr, [&] {
    if (!PyType_Check(args[1]) || !PyType_Check(args[2])) {
      throw py::type_error("module_parameters: layer_type and neuron_type must be classes");
    }
    py::list out;
    append_parameters(args[0], args[1], args[2], NeuronSlots(args[2]), out);
    return out.release().ptr();
  });
}

/// zero_grads(params): p.grad = 0 for every p of the iterable, directly for exact Values.
PyObject* zero_grads(PyObject*, PyObject* params) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const py::int_ zero(0);
    for (py::handle p : py::iter(params)) {  // a list's iterator copes with the list changing
      if (const ScalarPtr* held = exact_value_holder(p.ptr())) {
        ScalarNode& node = **held;
        node.set_grad(0.0);
        node.grad_is_int = true;
      } else if (PyObject_SetAttrString(p.ptr(), "grad", zero.ptr()) < 0) {
        throw py::error_already_set();
      }
    }
    Py_RETURN_NONE;
  });
}

}  // namespace

void bind_neurons(py::module_& m) {
  PyObject* type = PyType_FromSpec(&weight_cache_spec);
  if (type == nullptr) throw py::error_already_set();
  weight_cache_type = reinterpret_cast<PyTypeObject*>(type);
  weight_cache_type->tp_new = nullptr;  // made only here (Py_TPFLAGS_DISALLOW_INSTANTIATION is 3.10+)
  m.add_object("NeuronWeights", py::reinterpret_steal<py::object>(type));
  m.def("neuron", &neuron, py::arg("w"), py::arg("b"), py::arg("x"), py::arg("nonlin"),
        "relu(b + sum(w_i * x_i)) (without relu when nonlin is False) as one graph node, summed "
        "in micrograd's order.");
  m.def("dense_layer", &dense_layer, py::arg("neurons"), py::arg("x"), py::arg("neuron_type"),
        "Every neuron of a layer on input x in one call (a single Value when there is one neuron).");
  static PyMethodDef raw_functions[] = {
      {"mlp_forward", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(mlp_forward_fastcall)), METH_FASTCALL,
       "mlp_forward(layers, x, layer_type, neuron_type, /)\n--\n\nEvery layer of an MLP on input x in one call."},
      {"module_parameters", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(module_parameters_fastcall)),
       METH_FASTCALL,
       "module_parameters(modules, layer_type, neuron_type, /)\n--\n\nThe parameters of every module in the list, "
       "in order, as their parameters() methods list them."},
      {"zero_grads", zero_grads, METH_O, "zero_grads(params, /)\n--\n\nSets p.grad = 0 for every p of params."},
      {nullptr, nullptr, 0, nullptr}};
  if (PyModule_AddFunctions(m.ptr(), raw_functions) < 0) throw py::error_already_set();
}

}  // namespace chaingrad
