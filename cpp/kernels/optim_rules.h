// The per-element updates of the fused optimizer steps (SGD, RMSprop, Adam/AdamW), with PyTorch's
// arithmetic, for the CPU loops (cpp/kernels/cpu/optim.cpp) and the CUDA kernels
// (cpp/kernels/cuda/optim.cu) alike.
//
// Note [one optimizer rule for both devices]
// An optimizer step on the GPU must give the CPU's parameters to the last bit: a model trained on
// either device is then the same model, and tests/test_device_parity.py can compare them exactly.
// When the arithmetic was written twice, once per device, only a host test kept the copies equal,
// and a change to one (PyTorch's lerp for exp_avg, a new flag) had to be made twice. Here each
// update is written once, as an inlinable function of one element, and both devices include it:
//   - rounding: every operation goes through add/sub/mul/div/root below. On the device these are
//     the _rn intrinsics, which nvcc never fuses into an FMA (one rounding where the CPU has two),
//     even under -use_fast_math; on the host they are the plain operators, and the engine is
//     compiled with -ffp-contract=off (CMakeLists.txt), so both round exactly where this text does,
//     in this order;
//   - flags: a rule reads its flags through a Flags object whose members are either
//     `static constexpr bool` (the CPU: one loop per combination, no branch on a flag inside it, so
//     the loop vectorizes) or plain `bool` (CUDA: the flags are uniform over a launch, so their
//     branches cost next to nothing in a memory-bound kernel, and one kernel per dtype keeps the
//     compile time low). The arithmetic is the same text either way;
//   - constants: the float constants are converted from the step's double options by the
//     *_constants() functions here, on the host, for both devices.
// tests/cuda_host/optim_rules_test.cu compiles this header with nvcc and checks it against the CPU
// optimizers.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/loops.h"  // CG_HOST_DEVICE

