// The CPU optimizer loops over one parameter, compiled once per instruction set like the flat
// elementwise loops (see Note [ISA dispatch] in kernels/cpu/isa.h).
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/optim_rules.h"

namespace chaingrad {
// Internal linkage, as in element_loops.h (Note [one copy per translation unit]).
namespace {

/// Calls f(std::bool_constant<flags>...) for the run-time flags, so the loops below are compiled
/// once per combination with no branch on a flag inside (see Note [one optimizer rule for both
/// devices] in kernels/optim_rules.h).
template <class F>
void with_flags(F&& f) {
  f();
}
template <class F, class... Rest>
void with_flags(F&& f, bool first, Rest... rest) {
  if (first) {
    with_flags([&](auto... fixed) { f(std::true_type{}, fixed...); }, rest...);
  } else {
    with_flags([&](auto... fixed) { f(std::false_type{}, fixed...); }, rest...);
  }
}

// The loops over one parameter: the shared per-element rule with compile-time flags, which GCC
// inlines and vectorizes. __restrict: the parameter, its gradient and its state are distinct
// tensors (see kernels/optim.h). The loops stay functions of their own: inlined into the dispatch
// lambdas, GCC 12 left some of them scalar (AdamW with amsgrad in float32 ran four times slower).
#if defined(__GNUC__)
#define CG_OPTIM_LOOP __attribute__((noinline))
#else
#define CG_OPTIM_LOOP
#endif

template <class T, class Flags>
CG_OPTIM_LOOP void sgd_loop(T* __restrict p, const T* __restrict g, T* __restrict buf, std::int64_t n,
                            const optim::SgdConstants<T>& c) {
  for (std::int64_t i = 0; i < n; ++i) optim::sgd_update(c, Flags{}, i, p, g, buf);
}

template <class T, class Flags>
CG_OPTIM_LOOP void rmsprop_loop(T* __restrict p, const T* __restrict g, T* __restrict square_avg,
                                T* __restrict grad_avg, T* __restrict buf, std::int64_t n,
                                const optim::RmspropConstants<T>& c) {
  for (std::int64_t i = 0; i < n; ++i) optim::rmsprop_update(c, Flags{}, i, p, g, square_avg, grad_avg, buf);
}

template <class T, class Flags>
CG_OPTIM_LOOP void adam_loop(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                             T* __restrict vmax, std::int64_t n, const optim::AdamConstants<T>& c) {
  for (std::int64_t i = 0; i < n; ++i) optim::adam_update(c, Flags{}, i, p, g, m, v, vmax);
}

/// One parameter's SGD update with the loop chosen for the flags.
template <class T>
void sgd_parameter(T* p, const T* g, T* buf, std::int64_t n, const optim::SgdConstants<T>& c,
                   const optim::SgdFlags& f) {
  with_flags([&](auto... fixed) { sgd_loop<T, optim::SgdFixedFlags<decltype(fixed)::value...>>(p, g, buf, n, c); },
             f.decay, f.momentum, f.nesterov, f.maximize, f.first);
}

/// One parameter's RMSprop update with the loop chosen for the flags.
template <class T>
void rmsprop_parameter(T* p, const T* g, T* square_avg, T* grad_avg, T* buf, std::int64_t n,
                       const optim::RmspropConstants<T>& c, const optim::RmspropFlags& f) {
  with_flags(
      [&](auto... fixed) {
        rmsprop_loop<T, optim::RmspropFixedFlags<decltype(fixed)::value...>>(p, g, square_avg, grad_avg, buf, n, c);
      },
      f.decay, f.centered, f.momentum, f.maximize);
}

/// One parameter's Adam/AdamW update with the loop chosen for the flags.
template <class T>
void adam_parameter(T* p, const T* g, T* m, T* v, T* vmax, std::int64_t n, const optim::AdamConstants<T>& c,
                    const optim::AdamFlags& f) {
  with_flags(
      [&](auto... fixed) { adam_loop<T, optim::AdamFixedFlags<decltype(fixed)::value...>>(p, g, m, v, vmax, n, c); },
      f.decay, f.decoupled, f.amsgrad, f.maximize);
}

}  // namespace
}  // namespace chaingrad
