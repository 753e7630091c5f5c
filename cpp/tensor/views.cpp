// Views (reshape, permute, expand, indexing, ...) and the ops that copy or join tensors.
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include "tensor/autograd.h"
#include "tensor/ops.h"

namespace chaingrad {
namespace {

using Grads = std::vector<TensorPtr>;
using Saved = std::vector<TensorPtr>;

TensorPtr as_view(const TensorPtr& t, Shape shape, Shape strides, std::int64_t offset) {
  TensorPtr v = make_view(t, std::move(shape), std::move(strides), offset);
  v->is_view = true;
  // A leaf that requires grad is the base autograd sees for its views, even when it is itself a
  // view of a tensor that does not (`x = t.reshape(...).requires_grad_()`): an in-place write into
  // a view of x is then refused as a write into a view of a leaf, as in PyTorch.
  const bool leaf_with_grad = t->requires_grad && !t->grad_fn;
  v->view_base = t->view_base && !leaf_with_grad ? t->view_base : t;
  v->history_version = v->view_base->history_version;
  return v;
}

}  // namespace

Shape infer_shape(const Shape& shape, std::int64_t numel) {
  Shape out = shape;
  std::int64_t known = 1, infer_at = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer_at >= 0) throw std::runtime_error("only one dimension can be inferred");
      infer_at = static_cast<std::int64_t>(i);
    } else if (out[i] < 0) {
      throw std::runtime_error("invalid shape dimension " + std::to_string(out[i]));
    } else if (__builtin_mul_overflow(known, out[i], &known)) {
      throw std::overflow_error("shape " + shape_str(shape) + " has more elements than fit in memory");
    }
  }
  if (infer_at >= 0) {
    if (known == 0 || numel % known != 0) {
      throw std::runtime_error("shape '" + shape_str(shape) + "' is invalid for input of size " +
                               std::to_string(numel));
    }
    out[infer_at] = numel / known;
  } else if (known != numel) {
    throw std::runtime_error("shape '" + shape_str(shape) + "' is invalid for input of size " + std::to_string(numel));
  }
  return out;
}

