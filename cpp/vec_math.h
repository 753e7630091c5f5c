// float32 exp, tanh and sigmoid written so the compiler can vectorize loops over them (libm's
// expf and tanhf are opaque calls that run one element at a time).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>

namespace chaingrad {

// Note [vectorizable float32 math]
// Cephes-style range reduction and minimax polynomials (public-domain coefficients, a couple of
// ulp from libm), with every branch written as a select so loops over them vectorize. Only float32
// uses them; float64 keeps libm's functions.

/// e^x for float32: exp(n ln2 + r) = 2^n * p(r), |r| <= ln2/2.
inline float fast_expf(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365478515625f;
  const bool overflow = x > hi, underflow = x < lo;
  const float xc = x > hi ? hi : (x < lo ? lo : x);
  const float t = xc * 1.44269504088896341f + 0.5f;
  float fn = static_cast<float>(static_cast<int>(t));
  fn = fn > t ? fn - 1.0f : fn;  // floor, also for negative t
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
  const std::int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  float y = p * scale;
  y = overflow ? std::numeric_limits<float>::infinity() : y;
  y = underflow ? 0.0f : y;
  return x != x ? x : y;  // NaN stays NaN
}

/// tanh for float32: an odd polynomial near 0, 1 - 2 / (e^{2|x|} + 1) elsewhere.
inline float fast_tanhf(float x) {
  const float ax = x < 0 ? -x : x;
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float e = fast_expf(2.0f * (ax > 9.0f ? 9.0f : ax));
  float large = 1.0f - 2.0f / (e + 1.0f);
  large = ax > 9.0f ? 1.0f : large;  // tanh(9) rounds to 1 in float32
  large = x < 0 ? -large : large;
  return ax < 0.625f ? small : large;
}

/// 1 / (1 + e^-x) for float32.
inline float fast_sigmoidf(float x) { return 1.0f / (1.0f + fast_expf(-x)); }

}  // namespace chaingrad
