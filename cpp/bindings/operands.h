// Reading Python numbers and Values into scalar graph nodes, shared by the scalar bindings.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "scalar/ops.h"

namespace chaingrad {

/// A real number read from Python: its value, and whether it was an integer (for printing).
struct Number {
  double value = 0.0;
  bool is_int = false;
};

/// Reads h as a real number: a Python int or float, or a numpy integer, floating or bool scalar.
/// Returns false for anything else (strings, None, lists, complex, arrays, Values).
bool read_number(pybind11::handle h, Number& out);

/// Like read_number, but raises TypeError naming `what` and h's type.
Number require_number(pybind11::handle h, const char* what);

/// The Python type name of h, for error messages.
std::string type_name(pybind11::handle h);

/// A new leaf for a number read from Python.
ScalarPtr make_leaf(const Number& n);

/// h as a graph node: a Value as itself, a number as a new constant leaf (as micrograd wraps
/// plain numbers in Value). Returns nullptr for anything else.
ScalarPtr as_operand(pybind11::handle h);

/// Like as_operand, but raises TypeError naming `what` (and `index` when not negative).
ScalarPtr require_operand(pybind11::handle h, const char* what, long index = -1);

/// The items of a list or tuple as graph nodes; TypeError naming `what` for anything else.
std::vector<ScalarPtr> read_operands(pybind11::handle seq, const char* what);

}  // namespace chaingrad
