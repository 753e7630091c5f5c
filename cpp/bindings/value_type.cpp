#include "bindings/value_type.h"

#include <structmember.h>

#include <cmath>
#include <exception>
#include <mutex>
#include <new>
#include <string>

#include "bindings/errors.h"
#include "bindings/operands.h"

namespace py = pybind11;

namespace chaingrad {

PyTypeObject* detail::value_type = nullptr;

namespace {

using detail::value_type;
using detail::ValueObject;

ValueObject* as_value(PyObject* o) { return reinterpret_cast<ValueObject*>(o); }

PyObject* new_wrapper(PyTypeObject* type, ScalarPtr node) {
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  ValueObject* v = as_value(self);
  new (&v->node) ScalarPtr(std::move(node));
  v->weakrefs = nullptr;
  v->node->wrapper = self;
  if (type == value_type) PyObject_GC_UnTrack(self);  // see Note [user gradient rules]
  return self;
}

py::object as_python_number(double value, bool is_int) {
  if (is_int && std::isfinite(value)) {
    return py::reinterpret_steal<py::object>(PyLong_FromDouble(value));
  }
  return py::reinterpret_steal<py::object>(PyFloat_FromDouble(value));
}

// --- lifecycle -------------------------------------------------------------------------------

PyObject* value_new(PyTypeObject* type, PyObject*, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] { return new_wrapper(type, make_ref<ScalarNode>(0.0)); });
}

/// Makes `self` hold a new node: wrappers and nodes stay one to one.
void rebind(PyObject* self, ScalarPtr node) {
  ValueObject* v = as_value(self);
  if (v->node->wrapper == self) v->node->wrapper = nullptr;
  v->node = std::move(node);
  v->node->wrapper = self;
}

int value_init(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"data", "_children", "_op", "label", nullptr};
  PyObject* data = nullptr;
  PyObject* children = nullptr;
  const char* op = nullptr;
  const char* label = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Oss:Value", const_cast<char**>(keywords), &data, &children, &op,
                                   &label)) {
    return -1;
  }
  return guarded(-1, [&] {
    const Number n = require_number(data, "Value(data)");
    std::vector<ScalarPtr> inputs;
    if (children != nullptr) {
      for (py::handle child : py::iter(py::reinterpret_borrow<py::object>(children))) {
        const ScalarPtr* held = value_holder(child);
        if (held == nullptr) {
          throw py::type_error("Value(data, _children): every child must be a Value, got " + type_name(child));
        }
        inputs.push_back(*held);
      }
    }
    if (!inputs.empty()) {
      rebind(self, make_ref<ScalarNode>(make_ref<ScalarList>(std::move(inputs)), n.value));
    } else if (!as_value(self)->node->is_leaf()) {
      rebind(self, make_ref<ScalarNode>(n.value));  // __init__ called again on a computed value
    }
    ScalarNode& node = *as_value(self)->node;
    node.set_data(n.value);
    node.data_is_int = n.is_int;
    if ((op != nullptr && *op != '\0') || (label != nullptr && *label != '\0')) {
      ScalarExtras& extras = node.mutable_extras();
      if (op != nullptr) extras.op_name = op;
      if (label != nullptr) extras.label = label;
    }
    return 0;
  });
}

/// Value(data) through vectorcall: the exact type with one positional number skips type_call's
/// argument tuple, tp_new's placeholder leaf and tp_init's parsing. Anything else (a keyword, a
/// subclass, a wrong count) goes the way type_call would, through tp_new and tp_init.
PyObject* value_vectorcall(PyObject* type_object, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  auto* type = reinterpret_cast<PyTypeObject*>(type_object);
  if (type == value_type && nargs == 1 && kwnames == nullptr) {
    return guarded<PyObject*>(nullptr,
                              [&] { return new_wrapper(type, make_leaf(require_number(args[0], "Value(data)"))); });
  }
  py::object tuple = py::reinterpret_steal<py::object>(PyTuple_New(nargs));
  if (!tuple) return nullptr;
  for (Py_ssize_t i = 0; i < nargs; ++i) {
    Py_INCREF(args[i]);
    PyTuple_SET_ITEM(tuple.ptr(), i, args[i]);
  }
  py::object kwargs;
  if (kwnames != nullptr) {
    kwargs = py::reinterpret_steal<py::object>(PyDict_New());
    if (!kwargs) return nullptr;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); ++i) {
      if (PyDict_SetItem(kwargs.ptr(), PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) return nullptr;
    }
  }
  PyObject* self = type->tp_new(type, tuple.ptr(), kwargs.ptr());
  if (self != nullptr && PyObject_TypeCheck(self, type) && type->tp_init(self, tuple.ptr(), kwargs.ptr()) < 0) {
    Py_CLEAR(self);
  }
  return self;
}

