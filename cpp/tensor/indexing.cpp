// Advanced indexing and the index ops: kernels that copy elements between a tensor and the
// positions an index picks (any dtype, by element size), and the autograd rules that tie reading
// (gather) and writing (scatter-add) together as each other's gradient.
#include "tensor/indexing.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/gil.h"
#include "kernels/kernels.h"
#include "kernels/loops.h"
#include "tensor/autograd.h"
#include "tensor/device.h"
#include "tensor/factories.h"

namespace chaingrad {
namespace {

/// slot += x in T, as PyTorch's scatter-add and index_add do element by element: integers wrap,
/// bool ors, and a half type adds in float and rounds after every add (no wider running sum).
template <class T>
void accumulate_element(T& slot, T x) {
  if constexpr (std::is_same_v<T, bool>) {
    slot = slot || x;
  } else if constexpr (std::is_same_v<T, Half>) {
    slot = float_to_half(half_to_float(slot) + half_to_float(x));
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    slot = float_to_bfloat16(bfloat16_to_float(slot) + bfloat16_to_float(x));
  } else {
    slot = wrapping_add(slot, x);
  }
}

using Grads = std::vector<TensorPtr>;
using Saved = std::vector<TensorPtr>;

void require_cpu(const TensorPtr& t, const char* op) {
  if (t->is_cuda()) {
    throw std::runtime_error(std::string(op) + ": not supported for CUDA tensors yet; move the tensor to the CPU");
  }
}

std::string out_of_bounds(std::int64_t index, std::int64_t dim, std::int64_t size) {
  return "index " + std::to_string(index) + " is out of bounds for dimension " + std::to_string(dim) + " with size " +
         std::to_string(size);
}

/// Copies one element of N bytes (a fixed-size memcpy compiles to one move, without aliasing a
/// float through an integer pointer).
template <std::size_t N>
inline void copy_element(char* dst, const char* src) {
  std::memcpy(dst, src, N);
}

/// Calls f with std::integral_constant<size_t, itemsize> for the element sizes tensors have.
template <class F>
void by_itemsize(std::size_t size, F&& f) {
  switch (size) {
    case 1:
      return f(std::integral_constant<std::size_t, 1>{});
    case 2:
      return f(std::integral_constant<std::size_t, 2>{});
    case 4:
      return f(std::integral_constant<std::size_t, 4>{});
    case 8:
      return f(std::integral_constant<std::size_t, 8>{});
    case 16:
      return f(std::integral_constant<std::size_t, 16>{});
  }
  throw std::logic_error("indexing: unexpected element size " + std::to_string(size));
}

/// The element offsets of a row-major walk over shape with the given strides.
std::vector<std::int64_t> walk_offsets(const Shape& shape, const Shape& strides) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(shape_numel(shape)));
  for_each_run<1>(shape, {strides.data()},
                  [&](const std::array<std::int64_t, 1>& at, const std::array<std::int64_t, 1>& inner, std::int64_t n) {
                    for (std::int64_t j = 0; j < n; ++j) out.push_back(at[0] + j * inner[0]);
                  });
  return out;
}

// Note [index walk]
// A tensor indexed by a plan and the tensor of the result's shape (the result itself when
// reading, the values when writing) are walked together: the dims before the indexed ones (when
// the index stays in place), then each element of the index shape (an offset into the indexed
// tensor from the picked positions, one into the result from its strides), then the remaining
// dims, merged into runs. The callback gets each run: f(source offset, result offset, length,
// source stride, result stride).
struct IndexWalk {
  MergedDims<2> outer;                         // the dims before the index shape in the result
  MergedDims<2> inner;                         // the dims after it
  std::int64_t count = 0;                      // elements of the index shape
  std::vector<const std::int64_t*> positions;  // per indexed dim: its index, `count` values
  std::vector<std::int64_t> sizes, strides;    // per indexed dim: its size and source stride
  std::int64_t result_step = 0;                // the result offset of index element b: b * result_step,
  std::vector<std::int64_t> result_at;         // or result_at[b] when the strides are not row-major

  /// Checks every position against its dim's size (IndexError naming it) before anything is read
  /// or written.
  IndexWalk(const IndexPlan& p, const Shape& source_strides, const Shape& result_strides)
      : outer(split(p, source_strides, result_strides, true)),
        inner(split(p, source_strides, result_strides, false)),
        count(shape_numel(p.index_shape)) {
    for (std::size_t k = 0; k < p.dims.size(); ++k) {
      const std::int64_t d = p.dims[k], size = p.source_shape[d];
      const std::int64_t* v = p.indices[k]->data_as<std::int64_t>();
      for (std::int64_t i = 0; i < count; ++i) {
        // numbered among the indexed dims, as PyTorch's message numbers them
        if (v[i] < -size || v[i] >= size) {
          throw std::out_of_range(out_of_bounds(v[i], static_cast<std::int64_t>(k), size));
        }
      }
      positions.push_back(v);
      sizes.push_back(size);
      strides.push_back(source_strides[d]);
    }
    const std::size_t lead = p.adjacent && !p.dims.empty() ? static_cast<std::size_t>(p.dims[0]) : 0;
    const std::size_t nb = p.index_shape.size();
    const Shape rs(result_strides.begin() + lead, result_strides.begin() + lead + nb);
    bool row_major = true;
    for (std::size_t i = 0; i + 1 < nb; ++i) {
      row_major = row_major && (p.index_shape[i] == 1 || rs[i] == rs[i + 1] * p.index_shape[i + 1]);
    }
    if (row_major) {
      result_step = nb == 0 ? 0 : rs[nb - 1];
    } else {
      result_at = walk_offsets(p.index_shape, rs);
    }
  }

