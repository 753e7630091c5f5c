// Strided iteration and dtype dispatch shared by the tensor kernels.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace chaingrad {

#if defined(__CUDACC__)
#define CG_HOST_DEVICE __host__ __device__
#else
#define CG_HOST_DEVICE
#endif

// Note [integer wrap-around]
// Signed overflow is undefined behaviour in C++, and int64 tensors overflow on ordinary input
// (2**62 * 4, -INT64_MIN, a sum of large counts). PyTorch's results there are the two's-complement
// wrap-around, so the integer arithmetic of every kernel goes through unsigned types, where
// wrapping is defined, and converts back.

/// a + b, a - b, a * b and -a, wrapping around for signed integers (see Note [integer wrap-around]).
template <class T>
CG_HOST_DEVICE inline T wrapping_add(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return static_cast<T>(a + b);
  }
}
template <class T>
CG_HOST_DEVICE inline T wrapping_sub(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
  } else {
    return static_cast<T>(a - b);
  }
}
template <class T>
CG_HOST_DEVICE inline T wrapping_mul(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return static_cast<T>(a * b);
  }
}
template <class T>
CG_HOST_DEVICE inline T wrapping_neg(T a) {
  if constexpr (std::is_integral_v<T>) return wrapping_sub(T(0), a);
  else return -a;  // not 0 - a, which turns -0.0 into +0.0
}

/// The storage of a float16 and of a bfloat16 element: their bits. Arithmetic never happens in
/// these types (see Note [storage dtypes]); they only convert to and from float.
struct Half {
  std::uint16_t bits;
};
struct BFloat16 {
  std::uint16_t bits;
};
template <class T>
inline constexpr bool is_half_like_v = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

inline std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// f rounded to the nearest float16 (ties to even), as IEEE 754 and PyTorch convert: past the
/// largest half (65504) by half an ulp or more is inf; a NaN stays a NaN of its sign, quieted, with
/// the top of its payload (as x86's conversion instruction, which PyTorch uses).
inline Half float_to_half(float f) {
  const std::uint32_t x = float_bits(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t a = x & 0x7FFFFFFFu;
  if (a > 0x7F800000u)
    return {static_cast<std::uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu))};  // quiet, payload kept
  if (a >= 0x477FF000u) return {static_cast<std::uint16_t>(sign | 0x7C00u)};     // 65520 and up
  if (a >= 0x38800000u) {  // a normal half: rebias the exponent (127 -> 15), round off 13 bits
    std::uint32_t r = a - 0x38000000u;
    r += 0xFFFu + ((r >> 13) & 1u);
    return {static_cast<std::uint16_t>(sign | (r >> 13))};
  }
  if (a < 0x33000000u) return {sign};  // below 2^-25, half the smallest subnormal: zero
  // a subnormal half counts units of 2^-24: the 24-bit significand shifted right, rounded to even
  const std::uint32_t shift = 126u - (a >> 23);  // 14 to 24
  const std::uint32_t mant = (a & 0x7FFFFFu) | 0x800000u;
  std::uint32_t q = mant >> shift;
  const std::uint32_t rem = mant & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
  if (rem > halfway || (rem == halfway && (q & 1u))) ++q;
  return {static_cast<std::uint16_t>(sign | q)};
}

/// The float a float16 holds (exactly).
inline float half_to_float(Half h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h.bits & 0x8000u) << 16;
  const std::uint32_t e = (h.bits >> 10) & 0x1Fu, m = h.bits & 0x3FFu;
  if (e == 0x1Fu) return bits_float(sign | 0x7F800000u | (m << 13));
  if (e == 0) {
    const float v = static_cast<float>(m) * 0x1p-24f;  // subnormal: exact
    return sign ? -v : v;
  }
  return bits_float(sign | ((e + 112u) << 23) | (m << 13));
}

/// f rounded to the nearest bfloat16 (ties to even); every NaN becomes 0xFFFF, as PyTorch's
/// (vectorised) tensor conversion gives.
inline BFloat16 float_to_bfloat16(float f) {
  if (f != f) return {0xFFFFu};
  const std::uint32_t x = float_bits(f);
  return {static_cast<std::uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16)};
}

/// The float a bfloat16 holds (exactly).
inline float bfloat16_to_float(BFloat16 h) { return bits_float(static_cast<std::uint32_t>(h.bits) << 16); }

