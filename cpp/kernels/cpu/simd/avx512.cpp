// The flat elementwise and optimizer loops compiled for avx512 (this file is built with -mavx512f).
#include "kernels/cpu/isa_kernels.h"

namespace chaingrad {

FlatKernels avx512_kernels() { return this_unit_kernels("avx512"); }

}  // namespace chaingrad
