// float32 log and sin/cos rounded as PyTorch's vectorised CPU normal sampler rounds them (see
// Note [random generator]): the float32 normal sampler needs their exact results.
//
// Found by experiment: feeding PyTorch's sampler chosen uniforms (through a crafted generator
// state) shows its radius sqrt(-2 log u1) and its cos/sin for any angle. They are Cephes'
// single-precision logf and sincosf (S. L. Moshier's range reductions and minimax polynomials),
// evaluated in float with fused multiply-adds at the places below; every other rounding differs
// in some of the 2^24 inputs a float32 uniform can take.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace chaingrad::vmath {

/// Natural log of x in (0, 1] (the sampler's 1 - u); Cephes logf.
inline float logf(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  float e = static_cast<float>(static_cast<int>((bits >> 23) & 0xFFu) - 0x7F) + 1.0f;
  bits = (bits & ~0x7F800000u) | 0x3F000000u;  // the mantissa m, in [0.5, 1)
  float m;
  std::memcpy(&m, &bits, sizeof m);
  // x = m - 1 (or 2m - 1 with e - 1 when m < sqrt(1/2)), so that |x| <= 0.41
  float t;
  if (m < 0.707106781186547524f) {
    t = (m - 1.0f) + m;
    e -= 1.0f;
  } else {
    t = m - 1.0f;
  }
  const float z = t * t;
  float y = 7.0376836292e-2f;
  y = std::fma(y, t, -1.1514610310e-1f);
  y = std::fma(y, t, 1.1676998740e-1f);
  y = std::fma(y, t, -1.2420140846e-1f);
  y = std::fma(y, t, 1.4249322787e-1f);
  y = std::fma(y, t, -1.6668057665e-1f);
  y = std::fma(y, t, 2.0000714765e-1f);
  y = std::fma(y, t, -2.4999993993e-1f);
  y = std::fma(y, t, 3.3333331174e-1f);
  y = y * t;
  y = std::fma(y, z, e * -2.12194440e-4f);  // log(2) split in two: 0.693359375 - 2.12194440e-4
  y = std::fma(-z, 0.5f, y);
  t = t + y;
  return std::fma(e, 0.693359375f, t);
}

/// sin and cos of x (the sampler's angles, in [0, 2 pi)); Cephes sincosf.
inline void sincosf(float x, float& sin_out, float& cos_out) {
  bool sin_negative = x < 0;
  x = std::fabs(x);
  // the octant j (made even), and x reduced by j * pi/4 in three parts
  int j = static_cast<int>(x * 1.27323954473516f);
  j = (j + 1) & ~1;
  const float y = static_cast<float>(j);
  const bool swapped = (j & 2) != 0;
  const bool cos_negative = ((j - 2) & 4) == 0;
  if (j & 4) sin_negative = !sin_negative;
  x = std::fma(y, -0.78515625f, x);
  x = std::fma(y, -2.4187564849853515625e-4f, x);
  x = std::fma(y, -3.77489497744594108e-8f, x);
  const float z = x * x;
  float c = 2.443315711809948e-5f;
  c = std::fma(c, z, -1.388731625493765e-3f);
  c = std::fma(c, z, 4.166664568298827e-2f);
  c = std::fma(c * z, z, -(z * 0.5f));
  c = c + 1.0f;
  float s = -1.9515295891e-4f;
  s = std::fma(s, z, 8.3321608736e-3f);
  s = std::fma(s, z, -1.6666654611e-1f);
  s = std::fma(s * z, x, x);
  float sv = swapped ? c : s;
  float cv = swapped ? s : c;
  sin_out = sin_negative ? -sv : sv;
  cos_out = cos_negative ? -cv : cv;
}

}  // namespace chaingrad::vmath
