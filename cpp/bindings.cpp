#include <pybind11/pybind11.h>

#include "neuron_bindings.h"
#include "value_bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "chaingrad's C++ engine: the computation graph, its ops and the backward sweep.";
  chaingrad::bind_value(m);
  chaingrad::bind_neurons(m);
}