namespace {

/// Strides that show a tensor of (shape, strides) as new_shape without copying, when some do.
/// The old dims fall into runs laid out contiguously with one another (size-1 dims join any run);
/// the new dims may split and merge the dims of one run, but a new dim may not span two runs.
/// (Only asked for non-contiguous tensors, so never for an empty or 0-d one.)
std::optional<Shape> view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape) {
  Shape out(new_shape.size());
  std::int64_t view_d = static_cast<std::int64_t>(new_shape.size()) - 1;
  std::int64_t run_stride = strides.back();  // the stride of the innermost dim of the current run
  std::int64_t run_numel = 1, view_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(shape.size()) - 1; d >= 0; --d) {
    run_numel *= shape[d];
    std::int64_t next = 0;  // the stride the dim before d has when it continues the run
    const bool run_ends = d == 0 || (shape[d - 1] != 1 &&
                                     (__builtin_mul_overflow(run_numel, run_stride, &next) || strides[d - 1] != next));
    if (!run_ends) continue;
    while (view_d >= 0 && (view_numel < run_numel || new_shape[view_d] == 1)) {
      if (__builtin_mul_overflow(view_numel, run_stride, &out[view_d])) return std::nullopt;
      view_numel *= new_shape[view_d];
      --view_d;
    }
    if (view_numel != run_numel) return std::nullopt;
    if (d > 0) {
      run_stride = strides[d - 1];
      run_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace

TensorPtr reshape_op(const TensorPtr& t, const Shape& shape_in, bool must_view) {
  const Shape shape = infer_shape(shape_in, t->numel());
  TensorPtr out;
  const std::optional<Shape> strides =
      t->is_contiguous() ? contiguous_strides(shape) : view_strides(t->shape(), t->strides(), shape);
  if (strides) {
    out = as_view(t, shape, *strides, t->offset());
  } else if (must_view) {
    throw std::runtime_error(
        "view size is not compatible with input tensor's size and stride (at least one dimension "
        "spans across two contiguous subspaces). Use .reshape(...) instead.");
  } else {
    TensorPtr c = contiguous(t);
    out = make_view(c, shape, contiguous_strides(shape), c->offset());
  }
  if (!any_requires_grad({&t})) return out;
  return record(out, strides ? "ViewBackward0" : "UnsafeViewBackward0", {t}, {},
                [from = t->shape()](const TensorPtr& g, const Saved&) { return Grads{reshape_op(g, from, false)}; });
}

TensorPtr flatten_op(const TensorPtr& t, std::int64_t start_dim, std::int64_t end_dim) {
  const std::int64_t s = wrap_dim(start_dim, t->ndim()), e = wrap_dim(end_dim, t->ndim());
  if (t->ndim() == 0) return reshape_op(t, {1}, false);
  if (s > e) throw std::runtime_error("flatten() has invalid args: start_dim cannot come after end_dim");
  if (s == e) return t;  // as PyTorch: the tensor itself
  Shape shape(t->shape().begin(), t->shape().begin() + s);
  shape.push_back(shape_numel(Shape(t->shape().begin() + s, t->shape().begin() + e + 1)));
  shape.insert(shape.end(), t->shape().begin() + e + 1, t->shape().end());
  return reshape_op(t, shape, false);
}

TensorPtr permute_op(const TensorPtr& t, const std::vector<std::int64_t>& dims_in) {
  if (static_cast<std::int64_t>(dims_in.size()) != t->ndim()) {
    throw std::runtime_error(
        "permute(sparse_coo): number of dimensions in the tensor input does not "
        "match the length of the desired ordering of dimensions i.e. input.dim() = " +
        std::to_string(t->ndim()) + " is not equal to len(dims) = " + std::to_string(dims_in.size()));
  }
  std::vector<std::int64_t> dims;
  for (std::int64_t d : dims_in) dims.push_back(wrap_dim(d, t->ndim()));
  std::vector<std::int64_t> sorted = dims;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    throw std::runtime_error("permute(): duplicate dims are not allowed.");
  }
  Shape shape, strides;
  for (std::int64_t d : dims) {
    shape.push_back(t->shape()[d]);
    strides.push_back(t->strides()[d]);
  }
  TensorPtr out = as_view(t, shape, strides, t->offset());
  if (!any_requires_grad({&t})) return out;
  return record(out, "PermuteBackward0", {t}, {}, [dims](const TensorPtr& g, const Saved&) {
    std::vector<std::int64_t> inverse(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = static_cast<std::int64_t>(i);
    return Grads{permute_op(g, inverse)};
  });
}

TensorPtr transpose_op(const TensorPtr& t, std::int64_t d0, std::int64_t d1) {
  if (t->ndim() == 0) return t;
  std::vector<std::int64_t> dims(t->ndim());
  for (std::int64_t i = 0; i < t->ndim(); ++i) dims[i] = i;
  std::swap(dims[wrap_dim(d0, t->ndim())], dims[wrap_dim(d1, t->ndim())]);
  return permute_op(t, dims);
}

TensorPtr unsqueeze_op(const TensorPtr& t, std::int64_t dim) {
  const std::int64_t d = wrap_dim(dim, t->ndim() + 1);
  Shape shape = t->shape(), strides = t->strides();
  const std::int64_t stride = d < t->ndim() ? strides[d] * shape[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  TensorPtr out = as_view(t, shape, strides, t->offset());
  if (!any_requires_grad({&t})) return out;
  return record(out, "UnsqueezeBackward0", {t}, {},
                [from = t->shape()](const TensorPtr& g, const Saved&) { return Grads{reshape_op(g, from, false)}; });
}

TensorPtr squeeze_op(const TensorPtr& t, const std::optional<std::vector<std::int64_t>>& dims_in) {
  std::vector<std::int64_t> dims;
  if (dims_in) {
    for (std::int64_t d : *dims_in) dims.push_back(wrap_dim(d, t->ndim()));
  }
  Shape shape, strides;
  for (std::int64_t d = 0; d < t->ndim(); ++d) {
    const bool listed = !dims_in || std::find(dims.begin(), dims.end(), d) != dims.end();
    if (listed && t->shape()[d] == 1) continue;
    shape.push_back(t->shape()[d]);
    strides.push_back(t->strides()[d]);
  }
  TensorPtr out = as_view(t, shape, strides, t->offset());
  if (!any_requires_grad({&t})) return out;
  return record(out, dims_in ? "SqueezeBackward1" : "SqueezeBackward0", {t}, {},
                [from = t->shape()](const TensorPtr& g, const Saved&) { return Grads{reshape_op(g, from, false)}; });
}

TensorPtr expand_op(const TensorPtr& t, const Shape& sizes) {
  if (sizes.size() < t->shape().size()) {
    throw std::runtime_error("expand: the number of sizes provided (" + std::to_string(sizes.size()) +
                             ") must be greater or equal to the number of dimensions in the tensor (" +
                             std::to_string(t->ndim()) + ")");
  }
  const std::size_t lead = sizes.size() - t->shape().size();
  Shape shape(sizes.size()), strides(sizes.size(), 0);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const bool existing = i >= lead;
    const std::int64_t have = existing ? t->shape()[i - lead] : 1;
    if (sizes[i] < -1)
      throw std::runtime_error("expand: invalid size " + std::to_string(sizes[i]) + " in " + shape_str(sizes));
    const std::int64_t want = sizes[i] == -1 ? have : sizes[i];
    if (sizes[i] == -1 && !existing) throw std::runtime_error("expand: -1 is not allowed in a new leading dimension");
    if (have != want && have != 1) {
      throw std::runtime_error("The expanded size of the tensor (" + std::to_string(want) +
                               ") must match the existing size (" + std::to_string(have) +
                               ") at non-singleton dimension " + std::to_string(i) +
                               ".  Target sizes: " + shape_str(sizes) + ".  Tensor sizes: " + shape_str(t->shape()));
    }
    shape[i] = want;
    if (existing && have == want) strides[i] = t->strides()[i - lead];
  }
  TensorPtr out = as_view(t, shape, strides, t->offset());
  if (!any_requires_grad({&t})) return out;
  return record(out, "ExpandBackward0", {t}, {},
                [from = t->shape()](const TensorPtr& g, const Saved&) { return Grads{sum_to_op(g, from)}; });
}

TensorPtr contiguous_op(const TensorPtr& t) {
  if (t->is_contiguous()) return t;
  return clone_op(t);
}

TensorPtr storage_view(const TensorPtr& t, const Shape& shape, const Shape& strides, std::int64_t offset) {
  if (shape.size() != strides.size()) {
    throw std::runtime_error("storage_view: " + std::to_string(shape.size()) + " sizes but " +
                             std::to_string(strides.size()) + " strides");
  }
  const std::int64_t numel = shape_numel(shape);  // checks the sizes
  const std::int64_t capacity = static_cast<std::int64_t>(t->storage()->nbytes() / itemsize(t->dtype()));
  std::int64_t last = offset;  // the element of the storage the view reaches last
  bool fits = offset >= 0;
  for (std::size_t d = 0; d < shape.size() && numel > 0 && fits; ++d) {
    std::int64_t span = 0;
    fits = strides[d] >= 0 && !__builtin_mul_overflow(shape[d] - 1, strides[d], &span) &&
           !__builtin_add_overflow(last, span, &last);
  }
  if (!fits || (numel > 0 && last >= capacity) || offset > capacity) {
    throw std::runtime_error("storage_view: sizes " + shape_str(shape) + ", strides " + shape_str(strides) +
                             " and offset " + std::to_string(offset) + " reach past the " + std::to_string(capacity) +
                             " elements of the storage");
  }
  return as_view(t, shape, strides, offset);
}

namespace {

/// True when no two elements of (shape, strides) share a memory location.
bool non_overlapping(const Shape& shape, const Shape& strides) {
  std::vector<std::pair<std::int64_t, std::int64_t>> dims;  // (stride, size) of the dims that step
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return true;
    if (shape[d] > 1) dims.emplace_back(strides[d], shape[d]);
  }
  std::sort(dims.begin(), dims.end());
  std::int64_t reach = 0;  // the farthest element the dims so far step to
  for (const auto& [stride, size] : dims) {
    if (stride <= reach) return false;
    reach += stride * (size - 1);
  }
  return true;
}

/// A contiguous copy of t's data without autograd state (t itself when already contiguous).
TensorPtr contiguous_data(const TensorPtr& t) {
  if (t->is_contiguous()) return t;
  TensorPtr out = empty(t->shape(), t->dtype(), t->device());
  copy_into(out, t);
  return out;
}

TensorPtr zeros_of(const Shape& shape, const TensorPtr& like) {
  TensorPtr out = empty(shape, like->dtype(), like->device());
  fill(out, 0.0);
  return out;
}

}  // namespace

ViewGeometry view_geometry(const TensorImpl& view, const char* op) {
  const TensorImpl& base = *view.view_base;
  if (!base.is_contiguous()) {
    throw std::runtime_error(std::string(op) + ": autograd cannot follow an in-place write through a view of a " +
                             "non-contiguous tensor (shape " + shape_str(base.shape()) + ", strides " +
                             shape_str(base.strides()) + "); call .contiguous() or .clone() on it first");
  }
  if (!non_overlapping(view.shape(), view.strides())) {
    throw std::runtime_error(std::string(op) + ": autograd cannot follow an in-place write through a view " +
                             "whose elements overlap (shape " + shape_str(view.shape()) + ", strides " +
                             shape_str(view.strides()) + "); clone() it first");
  }
  return ViewGeometry{view.shape(), view.strides(), view.offset() - base.offset()};
}

TensorPtr as_strided_op(const TensorPtr& t, const ViewGeometry& geo) {
  const TensorPtr data = contiguous_data(t);
  TensorPtr out = make_view(data, geo.shape, geo.strides, data->offset() + geo.offset);
  if (!any_requires_grad({&t})) return out;
  return record(out, "AsStridedBackward0", {t}, {}, [from = t->shape(), geo](const TensorPtr& g, const Saved&) {
    return Grads{as_strided_scatter_op(zeros_of(from, g), g, geo)};
  });
}

TensorPtr as_strided_scatter_op(const TensorPtr& t, const TensorPtr& src, const ViewGeometry& geo) {
  TensorPtr out = empty(t->shape(), t->dtype(), t->device());
  copy_into(out, t);
  copy_into(make_view(out, geo.shape, geo.strides, out->offset() + geo.offset), src);
  return record_as_strided_scatter(out, "AsStridedScatterBackward0", t, src, geo);
}

TensorPtr record_as_strided_scatter(TensorPtr out, const char* name, const TensorPtr& t, const TensorPtr& src,
                                    const ViewGeometry& geo) {
  if (!any_requires_grad({&t, &src})) return out;
  const bool gt = t->requires_grad, gs = src->requires_grad;
  return record(out, name, {t, src}, {}, [gt, gs, geo, src_shape = src->shape()](const TensorPtr& g, const Saved&) {
    return Grads{gt ? as_strided_scatter_op(g, zeros_of(src_shape, g), geo) : nullptr,
                 gs ? as_strided_op(g, geo) : nullptr};
  });
}

TensorPtr clone_op(const TensorPtr& t) {
  TensorPtr out = cast(t, t->dtype(), /*copy=*/true);
  if (!any_requires_grad({&t})) return out;
  return record(out, "CloneBackward0", {t}, {}, [](const TensorPtr& g, const Saved&) { return Grads{g}; });
}

TensorPtr detach_op(const TensorPtr& t) { return make_view(t, t->shape(), t->strides(), t->offset()); }

TensorPtr cat_op(const std::vector<TensorPtr>& tensors, std::int64_t dim) {
  if (tensors.empty()) throw std::runtime_error("torch.cat(): expected a non-empty list of Tensors");
  const TensorPtr& first = tensors[0];
  const std::int64_t d = wrap_dim(dim, std::max<std::int64_t>(first->ndim(), 1));
  if (first->ndim() == 0) throw std::runtime_error("zero-dimensional tensor (at position 0) cannot be concatenated");
  DType dtype = first->dtype();
  Shape shape = first->shape();
  shape[d] = 0;
  std::vector<std::int64_t> sizes;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorPtr& t = tensors[i];
    if (t->ndim() != first->ndim()) {
      throw std::runtime_error("Tensors must have same number of dimensions: got " + std::to_string(first->ndim()) +
                               " and " + std::to_string(t->ndim()));
    }
    for (std::int64_t k = 0; k < t->ndim(); ++k) {
      if (k != d && t->shape()[k] != first->shape()[k]) {
        throw std::runtime_error("Sizes of tensors must match except in dimension " + std::to_string(d) +
                                 ". Expected size " + std::to_string(first->shape()[k]) + " but got size " +
                                 std::to_string(t->shape()[k]) + " for tensor number " + std::to_string(i) +
                                 " in the list.");
      }
    }
    if (t->device() != first->device()) {
      throw std::runtime_error("Expected all tensors to be on the same device, but found at least two devices, " +
                               first->device().str() + " and " + t->device().str() + "! (in cat, tensor number " +
                               std::to_string(i) + ")");
    }
    dtype = promote(dtype, t->dtype());
    if (__builtin_add_overflow(shape[d], t->shape()[d], &shape[d])) {
      throw std::overflow_error("torch.cat(): the joined size along dim " + std::to_string(d) +
                                " is larger than fits in memory");
    }
    sizes.push_back(t->shape()[d]);
  }
  TensorPtr out = empty(shape, dtype, first->device());
  const Shape out_strides = out->strides();
  std::int64_t at = 0;
  for (const TensorPtr& t : tensors) {
    Shape part = out->shape();
    part[d] = t->shape()[d];
    // (an empty part has nothing to copy, and its offset need not even fit in an int64)
    if (t->numel() > 0) copy_into(make_view(out, part, out_strides, at * out_strides[d]), t);
    at += t->shape()[d];
  }
  if (!any_requires_grad(tensors)) return out;
  return record(out, "CatBackward0", tensors, {}, [d, sizes, dtypes = [&] {
                  std::vector<DType> v;
                  for (const TensorPtr& t : tensors) v.push_back(t->dtype());
                  return v;
                }()](const TensorPtr& g, const Saved&) {
    Grads grads;
    std::int64_t at = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      Shape part = g->shape();
      part[d] = sizes[i];
      if (shape_numel(part) == 0) {
        grads.push_back(empty(part, dtypes[i], g->device()));
        at += sizes[i];
        continue;
      }
      std::vector<IndexItem> items(part.size(), IndexItem{IndexItem::Kind::Slice});
      for (std::size_t k = 0; k < part.size(); ++k) items[k].stop = g->shape()[k];
      items[d].start = at;
      items[d].stop = at + sizes[i];
      grads.push_back(contiguous_op(to_dtype(index_op(g, items), dtypes[i], false)));
      at += sizes[i];
    }
    return grads;
  });
}

