// Fused optimizer steps over lists of parameters, with PyTorch's update rules.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

namespace chaingrad {

/// One SGD step for every parameter; `first` marks the step that creates the momentum buffers.
void sgd_step(const pybind11::list& params, const pybind11::list& grads, const pybind11::list& bufs,
              double lr, double momentum, double dampening, double weight_decay, bool nesterov,
              bool maximize, bool first);
/// One RMSprop step for every parameter.
void rmsprop_step(const pybind11::list& params, const pybind11::list& grads,
                  const pybind11::list& square_avg, const pybind11::list& grad_avg,
                  const pybind11::list& bufs, double lr, double alpha, double eps,
                  double weight_decay, double momentum, bool centered, bool maximize);
/// One Adam (or AdamW when decoupled) step for every parameter; steps are the per-parameter
/// step counts after this step.
void adam_step(const pybind11::list& params, const pybind11::list& grads,
               const pybind11::list& exp_avg, const pybind11::list& exp_avg_sq,
               const pybind11::list& max_exp_avg_sq, const std::vector<double>& steps, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool decoupled,
               bool amsgrad, bool maximize);

/// Adds the optimizer steps to the module.
void bind_optim(pybind11::module_& m);

}  // namespace chaingrad
