#include "bindings/tensor_type.h"

#include <structmember.h>

#include <climits>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "bindings/errors.h"
#include "bindings/indexing.h"
#include "bindings/numpy.h"
#include "bindings/operands.h"
#include "tensor/autograd.h"
#include "tensor/device.h"
#include "tensor/ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

// Note [Tensor as a CPython type]
// The notes' loops run thousands of tiny ops (x*x - 4*x + 4 on a 0-d tensor), so per-op overhead
// from Python is what they measure. TensorBase is a plain CPython type whose number slots go
// straight to C++, as Value does; chaingrad.Tensor subclasses it in Python (with __slots__ = ())
// for the long tail of methods, and C++ creates instances of that subclass once it is registered.
struct TensorObject {
  PyObject_HEAD TensorPtr impl;
  PyObject* weakrefs;
};

struct GradFnObject {
  PyObject_HEAD NodePtr node;
};

// Set once at import (add_tensor_type, register_python_types) and never changed afterwards.
PyTypeObject* base_type = nullptr;
PyTypeObject* tensor_class = nullptr;  // chaingrad.Tensor
PyTypeObject* grad_fn_type = nullptr;
PyObject* size_class = nullptr;            // chaingrad.Size
PyObject* dtype_objects[kNumDTypes] = {};  // indexed by DType

TensorObject* as_tensor(PyObject* o) { return reinterpret_cast<TensorObject*>(o); }

// --- operands --------------------------------------------------------------------------------

/// A binary op's operand with its rank in type promotion: dimensioned tensors (2) decide the
/// dtype over 0-d tensors (1), which decide over Python numbers (0), unless the lower-ranked
/// operand is of a higher category (bool < integer < floating), as in PyTorch.
struct Operand {
  TensorPtr t;
  int rank = 0;
};

/// The single element of an integer tensor, exactly (item() goes through a double).
std::int64_t int_value(const TensorPtr& t) {
  return *cast(to_device(t, Device{}), DType::Int64)->data_as<std::int64_t>();
}

TensorPtr int_scalar(std::int64_t v) {
  TensorPtr t = empty({}, DType::Int64);
  *t->data_as<std::int64_t>() = v;
  return t;
}

bool read_operand(PyObject* o, Operand& out) {
  if (TensorImpl* t = tensor_of(o)) {
    out = {TensorPtr(t), t->ndim() > 0 ? 2 : 1};
    return true;
  }
  if (PyBool_Check(o)) {
    out = {scalar_tensor(o == Py_True ? 1.0 : 0.0, DType::Bool), 0};
    return true;
  }
  if (PyLong_Check(o)) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow != 0) throw std::overflow_error("Python int too large to convert to an int64 tensor");
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    out = {int_scalar(v), 0};
    return true;
  }
  if (py::isinstance<py::array>(o)) {  // an ndarray operand acts as a tensor of its data
    py::array a = py::reinterpret_borrow<py::array>(o);
    const char kind = a.dtype().kind();
    // numpy's types without a chaingrad dtype (uint16, uint32, uint64, longdouble) widen
    if (!dtype_of_numpy(a.dtype())) {
      if (kind == 'i' || kind == 'u') a = a.attr("astype")("int64");
      else if (kind == 'f') a = a.attr("astype")("float64");
    }
    TensorPtr t = from_numpy(a, NumpyCopy::IfNeeded);
    out = {t, t->ndim() > 0 ? 2 : 1};
    return true;
  }
  Number n;
  if (!read_number(o, n)) return false;
  if (!n.is_int) {
    out = {scalar_tensor(n.value, DType::Float64), 0};
    return true;
  }
  // a numpy integer, taken exactly (np.uint64(2**63) does not fit: OverflowError, not a bad cast)
  const py::object exact = py::reinterpret_steal<py::object>(PyNumber_Index(o));
  if (!exact) throw py::error_already_set();
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(exact.ptr(), &overflow);
  if (overflow != 0) throw std::overflow_error("numpy integer too large to convert to an int64 tensor");
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  out = {int_scalar(v), 0};
  return true;
}

int category(DType d) { return dtype_category(d); }