void value_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  ValueObject* v = as_value(self);
  PyObject_GC_UnTrack(self);
  // Forget the wrapper first: a weakref callback may reach this node again and must get a new one.
  if (v->node && v->node->wrapper == self) v->node->wrapper = nullptr;
  if (v->weakrefs != nullptr) PyObject_ClearWeakRefs(self);
  v->node.~ScalarPtr();  // may free a whole graph (iteratively: see Note [iterative teardown])
  type->tp_free(self);
  Py_DECREF(type);  // instances of heap types own a reference to their type
}

// --- attributes ------------------------------------------------------------------------------

PyObject* get_data(PyObject* self, void*) {
  const ScalarNode& n = *as_value(self)->node;
  return as_python_number(n.data(), n.data_is_int).release().ptr();
}

/// The setter of .data or .grad: a real number, remembered as an int when it was one.
template <void (ScalarNode::*set)(double), bool ScalarNode::* int_flag>
int set_number(PyObject* self, PyObject* value, void* closure) {
  // Exact floats and ints first, without the exception guard: the training loop's
  // `p.data -= lr * p.grad` and zero_grad's `p.grad = 0`.
  if (value != nullptr && (PyFloat_CheckExact(value) || PyLong_CheckExact(value))) {
    const bool is_int = PyLong_CheckExact(value);
    const double v = is_int ? PyLong_AsDouble(value) : PyFloat_AS_DOUBLE(value);
    if (is_int && v == -1.0 && PyErr_Occurred()) return -1;  // OverflowError: too large for a float
    ScalarNode& node = *as_value(self)->node;
    (node.*set)(v);
    node.*int_flag = is_int;
    return 0;
  }
  const char* what = static_cast<const char*>(closure);
  if (value == nullptr) {
    PyErr_Format(PyExc_AttributeError, "%s cannot be deleted", what);
    return -1;
  }
  return guarded(-1, [&] {
    const Number n = require_number(value, what);
    ScalarNode& node = *as_value(self)->node;
    (node.*set)(n.value);
    node.*int_flag = n.is_int;
    return 0;
  });
}

PyObject* get_grad(PyObject* self, void*) {
  const ScalarNode& n = *as_value(self)->node;
  return as_python_number(n.grad(), n.grad_is_int).release().ptr();
}

PyObject* get_op(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] {
    const ScalarNode& n = *as_value(self)->node;
    if (n.extras() != nullptr && !n.extras()->op_name.empty()) return PyUnicode_FromString(n.extras()->op_name.c_str());
    if (n.op() != ScalarOp::Pow) return PyUnicode_FromString(scalar_op_name(n.op()));
    py::str exponent = py::repr(as_python_number(n.exponent(), n.exponent_is_int));
    return PyUnicode_FromFormat("**%U", exponent.ptr());
  });
}

PyObject* get_label(PyObject* self, void*) {
  const ScalarExtras* extras = as_value(self)->node->extras();
  return PyUnicode_FromString(extras != nullptr ? extras->label.c_str() : "");
}

int set_label(PyObject* self, PyObject* value, void*) {
  if (value == nullptr || !PyUnicode_Check(value)) {
    PyErr_Format(PyExc_TypeError, "Value.label must be a str, got %s",
                 value == nullptr ? "a deletion" : Py_TYPE(value)->tp_name);
    return -1;
  }
  const char* text = PyUnicode_AsUTF8(value);
  if (text == nullptr) return -1;
  return guarded(-1, [&] {
    as_value(self)->node->mutable_extras().label = text;
    return 0;
  });
}

