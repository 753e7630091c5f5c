#include "bindings/indexing.h"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/numpy.h"
#include "bindings/tensor_type.h"
#include "tensor/autograd.h"
#include "tensor/device.h"
#include "tensor/indexing.h"
#include "tensor/ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

/// One element of a key, classified.
struct Part {
  enum class Kind : std::uint8_t { NewAxis, Ellipsis, Slice, Integer, Bool, Tensor } kind;
  PyObject* obj = nullptr;
  std::int64_t value = 0;  // Integer's index, Bool's truth
  TensorPtr tensor{};      // Tensor's index (int64 or bool)

  /// The dims of the indexed tensor this part consumes.
  std::int64_t consumed() const {
    switch (kind) {
      case Kind::Slice:
      case Kind::Integer:
        return 1;
      case Kind::Tensor:
        return tensor->dtype() == DType::Bool ? tensor->ndim() : 1;
      default:
        return 0;
    }
  }
};

/// A list, tuple, range or ndarray used as an index, as an int64 or bool tensor.
TensorPtr sequence_index(PyObject* p) {
  py::array a = py::module_::import("numpy").attr("asarray")(py::handle(p));
  const char kind = a.dtype().kind();
  if (kind == 'b') return from_numpy(a, NumpyCopy::Always);
  if (kind == 'i' || kind == 'u' || a.size() == 0) return from_numpy(a.attr("astype")("int64"), NumpyCopy::Always);
  throw std::out_of_range("tensors used as indices must be long, int, byte or bool tensors");
}

/// The single value of a 0-d integer tensor.
std::int64_t integer_of(const TensorPtr& t) {
  return *to_device(as_index_tensor(t), Device{})->data_as<std::int64_t>();
}