// PyTorch's rule (torch.result_type): the higher category wins; within a category the higher rank
// decides, and operands of one rank promote. A Python number of a higher category than the
// tensors takes the default dtype of its category (float32, int64), a 0-d tensor keeps its own.
DType result_type(const Operand& a, const Operand& b) {
  if (a.rank == b.rank) return promote(a.t->dtype(), b.t->dtype());
  const Operand& hi = a.rank > b.rank ? a : b;
  const Operand& lo = a.rank > b.rank ? b : a;
  if (category(lo.t->dtype()) <= category(hi.t->dtype())) return hi.t->dtype();
  if (lo.rank == 0) return category(lo.t->dtype()) == 2 ? DType::Float32 : DType::Int64;
  return lo.t->dtype();
}

// --- number slots ----------------------------------------------------------------------------

/// The dtype a op b computes in: PyTorch's promotion, then the op's dtype rule (true division and
/// atan2 of integers compute in float32).
DType op_dtype(BinaryOp op, const Operand& x, const Operand& y) {
  const DType dtype = result_type(x, y);
  return dtype_rule(op) == DTypeRule::Float && !is_floating(dtype) ? DType::Float32 : dtype;
}

/// a op b, or nullptr (NotImplemented) when an operand is not a tensor, number or ndarray.
TensorPtr binary_result(BinaryOp op, PyObject* a, PyObject* b) {
  Operand x, y;
  if (!read_operand(a, x) || !read_operand(b, y)) return nullptr;
  const DType dtype = op_dtype(op, x, y);
  if (op == BinaryOp::Pow && y.rank == 0 && x.rank > 0 && is_floating(dtype)) {
    return pow_scalar(to_dtype(x.t, dtype, false), item(y.t));
  }
  return arith(op, x.t, y.t, dtype, /*other_is_number=*/y.rank == 0);
}

template <BinaryOp op>
PyObject* binary_slot(PyObject* a, PyObject* b) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const TensorPtr out = binary_result(op, a, b);
    if (!out) Py_RETURN_NOTIMPLEMENTED;
    return wrap_tensor(out).release().ptr();
  });
}

PyObject* power_slot(PyObject* a, PyObject* b, PyObject* modulus) {
  if (modulus != Py_None) {
    PyErr_SetString(PyExc_TypeError, "pow() with a modulus is not supported for tensors");
    return nullptr;
  }
  return binary_slot<BinaryOp::Pow>(a, b);
}

/// Whether x op= y can be computed straight into x: autograd records nothing, x is contiguous and
/// keeps its shape and dtype, and y is x itself or lies in other memory (a shifted view of x's
/// storage would be read after being overwritten).
bool writes_in_place(const TensorPtr& x, const TensorPtr& y, DType dtype) {
  if (grad_enabled() && (x->requires_grad || y->requires_grad)) return false;
  if (dtype != x->dtype() || !x->is_contiguous()) return false;
  if (x->device() != y->device() && !(y->ndim() == 0 && !y->is_cuda())) return false;
  if (broadcast_shapes(x->shape(), y->shape(), "in-place op") != x->shape()) return false;
  const bool same_view = y->storage() == x->storage() && y->offset() == x->offset() && y->shape() == x->shape() &&
                         y->strides() == x->strides() && y->dtype() == x->dtype();
  return y->storage() != x->storage() || same_view;
}

template <BinaryOp op>
PyObject* in_place_slot(PyObject* self, PyObject* other) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    Operand x, y;
    if (tensor_of(self) == nullptr || !read_operand(self, x) || !read_operand(other, y)) {
      Py_RETURN_NOTIMPLEMENTED;
    }
    const DType dtype = op_dtype(op, x, y);
    if (category(dtype) > category(x.t->dtype())) {
      throw std::runtime_error(std::string("result type ") + scalar_type_name(dtype) +
                               " can't be cast to the desired output type " + scalar_type_name(x.t->dtype()));
    }
    check_in_place(x.t, y.t->requires_grad, binary_op_name(op));
    if (writes_in_place(x.t, y.t, dtype)) {  // nothing to record: compute straight into x
      check_untracked_write(x.t, binary_op_name(op));
      binary_into(op, x.t, x.t, y.t, dtype);
      x.t->storage()->bump_version();
    } else {
      // x is about to be overwritten: an op whose gradient reads x's old value gets a copy of it
      const bool needs_old_x =
          grad_enabled() && (x.t->requires_grad || y.t->requires_grad) && arith_saves_first(op, y.t->requires_grad);
      assign_in_place(x.t, arith(op, needs_old_x ? clone_op(x.t) : x.t, y.t, dtype), binary_op_name(op));
    }
    Py_INCREF(self);
    return self;
  });
}

