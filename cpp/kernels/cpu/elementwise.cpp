#include "kernels/kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/gil.h"
#include "kernels/cpu/parallel.h"
#include "kernels/loops.h"
#include "tensor/device.h"

namespace chaingrad {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw std::runtime_error(std::string(op) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                               " cannot be broadcast together (dim " + std::to_string(i) + ": " + std::to_string(da) +
                               " vs " + std::to_string(db) + ")");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// Note [cast routes]
// A loop per (destination, source) pair of the ten dtypes would be 100 loops, most of them never
// hot. Loops exist between a dtype and itself, between the compute types, between each storage type and its compute
// type, and from float32/float64 into int32/int16/int8 (whose out-of-range results PyTorch takes through int32); every
// other conversion goes through the compute type of its storage side, which gives the same values (int8 -> float16 is
// int8 -> float32 -> float16, as in PyTorch).
template <class T>
inline constexpr bool is_compute_type_v =
    std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, float> || std::is_same_v<T, double>;
template <class T>
inline constexpr bool is_narrow_int_v = std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int16_t> ||
                                        std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>;
template <class A, class B>
inline constexpr bool is_storage_pair_v =
    (is_narrow_int_v<A> && std::is_same_v<B, std::int64_t>) || (is_half_like_v<A> && std::is_same_v<B, float>);
template <class Out, class In>
inline constexpr bool has_cast_loop_v =
    std::is_same_v<Out, In> || (is_compute_type_v<Out> && is_compute_type_v<In>) || is_storage_pair_v<Out, In> ||
    is_storage_pair_v<In, Out> ||
    (std::is_floating_point_v<In> && is_narrow_int_v<Out> && !std::is_same_v<Out, std::uint8_t>);

/// The dtype a conversion from src to dst goes through first: dst itself where a loop converts
/// directly (see Note [cast routes]).
DType cast_route(DType dst, DType src) {
  if (dst == src || compute_dtype(dst) == src || compute_dtype(src) == dst) return dst;
  if (is_storage_only(dst)) {
    const bool narrow_signed = dst == DType::Int32 || dst == DType::Int16 || dst == DType::Int8;
    if (narrow_signed && (src == DType::Float32 || src == DType::Float64)) return dst;
    return narrow_signed && is_floating(src) ? DType::Float32 : compute_dtype(dst);
  }
  return is_storage_only(src) ? compute_dtype(src) : dst;
}

}  // namespace

void copy_into(const TensorPtr& dst, const TensorPtr& src_in) {
  // Source and destination in one storage (x[1:] = x[:-1]) could overlap: read a copy instead.
  TensorPtr src = src_in->storage() == dst->storage() && src_in.get() != dst.get()
                      ? cast(src_in, src_in->dtype(), /*copy=*/true)
                      : src_in;
  if (broadcast_shapes(dst->shape(), src->shape(), "copy") != dst->shape()) {
    throw std::runtime_error("copy: source of shape " + shape_str(src->shape()) +
                             " cannot be broadcast to destination of shape " + shape_str(dst->shape()));
  }
  // A copy may cross devices (as PyTorch's copy_): the source moves first, then converts there.
  if (dst->is_cuda()) {
    if (src->device() != dst->device() && !(src->ndim() == 0 && !src->is_cuda())) src = to_device(src, dst->device());
    cuda::copy(*dst, cuda_operand(src, dst->shape()));
    return;
  }
  if (src->is_cuda()) src = to_device(src, dst->device());
  const DType via = cast_route(dst->dtype(), src->dtype());
  if (via != dst->dtype()) {  // not a pair with a loop of its own: convert in two steps
    copy_into(dst, cast(src, via));
    return;
  }
  const Shape src_strides = broadcast_strides(*src, dst->shape());
  GilRelease unlocked(dst->numel() >= kParallelGrain);
  dispatch_storage(dst->dtype(), [&](auto out_tag) {
    using Out = decltype(out_tag);
    dispatch_storage(src->dtype(), [&](auto in_tag) {
      using In = decltype(in_tag);
      if constexpr (!has_cast_loop_v<Out, In>) {
        throw std::logic_error("copy: no conversion loop from " + std::string(dtype_name(src->dtype())) + " to " +
                               dtype_name(dst->dtype()));
      } else {
        Out* out = dst->data_as<Out>();
        const In* in = src->data_as<In>();
        if (dst->is_contiguous() && is_flat(*src, dst->shape())) {
          parallel_for(dst->numel(), [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) out[i] = convert_value<Out, In>(in[i]);
          });
          return;
        }
        const MergedDims<2> dims(dst->shape(), {dst->strides().data(), src_strides.data()});
        for_each_run<2>(dims.shape, dims.stride_ptrs(), [&](const auto& off, const auto& step, std::int64_t n) {
          Out* o = out + off[0];
          const In* i = in + off[1];
          if (step[1] == 0) {  // a broadcast source: a fill
            const Out v = convert_value<Out, In>(*i);
            for (std::int64_t j = 0; j < n; ++j) o[j * step[0]] = v;
            return;
          }
          for (std::int64_t j = 0; j < n; ++j) {
            o[j * step[0]] = convert_value<Out, In>(i[j * step[1]]);
          }
        });
      }
    });
  });
}

