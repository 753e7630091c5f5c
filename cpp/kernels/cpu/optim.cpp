// Fused optimizer steps: one call updates every parameter of a group (the notes' training loops run
// thousands of tiny steps, so a Python loop over parameters would dominate them).
#include "kernels/optim.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <vector>

#include "kernels/cuda/backend.h"
#include "core/gil.h"

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

template <class T>
struct AdamConstants {
  T step_size, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, bias_correction2_sqrt, decay;
};

template <class T, bool kDecay, bool kDecoupled, bool kAmsgrad, bool kMaximize>
void adam_loop(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
               T* __restrict vmax, std::int64_t n, const AdamConstants<T>& c) {
  for (std::int64_t i = 0; i < n; ++i) {
    T d = kMaximize ? -g[i] : g[i];
    T w = p[i];
    if constexpr (kDecay && kDecoupled) w = w * c.decay;  // AdamW
    if constexpr (kDecay && !kDecoupled) d = d + c.weight_decay * w;  // Adam's L2 penalty
    const T mi = m[i] + c.one_minus_beta1 * (d - m[i]);  // lerp, as PyTorch
    const T vi = c.beta2 * v[i] + c.one_minus_beta2 * d * d;
    m[i] = mi;
    v[i] = vi;
    T second = vi;
    if constexpr (kAmsgrad) {
      second = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = second;
    }
    const T denom = std::sqrt(second) / c.bias_correction2_sqrt + c.eps;
    p[i] = w - c.step_size * (mi / denom);
  }
}

/// Calls f with four std::bool_constant values for the runtime flags.
template <class F>
void with_flags(bool a, bool b, bool c, bool d, F&& f) {
  auto one = [&](auto fa) {
    auto two = [&](auto fb) {
      auto three = [&](auto fc) {
        if (d) f(fa, fb, fc, std::true_type{});
        else f(fa, fb, fc, std::false_type{});
      };
      if (c) three(std::true_type{});
      else three(std::false_type{});
    };
    if (b) two(std::true_type{});
    else two(std::false_type{});
  };
  if (a) one(std::true_type{});
  else one(std::false_type{});
}

}  // namespace

void sgd_step(const Tensors& params, const Tensors& grads, const Tensors& bufs, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool maximize, bool first) {
  const auto on_cpu = step_cuda_parameters(
      params, [&](std::size_t k) { return slot(params[k], grads[k], bufs[k], nullptr, nullptr); },
      [&](DType dtype, int device, const std::vector<cuda::ParamSlot>& slots) {
        cuda::sgd_step(dtype, device, slots, {lr, momentum, dampening, weight_decay, nesterov, maximize, first});
      });
  each_parameter(params, on_cpu, [&](std::size_t k, auto tag) {
    using T = decltype(tag);
    T* p = data<T>(params[k]);
    const T* g = data<T>(grads[k]);
    T* buf = data<T>(bufs[k]);
    const T lr_ = T(lr), mom = T(momentum), damp = T(1 - dampening), wd = T(weight_decay);
    for (std::int64_t i = 0; i < params[k]->numel(); ++i) {
      T d = maximize ? -g[i] : g[i];
      if (weight_decay != 0) d = d + wd * p[i];
      if (momentum != 0) {
        buf[i] = first ? d : mom * buf[i] + damp * d;
        d = nesterov ? d + mom * buf[i] : buf[i];
      }
      p[i] = p[i] - lr_ * d;
    }
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
  each_parameter(params, on_cpu, [&](std::size_t k, auto tag) {
    using T = decltype(tag);
    T* p = data<T>(params[k]);
    const T* g = data<T>(grads[k]);
    T* sq = data<T>(square_avg[k]);
    T* ga = data<T>(grad_avg[k]);
    T* buf = data<T>(bufs[k]);
    const T a = T(alpha), one_minus_a = T(1 - alpha), e = T(eps), lr_ = T(lr), mom = T(momentum),
            wd = T(weight_decay);
    for (std::int64_t i = 0; i < params[k]->numel(); ++i) {
      T d = maximize ? -g[i] : g[i];
      if (weight_decay != 0) d = d + wd * p[i];
      sq[i] = a * sq[i] + one_minus_a * d * d;
      T avg;
      if (centered) {
        ga[i] = a * ga[i] + one_minus_a * d;
        avg = std::sqrt(sq[i] - ga[i] * ga[i]) + e;
      } else {
        avg = std::sqrt(sq[i]) + e;
      }
      if (momentum > 0) {
        buf[i] = mom * buf[i] + d / avg;
        p[i] = p[i] - lr_ * buf[i];
      } else {
        p[i] = p[i] - lr_ * (d / avg);
      }
    }
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
        s.bias_correction1 = 1 - std::pow(beta1, steps[k]);
        s.bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, steps[k]));
        return s;
      },
      [&](DType dtype, int device, const std::vector<cuda::ParamSlot>& slots) {
        cuda::adam_step(dtype, device, slots, {lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad, maximize});
      });
  each_parameter(params, on_cpu, [&](std::size_t k, auto tag) {
    using T = decltype(tag);
    T* p = data<T>(params[k]);
    const T* g = data<T>(grads[k]);
    T* m = data<T>(exp_avg[k]);
    T* v = data<T>(exp_avg_sq[k]);
    T* vmax = data<T>(max_sq[k]);
    const double bc1 = 1 - std::pow(beta1, steps[k]);
    const double bc2_sqrt = std::sqrt(1 - std::pow(beta2, steps[k]));
    const AdamConstants<T> c{T(lr / bc1), T(1 - beta1), T(beta2), T(1 - beta2), T(eps), T(weight_decay),
                             T(bc2_sqrt), T(1 - lr * weight_decay)};
    const std::int64_t n = params[k]->numel();
    // the flags pick a loop without branches inside, so it vectorizes
    with_flags(weight_decay != 0, decoupled, amsgrad, maximize, [&](auto wd, auto dec, auto ams, auto max) {
      adam_loop<T, decltype(wd)::value, decltype(dec)::value, decltype(ams)::value, decltype(max)::value>(
          p, g, m, v, vmax, n, c);
    });
  });
  bump(params);
  bump(exp_avg);
  bump(exp_avg_sq);
  bump(max_sq);
}

}  // namespace chaingrad
