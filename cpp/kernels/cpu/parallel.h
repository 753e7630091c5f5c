// Splitting work over the cores, for kernels that run with the GIL released (see Note [one thread
// pool] in threads.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "core/gil.h"

namespace chaingrad {

/// Sets the threads of the parallel kernels, GEMMs included (n >= 1).
void set_num_threads(int n);
/// The threads the parallel kernels use.
int get_num_threads();

/// Calls fn(ctx, i) once for each i in [0, chunks), on this thread and whichever of the pool's
/// workers are awake to help; returns when every call has returned, and then rethrows the first
/// exception a call threw (the other calls still run). fn must not touch Python. A chunk's work
/// must not depend on which thread runs it (that keeps results identical).
void parallel_chunks(int chunks, void (*fn)(void*, int), void* ctx);

/// parallel_chunks with a callable body(i).
template <class Body>
void parallel_chunks(int chunks, Body&& body) {
  parallel_chunks(
      chunks, [](void* ctx, int i) { (*static_cast<std::remove_reference_t<Body>*>(ctx))(i); },
      const_cast<void*>(static_cast<const void*>(&body)));
}

/// C = op(A) op(B) + beta C for row-major matrices (op: transposed when ta, tb), as cblas_?gemm
/// with alpha 1; large products split over the threads, OpenBLAS itself single-threaded.
template <class T>
void blas_gemm(bool ta, bool tb, int n, int m, int k, const T* a, int lda, const T* b, int ldb, T beta, T* c, int ldc);

/// Calls body(begin, end) over [0, n): on one thread below kParallelGrain elements, else in one
/// contiguous chunk per thread (the same chunks whichever threads run them). body must not touch
/// Python; what it throws reaches the caller after every chunk is over.
template <class Body>
void parallel_for(std::int64_t n, Body&& body) {
  const std::int64_t threads = get_num_threads();
  if (n < kParallelGrain || threads == 1) {
    body(std::int64_t{0}, n);
    return;
  }
  const std::int64_t chunk = (n + threads - 1) / threads;
  parallel_chunks(static_cast<int>(threads), [&](int i) {
    const std::int64_t begin = i * chunk, end = std::min(n, begin + chunk);
    if (begin < end) body(begin, end);
  });
}

}  // namespace chaingrad