PyObject* matmul_slot(PyObject* a, PyObject* b) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    TensorImpl* x = tensor_of(a);
    TensorImpl* y = tensor_of(b);
    if (x == nullptr || y == nullptr) Py_RETURN_NOTIMPLEMENTED;
    return wrap_tensor(matmul_op(TensorPtr(x), TensorPtr(y))).release().ptr();
  });
}

template <UnaryOp op>
PyObject* unary_slot(PyObject* self) {
  return guarded<PyObject*>(nullptr, [&] {
    const TensorPtr t = as_tensor(self)->impl;  // owned: see Note [owned operands]
    return wrap_tensor(apply_unary(op, t)).release().ptr();
  });
}

PyObject* positive_slot(PyObject* self) {
  Py_INCREF(self);
  return self;
}

// Note [owned operands]
// A kernel on a large tensor releases the GIL, and another thread may then run `t.data = ...`,
// which swaps the impl of t's Python object. Slots therefore hold their own reference to the
// impl instead of a reference to the object's field.

/// self's tensor, checked to hold exactly one element.
TensorPtr single(PyObject* self, const char* what) {
  TensorPtr t = as_tensor(self)->impl;
  if (t->numel() != 1) {
    throw std::runtime_error(std::string(what) + " of a Tensor with " + std::to_string(t->numel()) +
                             " values is ambiguous (only one-element tensors convert)");
  }
  return t;
}

double single_value(PyObject* self, const char* what) { return item(single(self, what)); }

int bool_slot(PyObject* self) {
  return guarded(-1, [&] { return single_value(self, "Boolean value") != 0.0 ? 1 : 0; });
}

PyObject* float_slot(PyObject* self) {
  return guarded<PyObject*>(nullptr, [&] { return PyFloat_FromDouble(single_value(self, "float()")); });
}

PyObject* int_slot(PyObject* self) {
  return guarded<PyObject*>(nullptr, [&] {
    const TensorPtr t = single(self, "int()");
    if (dtype_category(t->dtype()) == 1) return PyLong_FromLongLong(int_value(t));
    return PyLong_FromDouble(std::trunc(item(t)));
  });
}

PyObject* index_slot(PyObject* self) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const TensorPtr& t = as_tensor(self)->impl;
    if (is_floating(t->dtype()) || t->numel() != 1) {
      throw py::type_error("only integer tensors of a single element can be converted to an index");
    }
    if (dtype_category(t->dtype()) == 1) return PyLong_FromLongLong(int_value(t));
    return PyLong_FromLongLong(static_cast<long long>(item(t)));
  });
}

PyObject* richcompare(PyObject* a, PyObject* b, int op) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    Operand x, y;
    if (!read_operand(a, x) || !read_operand(b, y)) Py_RETURN_NOTIMPLEMENTED;
    static const BinaryOp ops[] = {BinaryOp::Lt, BinaryOp::Le, BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Gt, BinaryOp::Ge};
    return wrap_tensor(binary(ops[op], x.t, y.t, result_type(x, y))).release().ptr();  // no gradient
  });
}

Py_hash_t hash_slot(PyObject* self) { return static_cast<Py_hash_t>(reinterpret_cast<std::uintptr_t>(self) >> 4); }

// --- indexing --------------------------------------------------------------------------------

PyObject* getitem(PyObject* self, PyObject* key) {
  return guarded<PyObject*>(nullptr, [&] {
    const TensorPtr t = as_tensor(self)->impl;  // owned: see Note [owned operands]
    return wrap_tensor(index_by_key(t, key)).release().ptr();
  });
}

int setitem(PyObject* self, PyObject* key, PyObject* value) {
  if (value == nullptr) {
    PyErr_SetString(PyExc_TypeError, "tensor elements cannot be deleted");
    return -1;
  }
  return guarded(-1, [&] {
    const TensorPtr t = as_tensor(self)->impl;  // owned: see Note [owned operands]
    Operand v;
    if (!read_operand(value, v)) {
      throw py::type_error(std::string("can only assign a Tensor or a number to a Tensor slice, got ") +
                           Py_TYPE(value)->tp_name);
    }
    assign_by_key(t, key, v.t, /*value_is_number=*/v.rank == 0);
    return 0;
  });
}

Py_ssize_t length(PyObject* self) {
  const TensorPtr& t = as_tensor(self)->impl;
  if (t->ndim() == 0) {
    PyErr_SetString(PyExc_TypeError, "len() of a 0-d tensor");
    return -1;
  }
  return static_cast<Py_ssize_t>(t->shape()[0]);
}