  /// The outer (or inner) dims' MergedDims: sizes with the source's and the result's strides.
  static MergedDims<2> split(const IndexPlan& p, const Shape& ss, const Shape& rs, bool outer) {
    Shape shape, s_src, s_res;
    const std::int64_t nd = static_cast<std::int64_t>(p.source_shape.size());
    const std::int64_t first = p.dims.empty() ? 0 : p.dims.front();
    const std::int64_t nb = static_cast<std::int64_t>(p.index_shape.size());
    std::int64_t r = 0;  // the result dim of source dim d
    for (std::int64_t d = 0; d < nd; ++d) {
      const bool indexed = std::find(p.dims.begin(), p.dims.end(), d) != p.dims.end();
      if (indexed) continue;
      const bool before = p.adjacent && d < first;
      const std::int64_t rd = before ? r : r + nb;
      ++r;
      if (before != outer) continue;
      shape.push_back(p.source_shape[d]);
      s_src.push_back(ss[d]);
      s_res.push_back(rs[rd]);
    }
    return MergedDims<2>(shape, {s_src.data(), s_res.data()});
  }

  template <class F>
  void run(F&& f) const {
    if (count == 0) return;
    // source offsets are computed a chunk at a time: no allocation of one per element (whose
    // fresh pages cost more than the copy); a small index is computed once for every outer step
    constexpr std::int64_t kChunk = 1024;
    std::int64_t at[kChunk];
    const bool once = count <= kChunk;
    if (once) offsets(0, count, at);
    for_each_run<2>(outer.shape, outer.stride_ptrs(),
                    [&](const std::array<std::int64_t, 2>& o, const std::array<std::int64_t, 2>& os, std::int64_t on) {
                      for (std::int64_t oj = 0; oj < on; ++oj) {
                        const std::int64_t so = o[0] + oj * os[0], ro = o[1] + oj * os[1];
                        for (std::int64_t b0 = 0; b0 < count; b0 += kChunk) {
                          const std::int64_t m = std::min(kChunk, count - b0);
                          if (!once) offsets(b0, m, at);
                          for (std::int64_t i = 0; i < m; ++i) {
                            const std::int64_t b = b0 + i;
                            run_inner(so + at[i], ro + (result_at.empty() ? b * result_step : result_at[b]), f);
                          }
                        }
                      }
                    });
  }

  /// Whether every index element picks one element (no dims besides the indexed ones) and the
  /// result offsets are b * result_step: run_chunks then applies.
  bool single_elements() const { return inner.shape.empty() && outer.shape.empty() && result_at.empty(); }

  /// f(source offsets, m, b0) for each chunk of m index elements starting at b0 (see single_elements).
  template <class F>
  void run_chunks(F&& f) const {
    constexpr std::int64_t kChunk = 1024;
    std::int64_t at[kChunk];
    for (std::int64_t b0 = 0; b0 < count; b0 += kChunk) {
      const std::int64_t m = std::min(kChunk, count - b0);
      offsets(b0, m, at);
      f(static_cast<const std::int64_t*>(at), m, b0);
    }
  }

 private:
  /// The source offsets of index elements b0 .. b0 + m (positions already checked).
  void offsets(std::int64_t b0, std::int64_t m, std::int64_t* out) const {
    std::fill(out, out + m, 0);
    for (std::size_t k = 0; k < positions.size(); ++k) {
      const std::int64_t* v = positions[k] + b0;
      const std::int64_t size = sizes[k], stride = strides[k];
      for (std::int64_t i = 0; i < m; ++i) out[i] += (v[i] < 0 ? v[i] + size : v[i]) * stride;
    }
  }

  template <class F>
  void run_inner(std::int64_t s, std::int64_t r, F& f) const {
    switch (inner.shape.size()) {
      case 0:
        return f(s, r, std::int64_t{1}, std::int64_t{0}, std::int64_t{0});
      case 1:
        return f(s, r, inner.shape[0], inner.strides[0][0], inner.strides[1][0]);
    }
    for_each_run<2>(inner.shape, inner.stride_ptrs(),
                    [&](const std::array<std::int64_t, 2>& at, const std::array<std::int64_t, 2>& st, std::int64_t n) {
                      f(s + at[0], r + at[1], n, st[0], st[1]);
                    });
  }
};

