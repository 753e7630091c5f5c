// Flat elementwise loops compiled for several instruction sets, and the choice among them.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace chaingrad {

// Note [ISA dispatch]
// Wheels are built for baseline x86-64 (SSE2: 4 floats per instruction), which would leave 2-4x
// of a modern CPU's vector width unused in the large elementwise kernels. The flat loops are
// therefore compiled three times (baseline, -mavx2, -mavx512f, in separate translation units) and
// flat_kernels() picks the widest set the CPU supports, once. There is no FMA contraction on any
// path (-ffp-contract=off), so every path gives the same bits.

/// The flat loops of one instruction set: [begin, end) of contiguous operands; in arith, x or y
/// may be a single broadcast element (its step flag false).
struct FlatKernels {
  const char* isa;
  void (*unary_f32)(UnaryOp, OpParams, float*, const float*, std::int64_t, std::int64_t);
  void (*unary_f64)(UnaryOp, OpParams, double*, const double*, std::int64_t, std::int64_t);
  void (*arith_f32)(BinaryOp, float*, const float*, bool, const float*, bool, std::int64_t, std::int64_t);
  void (*arith_f64)(BinaryOp, double*, const double*, bool, const double*, bool, std::int64_t, std::int64_t);
};

FlatKernels baseline_kernels();
#ifdef CHAINGRAD_ISA_KERNELS
FlatKernels avx2_kernels();
FlatKernels avx512_kernels();
#endif

/// The widest kernel set this CPU runs.
const FlatKernels& flat_kernels();

}  // namespace chaingrad
