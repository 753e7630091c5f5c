// Fused optimizer steps: one call updates every parameter of a group (the notes' training loops run
// thousands of tiny steps, so a Python loop over parameters would dominate them).
#include "kernels/optim.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/gil.h"
#include "kernels/cpu/isa.h"
#include "kernels/cuda/backend.h"
#include "kernels/optim_rules.h"

namespace chaingrad {
namespace {

std::int64_t total_numel(const std::vector<TensorPtr>& ts) {
  std::int64_t n = 0;
  for (const TensorPtr& t : ts) n += t->numel();
  return n;
}

/// Steps the parameters that live on CUDA devices, one fused launch per (device, dtype):
/// launch(dtype, device, slots) with slot_of(k) describing parameter k. Returns the indices of the
/// parameters left for the CPU.
template <class SlotOf, class Launch>
std::vector<std::size_t> step_cuda_parameters(const std::vector<TensorPtr>& params, SlotOf&& slot_of, Launch&& launch) {
  std::vector<std::size_t> on_cpu;
  std::vector<std::pair<std::pair<int, DType>, std::vector<cuda::ParamSlot>>> groups;
  for (std::size_t k = 0; k < params.size(); ++k) {
    if (!params[k]->is_cuda()) {
      on_cpu.push_back(k);
      continue;
    }
    const std::pair<int, DType> key{params[k]->device().index, params[k]->dtype()};
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (it == groups.end()) it = groups.insert(groups.end(), {key, {}});
    it->second.push_back(slot_of(k));
  }
  for (const auto& [key, slots] : groups) launch(key.second, key.first, slots);
  return on_cpu;
}

/// Calls update(k, T{}) for every parameter k in `indices`, with T its element type (float or
/// double), the GIL released when the parameters are large.
template <class Update>
void each_parameter(const std::vector<TensorPtr>& params, const std::vector<std::size_t>& indices, Update&& update) {
  GilRelease unlocked(total_numel(params) >= kParallelGrain);
  for (std::size_t k : indices) {
    if (params[k]->dtype() == DType::Float32) update(k, float{});
    else update(k, double{});
  }
}

/// A parameter as the CUDA optimizer kernels see it.
cuda::ParamSlot slot(const TensorPtr& p, const TensorPtr& g, const TensorPtr& s0, const TensorPtr& s1,
                     const TensorPtr& s2) {
  cuda::ParamSlot out;
  out.param = p->data();
  out.grad = g->data();
  out.state[0] = s0 ? s0->data() : nullptr;
  out.state[1] = s1 ? s1->data() : nullptr;
  out.state[2] = s2 ? s2->data() : nullptr;
  out.numel = p->numel();
  return out;
}

template <class T>
T* data(const TensorPtr& t) {
  return t ? t->data_as<T>() : nullptr;
}

void bump(const std::vector<TensorPtr>& ts) {
  for (const TensorPtr& t : ts) {
    if (t) t->storage()->bump_version();
  }
}

/// The optimizer loops for T of the widest instruction set this CPU runs.
template <class T>
const OptimLoops<T>& loops() {
  if constexpr (std::is_same_v<T, float>) return flat_kernels().optim_f32;
  else return flat_kernels().optim_f64;
}

}  // namespace

void sgd_step(const Tensors& params, const Tensors& grads, const Tensors& bufs, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool maximize, bool first) {
  const auto on_cpu = step_cuda_parameters(
      params, [&](std::size_t k) { return slot(params[k], grads[k], bufs[k], nullptr, nullptr); },
      [&](DType dtype, int device, const std::vector<cuda::ParamSlot>& slots) {
        cuda::sgd_step(dtype, device, slots, {lr, momentum, dampening, weight_decay, nesterov, maximize, first});
      });
  const optim::SgdFlags f = optim::sgd_flags(momentum, weight_decay, nesterov, maximize, first);
  each_parameter(params, on_cpu, [&](std::size_t k, auto tag) {
    using T = decltype(tag);
    const auto c = optim::sgd_constants<T>(lr, momentum, dampening, weight_decay);
    loops<T>().sgd(data<T>(params[k]), data<T>(grads[k]), data<T>(bufs[k]), params[k]->numel(), c, f);
  });
  bump(params);
  bump(bufs);
}

void rmsprop_step(const Tensors& params, const Tensors& grads, const Tensors& square_avg, const Tensors& grad_avg,
                  const Tensors& bufs, double lr, double alpha, double eps, double weight_decay, double momentum,
                  bool centered, bool maximize) {
  const auto on_cpu = step_cuda_parameters(
      params, [&](std::size_t k) { return slot(params[k], grads[k], square_avg[k], grad_avg[k], bufs[k]); },
      [&](DType dtype, int device, const std::vector<cuda::ParamSlot>& slots) {
        cuda::rmsprop_step(dtype, device, slots, {lr, alpha, eps, weight_decay, momentum, centered, maximize});
      });
  const optim::RmspropFlags f = optim::rmsprop_flags(weight_decay, momentum, centered, maximize);
  each_parameter(params, on_cpu, [&](std::size_t k, auto tag) {
    using T = decltype(tag);
    const auto c = optim::rmsprop_constants<T>(lr, alpha, eps, weight_decay, momentum);
    loops<T>().rmsprop(data<T>(params[k]), data<T>(grads[k]), data<T>(square_avg[k]), data<T>(grad_avg[k]),
                       data<T>(bufs[k]), params[k]->numel(), c, f);
  });
  bump(params);
  bump(square_avg);
  bump(grad_avg);
  bump(bufs);
}

void adam_step(const Tensors& params, const Tensors& grads, const Tensors& exp_avg, const Tensors& exp_avg_sq,
               const Tensors& max_sq, const std::vector<double>& steps, double lr, double beta1, double beta2,
               double eps, double weight_decay, bool decoupled, bool amsgrad, bool maximize) {
  if (steps.size() != params.size()) throw std::runtime_error("adam_step: one step count per parameter expected");
  const auto on_cpu = step_cuda_parameters(
      params,
      [&](std::size_t k) {
        cuda::ParamSlot s = slot(params[k], grads[k], exp_avg[k], exp_avg_sq[k], max_sq[k]);
        const optim::AdamBiasCorrections bc = optim::adam_bias_corrections(beta1, beta2, steps[k]);
        s.bias_correction1 = bc.first;
        s.bias_correction2_sqrt = bc.second_sqrt;
        return s;
      },
      [&](DType dtype, int device, const std::vector<cuda::ParamSlot>& slots) {
        cuda::adam_step(dtype, device, slots, {lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad, maximize});
      });
  const optim::AdamFlags f = optim::adam_flags(weight_decay, decoupled, amsgrad, maximize);
  each_parameter(params, on_cpu, [&](std::size_t k, auto tag) {
    using T = decltype(tag);
    const optim::AdamBiasCorrections bc = optim::adam_bias_corrections(beta1, beta2, steps[k]);
    const auto c = optim::with_bias_corrections(optim::adam_constants<T>(lr, beta1, beta2, eps, weight_decay),
                                                optim::adam_step_size(lr, bc), bc.second_sqrt);
    loops<T>().adam(data<T>(params[k]), data<T>(grads[k]), data<T>(exp_avg[k]), data<T>(exp_avg_sq[k]),
                    data<T>(max_sq[k]), params[k]->numel(), c, f);
  });
  bump(params);
  bump(exp_avg);
  bump(exp_avg_sq);
  bump(max_sq);
}

}  // namespace chaingrad