namespace chaingrad::optim {

// --- rounding -------------------------------------------------------------------------------
// One correctly rounded operation each (see Note [one optimizer rule for both devices]).
CG_HOST_DEVICE inline float add(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
CG_HOST_DEVICE inline double add(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
CG_HOST_DEVICE inline float sub(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
CG_HOST_DEVICE inline double sub(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}
CG_HOST_DEVICE inline float mul(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
CG_HOST_DEVICE inline double mul(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
CG_HOST_DEVICE inline float div(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
CG_HOST_DEVICE inline double div(double a, double b) {
#ifdef __CUDA_ARCH__
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}
CG_HOST_DEVICE inline float root(float a) {
#ifdef __CUDA_ARCH__
  return __fsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}
CG_HOST_DEVICE inline double root(double a) {
#ifdef __CUDA_ARCH__
  return __dsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}

// --- flags ----------------------------------------------------------------------------------
// Each optimizer has a Flags type with its flags as plain bools (the CUDA kernels) and a Fixed
// template with the same names as compile-time constants (the CPU loops). The constructors from
// the step's arguments live with the constants below.

struct SgdFlags {
  bool decay, momentum, nesterov, maximize, first;  // first: the step that creates the buffer
};
template <bool Decay, bool Momentum, bool Nesterov, bool Maximize, bool First>
struct SgdFixedFlags {
  static constexpr bool decay = Decay, momentum = Momentum, nesterov = Nesterov, maximize = Maximize, first = First;
};

struct RmspropFlags {
  bool decay, centered, momentum, maximize;
};
template <bool Decay, bool Centered, bool Momentum, bool Maximize>
struct RmspropFixedFlags {
  static constexpr bool decay = Decay, centered = Centered, momentum = Momentum, maximize = Maximize;
};

struct AdamFlags {
  bool decay, decoupled, amsgrad, maximize;  // decoupled: AdamW
};
template <bool Decay, bool Decoupled, bool Amsgrad, bool Maximize>
struct AdamFixedFlags {
  static constexpr bool decay = Decay, decoupled = Decoupled, amsgrad = Amsgrad, maximize = Maximize;
};

// --- constants ------------------------------------------------------------------------------

template <class T>
struct SgdConstants {
  T lr, momentum, damp, weight_decay;  // damp = 1 - dampening
};
template <class T>
SgdConstants<T> sgd_constants(double lr, double momentum, double dampening, double weight_decay) {
  return {T(lr), T(momentum), T(1 - dampening), T(weight_decay)};
}
inline SgdFlags sgd_flags(double momentum, double weight_decay, bool nesterov, bool maximize, bool first) {
  return {weight_decay != 0, momentum != 0, nesterov, maximize, first};
}

template <class T>
struct RmspropConstants {
  T lr, alpha, one_minus_alpha, eps, momentum, weight_decay;
};
template <class T>
RmspropConstants<T> rmsprop_constants(double lr, double alpha, double eps, double weight_decay, double momentum) {
  return {T(lr), T(alpha), T(1 - alpha), T(eps), T(momentum), T(weight_decay)};
}
inline RmspropFlags rmsprop_flags(double weight_decay, double momentum, bool centered, bool maximize) {
  return {weight_decay != 0, centered, momentum > 0, maximize};  // momentum > 0, as PyTorch
}

/// Adam's bias corrections after `step` steps, in double (PyTorch computes them as Python floats):
/// 1 - beta1^step and sqrt(1 - beta2^step).
struct AdamBiasCorrections {
  double first, second_sqrt;
};
inline AdamBiasCorrections adam_bias_corrections(double beta1, double beta2, double step) {
  return {1 - std::pow(beta1, step), std::sqrt(1 - std::pow(beta2, step))};
}

template <class T>
struct AdamConstants {
  // step_size = lr / bias_correction1 and bias_correction2_sqrt change with each parameter's step
  // count; decay_factor = 1 - lr * weight_decay (AdamW)
  T step_size, bias_correction2_sqrt, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, decay_factor;
};
/// The constants of one launch or one parameter; with_bias_corrections() fills the per-parameter ones.
template <class T>
AdamConstants<T> adam_constants(double lr, double beta1, double beta2, double eps, double weight_decay) {
  return {T(0), T(1), T(1 - beta1), T(beta2), T(1 - beta2), T(eps), T(weight_decay), T(1 - lr * weight_decay)};
}
/// c with the per-parameter constants: lr / bias_correction1 in double, then rounded to T.
template <class T>
CG_HOST_DEVICE inline AdamConstants<T> with_bias_corrections(AdamConstants<T> c, double step_size,
                                                             double bias_correction2_sqrt) {
  c.step_size = T(step_size);
  c.bias_correction2_sqrt = T(bias_correction2_sqrt);
  return c;
}
inline double adam_step_size(double lr, const AdamBiasCorrections& bc) { return lr / bc.first; }
inline AdamFlags adam_flags(double weight_decay, bool decoupled, bool amsgrad, bool maximize) {
  return {weight_decay != 0, decoupled, amsgrad, maximize};
}

// --- the updates ----------------------------------------------------------------------------
// Element i of a parameter p, its gradient g and its state buffers. A buffer that the flags leave
// unused may be null: it is not touched. The reads and writes are those of PyTorch's
// single-tensor (foreach=False) implementations, which tests/test_optim.py compares with.

/// SGD: buf = first ? d : momentum * buf + (1 - dampening) * d, d the gradient with weight decay;
/// then p -= lr * (nesterov ? d + momentum * buf : buf).
template <class T, class Flags>
CG_HOST_DEVICE inline void sgd_update(const SgdConstants<T>& c, const Flags& f, std::int64_t i, T* p, const T* g,
                                      T* buf) {
  T d = f.maximize ? -g[i] : g[i];
  if (f.decay) d = add(d, mul(c.weight_decay, p[i]));
  if (f.momentum) {
    const T b = f.first ? d : add(mul(c.momentum, buf[i]), mul(c.damp, d));
    buf[i] = b;
    d = f.nesterov ? add(d, mul(c.momentum, b)) : b;
  }
  p[i] = sub(p[i], mul(c.lr, d));
}

/// RMSprop: square_avg = alpha * square_avg + (1 - alpha) * d * d; centered, the variance
/// square_avg - grad_avg^2 in place of square_avg; p -= lr * d / (sqrt(...) + eps), through the
/// momentum buffer when momentum > 0.
template <class T, class Flags>
CG_HOST_DEVICE inline void rmsprop_update(const RmspropConstants<T>& c, const Flags& f, std::int64_t i, T* p,
                                          const T* g, T* square_avg, T* grad_avg, T* buf) {
  T d = f.maximize ? -g[i] : g[i];
  if (f.decay) d = add(d, mul(c.weight_decay, p[i]));
  const T sq = add(mul(c.alpha, square_avg[i]), mul(mul(c.one_minus_alpha, d), d));
  square_avg[i] = sq;
  T avg;
  if (f.centered) {
    const T ga = add(mul(c.alpha, grad_avg[i]), mul(c.one_minus_alpha, d));
    grad_avg[i] = ga;
    avg = add(root(sub(sq, mul(ga, ga))), c.eps);
  } else {
    avg = add(root(sq), c.eps);
  }
  if (f.momentum) {
    const T b = add(mul(c.momentum, buf[i]), div(d, avg));
    buf[i] = b;
    p[i] = sub(p[i], mul(c.lr, b));
  } else {
    p[i] = sub(p[i], mul(c.lr, div(d, avg)));
  }
}

/// Adam/AdamW: exp_avg moves toward d by lerp (as PyTorch), exp_avg_sq = beta2 * exp_avg_sq +
/// (1 - beta2) * d * d, amsgrad keeps its running maximum; p -= step_size * exp_avg /
/// (sqrt(second moment) / bias_correction2_sqrt + eps), after AdamW's decay of p.
template <class T, class Flags>
CG_HOST_DEVICE inline void adam_update(const AdamConstants<T>& c, const Flags& f, std::int64_t i, T* p, const T* g,
                                       T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq) {
  T d = f.maximize ? -g[i] : g[i];
  T w = p[i];
  if (f.decay) {
    if (f.decoupled) w = mul(w, c.decay_factor);  // AdamW
    else d = add(d, mul(c.weight_decay, w));      // Adam's L2 penalty
  }
  const T m = add(exp_avg[i], mul(c.one_minus_beta1, sub(d, exp_avg[i])));  // lerp, as PyTorch
  const T v = add(mul(c.beta2, exp_avg_sq[i]), mul(mul(c.one_minus_beta2, d), d));
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  T second = v;
  if (f.amsgrad) {
    second = max_exp_avg_sq[i] > v ? max_exp_avg_sq[i] : v;
    max_exp_avg_sq[i] = second;
  }
  const T denom = add(div(root(second), c.bias_correction2_sqrt), c.eps);
  p[i] = sub(w, mul(c.step_size, div(m, denom)));
}

}  // namespace chaingrad::optim