/// A new tensor holding source[plan] (no autograd).
TensorPtr gather_plan(const TensorPtr& source, const IndexPlan& p) {
  require_cpu(source, "advanced indexing");
  TensorPtr out = empty(p.result_shape, source->dtype(), source->device());
  const IndexWalk walk(p, source->strides(), out->strides());
  const char* src = source->data();
  char* dst = out->data();
  const std::size_t item = itemsize(source->dtype());
  const GilRelease unlocked(out->numel() >= kParallelGrain);
  by_itemsize(item, [&](auto size) {
    constexpr std::size_t N = decltype(size)::value;
    if (walk.single_elements()) {  // element by element, fetching ahead of the scattered reads
      const std::int64_t step = walk.result_step;
      walk.run_chunks([&](const std::int64_t* at, std::int64_t m, std::int64_t b0) {
        constexpr std::int64_t kAhead = 16;
        for (std::int64_t i = 0; i < m; ++i) {
          if (i + kAhead < m) __builtin_prefetch(src + at[i + kAhead] * N);
          copy_element<N>(dst + (b0 + i) * step * N, src + at[i] * N);
        }
      });
      return;
    }
    walk.run([&](std::int64_t s, std::int64_t r, std::int64_t n, std::int64_t ss, std::int64_t rs) {
      if (ss == 1 && rs == 1) {
        std::memcpy(dst + r * N, src + s * N, static_cast<std::size_t>(n) * N);
        return;
      }
      for (std::int64_t j = 0; j < n; ++j) copy_element<N>(dst + (r + j * rs) * N, src + (s + j * ss) * N);
    });
  });
  return out;
}

/// values viewed at `shape` by broadcasting (leading size-1 dims beyond shape's dropped);
/// RuntimeError naming both shapes when they do not broadcast.
TensorPtr broadcast_values(const TensorPtr& values, const Shape& shape) {
  Shape vs = values->shape(), vst = values->strides();
  while (vs.size() > shape.size() && vs.front() == 1) {
    vs.erase(vs.begin());
    vst.erase(vst.begin());
  }
  bool ok = vs.size() <= shape.size();
  for (std::size_t i = 0; ok && i < vs.size(); ++i) {
    const std::int64_t want = shape[shape.size() - vs.size() + i];
    ok = vs[i] == want || vs[i] == 1;
  }
  if (!ok) {
    throw std::runtime_error("shape mismatch: value tensor of shape " + shape_str(values->shape()) +
                             " cannot be broadcast to indexing result of shape " + shape_str(shape));
  }
  Shape strides(shape.size(), 0);
  const std::size_t lead = shape.size() - vs.size();
  for (std::size_t i = 0; i < vs.size(); ++i) strides[lead + i] = vs[i] == 1 ? 0 : vst[i];
  return make_view(values, shape, strides, values->offset());
}

/// Writes (or adds) values, broadcast to plan's result shape, into dst where dst[plan] looks.
void scatter_plan(const TensorPtr& dst, const IndexPlan& plan, TensorPtr values, bool accumulate) {
  require_cpu(dst, "index_put_");
  if (values->dtype() != dst->dtype()) values = cast(values, dst->dtype());
  values = to_device(values, dst->device());
  if (values->storage() == dst->storage()) values = cast(values, values->dtype(), /*copy=*/true);
  // an index in dst's own memory (x[x] = 0) would change under the writes after being checked
  std::optional<IndexPlan> copied;
  for (std::size_t k = 0; k < plan.indices.size(); ++k) {
    if (plan.indices[k]->storage() != dst->storage()) continue;
    if (!copied) copied = plan;
    copied->indices[k] = cast(plan.indices[k], DType::Int64, /*copy=*/true);
  }
  const IndexPlan& p = copied ? *copied : plan;
  const TensorPtr v = broadcast_values(values, p.result_shape);
  const IndexWalk walk(p, dst->strides(), v->strides());
  char* out = dst->data();
  const char* in = v->data();
  const GilRelease unlocked(v->numel() >= kParallelGrain);
  if (!accumulate) {
    by_itemsize(itemsize(dst->dtype()), [&](auto size) {
      constexpr std::size_t N = decltype(size)::value;
      walk.run([&](std::int64_t s, std::int64_t r, std::int64_t n, std::int64_t ss, std::int64_t rs) {
        for (std::int64_t j = 0; j < n; ++j) copy_element<N>(out + (s + j * ss) * N, in + (r + j * rs) * N);
      });
    });
    return;
  }
  dispatch_storage(dst->dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = reinterpret_cast<T*>(out);
    const T* x = reinterpret_cast<const T*>(in);
    walk.run([&](std::int64_t s, std::int64_t r, std::int64_t n, std::int64_t ss, std::int64_t rs) {
      for (std::int64_t j = 0; j < n; ++j) accumulate_element(o[s + j * ss], x[r + j * rs]);
    });
  });
}

/// Zeros of the plan's source shape with g added where source[plan] looks: the gradient of
/// index_plan_op, itself differentiable (its gradient reads the same places back).
TensorPtr index_backward_plan(const TensorPtr& g, const IndexPlanPtr& plan) {
  TensorPtr out = full(plan->source_shape, 0.0, g->dtype(), g->device());
  scatter_plan(out, *plan, g, /*accumulate=*/true);
  if (!any_requires_grad({&g})) return out;
  return record(out, "IndexPutBackward0", {g}, {},
                [plan](const TensorPtr& gg, const Saved&) { return Grads{index_plan_op(gg, plan)}; });
}

}  // namespace

TensorPtr as_index_tensor(const TensorPtr& t) {
  if (is_floating(t->dtype())) {
    throw std::out_of_range("tensors used as indices must be long, int, byte or bool tensors");
  }
  if (t->dtype() == DType::Bool || t->dtype() == DType::Int64) return t;
  if (t->dtype() == DType::UInt8) return cast(t, DType::Bool);  // a (deprecated) mask, as in PyTorch
  return cast(t, DType::Int64);                                 // narrower integer dtypes
}

