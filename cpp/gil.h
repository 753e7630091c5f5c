// Releasing the GIL around heavy kernels.
#pragma once

#include <Python.h>

#include <cstdint>

namespace chaingrad {

/// Element count above which a kernel releases the GIL (and, where it can, uses every core):
/// below it the bookkeeping costs more than it saves.
constexpr std::int64_t kParallelGrain = 1 << 17;

/// Releases the GIL for its lifetime when `release` is true and this thread holds it. Code inside
/// must not touch Python objects or copy a Ref (see Note [graph refcounts]).
class GilRelease {
 public:
  explicit GilRelease(bool release) {
    if (release && PyGILState_Check()) state_ = PyEval_SaveThread();
  }
  GilRelease(const GilRelease&) = delete;
  GilRelease& operator=(const GilRelease&) = delete;
  ~GilRelease() {
    if (state_ != nullptr) PyEval_RestoreThread(state_);
  }

 private:
  PyThreadState* state_ = nullptr;
};

}  // namespace chaingrad
