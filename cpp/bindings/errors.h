// Turning C++ exceptions into Python errors at the raw CPython entry points (number slots,
// getters, methods), which pybind11 does not wrap.
#pragma once

#include <pybind11/pybind11.h>

namespace chaingrad {

/// Sets the Python error matching the exception being handled: std::out_of_range -> IndexError,
/// std::overflow_error -> OverflowError, std::bad_alloc -> MemoryError, pybind11's own exceptions
/// as themselves, any other std::exception -> RuntimeError. Call only inside a catch block.
void set_python_error();

/// Runs body; on an exception sets the matching Python error and returns `failed`.
template <class Result, class Body>
Result guarded(Result failed, Body&& body) {
  try {
    return body();
  } catch (...) {
    set_python_error();
  }
  return failed;
}

}  // namespace chaingrad
