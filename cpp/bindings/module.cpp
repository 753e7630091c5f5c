#include <pybind11/pybind11.h>

#include "bindings/indexing.h"
#include "bindings/neurons.h"
#include "bindings/optim.h"
#include "bindings/python_function.h"
#include "bindings/sequence_ops.h"
#include "bindings/tensor_functions.h"
#include "bindings/value_type.h"
#include "core/gil.h"

namespace {

/// Releases the GIL when this thread holds it (see Note [GIL hooks]).
void* release_gil() { return PyGILState_Check() ? PyEval_SaveThread() : nullptr; }
void reacquire_gil(void* token) { PyEval_RestoreThread(static_cast<PyThreadState*>(token)); }

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "chaingrad's C++ engine: the computation graph, its ops and the backward sweep.";
  chaingrad::set_gil_hooks({&release_gil, &reacquire_gil});
  chaingrad::add_value_type(m);
  chaingrad::bind_neurons(m);
  chaingrad::bind_tensors(m);
  chaingrad::bind_indexing(m);
  chaingrad::bind_optim(m);
  chaingrad::bind_python_function(m);
  chaingrad::bind_sequence_ops(m);
}
