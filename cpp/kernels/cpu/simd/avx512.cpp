// The flat elementwise loops compiled for avx512 (this file is built with -mavx512f).
#include "kernels/cpu/element_loops.h"
#include "kernels/cpu/isa.h"

namespace chaingrad {

FlatKernels avx512_kernels() {
  return {"avx512", &flat_unary<float>, &flat_unary<double>, &flat_arith<float>, &flat_arith<double>};
}

}  // namespace chaingrad
