// The Python type TensorBase (chaingrad.Tensor's C base): one CPython object per tensor, with the
// arithmetic operators as number slots.
#pragma once

#include <pybind11/pybind11.h>

#include "kernels/op_table.h"
#include "tensor/tensor.h"

namespace chaingrad {

/// Creates TensorBase and GradFn and adds them to module m.
void add_tensor_type(pybind11::module_& m);

/// The tensor held by h when h is a Tensor, else nullptr.
TensorImpl* tensor_of(pybind11::handle h);
/// Like tensor_of, but raises TypeError naming `what` and h's type.
TensorPtr require_tensor(pybind11::handle h, const char* what);

/// The Python Tensor for t: the object already wrapping it if there is one, else a new one.
pybind11::object wrap_tensor(const TensorPtr& t);

/// The short names the bound functions' bodies use: a tensor argument (TypeError naming
/// "argument" otherwise) and the Python Tensor of a result.
inline TensorPtr arg(pybind11::handle h) { return require_tensor(h, "argument"); }
inline pybind11::object wrap(const TensorPtr& t) { return wrap_tensor(t); }

/// A new Python object of class cls (a Tensor subclass) over a detached alias of t's data.
pybind11::object make_subclass(const TensorPtr& t, pybind11::handle cls, bool requires_grad);

/// Points the Python tensor obj at a detached alias of data (PyTorch's `t.data = ...`), keeping
/// obj's identity and requires_grad; obj must be a leaf.
void replace_data(pybind11::handle obj, const TensorPtr& data);

/// The dtype an op on tensors a and b computes in, by PyTorch's rule: a 0-d tensor only widens
/// the other operand's dtype when it is of a higher kind (bool < integer < floating).
DType tensor_result_type(const TensorPtr& a, const TensorPtr& b);

/// a op b for a binary row of the op table, with Python numbers, ndarrays and tensors as operands
/// and PyTorch's type promotion (the `+` and `%` operators and `_core.binary`); throws TypeError
/// when an operand is none of these.
pybind11::object binary_operands(BinaryOp op, pybind11::handle a, pybind11::handle b);

/// The Python object for a dtype, and back (registered by chaingrad at import).
pybind11::object dtype_object(DType dtype);
DType dtype_from(pybind11::handle h);

/// Sets t.grad to g after checking shape, dtype and device; g keeps its graph only when keep_graph
/// (retain_grad and backward(inputs=) under create_graph; a user's `x.grad = y` stores y's data).
void assign_grad(const TensorPtr& t, const TensorPtr& g, bool keep_graph);

}  // namespace chaingrad