// --- attributes ------------------------------------------------------------------------------

PyObject* get_shape(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] {
    const Shape& shape = as_tensor(self)->impl->shape();
    py::tuple dims(shape.size());
    for (std::size_t i = 0; i < shape.size(); ++i) dims[i] = py::int_(shape[i]);
    if (size_class == nullptr) return dims.release().ptr();
    return PyObject_CallOneArg(size_class, dims.ptr());
  });
}

PyObject* get_dtype(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] { return dtype_object(as_tensor(self)->impl->dtype()).release().ptr(); });
}

/// The tensor, a view first given its base's current history (see Note [in-place ops on views]).
TensorImpl& refreshed(PyObject* self) {
  TensorImpl& t = *as_tensor(self)->impl;
  refresh_view_history(t);
  return t;
}

PyObject* get_requires_grad(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(refreshed(self).requires_grad); });
}

int set_requires_grad(PyObject* self, PyObject* value, void*) {
  return guarded(-1, [&] {
    const TensorPtr& t = as_tensor(self)->impl;
    const int flag = value ? PyObject_IsTrue(value) : -1;
    if (flag < 0) throw py::type_error("requires_grad must be a bool");
    if (t->grad_fn) {
      throw std::runtime_error("you can only change requires_grad flags of leaf variables.");
    }
    if (flag && !is_floating(t->dtype())) {
      throw std::runtime_error("only Tensors of floating point dtype can require gradients");
    }
    t->requires_grad = flag != 0;
    return 0;
  });
}

PyObject* get_grad(PyObject* self, void*) {
  const TensorPtr& g = as_tensor(self)->impl->grad;
  if (!g) Py_RETURN_NONE;
  return guarded<PyObject*>(nullptr, [&] { return wrap_tensor(g).release().ptr(); });
}

int set_grad(PyObject* self, PyObject* value, void*) {
  return guarded(-1, [&] {
    const TensorPtr& t = as_tensor(self)->impl;
    if (value == nullptr || value == Py_None) {
      t->grad.reset();
      return 0;
    }
    TensorImpl* g = tensor_of(value);
    if (g == nullptr)
      throw py::type_error(std::string("assigned grad expected to be a Tensor or None but got ") +
                           Py_TYPE(value)->tp_name);
    // a gradient that is itself in a graph would tie that graph to this tensor: keep its data only
    assign_grad(t, TensorPtr(g), /*keep_graph=*/false);
    return 0;
  });
}

PyObject* wrap_grad_fn(const NodePtr& node) {
  if (!node) Py_RETURN_NONE;
  PyObject* o = grad_fn_type->tp_alloc(grad_fn_type, 0);
  if (o == nullptr) return nullptr;
  new (&reinterpret_cast<GradFnObject*>(o)->node) NodePtr(node);
  return o;
}

PyObject* get_grad_fn(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] { return wrap_grad_fn(refreshed(self).grad_fn); });
}

PyObject* get_is_leaf(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] { return PyBool_FromLong(!refreshed(self).grad_fn); });
}
PyObject* get_retains_grad(PyObject* self, void*) {
  const TensorImpl& t = *as_tensor(self)->impl;
  return PyBool_FromLong(t.retains_grad && t.grad_fn);
}

PyObject* get_ndim(PyObject* self, void*) { return PyLong_FromLongLong(as_tensor(self)->impl->ndim()); }

PyObject* get_version(PyObject* self, void*) {
  return PyLong_FromUnsignedLongLong(as_tensor(self)->impl->storage()->version());
}

PyObject* get_data(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] { return wrap_tensor(detach_op(as_tensor(self)->impl)).release().ptr(); });
}

