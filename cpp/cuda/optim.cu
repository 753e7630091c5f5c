// Fused optimizer steps on the GPU: SGD, RMSprop and Adam/AdamW over every parameter of a group in
// one kernel launch, with the per-element arithmetic of cpp/optim_kernels.cpp.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common.cuh"

namespace chaingrad::cuda {
namespace {

/// A parameter as the kernel reads it. step_size is Adam's lr / bias_correction1, computed in
/// double on the host as the CPU does, then rounded to T on the device.
struct DeviceSlot {
  void* param;
  const void* grad;
  void* state[3];
  double step_size;
  double bias_correction2_sqrt;
};

/// Elements [begin, end) of slot `slot`: the unit of work of one block.
struct Chunk {
  std::int64_t slot, begin, end;
};

static_assert(std::is_trivially_copyable_v<DeviceSlot> && std::is_trivially_copyable_v<Chunk>,
              "copied to the device as bytes");
static_assert(sizeof(DeviceSlot) % alignof(Chunk) == 0, "the chunks follow the slots in one buffer");

// The CPU build compiles optim_kernels.cpp with -ffp-contract=off, while nvcc would fuse a * b + c
// into one FMA (one rounding instead of two) and change the last bit of the results. These
// intrinsics are never fused and stay correctly rounded even under -use_fast_math, so each
// expression below rounds exactly where the CPU's does, in the same order.
__device__ inline float add(float a, float b) { return __fadd_rn(a, b); }
__device__ inline float sub(float a, float b) { return __fsub_rn(a, b); }
__device__ inline float mul(float a, float b) { return __fmul_rn(a, b); }
__device__ inline float div(float a, float b) { return __fdiv_rn(a, b); }
__device__ inline float root(float a) { return __fsqrt_rn(a); }
__device__ inline double add(double a, double b) { return __dadd_rn(a, b); }
__device__ inline double sub(double a, double b) { return __dsub_rn(a, b); }
__device__ inline double mul(double a, double b) { return __dmul_rn(a, b); }
__device__ inline double div(double a, double b) { return __ddiv_rn(a, b); }
__device__ inline double root(double a) { return __dsqrt_rn(a); }

// The updates take their flags at run time: they are uniform over the launch, so the branches
// cost next to nothing in a memory-bound kernel, and one kernel per dtype keeps compile time low.

template <class T>
struct SgdUpdate {
  T lr, momentum, damp, weight_decay;  // damp = 1 - dampening
  bool decay, use_momentum, nesterov, maximize, first;

  __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
    T* p = static_cast<T*>(s.param);
    const T* g = static_cast<const T*>(s.grad);
    T* buf = static_cast<T*>(s.state[0]);
    T d = maximize ? -g[i] : g[i];
    if (decay) d = add(d, mul(weight_decay, p[i]));
    if (use_momentum) {
      const T b = first ? d : add(mul(momentum, buf[i]), mul(damp, d));
      buf[i] = b;
      d = nesterov ? add(d, mul(momentum, b)) : b;
    }
    p[i] = sub(p[i], mul(lr, d));
  }
};

template <class T>
struct RmspropUpdate {
  T alpha, one_minus_alpha, eps, lr, momentum, weight_decay;
  bool decay, centered, use_momentum, maximize;

  __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
    T* p = static_cast<T*>(s.param);
    const T* g = static_cast<const T*>(s.grad);
    T* square_avg = static_cast<T*>(s.state[0]);
    T* grad_avg = static_cast<T*>(s.state[1]);
    T* buf = static_cast<T*>(s.state[2]);
    T d = maximize ? -g[i] : g[i];
    if (decay) d = add(d, mul(weight_decay, p[i]));
    const T sq = add(mul(alpha, square_avg[i]), mul(mul(one_minus_alpha, d), d));
    square_avg[i] = sq;
    T avg;
    if (centered) {
      const T ga = add(mul(alpha, grad_avg[i]), mul(one_minus_alpha, d));
      grad_avg[i] = ga;
      avg = add(root(sub(sq, mul(ga, ga))), eps);
    } else {
      avg = add(root(sq), eps);
    }
    if (use_momentum) {
      const T b = add(mul(momentum, buf[i]), div(d, avg));
      buf[i] = b;
      p[i] = sub(p[i], mul(lr, b));
    } else {
      p[i] = sub(p[i], mul(lr, div(d, avg)));
    }
  }
};

template <class T>
struct AdamUpdate {
  T one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, decay_factor;  // decay_factor = 1 - lr * wd
  bool decay, decoupled, amsgrad, maximize;

  __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
    T* p = static_cast<T*>(s.param);
    const T* g = static_cast<const T*>(s.grad);
    T* m = static_cast<T*>(s.state[0]);
    T* v = static_cast<T*>(s.state[1]);
    T* vmax = static_cast<T*>(s.state[2]);
    const T step_size = static_cast<T>(s.step_size);
    const T bias_correction2_sqrt = static_cast<T>(s.bias_correction2_sqrt);
    T d = maximize ? -g[i] : g[i];
    T w = p[i];
    if (decay) {
      if (decoupled) w = mul(w, decay_factor);          // AdamW
      else d = add(d, mul(weight_decay, w));            // Adam's L2 penalty
    }
    const T mi = add(m[i], mul(one_minus_beta1, sub(d, m[i])));  // lerp, as PyTorch
    const T vi = add(mul(beta2, v[i]), mul(mul(one_minus_beta2, d), d));
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if (amsgrad) {
      second = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = second;
    }
    const T denom = add(div(root(second), bias_correction2_sqrt), eps);
    p[i] = sub(w, mul(step_size, div(mi, denom)));
  }
};