IndexPlanPtr make_index_plan(const Shape& shape, const std::vector<TensorPtr>& indices) {
  auto p = std::make_shared<IndexPlan>();
  p->source_shape = shape;
  const std::int64_t nd = static_cast<std::int64_t>(shape.size());
  const auto too_many = [&] {
    return std::out_of_range("too many indices for tensor of dimension " + std::to_string(nd));
  };
  std::vector<TensorPtr> raw;
  std::vector<bool> callers;  // raw[i] is the caller's own tensor (or a view of it)
  std::int64_t d = 0;
  for (const TensorPtr& entry : indices) {
    if (!entry) {
      if (++d > nd) throw too_many();
      continue;
    }
    const TensorPtr ix = as_index_tensor(entry);
    require_cpu(ix, "advanced indexing");
    if (ix->dtype() == DType::Bool) {
      const std::int64_t k = ix->ndim();
      if (k == 0) throw std::out_of_range("a 0-d bool tensor is only supported as an index of t[...]");
      if (d + k > nd) throw too_many();
      for (std::int64_t j = 0; j < k; ++j) {
        if (ix->shape()[j] != shape[d + j]) {
          throw std::out_of_range("The shape of the mask " + shape_str(ix->shape()) + " at index " + std::to_string(j) +
                                  " does not match the shape of the indexed tensor " + shape_str(shape) + " at index " +
                                  std::to_string(d + j));
        }
      }
      const TensorPtr nz = nonzero(ix);  // (n, k)
      for (std::int64_t j = 0; j < k; ++j) {
        p->dims.push_back(d + j);
        raw.push_back(make_view(nz, {nz->shape()[0]}, {k}, nz->offset() + j));
        callers.push_back(false);
      }
      d += k;
    } else {
      if (d >= nd) throw too_many();
      p->dims.push_back(d++);
      raw.push_back(ix);
      callers.push_back(ix.get() == entry.get());
    }
  }
  // the indices' shapes broadcast together, numpy-style
  Shape b;
  for (const TensorPtr& ix : raw) {
    const Shape& s = ix->shape();
    Shape out(std::max(b.size(), s.size()), 1);
    bool ok = true;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::int64_t x = i + b.size() >= out.size() ? b[i + b.size() - out.size()] : 1;
      const std::int64_t y = i + s.size() >= out.size() ? s[i + s.size() - out.size()] : 1;
      ok = ok && (x == y || x == 1 || y == 1);
      out[i] = x == 1 ? y : x;
    }
    if (!ok) {
      std::string shapes;
      for (const TensorPtr& t : raw) shapes += (shapes.empty() ? "" : ", ") + shape_str(t->shape());
      throw std::out_of_range("shape mismatch: indexing tensors could not be broadcast together with shapes " + shapes);
    }
    b = out;
  }
  p->index_shape = b;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const TensorPtr& ix = raw[i];
    const TensorPtr expanded = ix->shape() == b ? ix : make_view(ix, b, broadcast_strides(*ix, b), ix->offset());
    TensorPtr owned = contiguous(expanded);
    // The plan checks each index once and the kernels read them again, perhaps with the GIL
    // released: an index still in the caller's memory could change in between (another thread),
    // so the plan keeps its own copy.
    if (callers[i] && owned->storage() == ix->storage()) owned = cast(owned, owned->dtype(), /*copy=*/true);
    p->indices.push_back(owned);
  }
  for (std::size_t k = 1; k < p->dims.size(); ++k) p->adjacent = p->adjacent && p->dims[k] == p->dims[k - 1] + 1;
  // the result: the index shape in place of the indexed dims when they are adjacent, else first
  const std::int64_t first = p->dims.empty() ? 0 : p->dims.front();
  if (p->adjacent) {
    p->result_shape.assign(shape.begin(), shape.begin() + first);
    p->result_shape.insert(p->result_shape.end(), b.begin(), b.end());
    p->result_shape.insert(p->result_shape.end(), shape.begin() + first + static_cast<std::int64_t>(p->dims.size()),
                           shape.end());
  } else {
    p->result_shape = b;
    for (std::int64_t i = 0; i < nd; ++i) {
      if (std::find(p->dims.begin(), p->dims.end(), i) == p->dims.end()) p->result_shape.push_back(shape[i]);
    }
  }
  return p;
}

TensorPtr index_plan_op(const TensorPtr& source, const IndexPlanPtr& plan, const char* name) {
  TensorPtr out = gather_plan(source, *plan);
  if (!any_requires_grad({&source})) return out;
  return record(out, name, {source}, {},
                [plan](const TensorPtr& g, const Saved&) { return Grads{index_backward_plan(g, plan)}; });
}

TensorPtr index_tensor_op(const TensorPtr& source, const std::vector<TensorPtr>& indices) {
  return index_plan_op(source, make_index_plan(source->shape(), indices));
}

