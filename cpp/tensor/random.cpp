#include "tensor/random.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include "kernels/kernels.h"
#include "tensor/device.h"
#include "tensor/vector_math.h"

namespace chaingrad {

// Note [random generator]
// Every random function takes a Generator; torch.default_generator is one more instance (made
// in Python, which passes it when a call names none). Seeded
// alike, a chaingrad generator gives PyTorch's CPU stream bit for bit, which the lecture
// notebooks need (the same seed must print the same names and losses). What that takes, learnt
// by comparing outputs with PyTorch 2.13's for many seeds, sizes and dtypes:
// - the engine is the reference mt19937, seeded with the seed's low 32 bits;
// - a float32 uniform is the low 24 bits of one 32-bit draw, a float64 one the low 53 bits of a
//   64-bit draw made of two 32-bit draws (the first as the high half);
// - normal samples come two ways. A contiguous floating tensor of 16 or more elements is first
//   filled with uniforms, then each block of 16 becomes 16 normals by Box-Muller pairing element
//   j with j + 8 (u1 = 1 - x[j], u2 = x[j + 8]); when the size is not a multiple of 16 the last
//   16 elements are refilled with fresh uniforms and transformed again. float32 blocks compute in
//   float with the log, sin and cos PyTorch's vectorised sampler uses (tensor/vector_math.h);
//   float64 blocks in double with the C library's. Every other tensor
//   draws one double normal per element, Box-Muller on two double uniforms whose second value is
//   cached in the generator for the next draw;
// - integers in [low, high) are a draw modulo the range: a 32-bit draw when the range is below
//   2^28 (PyTorch's threshold, found by bisection), else a 64-bit one;
// - element-wise samplers visit a tensor's elements in memory order (a transposed tensor by its
//   storage), as PyTorch's CPU kernels do.
// CUDA tensors are filled on the host and copied: the stream then equals the CPU one.

void Generator::reseed(std::uint64_t seed) {
  initial_seed_ = seed;
  state_[0] = static_cast<std::uint32_t>(seed & 0xFFFFFFFFu);
  for (int j = 1; j < kN; ++j) {
    state_[j] = 1812433253u * (state_[j - 1] ^ (state_[j - 1] >> 30)) + static_cast<std::uint32_t>(j);
  }
  left_ = 1;
  next_ = 0;
  normal_cached_ = false;
  normal_next_ = 0.0;
}

void Generator::manual_seed(std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  reseed(seed);
}

std::uint64_t Generator::seed() {
  std::random_device device;
  const std::uint64_t s = (static_cast<std::uint64_t>(device()) << 32) | device();
  manual_seed(s);
  return s;
}

std::uint64_t Generator::initial_seed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return initial_seed_;
}

void Generator::twist() {
  constexpr int kM = 397;
  auto mix = [](std::uint32_t u, std::uint32_t v) {
    const std::uint32_t y = (u & 0x80000000u) | (v & 0x7FFFFFFFu);
    return (y >> 1) ^ ((v & 1u) ? 0x9908B0DFu : 0u);
  };
  int i = 0;  // three runs, so no index needs a modulo
  for (; i < kN - kM; ++i) state_[i] = state_[i + kM] ^ mix(state_[i], state_[i + 1]);
  for (; i < kN - 1; ++i) state_[i] = state_[i + kM - kN] ^ mix(state_[i], state_[i + 1]);
  state_[kN - 1] = state_[kM - 1] ^ mix(state_[kN - 1], state_[0]);
  left_ = kN;
  next_ = 0;
}

