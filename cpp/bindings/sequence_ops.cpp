// The bindings of the sort, scan and count ops.
#include "bindings/sequence_ops.h"

#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bindings/tensor_type.h"
#include "tensor/sequence_ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

TensorPtr optional_arg(py::handle h) { return h.is_none() ? TensorPtr() : arg(h); }
py::tuple pair(const std::pair<TensorPtr, TensorPtr>& p) {
  return py::make_tuple(wrap_tensor(p.first), wrap_tensor(p.second));
}

}  // namespace

void bind_sequence_ops(py::module_& m) {
  m.def(
      "sort", [](py::handle t, std::int64_t dim, bool descending) { return pair(sort_op(arg(t), dim, descending)); },
      "(values, indices) sorted along dim, stably.");
  m.def(
      "topk",
      [](py::handle t, std::int64_t k, std::int64_t dim, bool largest, bool sorted) {
        return pair(topk_op(arg(t), k, dim, largest, sorted));
      },
      "(values, indices) of the k largest (smallest) elements along dim.");
  m.def(
      "cumsum",
      [](py::handle t, std::int64_t dim, py::handle dtype) {
        return wrap_tensor(
            cumsum_op(arg(t), dim, dtype.is_none() ? std::nullopt : std::optional<DType>(dtype_from(dtype))));
      },
      "Running sums along dim.");
  m.def(
      "cumprod",
      [](py::handle t, std::int64_t dim, py::handle dtype) {
        return wrap_tensor(
            cumprod_op(arg(t), dim, dtype.is_none() ? std::nullopt : std::optional<DType>(dtype_from(dtype))));
      },
      "Running products along dim.");
  m.def(
      "unique",
      [](py::handle t) {
        UniqueResult r = unique_op(arg(t));
        return py::make_tuple(wrap_tensor(r.values), wrap_tensor(r.inverse), wrap_tensor(r.counts));
      },
      "(sorted distinct values, inverse indices, counts) of the flattened tensor.");
  m.def(
      "bincount",
      [](py::handle t, py::handle weights, std::int64_t minlength) {
        return wrap_tensor(bincount_op(arg(t), optional_arg(weights), minlength));
      },
      "Occurrences (or summed weights) of each value of a non-negative int64 vector.");
  m.def(
      "histogram",
      [](py::handle t, py::handle edges, py::handle weight, const std::string& search) {
        const BinSearch s = search == "binary"   ? BinSearch::Binary
                            : search == "linear" ? BinSearch::Linear
                                                 : BinSearch::LinearChecked;
        return wrap_tensor(histogram_op(arg(t), arg(edges), optional_arg(weight), s));
      },
      "(Weighted) counts of t's elements between consecutive edges: search is 'binary', 'linear' "
      "(histc) or 'linear_checked' (histogram with a bin count).");
}

}  // namespace chaingrad