/// Each block takes whole chunks (a grid-stride loop over the list); its threads stride within.
template <class Update>
__global__ void step_kernel(const DeviceSlot* slots, const Chunk* chunks, std::int64_t count, Update update) {
  for (std::int64_t c = blockIdx.x; c < count; c += gridDim.x) {
    const Chunk chunk = chunks[c];
    const DeviceSlot slot = slots[chunk.slot];
    for (std::int64_t i = chunk.begin + threadIdx.x; i < chunk.end; i += blockDim.x) update(slot, i);
  }
}

/// Device memory from the caching allocator for the rest of a scope.
class Scratch {
 public:
  Scratch(std::size_t nbytes, int device) : ptr_(allocate(nbytes, device)), device_(device) {}
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { release(ptr_, device_); }
  void* get() const { return ptr_; }

 private:
  void* ptr_;
  int device_;
};

/// Copies the slot table and the chunk list to the device and runs update over every element.
/// step_size(slot) fills DeviceSlot::step_size.
template <class Update, class StepSize>
void run_step(int device, const std::vector<ParamSlot>& slots, const Update& update, StepSize step_size) {
  std::int64_t total = 0;
  for (const ParamSlot& s : slots) total += std::max<std::int64_t>(s.numel, 0);
  if (total == 0) return;
  // About a thousand chunks fill any GPU; small ones keep a lone large parameter spread over
  // many blocks, large ones keep the list (copied every step) short.
  const std::int64_t chunk_size =
      std::clamp<std::int64_t>((total / 1024 + kThreads - 1) / kThreads * kThreads, 4096, 65536);

  std::vector<DeviceSlot> table;
  std::vector<Chunk> chunks;
  table.reserve(slots.size());
  for (const ParamSlot& s : slots) {
    const auto index = static_cast<std::int64_t>(table.size());
    table.push_back({s.param, s.grad, {s.state[0], s.state[1], s.state[2]}, step_size(s), s.bias_correction2_sqrt});
    for (std::int64_t begin = 0; begin < s.numel; begin += chunk_size) {
      chunks.push_back({index, begin, std::min(s.numel, begin + chunk_size)});
    }
  }
  const std::size_t table_bytes = table.size() * sizeof(DeviceSlot);
  const std::size_t chunk_bytes = chunks.size() * sizeof(Chunk);
  std::vector<unsigned char> host(table_bytes + chunk_bytes);
  std::memcpy(host.data(), table.data(), table_bytes);
  std::memcpy(host.data() + table_bytes, chunks.data(), chunk_bytes);

  DeviceGuard guard(device);
  // Released at the end of this scope, right after the launch: the allocator hands the block to
  // later work on the same stream only, which runs after this kernel.
  Scratch scratch(host.size(), device);
  auto* bytes = static_cast<unsigned char*>(scratch.get());
  // From pageable memory the copy is staged before the call returns, so `host` may go after it.
  CG_CUDA_CHECK(cudaMemcpyAsync(bytes, host.data(), host.size(), cudaMemcpyHostToDevice, stream()));
  const auto count = static_cast<std::int64_t>(chunks.size());
  const auto grid = static_cast<unsigned>(std::min<std::int64_t>(count, 65535LL * 8));
  step_kernel<<<grid, kThreads, 0, stream()>>>(reinterpret_cast<const DeviceSlot*>(bytes),
                                               reinterpret_cast<const Chunk*>(bytes + table_bytes), count, update);
  CG_CHECK_LAUNCH("optimizer step_kernel");
}

double no_step_size(const ParamSlot&) { return 0.0; }

/// Calls f(float{}) or f(double{}): optimizers update floating point parameters only.
template <class F>
void dispatch_floating(DType dtype, F&& f) {
  if (dtype == DType::Float32) f(float{});
  else if (dtype == DType::Float64) f(double{});
  else throw std::logic_error(std::string("optimizer step on a ") + dtype_name(dtype) + " parameter");
}

}  // namespace

void sgd_step(DType dtype, int device, const std::vector<ParamSlot>& slots, const SgdOptions& o) {
  if (slots.empty()) return;
  dispatch_floating(dtype, [&](auto tag) {
    using T = decltype(tag);
    const SgdUpdate<T> update{T(o.lr),           T(o.momentum),     T(1 - o.dampening), T(o.weight_decay),
                              o.weight_decay != 0, o.momentum != 0, o.nesterov,         o.maximize,
                              o.first};
    run_step(device, slots, update, no_step_size);
  });
}

void rmsprop_step(DType dtype, int device, const std::vector<ParamSlot>& slots, const RmspropOptions& o) {
  if (slots.empty()) return;
  dispatch_floating(dtype, [&](auto tag) {
    using T = decltype(tag);
    const RmspropUpdate<T> update{T(o.alpha),  T(1 - o.alpha),      T(o.eps),       T(o.lr),
                                  T(o.momentum), T(o.weight_decay), o.weight_decay != 0, o.centered,
                                  o.momentum > 0, o.maximize};
    run_step(device, slots, update, no_step_size);
  });
}

void adam_step(DType dtype, int device, const std::vector<ParamSlot>& slots, const AdamOptions& o) {
  if (slots.empty()) return;
  dispatch_floating(dtype, [&](auto tag) {
    using T = decltype(tag);
    const AdamUpdate<T> update{T(1 - o.beta1),         T(o.beta2),  T(1 - o.beta2), T(o.eps),
                               T(o.weight_decay),      T(1 - o.lr * o.weight_decay), o.weight_decay != 0,
                               o.decoupled,            o.amsgrad,   o.maximize};
    run_step(device, slots, update, [&](const ParamSlot& s) { return o.lr / s.bias_correction1; });
  });
}

}  // namespace chaingrad::cuda