std::uint32_t Generator::random32() {
  if (--left_ == 0) twist();
  std::uint32_t y = state_[next_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9D2C5680u;
  y ^= (y << 15) & 0xEFC60000u;
  return y ^ (y >> 18);
}

std::uint64_t Generator::random64() {
  const std::uint64_t hi = random32();
  return (hi << 32) | random32();
}

double Generator::normal_double() {
  if (normal_cached_) {
    normal_cached_ = false;
    return normal_next_;
  }
  const double u1 = uniform_double(), u2 = uniform_double();
  const double r = std::sqrt(-2.0 * std::log1p(-u2));
  const double theta = 2.0 * M_PI * u1;
  normal_cached_ = true;
  normal_next_ = r * std::sin(theta);
  return r * std::cos(theta);
}

// The state's bytes, laid out as PyTorch's CPU generator state (little-endian): initial seed
// (u64), left (i32), seeded (i32), next (u64), the 624 words (as u64), three doubles of which
// the second is the cached normal, its valid flag (i32, padded to 8), a float cache and its flag
// (unused on the CPU, padded to 8).
namespace {
constexpr std::size_t kWordsAt = 24, kNormalAt = kWordsAt + 8 * 624, kNormalValidAt = kNormalAt + 24;

template <class T>
void put(std::vector<std::uint8_t>& b, std::size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}
template <class T>
T get(const std::uint8_t* b, std::size_t at) {
  T v;
  std::memcpy(&v, b + at, sizeof v);
  return v;
}
}  // namespace

std::vector<std::uint8_t> Generator::get_state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::uint8_t> b(kStateBytes, 0);
  put<std::uint64_t>(b, 0, initial_seed_);
  put<std::int32_t>(b, 8, left_);
  put<std::int32_t>(b, 12, 1);
  put<std::uint64_t>(b, 16, static_cast<std::uint64_t>(next_));
  for (int i = 0; i < kN; ++i) put<std::uint64_t>(b, kWordsAt + 8 * i, state_[i]);
  put<double>(b, kNormalAt + 8, normal_cached_ ? normal_next_ : 0.0);
  put<std::int32_t>(b, kNormalValidAt, normal_cached_ ? 1 : 0);
  return b;
}

void Generator::set_state(const std::uint8_t* data, std::size_t nbytes) {
  if (nbytes != kStateBytes) {
    throw std::runtime_error("set_state: a CPU generator state has " + std::to_string(kStateBytes) + " bytes, got " +
                             std::to_string(nbytes));
  }
  const auto left = get<std::int32_t>(data, 8);
  const auto next = get<std::uint64_t>(data, 16);
  // left + next is 625 in every reachable state but the freshly seeded one (1 + 0)
  if (left < 1 || left > kN || next > static_cast<std::uint64_t>(kN) ||
      (next + static_cast<std::uint64_t>(left) != kN + 1 && !(left == 1 && next == 0))) {
    throw std::runtime_error("set_state: corrupt generator state (position " + std::to_string(next) + ", left " +
                             std::to_string(left) + ")");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  initial_seed_ = get<std::uint64_t>(data, 0);
  left_ = left;
  next_ = static_cast<int>(next);
  for (int i = 0; i < kN; ++i) state_[i] = static_cast<std::uint32_t>(get<std::uint64_t>(data, kWordsAt + 8 * i));
  normal_cached_ = get<std::int32_t>(data, kNormalValidAt) != 0;
  normal_next_ = normal_cached_ ? get<double>(data, kNormalAt + 8) : 0.0;
}

namespace {

// t's dims by decreasing stride (size-1 dims dropped): the order PyTorch's CPU kernels walk
// a tensor in, its memory order.
std::vector<std::size_t> memory_order(const Shape& shape, const Shape& strides) {
  std::vector<std::size_t> dims;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] != 1) dims.push_back(d);
  }
  std::stable_sort(dims.begin(), dims.end(),
                   [&](std::size_t a, std::size_t b) { return std::llabs(strides[a]) > std::llabs(strides[b]); });
  return dims;
}

// Calls f(offset_a, offset_b) for each element of a tensor of this shape, in the memory order of
// strides a, with offsets (in elements) by strides a and b.
template <class F>
void for_each_offset2(const Shape& shape, const Shape& a, const Shape& b, F&& f) {
  const std::int64_t n = shape_numel(shape);
  if (n == 0) return;
  const std::vector<std::size_t> dims = memory_order(shape, a);
  const std::size_t nd = dims.size();
  std::vector<std::int64_t> index(nd, 0);
  std::int64_t oa = 0, ob = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    f(oa, ob);
    for (std::size_t k = nd; k-- > 0;) {
      const std::size_t d = dims[k];
      if (++index[k] < shape[d]) {
        oa += a[d];
        ob += b[d];
        break;
      }
      oa -= a[d] * (shape[d] - 1);
      ob -= b[d] * (shape[d] - 1);
      index[k] = 0;
    }
  }
}

