#include "kernels/cpu/isa.h"

#include "kernels/cpu/isa_kernels.h"

namespace chaingrad {

FlatKernels baseline_kernels() { return this_unit_kernels("baseline"); }

const FlatKernels& flat_kernels() {
  static const FlatKernels chosen = [] {
#ifdef CHAINGRAD_ISA_KERNELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return avx512_kernels();
    if (__builtin_cpu_supports("avx2")) return avx2_kernels();
#endif
    return baseline_kernels();
  }();
  return chosen;
}

}  // namespace chaingrad
