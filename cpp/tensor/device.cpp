#include "tensor/device.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/kernels.h"
#include "kernels/loops.h"

namespace chaingrad {

Device parse_device(const std::string& spec) {
  if (spec == "cpu") return Device{};
  if (spec == "cuda") return Device{Device::Kind::CUDA, 0};
  if (spec.rfind("cuda:", 0) == 0 && spec.size() > 5 && spec.size() < 15 &&
      spec.find_first_not_of("0123456789", 5) == std::string::npos) {
    return Device{Device::Kind::CUDA, std::stoi(spec.substr(5))};
  }
  throw std::runtime_error("Expected one of cpu, cuda device type at start of device string: " + spec);
}

Device common_device(const char* op, std::initializer_list<const TensorImpl*> tensors) {
  const TensorImpl* first_cuda = nullptr;
  const TensorImpl* first_cpu = nullptr;  // a CPU tensor that cannot act as a scalar
  for (const TensorImpl* t : tensors) {
    if (t == nullptr) continue;
    if (t->is_cuda()) {
      if (first_cuda && first_cuda->device() != t->device()) {
        throw std::runtime_error(std::string("Expected all tensors to be on the same device, but found at least two "
                                             "devices, ") +
                                 first_cuda->device().str() + " and " + t->device().str() + "! (in " + op + ")");
      }
      if (!first_cuda) first_cuda = t;
    } else if (t->ndim() != 0 && !first_cpu) {
      first_cpu = t;
    }
  }
  if (!first_cuda) return Device{};
  if (first_cpu) {
    throw std::runtime_error(std::string("Expected all tensors to be on the same device, but found at least two "
                                         "devices, ") +
                             first_cuda->device().str() + " and cpu! (in " + op + ")");
  }
  return first_cuda->device();
}

TensorPtr to_device(const TensorPtr& t, const Device& device) {
  if (t->device() == device) return t;
  if (device.is_cuda()) cuda::require_device(device.index);
  const TensorPtr src = contiguous(t);
  TensorPtr out = empty(src->shape(), src->dtype(), device);
  const std::size_t nbytes = static_cast<std::size_t>(src->numel()) * itemsize(src->dtype());
  cuda::copy_bytes(out->data(), device.is_cuda() ? device.index : -1, src->data(),
                   src->is_cuda() ? src->device().index : -1, nbytes);
  return out;
}

cuda::Operand cuda_operand(const TensorPtr& t, const Shape& out) {
  cuda::Operand op;
  op.dtype = t->dtype();
  if (t->is_cuda()) {
    op.data = t->data();
    op.strides = broadcast_strides(*t, out);
    return op;
  }
  if (t->numel() != 1) {
    throw std::logic_error("cuda_operand: a CPU tensor of shape " + shape_str(t->shape()) + " is not a scalar");
  }
  if (t->dtype() == DType::Int64) {
    std::memcpy(&op.scalar_int, t->data(), sizeof(op.scalar_int));
    op.scalar = static_cast<double>(op.scalar_int);
  } else {
    op.scalar = item(t);
  }
  return op;
}

}  // namespace chaingrad