// Calls f(offset) for each element of a tensor of this shape and strides, in memory order.
template <class F>
void for_each_offset(const Shape& shape, const Shape& strides, F&& f) {
  if (is_contiguous_layout(shape, strides)) {  // the common case, without the index bookkeeping
    const std::int64_t n = shape_numel(shape);
    for (std::int64_t i = 0; i < n; ++i) f(i);
    return;
  }
  for_each_offset2(shape, strides, strides, [&](std::int64_t o, std::int64_t) { f(o); });
}

// Stores a 0/1 or integer value as dtype at element o of base.
void store_int(char* base, DType dtype, std::int64_t o, std::int64_t v) {
  switch (dtype) {
    case DType::Int64:
      reinterpret_cast<std::int64_t*>(base)[o] = v;
      break;
    case DType::Float32:
      reinterpret_cast<float*>(base)[o] = static_cast<float>(v);
      break;
    case DType::Float64:
      reinterpret_cast<double*>(base)[o] = static_cast<double>(v);
      break;
    case DType::Bool:
      reinterpret_cast<bool*>(base)[o] = v != 0;
      break;
    default:  // on_host hands the samplers compute dtypes only
      throw std::logic_error(std::string("store_int: unexpected dtype ") + dtype_name(dtype));
  }
}

// Runs fill on t, or on a host tensor copied back when t lives on a GPU or holds a storage dtype
// (int32, float16, ...): the samplers draw in the compute dtype (int64, float32) and the copy
// narrows, so every sampler writes only bool, int64, float32 or float64 memory.
template <class Fill>
void on_host(const TensorPtr& t, Fill&& fill) {
  if (!t->is_cuda() && !is_storage_only(t->dtype())) {
    fill(t);
    return;
  }
  TensorPtr host = empty(t->shape(), compute_dtype(t->dtype()));
  fill(host);
  copy_into(t, t->is_cuda() ? to_device(host, t->device()) : host);
}

void require_floating(const TensorPtr& t, const char* op) {
  if (!is_floating(t->dtype())) {
    throw std::runtime_error(std::string(op) + ": expected a floating point tensor, got " + dtype_name(t->dtype()));
  }
}

// Writes draw() (a double) into every element of a floating tensor, in memory order.
template <class Draw>
void fill_serial(const TensorPtr& t, Draw&& draw) {
  if (t->dtype() == DType::Float32) {
    float* p = t->data_as<float>();
    for_each_offset(t->shape(), t->strides(), [&](std::int64_t o) { p[o] = static_cast<float>(draw()); });
  } else {
    double* p = t->data_as<double>();
    for_each_offset(t->shape(), t->strides(), [&](std::int64_t o) { p[o] = draw(); });
  }
}

// Box-Muller on 16 uniforms in place: element j pairs with j + 8.
void normal_block(double* x, double mean, double std) {
  for (int j = 0; j < 8; ++j) {
    const double u1 = 1 - x[j], u2 = x[j + 8];
    const double radius = std::sqrt(-2 * std::log(u1));
    const double theta = 2.0 * M_PI * u2;
    x[j] = std::fma(radius * std::cos(theta), std, mean);
    x[j + 8] = std::fma(radius * std::sin(theta), std, mean);
  }
}

void normal_block(float* x, float mean, float std) {
  for (int j = 0; j < 8; ++j) {
    const float u1 = 1.0f - x[j], u2 = x[j + 8];
    const float radius = std::sqrt(-2.0f * vmath::logf(u1));
    const float theta = static_cast<float>(2.0 * M_PI) * u2;
    float sin_theta, cos_theta;
    vmath::sincosf(theta, sin_theta, cos_theta);
    x[j] = std::fma(radius * cos_theta, std, mean);
    x[j + 8] = std::fma(radius * sin_theta, std, mean);
  }
}

float uniform_of(Generator& g, float*) { return g.uniform_float(); }
double uniform_of(Generator& g, double*) { return g.uniform_double(); }

template <class T>
void normal_blocks(T* data, std::int64_t n, T mean, T std, Generator& gen) {
  for (std::int64_t i = 0; i < n; ++i) data[i] = uniform_of(gen, data);
  for (std::int64_t i = 0; i + 16 <= n; i += 16) normal_block(data + i, mean, std);
  if (n % 16 != 0) {
    T* tail = data + n - 16;
    for (int j = 0; j < 16; ++j) tail[j] = uniform_of(gen, data);
    normal_block(tail, mean, std);
  }
}