Part classify(PyObject* p) {
  if (p == Py_None) return {Part::Kind::NewAxis, p};
  if (p == Py_Ellipsis) return {Part::Kind::Ellipsis, p};
  if (PySlice_Check(p)) return {Part::Kind::Slice, p};
  if (TensorImpl* raw = tensor_of(p)) {
    const TensorPtr t(raw);
    const TensorPtr ix = as_index_tensor(t);  // IndexError for a floating tensor
    if (ix->ndim() == 0) {                    // a 0-d tensor acts as the number it holds
      if (ix->dtype() == DType::Bool) return {Part::Kind::Bool, p, integer_of(cast(ix, DType::Int64))};
      return {Part::Kind::Integer, p, integer_of(ix)};
    }
    return {Part::Kind::Tensor, p, 0, ix};
  }
  if (PyBool_Check(p)) return {Part::Kind::Bool, p, p == Py_True ? 1 : 0};
  if (PyList_Check(p) || PyTuple_Check(p) || PyRange_Check(p) || py::isinstance<py::array>(p)) {
    const TensorPtr ix = sequence_index(p);
    if (ix->ndim() == 0)
      return {ix->dtype() == DType::Bool ? Part::Kind::Bool : Part::Kind::Integer, p,
              integer_of(cast(ix, DType::Int64))};
    return {Part::Kind::Tensor, p, 0, ix};
  }
  if (PyIndex_Check(p)) {
    const Py_ssize_t i = PyNumber_AsSsize_t(p, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred()) throw py::error_already_set();
    return {Part::Kind::Integer, p, i};
  }
  throw std::out_of_range(std::string("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                                      "Variables are valid indices (got ") +
                          Py_TYPE(p)->tp_name + ")");
}

/// Whether a list key stands for a tuple of indices, as PyTorch still reads it: a short list
/// holding a tensor, a sequence, a slice, Ellipsis or None (x[[rows, cols]] is x[rows, cols]).
bool list_is_tuple(PyObject* key) {
  if (!PyList_Check(key) || PyList_GET_SIZE(key) >= 32) return false;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(key); ++i) {
    PyObject* p = PyList_GET_ITEM(key, i);
    if (tensor_of(p) || PyList_Check(p) || PyTuple_Check(p) || py::isinstance<py::array>(p) || PySlice_Check(p) ||
        p == Py_Ellipsis || p == Py_None) {
      return true;
    }
  }
  return false;
}

/// A key split into PyTorch's two steps: a basic view (items covering every dim), then the
/// advanced index of that view (empty when there is none; entry k indexes the view's next dim,
/// null for a whole dim, a mask covering as many dims as it has).
struct ParsedKey {
  std::vector<IndexItem> items;
  std::vector<TensorPtr> advanced;
  bool identity = true;  // the view is the tensor itself
};

ParsedKey parse_key(const TensorImpl& t, PyObject* key) {
  std::vector<Part> parts;
  py::tuple items;  // a list key's items, owned while the parts point into them
  if (PyTuple_Check(key)) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(key); ++i) parts.push_back(classify(PyTuple_GET_ITEM(key, i)));
  } else if (list_is_tuple(key)) {
    // A tuple copy holds its own references: classify may run user code (__index__) that empties
    // the list, which would free the items under our borrowed pointers.
    items = py::reinterpret_steal<py::tuple>(PySequence_Tuple(key));
    if (!items) throw py::error_already_set();
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(items.ptr()); ++i) {
      parts.push_back(classify(PyTuple_GET_ITEM(items.ptr(), i)));
    }
  } else {
    parts.push_back(classify(key));
  }
  std::int64_t consuming = 0, ellipses = 0;
  for (const Part& p : parts) {
    consuming += p.consumed();
    ellipses += p.kind == Part::Kind::Ellipsis;
  }
  if (ellipses > 1) throw std::out_of_range("an index can only have a single ellipsis ('...')");
  if (consuming > t.ndim()) {
    throw std::out_of_range("too many indices for tensor of dimension " + std::to_string(t.ndim()));
  }
  ParsedKey k;
  std::int64_t dim = 0;
  auto whole = [&](std::int64_t d) {
    k.items.push_back({IndexItem::Kind::Slice, 0, t.shape()[d], 1});
    k.advanced.push_back(nullptr);
  };
  for (const Part& p : parts) {
    switch (p.kind) {
      case Part::Kind::NewAxis:
        k.items.push_back({IndexItem::Kind::NewAxis});
        k.advanced.push_back(nullptr);
        k.identity = false;
        break;
      case Part::Kind::Ellipsis:
        for (std::int64_t i = 0; i < t.ndim() - consuming; ++i) whole(dim++);
        break;
      case Part::Kind::Slice: {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(p.obj, &start, &stop, &step) < 0) throw py::error_already_set();
        if (step <= 0) throw py::value_error("step must be greater than zero");
        const Py_ssize_t size = static_cast<Py_ssize_t>(t.shape()[dim]);
        PySlice_AdjustIndices(size, &start, &stop, step);
        stop = std::max<Py_ssize_t>(stop, start);
        k.items.push_back({IndexItem::Kind::Slice, start, stop, step});
        k.advanced.push_back(nullptr);
        k.identity = k.identity && start == 0 && stop == size && step == 1;
        ++dim;
        break;
      }
      case Part::Kind::Integer:
        k.items.push_back({IndexItem::Kind::Integer, p.value});
        k.identity = false;
        ++dim;
        break;
      case Part::Kind::Bool: {  // a new dim of size 1, kept (true) or emptied (false) by a mask
        k.items.push_back({IndexItem::Kind::NewAxis});
        TensorPtr mask = empty({1}, DType::Bool);
        *mask->data_as<bool>() = p.value != 0;
        k.advanced.push_back(mask);
        k.identity = false;
        break;
      }
      case Part::Kind::Tensor: {
        const std::int64_t n = p.consumed();
        for (std::int64_t i = 0; i < n; ++i) {
          k.items.push_back({IndexItem::Kind::Slice, 0, t.shape()[dim], 1});
          ++dim;
        }
        k.advanced.push_back(p.tensor);
        break;
      }
    }
  }
  while (dim < t.ndim()) whole(dim++);
  bool any = false;
  for (const TensorPtr& a : k.advanced) any = any || a;
  if (!any) k.advanced.clear();
  while (!k.advanced.empty() && !k.advanced.back()) k.advanced.pop_back();
  return k;
}

