// float32 exp, tanh and sigmoid written so the compiler can vectorize loops over them (libm's
// expf and tanhf are opaque calls that run one element at a time).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace chaingrad {
namespace {  // internal linkage: see Note [one copy per translation unit] in kernels/cpu/element_loops.h

// Note [vectorizable float32 math]
// Cephes-style range reduction and minimax polynomials (public-domain coefficients, a couple of
// ulp from libm), with every branch written as a select so loops over them vectorize. Only float32
// uses them; float64 keeps libm's functions.

/// c ? a : b as bit operations: GCC if-converts ternaries on floats for SSE2 but, with -mavx2 or
/// -mavx512f, gives up on these functions ("control flow in loop"); masks vectorize everywhere.
inline float pick(bool c, float a, float b) {
  std::uint32_t ia, ib;
  std::memcpy(&ia, &a, sizeof ia);
  std::memcpy(&ib, &b, sizeof ib);
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(c);
  const std::uint32_t bits = (ia & mask) | (ib & ~mask);
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

/// e^x for float32: exp(n ln2 + r) = 2^n * p(r), |r| <= ln2/2. 2^n is applied as two factors so
/// results down to the smallest denormal and up to FLT_MAX come out right.
inline float fast_expf(float x) {
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
  const std::int32_t bits1 = (n1 + 127) << 23, bits2 = (n2 + 127) << 23;
  float scale1, scale2;
  std::memcpy(&scale1, &bits1, sizeof scale1);
  std::memcpy(&scale2, &bits2, sizeof scale2);
  float y = (p * scale1) * scale2;
  y = pick(x > hi, std::numeric_limits<float>::infinity(), y);
  y = pick(x < lo, 0.0f, y);
  return pick(x != x, x, y);  // NaN stays NaN
}

/// tanh for float32: an odd polynomial near 0, 1 - 2 / (e^{2|x|} + 1) elsewhere.
inline float fast_tanhf(float x) {
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
inline float fast_sigmoidf(float x) { return 1.0f / (1.0f + fast_expf(-x)); }

}  // namespace
}  // namespace chaingrad
