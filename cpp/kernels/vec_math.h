// float32 exp, tanh and sigmoid written so the compiler can vectorize loops over them (libm's
// expf and tanhf are opaque calls that run one element at a time). Host and device functions: the
// CUDA kernels include them through kernels/element_rules.h, so both devices compute the same
// bits (see Note [one rule for both devices] there).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/loops.h"  // CG_HOST_DEVICE

namespace chaingrad {
namespace {  // internal linkage: see Note [one copy per translation unit] in kernels/cpu/element_loops.h

/// The bits of a float and back: memcpy on the host (the defined way before C++20's bit_cast), the
/// intrinsics on the device.
CG_HOST_DEVICE inline std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}
CG_HOST_DEVICE inline float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// Note [vectorizable float32 math]
// Cephes-style range reduction and minimax polynomials (public-domain coefficients, a couple of
// ulp from libm), with every branch written as a select so loops over them vectorize. Only float32
// uses them; float64 keeps libm's functions.

/// c ? a : b as bit operations: GCC if-converts ternaries on floats for SSE2 but, with -mavx2 or
/// -mavx512f, gives up on these functions ("control flow in loop"); masks vectorize everywhere.
CG_HOST_DEVICE inline float pick(bool c, float a, float b) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(c);
  return bits_float((float_bits(a) & mask) | (float_bits(b) & ~mask));
}

/// e^x for float32: exp(n ln2 + r) = 2^n * p(r), |r| <= ln2/2. 2^n is applied as two factors so
/// results down to the smallest denormal and up to FLT_MAX come out right.
CG_HOST_DEVICE inline float fast_expf(float x) {
  const float hi = 88.72283935546875f, lo = -103.97208f;  // log(FLT_MAX), log(smallest denormal)
  float xc = pick(x < hi, x, hi);
  xc = pick(xc > lo, xc, lo);
  const float t = xc * 1.44269504088896341f + 0.5f;
  float fn = static_cast<float>(static_cast<int>(t));
  fn = pick(fn > t, fn - 1.0f, fn);  // floor, also for negative t
  const int n = static_cast<int>(fn);
  float r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  const int n1 = n >> 1, n2 = n - n1;  // each within the normal exponent range
  const float scale1 = bits_float(static_cast<std::uint32_t>(n1 + 127) << 23);
  const float scale2 = bits_float(static_cast<std::uint32_t>(n2 + 127) << 23);
  float y = (p * scale1) * scale2;
  y = pick(x > hi, std::numeric_limits<float>::infinity(), y);
  y = pick(x < lo, 0.0f, y);
  return pick(x != x, x, y);  // NaN stays NaN
}

/// tanh for float32: an odd polynomial near 0, 1 - 2 / (e^{2|x|} + 1) elsewhere.
CG_HOST_DEVICE inline float fast_tanhf(float x) {
  const float ax = pick(x < 0, -x, x);
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = pick(z == 0.0f, x, p * z * x + x);  // keeps the sign of a zero
  const float e = fast_expf(2.0f * pick(ax > 9.0f, 9.0f, ax));
  float large = 1.0f - 2.0f / (e + 1.0f);
  large = pick(ax > 9.0f, 1.0f, large);  // tanh(9) rounds to 1 in float32
  large = pick(x < 0, -large, large);
  return pick(ax < 0.625f, small, large);  // NaN: ax < 0.625 is false, and large is NaN
}

/// 1 / (1 + e^-x) for float32.
CG_HOST_DEVICE inline float fast_sigmoidf(float x) { return 1.0f / (1.0f + fast_expf(-x)); }

}  // namespace
}  // namespace chaingrad