void check_std(double std) {
  if (!(std >= 0.0)) throw std::runtime_error("normal expects std >= 0.0, but found std " + std::to_string(std));
}

}  // namespace

void uniform_(const TensorPtr& t, double from, double to, Generator& gen) {
  require_floating(t, "uniform_");
  if (!(from <= to)) {
    throw std::runtime_error("uniform_ expects to return a [from, to) range, but found from=" + std::to_string(from) +
                             " > to=" + std::to_string(to));
  }
  if (!std::isfinite(to - from)) {
    throw std::runtime_error("uniform_ expects a finite range [from, to), but found from=" + std::to_string(from) +
                             ", to=" + std::to_string(to));
  }
  on_host(t, [&](const TensorPtr& x) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    if (x->dtype() == DType::Float32) {
      const float lo = static_cast<float>(from), hi = static_cast<float>(to), width = hi - lo;
      float* p = x->data_as<float>();
      for_each_offset(x->shape(), x->strides(), [&](std::int64_t o) {
        const float v = std::fma(gen.uniform_float(), width, lo);
        p[o] = v == hi ? lo : v;  // rounding may reach `to`, which PyTorch maps to `from`
      });
    } else {
      fill_serial(x, [&] {
        const double v = std::fma(gen.uniform_double(), to - from, from);
        return v == to ? from : v;
      });
    }
  });
}

void normal_(const TensorPtr& t, double mean, double std, Generator& gen) {
  require_floating(t, "normal_");
  check_std(std);
  on_host(t, [&](const TensorPtr& x) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    const std::int64_t n = x->numel();
    if (n >= 16 && x->is_contiguous()) {
      if (x->dtype() == DType::Float32) {
        normal_blocks(x->data_as<float>(), n, static_cast<float>(mean), static_cast<float>(std), gen);
      } else {
        normal_blocks(x->data_as<double>(), n, mean, std, gen);
      }
      return;
    }
    fill_serial(x, [&] { return std::fma(gen.normal_double(), std, mean); });
  });
}

void random_from_to_(const TensorPtr& t, std::int64_t low, std::uint64_t range, Generator& gen) {
  if (range == 0) throw std::runtime_error("random_ expects a non-empty range [from, to)");
  on_host(t, [&](const TensorPtr& x) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    auto draw = [&]() -> std::int64_t {
      const std::uint64_t r = range >= (std::uint64_t{1} << 28) ? gen.random64() % range : gen.random32() % range;
      return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + r);
    };
    char* base = x->data();
    for_each_offset(x->shape(), x->strides(), [&](std::int64_t o) { store_int(base, x->dtype(), o, draw()); });
  });
}

void exponential_(const TensorPtr& t, double lambd, Generator& gen) {
  require_floating(t, "exponential_");
  if (!(lambd > 0.0)) {
    throw std::runtime_error("exponential_ expects lambda > 0.0, but found lambda=" + std::to_string(lambd));
  }
  on_host(t, [&](const TensorPtr& x) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    fill_serial(x, [&] { return -1.0 / lambd * std::log1p(-gen.uniform_double()); });
  });
}

void bernoulli_(const TensorPtr& t, double p, Generator& gen) {
  if (!(p >= 0.0 && p <= 1.0)) {
    throw std::runtime_error("bernoulli_ expects p to be in [0, 1], but got p=" + std::to_string(p));
  }
  on_host(t, [&](const TensorPtr& x) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    char* base = x->data();
    for_each_offset(x->shape(), x->strides(),
                    [&](std::int64_t o) { store_int(base, x->dtype(), o, gen.uniform_double() < p); });
  });
}