TensorPtr cast(const TensorPtr& t, DType dtype, bool copy) {
  if (t->dtype() == dtype && !copy) return t;
  TensorPtr out = empty(t->shape(), dtype, t->device());
  copy_into(out, t);
  return out;
}

TensorPtr contiguous(const TensorPtr& t) {
  if (t->is_contiguous()) return t;
  return cast(t, t->dtype(), /*copy=*/true);
}

TensorPtr as_shape(const TensorPtr& t, const Shape& shape) {
  if (shape_numel(shape) != t->numel()) {
    throw std::runtime_error("as_shape: " + shape_str(t->shape()) + " has " + std::to_string(t->numel()) +
                             " elements, not the " + std::to_string(shape_numel(shape)) + " of " + shape_str(shape));
  }
  TensorPtr c = contiguous(t);
  return make_view(c, shape, contiguous_strides(shape), c->offset());
}

namespace {

/// Refuses a fill value that an integer dtype cannot hold, as PyTorch (which lets a negative
/// whole number wrap into uint8).
void check_fill_value(DType dtype, double value) {
  double lo = 0, hi = 0;
  switch (dtype) {
    case DType::Int64:
      lo = -0x1p63, hi = 0x1p63;  // hi excluded below: 2^63 itself does not fit
      break;
    case DType::Int32:
      lo = -0x1p31, hi = 0x1p31 - 1;
      break;
    case DType::Int16:
      lo = -32768, hi = 32767;
      break;
    case DType::Int8:
      lo = -128, hi = 127;
      break;
    case DType::UInt8:
      lo = value == std::floor(value) ? -255 : 0, hi = 255;
      break;
    default:
      return;
  }
  if (value >= lo && (dtype == DType::Int64 ? value < hi : value <= hi)) return;
  throw std::runtime_error("value " + std::to_string(value) + " cannot be converted to type " + dtype_name(dtype) +
                           " without overflow");
}

}  // namespace

void fill(const TensorPtr& dst, double value) {
  check_fill_value(dst->dtype(), value);
  if (dst->is_cuda()) return cuda::fill(*dst, value);
  dispatch_storage(dst->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T v = convert_value<T>(value);
    T* out = dst->data_as<T>();
    const MergedDims<1> dims(dst->shape(), {dst->strides().data()});
    for_each_run<1>(dims.shape, dims.stride_ptrs(), [&](const auto& off, const auto& step, std::int64_t n) {
      for (std::int64_t j = 0; j < n; ++j) out[off[0] + j * step[0]] = v;
    });
  });
}

