#include "tensor/factories.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/kernels.h"
#include "kernels/loops.h"

namespace chaingrad {

TensorPtr full(const Shape& shape, double value, DType dtype, const Device& device) {
  TensorPtr out = empty(shape, dtype, device);
  fill(out, value);
  return out;
}

TensorPtr arange(double start, double end, double step, DType dtype) {
  if (!std::isfinite(start) || !std::isfinite(end)) {
    throw std::runtime_error("arange: unsupported range: " + std::to_string(start) + " -> " + std::to_string(end));
  }
  if (step == 0 || !std::isfinite(step)) throw std::runtime_error("arange: step must be nonzero and finite");
  if ((end - start) / step < 0)
    throw std::runtime_error("arange: upper bound and larger bound inconsistent with step sign");
  const double span = std::ceil((end - start) / step);
  if (!(span < 0x1p62)) {
    throw std::runtime_error("arange: invalid size " + std::to_string(span) + " (possible overflow)");
  }
  const auto n = static_cast<std::int64_t>(span);
  TensorPtr out = empty({n}, dtype);
  TensorPtr src = empty({n}, DType::Float64);
  for (std::int64_t i = 0; i < n; ++i) src->data_as<double>()[i] = start + static_cast<double>(i) * step;
  copy_into(out, src);
  return out;
}

TensorPtr linspace(double start, double end, std::int64_t steps, DType dtype) {
  if (steps < 0) throw std::runtime_error("linspace: number of steps must be non-negative");
  if (steps == 1) return full({1}, start, dtype, Device{});  // a single point is the start, as PyTorch
  if (is_storage_only(dtype) && is_floating(dtype)) {
    // float16, bfloat16: in the type's own arithmetic, as PyTorch's, every operation rounded to it:
    // step = (hi - lo) / (steps - 1), then each point lo + step * i (or hi - step * (steps-1-i))
    const auto round_to = [dtype](const TensorPtr& v) { return cast(cast(v, dtype), DType::Float32); };
    const auto stored = [dtype](double v) { return static_cast<float>(item(scalar_tensor(v, dtype))); };
    const float lo = stored(start), hi = stored(end);
    const float step =
        stored(static_cast<double>(stored(static_cast<double>(hi - lo)) / static_cast<float>(steps - 1)));
    const std::int64_t half = steps / 2;
    TensorPtr offsets = empty({steps}, DType::Float32);
    float* o = offsets->data_as<float>();
    for (std::int64_t i = 0; i < steps; ++i)
      o[i] = i < half ? step * static_cast<float>(i) : -step * static_cast<float>(steps - i - 1);
    offsets = round_to(offsets);
    TensorPtr points = empty({steps}, DType::Float32);
    float* p = points->data_as<float>();
    const float* r = offsets->data_as<float>();
    for (std::int64_t i = 0; i < steps; ++i) p[i] = (i < half ? lo : hi) + r[i];
    return cast(points, dtype);
  }
  if (is_floating(dtype)) {
    TensorPtr out = empty({steps}, dtype);
    dispatch(dtype, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        // in the result's type, from both ends (so the last element is exactly `end`), each point
        // one fused multiply-add: PyTorch's CPU linspace to the bit
        const T lo = static_cast<T>(start), hi = static_cast<T>(end);
        const T step = steps > 1 ? (hi - lo) / static_cast<T>(steps - 1) : T(0);
        const std::int64_t half = steps / 2;
        T* p = out->data_as<T>();
        for (std::int64_t i = 0; i < steps; ++i) {
          p[i] = i < half ? std::fma(step, static_cast<T>(i), lo) : std::fma(-step, static_cast<T>(steps - i - 1), hi);
        }
      }
    });
    return out;
  }
  TensorPtr src = empty({steps}, DType::Float64);
  double* p = src->data_as<double>();
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  const std::int64_t half = steps / 2;
  for (std::int64_t i = 0; i < steps; ++i) {
    p[i] = i < half ? start + step * static_cast<double>(i) : end - step * static_cast<double>(steps - i - 1);
  }
  return cast(src, dtype);
}

}  // namespace chaingrad