namespace {

TensorPtr put_plan(const TensorPtr& self, const IndexPlanPtr& plan, const TensorPtr& values, bool accumulate,
                   const char* name) {
  TensorPtr out = cast(self, self->dtype(), /*copy=*/true);
  scatter_plan(out, *plan, values, accumulate);
  if (!any_requires_grad({&self, &values})) return out;
  return record(out, name, {self, values}, {},
                [plan, accumulate, vshape = values->shape()](const TensorPtr& g, const Saved&) {
                  const TensorPtr gself =
                      accumulate ? g : put_plan(g, plan, scalar_tensor(0.0, g->dtype()), false, "IndexPutBackward0");
                  // values broadcast to the result after losing leading size-1 dims (see broadcast_values)
                  Shape inner = vshape;
                  while (inner.size() > plan->result_shape.size() && inner.front() == 1) inner.erase(inner.begin());
                  const TensorPtr gvalues = sum_to_op(index_plan_op(g, plan), inner);
                  return Grads{gself, inner == vshape ? gvalues : reshape_op(gvalues, vshape, false)};
                });
}

}  // namespace

void check_index_put_dtypes(const TensorPtr& self, const TensorPtr& values) {
  if (values->dtype() != self->dtype()) {
    throw std::runtime_error(std::string("Index put requires the source and destination dtypes match, got ") +
                             scalar_type_name(self->dtype()) + " for the destination and " +
                             scalar_type_name(values->dtype()) + " for the source.");
  }
}

TensorPtr index_put_plan_op(const TensorPtr& self, const IndexPlanPtr& plan, const TensorPtr& values, bool accumulate) {
  check_index_put_dtypes(self, values);
  return put_plan(self, plan, values, accumulate, "IndexPutBackward0");
}

TensorPtr index_put_op(const TensorPtr& self, const std::vector<TensorPtr>& indices, const TensorPtr& values,
                       bool accumulate) {
  return index_put_plan_op(self, make_index_plan(self->shape(), indices), values, accumulate);
}

void index_put_into(const TensorPtr& self, const IndexPlan& plan, const TensorPtr& values, bool accumulate) {
  check_index_put_dtypes(self, values);
  scatter_plan(self, plan, values, accumulate);
  self->storage()->bump_version();
}

TensorPtr slice_scatter_op(const TensorPtr& self, const std::vector<IndexItem>& items, const TensorPtr& value) {
  TensorPtr out = cast(self, self->dtype(), /*copy=*/true);
  copy_into(index_op(out, items), value);
  if (!any_requires_grad({&self, &value})) return out;
  return record(
      out, "CopySlices", {self, value}, {}, [items, vshape = value->shape()](const TensorPtr& g, const Saved&) {
        return Grads{slice_scatter_op(g, items, scalar_tensor(0.0, g->dtype())), sum_to_op(index_op(g, items), vshape)};
      });
}

TensorPtr nonzero(const TensorPtr& t_in) {
  require_cpu(t_in, "nonzero");
  // a storage dtype (int32, float16, ...) counts its nonzeros exactly as bool
  const TensorPtr t = contiguous(is_storage_only(t_in->dtype()) ? cast(t_in, DType::Bool) : t_in);
  const std::int64_t n = t->numel(), nd = t->ndim();
  return dispatch(t->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* v = t->data_as<T>();
    std::int64_t count = 0;
    for (std::int64_t i = 0; i < n; ++i) count += v[i] != T(0);
    TensorPtr out = empty({count, nd}, DType::Int64);
    std::int64_t* o = out->data_as<std::int64_t>();
    if (nd == 1) {
      // branch-free up to the last nonzero (random masks mispredict a branch): until then the slot
      // written is always one of the result's, and a zero's write is overwritten by the next
      std::int64_t last = n - 1;
      while (last >= 0 && v[last] == T(0)) --last;
      std::int64_t k = 0;
      for (std::int64_t i = 0; i <= last; ++i) {
        o[k] = i;
        k += v[i] != T(0);
      }
      return out;
    }
    Shape at(static_cast<std::size_t>(nd), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      if (v[i] != T(0)) {
        std::copy(at.begin(), at.end(), o);
        o += nd;
      }
      for (std::int64_t d = nd - 1; d >= 0; --d) {
        if (++at[d] < t->shape()[d]) break;
        at[d] = 0;
      }
    }
    return out;
  });
}

// --- ops along a dim -------------------------------------------------------------------------

