// Fused optimizer steps over lists of parameters, with PyTorch's update rules. The lists arrive
// checked (same length, shapes, dtypes and devices as the parameters; contiguous; floating point):
// see cpp/bindings/optim.cpp. A parameter, its gradient and its state buffers are distinct tensors
// that do not overlap (the optimizers create the state); the CPU loops rely on it (__restrict).
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace chaingrad {

using Tensors = std::vector<TensorPtr>;

/// One SGD step for every parameter; `first` marks the step that creates the momentum buffers
/// (bufs holds nulls when momentum is 0).
void sgd_step(const Tensors& params, const Tensors& grads, const Tensors& bufs, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool maximize, bool first);
/// One RMSprop step for every parameter (grad_avg holds nulls unless centered, bufs unless momentum).
void rmsprop_step(const Tensors& params, const Tensors& grads, const Tensors& square_avg, const Tensors& grad_avg,
                  const Tensors& bufs, double lr, double alpha, double eps, double weight_decay, double momentum,
                  bool centered, bool maximize);
/// One Adam (or AdamW when decoupled) step for every parameter; steps are the per-parameter
/// step counts after this step (max_sq holds nulls unless amsgrad).
void adam_step(const Tensors& params, const Tensors& grads, const Tensors& exp_avg, const Tensors& exp_avg_sq,
               const Tensors& max_sq, const std::vector<double>& steps, double lr, double beta1, double beta2,
               double eps, double weight_decay, bool decoupled, bool amsgrad, bool maximize);

}  // namespace chaingrad