PyGetSetDef tensor_getset[] = {
    {"shape", get_shape, nullptr, "The size of each dimension (a chaingrad.Size).", nullptr},
    {"dtype", get_dtype, nullptr, "The element type.", nullptr},
    {"requires_grad", get_requires_grad, set_requires_grad, "Whether backward() computes a gradient for it.", nullptr},
    {"grad", get_grad, set_grad, "The gradient accumulated by backward(), or None.", nullptr},
    {"grad_fn", get_grad_fn, nullptr, "The node that produced this tensor, or None for a leaf.", nullptr},
    {"is_leaf", get_is_leaf, nullptr, "True for a tensor not produced by a recorded op.", nullptr},
    {"retains_grad", get_retains_grad, nullptr, "Whether retain_grad() was called on this non-leaf tensor.", nullptr},
    {"ndim", get_ndim, nullptr, "The number of dimensions.", nullptr},
    {"_version", get_version, nullptr, "How many in-place changes its storage has seen.", nullptr},
    {"data", get_data, nullptr, "The same data, detached from the graph.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyMemberDef tensor_members[] = {{"__weaklistoffset__", T_PYSSIZET, offsetof(TensorObject, weakrefs), READONLY, nullptr},
                                {nullptr, 0, 0, 0, nullptr}};

// --- hot methods -----------------------------------------------------------------------------

PyObject* item_method(PyObject* self, PyObject*) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const TensorPtr& t = single(self, "item()");
    if (dtype_category(t->dtype()) == 1) return PyLong_FromLongLong(int_value(t));
    const double v = item(t);
    if (t->dtype() == DType::Bool) return PyBool_FromLong(v != 0.0);
    return PyFloat_FromDouble(v);
  });
}

PyObject* zero_method(PyObject* self, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] {
    const TensorPtr t = as_tensor(self)->impl;  // owned: see Note [owned operands]
    check_in_place(t, false, "zero_");
    check_untracked_write(t, "zero_");
    fill(t, 0.0);
    t->storage()->bump_version();
    Py_INCREF(self);
    return self;
  });
}

PyObject* detach_method(PyObject* self, PyObject*) {
  return guarded<PyObject*>(nullptr, [&] { return wrap_tensor(detach_op(as_tensor(self)->impl)).release().ptr(); });
}

PyMethodDef tensor_methods[] = {
    {"item", item_method, METH_NOARGS, "The value of a one-element tensor as a Python number."},
    {"zero_", zero_method, METH_NOARGS, "Fills the tensor with zeros in place; returns it."},
    {"detach", detach_method, METH_NOARGS, "A tensor sharing the data, outside the graph."},
    {nullptr, nullptr, 0, nullptr}};

// --- lifecycle -------------------------------------------------------------------------------

PyObject* tensor_new(PyTypeObject*, PyObject*, PyObject*) {
  PyErr_SetString(PyExc_TypeError, "create tensors with chaingrad.tensor(data) or a factory (zeros, ones, randn, ...)");
  return nullptr;
}

void tensor_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  TensorObject* t = as_tensor(self);
  // Forget the wrapper first: a weakref callback may reach this tensor again and must get a new one.
  if (t->impl && t->impl->wrapper == self) t->impl->wrapper = nullptr;
  if (t->weakrefs != nullptr) PyObject_ClearWeakRefs(self);
  t->impl.~TensorPtr();
  type->tp_free(self);
  Py_DECREF(type);
}

PyType_Slot tensor_slots[] = {{Py_tp_doc, const_cast<char*>("The C base of chaingrad.Tensor.")},
                              {Py_tp_new, reinterpret_cast<void*>(tensor_new)},
                              {Py_tp_dealloc, reinterpret_cast<void*>(tensor_dealloc)},
                              {Py_tp_getset, tensor_getset},
                              {Py_tp_members, tensor_members},
                              {Py_tp_methods, tensor_methods},
                              {Py_tp_richcompare, reinterpret_cast<void*>(richcompare)},
                              {Py_tp_hash, reinterpret_cast<void*>(hash_slot)},
                              {Py_nb_add, reinterpret_cast<void*>(binary_slot<BinaryOp::Add>)},
                              {Py_nb_subtract, reinterpret_cast<void*>(binary_slot<BinaryOp::Sub>)},
                              {Py_nb_multiply, reinterpret_cast<void*>(binary_slot<BinaryOp::Mul>)},
                              {Py_nb_true_divide, reinterpret_cast<void*>(binary_slot<BinaryOp::Div>)},
                              {Py_nb_remainder, reinterpret_cast<void*>(binary_slot<BinaryOp::Remainder>)},
                              {Py_nb_power, reinterpret_cast<void*>(power_slot)},
                              {Py_nb_matrix_multiply, reinterpret_cast<void*>(matmul_slot)},
                              {Py_nb_inplace_add, reinterpret_cast<void*>(in_place_slot<BinaryOp::Add>)},
                              {Py_nb_inplace_subtract, reinterpret_cast<void*>(in_place_slot<BinaryOp::Sub>)},
                              {Py_nb_inplace_multiply, reinterpret_cast<void*>(in_place_slot<BinaryOp::Mul>)},
                              {Py_nb_inplace_true_divide, reinterpret_cast<void*>(in_place_slot<BinaryOp::Div>)},
                              {Py_nb_inplace_remainder, reinterpret_cast<void*>(in_place_slot<BinaryOp::Remainder>)},
                              {Py_nb_negative, reinterpret_cast<void*>(unary_slot<UnaryOp::Neg>)},
                              {Py_nb_absolute, reinterpret_cast<void*>(unary_slot<UnaryOp::Abs>)},
                              {Py_nb_positive, reinterpret_cast<void*>(positive_slot)},
                              {Py_nb_bool, reinterpret_cast<void*>(bool_slot)},
                              {Py_nb_float, reinterpret_cast<void*>(float_slot)},
                              {Py_nb_int, reinterpret_cast<void*>(int_slot)},
                              {Py_nb_index, reinterpret_cast<void*>(index_slot)},
                              {Py_mp_subscript, reinterpret_cast<void*>(getitem)},
                              {Py_mp_ass_subscript, reinterpret_cast<void*>(setitem)},
                              {Py_mp_length, reinterpret_cast<void*>(length)},
                              {0, nullptr}};

