// DLPack capsules in and out, for CPU and CUDA tensors alike (the exchange format of numpy,
// PyTorch, CuPy and JAX), without copies.
#pragma once

#include <pybind11/pybind11.h>

#include "tensor.h"

namespace chaingrad {

/// A "dltensor" capsule over t's memory, which it keeps alive until the consumer is done.
pybind11::capsule to_dlpack(const TensorPtr& t);
/// A tensor over the memory of a "dltensor" capsule (consumed: renamed "used_dltensor"), for
/// float32, float64, int64 and bool data on the CPU or a CUDA device.
TensorPtr from_dlpack(const pybind11::capsule& capsule);

}  // namespace chaingrad