namespace {

/// index checked as the integer index of a dim op (an int64 tensor after conversion).
TensorPtr dim_index(const TensorPtr& index, const char* op) {
  if (index->dtype() == DType::Bool || is_floating(index->dtype())) {
    throw std::runtime_error(std::string(op) + "(): Expected dtype int32/int64 for index");
  }
  require_cpu(index, op);
  return contiguous(as_index_tensor(index));
}

/// Walks index's shape with the strides of self (dim's stride left out), of index and of a third
/// tensor: f(self offset, index value position, other offset) per element, after checking that
/// index[...] lies in [0, size of dim).
template <class F>
void walk_dim(const TensorPtr& self, std::int64_t dim, const TensorPtr& index, const Shape& other_strides, F&& f) {
  Shape self_strides = self->ndim() == 0 ? Shape(index->ndim(), 0) : self->strides();
  if (self->ndim() > 0) self_strides[dim] = 0;
  const std::int64_t size = self->ndim() == 0 ? 1 : self->shape()[dim];
  const std::int64_t stride = self->ndim() == 0 ? 0 : self->strides()[dim];
  const std::int64_t* ix = index->data_as<std::int64_t>();
  // checked before any element is touched
  for (std::int64_t i = 0; i < index->numel(); ++i) {
    if (ix[i] < 0 || ix[i] >= size) throw std::runtime_error(out_of_bounds(ix[i], dim, size));
  }
  const Shape index_strides = index->strides();
  for_each_run<3>(index->shape(), {self_strides.data(), index_strides.data(), other_strides.data()},
                  [&](const std::array<std::int64_t, 3>& at, const std::array<std::int64_t, 3>& st, std::int64_t n) {
                    for (std::int64_t j = 0; j < n; ++j) {
                      f(at[0] + j * st[0] + ix[at[1] + j * st[1]] * stride, at[2] + j * st[2]);
                    }
                  });
}

/// Checks the shapes of a gather or scatter: the same number of dims, and index no larger than
/// self (and than src when there is one) in any dim but dim.
void check_dim_shapes(const TensorPtr& self, std::int64_t dim, const TensorPtr& index, const TensorPtr* src,
                      const char* op) {
  if (std::max<std::int64_t>(index->ndim(), 1) != std::max<std::int64_t>(self->ndim(), 1)) {
    throw std::runtime_error("Index tensor must have the same number of dimensions as input tensor");
  }
  if (src && std::max<std::int64_t>(index->ndim(), 1) != std::max<std::int64_t>((*src)->ndim(), 1)) {
    throw std::runtime_error("Index tensor must have the same number of dimensions as src tensor");
  }
  if (src && (*src)->ndim() == 0 && index->ndim() > 0) {  // a 0-d src stands for a 1-element one
    if (index->shape()[0] > 1) {
      throw std::runtime_error(std::string(op) + "(): Expected index " + shape_str(index->shape()) +
                               " to be no larger than src " + shape_str((*src)->shape()));
    }
  }
  // a 0-d index is one element, checked as shape [1] (an empty src or self has none to give it)
  const Shape ishape = index->ndim() == 0 ? Shape{1} : index->shape();
  for (std::int64_t d = 0; d < static_cast<std::int64_t>(ishape.size()); ++d) {
    if (self->ndim() > 0 && d != dim && ishape[d] > self->shape()[d]) {
      throw std::runtime_error(std::string("Size does not match at dimension ") + std::to_string(d) +
                               " expected index " + shape_str(index->shape()) + " to be no larger than self " +
                               shape_str(self->shape()) + " apart from dimension " + std::to_string(dim));
    }
    if (src && (*src)->ndim() > 0 && ishape[d] > (*src)->shape()[d]) {
      throw std::runtime_error(std::string(op) + "(): Expected index " + shape_str(index->shape()) +
                               " to be no larger than src " + shape_str((*src)->shape()) + " in dimension " +
                               std::to_string(d));
    }
  }
}

/// g (of index's shape) placed at the start of zeros of `shape` (a src larger than its index gets
/// no gradient past it).
TensorPtr pad_to(const TensorPtr& g, const Shape& shape) {
  if (g->shape() == shape) return g;
  if (g->ndim() != static_cast<std::int64_t>(shape.size())) return reshape_op(g, shape, false);
  std::vector<IndexItem> items;
  for (std::int64_t s : g->shape()) items.push_back({IndexItem::Kind::Slice, 0, s, 1});
  return index_backward_op(g, shape, items);
}

/// Copies self and writes into the copy along dim: src (strided, or one value when src is 0-d
/// and broadcast) at index.
TensorPtr scatter_kernel(const TensorPtr& self, std::int64_t dim, const TensorPtr& index, const TensorPtr& src_in,
                         bool add) {
  require_cpu(self, "scatter");
  TensorPtr out = cast(self, self->dtype(), /*copy=*/true);
  const TensorPtr src = to_device(src_in->dtype() == self->dtype() ? src_in : cast(src_in, self->dtype()), Device{});
  const Shape src_strides = src->ndim() == 0 ? Shape(index->ndim(), 0) : src->strides();
  dispatch_storage(self->dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = out->data_as<T>();
    const T* s = src->data_as<T>();
    walk_dim(out, dim, index, src_strides, [&](std::int64_t at, std::int64_t from) {
      if (add) {
        accumulate_element(o[at], s[from]);
      } else {
        o[at] = s[from];
      }
    });
  });
  return out;
}

TensorPtr scatter_add_into_zeros(const Shape& shape, std::int64_t dim, const TensorPtr& index, const TensorPtr& g);

}  // namespace

TensorPtr gather_op(const TensorPtr& self, std::int64_t dim_in, const TensorPtr& index_in) {
  const std::int64_t dim = wrap_dim(dim_in, std::max<std::int64_t>(self->ndim(), 1));
  const TensorPtr index = dim_index(index_in, "gather");
  check_dim_shapes(self, dim, index, nullptr, "gather");
  require_cpu(self, "gather");
  TensorPtr out = empty(index->shape(), self->dtype());
  const Shape out_strides = out->strides();
  const char* s = self->data();
  char* o = out->data();
  by_itemsize(itemsize(self->dtype()), [&](auto size) {
    constexpr std::size_t N = decltype(size)::value;
    walk_dim(self, dim, index, out_strides,
             [&](std::int64_t at, std::int64_t to) { copy_element<N>(o + to * N, s + at * N); });
  });
  if (!any_requires_grad({&self})) return out;
  return record(out, "GatherBackward0", {self}, {},
                [shape = self->shape(), dim, index](const TensorPtr& g, const Saved&) {
                  return Grads{scatter_add_into_zeros(shape, dim, index, g)};
                });
}

