// Host-side check of StridedIndex/make_index (cpp/kernels/cuda/common.cuh), the offset arithmetic every
// elementwise CUDA kernel relies on. It runs on the CPU, so it needs nvcc but no GPU: random shapes
// and strides (broadcast zeros, transposes, slices, size-1 dims) against a plain row-major walk.
#include <cstdio>
#include <random>
#include <stdexcept>

#include "kernels/cuda/common.cuh"

using chaingrad::Shape;
using chaingrad::cuda::make_index;

// make_index names the shape in its error; the test links none of the engine, so it brings its own.
std::string chaingrad::shape_str(const Shape& shape) { return std::to_string(shape.size()) + "-d shape"; }

namespace {

/// Operand k's offset of output element `linear`, walking shape row-major.
std::int64_t naive_offset(const Shape& shape, const Shape& strides, std::int64_t linear) {
  std::int64_t offset = 0;
  for (std::size_t d = shape.size(); d-- > 0;) {
    offset += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return offset;
}

Shape random_strides(const Shape& shape, std::mt19937& rng) {
  Shape strides(shape.size());
  std::int64_t running = 1;
  const int kind = static_cast<int>(rng() % 4);
  for (std::size_t d = shape.size(); d-- > 0;) {
    switch (kind) {
      case 0:
        strides[d] = running;
        break;  // contiguous
      case 1:
        strides[d] = rng() % 3 == 0 ? 0 : running;
        break;  // broadcast dims
      case 2:
        strides[d] = running * (1 + static_cast<std::int64_t>(rng() % 3));
        break;  // slices
      default:
        strides[d] = static_cast<std::int64_t>(rng() % 7);
        break;  // anything
    }
    running *= shape[d] + static_cast<std::int64_t>(rng() % 2);
  }
  if (shape.size() >= 2 && rng() % 2) std::swap(strides[0], strides[shape.size() - 1]);  // a transpose
  return strides;
}

template <int N>
int check_case(std::mt19937& rng) {
  Shape shape(rng() % 7);
  for (auto& s : shape) s = 1 + static_cast<std::int64_t>(rng() % 4);
  Shape strides[N];
  std::array<const Shape*, N> pointers{};
  for (int k = 0; k < N; ++k) {
    strides[k] = random_strides(shape, rng);
    pointers[k] = &strides[k];
  }
  const auto index = make_index<N>(shape, pointers);
  std::int64_t total = 1;
  for (auto s : shape) total *= s;
  for (std::int64_t i = 0; i < total; ++i) {
    const auto got = index.offsets(i);
    for (int k = 0; k < N; ++k) {
      if (got[k] != naive_offset(shape, strides[k], i)) {
        std::printf("mismatch: ndim %zu, operand %d, element %lld: %lld vs %lld\n", shape.size(), k,
                    static_cast<long long>(i), static_cast<long long>(got[k]),
                    static_cast<long long>(naive_offset(shape, strides[k], i)));
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

int main() {
  std::mt19937 rng(12345);
  int failures = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    failures += check_case<1>(rng) + check_case<2>(rng) + check_case<3>(rng);
  }
  // 17 dims that cannot merge (alternating broadcast) are refused, not overrun
  Shape shape(17, 2), a(17), b(17);
  for (int d = 0; d < 17; ++d) {
    a[d] = d % 2 ? 0 : 1 << d;
    b[d] = d % 2 ? 1 << d : 0;
  }
  bool refused = false;
  try {
    make_index<2>(shape, {&a, &b});
  } catch (const std::runtime_error&) {
    refused = true;
  }
  if (!refused) {
    std::printf("17 unmergeable dims were not refused\n");
    ++failures;
  }
  // contiguous tensors of any rank merge into one dim
  Shape big{2, 3, 4, 5}, contiguous{60, 20, 5, 1};
  if (make_index<1>(big, {&contiguous}).ndim != 1) {
    std::printf("a contiguous tensor did not merge into one dim\n");
    ++failures;
  }
  std::printf(failures ? "FAILED\n" : "ok\n");
  return failures ? 1 : 0;
}
