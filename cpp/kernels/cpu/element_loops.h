// The flat CPU loops over the per-element rules of kernels/element_rules.h, compiled once per
// instruction set (see Note [ISA dispatch] in kernels/cpu/isa.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/element_rules.h"
#include "kernels/kernels.h"
#include "kernels/loops.h"

namespace chaingrad {
// Note [one copy per translation unit]
// Everything here has internal linkage (an unnamed namespace): the AVX2 and AVX-512 translation
// units include this header too, and if the linker merged their copies with the baseline ones a
// CPU without those instructions could end up running them.
namespace {

/// out[i] = f(x[i], y[i]) over a contiguous output, on every core for large outputs. Operands are
/// flat (same shape, contiguous) or single elements; anything else takes the strided walk.
template <class T>
void flat_unary(UnaryOp op, OpParams p, T* y, const T* x, std::int64_t begin, std::int64_t end) {
  with_unary(op, [&](auto op_c) {
    constexpr UnaryOp o = decltype(op_c)::value;
    const OpParams q = p;  // a local copy: the loop reads it from registers, never through y
    for (std::int64_t i = begin; i < end; ++i) y[i] = unary_value<o, T>(x[i], q);
  });
}

/// z[i] = op(x[i], y[i]) for i in [begin, end): x or y may be one broadcast element (step 0).
template <BinaryOp op, class T>
void flat_binary_loop(T* z, const T* x, bool x_step, const T* y, bool y_step, std::int64_t begin, std::int64_t end) {
  if (x_step && y_step) {
    for (std::int64_t i = begin; i < end; ++i) z[i] = binary_value<op, T>(x[i], y[i]);
  } else if (x_step) {
    const T v = y[0];
    for (std::int64_t i = begin; i < end; ++i) z[i] = binary_value<op, T>(x[i], v);
  } else {
    const T v = x[0];
    for (std::int64_t i = begin; i < end; ++i) z[i] = binary_value<op, T>(v, y[i]);
  }
}

/// The arithmetic ops (not comparisons) of flat_binary_loop, chosen at run time.
template <class T>
void flat_arith(BinaryOp op, T* z, const T* x, bool x_step, const T* y, bool y_step, std::int64_t begin,
                std::int64_t end) {
  with_binary(op, [&](auto op_c) {
    constexpr BinaryOp o = decltype(op_c)::value;
    if constexpr (o < BinaryOp::Eq) flat_binary_loop<o, T>(z, x, x_step, y, y_step, begin, end);
  });
}

}  // namespace
}  // namespace chaingrad