PyType_Spec tensor_spec = {"chaingrad._core.TensorBase", sizeof(TensorObject), 0,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, tensor_slots};

// --- grad_fn objects -------------------------------------------------------------------------

const char* node_name(const NodePtr& node) { return static_cast<TensorNode&>(*node).name(); }

PyObject* grad_fn_name(PyObject* self, PyObject*) {
  return PyUnicode_FromString(node_name(reinterpret_cast<GradFnObject*>(self)->node));
}

PyObject* grad_fn_repr(PyObject* self) {
  return PyUnicode_FromFormat("<%s object at %p>", node_name(reinterpret_cast<GradFnObject*>(self)->node), self);
}

PyObject* grad_fn_next(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&] {
    const auto& inputs = reinterpret_cast<GradFnObject*>(self)->node->inputs();
    py::tuple out(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      out[i] = py::make_tuple(py::reinterpret_steal<py::object>(wrap_grad_fn(inputs[i])), 0);
    }
    return out.release().ptr();
  });
}

// A node is wrapped anew each time it is reached (grad_fn, next_functions), so two wrappers compare
// and hash by the node they hold: a graph walker can know a node it has already visited.
const Node* grad_fn_node(PyObject* o) { return reinterpret_cast<GradFnObject*>(o)->node.get(); }

PyObject* grad_fn_richcompare(PyObject* self, PyObject* other, int op) {
  if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(other, grad_fn_type)) Py_RETURN_NOTIMPLEMENTED;
  bool same = grad_fn_node(self) == grad_fn_node(other);
  return PyBool_FromLong(op == Py_EQ ? same : !same);
}

Py_hash_t grad_fn_hash(PyObject* self) {
  auto h = static_cast<Py_hash_t>(reinterpret_cast<std::uintptr_t>(grad_fn_node(self)) >> 4);
  return h == -1 ? -2 : h;
}

// AccumulateGrad's leaf, as PyTorch's AccumulateGrad.variable; other nodes have no such attribute.
PyObject* grad_fn_variable(PyObject* self, void*) {
  return guarded<PyObject*>(nullptr, [&]() -> PyObject* {
    const auto* sink = dynamic_cast<const AccumulateGrad*>(grad_fn_node(self));
    if (sink == nullptr) {
      PyErr_Format(PyExc_AttributeError, "'%s' object has no attribute 'variable'",
                   node_name(reinterpret_cast<GradFnObject*>(self)->node));
      return nullptr;
    }
    return wrap_tensor(sink->leaf()).release().ptr();
  });
}

PyObject* grad_fn_new(PyTypeObject*, PyObject*, PyObject*) {
  PyErr_SetString(PyExc_TypeError, "GradFn objects are created by autograd, not directly");
  return nullptr;
}

void grad_fn_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  reinterpret_cast<GradFnObject*>(self)->node.~NodePtr();
  type->tp_free(self);
  Py_DECREF(type);
}

PyMethodDef grad_fn_methods[] = {{"name", grad_fn_name, METH_NOARGS, "The node's name, e.g. 'MulBackward0'."},
                                 {nullptr, nullptr, 0, nullptr}};