TensorPtr scalar_tensor(double value, DType dtype) {
  TensorPtr out = empty({}, dtype);
  fill(out, value);
  return out;
}

double item(const TensorPtr& t) {
  if (t->numel() != 1) {
    throw std::runtime_error("a Tensor with " + std::to_string(t->numel()) + " elements cannot be converted to Scalar");
  }
  const TensorPtr host = to_device(t, Device{});
  return dispatch_storage(t->dtype(), [&](auto tag) {
    using T = decltype(tag);
    return convert_value<double, T>(*host->data_as<T>());
  });
}

TensorPtr relu_backward(const TensorPtr& g, const TensorPtr& y) {
  if (g->shape() != y->shape() || g->dtype() != y->dtype() || g->device() != y->device()) {
    throw std::logic_error("relu_backward: the gradient " + shape_str(g->shape()) + " does not match the output " +
                           shape_str(y->shape()));
  }
  if (is_storage_only(g->dtype())) {
    const DType wide = compute_dtype(g->dtype());
    return cast(relu_backward(cast(g, wide), cast(y, wide)), g->dtype());
  }
  if (!g->is_contiguous() || !y->is_contiguous()) return relu_backward(contiguous(g), contiguous(y));
  TensorPtr out = empty(g->shape(), g->dtype(), g->device());
  if (out->is_cuda()) {
    cuda::relu_backward(*out, *g, *y);
    return out;
  }
  GilRelease unlocked(out->numel() >= kParallelGrain);
  dispatch(g->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g->data_as<T>();
    const T* py = y->data_as<T>();
    T* po = out->data_as<T>();
    parallel_for(out->numel(), [&](std::int64_t b, std::int64_t e) {
      // PyTorch's threshold rule: where relu gave NaN the gradient passes. Both operands are read
      // unconditionally, so the select compiles to a vector blend rather than a branch and a
      // conditional load (which mispredicts on random signs and keeps the loop scalar).
      for (std::int64_t i = b; i < e; ++i) {
        const T gi = pg[i], yi = py[i];
        po[i] = yi <= T(0) ? T(0) : gi;
      }
    });
  });
  return out;
}

namespace {

/// z[i] = c[i] ? x[i] : y[i] over [begin, end), each operand flat or one broadcast element (its
/// flag false). Both sides are read unconditionally so the select vectorizes as a blend.
template <bool kC, bool kX, bool kY, class T>
void flat_where_loop(T* z, const bool* c, const T* x, const T* y, std::int64_t begin, std::int64_t end) {
  for (std::int64_t i = begin; i < end; ++i) {
    const bool m = c[kC ? i : 0];
    const T a = x[kX ? i : 0], b = y[kY ? i : 0];
    z[i] = m ? a : b;
  }
}

template <class T>
void flat_where(T* z, const bool* c, bool c_flat, const T* x, bool x_flat, const T* y, bool y_flat, std::int64_t n) {
  auto run = [&](auto kc, auto kx, auto ky) {
    parallel_for(n, [&](std::int64_t b, std::int64_t e) {
      flat_where_loop<decltype(kc)::value, decltype(kx)::value, decltype(ky)::value>(z, c, x, y, b, e);
    });
  };
  auto with_y = [&](auto kc, auto kx) {
    if (y_flat) run(kc, kx, std::true_type{});
    else run(kc, kx, std::false_type{});
  };
  auto with_x = [&](auto kc) {
    if (x_flat) with_y(kc, std::true_type{});
    else with_y(kc, std::false_type{});
  };
  if (c_flat) with_x(std::true_type{});
  else with_x(std::false_type{});
}

}  // namespace

