// DLPack capsules in and out, for CPU and CUDA tensors alike (the exchange format of numpy,
// PyTorch, CuPy and JAX), without copies.
#pragma once

#include <pybind11/pybind11.h>

#include "tensor/tensor.h"

namespace chaingrad {

/// A capsule over t's memory, which it keeps alive until the consumer is done: "dltensor_versioned"
/// (DLPack 1.0, flagged as a copy when `copied`) when versioned, else a 0.8 "dltensor".
pybind11::capsule to_dlpack(const TensorPtr& t, bool versioned, bool copied);
/// A tensor over the memory of a "dltensor" or "dltensor_versioned" capsule (consumed: renamed
/// "used_..."), for float32, float64, int64 and bool data on the CPU or a CUDA device; read-only
/// memory is copied. Malformed capsules raise before any read.
TensorPtr from_dlpack(const pybind11::capsule& capsule);

}  // namespace chaingrad
