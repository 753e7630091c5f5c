// Splitting a loop over the cores (OpenMP), for kernels that run with the GIL released.
#pragma once

#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/gil.h"

namespace chaingrad {

/// Sets the threads of the OpenMP kernels and of OpenBLAS (n >= 1).
void set_num_threads(int n);
/// The threads the OpenMP kernels use.
int get_num_threads();

/// Calls body(begin, end) over [0, n): on one thread below kParallelGrain elements, else on
/// every OpenMP thread with one contiguous chunk each. body must not throw or touch Python.
template <class Body>
void parallel_for(std::int64_t n, Body&& body) {
#ifdef _OPENMP
  if (n >= kParallelGrain && omp_get_max_threads() > 1) {
#pragma omp parallel
    {
      const std::int64_t threads = omp_get_num_threads();
      const std::int64_t chunk = (n + threads - 1) / threads;
      const std::int64_t begin = omp_get_thread_num() * chunk;
      const std::int64_t end = std::min(n, begin + chunk);
      if (begin < end) body(begin, end);
    }
    return;
  }
#endif
  body(std::int64_t{0}, n);
}

}  // namespace chaingrad
