// Elementwise kernels: copies with dtype conversion, fill, unary and binary ops with
// broadcasting, where, clamp and relu's gradient, applying the CPU's own per-element rules
// (kernels/element_rules.h, see Note [one rule for both devices]). The op is a kernel argument, not a template
// parameter: the branch on it is the same for every thread, costs nothing next to the memory traffic, and keeps the
// number of kernels (and the build time for five GPU architectures) small.
#include "kernels/cuda/common.cuh"
#include "kernels/element_rules.h"

namespace chaingrad::cuda {
namespace {

/// An Operand as a kernel sees it: a device pointer, or the scalar when the pointer is null.
template <class T>
struct Input {
  const T* data;
  T value;
  __device__ T at(std::int64_t offset) const { return data ? data[offset] : value; }
};

template <class T>
Input<T> input(const Operand& op) {
  T value{};
  if constexpr (std::is_same_v<T, std::int64_t>) value = op.scalar_int;
  else value = static_cast<T>(op.scalar);
  return {static_cast<const T*>(op.data), value};
}

/// The operand's strides, or zeros for a scalar (read once, whatever the output index).
Shape strides_of(const Operand& op, std::size_t ndim) { return op.data ? op.strides : Shape(ndim, 0); }

// --- kernels ---------------------------------------------------------------------------------

template <class Out, class In>
__global__ void copy_kernel(Out* out, Input<In> in, StridedIndex<2> index, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const auto off = index.offsets(i);
    out[off[0]] = convert_value<Out, In>(in.at(off[1]));
  }
}

template <class T>
__global__ void fill_kernel(T* out, T value, StridedIndex<1> index, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    out[index.offsets(i)[0]] = value;
  }
}

template <class T>
__global__ void unary_kernel(UnaryOp op, OpParams params, T* out, Input<T> in, StridedIndex<1> index, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    out[i] = unary_value(op, in.at(index.offsets(i)[0]), params);
  }
}

/// Both operands contiguous with the output's shape (or scalars): no index arithmetic at all.
template <class T, class Out>
__global__ void binary_flat_kernel(BinaryOp op, Out* out, Input<T> x, Input<T> y, std::int64_t n) {
  const bool x_flat = x.data != nullptr, y_flat = y.data != nullptr;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const T a = x_flat ? x.data[i] : x.value;
    const T b = y_flat ? y.data[i] : y.value;
    if constexpr (std::is_same_v<Out, bool>) out[i] = compare_value(op, a, b);
    else out[i] = arith_value(op, a, b);
  }
}

template <class T, class Out>
__global__ void binary_kernel(BinaryOp op, Out* out, Input<T> x, Input<T> y, StridedIndex<2> index, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const auto off = index.offsets(i);
    const T a = x.at(off[0]), b = y.at(off[1]);
    if constexpr (std::is_same_v<Out, bool>) out[i] = compare_value(op, a, b);
    else out[i] = arith_value(op, a, b);
  }
}

template <class T>
__global__ void where_kernel(T* out, Input<bool> cond, Input<T> x, Input<T> y, StridedIndex<3> index, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const auto off = index.offsets(i);
    out[i] = cond.at(off[0]) ? x.at(off[1]) : y.at(off[2]);
  }
}

template <class T>
__global__ void clamp_kernel(T* out, Input<T> in, bool has_lo, T lo, bool has_hi, T hi, StridedIndex<1> index,
                             std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    T v = in.at(index.offsets(i)[0]);
    // as on the CPU: a NaN input stays NaN, a NaN bound makes the result NaN
    if (has_lo && (v < lo || lo != lo)) v = lo;
    if (has_hi && (v > hi || hi != hi)) v = hi;
    out[i] = v;
  }
}

template <class T>
__global__ void relu_backward_kernel(T* out, const T* g, const T* y, std::int64_t n) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    out[i] = y[i] <= T(0) ? T(0) : g[i];  // PyTorch's threshold rule: NaN lets the gradient pass
  }
}

__global__ void any_negative_kernel(const std::int64_t* in, StridedIndex<1> index, std::int64_t n, int* found) {
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    if (in[index.offsets(i)[0]] < 0) *found = 1;  // a benign race: every writer stores 1
  }
}

int device_of(const TensorImpl& t) { return t.device().index; }

}  // namespace

