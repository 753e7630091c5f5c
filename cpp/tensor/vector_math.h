// float32 log, sin and cos as PyTorch's vectorised CPU kernels compute them (see
// Note [random generator]): the float32 normal sampler needs their exact roundings.
#pragma once

#include <cmath>

namespace chaingrad::vmath {

inline float logf(float x) { return static_cast<float>(std::log(static_cast<double>(x))); }
inline float sinf(float x) { return static_cast<float>(std::sin(static_cast<double>(x))); }
inline float cosf(float x) { return static_cast<float>(std::cos(static_cast<double>(x))); }

}  // namespace chaingrad::vmath
