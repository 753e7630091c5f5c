// The optimizer steps of chaingrad._core: Python lists of tensors checked, then the fused kernels.
#include "bindings/optim.h"

#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings/tensor_type.h"
#include "kernels/optim.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

/// The tensors of a Python list (None entries stay null), checked against the parameters.
std::vector<TensorPtr> tensors(const py::list& items, const std::vector<TensorPtr>& params, const char* what,
                               bool allow_none) {
  if (items.size() != params.size()) {
    throw std::runtime_error(std::string(what) + ": expected " + std::to_string(params.size()) + " tensors, got " +
                             std::to_string(items.size()));
  }
  std::vector<TensorPtr> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].is_none()) {
      if (!allow_none) throw std::runtime_error(std::string(what) + "[" + std::to_string(i) + "] is None");
      out.emplace_back();
      continue;
    }
    TensorPtr t = require_tensor(items[i], what);
    if (!params.empty() && (t->shape() != params[i]->shape() || t->dtype() != params[i]->dtype())) {
      throw std::runtime_error(std::string(what) + "[" + std::to_string(i) + "] has shape " + shape_str(t->shape()) +
                               " and dtype " + dtype_name(t->dtype()) + ", but its parameter has shape " +
                               shape_str(params[i]->shape()) + " and dtype " + dtype_name(params[i]->dtype()));
    }
    if (!t->is_contiguous()) {
      throw std::runtime_error(std::string(what) + "[" + std::to_string(i) + "] is not contiguous");
    }
    if (!params.empty() && t->device() != params[i]->device()) {
      throw std::runtime_error(std::string(what) + "[" + std::to_string(i) + "] is on " + t->device().str() +
                               ", but its parameter is on " + params[i]->device().str());
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<TensorPtr> parameters(const py::list& items) {
  std::vector<TensorPtr> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    TensorPtr t = require_tensor(items[i], "params");
    if (!is_floating(t->dtype())) {
      throw std::runtime_error("params[" + std::to_string(i) +
                               "]: optimizers update floating point tensors only, got " + dtype_name(t->dtype()));
    }
    if (is_storage_only(t->dtype())) {  // the fused steps are written for float32 and float64
      throw std::runtime_error("params[" + std::to_string(i) + "]: the fused optimizer step does not support " +
                               dtype_name(t->dtype()) + " parameters; keep float32 master weights");
    }
    if (!t->is_contiguous()) throw std::runtime_error("params[" + std::to_string(i) + "] is not contiguous");
    out.push_back(std::move(t));
  }
  return out;
}

/// state["step"] + 1, by Python's addition (a step loaded from a checkpoint may be a tensor).
py::object next_step(py::handle state) {
  const py::object step = state["step"];
  const py::int_ one(1);
  PyObject* sum = PyNumber_Add(step.ptr(), one.ptr());
  if (sum == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(sum);
}

}  // namespace

void bind_optim(py::module_& m) {
  // The step counts live in the state dicts as PyTorch keeps them ('step'), so state_dict() shows
  // PyTorch's layout; these walk a group's dicts in C++ rather than in a Python loop per step.
  m.def(
      "next_steps",
      [](const py::list& states) {
        std::vector<double> out;
        out.reserve(states.size());
        for (const py::handle s : states) out.push_back(py::float_(next_step(s)));
        return out;
      },
      "Each state dict's 'step' plus one, as floats (Adam's bias corrections).");
  m.def(
      "advance_steps",
      [](const py::list& states) {
        for (const py::handle s : states) s["step"] = next_step(s);
      },
      "Adds one to each state dict's 'step'.");
  m.def(
      "sgd_step",
      [](const py::list& params_in, const py::list& grads, const py::list& bufs, double lr, double momentum,
         double dampening, double weight_decay, bool nesterov, bool maximize, bool first) {
        const auto params = parameters(params_in);
        sgd_step(params, tensors(grads, params, "grads", false),
                 tensors(bufs, params, "momentum_buffer", momentum == 0.0), lr, momentum, dampening, weight_decay,
                 nesterov, maximize, first);
      },
      "SGD (momentum, dampening, Nesterov, weight decay) on a list of parameters.");
  m.def(
      "rmsprop_step",
      [](const py::list& params_in, const py::list& grads, const py::list& square_avg, const py::list& grad_avg,
         const py::list& bufs, double lr, double alpha, double eps, double weight_decay, double momentum, bool centered,
         bool maximize) {
        const auto params = parameters(params_in);
        rmsprop_step(params, tensors(grads, params, "grads", false), tensors(square_avg, params, "square_avg", false),
                     tensors(grad_avg, params, "grad_avg", !centered),
                     tensors(bufs, params, "momentum_buffer", momentum == 0.0), lr, alpha, eps, weight_decay, momentum,
                     centered, maximize);
      },
      "RMSprop (centered, momentum, weight decay) on a list of parameters.");
  m.def(
      "adam_step",
      [](const py::list& params_in, const py::list& grads, const py::list& exp_avg, const py::list& exp_avg_sq,
         const py::list& max_sq, const std::vector<double>& steps, double lr, double beta1, double beta2, double eps,
         double weight_decay, bool decoupled, bool amsgrad, bool maximize) {
        const auto params = parameters(params_in);
        adam_step(params, tensors(grads, params, "grads", false), tensors(exp_avg, params, "exp_avg", false),
                  tensors(exp_avg_sq, params, "exp_avg_sq", false), tensors(max_sq, params, "max_exp_avg_sq", !amsgrad),
                  steps, lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad, maximize);
      },
      "Adam or AdamW (decoupled) on a list of parameters.");
}

}  // namespace chaingrad