namespace {

TensorPtr scatter_add_into_zeros(const Shape& shape, std::int64_t dim, const TensorPtr& index, const TensorPtr& g) {
  TensorPtr out = scatter_kernel(full(shape, 0.0, g->dtype(), g->device()), dim, index, g, /*add=*/true);
  if (!any_requires_grad({&g})) return out;
  return record(out, "ScatterAddBackward0", {g}, {},
                [dim, index](const TensorPtr& gg, const Saved&) { return Grads{gather_op(gg, dim, index)}; });
}

}  // namespace

TensorPtr scatter_op(const TensorPtr& self, std::int64_t dim_in, const TensorPtr& index_in, const TensorPtr& src,
                     bool add) {
  const char* op = add ? "scatter_add" : "scatter";
  const std::int64_t dim = wrap_dim(dim_in, std::max<std::int64_t>(self->ndim(), 1));
  const TensorPtr index = dim_index(index_in, op);
  if (src->dtype() != self->dtype()) {
    throw std::runtime_error(std::string(op) + "(): Expected self.dtype to be equal to src.dtype");
  }
  check_dim_shapes(self, dim, index, &src, op);
  TensorPtr out = scatter_kernel(self, dim, index, src, add);
  if (!any_requires_grad({&self, &src})) return out;
  return record(out, add ? "ScatterAddBackward0" : "ScatterBackward0", {self, src}, {},
                [dim, index, add, sshape = src->shape()](const TensorPtr& g, const Saved&) {
                  const TensorPtr gself = add ? g : scatter_value_op(g, dim, index, 0.0);
                  return Grads{gself, pad_to(gather_op(g, dim, index), sshape)};
                });
}

TensorPtr scatter_value_op(const TensorPtr& self, std::int64_t dim_in, const TensorPtr& index_in, double value) {
  const std::int64_t dim = wrap_dim(dim_in, std::max<std::int64_t>(self->ndim(), 1));
  const TensorPtr index = dim_index(index_in, "scatter");
  check_dim_shapes(self, dim, index, nullptr, "scatter");
  TensorPtr out = scatter_kernel(self, dim, index, scalar_tensor(value, self->dtype()), false);
  if (!any_requires_grad({&self})) return out;
  return record(out, "ScatterBackward1", {self}, {},
                [dim, index](const TensorPtr& g, const Saved&) { return Grads{scatter_value_op(g, dim, index, 0.0)}; });
}

namespace {

/// The plan of self indexed along dim by a 1-d (or 0-d) index, checked to lie in [0, size).
IndexPlanPtr dim_plan(const TensorPtr& self, std::int64_t dim, const TensorPtr& index_in, const char* op,
                      bool range_is_index_error) {
  TensorPtr index = dim_index(index_in, op);
  if (index->ndim() > 1) throw std::out_of_range(std::string(op) + "(): Index is supposed to be a vector");
  if (index->ndim() == 0) index = make_view(index, {1}, {1}, index->offset());
  const std::int64_t size = self->ndim() == 0 ? 1 : self->shape()[dim];
  const std::int64_t* ix = index->data_as<std::int64_t>();
  for (std::int64_t i = 0; i < index->numel(); ++i) {
    if (ix[i] < 0 || ix[i] >= size) {
      if (range_is_index_error) throw std::out_of_range("index out of range in self");
      throw std::runtime_error(out_of_bounds(ix[i], dim, size));
    }
  }
  if (self->ndim() == 0) return make_index_plan({1}, {index});
  std::vector<TensorPtr> indices(static_cast<std::size_t>(dim));
  indices.push_back(index);
  return make_index_plan(self->shape(), indices);
}

}  // namespace

TensorPtr index_select_op(const TensorPtr& self, std::int64_t dim_in, const TensorPtr& index) {
  const std::int64_t dim = wrap_dim(dim_in, std::max<std::int64_t>(self->ndim(), 1));
  const IndexPlanPtr plan = dim_plan(self, dim, index, "index_select", true);
  const TensorPtr source = self->ndim() == 0 ? reshape_op(self, {1}, false) : self;
  TensorPtr out = index_plan_op(source, plan, "IndexSelectBackward0");
  return self->ndim() == 0 ? reshape_op(out, {}, false) : out;
}