TensorPtr stack_op(const std::vector<TensorPtr>& tensors, std::int64_t dim) {
  if (tensors.empty()) throw std::runtime_error("stack expects a non-empty TensorList");
  for (std::size_t i = 1; i < tensors.size(); ++i) {
    if (tensors[i]->shape() != tensors[0]->shape()) {
      throw std::runtime_error("stack expects each tensor to be equal size, but got " + shape_str(tensors[0]->shape()) +
                               " at entry 0 and " + shape_str(tensors[i]->shape()) + " at entry " + std::to_string(i));
    }
  }
  const std::int64_t d = wrap_dim(dim, tensors[0]->ndim() + 1);
  std::vector<TensorPtr> expanded;
  for (const TensorPtr& t : tensors) expanded.push_back(unsqueeze_op(t, d));
  return cat_op(expanded, d);
}

namespace {

struct Layout {
  Shape shape, strides;
  std::int64_t offset = 0;
};

/// Where t[items] lies in t's storage.
Layout index_layout(const TensorImpl& t, const std::vector<IndexItem>& items) {
  Layout v;
  v.offset = t.offset();
  std::int64_t dim = 0;
  for (const IndexItem& item : items) {
    switch (item.kind) {
      case IndexItem::Kind::NewAxis:
        v.shape.push_back(1);
        v.strides.push_back(0);
        break;
      case IndexItem::Kind::Integer: {
        const std::int64_t size = t.shape()[dim];
        std::int64_t i = item.start;
        if (i < -size || i >= size) {
          throw std::out_of_range("index " + std::to_string(i) + " is out of bounds for dimension " +
                                  std::to_string(dim) + " with size " + std::to_string(size));
        }
        if (i < 0) i += size;
        v.offset += i * t.strides()[dim];
        ++dim;
        break;
      }
      case IndexItem::Kind::Slice: {
        const std::int64_t count = item.stop > item.start ? (item.stop - item.start + item.step - 1) / item.step : 0;
        v.offset += item.start * t.strides()[dim];
        v.shape.push_back(count);
        v.strides.push_back(t.strides()[dim] * item.step);
        ++dim;
        break;
      }
    }
  }
  return v;
}

}  // namespace

