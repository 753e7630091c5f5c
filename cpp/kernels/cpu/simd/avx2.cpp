// The flat elementwise loops compiled for avx2 (this file is built with -mavx2).
#include "kernels/cpu/element_loops.h"
#include "kernels/cpu/isa.h"

namespace chaingrad {

FlatKernels avx2_kernels() {
  return {"avx2", &flat_unary<float>, &flat_unary<double>, &flat_arith<float>, &flat_arith<double>};
}

}  // namespace chaingrad
