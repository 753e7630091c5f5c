// Device placement: which device an op runs on, moving tensors between devices, and the operands
// the CUDA kernels read.
#pragma once

#include <initializer_list>
#include <string>

#include "kernels/cuda/backend.h"
#include "tensor/tensor.h"

namespace chaingrad {

/// "cpu", "cuda" (device 0) or "cuda:N"; throws std::runtime_error for anything else.
Device parse_device(const std::string& spec);
/// The device an op on these tensors runs on: the CUDA device when any is a cuda tensor, else the
/// CPU. A 0-d CPU tensor mixes with cuda tensors as a scalar, as in PyTorch; any other mix throws
/// std::runtime_error naming both devices and the op. Null entries are skipped.
Device common_device(const char* op, std::initializer_list<const TensorImpl*> tensors);
/// t on device (t itself when it is there already); contiguous when a copy was made.
TensorPtr to_device(const TensorPtr& t, const Device& device);
/// How a CUDA kernel reads t over an output of shape `out`: its device memory through broadcast
/// strides, or, for a one-element CPU tensor, its value.
cuda::Operand cuda_operand(const TensorPtr& t, const Shape& out);

}  // namespace chaingrad
