#include "tensor_dlpack.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_backend.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

// The DLPack ABI (dlpack.h, version 0.8 unversioned capsules), declared here as the standard
// fixes it, so the build needs no extra header.
struct DLDevice {
  std::int32_t device_type;
  std::int32_t device_id;
};
struct DLDataType {
  std::uint8_t code;
  std::uint8_t bits;
  std::uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  std::int32_t ndim;
  DLDataType dtype;
  std::int64_t* shape;
  std::int64_t* strides;
  std::uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
constexpr std::int32_t kDLCPU = 1, kDLCUDA = 2;
constexpr std::uint8_t kDLInt = 0, kDLFloat = 2, kDLBool = 6;

/// What an exported capsule keeps alive: the storage, and the shape and strides DLTensor points at.
struct Export {
  DLManagedTensor managed{};
  std::shared_ptr<Storage> storage;
  std::vector<std::int64_t> shape, strides;
};

void delete_export(DLManagedTensor* self) { delete static_cast<Export*>(self->manager_ctx); }

DLDataType dl_dtype(DType dtype) {
  switch (dtype) {
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
  }
  throw std::logic_error("unknown dtype");
}

DType from_dl_dtype(const DLDataType& t) {
  if (t.lanes == 1) {
    if (t.code == kDLFloat && t.bits == 32) return DType::Float32;
    if (t.code == kDLFloat && t.bits == 64) return DType::Float64;
    if (t.code == kDLInt && t.bits == 64) return DType::Int64;
    if (t.code == kDLBool && t.bits == 8) return DType::Bool;
  }
  throw py::type_error("from_dlpack: unsupported DLPack dtype (code " + std::to_string(t.code) + ", " +
                       std::to_string(t.bits) + " bits, " + std::to_string(t.lanes) +
                       " lanes); chaingrad holds float32, float64, int64 and bool");
}

/// A capsule destructor for a capsule nobody consumed: the producer's memory is released.
void free_unconsumed(PyObject* capsule) {
  if (PyCapsule_IsValid(capsule, "dltensor")) {
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
    if (managed && managed->deleter) managed->deleter(managed);
  }
}

}  // namespace

py::capsule to_dlpack(const TensorPtr& t) {
  auto holder = std::make_unique<Export>();
  holder->storage = t->storage();
  holder->shape = t->shape();
  holder->strides = t->strides();
  DLTensor& dl = holder->managed.dl_tensor;
  dl.data = t->data();
  dl.device = {t->is_cuda() ? kDLCUDA : kDLCPU, t->is_cuda() ? t->device().index : 0};
  dl.ndim = static_cast<std::int32_t>(t->ndim());
  dl.dtype = dl_dtype(t->dtype());
  dl.shape = holder->shape.data();
  dl.strides = holder->strides.data();
  dl.byte_offset = 0;
  holder->managed.manager_ctx = holder.get();
  holder->managed.deleter = delete_export;
  PyObject* capsule = PyCapsule_New(&holder->managed, "dltensor", free_unconsumed);
  if (capsule == nullptr) throw py::error_already_set();
  holder.release();  // owned by the capsule (or its consumer) from here on
  return py::reinterpret_steal<py::capsule>(capsule);
}

TensorPtr from_dlpack(const py::capsule& capsule) {
  if (!PyCapsule_IsValid(capsule.ptr(), "dltensor")) {
    throw py::value_error("from_dlpack: expected an unconsumed 'dltensor' capsule (was it used already?)");
  }
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  const DLTensor& dl = managed->dl_tensor;
  Device device;
  if (dl.device.device_type == kDLCUDA) {
    device = Device{Device::Kind::CUDA, dl.device.device_id};
    cuda::require_device(device.index);
  } else if (dl.device.device_type != kDLCPU) {
    throw py::value_error("from_dlpack: unsupported DLPack device type " + std::to_string(dl.device.device_type) +
                          " (chaingrad takes CPU and CUDA memory)");
  }
  const DType dtype = from_dl_dtype(dl.dtype);
  if (dl.ndim < 0 || (dl.ndim > 0 && dl.shape == nullptr) || (dl.data == nullptr && dl.ndim > 0)) {
    throw py::value_error("from_dlpack: malformed DLTensor (ndim " + std::to_string(dl.ndim) +
                          ", shape or data missing)");
  }
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  std::int64_t extent = 1;  // elements from the first one to one past the last one reachable
  for (std::int32_t d = 0; d < dl.ndim; ++d) {
    if (shape[d] < 0) throw py::value_error("from_dlpack: negative size in shape " + shape_str(shape));
    if (strides[d] < 0) throw py::value_error("from_dlpack: negative strides are not supported");
  }
  const std::int64_t numel = shape_numel(shape);
  if (numel == 0) extent = 0;
  for (std::int32_t d = 0; d < dl.ndim && numel > 0; ++d) extent += (shape[d] - 1) * strides[d];
  char* data = static_cast<char*>(dl.data) + dl.byte_offset;
  // Consumed from here on: the capsule no longer frees it; the storage calls the deleter.
  if (PyCapsule_SetName(capsule.ptr(), "used_dltensor") != 0) throw py::error_already_set();
  auto storage = std::make_shared<Storage>(
      data, static_cast<std::size_t>(extent) * itemsize(dtype),
      [managed] {
        if (managed->deleter) managed->deleter(managed);
      },
      device);
  return make_ref<TensorImpl>(std::move(storage), dtype, std::move(shape), std::move(strides), 0);
}

}  // namespace chaingrad