TensorPtr index_op(const TensorPtr& t, const std::vector<IndexItem>& items) {
  // grad_fn is named after the last op that changes the view, as PyTorch chains them
  std::int64_t consumed = 0;
  const char* name = "AliasBackward0";
  for (const IndexItem& item : items) {
    if (item.kind != IndexItem::Kind::NewAxis) ++consumed;
    if (item.kind == IndexItem::Kind::Integer) name = "SelectBackward0";
    if (item.kind == IndexItem::Kind::NewAxis) name = "UnsqueezeBackward0";
    if (item.kind == IndexItem::Kind::Slice && consumed <= t->ndim() &&
        !(item.start == 0 && item.step == 1 && item.stop == t->shape()[consumed - 1])) {
      name = "SliceBackward0";
    }
  }
  if (consumed != t->ndim()) {
    throw std::out_of_range("too many indices for tensor of dimension " + std::to_string(t->ndim()));
  }
  const Layout v = index_layout(*t, items);
  TensorPtr out = as_view(t, v.shape, v.strides, v.offset);
  if (!any_requires_grad({&t})) return out;
  return record(out, name, {t}, {}, [from = t->shape(), items](const TensorPtr& g, const Saved&) {
    return Grads{index_backward_op(g, from, items)};
  });
}

TensorPtr index_backward_op(const TensorPtr& g, const Shape& shape, const std::vector<IndexItem>& items) {
  // g placed where the view looked into the input, zeros elsewhere
  TensorPtr out = empty(shape, g->dtype(), g->device());
  fill(out, 0.0);
  const Layout w = index_layout(*out, items);
  copy_into(make_view(out, w.shape, w.strides, w.offset), g);
  // its own gradient reads the same places back out
  if (!any_requires_grad({&g})) return out;
  return record(out, "IndexBackwardBackward0", {g}, {},
                [items](const TensorPtr& gg, const Saved&) { return Grads{index_op(gg, items)}; });
}

}  // namespace chaingrad