// Note [user gradient rules]
// micrograd lets a user build a node (`Value(data, (x,), 'exp')`) and give it a gradient rule
// (`out._backward = fn`), a closure that nearly always refers back to `out`. The node keeps the
// rule, so the rule outlives the wrapper variables; that makes a cycle node -> rule -> wrapper ->
// node which Python's collector can only see through the wrapper. Value is therefore a GC type,
// but a wrapper is tracked only while its node holds a rule, and reports the rule as its own only
// while it is the node's sole owner: a node still used by a live graph keeps its rule, and once
// its consumers are gone the next collection frees it. Plain values are never tracked, so the
// micrograd hot path pays nothing for this.
class PythonBackward final : public ScalarUserBackward {
 public:
  explicit PythonBackward(PyObject* fn) : fn_(fn) { Py_INCREF(fn); }
  PythonBackward(const PythonBackward&) = delete;
  PythonBackward& operator=(const PythonBackward&) = delete;
  ~PythonBackward() override {
    const PyGILState_STATE state = PyGILState_Ensure();
    Py_CLEAR(fn_);
    PyGILState_Release(state);
  }
  PyObject* fn() const { return fn_; }
  /// Drops the rule (the collector's tp_clear); the caller holds the GIL.
  void clear() { Py_CLEAR(fn_); }

  void run() override {
    const PyGILState_STATE state = PyGILState_Ensure();
    PyObject* result = fn_ != nullptr ? PyObject_CallNoArgs(fn_) : (Py_INCREF(Py_None), Py_None);
    if (result == nullptr) {
      py::error_already_set error;  // fetched under the GIL; rethrown where the sweep returns
      PyGILState_Release(state);
      throw error;
    }
    Py_DECREF(result);
    PyGILState_Release(state);
  }

 private:
  PyObject* fn_;
};

PythonBackward* python_backward(const ScalarNode& node) {
  const ScalarExtras* extras = node.extras();
  return extras != nullptr ? static_cast<PythonBackward*>(extras->user_backward.get()) : nullptr;
}

PyObject* local_backward(PyObject* self, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] {
    ScalarPtr node = as_value(self)->node;
    node->local_backward();
    Py_RETURN_NONE;
  });
}

PyMethodDef local_backward_def = {"_backward", local_backward, METH_NOARGS,
                                  "This value's own step of backward: its inputs' grads grow by the local "
                                  "derivative times its grad."};

PyObject* get_backward(PyObject* self, void*) {
  if (PythonBackward* rule = python_backward(*as_value(self)->node); rule != nullptr && rule->fn() != nullptr) {
    Py_INCREF(rule->fn());
    return rule->fn();
  }
  return PyCFunction_New(&local_backward_def, self);
}

int set_backward(PyObject* self, PyObject* value, void*) {
  if (value != nullptr && !PyCallable_Check(value)) {
    PyErr_Format(PyExc_TypeError, "Value._backward must be callable, got %s", Py_TYPE(value)->tp_name);
    return -1;
  }
  return guarded(-1, [&] {
    ScalarNode& node = *as_value(self)->node;
    if (value == nullptr) {
      if (node.extras() != nullptr) node.mutable_extras().user_backward.reset();
      return 0;
    }
    node.mutable_extras().user_backward = std::make_unique<PythonBackward>(value);
    if (!PyObject_GC_IsTracked(self)) PyObject_GC_Track(self);
    return 0;
  });
}

int value_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  const ScalarPtr& node = as_value(self)->node;
  if (node && node.use_count() == 1) {
    if (PythonBackward* rule = python_backward(*node)) Py_VISIT(rule->fn());
  }
  return 0;
}

int value_clear(PyObject* self) {
  const ScalarPtr& node = as_value(self)->node;
  if (node && node.use_count() == 1) {
    if (PythonBackward* rule = python_backward(*node)) rule->clear();
  }
  return 0;
}

PyObject* get_prev(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] {
    const ScalarNode& node = *as_value(self)->node;
    py::tuple out(node.input_count());
    for (std::size_t i = 0; i < node.input_count(); ++i) out[i] = wrap_value(node.input(i));
    return out.release().ptr();
  });
}

