#include <pybind11/pybind11.h>

#include "neuron_bindings.h"
#include "optim_kernels.h"
#include "tensor_bindings.h"
#include "value_type.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "chaingrad's C++ engine: the computation graph, its ops and the backward sweep.";
  chaingrad::add_value_type(m);
  chaingrad::bind_neurons(m);
  chaingrad::bind_tensors(m);
  chaingrad::bind_optim(m);
}