PyGetSetDef grad_fn_getset[] = {
    {"next_functions", grad_fn_next, nullptr, "The nodes the gradient flows to next, as (node, 0) pairs.", nullptr},
    {"variable", grad_fn_variable, nullptr, "An AccumulateGrad node's leaf tensor.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot grad_fn_slots[] = {{Py_tp_doc, const_cast<char*>("A node of the autograd graph (a tensor's grad_fn).")},
                               {Py_tp_new, reinterpret_cast<void*>(grad_fn_new)},
                               {Py_tp_dealloc, reinterpret_cast<void*>(grad_fn_dealloc)},
                               {Py_tp_repr, reinterpret_cast<void*>(grad_fn_repr)},
                               {Py_tp_richcompare, reinterpret_cast<void*>(grad_fn_richcompare)},
                               {Py_tp_hash, reinterpret_cast<void*>(grad_fn_hash)},
                               {Py_tp_methods, grad_fn_methods},
                               {Py_tp_getset, grad_fn_getset},
                               {0, nullptr}};

PyType_Spec grad_fn_spec = {"chaingrad._core.GradFn", sizeof(GradFnObject), 0, Py_TPFLAGS_DEFAULT, grad_fn_slots};

}  // namespace

py::object binary_operands(BinaryOp op, py::handle a, py::handle b) {
  const TensorPtr out = binary_result(op, a.ptr(), b.ptr());
  if (!out) {
    throw py::type_error(std::string(binary_op_name(op)) + "(): expected tensors or numbers, got " +
                         Py_TYPE(a.ptr())->tp_name + " and " + Py_TYPE(b.ptr())->tp_name);
  }
  return wrap_tensor(out);
}

DType tensor_result_type(const TensorPtr& a, const TensorPtr& b) {
  return result_type({a, a->ndim() > 0 ? 2 : 1}, {b, b->ndim() > 0 ? 2 : 1});
}

TensorImpl* tensor_of(py::handle h) {
  if (base_type == nullptr || !PyObject_TypeCheck(h.ptr(), base_type)) return nullptr;
  return as_tensor(h.ptr())->impl.get();
}

TensorPtr require_tensor(py::handle h, const char* what) {
  TensorImpl* t = tensor_of(h);
  if (t == nullptr) {
    throw py::type_error(std::string(what) + " must be a Tensor, got " + Py_TYPE(h.ptr())->tp_name);
  }
  return TensorPtr(t);
}

py::object wrap_tensor(const TensorPtr& t) {
  if (t->wrapper != nullptr) return py::reinterpret_borrow<py::object>(static_cast<PyObject*>(t->wrapper));
  PyTypeObject* type = tensor_class != nullptr ? tensor_class : base_type;
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) throw py::error_already_set();
  TensorObject* o = as_tensor(self);
  new (&o->impl) TensorPtr(t);
  o->weakrefs = nullptr;
  t->wrapper = self;
  return py::reinterpret_steal<py::object>(self);
}

py::object make_subclass(const TensorPtr& t, py::handle cls, bool requires_grad) {
  if (!PyType_Check(cls.ptr()) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls.ptr()), base_type)) {
    throw py::type_error("as_subclass: the class must subclass Tensor");
  }
  if (requires_grad && !is_floating(t->dtype())) {
    throw std::runtime_error("only Tensors of floating point dtype can require gradients");
  }
  TensorPtr alias = make_view(t, t->shape(), t->strides(), t->offset());
  alias->requires_grad = requires_grad;
  PyTypeObject* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) throw py::error_already_set();
  TensorObject* o = as_tensor(self);
  new (&o->impl) TensorPtr(alias);
  o->weakrefs = nullptr;
  alias->wrapper = self;
  return py::reinterpret_steal<py::object>(self);
}

void replace_data(py::handle obj, const TensorPtr& data) {
  TensorImpl* current = tensor_of(obj);
  if (current == nullptr) throw py::type_error("set_data: expected a Tensor");
  if (current->grad_fn) throw std::runtime_error("t.data = ... is only supported for leaf tensors");
  if (current->requires_grad && !is_floating(data->dtype())) {
    throw std::runtime_error("only Tensors of floating point dtype can require gradients");
  }
  TensorPtr alias = make_view(data, data->shape(), data->strides(), data->offset());
  alias->requires_grad = current->requires_grad;
  // the gradient stays while it still fits the data (p.data = p.data * 0.5 keeps p.grad, as PyTorch)
  if (current->grad && current->grad->shape() == data->shape() && current->grad->dtype() == data->dtype() &&
      current->grad->device() == data->device()) {
    alias->grad = current->grad;
  }
  TensorObject* o = as_tensor(obj.ptr());
  if (o->impl->wrapper == obj.ptr()) o->impl->wrapper = nullptr;
  alias->wrapper = obj.ptr();
  o->impl = alias;
}