PyGetSetDef value_getset[] = {
    {"data", get_data, set_number<&ScalarNode::set_data, &ScalarNode::data_is_int>,
     "The value (float64; one set from an int prints as an int, as in micrograd).", const_cast<char*>("Value.data")},
    {"grad", get_grad, set_number<&ScalarNode::set_grad, &ScalarNode::grad_is_int>,
     "d(root)/d(this value) after root.backward(); leaves accumulate over calls.", const_cast<char*>("Value.grad")},
    {"_op", get_op, nullptr, "The op that produced this value ('' for a leaf).", nullptr},
    {"_prev", get_prev, nullptr, "The values this one was computed from, in the order the op took them.", nullptr},
    {"label", get_label, set_label, "A name for drawings (micrograd lecture's draw_dot); '' by default.", nullptr},
    {"_backward", get_backward, set_backward,
     "This value's own backward step as a callable; assign a function to give a custom node its rule.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMemberDef value_members[] = {{"__weaklistoffset__", T_PYSSIZET, offsetof(ValueObject, weakrefs), READONLY, nullptr},
                               {nullptr, 0, 0, 0, nullptr}};

// --- methods ---------------------------------------------------------------------------------

using ScalarUnaryFn = ScalarPtr (*)(const ScalarPtr&);

template <ScalarUnaryFn op>
PyObject* unary(PyObject* self, PyObject* = nullptr) {
  return guarded<PyObject*>(nullptr, [&] { return wrap_value(op(as_value(self)->node)).release().ptr(); });
}

// Note [one backward at a time]
// The sweep runs with the GIL released so other Python threads can work meanwhile. Two sweeps
// at once could share nodes (one model's parameters used by two threads), and their traversal
// stamps and gradient sums would then race; a process-wide mutex, taken after the GIL is
// released so neither lock waits on the other, lets one sweep run at a time.
std::recursive_mutex backward_mutex;  // recursive: a user's rule may call backward()

PyObject* backward(PyObject* self, PyObject*) {
  ScalarPtr root = as_value(self)->node;
  std::exception_ptr failure;
  Py_BEGIN_ALLOW_THREADS try {
    std::lock_guard<std::recursive_mutex> one_at_a_time(backward_mutex);
    scalar_backward(*root);
  } catch (...) {  // must not unwind past the GIL re-acquisition; a user's rule may have raised
    failure = std::current_exception();
  }
  Py_END_ALLOW_THREADS if (failure) return guarded<PyObject*>(nullptr,
                                                              [&]() -> PyObject* { std::rethrow_exception(failure); });
  Py_RETURN_NONE;
}

PyMethodDef value_methods[] = {{"backward", backward, METH_NOARGS,
                                "Backpropagates from this value: its grad becomes 1 and every value it depends on gets "
                                "d(this)/d(value) added to its grad."},
                               {"relu", unary<relu>, METH_NOARGS, "max(0, x)."},
                               {"tanh", unary<tanh>, METH_NOARGS, "tanh(x)."},
                               {"exp", unary<exp>, METH_NOARGS, "e**x."},
                               {"log", unary<log>, METH_NOARGS, "Natural log (IEEE: -inf at 0, nan below 0)."},
                               {"sigmoid", unary<sigmoid>, METH_NOARGS, "1 / (1 + e**-x)."},
                               {nullptr, nullptr, 0, nullptr}};

// --- number slots ----------------------------------------------------------------------------
// Python calls nb_add(a, b) with the Value on either side and a Value or a number on the other;
// anything else gives NotImplemented, so Python raises its own TypeError naming both types.

using ScalarBinaryFn = ScalarPtr (*)(const ScalarPtr&, const ScalarPtr&);

template <ScalarBinaryFn op>
PyObject* binary(PyObject* a, PyObject* b) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    ScalarPtr lhs, rhs;
    if (const ScalarPtr* held_a = value_holder(a)) {
      lhs = *held_a;
      rhs = as_operand(b);
    } else {
      // b is the Value (Python calls the slot for a reflected op too); a, known not to be one,
      // can only be a number: `1 + v`, `np.int64(-1) * v`, sum()'s `0 + v`.
      Number n;
      if (read_number(a, n)) lhs = make_leaf(n);
      if (const ScalarPtr* held_b = value_holder(b)) rhs = *held_b;
    }
    if (!lhs || !rhs) Py_RETURN_NOTIMPLEMENTED;
    return wrap_value(op(lhs, rhs)).release().ptr();
  });
}