/// t[items] computed with grad mode off (a view whose writes autograd does not see).
TensorPtr untracked_view(const TensorPtr& t, const std::vector<IndexItem>& items) {
  const bool recording = grad_enabled();
  set_grad_enabled(false);
  try {
    TensorPtr v = index_op(t, items);
    set_grad_enabled(recording);
    return v;
  } catch (...) {
    set_grad_enabled(recording);
    throw;
  }
}

/// A Python list or tuple of optional tensors (PyTorch's index_put_ indices).
std::vector<TensorPtr> optional_tensors(const py::sequence& seq) {
  std::vector<TensorPtr> out;
  for (py::handle h : seq) out.push_back(h.is_none() ? nullptr : require_tensor(h, "indices"));
  return out;
}

/// In-place index_put_: records through an out-of-place copy when autograd must see it.
void index_put_in_place(const TensorPtr& self, const std::vector<TensorPtr>& indices, const TensorPtr& values,
                        bool accumulate) {
  const IndexPlanPtr plan = make_index_plan(self->shape(), indices);
  check_in_place(self, values->requires_grad, "index_put_");
  if (grad_enabled() && (self->requires_grad || values->requires_grad)) {
    assign_in_place(self, index_put_plan_op(self, plan, values, accumulate), "index_put_");
    return;
  }
  check_untracked_write(self, "index_put_");
  index_put_into(self, *plan, values, accumulate);
}

/// value without leading size-1 dims beyond `ndim` (t[i] = row[None] writes the row, as PyTorch).
TensorPtr strip_leading_ones(const TensorPtr& value, std::size_t ndim) {
  std::size_t lead = 0;
  while (value->shape().size() - lead > ndim && value->shape()[lead] == 1) ++lead;
  if (lead == 0) return value;
  return reshape_op(value, Shape(value->shape().begin() + static_cast<std::ptrdiff_t>(lead), value->shape().end()),
                    false);
}

}  // namespace

TensorPtr index_by_key(const TensorPtr& t, PyObject* key) {
  const ParsedKey k = parse_key(*t, key);
  if (k.advanced.empty()) return index_op(t, k.items);
  const TensorPtr view = k.identity ? t : index_op(t, k.items);
  return index_tensor_op(view, k.advanced);
}

void assign_by_key(const TensorPtr& t, PyObject* key, const TensorPtr& value_in, bool value_is_number) {
  const ParsedKey k = parse_key(*t, key);
  std::size_t target_ndim = 0;  // the dims of t[key]: the basic view's, or the indexed result's (at most)
  for (const IndexItem& item : k.items) target_ndim += item.kind != IndexItem::Kind::Integer;
  TensorPtr value = k.advanced.empty() ? strip_leading_ones(value_in, target_ndim) : value_in;
  // PyTorch writes a 0-d value through a lone mask as masked_fill_ does: converted
  const bool lone_mask = k.advanced.size() == 1 && k.advanced[0]->dtype() == DType::Bool && value->ndim() == 0;
  if (value_is_number || k.advanced.empty() || lone_mask) {
    if (value->dtype() != t->dtype()) value = to_dtype(value, t->dtype(), false);
  } else {
    check_index_put_dtypes(t, value);
  }
  check_in_place(t, value->requires_grad, "setitem");
  if (!(grad_enabled() && (t->requires_grad || value->requires_grad))) {
    check_untracked_write(t, "setitem");
    const TensorPtr view = k.identity ? t : untracked_view(t, k.items);
    if (k.advanced.empty()) {
      copy_into(view, value);
      t->storage()->bump_version();
    } else {
      index_put_into(view, *make_index_plan(view->shape(), k.advanced), value, false);  // bumps the version
    }
    return;
  }
  // recorded: the out-of-place result becomes t's data and history (see assign_in_place)
  TensorPtr result;
  if (k.advanced.empty()) {
    result = slice_scatter_op(t, k.items, value);
  } else if (k.identity) {
    result = index_put_op(t, k.advanced, value, false);
  } else {
    result = slice_scatter_op(t, k.items, index_put_op(index_op(t, k.items), k.advanced, value, false));
  }
  assign_in_place(t, result, "setitem");
}