void copy(const TensorImpl& dst, const Operand& src) {
  const std::int64_t n = dst.numel();
  if (n == 0) return;
  DeviceGuard guard(device_of(dst));
  const Shape src_strides = strides_of(src, dst.shape().size());
  const auto index = make_index<2>(dst.shape(), {&dst.strides(), &src_strides});
  dispatch(dst.dtype(), [&](auto out_tag) {
    using Out = decltype(out_tag);
    dispatch(src.dtype, [&](auto in_tag) {
      using In = decltype(in_tag);
      copy_kernel<Out, In><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<Out*>(static_cast<void*>(dst.data())),
                                                                     input<In>(src), index, n);
    });
  });
  CG_CHECK_LAUNCH("copy");
}

void fill(const TensorImpl& dst, double value) {
  const std::int64_t n = dst.numel();
  if (n == 0) return;
  DeviceGuard guard(device_of(dst));
  const auto index = make_index<1>(dst.shape(), {&dst.strides()});
  dispatch(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(dst.data_as<T>(), convert_value<T>(value), index, n);
  });
  CG_CHECK_LAUNCH("fill");
}

void unary(UnaryOp op, OpParams params, const TensorImpl& out, const Operand& in) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(device_of(out));
  const Shape in_strides = strides_of(in, out.shape().size());
  const auto index = make_index<1>(out.shape(), {&in_strides});
  dispatch(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(op, params, out.data_as<T>(), input<T>(in), index, n);
  });
  CG_CHECK_LAUNCH("unary");
}

void binary(BinaryOp op, DType dtype, const TensorImpl& out, const Operand& x, const Operand& y) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(device_of(out));
  const std::size_t nd = out.shape().size();
  const Shape xs = strides_of(x, nd), ys = strides_of(y, nd);
  const bool flat =
      (!x.data || is_contiguous_layout(out.shape(), xs)) && (!y.data || is_contiguous_layout(out.shape(), ys));
  const auto index = flat ? StridedIndex<2>{} : make_index<2>(out.shape(), {&xs, &ys});  // flat needs none
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    auto launch = [&](auto out_tag) {
      using Out = decltype(out_tag);
      Out* o = out.data_as<Out>();
      if (flat) {
        binary_flat_kernel<T, Out><<<blocks_for(n), kThreads, 0, stream()>>>(op, o, input<T>(x), input<T>(y), n);
      } else {
        binary_kernel<T, Out><<<blocks_for(n), kThreads, 0, stream()>>>(op, o, input<T>(x), input<T>(y), index, n);
      }
    };
    if (is_comparison(op)) launch(bool{});
    else launch(T{});
  });
  CG_CHECK_LAUNCH(binary_op_name(op));
}

void where(const TensorImpl& out, const Operand& cond, const Operand& x, const Operand& y) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(device_of(out));
  const std::size_t nd = out.shape().size();
  const Shape cs = strides_of(cond, nd), xs = strides_of(x, nd), ys = strides_of(y, nd);
  const auto index = make_index<3>(out.shape(), {&cs, &xs, &ys});
  dispatch(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(out.data_as<T>(), input<bool>(cond), input<T>(x),
                                                              input<T>(y), index, n);
  });
  CG_CHECK_LAUNCH("where");
}

void clamp(const TensorImpl& out, const Operand& in, const double* lo, const double* hi) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(device_of(out));
  const Shape in_strides = strides_of(in, out.shape().size());
  const auto index = make_index<1>(out.shape(), {&in_strides});
  dispatch(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      clamp_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(out.data_as<T>(), input<T>(in), lo != nullptr,
                                                                lo ? saturate_value<T>(*lo) : T(0), hi != nullptr,
                                                                hi ? saturate_value<T>(*hi) : T(0), index, n);
    }
  });
  CG_CHECK_LAUNCH("clamp");
}

void relu_backward(const TensorImpl& out, const TensorImpl& g, const TensorImpl& y) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(device_of(out));
  dispatch(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      relu_backward_kernel<T>
          <<<blocks_for(n), kThreads, 0, stream()>>>(out.data_as<T>(), g.data_as<T>(), y.data_as<T>(), n);
    }
  });
  CG_CHECK_LAUNCH("relu_backward");
}

bool any_negative(const TensorImpl& t) {
  const std::int64_t n = t.numel();
  if (n == 0) return false;
  const int device = device_of(t);
  DeviceGuard guard(device);
  const auto index = make_index<1>(t.shape(), {&t.strides()});
  const Storage flag(sizeof(int), t.device());
  int* found = static_cast<int*>(flag.data());
  CG_CUDA_CHECK(cudaMemsetAsync(found, 0, sizeof(int), stream()));
  any_negative_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(t.data_as<std::int64_t>(), index, n, found);
  CG_CHECK_LAUNCH("pow (negative exponent check)");
  int host = 0;
  copy_bytes(&host, -1, found, device, sizeof(int));
  return host != 0;
}

}  // namespace chaingrad::cuda