void bernoulli_tensor_(const TensorPtr& t, const TensorPtr& p, Generator& gen) {
  if (!is_floating(p->dtype())) {
    throw std::runtime_error(std::string("bernoulli: expected a floating point probability tensor, got ") +
                             dtype_name(p->dtype()));
  }
  // p as float64 on the host, its strides broadcast to t's shape
  TensorPtr probs = empty(p->shape(), DType::Float64);
  copy_into(probs, p->is_cuda() ? to_device(p, Device{}) : p);
  const double* pp = probs->data_as<double>();
  for (std::int64_t i = 0; i < probs->numel(); ++i) {
    if (!(pp[i] >= 0.0 && pp[i] <= 1.0)) throw std::runtime_error("bernoulli: every probability must be in [0, 1]");
  }
  const Shape& shape = t->shape();
  if (p->ndim() > t->ndim()) {
    throw std::runtime_error("bernoulli_: probabilities of shape " + shape_str(p->shape()) +
                             " do not broadcast to the tensor's shape " + shape_str(shape));
  }
  Shape pstrides(shape.size(), 0);
  const std::size_t lead = shape.size() - p->shape().size();
  for (std::size_t d = 0; d < p->shape().size(); ++d) {
    const std::int64_t size = p->shape()[d];
    if (size != 1 && size != shape[lead + d]) {
      throw std::runtime_error("bernoulli_: probabilities of shape " + shape_str(p->shape()) +
                               " do not broadcast to the tensor's shape " + shape_str(shape));
    }
    if (size != 1) pstrides[lead + d] = probs->strides()[d];
  }
  const bool single = p->dtype() == DType::Float32;  // a float32 p compares with a float32 uniform
  on_host(t, [&](const TensorPtr& x) {
    std::lock_guard<std::mutex> lock(gen.mutex());
    char* base = x->data();
    for_each_offset2(shape, x->strides(), pstrides, [&](std::int64_t o, std::int64_t po) {
      const double pr = pp[po];
      const bool v = single ? gen.uniform_float() < static_cast<float>(pr) : gen.uniform_double() < pr;
      store_int(base, x->dtype(), o, v);
    });
  });
}

TensorPtr random_tensor(const Shape& shape, DType dtype, bool normal, const Device& device, Generator& gen) {
  if (!is_floating(dtype)) throw std::runtime_error("random floats need a floating point dtype");
  TensorPtr out = empty(shape, dtype, device);
  if (normal) {
    normal_(out, 0.0, 1.0, gen);
  } else {
    uniform_(out, 0.0, 1.0, gen);
  }
  return out;
}

TensorPtr randint(std::int64_t low, std::int64_t high, const Shape& shape, DType dtype, const Device& device,
                  Generator& gen) {
  if (high <= low) {
    throw std::runtime_error("random_ expects 'from' to be less than 'to', but got from=" + std::to_string(low) +
                             " >= to=" + std::to_string(high));
  }
  TensorPtr out = empty(shape, dtype, device);
  random_from_to_(out, low, static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low), gen);
  return out;
}

TensorPtr dropout_noise(const TensorPtr& input, double p, Generator& gen) {
  require_floating(input, "dropout");
  // input's layout when it is a permutation of a contiguous one (empty_like's rule), so the
  // draws land where PyTorch's do
  Shape strides = contiguous_strides(input->shape());
  {
    const std::vector<std::size_t> dims = memory_order(input->shape(), input->strides());
    Shape permuted(input->shape().size(), 0);
    std::int64_t step = 1;
    for (std::size_t k = dims.size(); k-- > 0;) {
      permuted[dims[k]] = step;
      step *= input->shape()[dims[k]];
    }
    bool dense = true;
    for (std::size_t d : dims) dense = dense && permuted[d] == input->strides()[d];
    if (dense) {
      for (std::size_t d = 0; d < permuted.size(); ++d) {
        if (input->shape()[d] == 1) permuted[d] = strides[d];
      }
      strides = permuted;
    }
  }
  const DType dtype = compute_dtype(input->dtype());  // a half type's mask is scaled in float32
  TensorPtr noise =
      make_ref<TensorImpl>(std::make_shared<Storage>(static_cast<std::size_t>(input->numel()) * itemsize(dtype)), dtype,
                           input->shape(), strides, 0);
  bernoulli_(noise, 1.0 - p, gen);
  const double keep = 1.0 - p;
  if (noise->dtype() == DType::Float32) {
    const float scale = 1.0f / static_cast<float>(keep);
    float* x = noise->data_as<float>();
    for (std::int64_t i = 0; i < noise->numel(); ++i) x[i] = x[i] * scale;
  } else {
    double* x = noise->data_as<double>();
    for (std::int64_t i = 0; i < noise->numel(); ++i) x[i] = x[i] / keep;
  }
  if (dtype != input->dtype()) noise = cast(noise, input->dtype());
  return input->is_cuda() ? to_device(noise, input->device()) : noise;
}

}  // namespace chaingrad