void bind_indexing(py::module_& m) {
  m.def(
      "index_put",
      [](py::handle t, const py::sequence& indices, py::handle values, bool accumulate) {
        return wrap(index_put_op(arg(t), optional_tensors(indices), arg(values), accumulate));
      },
      "A copy of t with values put (or added) where t[indices] looks.");
  m.def(
      "index_put_",
      [](py::handle t, const py::sequence& indices, py::handle values, bool accumulate) {
        index_put_in_place(arg(t), optional_tensors(indices), arg(values), accumulate);
      },
      "Puts (or adds) values into t where t[indices] looks, in place.");
  m.def(
      "gather",
      [](py::handle t, std::int64_t dim, py::handle index) { return wrap(gather_op(arg(t), dim, arg(index))); },
      "out[..i..] = t[..index[..i..]..] along dim.");
  m.def(
      "scatter",
      [](py::handle t, std::int64_t dim, py::handle index, py::handle src, bool add) {
        return wrap(scatter_op(arg(t), dim, arg(index), arg(src), add));
      },
      "A copy of t with src written (or added) at index along dim.");
  m.def(
      "scatter_value",
      [](py::handle t, std::int64_t dim, py::handle index, double value) {
        return wrap(scatter_value_op(arg(t), dim, arg(index), value));
      },
      "A copy of t with value written at index along dim.");
  m.def(
      "index_select",
      [](py::handle t, std::int64_t dim, py::handle index) { return wrap(index_select_op(arg(t), dim, arg(index))); },
      "The slices of t at a 1-d index along dim.");
  m.def(
      "index_add",
      [](py::handle t, std::int64_t dim, py::handle index, py::handle source, double alpha) {
        return wrap(index_add_op(arg(t), dim, arg(index), arg(source), alpha));
      },
      "A copy of t with alpha * source added at index along dim.");
  m.def(
      "index_fill",
      [](py::handle t, std::int64_t dim, py::handle index, double value) {
        return wrap(index_fill_op(arg(t), dim, arg(index), value));
      },
      "A copy of t with the slices at index along dim set to value.");
  m.def(
      "masked_fill",
      [](py::handle t, py::handle mask, py::handle value, bool value_is_tensor) {
        return wrap(masked_fill_op(arg(t), arg(mask), arg(value), value_is_tensor));
      },
      "t with value (a 0-d tensor; value_is_tensor: given as one) where mask is true.");
  m.def(
      "masked_fill_",
      [](py::handle t, py::handle mask, py::handle value, bool value_is_tensor) {
        const TensorPtr self = arg(t), v = arg(value);
        const TensorPtr out = masked_fill_op(self, arg(mask), v, value_is_tensor);
        if (out->shape() != self->shape()) {
          throw std::runtime_error("masked_fill_: the mask of shape " + shape_str(arg(mask)->shape()) +
                                   " does not broadcast to the tensor's shape " + shape_str(self->shape()));
        }
        assign_in_place(self, out, "masked_fill_");
      },
      "Sets t to value where mask is true, in place.");
  m.def(
      "masked_select", [](py::handle t, py::handle mask) { return wrap(masked_select_op(arg(t), arg(mask))); },
      "The elements of t where mask is true, as a 1-d tensor.");
  m.def(
      "take", [](py::handle t, py::handle index) { return wrap(take_op(arg(t), arg(index))); },
      "t's elements (row-major) at the positions in index.");
  m.def(
      "nonzero", [](py::handle t) { return wrap(nonzero(arg(t))); },
      "The coordinates of the nonzero elements, int64 (n, ndim).");
}

}  // namespace chaingrad
