#include "bindings/value_type.h"

#include <structmember.h>

#include <cmath>
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

int value_init(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"data", nullptr};
  PyObject* data = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:Value", const_cast<char**>(keywords), &data)) {
    return -1;
  }
  return guarded(-1, [&] {
    const Number n = require_number(data, "Value(data)");
    ScalarNode& node = *as_value(self)->node;
    node.set_data(n.value);
    node.data_is_int = n.is_int;
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
    if (n.op() != ScalarOp::Pow) return PyUnicode_FromString(scalar_op_name(n.op()));
    py::str exponent = py::repr(as_python_number(n.exponent(), n.exponent_is_int));
    return PyUnicode_FromFormat("**%U", exponent.ptr());
  });
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
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMemberDef value_members[] = {{"__weaklistoffset__", T_PYSSIZET, offsetof(ValueObject, weakrefs), READONLY, nullptr},
                               {nullptr, 0, 0, 0, nullptr}};

// --- methods ---------------------------------------------------------------------------------

using UnaryOp = ScalarPtr (*)(const ScalarPtr&);

template <UnaryOp op>
PyObject* unary(PyObject* self, PyObject* = nullptr) {
  return guarded<PyObject*>(nullptr, [&] { return wrap_value(op(as_value(self)->node)).release().ptr(); });
}

// Note [one backward at a time]
// The sweep runs with the GIL released so other Python threads can work meanwhile. Two sweeps
// at once could share nodes (one model's parameters used by two threads), and their traversal
// stamps and gradient sums would then race; a process-wide mutex, taken after the GIL is
// released so neither lock waits on the other, lets one sweep run at a time.
std::mutex backward_mutex;

PyObject* backward(PyObject* self, PyObject*) {
  ScalarPtr root = as_value(self)->node;
  bool out_of_memory = false;
  Py_BEGIN_ALLOW_THREADS try {
    std::lock_guard<std::mutex> one_at_a_time(backward_mutex);
    scalar_backward(*root);
  } catch (const std::bad_alloc&) {  // must not unwind past the GIL re-acquisition
    out_of_memory = true;
  }
  Py_END_ALLOW_THREADS if (out_of_memory) return PyErr_NoMemory();
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

using BinaryOp = ScalarPtr (*)(const ScalarPtr&, const ScalarPtr&);

template <BinaryOp op>
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
    {Py_tp_doc, const_cast<char*>("Value(data): a float64 scalar in a computation graph, with the gradient "
                                  "backward() leaves in it.")},
    {Py_tp_new, reinterpret_cast<void*>(value_new)},
    {Py_tp_init, reinterpret_cast<void*>(value_init)},
    {Py_tp_dealloc, reinterpret_cast<void*>(value_dealloc)},
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

PyType_Spec value_spec = {"chaingrad.Value", sizeof(ValueObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
                          value_slots};

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
