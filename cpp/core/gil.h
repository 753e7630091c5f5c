// Releasing the interpreter's lock around heavy kernels, without the engine knowing Python.
#pragma once

#include <cstdint>

namespace chaingrad {

/// Element count above which a kernel releases the GIL (and, where it can, uses every core):
/// below it the bookkeeping costs more than it saves.
constexpr std::int64_t kParallelGrain = 1 << 17;

// Note [GIL hooks]
// The engine builds without Python headers (a Python include outside cpp/bindings/ is a build
// error), yet its heavy kernels must let other Python threads run. The bindings therefore install,
// once at import, two functions: one that releases the lock when this thread holds it (returning
// a token, or null when it did not hold it) and one that takes it back. This pair is the engine's
// only process-wide mutable state: it is written before any op can run and read afterwards. Without
// hooks (the engine used from C++ alone) nothing is released.
struct GilHooks {
  void* (*release)() = nullptr;
  void (*reacquire)(void* token) = nullptr;
};
/// Installs the hooks (see Note [GIL hooks]).
void set_gil_hooks(GilHooks hooks);
/// The installed hooks.
const GilHooks& gil_hooks();

/// Releases the GIL for its lifetime when `release` is true and this thread holds it. Code inside
/// must not touch Python objects or copy a Ref (see Note [graph refcounts]).
class GilRelease {
 public:
  explicit GilRelease(bool release) {
    if (release && gil_hooks().release != nullptr) token_ = gil_hooks().release();
  }
  GilRelease(const GilRelease&) = delete;
  GilRelease& operator=(const GilRelease&) = delete;
  ~GilRelease() {
    if (token_ != nullptr) gil_hooks().reacquire(token_);
  }

 private:
  void* token_ = nullptr;
};

}  // namespace chaingrad
