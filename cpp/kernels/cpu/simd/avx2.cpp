// The flat elementwise and optimizer loops compiled for avx2 (this file is built with -mavx2).
#include "kernels/cpu/isa_kernels.h"

namespace chaingrad {

FlatKernels avx2_kernels() { return this_unit_kernels("avx2"); }

}  // namespace chaingrad
