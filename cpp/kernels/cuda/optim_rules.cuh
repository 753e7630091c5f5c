// The per-element updates of the fused CUDA optimizer steps, the same arithmetic as the CPU's
// (cpp/kernels/cpu/optim.cpp), rounding for rounding. Host-callable too, so tests/cuda_host runs them
// on the CPU against the CPU optimizers without a GPU.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/backend.h"

namespace chaingrad::cuda {

/// A parameter as the kernel reads it. step_size is Adam's lr / bias_correction1, computed in
/// double on the host as the CPU does, then rounded to T on the device.
struct DeviceSlot {
  void* param;
  const void* grad;
  void* state[3];
  double step_size;
  double bias_correction2_sqrt;
};

// The CPU build compiles kernels/cpu/optim.cpp with -ffp-contract=off, while nvcc would fuse a * b + c
// into one FMA (one rounding instead of two) and change the last bit of the results. These
// intrinsics are never fused and stay correctly rounded even under -use_fast_math, so each
// expression below rounds exactly where the CPU's does, in the same order. On the host (the
// tests of tests/cuda_host, compiled with -ffp-contract=off) they are the plain operations.
#ifdef __CUDA_ARCH__
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
#else
template <class T>
inline T add(T a, T b) { return a + b; }
template <class T>
inline T sub(T a, T b) { return a - b; }
template <class T>
inline T mul(T a, T b) { return a * b; }
template <class T>
inline T div(T a, T b) { return a / b; }
inline float root(float a) { return std::sqrt(a); }
inline double root(double a) { return std::sqrt(a); }
#endif

// The updates take their flags at run time: they are uniform over the launch, so the branches
// cost next to nothing in a memory-bound kernel, and one kernel per dtype keeps compile time low.

template <class T>
struct SgdUpdate {
  T lr, momentum, damp, weight_decay;  // damp = 1 - dampening
  bool decay, use_momentum, nesterov, maximize, first;

  __host__ __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
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

  __host__ __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
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

  __host__ __device__ void operator()(const DeviceSlot& s, std::int64_t i) const {
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

/// The kernels' constants from the step's options, converted from double as the CPU converts them.
template <class T>
SgdUpdate<T> sgd_update(const SgdOptions& o) {
  return {T(o.lr), T(o.momentum), T(1 - o.dampening), T(o.weight_decay), o.weight_decay != 0, o.momentum != 0,
          o.nesterov, o.maximize, o.first};
}

template <class T>
RmspropUpdate<T> rmsprop_update(const RmspropOptions& o) {
  return {T(o.alpha), T(1 - o.alpha), T(o.eps), T(o.lr), T(o.momentum), T(o.weight_decay), o.weight_decay != 0,
          o.centered, o.momentum > 0, o.maximize};
}

template <class T>
AdamUpdate<T> adam_update(const AdamOptions& o) {
  return {T(1 - o.beta1), T(o.beta2), T(1 - o.beta2), T(o.eps), T(o.weight_decay), T(1 - o.lr * o.weight_decay),
          o.weight_decay != 0, o.decoupled, o.amsgrad, o.maximize};
}

/// Adam's per-parameter step size, lr / bias_correction1, in double as on the CPU.
inline double adam_step_size(const AdamOptions& o, const ParamSlot& s) { return o.lr / s.bias_correction1; }

}  // namespace chaingrad::cuda