inline float to_float(Half h) { return half_to_float(h); }
inline float to_float(BFloat16 h) { return bfloat16_to_float(h); }

/// v converted to Out without undefined behaviour: a float that Out cannot hold (NaN, inf,
/// 1e38 into int64) becomes Out's minimum, which is what x86's conversion instruction, and so
/// PyTorch on these machines, gives; anything nonzero converts to true. A float goes into int8
/// and int16 through int32 and into uint8 through int64, as PyTorch's compiled conversions do
/// (300.0 to int8 is 44, -1.0 to uint8 255); integers narrow by two's-complement truncation; float16 and bfloat16
/// convert through float (so a double rounds twice, as in PyTorch).
template <class Out, class In>
CG_HOST_DEVICE inline Out convert_value(In v) {
  if constexpr (std::is_same_v<Out, In>) {
    return v;  // a copy keeps the bits (a half type's NaN payload too, as PyTorch's clone)
  } else if constexpr (is_half_like_v<In>) {
    return convert_value<Out, float>(to_float(v));
  } else if constexpr (std::is_same_v<Out, Half>) {
    return float_to_half(std::is_same_v<In, bool> ? (v ? 1.0f : 0.0f) : static_cast<float>(v));
  } else if constexpr (std::is_same_v<Out, BFloat16>) {
    return float_to_bfloat16(std::is_same_v<In, bool> ? (v ? 1.0f : 0.0f) : static_cast<float>(v));
  } else if constexpr (std::is_same_v<Out, bool>) {
    return v != In(0);
  } else if constexpr (std::is_same_v<Out, std::uint8_t> && std::is_floating_point_v<In>) {
    return static_cast<Out>(convert_value<std::int64_t, In>(v));
  } else if constexpr (std::is_integral_v<Out> && std::is_floating_point_v<In> && sizeof(Out) < 4) {
    return static_cast<Out>(convert_value<std::int32_t, In>(v));
  } else if constexpr (std::is_integral_v<Out> && std::is_floating_point_v<In>) {
    // 2^(digits) is exactly representable in In; values at or past it do not fit
    constexpr In limit = static_cast<In>(static_cast<std::uint64_t>(1) << std::numeric_limits<Out>::digits);
    return v >= -limit && v < limit ? static_cast<Out>(v) : std::numeric_limits<Out>::min();
  } else {
    return static_cast<Out>(v);
  }
}

/// A bound given as a double (clamp's min and max) in T's range: an integer type saturates, so the
/// Python int 2**63 - 1, which a double rounds up to 2**63, stays the largest int64.
template <class T>
CG_HOST_DEVICE inline T saturate_value(double v) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    constexpr double limit = static_cast<double>(static_cast<std::uint64_t>(1) << std::numeric_limits<T>::digits);
    if (!(v < limit)) return v != v ? T(0) : std::numeric_limits<T>::max();
    if (v < -limit) return std::numeric_limits<T>::min();
    return static_cast<T>(v);
  } else {
    return convert_value<T>(v);
  }
}

/// Calls f with a value of the C++ type of a compute dtype (bool, int64_t, float, double). The
/// storage dtypes have no kernels of their own (see Note [storage dtypes]): the CPU ops convert
/// them before they get here, and the CUDA backend refuses them.
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool:
      return f(bool{});
    case DType::Int64:
      return f(std::int64_t{});
    case DType::Float32:
      return f(float{});
    case DType::Float64:
      return f(double{});
    default:
      break;
  }
  throw std::runtime_error(std::string("dtype ") + dtype_name(dtype) +
                           " is not supported by this kernel (CUDA computes in bool, int64, float32 and float64 "
                           "only; convert the tensor first)");
}

/// Calls f with a value of the C++ storage type of any dtype (the compute types, int32_t,
/// int16_t, int8_t, uint8_t, Half, BFloat16): for kernels that only move and convert elements.
template <class F>
decltype(auto) dispatch_storage(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Int32:
      return f(std::int32_t{});
    case DType::Int16:
      return f(std::int16_t{});
    case DType::Int8:
      return f(std::int8_t{});
    case DType::UInt8:
      return f(std::uint8_t{});
    case DType::Float16:
      return f(Half{});
    case DType::BFloat16:
      return f(BFloat16{});
    default:
      return dispatch(dtype, std::forward<F>(f));
  }
}