py::object dtype_object(DType dtype) {
  PyObject* o = dtype_objects[static_cast<int>(dtype)];
  if (o == nullptr) return py::str(dtype_name(dtype));
  return py::reinterpret_borrow<py::object>(o);
}

DType dtype_from(py::handle h) {
  for (int i = 0; i < kNumDTypes; ++i) {
    if (dtype_objects[i] == h.ptr()) return static_cast<DType>(i);
  }
  throw py::type_error(std::string("expected a chaingrad dtype (chaingrad.float32, ...), got ") +
                       Py_TYPE(h.ptr())->tp_name);
}

void add_tensor_type(py::module_& m) {
  PyObject* type = PyType_FromSpec(&tensor_spec);
  if (type == nullptr) throw py::error_already_set();
  base_type = reinterpret_cast<PyTypeObject*>(type);
  // numpy arrays on the left (ndarray * tensor) must defer to the tensor's reflected operators
  if (PyDict_SetItemString(base_type->tp_dict, "__array_ufunc__", Py_None) < 0) throw py::error_already_set();
  PyType_Modified(base_type);
  m.add_object("TensorBase", py::reinterpret_steal<py::object>(type));

  PyObject* gf = PyType_FromSpec(&grad_fn_spec);
  if (gf == nullptr) throw py::error_already_set();
  grad_fn_type = reinterpret_cast<PyTypeObject*>(gf);
  m.add_object("GradFn", py::reinterpret_steal<py::object>(gf));

  m.def(
      "result_type",
      [](py::handle a, py::handle b) {
        Operand x, y;
        if (!read_operand(a.ptr(), x) || !read_operand(b.ptr(), y)) {
          throw py::type_error("result_type() expects tensors or numbers");
        }
        if (x.rank == 0 && y.rank == 0) throw py::type_error("result_type() needs a tensor among its arguments");
        return dtype_object(result_type(x, y));
      },
      "The dtype a binary op between a and b (tensors or numbers) computes in, as torch.result_type.");
  m.def(
      "promote_types", [](py::handle a, py::handle b) { return dtype_object(promote(dtype_from(a), dtype_from(b))); },
      "The dtype two tensor dtypes promote to, as torch.promote_types.");
  m.def(
      "_register_python_types",
      [](py::handle tensor, py::handle size, const py::sequence& dtypes) {
        if (py::len(dtypes) != static_cast<std::size_t>(kNumDTypes)) {
          throw py::value_error("expected " + std::to_string(kNumDTypes) + " dtypes, in the engine's order");
        }
        if (!PyType_Check(tensor.ptr()) ||
            !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(tensor.ptr()), base_type)) {
          throw py::type_error("the tensor class must subclass TensorBase");
        }
        // Kept for the life of the process: C++ creates these objects on every op.
        tensor_class = reinterpret_cast<PyTypeObject*>(tensor.inc_ref().ptr());
        size_class = size.inc_ref().ptr();
        for (int i = 0; i < kNumDTypes; ++i) dtype_objects[i] = py::object(dtypes[i]).release().ptr();
      },
      "Tells the engine which Python classes stand for Tensor, Size and the dtypes (in DType order; called once).");
}

void assign_grad(const TensorPtr& t, const TensorPtr& g, bool keep_graph) {
  if (g->shape() != t->shape()) {
    throw std::runtime_error("assigned grad has data of a different size: " + shape_str(g->shape()) + " vs " +
                             shape_str(t->shape()));
  }
  if (g->dtype() != t->dtype()) {
    throw std::runtime_error(std::string("assigned grad has data of a different type: ") + dtype_name(g->dtype()) +
                             " vs " + dtype_name(t->dtype()));
  }
  if (g->device() != t->device()) {
    throw std::runtime_error("assigned grad has data located on " + g->device().str() + ", but the tensor is on " +
                             t->device().str());
  }
  if (g.get() == t.get()) throw std::runtime_error("a tensor cannot be its own gradient (x.grad = x)");
  t->grad = g->requires_grad && !keep_graph ? detach_op(g) : g;
}

}  // namespace chaingrad
