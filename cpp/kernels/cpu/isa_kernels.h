// The table of one instruction set's loops, included by each translation unit that compiles them
// (see Note [ISA dispatch] in kernels/cpu/isa.h).
#pragma once

#include "kernels/cpu/element_loops.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/optim_loops.h"

namespace chaingrad {
// Internal linkage, as in element_loops.h (Note [one copy per translation unit]).
namespace {

/// The loops as compiled in the including translation unit, under the name isa.
FlatKernels this_unit_kernels(const char* isa) {
  return {isa,
          &flat_unary<float>,
          &flat_unary<double>,
          &flat_arith<float>,
          &flat_arith<double>,
          {&sgd_parameter<float>, &rmsprop_parameter<float>, &adam_parameter<float>},
          {&sgd_parameter<double>, &rmsprop_parameter<double>, &adam_parameter<double>}};
}

}  // namespace
}  // namespace chaingrad
