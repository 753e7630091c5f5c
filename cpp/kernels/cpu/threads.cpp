#include <cblas.h>

#include "kernels/cpu/parallel.h"

namespace chaingrad {

void set_num_threads(int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  scipy_openblas_set_num_threads(n);
}

int get_num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace chaingrad