PyObject* power(PyObject* base, PyObject* exponent, PyObject* modulus) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const ScalarPtr* held = value_holder(base);
    if (held == nullptr) Py_RETURN_NOTIMPLEMENTED;  // number ** Value: not a micrograd op
    if (modulus != Py_None) throw py::type_error("pow() with a modulus is not defined for Value");
    Number e;
    if (!read_number(exponent, e)) {
      throw py::type_error("Value ** exponent: the exponent must be an int or float (as in micrograd), got " +
                           type_name(exponent));
    }
    ScalarPtr out = pow(*held, e.value);
    out->exponent_is_int = e.is_int;
    return wrap_value(out).release().ptr();
  });
}

PyObject* repr(PyObject* self) {
  return guarded<PyObject*>(nullptr, [&] {
    const ScalarNode& n = *as_value(self)->node;
    py::str data = py::repr(as_python_number(n.data(), n.data_is_int));
    py::str grad = py::repr(as_python_number(n.grad(), n.grad_is_int));
    return PyUnicode_FromFormat("Value(data=%U, grad=%U)", data.ptr(), grad.ptr());
  });
}

PyType_Slot value_slots[] = {
    {Py_tp_doc, const_cast<char*>("Value(data, _children=(), _op='', label=''): a float64 scalar in a computation "
                                  "graph, with the gradient backward() leaves in it.")},
    {Py_tp_new, reinterpret_cast<void*>(value_new)},
    {Py_tp_init, reinterpret_cast<void*>(value_init)},
    {Py_tp_dealloc, reinterpret_cast<void*>(value_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(value_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(value_clear)},
    {Py_tp_repr, reinterpret_cast<void*>(repr)},
    {Py_tp_getset, value_getset},
    {Py_tp_members, value_members},
    {Py_tp_methods, value_methods},
    {Py_nb_add, reinterpret_cast<void*>(binary<add>)},
    {Py_nb_subtract, reinterpret_cast<void*>(binary<sub>)},
    {Py_nb_multiply, reinterpret_cast<void*>(binary<mul>)},
    {Py_nb_true_divide, reinterpret_cast<void*>(binary<div>)},
    {Py_nb_power, reinterpret_cast<void*>(power)},
    {Py_nb_negative, reinterpret_cast<void*>(unary<neg>)},
    {0, nullptr}};

PyType_Spec value_spec = {"chaingrad.Value", sizeof(ValueObject), 0,
                          Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, value_slots};

}  // namespace

const ScalarPtr* value_holder(py::handle h) {
  PyObject* o = h.ptr();
  if (!PyObject_TypeCheck(o, value_type)) return nullptr;
  return &as_value(o)->node;
}

py::object wrap_value(const ScalarPtr& node) {
  if (node->wrapper != nullptr) {
    return py::reinterpret_borrow<py::object>(static_cast<PyObject*>(node->wrapper));
  }
  PyObject* self = new_wrapper(value_type, node);
  if (self == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(self);
}

void add_value_type(py::module_& m) {
  PyObject* type = PyType_FromSpec(&value_spec);
  if (type == nullptr) throw py::error_already_set();
  value_type = reinterpret_cast<PyTypeObject*>(type);
  // Calls of the type itself go through vectorcall; the field is not inherited by subclasses.
  value_type->tp_vectorcall = value_vectorcall;
  // numpy scalars on the left (np.int64(-1) * v) must defer to Value's reflected operators
  // instead of building a 0-d object array.
  if (PyDict_SetItemString(value_type->tp_dict, "__array_ufunc__", Py_None) < 0) {
    throw py::error_already_set();
  }
  PyType_Modified(value_type);
  m.add_object("Value", py::reinterpret_steal<py::object>(type));
}

}  // namespace chaingrad
