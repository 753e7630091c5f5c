#include "core/gil.h"

namespace chaingrad {
namespace {

GilHooks installed;  // see Note [GIL hooks]

}  // namespace

void set_gil_hooks(GilHooks hooks) { installed = hooks; }
const GilHooks& gil_hooks() { return installed; }

}  // namespace chaingrad