/// The strides that view t at shape `out` by broadcasting: right-aligned, 0 where t has size 1
/// or no dim. The caller has checked that t broadcasts to out.
inline Shape broadcast_strides(const TensorImpl& t, const Shape& out) {
  Shape strides(out.size(), 0);
  const std::size_t lead = out.size() - t.shape().size();
  for (std::size_t d = 0; d < t.shape().size(); ++d) {
    strides[lead + d] = t.shape()[d] == 1 ? 0 : t.strides()[d];
  }
  return strides;
}

/// How an operand is read by a flat loop over a contiguous output of shape `out`: element i when
/// it is flat (that shape, contiguous), always element 0 when it is single.
inline bool is_flat(const TensorImpl& t, const Shape& out) { return t.shape() == out && t.is_contiguous(); }
inline bool is_single(const TensorImpl& t) { return t.numel() == 1; }

/// Walks every index of shape in row-major order, one run along the last dim at a time:
/// run(offsets, inner_strides, length), where offsets[k] is operand k's element offset at the start
/// of the run and inner_strides[k] its stride along the last dim.
template <std::size_t N, class Run>
void for_each_run(const Shape& shape, const std::array<const std::int64_t*, N>& strides, Run&& run) {
  const std::int64_t total = shape_numel(shape);
  if (total == 0) return;
  std::array<std::int64_t, N> offsets{};
  std::array<std::int64_t, N> inner{};
  const std::int64_t nd = static_cast<std::int64_t>(shape.size());
  if (nd == 0) {
    run(offsets, inner, std::int64_t{1});
    return;
  }
  const std::int64_t length = shape[nd - 1];
  for (std::size_t k = 0; k < N; ++k) inner[k] = strides[k][nd - 1];
  std::vector<std::int64_t> index(static_cast<std::size_t>(nd), 0);
  for (std::int64_t done = 0; done < total; done += length) {
    run(offsets, inner, length);
    for (std::int64_t d = nd - 2; d >= 0; --d) {
      for (std::size_t k = 0; k < N; ++k) offsets[k] += strides[k][d];
      if (++index[d] < shape[d]) break;
      for (std::size_t k = 0; k < N; ++k) offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
  }
}

/// A walk's shape and strides with the dims of size 1 dropped and neighbours that every operand
/// steps through as one merged: the same elements in the same order, in runs as long as the
/// layouts allow (a (2000, 1) copy is one run of 2000, not 2000 runs of 1). For walks whose
/// results do not depend on how the elements are grouped into runs (copies and fills; a reduction
/// that sums run by run would change its rounding).
template <std::size_t N>
struct MergedDims {
  Shape shape;
  std::array<Shape, N> strides;

  MergedDims(const Shape& shape_in, const std::array<const std::int64_t*, N>& strides_in) {
    if (std::find(shape_in.begin(), shape_in.end(), 0) != shape_in.end()) {
      // no elements: one empty dim (the other dims' sizes could multiply past int64)
      shape.push_back(0);
      for (std::size_t k = 0; k < N; ++k) strides[k].push_back(0);
      return;
    }
    for (std::size_t d = 0; d < shape_in.size(); ++d) {
      if (shape_in[d] == 1) continue;
      bool merges = !shape.empty();
      for (std::size_t k = 0; k < N && merges; ++k) {
        std::int64_t span = 0;  // the stride the merged dim would need; past int64, no merge
        merges = !__builtin_mul_overflow(strides_in[k][d], shape_in[d], &span) && strides[k].back() == span;
      }
      if (merges) {
        shape.back() *= shape_in[d];
        for (std::size_t k = 0; k < N; ++k) strides[k].back() = strides_in[k][d];
        continue;
      }
      shape.push_back(shape_in[d]);
      for (std::size_t k = 0; k < N; ++k) strides[k].push_back(strides_in[k][d]);
    }
  }
  std::array<const std::int64_t*, N> stride_ptrs() const {
    std::array<const std::int64_t*, N> out{};
    for (std::size_t k = 0; k < N; ++k) out[k] = strides[k].data();
    return out;
  }
};

}  // namespace chaingrad
