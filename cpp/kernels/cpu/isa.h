// Flat elementwise loops compiled for several instruction sets, and the choice among them.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/optim_rules.h"

namespace chaingrad {

// Note [ISA dispatch]
// Wheels are built for baseline x86-64 (SSE2: 4 floats per instruction), which would leave 2-4x
// of a modern CPU's vector width unused in the large elementwise kernels and the optimizer
// updates (Adam's divide and square root per element made its step arithmetic-bound: 231 us on
// the MLP's 269k parameters at SSE width, 116 at AVX-512). The flat loops are therefore compiled
// three times (baseline, -mavx2, -mavx512f, in separate translation units) and flat_kernels()
// picks the widest set the CPU supports, once. There is no FMA contraction on any path
// (-ffp-contract=off), and vector division and square root round as the scalar ones do, so every
// path gives the same bits.

/// The optimizer updates of one parameter of n elements, with its state buffers (null where the
/// flags leave them unused).
template <class T>
struct OptimLoops {
  void (*sgd)(T* p, const T* g, T* buf, std::int64_t n, const optim::SgdConstants<T>&, const optim::SgdFlags&);
  void (*rmsprop)(T* p, const T* g, T* square_avg, T* grad_avg, T* buf, std::int64_t n,
                  const optim::RmspropConstants<T>&, const optim::RmspropFlags&);
  void (*adam)(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t n, const optim::AdamConstants<T>&,
               const optim::AdamFlags&);
};

/// The flat loops of one instruction set: [begin, end) of contiguous operands; in arith, x or y
/// may be a single broadcast element (its step flag false); and the optimizer updates.
struct FlatKernels {
  const char* isa;
  void (*unary_f32)(UnaryOp, OpParams, float*, const float*, std::int64_t, std::int64_t);
  void (*unary_f64)(UnaryOp, OpParams, double*, const double*, std::int64_t, std::int64_t);
  void (*arith_f32)(BinaryOp, float*, const float*, bool, const float*, bool, std::int64_t, std::int64_t);
  void (*arith_f64)(BinaryOp, double*, const double*, bool, const double*, bool, std::int64_t, std::int64_t);
  OptimLoops<float> optim_f32;
  OptimLoops<double> optim_f64;
};

FlatKernels baseline_kernels();
#ifdef CHAINGRAD_ISA_KERNELS
FlatKernels avx2_kernels();
FlatKernels avx512_kernels();
#endif

/// The widest kernel set this CPU runs.
const FlatKernels& flat_kernels();

}  // namespace chaingrad