TensorPtr where(const TensorPtr& cond, const TensorPtr& a, const TensorPtr& b, DType dtype) {
  if (is_storage_only(dtype)) {  // a selection: exact in the compute type
    return cast(where(cond, cast(a, dtype), cast(b, dtype), compute_dtype(dtype)), dtype);
  }
  const Shape shape = broadcast_shapes(cond->shape(), broadcast_shapes(a->shape(), b->shape(), "where"), "where");
  const Device device = common_device("where", {cond.get(), a.get(), b.get()});
  const TensorPtr c = cast(cond, DType::Bool);
  const TensorPtr x = cast(a, dtype);
  const TensorPtr y = cast(b, dtype);
  if (device.is_cuda()) {
    TensorPtr out = empty(shape, dtype, device);
    cuda::where(*out, cuda_operand(c, shape), cuda_operand(x, shape), cuda_operand(y, shape));
    return out;
  }
  const Shape cs = broadcast_strides(*c, shape), xs = broadcast_strides(*x, shape), ys = broadcast_strides(*y, shape);
  TensorPtr out = empty(shape, dtype);
  const bool c_flat = is_flat(*c, shape), x_flat = is_flat(*x, shape), y_flat = is_flat(*y, shape);
  const bool flat = (c_flat || is_single(*c)) && (x_flat || is_single(*x)) && (y_flat || is_single(*y));
  GilRelease unlocked(out->numel() >= kParallelGrain);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    const bool* pc = c->data_as<bool>();
    const T* px = x->data_as<T>();
    const T* py = y->data_as<T>();
    T* pz = out->data_as<T>();
    if (flat) {  // the masked gradients' common case (select(mask, g, 0)): one vectorized pass
      flat_where(pz, pc, c_flat, px, x_flat, py, y_flat, out->numel());
      return;
    }
    for_each_run<4>(shape, {out->strides().data(), cs.data(), xs.data(), ys.data()},
                    [&](const auto& off, const auto& step, std::int64_t n) {
                      for (std::int64_t j = 0; j < n; ++j) {
                        const bool m = pc[off[1] + j * step[1]];
                        const T u = px[off[2] + j * step[2]], v = py[off[3] + j * step[3]];
                        pz[off[0] + j * step[0]] = m ? u : v;
                      }
                    });
  });
  return out;
}

TensorPtr clamp(const TensorPtr& t, const double* lo, const double* hi) {
  if (t->dtype() == DType::Bool) throw std::runtime_error("clamp is not supported for bool tensors");
  if (is_storage_only(t->dtype())) {
    // the bounds take t's dtype first (rounded, or wrapped), as the elements compare in it
    const DType wide = compute_dtype(t->dtype());
    const double lo_v = lo ? item(cast(scalar_tensor(*lo, t->dtype()), wide)) : 0.0;
    const double hi_v = hi ? item(cast(scalar_tensor(*hi, t->dtype()), wide)) : 0.0;
    return cast(clamp(cast(t, wide), lo ? &lo_v : nullptr, hi ? &hi_v : nullptr), t->dtype());
  }
  TensorPtr out = empty(t->shape(), t->dtype(), t->device());
  if (out->is_cuda()) {
    cuda::clamp(*out, cuda_operand(t, out->shape()), lo, hi);
    return out;
  }
  dispatch(t->dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* x = t->data_as<T>();
    T* y = out->data_as<T>();
    const T lo_v = lo ? saturate_value<T>(*lo) : T(0), hi_v = hi ? saturate_value<T>(*hi) : T(0);
    for_each_run<2>(out->shape(), {out->strides().data(), t->strides().data()},
                    [&](const auto& off, const auto& step, std::int64_t n) {
                      for (std::int64_t j = 0; j < n; ++j) {
                        T v = x[off[1] + j * step[1]];
                        // a NaN bound makes the result NaN, as PyTorch (a NaN input stays NaN)
                        if (lo && (v < lo_v || lo_v != lo_v)) v = lo_v;
                        if (hi && (v > hi_v || hi_v != hi_v)) v = hi_v;
                        y[off[0] + j * step[0]] = v;
                      }
                    });
  });
  return out;
}

}  // namespace chaingrad