TensorPtr index_add_op(const TensorPtr& self, std::int64_t dim_in, const TensorPtr& index, const TensorPtr& source,
                       double alpha) {
  const std::int64_t dim = wrap_dim(dim_in, std::max<std::int64_t>(self->ndim(), 1));
  const IndexPlanPtr plan = dim_plan(self, dim, index, "index_add_", false);
  const std::int64_t n = shape_numel(plan->index_shape);
  const std::int64_t have = source->ndim() == 0 ? 1 : source->shape()[std::min(dim, source->ndim() - 1)];
  if (n != have) {
    throw std::runtime_error("index_add_(): Number of indices (" + std::to_string(n) +
                             ") should be equal to source.size(dim): (" + std::to_string(have) +
                             "), for dim: " + std::to_string(dim));
  }
  if (source->dtype() != self->dtype()) {
    throw std::runtime_error(std::string("index_add_(): self (") + scalar_type_name(self->dtype()) + ") and source (" +
                             scalar_type_name(source->dtype()) + ") must have the same scalar type");
  }
  // source has self's shape but along dim, where it has one slice per index (a 0-d source for a
  // 0-d or 1-d self), as PyTorch requires; nothing is reshaped into place
  const std::int64_t self_nd = std::max<std::int64_t>(self->ndim(), 1);
  bool fits = source->ndim() == 0 ? self->ndim() <= 1 && n == 1 : source->ndim() == self_nd;
  for (std::int64_t d = 0; fits && source->ndim() > 0 && d < self_nd; ++d) {
    fits = d == dim || source->shape()[d] == (self->ndim() == 0 ? 1 : self->shape()[d]);
  }
  if (!fits) {
    throw std::runtime_error("index_add_(): source tensor shape " + shape_str(source->shape()) +
                             " must match self tensor shape " + shape_str(self->shape()) + ", excluding the dim " +
                             std::to_string(dim));
  }
  TensorPtr scaled = alpha == 1.0
                         ? source
                         : arith(BinaryOp::Mul, source, scalar_tensor(alpha, source->dtype()), source->dtype(), true);
  if (scaled->shape() != plan->result_shape) scaled = reshape_op(scaled, plan->result_shape, false);
  if (self->ndim() == 0) {
    return reshape_op(put_plan(reshape_op(self, {1}, false), plan, scaled, true, "IndexAddBackward0"), {}, false);
  }
  return put_plan(self, plan, scaled, true, "IndexAddBackward0");
}

TensorPtr index_fill_op(const TensorPtr& self, std::int64_t dim_in, const TensorPtr& index, double value) {
  const std::int64_t dim = wrap_dim(dim_in, std::max<std::int64_t>(self->ndim(), 1));
  const IndexPlanPtr plan = dim_plan(self, dim, index, "index_fill_", false);
  const TensorPtr base = self->ndim() == 0 ? reshape_op(self, {1}, false) : self;
  TensorPtr out = put_plan(base, plan, scalar_tensor(value, self->dtype()), false, "IndexFillBackward0");
  return self->ndim() == 0 ? reshape_op(out, {}, false) : out;
}

TensorPtr masked_fill_op(const TensorPtr& self, const TensorPtr& mask, const TensorPtr& value_in,
                         bool value_is_tensor) {
  if (mask->dtype() != DType::Bool) {
    throw std::runtime_error(std::string("masked_fill_ only supports boolean masks, but got mask with dtype ") +
                             dtype_name(mask->dtype()));
  }
  if (value_in->ndim() != 0) {
    throw std::runtime_error("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with " +
                             std::to_string(value_in->ndim()) + " dimension(s).");
  }
  const TensorPtr value = to_dtype(value_in, self->dtype(), false);
  TensorPtr out = where(mask, value, self, self->dtype());
  if (!any_requires_grad({&self, &value})) return out;
  return record(out, value_is_tensor ? "MaskedFillBackward1" : "MaskedFillBackward0", {self, value}, {},
                [mask, shape = self->shape()](const TensorPtr& g, const Saved&) {
                  const TensorPtr zero = scalar_tensor(0.0, g->dtype());
                  return Grads{sum_to_op(where_op(mask, zero, g, g->dtype()), shape),
                               sum_op(where_op(mask, g, zero, g->dtype()), {}, false)};
                });
}

TensorPtr masked_select_op(const TensorPtr& self, const TensorPtr& mask) {
  if (mask->dtype() != DType::Bool) {
    throw std::runtime_error(std::string("masked_select: expected BoolTensor for mask, got ") +
                             dtype_name(mask->dtype()));
  }
  const Shape shape = broadcast_shapes(self->shape(), mask->shape(), "masked_select");
  const TensorPtr x = self->shape() == shape ? self : expand_op(self, shape);
  const TensorPtr m =
      mask->shape() == shape ? mask : make_view(mask, shape, broadcast_strides(*mask, shape), mask->offset());
  if (shape.empty()) {  // a 0-d mask picks the one element or none
    return index_plan_op(reshape_op(x, {1}, false), make_index_plan({1}, {reshape_op(m, {1}, false)}),
                         "MaskedSelectBackward0");
  }
  return index_plan_op(x, make_index_plan(shape, {m}), "MaskedSelectBackward0");
}

TensorPtr take_op(const TensorPtr& self, const TensorPtr& index_in) {
  const TensorPtr index = dim_index(index_in, "take");
  const std::int64_t n = self->numel();
  const std::int64_t* ix = index->data_as<std::int64_t>();
  for (std::int64_t i = 0; i < index->numel(); ++i) {
    if (ix[i] < -n || ix[i] >= n) {
      throw std::out_of_range("out of range: tried to access index " + std::to_string(ix[i]) + " on a tensor of " +
                              std::to_string(n) + " elements.");
    }
  }
  const TensorPtr flat = reshape_op(self, {n}, false);
  return index_plan_op(flat, make_index_plan({n}, {index}), "TakeBackward0");
}

}  // namespace chaingrad
