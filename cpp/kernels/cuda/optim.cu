// Fused optimizer steps on the GPU: SGD, RMSprop and Adam/AdamW over every parameter of a group in
// one kernel launch, applying the per-element updates of kernels/optim_rules.h, which the CPU loops
// apply too (see Note [one optimizer rule for both devices] there).
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/optim_rules.h"

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

// The updates as the kernel applies them: one slot's element i through the shared rule, with the
// flags at run time (uniform over the launch; see Note [one optimizer rule for both devices]).

template <class T>
struct SgdUpdate {
  optim::SgdConstants<T> c;
  optim::SgdFlags f;
  __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
    optim::sgd_update(c, f, i, static_cast<T*>(s.param), static_cast<const T*>(s.grad), static_cast<T*>(s.state[0]));
  }
};

template <class T>
struct RmspropUpdate {
  optim::RmspropConstants<T> c;
  optim::RmspropFlags f;
  __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
    optim::rmsprop_update(c, f, i, static_cast<T*>(s.param), static_cast<const T*>(s.grad), static_cast<T*>(s.state[0]),
                          static_cast<T*>(s.state[1]), static_cast<T*>(s.state[2]));
  }
};

template <class T>
struct AdamUpdate {
  optim::AdamConstants<T> c;  // without the per-parameter step size and bias correction
  optim::AdamFlags f;
  __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
    optim::adam_update(optim::with_bias_corrections(c, s.step_size, s.bias_correction2_sqrt), f, i,
                       static_cast<T*>(s.param), static_cast<const T*>(s.grad), static_cast<T*>(s.state[0]),
                       static_cast<T*>(s.state[1]), static_cast<T*>(s.state[2]));
  }
};

/// Elements [begin, end) of slot `slot`: the unit of work of one block.
struct Chunk {
  std::int64_t slot, begin, end;
};

static_assert(std::is_trivially_copyable_v<DeviceSlot> && std::is_trivially_copyable_v<Chunk>,
              "copied to the device as bytes");
static_assert(sizeof(DeviceSlot) % alignof(Chunk) == 0, "the chunks follow the slots in one buffer");

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
    const SgdUpdate<T> update{optim::sgd_constants<T>(o.lr, o.momentum, o.dampening, o.weight_decay),
                              optim::sgd_flags(o.momentum, o.weight_decay, o.nesterov, o.maximize, o.first)};
    run_step(device, slots, update, no_step_size);
  });
}

void rmsprop_step(DType dtype, int device, const std::vector<ParamSlot>& slots, const RmspropOptions& o) {
  if (slots.empty()) return;
  dispatch_floating(dtype, [&](auto tag) {
    using T = decltype(tag);
    const RmspropUpdate<T> update{optim::rmsprop_constants<T>(o.lr, o.alpha, o.eps, o.weight_decay, o.momentum),
                                  optim::rmsprop_flags(o.weight_decay, o.momentum, o.centered, o.maximize)};
    run_step(device, slots, update, no_step_size);
  });
}

void adam_step(DType dtype, int device, const std::vector<ParamSlot>& slots, const AdamOptions& o) {
  if (slots.empty()) return;
  dispatch_floating(dtype, [&](auto tag) {
    using T = decltype(tag);
    const AdamUpdate<T> update{optim::adam_constants<T>(o.lr, o.beta1, o.beta2, o.eps, o.weight_decay),
                               optim::adam_flags(o.weight_decay, o.decoupled, o.amsgrad, o.maximize)};
    run_step(device, slots, update, [&](const ParamSlot& s) {
      return optim::adam_step_size(o.lr, {s.bias_correction1, s.bias_correction2_sqrt});
    });
  });
}

}  // namespace chaingrad::cuda
